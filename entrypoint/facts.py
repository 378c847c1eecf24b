"""What GitHub says about this job, gathered once, through one client with one time budget.

- the jobs of the run's attempt (the current run's, or the watched run's): this very job, its steps and
  its full name, and the run's other jobs;
- the workflow's other runs with the same origin, finished or not, each with its jobs where one job is
  compared, so that each can be judged by how that job ended in it;
- whether a watched run's head branch is a tag of this repository;
- the failed jobs' error messages (their check runs' annotations), read only for a firing alert.

Nothing is decided here: verdict.py decides from these facts. GitHub's API only adds detail, so the first
call it cannot answer ends the gathering, what was read before is kept, and `Facts.unavailable` says why.
The HTTP stack is loaded only when a call is made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal

from entrypoint import messages
from entrypoint.failures import FailedJob, error_messages
from entrypoint.github_data import GitHubUnavailable, Job, Outcome, PastRun, Unit, judge, settled
from entrypoint.settings import Settings
from entrypoint.workflow_run import WorkflowRun, as_tag_run, origin_of_actions_run

if TYPE_CHECKING:
    from entrypoint.github_api import GitHubApi

Debug = Callable[[str], None]

# The runs of the workflow asked for per page of GitHub's list, and the pages read at most to find the
# runs around this one (GitHub promises no order).
HISTORY_PAGE = 50
MAX_RUN_PAGES = 3
# Newer runs looked at before a decision: a few at most run at once.
MAX_NEWER_RUNS = 10
# Attempts gone back, for a run being re-run: to its latest attempt that decided.
MAX_ATTEMPTS_BACK = 3
WHOLE_RUN = Unit()
# The error messages read: of the first few completed failed jobs.
MAX_JOBS_WITH_ERRORS = 5
# Events whose runs are always on a branch: their head branch is never a tag.
BRANCH_ONLY_EVENTS = frozenset(
    {"pull_request", "pull_request_review", "pull_request_review_comment", "merge_group", "schedule"}
)


class GitHub:
    """The step's one GitHub API client, made on first use: one time budget for every call of the step."""

    def __init__(self, settings: Settings, run: WorkflowRun | None, debug: Debug) -> None:
        self._token = settings.github_token.get_secret_value() if settings.github_token else None
        self.base_url = run.api_url if run else None
        self._debug = debug

    @cached_property
    def api(self) -> GitHubApi | None:
        """The client, or None without a token (or outside GitHub Actions)."""
        if not self._token or self.base_url is None:
            return None
        # Imported here: runs that never ask GitHub (a skip, a dry run outside Actions) load no HTTP stack.
        from entrypoint.github_api import GitHubApi  # noqa: PLC0415

        return GitHubApi(base_url=self.base_url, token=self._token, debug=self._debug)

    def unavailable_without_token(self) -> GitHubUnavailable:
        return GitHubUnavailable(messages.GITHUB_NOT_GIVEN, messages.GITHUB_FIX_UNAUTHORIZED)


@dataclass(frozen=True)
class Wanted:
    """What the verdict will ask of GitHub's API for this run (verdict.wanted decides)."""

    jobs: bool = False  # the jobs of the run's attempt
    other_runs: bool = False  # the workflow's other runs with the same origin, each with its jobs
    earlier: int = 0  # how many earlier runs the failures-before-alert streak may look through
    streak: int = 0  # how many earlier failed runs it needs (failures-before-alert - 1): read first


@dataclass(frozen=True)
class OtherRun:
    """Another run of the same workflow and origin, with the jobs of the attempts read, newest first: its
    latest attempt, and before it each attempt whose successor had not decided (a re-run still going, or
    cancelled with nothing failed). `unread`: GitHub could not give the jobs that would decide it."""

    run: PastRun
    attempts: tuple[tuple[Job, ...], ...] = ()
    unread: bool = False

    def outcome(self, unit: Unit, *, cancelled_fails: bool) -> Outcome | Literal["unknown"]:
        """How it went for the unit: by its latest attempt that decided; "unknown" where the jobs that
        would tell could not be read."""
        for jobs in self.attempts:
            if (result := judge(jobs, unit, cancelled_fails=cancelled_fails)) is not None:
                return result
        return "unknown" if self.unread else None


