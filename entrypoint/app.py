"""The action from start to end: environment → settings → run → facts → verdict → alert → delivery → outputs.

`run()` returns the exit code. Every outcome, good or bad, leaves the same set of outputs and one
job summary section, and every failure is reported through `_fail`, the one place that turns it
into an annotation, a summary entry and an exit code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from entrypoint import facts, messages, verdict
from entrypoint.alert import Alert, AlertTooLarge, build_alert, deduplication_key
from entrypoint.failures import Failures, find_failed_jobs
from entrypoint.github_data import GitHubUnavailable
from entrypoint.incident_io import Accepted, Client, DeliveryFailed
from entrypoint.runner import OutputFileError, Runner
from entrypoint.scope import misspelt_default_branch, out_of_scope, withheld_secrets
from entrypoint.settings import (
    InvalidSettings,
    Problem,
    Settings,
    has_with_block,
    in_input_order,
    missing_required,
    misspelt_dry_run,
    read_settings,
    secret_values,
    unknown_variables,
)
from entrypoint.workflow_run import WorkflowRun, read_workflow_run

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

    def outputs(self) -> dict[str, str]:
        return {
            "deduplication-key": self.deduplication_key,
            "status": self.status,
            "sent": "true" if self.sent else "false",
            "message": self.message,
            "response": self.response,
            "payload": self.payload,
            "error": self.error,
        }


@dataclass(frozen=True)
class Given:
    """What the step was given: its settings (the valid ones, where some are not), what is wrong with
    them, the workflow run, and whether the inputs came through action.yml's `with:`."""

    settings: Settings
    problems: list[Problem]
    run: WorkflowRun | None
    with_block: bool


def read_given(environ: Mapping[str, str], runner: Runner) -> Given:
    """Masks the secrets before anything is printed, warns about misspelt variables, reads the settings
    and the workflow run."""
    # Before anything else is printed: a token that came from a plain variable is not masked yet.
    for secret in secret_values(environ):
        runner.add_mask(secret)
    unknown = unknown_variables(environ)
    for variable in unknown:  # a typo'd variable is a mistake too: say so first
        if not (variable.nearest and variable.nearest.field == "dry_run"):  # that one is an error, below
            runner.warning(str(variable), title=messages.UNKNOWN_VARIABLE_TITLE)
    problems: list[Problem] = []
    try:
        settings = read_settings(environ)
    except InvalidSettings as exc:
        settings, problems = exc.partial, list(exc.problems)
    problems += filter(None, [misspelt_dry_run(unknown)])
    reading = read_workflow_run(environ)
    for warning in reading.warnings:
        runner.warning(warning)
    return Given(settings, problems, reading.run, has_with_block(environ))


