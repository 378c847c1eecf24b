"""Knowing what failed, from GitHub's API: the failed jobs and steps of the run and their error
messages, how many runs in a row failed before an alert fires, and whether a newer run failed before
an alert is resolved.

Read only for a GitHub Actions run (the current run, or the run a `workflow_run` workflow watches).
Everything here is best effort: when the API cannot help, the alert goes out as it would without it,
and one warning says what was missing and how to fix it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from entrypoint import messages
from entrypoint.github_api import FAILED_CONCLUSIONS, Annotation, GitHubApi, GitHubUnavailable, Job, PastRun
from entrypoint.history import (
    Subject,
    comparable,
    count_consecutive_failures,
    newer_runs,
    newest_decided_failure,
)
from entrypoint.settings import Settings
from entrypoint.workflow_run import WorkflowRun

__all__ = ["FAILED_CONCLUSIONS", "FailedJob", "Failures", "NewerRun", "read_failures", "read_newer_run"]

Debug = Callable[[str], None]

# The error messages read: of a few failed jobs, a few each, each cut short. Enough to tell a flaky
# network call from a real regression, small enough to read at night.
MAX_JOBS_WITH_ERRORS = 5
MAX_ERRORS_PER_JOB = 3
MAX_ERROR_CHARS = 300
# What the runner adds to every failed step; it says nothing where a more specific message exists.
GENERIC_ERROR = re.compile(r"Process completed with exit code \d+\.?")


@dataclass(frozen=True)
class FailedJob:
    name: str  # untrusted text
    url: str | None
    failed_steps: tuple[str, ...]  # untrusted text
    id: int | None = None
    completed: bool = True
    seconds: int | None = None  # how long it ran (so far, if it still runs)
    runner_name: str | None = None  # untrusted text
    self_hosted: bool | None = None
    errors: tuple[str, ...] = ()  # its failure annotations, one line each, cut short; untrusted text
    more_errors: int = 0  # how many more there were


@dataclass(frozen=True)
class Failures:
    """What GitHub's API told about a failure. None means it could not be read."""

    failed_jobs: tuple[FailedJob, ...] | None = None
    consecutive: int | None = None  # failed runs in a row, this one included, counted up to the threshold
    counted: str = ""  # whose runs were counted: `CI / test on main`
    warning: str | None = None  # what was missing and how to fix it

    @property
    def single(self) -> FailedJob | None:
        """The failed job, where exactly one job of the run failed (the one alerting included)."""
        return self.failed_jobs[0] if self.failed_jobs and len(self.failed_jobs) == 1 else None


@dataclass(frozen=True)
class NewerRun:
    """What GitHub's API told before a resolve: a newer run that failed, or why it could not tell."""

    failed: PastRun | None = None
    subject: str = ""  # whose runs were compared: `CI / test on main`
    warning: str | None = None


def _actions_run_id(run: WorkflowRun | None) -> int | None:
    """The run's id where it is a GitHub Actions run with jobs (not a check suite or deployment)."""
    if run is None or (run.watched is not None and run.watched.kind != "workflow_run"):
        return None
    return run.run_id


def _api(settings: Settings, run: WorkflowRun, debug: Debug) -> GitHubApi | None:
    if settings.github_token is None:
        return None
    return GitHubApi(base_url=run.api_url, token=settings.github_token.get_secret_value(), debug=debug)