@dataclass(frozen=True)
class Facts:
    """What GitHub's API said. None: not read (not wanted, or GitHub could not answer)."""

    jobs: tuple[Job, ...] | None = None  # the jobs of the run's attempt
    this_job: Job | None = None  # the job running this step, among them (not for a watched run)
    unit: Unit = WHOLE_RUN  # what runs are judged by: this job, a notify job's needed jobs, the watched run
    newer: tuple[OtherRun, ...] | None = None  # higher run numbers, newest first
    earlier: tuple[OtherRun, ...] | None = None  # lower run numbers, newest first
    unavailable: GitHubUnavailable | None = None  # why something could not be read
    api_url: str | None = None  # whose API it was (None: there was no token)
    # The runs listed did not reach this run within MAX_RUN_PAGES: newer runs may lie beyond them.
    newer_unreached: bool = False
    # What was not read because the token's rate limit ran low (GitHubApi.short_of_budget).
    skipped_for_budget: tuple[str, ...] = ()


def unit_of(settings: Settings, run: WorkflowRun, this_job: Job | None) -> Unit:
    """What this run and the others are judged by: the watched run; a notify job's needed jobs (itself
    left out); this job, by its name in GitHub's API; the whole run where this job cannot be found."""
    if run.watched is not None:
        return WHOLE_RUN
    if settings.needs is not None:
        own = {name for name in (run.job, this_job.name if this_job else None) if name}
        return Unit(needs=tuple(settings.needs), besides=frozenset(own))
    return Unit(job=this_job.name) if this_job is not None else WHOLE_RUN