def run(environ: Mapping[str, str], runner: Runner | None = None) -> int:
    runner = runner or Runner(environ)
    given = read_given(environ, runner)
    settings, problems, workflow_run = given.settings, list(given.problems), given.run
    github = facts.GitHub(settings, workflow_run, runner.debug)  # one client, one time budget, for the step

    # Which runs may alert comes first: a run that sends nothing on purpose needs no secrets.
    tag_unknown = None
    if not problems:  # invalid inputs are reported before GitHub is asked anything
        workflow_run, tag_unknown = facts.place_watched_tag(workflow_run, github)
    skip_reason = out_of_scope(settings, workflow_run, runner.debug, tag_unknown) or withheld_secrets(
        settings, workflow_run
    )
    if skip_reason is None:
        problems += missing_required(
            settings, reported=problems, in_actions=runner.in_actions, with_block=given.with_block
        )
        problems += filter(None, [verdict.job_status_problem(settings, workflow_run, runner.in_actions)])
    if problems:
        return _invalid(runner, in_input_order(problems), given.with_block)
    # A typo in branches must not silence the default branch: it is a warning on every run.
    typo = misspelt_default_branch(settings, workflow_run)
    if skip_reason is not None:
        key = deduplication_key(settings, workflow_run)
        return _skip(runner, f"{skip_reason} {typo}" if typo else skip_reason, key, loud=typo is not None)
    if typo:
        runner.warning(typo, title=messages.BRANCHES_TITLE)

    known = facts.gather(settings, workflow_run, verdict.wanted(settings, workflow_run), github)
    decided = verdict.decide(settings, workflow_run, known)
    failures, missing, errors_warning = Failures(), list(decided.missing), None
    if decided.status == "firing" and workflow_run is not None:
        failures, left_out, errors_warning = _what_failed(settings, workflow_run, known, github)
        missing = left_out + missing
    for github_warning in (_github_warning(known, missing), errors_warning):
        if github_warning:
            runner.warning(github_warning, title=messages.GITHUB_API_TITLE)
    key = deduplication_key(settings, workflow_run, known.this_job)
    if decided.status is None:
        return _skip(runner, decided.reason, key)
    try:
        built = build_alert(settings, workflow_run, decided, failures, known.this_job)
    except AlertTooLarge as exc:
        runner.error(str(exc), title=messages.INVALID_SETTINGS_TITLE)
        return _finish(
            runner,
            Outcome(message=str(exc), error=str(exc), headline="❌ Alert too large, nothing sent"),
            EXIT_INVALID_INPUT,
        )

    # Text from outside (an error message, a commit) is data: it must not carry a secret onward.
    alert = built.redacted(runner.redact)
    payload = json.dumps(alert.body(), ensure_ascii=False, indent=2)
    outcome = Outcome(
        status=alert.status,
        deduplication_key=alert.deduplication_key,
        payload=payload,
        title=alert.title,
        link=alert.source_url or "",
        failed_jobs=", ".join(job.name for job in (failures.failed_jobs or ())),
    )
    runner.info(f"Alert status: {alert.status} ({alert.why}).")
    runner.info("Deduplication key and title:")
    runner.untrusted(f"  {alert.deduplication_key}\n  {alert.title}")
    with runner.group("Alert event body"):
        runner.untrusted(payload)

    if settings.dry_run:
        runner.notice(messages.DRY_RUN_MESSAGE, title="incident.io alert: dry run")
        outcome.message = messages.DRY_RUN_MESSAGE
        outcome.headline = "🧪 Dry run, nothing sent"
        return _finish(runner, outcome, EXIT_OK)

    return _deliver(settings, alert, runner, outcome)


def _what_failed(
    settings: Settings, run: WorkflowRun, known: facts.Facts, github: facts.GitHub
) -> tuple[Failures, list[str], str | None]:
    """A firing alert's failed jobs with their error messages; what the GitHub warning must add that
    they leave out; and a warning of its own where only the error messages could not be read."""
    if known.jobs is None:
        return Failures(), [messages.GITHUB_MISSING_JOBS] if known.unavailable else [], None
    failed = find_failed_jobs(known.jobs, datetime.now(UTC), cancelled_fails=settings.on_cancelled == "fire")
    if known.unavailable is not None:  # no further call once GitHub could not answer
        unread_errors = any(job.completed for job in failed)
        return Failures(failed), [messages.GITHUB_MISSING_ERRORS] if unread_errors else [], None
    failed, unread = facts.read_errors(github, run.repository, failed)
    return Failures(failed), [], _errors_warning(unread, known.api_url)


def _errors_warning(unread: GitHubUnavailable | None, api_url: str | None) -> str | None:
    if unread is None:
        return None
    if unread.status in (403, 404):  # the token lacks `checks: read`, not `actions: read`
        return messages.GITHUB_ERRORS_FORBIDDEN.format(base_url=api_url, status=unread.status)
    return messages.github_warning(str(unread), unread.fix, [messages.GITHUB_MISSING_ERRORS], api_url)


def _github_warning(known: facts.Facts, missing: list[str]) -> str | None:
    """The one warning about GitHub's API: why it could not help, and what that left out."""
    problem = known.unavailable
    if problem is None:
        return None
    return messages.github_warning(str(problem), problem.fix, missing, known.api_url)


