"""GitHub's answers as plain data: jobs and their steps, other runs of a workflow, check run annotations.

No I/O here (github_api.py reads them), so that the modules that decide from them load no HTTP stack.
Also the one definition of what counts as a failed job, used wherever jobs are judged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

# The conclusions of a job or run that count as failed, everywhere in the action.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
T = TypeVar("T")


class GitHubUnavailable(Exception):
    """GitHub's API could not answer. `str()` says why, in a few words; `fix` says what to do."""

    def __init__(self, reason: str, fix: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.fix = fix
        self.status = status  # the HTTP status it answered with, if it answered


def settled(call: Callable[[], T]) -> T | GitHubUnavailable:
    """A call's answer, or why GitHub could not give it."""
    try:
        return call()
    except GitHubUnavailable as exc:
        return exc


@dataclass(frozen=True)
class Step:
    name: str  # written by the workflow's author: untrusted text
    status: str | None
    conclusion: str | None


@dataclass(frozen=True)
class Job:
    id: int | None  # the job's id, which is also its check run's id (${{ job.check_run_id }})
    name: str  # untrusted text; a called workflow's job is named `<caller job> / <called job>`
    status: str | None
    conclusion: str | None
    url: str | None
    runner_name: str | None
    steps: tuple[Step, ...]
    started_at: datetime | None = None
    completed_at: datetime | None = None
    labels: tuple[str, ...] = ()  # the runner labels it asked for: `self-hosted` for a self-hosted one

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def failed_steps(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps if step.conclusion in FAILED_CONCLUSIONS)

    def failed(self, *, cancelled_fails: bool) -> bool:
        """Whether the job counts as failed: a failed conclusion; a cancel after a failed step (the runner
        reports a job cancelled by a timeout or `concurrency` as cancelled, whatever failed before); or,
        with on-cancelled: fire, any cancel. A job still running counts once a step has failed."""
        if self.conclusion in FAILED_CONCLUSIONS:
            return True
        if self.conclusion == "cancelled" and (cancelled_fails or self.failed_steps):
            return True
        return not self.completed and bool(self.failed_steps)

    def seconds(self, now: datetime) -> int | None:
        """How long it ran: to its end, or until now while it still runs (as the job alerting does)."""
        if self.started_at is None:
            return None
        end = self.completed_at or now
        return max(0, int((end - self.started_at).total_seconds()))


@dataclass(frozen=True)
class Annotation:
    """One annotation of a check run, as the runner records a job's errors, warnings and notices."""

    level: str | None  # failure, warning or notice
    message: str  # untrusted text
    title: str | None = None  # untrusted text
    path: str | None = None  # `.github` for the runner's own, else the file it is about
    line: int | None = None


@dataclass(frozen=True)
class PastRun:
    """Another run of the workflow, with what places it (the same fields as a `workflow_run` payload)."""

    run_id: int
    conclusion: str | None
    run_number: int | None = None
    event: str | None = None
    head_branch: str | None = None
    head_repository: str | None = None
    url: str | None = None
    status: str | None = "completed"  # queued, in_progress, waiting, ... while it runs
    run_attempt: int | None = None

    @property
    def order(self) -> tuple[int, int]:
        """Newer runs sort higher: by run number (a re-run keeps it), then attempt."""
        return (self.run_number or 0, self.run_attempt or 0)