def gather(settings: Settings, run: WorkflowRun | None, wanted: Wanted, github: GitHub) -> Facts:
    """Read what is wanted: this attempt's jobs and the workflow's runs side by side, then the jobs of the
    runs that matter, side by side too (and, for a run being re-run, the attempt before). At most three
    round trips as a rule (one more without a workflow file, and one for each attempt gone back)."""
    if run is None or run.run_id is None or wanted == Wanted():
        return Facts()
    api = github.api
    if api is None:
        return Facts(unavailable=github.unavailable_without_token())
    run_id = run.run_id

    def read_jobs() -> list[Job]:
        return api.jobs_of_attempt(run.repository, run_id, run.run_attempt)

    def read_runs() -> Listed:
        return runs_like(api, run, run_id, wanted.earlier)

    jobs_answer: list[Job] | GitHubUnavailable | None
    runs_answer: Listed | GitHubUnavailable | None
    if wanted.jobs and wanted.other_runs:
        jobs_answer, runs_answer = api.side_by_side(read_jobs, read_runs)
    else:
        jobs_answer = settled(read_jobs) if wanted.jobs else None
        runs_answer = settled(read_runs) if wanted.other_runs else None
    unavailable = next(
        (answer for answer in (jobs_answer, runs_answer) if isinstance(answer, GitHubUnavailable)), None
    )
    jobs = tuple(jobs_answer) if isinstance(jobs_answer, list) else None
    this_job = None
    if jobs is not None and run.watched is None:
        this_job = current_job(
            jobs,
            settings.check_run_id,
            run.runner_name,
            run.job,
            matrix=settings.matrix,
            job_status=settings.job_status,
        )
    unit = unit_of(settings, run, this_job)
    facts = Facts(jobs, this_job, unit, unavailable=unavailable, api_url=api.base_url)
    if not isinstance(runs_answer, Listed) or run.run_number is None:
        return facts
    ordered = sorted(
        (past for past in runs_answer.runs if past.run_id != run_id), key=attrgetter("order"), reverse=True
    )
    newer = [past for past in ordered if (past.run_number or 0) > run.run_number][:MAX_NEWER_RUNS]
    earlier = [past for past in ordered if (past.run_number or 0) < run.run_number][: wanted.earlier]
    cancelled_fails = settings.on_cancelled == "fire"
    skipped: tuple[str, ...] = ()
    uncounted = False
    if api.short_of_budget and len(earlier) > wanted.streak:
        earlier = earlier[: wanted.streak]  # no undecided run passed over: only what the streak needs
        skipped = (messages.BUDGET_SKIPPED_STREAK.format(streak=wanted.streak),)
    first = newer + earlier[: wanted.streak]
    read, problem = read_other_runs(api, run.repository, first, unit, cancelled_fails)
    earlier, problem = read_earlier(
        api,
        run.repository,
        earlier,
        streak=wanted.streak,
        unit=unit,
        cancelled_fails=cancelled_fails,
        read=read,
        problem=problem,
    )
    if skipped and not streak_decided(earlier, wanted.streak, read, unit, cancelled_fails):
        # The budget stopped the streak short of the runs that would decide it: it is not counted, and
        # the failure fires rather than being held back on a count left unfinished.
        skipped = (messages.BUDGET_SKIPPED_STREAK_UNCOUNTED.format(streak=wanted.streak),)
        uncounted = True
    cut = None
    if not (runs_answer.reached_this_run and runs_answer.reached_earlier):
        what = messages.RUNS_CUT_NEWER if not runs_answer.reached_this_run else messages.RUNS_CUT_EARLIER
        cut = GitHubUnavailable(
            messages.RUNS_CUT.format(runs=MAX_RUN_PAGES * HISTORY_PAGE, what=what),
            messages.GITHUB_FIX_RUNS_CUT,
        )
    return dataclasses.replace(
        facts,
        newer=tuple(read[past.run_id] for past in newer) if runs_answer.reached_this_run else None,
        newer_unreached=not runs_answer.reached_this_run,
        earlier=(
            tuple(read[past.run_id] for past in earlier)
            if runs_answer.reached_earlier and not uncounted
            else None
        ),
        unavailable=facts.unavailable or problem or cut,
        skipped_for_budget=skipped,
    )


def streak_decided(
    earlier: list[PastRun], streak: int, read: dict[int, OtherRun], unit: Unit, cancelled_fails: bool
) -> bool:
    """Whether the earlier runs read decide the streak: enough of them failed before any other outcome,
    or one passed (or could not be read) first. An undecided run before that leaves it open."""
    for failed, past in enumerate(earlier, start=1):
        result = read[past.run_id].outcome(unit, cancelled_fails=cancelled_fails)
        if result is None:
            return False
        if result != "failed" or failed >= streak:
            return True
    return True  # no more earlier runs: the streak is what it is


def read_earlier(
    api: GitHubApi,
    repository: str,
    earlier: list[PastRun],
    *,
    streak: int,
    unit: Unit,
    cancelled_fails: bool,
    read: dict[int, OtherRun],
    problem: GitHubUnavailable | None,
) -> tuple[list[PastRun], GitHubUnavailable | None]:
    """The earlier runs the streak looks through, read in batches: first as many as it needs (`streak`,
    already in `read`), then one more for each that did not decide, until the streak has what it needs,
    a run passed, or none are left. A streak of 3 over two failed runs costs two reads, not twelve."""
    looked = min(streak, len(earlier))
    while problem is None and looked < len(earlier):
        failed = 0
        for past in earlier[:looked]:
            result = read[past.run_id].outcome(unit, cancelled_fails=cancelled_fails)
            if result in ("passed", "unknown"):
                return earlier[:looked], None
            failed += result == "failed"
        if failed >= streak:
            break
        batch = earlier[looked : looked + streak - failed]
        more, problem = read_other_runs(api, repository, batch, unit, cancelled_fails)
        read.update(more)
        looked += len(batch)
    return earlier[:looked], problem


