"""What the step reports, whatever happened: its outputs, its job summary section and its exit code."""

from __future__ import annotations

from dataclasses import dataclass

from entrypoint import untrusted
from entrypoint.runner import OutputFileError, Runner

EXIT_OK = 0
EXIT_DELIVERY_FAILED = 1
EXIT_INVALID_INPUT = 2


@dataclass
class Outcome:
    """What the step reports, whatever happened."""

    status: str = ""  # firing, resolved, skipped; empty when the inputs were invalid
    sent: bool = False
    message: str = ""
    deduplication_key: str = ""
    payload: str = ""
    response: str = ""
    error: str = ""
    title: str = ""
    link: str = ""
    headline: str = ""
    failed_jobs: str = ""  # for the summary: the names GitHub's API gave
    heartbeat: str | None = None  # sent, failed or skipped where a heartbeat is set up; None where not

    def outputs(self) -> dict[str, str]:
        return {
            "deduplication-key": self.deduplication_key,
            "status": self.status,
            "sent": "true" if self.sent else "false",
            "message": self.message,
            "response": self.response,
            "payload": self.payload,
            "error": self.error,
            "heartbeat": self.heartbeat or "skipped",
        }


def finish(runner: Runner, outcome: Outcome, code: int, details: list[str] | None = None) -> int:
    try:
        runner.set_outputs(outcome.outputs())
        runner.append_summary(summary_markdown(outcome, details or []))
    except OutputFileError as exc:
        runner.error(f"Could not write the step's outputs or summary: {exc}")
        return code or EXIT_DELIVERY_FAILED
    return code


def summary_markdown(outcome: Outcome, details: list[str]) -> str:
    rows = [("Outcome", outcome.message)]
    if outcome.status:
        rows.append(("Status", outcome.status))
    if outcome.title:
        rows.append(("Title", outcome.title))
    if outcome.deduplication_key:
        rows.append(("Deduplication key", outcome.deduplication_key))
    if outcome.failed_jobs:
        rows.append(("Failed jobs", outcome.failed_jobs))
    if outcome.heartbeat is not None:
        rows.append(("Heartbeat", outcome.heartbeat))
    lines = [f"### incident.io alert: {outcome.headline}", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    if link := untrusted.link(outcome.link):
        lines.append(f"| Link | [{_cell(link)}]({untrusted.markdown_link_target(link)}) |")
    lines += [""] + [f"- {_cell(detail)}" for detail in details]
    return "\n".join(lines).rstrip() + "\n\n"


def _cell(text: str) -> str:
    """Text for a markdown table cell: one line, no HTML, no table breaks, no markdown (a message's
    `code` reads as 'code', not as escaped backticks)."""
    text = " ".join(text.split()).replace("`", "'")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]|":
        text = text.replace(char, "\\" + char)
    return text
