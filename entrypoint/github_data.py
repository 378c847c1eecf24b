"""GitHub's answers as plain data: jobs and their steps, other runs of a workflow, check run annotations.

No I/O here (github_api.py reads them), so that the modules that decide from them load no HTTP stack.
Also the one definition of what counts as a failed job, used wherever jobs are judged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

# The conclusions of a job or run that count as failed, everywhere in the action.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
# Conclusions of a job that passed, or that neither passed nor failed but hide nothing.
PASSING_CONCLUSIONS = frozenset({"success", "skipped", "neutral"})
T = TypeVar("T")
Outcome = Literal["failed", "passed"] | None  # what a run says about the compared unit; None: undecided


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


@dataclass(frozen=True)
class Unit:
    """What a run is judged by, the same in this run and in every other run of the workflow:
    - `job`: one job, by its name in GitHub's API (the job running this step);
    - `needs`: the jobs a notify job needs (by id), and behind a skipped or cancelled one the run's other
      jobs (`needs` lists direct dependencies only); `besides` names the notify job itself;
    - neither: the whole run (a watcher's watched workflow).
    """

    job: str | None = None
    needs: tuple[str, ...] | None = None
    besides: frozenset[str] = frozenset()

    @property
    def is_job(self) -> bool:
        return self.job is not None


def judge(jobs: Iterable[Job], unit: Unit, *, cancelled_fails: bool) -> Outcome:
    """What a run's jobs (of one attempt) say about the unit: failed, passed, or undecided (None).

    Only jobs that have ended count: a job failed when it concluded failed, or was cancelled after a step
    failed (a timeout after a failure), or, with on-cancelled: fire, was cancelled at all. A cancel with
    nothing failed, a job still running, skipped or absent decides nothing."""
    jobs = tuple(jobs)
    if unit.job is not None:
        mine = [job for job in jobs if job.name == unit.job and job.completed]
        if any(job.failed(cancelled_fails=cancelled_fails) for job in mine):
            return "failed"
        return "passed" if any(job.conclusion == "success" for job in mine) else None
    others = [job for job in jobs if job.name not in unit.besides]
    if unit.needs:
        found = {needed: needed_result(others, needed) for needed in unit.needs}
        results = {needed: result for needed, result in found.items() if result is not None}
        if len(results) == len(found):  # each needed job found by its name: the needs rule
            outcome = needs_outcome(results, others, cancelled_fails=cancelled_fails)
            return None if outcome == "unknown" else outcome
    return whole_run_outcome(others, cancelled_fails=cancelled_fails)


def whole_run_outcome(jobs: Iterable[Job], *, cancelled_fails: bool) -> Outcome:
    """A whole run: failed once a job of it ended failed; passed once every job ended and passed (or was
    skipped), none cancelled; else undecided."""
    jobs = tuple(jobs)
    if any(job.completed and job.failed(cancelled_fails=cancelled_fails) for job in jobs):
        return "failed"
    if not jobs or not all(job.completed for job in jobs):
        return None
    if all(job.conclusion in PASSING_CONCLUSIONS for job in jobs) and any(
        job.conclusion == "success" for job in jobs
    ):
        return "passed"
    return None


def needed_result(jobs: Iterable[Job], job_id: str) -> str | None:
    """A needed job's result as `needs.<id>.result` gives it, from the run's jobs, found by the names GitHub
    gives a job (`build`, a matrix's `test (3.12)`, a called workflow's `unit / test`): `running` while a
    leg of it has not ended; None where no job has such a name (a `name:` of its own)."""
    legs = [job for job in jobs if job.name == job_id or job.name.startswith((f"{job_id} (", f"{job_id} / "))]
    if not legs:
        return None
    if not all(job.completed for job in legs):
        return "running"
    conclusions = {job.conclusion for job in legs}
    if conclusions & FAILED_CONCLUSIONS:
        return "failure"
    if "cancelled" in conclusions:
        return "cancelled"
    return "skipped" if conclusions == {"skipped"} else "success"


def needs_outcome(
    results: Mapping[str, str], others: Iterable[Job] | None, *, cancelled_fails: bool
) -> Outcome | Literal["unknown"]:
    """The needs rule: a needed job failed → failed; behind a skipped or cancelled one, a job of the run
    that ended failed → failed; a needed job not ended → undecided; all succeeded → passed; else, what the
    run's other jobs say: a cancel → undecided, nothing → passed. `others` None: GitHub's API could not
    list them, and where they decide, the answer is "unknown"."""
    failed = {"failure", "cancelled"} if cancelled_fails else {"failure"}
    if set(results.values()) & failed:
        return "failed"
    hidden = {"skipped", "cancelled"} & set(results.values())
    ended = [job for job in others or () if job.completed]
    if hidden and any(job.failed(cancelled_fails=cancelled_fails) for job in ended):
        return "failed"
    if "running" in results.values():
        return None
    if not hidden:
        return "passed"
    if others is None:
        return "unknown"
    if "cancelled" in results.values() or any(job.conclusion == "cancelled" for job in ended):
        return None
    return "passed"