def read_other_runs(
    api: GitHubApi, repository: str, runs: list[PastRun], unit: Unit, cancelled_fails: bool
) -> tuple[dict[int, OtherRun], GitHubUnavailable | None]:
    """Each run's latest attempt's jobs, side by side; then, for each run whose latest attempt has not
    decided and that has an attempt before it, that attempt's jobs, and so on, a few attempts at most: a
    re-run never erases a failure nor a pass before it has shown another. What was read before GitHub
    failed to answer is kept; the runs it left undecided are `unread`."""
    read = {past.run_id: OtherRun(past, unread=True) for past in runs}
    if not runs:
        return read, None
    try:
        latest = api.jobs_of_runs(repository, [past.run_id for past in runs])
    except GitHubUnavailable as exc:
        return read, exc
    read = {past.run_id: OtherRun(past, (tuple(latest.get(past.run_id, ())),)) for past in runs}
    for back in range(1, MAX_ATTEMPTS_BACK + 1):
        wanted = [
            (past.run_id, attempt)
            for past in runs
            if (attempt := (past.run_attempt or 1) - back) >= 1
            and read[past.run_id].outcome(unit, cancelled_fails=cancelled_fails) is None
        ]
        if not wanted:
            break
        try:
            attempts = api.jobs_of_attempts(repository, wanted)
        except GitHubUnavailable as exc:
            for run_id, _attempt in wanted:
                read[run_id] = dataclasses.replace(read[run_id], unread=True)
            return read, exc
        for run_id, attempt in wanted:
            before = (*read[run_id].attempts, tuple(attempts[run_id, attempt]))
            read[run_id] = dataclasses.replace(read[run_id], attempts=before)
    return read, None


@dataclass(frozen=True)
class Listed:
    """The workflow's runs with the same origin as this one, as far as they were read: GitHub promises no
    order, so pages are read until they hold this run and the earlier runs the streak needs, within
    MAX_RUN_PAGES. Where the bound came first, `reached` says what they did not reach."""

    runs: list[PastRun]
    reached_this_run: bool = True  # else newer runs may lie beyond: a resolve is not judged on them
    reached_earlier: bool = True  # else the streak cannot be counted


def runs_like(api: GitHubApi, run: WorkflowRun, run_id: int, earlier: int) -> Listed:
    """The runs of the same workflow with the same origin, finished or not, in GitHub's order."""
    workflow = run.api_workflow or api.workflow_of_run(run.repository, run_id)
    origin = run.origin
    branch = origin.name if origin.kind in ("branch", "fork") else None  # narrows GitHub's answer
    number = run.run_number or 0

    def this_run_seen(runs: list[PastRun]) -> bool:
        return any(past.run_id == run_id for past in runs)

    def earlier_seen(runs: list[PastRun]) -> int:
        return sum(1 for past in runs if same_origin(past, run) and 0 < (past.run_number or 0) < number)

    def enough(runs: list[PastRun]) -> bool:
        return this_run_seen(runs) and earlier_seen(runs) >= max(earlier, 1)

    runs, complete = api.runs_of_workflow(
        run.repository, workflow, branch, HISTORY_PAGE, enough=enough, pages=MAX_RUN_PAGES
    )
    return Listed(
        [past for past in runs if same_origin(past, run)],
        reached_this_run=complete or this_run_seen(runs),
        reached_earlier=complete or earlier_seen(runs) >= earlier,
    )


def same_origin(past: PastRun, run: WorkflowRun) -> bool:
    """Placed by the same function as a watched run, so a fork's `main` is never taken for ours."""
    theirs = origin_of_actions_run(past.event, past.head_branch, past.head_repository, run.repository)
    ours = run.origin
    return (theirs.kind, theirs.name, (theirs.owner or "").lower()) == (
        ours.kind,
        ours.name,
        (ours.owner or "").lower(),
    )