def read_failures(
    settings: Settings,
    run: WorkflowRun | None,
    debug: Debug = lambda _line: None,
    now: datetime | None = None,
) -> Failures:
    """The failed jobs of the run with their errors and, with failures-before-alert > 1, the
    consecutive failures."""
    run_id = _actions_run_id(run)
    if run is None or run_id is None:
        return Failures()  # not a GitHub Actions run: there are no jobs to read
    needed = settings.failures_before_alert
    api = _api(settings, run, debug)
    if api is None:
        return Failures(
            warning=_warning(messages.GITHUB_NOT_GIVEN, messages.GITHUB_FIX_UNAUTHORIZED, needed, None)
        )
    failed_jobs: tuple[FailedJob, ...] | None = None
    errors_unread: GitHubUnavailable | None = None
    try:
        jobs = api.jobs_of_attempt(run.repository, run_id, run.run_attempt)
        failed_jobs = tuple(find_failed_jobs(jobs, now or datetime.now(UTC)))
        failed_jobs, errors_unread = _with_errors(api, run.repository, failed_jobs)
        errors_warning = _errors_warning(api.base_url, errors_unread)
        if needed == 1:
            return Failures(failed_jobs, warning=errors_warning)
        if run.origin.kind == "tag":
            debug("A tag's run is not compared with other tags' runs: failures-before-alert does not apply.")
            return Failures(failed_jobs, warning=errors_warning)
        if not comparable(run):
            reason = "the run has no branch to compare earlier runs on"
            return Failures(failed_jobs, warning=_history_warning(reason, needed))
        subject = Subject(run, run_id, job_to_compare(settings, run, jobs))
        consecutive = count_consecutive_failures(api, subject, needed)
    except GitHubUnavailable as exc:
        reason = f"GitHub's API at {api.base_url} could not help: {exc}"
        missing_errors = errors_unread is not None
        return Failures(failed_jobs, warning=_warning(reason, exc.fix, needed, failed_jobs, missing_errors))
    return Failures(failed_jobs, consecutive, counted=subject.shown, warning=errors_warning)


def _with_errors(
    api: GitHubApi, repository: str, failed_jobs: tuple[FailedJob, ...]
) -> tuple[tuple[FailedJob, ...], GitHubUnavailable | None]:
    """The failed jobs with their error messages, read for the first few completed ones.

    The runner hands a job's annotations to GitHub when the job completes, so a job still running (the
    one alerting, in the step's own job) has none to read yet, and nothing is said about it.
    """
    readable = [job.id for job in failed_jobs if job.completed and job.id is not None][:MAX_JOBS_WITH_ERRORS]
    try:
        annotations = api.annotations_of_jobs(repository, readable)
    except GitHubUnavailable as exc:
        return failed_jobs, exc
    with_errors = []
    for job in failed_jobs:
        errors = error_messages(annotations.get(job.id, [])) if job.id is not None else []
        shown = tuple(errors[:MAX_ERRORS_PER_JOB])
        with_errors.append(dataclasses.replace(job, errors=shown, more_errors=len(errors) - len(shown)))
    return tuple(with_errors), None


def error_messages(annotations: list[Annotation]) -> list[str]:
    """A job's failure annotations, one line each, without the runner's generic exit-code line where
    a more specific message exists."""
    errors = [_one_line(annotation) for annotation in annotations if annotation.level == "failure"]
    errors = [error for error in errors if error]
    specific = [error for error in errors if not GENERIC_ERROR.fullmatch(error)]
    return specific or errors


def _one_line(annotation: Annotation) -> str:
    text = annotation.message
    if annotation.title and annotation.title not in text:
        text = f"{annotation.title}: {text}"
    if annotation.path and annotation.path != ".github":  # `.github`: the runner's own, about no file
        where = f"{annotation.path}:{annotation.line}" if annotation.line else annotation.path
        text = f"{where}: {text}"
    return messages.one_line(text, MAX_ERROR_CHARS)


def _errors_warning(base_url: str, exc: GitHubUnavailable | None) -> str | None:
    if exc is None:
        return None
    if exc.status in (403, 404):
        return messages.GITHUB_ERRORS_FORBIDDEN.format(base_url=base_url, status=exc.status)
    reason = f"GitHub's API at {base_url} could not help: {exc}"
    return f"{reason}, so {messages.GITHUB_MISSING_ERRORS}. {exc.fix}"


