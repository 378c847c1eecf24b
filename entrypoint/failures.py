"""Knowing what failed: the failed jobs and steps of the run, and how many runs in a row failed.

Read from GitHub's API only when an alert is about to fire for a GitHub Actions run (the current
run, or the run a `workflow_run` workflow watches). Everything here is best effort: when the API
cannot help, the alert goes out as it would without it, and one warning says what was missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from entrypoint import messages
from entrypoint.github_api import GitHubApi, GitHubUnavailable, Job
from entrypoint.settings import Settings
from entrypoint.workflow_run import WorkflowRun

FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
# How many previous runs to look through for N-1 failures: cancelled and skipped runs are passed over.
HISTORY_PAGE = 50
# Earlier failed runs in which this job did not run (renamed, or not in that run) looked through at most.
MAX_PASSED_OVER = 10


@dataclass(frozen=True)
class FailedJob:
    name: str  # untrusted text
    url: str | None
    failed_steps: tuple[str, ...]  # untrusted text


@dataclass(frozen=True)
class Failures:
    """What GitHub's API told about a failure. None means it could not be read."""

    failed_jobs: tuple[FailedJob, ...] | None = None
    consecutive: int | None = None  # failed runs in a row, this one included, counted up to the threshold
    counted: str = ""  # whose runs were counted: `CI / test on main`
    warning: str | None = None  # what was missing and how to fix it


def read_failures(
    settings: Settings, run: WorkflowRun | None, debug: Callable[[str], None] = lambda _line: None
) -> Failures:
    """The failed jobs of the run and, with failures-before-alert > 1, the consecutive failures."""
    if run is None or run.run_id is None or (run.watched and run.watched.kind != "workflow_run"):
        return Failures()  # not a GitHub Actions run: there are no jobs to read
    needed = settings.failures_before_alert
    if settings.github_token is None:
        return Failures(
            warning=_warning(messages.GITHUB_NOT_GIVEN, messages.GITHUB_FIX_UNAUTHORIZED, needed, None)
        )
    api = GitHubApi(
        base_url=run.api_url,
        token=settings.github_token.get_secret_value(),
        debug=debug,
    )
    failed_jobs: tuple[FailedJob, ...] | None = None
    try:
        jobs = api.jobs_of_attempt(run.repository, run.run_id, run.run_attempt)
        failed_jobs = tuple(find_failed_jobs(jobs))
        if needed == 1:
            return Failures(failed_jobs)
        if not run.branch:
            reason = "the run has no branch to compare earlier runs on"
            return Failures(failed_jobs, warning=_history_warning(reason, needed))
        mine = None if run.watched else current_job(jobs, run.runner_name, run.job)
        consecutive = count_consecutive_failures(
            api,
            run,
            run_id=run.run_id,
            branch=run.branch,
            job_name=mine.name if mine else None,
            needed=needed,
        )
    except GitHubUnavailable as exc:
        reason = f"GitHub's API at {api.base_url} could not help: {exc}"
        return Failures(failed_jobs, warning=_warning(reason, exc.fix, needed, failed_jobs))
    counted = f"{run.workflow} / {mine.name}" if mine else run.workflow
    return Failures(failed_jobs, consecutive, counted=f"{counted} on {run.branch}")


def find_failed_jobs(jobs: list[Job]) -> list[FailedJob]:
    """Jobs that failed, and jobs still running (like this one) whose steps already failed."""
    failed = []
    for job in jobs:
        steps = tuple(step.name for step in job.steps if step.conclusion in FAILED_CONCLUSIONS)
        if job.conclusion in FAILED_CONCLUSIONS or (job.status != "completed" and steps):
            url = job.url if job.url and job.url.startswith(("https://", "http://")) else None
            failed.append(FailedJob(job.name, url, steps))
    return failed


def current_job(jobs: list[Job], runner_name: str | None, job_id: str | None) -> Job | None:
    """The job running this action: the unfinished one on this runner, else the one named like its id."""
    if runner_name:
        mine = [job for job in jobs if job.status != "completed" and job.runner_name == runner_name]
        if len(mine) == 1:
            return mine[0]
    named = [job for job in jobs if job_id and job.name == job_id]
    return named[0] if len(named) == 1 else None


def count_consecutive_failures(
    api: GitHubApi, run: WorkflowRun, *, run_id: int, branch: str, job_name: str | None, needed: int
) -> int:
    """Failed runs in a row of the same workflow (and job) on the same branch, this one included.

    Counting stops at `needed`. A success ends the streak; cancelled and skipped runs are passed
    over. With a job name, an earlier run counts by how that job ended in it, so another job's
    failure does not count towards this job's alert.
    """
    workflow = run.workflow_id or api.workflow_of_run(run.repository, run_id)
    # Newest first; later runs (a watched run's successors) and this run itself do not count.
    earlier = [
        past
        for past in api.completed_runs(run.repository, workflow, branch, HISTORY_PAGE)
        if past.run_id < run_id
    ]
    jobs_by_run: dict[int, list[Job]] = {}
    if job_name:
        # How this job ended in each failed run up to the first success, all asked for at once.
        until_success = next(
            (i for i, past in enumerate(earlier) if past.conclusion == "success"), len(earlier)
        )
        failed = [past.run_id for past in earlier[:until_success] if past.conclusion in FAILED_CONCLUSIONS]
        jobs_by_run = api.jobs_of_runs(run.repository, failed[: needed - 1 + MAX_PASSED_OVER])
    consecutive = 1
    for past in earlier:
        if consecutive >= needed:
            break
        conclusion = past.conclusion
        if job_name and conclusion in FAILED_CONCLUSIONS:
            if past.run_id not in jobs_by_run:
                break  # the job was passed over too often to look further back
            conclusion = _job_conclusion(jobs_by_run[past.run_id], job_name)
        if conclusion in FAILED_CONCLUSIONS:
            consecutive += 1
        elif conclusion == "success":
            break
    return consecutive


def _job_conclusion(jobs: list[Job], name: str) -> str | None:
    conclusions = {job.conclusion for job in jobs if job.name == name and job.conclusion}
    if failed := conclusions & FAILED_CONCLUSIONS:
        return min(failed)  # any failed conclusion counts the same
    return "success" if "success" in conclusions else None  # None: the job did not run then


def _history_warning(reason: str, needed: int) -> str:
    return messages.GITHUB_HISTORY_UNKNOWN.format(reason=reason, needed=needed)


def _warning(reason: str, fix: str, needed: int, failed_jobs: tuple[FailedJob, ...] | None) -> str:
    missing = []
    if failed_jobs is None:
        missing.append(messages.GITHUB_MISSING_JOBS)
    if needed > 1:
        missing.append(messages.GITHUB_MISSING_HISTORY.format(needed=needed))
    return f"{reason}, so {' and '.join(missing)}. {fix}"