def current_job(
    jobs: tuple[Job, ...],
    check_run_id: int | None,
    runner_name: str | None,
    job_id: str | None,
    *,
    matrix: dict[str, Any] | None = None,
    job_status: str | None = None,
) -> Job | None:
    """The job running this action, or None where nothing tells it apart:
    1. by its id (`job.check_run_id`) where given;
    2. else the unfinished one on this runner (RUNNER_NAME);
    3. else the one named as GitHub names it from its id: `test`, or a matrix leg's `test (3.12, ubuntu)`;
    4. else, in a called workflow (`<caller job> / <called job>`), the one leg of it in progress (the step
       runs in an in-progress job), or the one in progress whose steps agree with this job's status (a
       failed step, or none).
    act sets no check run id nor runner name, nor does an older GitHub Enterprise Server set the id."""
    if check_run_id is not None:
        exact = [job for job in jobs if job.id == check_run_id]
        if exact:
            return exact[0]
    if runner_name:
        mine = [job for job in jobs if not job.completed and job.runner_name == runner_name]
        if len(mine) == 1:
            return mine[0]
    if not job_id:
        return None
    leg = leg_name(job_id, matrix) if matrix else None
    names = {job_id, *([leg] if leg else [])}
    named = [job for job in jobs if job.name in names]
    if len(named) == 1:
        return named[0]
    legs = [job for job in jobs if job.name.endswith(f" / {job_id}") and job.status == "in_progress"]
    if len(legs) > 1 and job_status in ("success", "failure"):
        legs = [job for job in legs if bool(job.failed_steps) == (job_status == "failure")]
    return legs[0] if len(legs) == 1 else None


def leg_name(job_id: str, matrix: dict[str, Any]) -> str | None:
    """A matrix leg's name in GitHub's API, for a job without a `name:` of its own: its id, then its matrix
    values in the matrix's order (`test (3.12, ubuntu-latest)`); None where a value is not a plain one."""
    values = list(matrix.values())
    if not all(isinstance(value, str | int | float) for value in values):
        return None
    return f"{job_id} ({', '.join(str(value) for value in values)})"


def place_watched_tag(run: WorkflowRun | None, github: GitHub) -> tuple[WorkflowRun | None, str | None]:
    """A watched workflow run placed as a tag's run where its head branch is a tag of this repository
    pointing at its commit (a `workflow_run` payload has no ref type: its head branch holds the tag's
    name). Returns the run, and why GitHub could not tell where it could not (the run is then placed by
    the branch rules)."""
    if (
        run is None
        or run.watched is None
        or run.watched.kind != "workflow_run"
        or run.origin.kind != "branch"
        or run.event_name in BRANCH_ONLY_EVENTS
        or not run.origin.name
        or run.origin.name == run.default_branch  # one request a run saved: nobody tags `main`
        or run.sha is None
    ):
        return run, None
    api = github.api
    if api is None:
        return run, messages.GITHUB_NOT_GIVEN
    try:
        commit = api.tag_commit(run.repository, run.origin.name)
    except GitHubUnavailable as exc:
        return run, str(exc)
    return (as_tag_run(run) if commit == run.sha else run), None


def read_errors(
    github: GitHub, repository: str, failed_jobs: tuple[FailedJob, ...]
) -> tuple[tuple[FailedJob, ...], GitHubUnavailable | None]:
    """The failed jobs with their error messages, read for the first few completed ones.

    The runner hands a job's annotations to GitHub when the job completes, so a job still running (the
    one alerting, in the step's own job) has none to read yet, and nothing is said about it.
    """
    readable = [job.id for job in failed_jobs if job.completed and job.id is not None][:MAX_JOBS_WITH_ERRORS]
    api = github.api
    if api is None or not readable:
        return failed_jobs, None
    try:
        annotations = api.annotations_of_jobs(repository, readable)
    except GitHubUnavailable as exc:
        return failed_jobs, exc
    return tuple(
        job.with_errors(error_messages(annotations.get(job.id, []))) if job.id is not None else job
        for job in failed_jobs
    ), None
