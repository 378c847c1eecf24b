"""GitHub's answers as plain data: jobs and their steps, other runs of a workflow, check run annotations.

No I/O here (github_api.py reads them), so that the modules that decide from them load no HTTP stack.
Also the one definition of what counts as a failed job, used wherever jobs are judged: a failed
conclusion; a failed step, even while the job still runs (it can only end failed); or a cancel that counts
(`Cancel`, which cancels.py says once for each cancelled job: a timeout, by default).
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
# Why a job was cancelled, as far as GitHub shows: it hit its timeout-minutes; a newer run took its place
# (`concurrency`); a person or an app cancelled the run; a failed matrix leg stopped it (fail-fast); a cancel
# that is no timeout, its cause unnamed; or not known (`Cancel.missing` says what was missing).
CancelCause = Literal["timeout", "superseded", "person", "fail-fast", "cancel", "unknown"]


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
    conclusion: str | None  # after continue-on-error: a step allowed to fail that failed says success
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class Cancel:
    """What a cancelled job's cancel was, said once (cancels.py) and carried with the job."""

    cause: CancelCause
    counts: bool  # it counts as a failure: a timeout (on-cancelled: timeout), or any cancel (fire)
    detail: str = ""  # who or what: `@octocat`, the concurrency group, the failed leg, the newer run
    seconds: int | None = None  # how long the job ran before it was cancelled
    limit_minutes: float | None = None  # its timeout-minutes, where known
    missing: str = ""  # unknown: what could not be read or evaluated


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
    cancel: Cancel | None = None  # what its cancel was, for a cancelled job (cancels.py)

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def failed_steps(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps if step.conclusion in FAILED_CONCLUSIONS)

    @property
    def failed(self) -> bool:
        """Whether the job counts as failed: a failed conclusion; a failed step, whether the job still runs
        (it can only end failed, or failed and then cancelled) or was cancelled after it; or a cancel that
        counts (a timeout). A step allowed to fail (continue-on-error) never counts: GitHub's API gives it
        the conclusion `success` (actions/runner ADR 0274, StepsRunner)."""
        if self.conclusion in FAILED_CONCLUSIONS or self.failed_steps:
            return True
        return self.cancel is not None and self.cancel.counts

    @property
    def timed_out(self) -> bool:
        return self.cancel is not None and self.cancel.cause == "timeout" and not self.failed_steps

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


def judge(jobs: Iterable[Job], unit: Unit) -> Outcome:
    """What a run's jobs (of one attempt) say about the unit: failed, passed, or undecided (None).

    A job failed once it counts as failed (`Job.failed`: a failed step decides even while it runs); it
    passed once it ended in success. A cancel that does not count (no timeout), a job still running with
    nothing failed, skipped or absent decides nothing."""
    jobs = tuple(jobs)
    if unit.job is not None:
        mine = [job for job in jobs if job.name == unit.job]
        if any(job.failed for job in mine):
            return "failed"
        return "passed" if any(job.completed and job.conclusion == "success" for job in mine) else None
    others = [job for job in jobs if job.name not in unit.besides]
    if unit.needs:
        found = {needed: needed_result(others, needed) for needed in unit.needs}
        results = {needed: result for needed, result in found.items() if result is not None}
        if len(results) == len(found):  # each needed job found by its name: the needs rule
            outcome = needs_outcome(results, others)
            return None if outcome == "unknown" else outcome
    return whole_run_outcome(others)


def whole_run_outcome(jobs: Iterable[Job]) -> Outcome:
    """A whole run: failed once a job of it counts as failed; passed once every job ended and passed (or
    was skipped), none cancelled; else undecided."""
    jobs = tuple(jobs)
    if any(job.failed for job in jobs):
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
    legs = legs_of(jobs, job_id)
    if not legs:
        return None
    if any(job.failed and not job.cancel for job in legs):  # a failed step decides, even while it runs
        return "failure"
    if not all(job.completed for job in legs):
        return "running"
    conclusions = {job.conclusion for job in legs}
    if "cancelled" in conclusions:
        return "cancelled"
    return "skipped" if conclusions == {"skipped"} else "success"


def legs_of(jobs: Iterable[Job], job_id: str) -> list[Job]:
    """The jobs GitHub's API lists for a job id: `build`, a matrix's `test (3.12)`, a called workflow's
    `unit / test`."""
    return [job for job in jobs if job.name == job_id or job.name.startswith((f"{job_id} (", f"{job_id} / "))]


def needs_outcome(results: Mapping[str, str], others: Iterable[Job] | None) -> Outcome | Literal["unknown"]:
    """The needs rule: a needed job failed → failed; behind a skipped or cancelled one, a job of the run
    that counts as failed (a timed-out one among them) → failed; a needed job not ended → failed where a job
    of the run has failed already, else undecided; all succeeded → passed; else, what the run's other jobs
    say: a cancel → undecided, nothing → passed. `others` None: GitHub's API could not list them, and where
    they decide, the answer is "unknown"."""
    if "failure" in results.values():
        return "failed"
    hidden = {"skipped", "cancelled"} & set(results.values())
    if hidden and any(job.failed for job in others or ()):
        return "failed"
    if "running" in results.values():
        # A needed job has not ended, and a job of the run has failed (a failed step decides, even while it
        # runs): the needed jobs behind it will be skipped or fail, so the run fails. Where the failed job
        # is upstream of no needed job this holds a resolve back until the run ends: never a wrong resolve.
        return "failed" if any(job.failed for job in others or ()) else None
    if not hidden:
        return "passed"
    if others is None:
        return "unknown"
    if "cancelled" in results.values() or any(job.conclusion == "cancelled" for job in others or ()):
        return None
    return "passed"