def _invalid(runner: Runner, problems: list[Problem], with_block: bool) -> int:
    """Invalid or missing inputs: one error each, all at once, and nothing is sent."""
    for problem in problems:
        runner.error(str(problem), title=messages.INVALID_SETTINGS_TITLE)
    where = messages.WHERE_WITH_BLOCK if with_block else messages.WHERE_VARIABLES
    outcome = Outcome(
        message=messages.INVALID_SETTINGS_SUMMARY.format(count=len(problems), where=where),
        error=" ".join(str(problem) for problem in problems),
        headline="❌ Invalid input, nothing sent",
    )
    return _finish(runner, outcome, EXIT_INVALID_INPUT, details=[str(problem) for problem in problems])


def _skip(runner: Runner, reason: str, key: str, *, loud: bool = False) -> int:
    """Nothing is sent on purpose: one notice says why (a warning where it may be a mistake that silences
    alerts), and the step succeeds."""
    annotate = runner.warning if loud else runner.notice
    annotate(reason, title=messages.SKIPPED_NOTICE_TITLE)
    outcome = Outcome(status="skipped", message=reason, deduplication_key=key, headline="⏭️ Nothing sent")
    return _finish(runner, outcome, EXIT_OK)


def _deliver(settings: Settings, alert: Alert, runner: Runner, outcome: Outcome) -> int:
    host = urlsplit(settings.api_url).netloc
    client = Client(
        url=settings.alert_events_url,
        # Never empty here: missing_required refused the run before anything was built.
        token=settings.api_token.get_secret_value() if settings.api_token else "",
        max_attempts=settings.max_attempts,
        timeout_seconds=settings.timeout_seconds,
        log=runner.untrusted,  # retry lines quote incident.io's answer
        debug=runner.debug,
    )
    runner.info(f"Sending the {alert.status} alert to {host} ...")
    try:
        accepted = client.send(alert.body_bytes())
    except DeliveryFailed as failure:
        outcome.response = failure.text
        if failure.text:
            with runner.group("incident.io's answer"):
                runner.untrusted(failure.text)
        hint = messages.delivery_hint(
            failure.status_code, host, timed_out=failure.timed_out, fields=failure.error.fields
        )
        fatal = settings.fails_step(alert.status)
        reason = messages.sentences(str(failure), hint)
        return _fail(runner, outcome, reason, fatal=fatal, why_not=_why_not_fatal(settings))
    return _succeed(runner, outcome, accepted)


def _succeed(runner: Runner, outcome: Outcome, accepted: Accepted) -> int:
    outcome.sent = True
    outcome.response = accepted.text
    outcome.deduplication_key = accepted.deduplication_key or outcome.deduplication_key
    outcome.message = messages.SENT_MESSAGE.format(status=outcome.status, code=accepted.status_code)
    outcome.headline = f"✅ Alert sent ({outcome.status})"
    runner.info(outcome.message + (f" ({accepted.attempts} attempts)" if accepted.attempts > 1 else ""))
    if accepted.text:
        with runner.group("incident.io's answer"):
            runner.untrusted(accepted.text)
    return _finish(runner, outcome, EXIT_OK)


def _why_not_fatal(settings: Settings) -> str:
    return messages.FAIL_ON_ERROR_OFF if settings.fail_on_error == "false" else messages.RESOLVE_NOT_FATAL


def _fail(runner: Runner, outcome: Outcome, reason: str, *, fatal: bool, why_not: str) -> int:
    """The one place a delivery failure becomes an annotation, a summary entry and an exit code."""
    outcome.error = reason
    outcome.message = reason if fatal else f"{reason} {why_not}"
    if fatal:
        runner.error(reason, title=messages.DELIVERY_FAILED_TITLE)
        outcome.headline = "❌ Alert not delivered"
        return _finish(runner, outcome, EXIT_DELIVERY_FAILED)
    runner.warning(outcome.message, title=messages.DELIVERY_FAILED_TITLE)
    outcome.headline = "⚠️ Alert not delivered; the step does not fail"
    return _finish(runner, outcome, EXIT_OK)


def _finish(runner: Runner, outcome: Outcome, code: int, details: list[str] | None = None) -> int:
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
    lines = [f"### incident.io alert: {outcome.headline}", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    if outcome.link.startswith(("https://", "http://")):
        lines.append(f"| Link | [{_cell(outcome.link)}]({outcome.link.replace(')', '%29')}) |")
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