def read_newer_run(
    settings: Settings, run: WorkflowRun | None, debug: Debug = lambda _line: None
) -> NewerRun:
    """Before resolving: whether a newer run of the same workflow (and job) on the same branch failed."""
    run_id = _actions_run_id(run)
    if run is None or run_id is None or not comparable(run):
        return NewerRun()  # tags, check suites, deployments: nothing to compare
    subject = Subject(run, run_id, None)
    api = _api(settings, run, debug)
    try:
        if api is None:
            raise GitHubUnavailable(messages.GITHUB_NOT_GIVEN, messages.GITHUB_FIX_UNAUTHORIZED)
        newer = newer_runs(api, subject)
        if newer and _compares_a_job(settings, run):
            # This job's name in GitHub's API (matrix legs and display names differ from GITHUB_JOB).
            jobs = api.jobs_of_attempt(run.repository, run_id, run.run_attempt)
            subject = Subject(run, run_id, job_to_compare(settings, run, jobs))
        failed = newest_decided_failure(api, newer, subject)
    except GitHubUnavailable as exc:
        reason = f"GitHub's API at {api.base_url} could not help: {exc}" if api else str(exc)
        missing = messages.GITHUB_MISSING_NEWER.format(subject=subject.shown)
        return NewerRun(subject=subject.shown, warning=f"{reason}, so {missing}. {exc.fix}")
    return NewerRun(failed, subject.shown)


def _compares_a_job(settings: Settings, run: WorkflowRun) -> bool:
    """A step in the job compares that job; a watcher, or a notify job (`needs`), the whole run."""
    return run.watched is None and settings.needs is None


def job_to_compare(settings: Settings, run: WorkflowRun, jobs: list[Job]) -> str | None:
    """The name of the job whose earlier and later runs count, or None for the whole run."""
    if not _compares_a_job(settings, run):
        return None
    mine = current_job(jobs, settings.check_run_id, run.runner_name, run.job)
    return mine.name if mine else None


def find_failed_jobs(jobs: list[Job], now: datetime) -> list[FailedJob]:
    """Jobs that failed, and jobs still running (like this one) whose steps already failed."""
    failed = []
    for job in jobs:
        steps = tuple(step.name for step in job.steps if step.conclusion in FAILED_CONCLUSIONS)
        completed = job.status == "completed"
        if job.conclusion in FAILED_CONCLUSIONS or (not completed and steps):
            url = job.url if job.url and job.url.startswith(("https://", "http://")) else None
            failed.append(
                FailedJob(
                    job.name,
                    url,
                    steps,
                    id=job.id,
                    completed=completed,
                    seconds=job.seconds(now),
                    runner_name=job.runner_name,
                    self_hosted="self-hosted" in job.labels if job.labels else None,
                )
            )
    return failed


def current_job(
    jobs: list[Job], check_run_id: int | None, runner_name: str | None, job_id: str | None
) -> Job | None:
    """The job running this action: by its id (`job.check_run_id`) where given, else the unfinished
    one on this runner, else the one named like its id in the workflow."""
    if check_run_id is not None:
        exact = [job for job in jobs if job.id == check_run_id]
        if exact:
            return exact[0]
    if runner_name:
        mine = [job for job in jobs if job.status != "completed" and job.runner_name == runner_name]
        if len(mine) == 1:
            return mine[0]
    named = [job for job in jobs if job_id and job.name == job_id]
    return named[0] if len(named) == 1 else None


def _history_warning(reason: str, needed: int) -> str:
    return messages.GITHUB_HISTORY_UNKNOWN.format(reason=reason, needed=needed)


def _warning(
    reason: str,
    fix: str,
    needed: int,
    failed_jobs: tuple[FailedJob, ...] | None,
    missing_errors: bool = False,
) -> str:
    missing = []
    if failed_jobs is None:
        missing.append(messages.GITHUB_MISSING_JOBS)
    elif missing_errors:
        missing.append(messages.GITHUB_MISSING_ERRORS)
    if needed > 1:
        missing.append(messages.GITHUB_MISSING_HISTORY.format(needed=needed))
    return f"{reason}, so {' and '.join(missing)}. {fix}"
