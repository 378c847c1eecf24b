"""What GitHub says about this job, gathered once, through one client with one time budget.

- the jobs of the run's attempt (the current run's, or the watched run's): this very job, its steps and
  its full name, and the run's other jobs;
- the workflow's other runs with the same origin, finished or not, each with its jobs where one job is
  compared, so that each can be judged by how that job ended in it;
- whether a watched run's head branch is a tag of this repository;
- the failed jobs' error messages (their check runs' annotations), read only for a firing alert;
- what each cancel was (cancels.py), said once for every cancelled job read: by the cancelled jobs'
  annotations where they are written (a notify job, a watcher), else by timing against the job's
  `timeout-minutes`, read from the workflow file that defines it (`Definitions`, at most once a step, and
  only where a cancel or a failure of this job needs it: from the workspace where it holds that commit, else
  from GitHub's API); and whether this job is allowed to fail (its `continue-on-error`).

Nothing is decided here: verdict.py decides from these facts. GitHub's API only adds detail, so the first
call it cannot answer ends the gathering, what was read before is kept, and `Facts.unavailable` says why.
The HTTP stack is loaded only when a call is made.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal

from entrypoint import cancels, messages
from entrypoint.failures import FailedJob
from entrypoint.github_data import Annotation, GitHubUnavailable, Job, Outcome, PastRun, Unit, judge, settled
from entrypoint.settings import Settings
from entrypoint.workflow_file import (
    FileAt,
    JobDefinition,
    Limit,
    NotAWorkflow,
    allowed_to_fail,
    definition_of,
    leg_matrix,
    parse,
    read_from_workspace,
    time_limit,
)
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
# The error messages read: of the first few completed failed jobs. As many cancelled jobs' annotations.
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

    def outcome(self, unit: Unit) -> Outcome | Literal["unknown"]:
        """How it went for the unit: by its latest attempt that decided; "unknown" where the jobs that
        would tell could not be read."""
        for jobs in self.attempts:
            if (result := judge(jobs, unit)) is not None:
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
    # This job's own continue-on-error, for this leg: True, False, or None where it could not be told.
    allowed_to_fail: bool | None = None
    definition_problem: str | None = None  # why the job's workflow file could not be read, where it could not
    # The check run annotations already read (cancelled jobs'), by job id: not asked for again.
    annotations: Mapping[int, tuple[Annotation, ...]] = dataclasses.field(default_factory=dict)


class Definitions:
    """The workflow file that defines the jobs, read at most once, when a cancel or a failure first needs
    it: from the workspace where its checkout is that very commit (no request), else from GitHub's API
    (one request, `contents: read`). `problem` says why it could not be read."""

    def __init__(self, api: GitHubApi | None, where: FileAt | None, repository: str, workspace: str | None):
        self._api = api
        self.where = where
        self._repository = repository
        self._workspace = workspace
        self._jobs: dict[str, JobDefinition] | None = None
        self._read = False
        self.problem: str | None = None

    def jobs(self) -> dict[str, JobDefinition] | None:
        if not self._read:
            self._read = True
            self._jobs = self._load()
        return self._jobs

    def _load(self) -> dict[str, JobDefinition] | None:
        where = self.where
        if where is None:
            self.problem = messages.DEFINITION_UNKNOWN
            return None
        text = read_from_workspace(self._workspace, where, self._repository)
        if text is None:
            if self._api is None:
                self.problem = messages.DEFINITION_WITHOUT_GITHUB.format(file=where)
                return None
            try:
                text = self._api.file_text(where.repository, where.path, where.sha)
            except GitHubUnavailable as exc:
                self.problem = messages.DEFINITION_UNREAD.format(file=where, reason=exc)
                return None
        try:
            return parse(text)
        except NotAWorkflow as exc:
            self.problem = messages.DEFINITION_UNREADABLE.format(file=where, reason=exc)
            return None

    def _definition(self, job_id: str | None, api_name: str | None) -> JobDefinition | str:
        jobs = self.jobs()
        if jobs is None:
            return self.problem or messages.DEFINITION_UNKNOWN
        found = definition_of(jobs, job_id, api_name)
        return found if found is not None else messages.DEFINITION_NO_JOB.format(file=self.where)

    def limit(self, job_id: str | None, api_name: str | None, matrix: dict[str, Any] | None) -> Limit:
        """A job's timeout-minutes: this job's by its id and matrix; another's by its name in the API."""
        found = self._definition(job_id, api_name)
        if isinstance(found, str):
            return Limit(None, found)
        if matrix is None and api_name:
            matrix = leg_matrix(found, api_name)
        return time_limit(found, matrix)

    def allowed_to_fail(
        self, job_id: str | None, api_name: str | None, matrix: dict[str, Any] | None
    ) -> bool | None:
        found = self._definition(job_id, api_name)
        return None if isinstance(found, str) else allowed_to_fail(found, matrix)


class Cancels:
    """Says once what each cancelled job's cancel was (cancels.classify), with the evidence this step has."""

    def __init__(self, settings: Settings, run: WorkflowRun, definitions: Definitions) -> None:
        self.policy: cancels.CancelPolicy = settings.on_cancelled
        self._settings = settings
        self._run = run
        self.definitions = definitions
        self.annotations: dict[int, tuple[Annotation, ...]] = {}  # what was read, by job id

    def this_attempt(
        self,
        api: GitHubApi,
        jobs: tuple[Job, ...],
        this_job: Job | None,
        newer_run: int | None,
    ) -> tuple[tuple[Job, ...], Job | None]:
        """The run's jobs with their cancels said: this job's, while its own always() step runs (by timing:
        its annotations are written only once it completes); and, for a notify job or a watcher, each
        ended cancelled job's, by its annotations (a few, side by side) where GitHub gives them, else (no
        `checks: read`) by timing too: what could not be told is said by the verdict's own warning."""
        if self.policy == "skip":
            return jobs, this_job
        said: dict[int, Job] = {}
        settings, run = self._settings, self._run
        if (
            this_job is not None
            and settings.job_status == "cancelled"
            and run.watched is None
            and settings.needs is None
        ):
            said[id(this_job)] = self._said(
                this_job,
                jobs,
                job_id=run.job,
                matrix=settings.matrix,
                newer_run=newer_run,
                cancelled_at=_this_step_start(this_job),
            )
        if _cancel_decides(settings, run):
            ended = [job for job in jobs if job.conclusion == "cancelled" and not job.failed_steps]
            annotations: dict[int, list[Annotation]] = {}
            readable = [job.id for job in ended if job.id is not None][:MAX_JOBS_WITH_ERRORS]
            if self.policy == "timeout" and readable:
                with contextlib.suppress(GitHubUnavailable):
                    annotations = api.annotations_of_jobs(run.repository, readable)
            self.annotations |= {job_id: tuple(found) for job_id, found in annotations.items()}
            for job in ended:
                found = annotations.get(job.id) if job.id is not None else None
                said[id(job)] = self._said(job, jobs, annotations=tuple(found) if found is not None else None)
        jobs = tuple(said.get(id(job), job) for job in jobs)
        return jobs, said.get(id(this_job), this_job) if this_job is not None else None

    def other_run(self, jobs: tuple[Job, ...], unit: Unit) -> tuple[Job, ...]:
        """Another run's jobs with their cancels said by timing alone (no request but, at most once a step,
        the workflow file): the unit's job, or every job where the unit is the run."""
        if self.policy == "skip":
            return jobs
        settings, run = self._settings, self._run

        def said(job: Job) -> Job:
            if job.conclusion != "cancelled" or job.failed_steps:
                return job
            if unit.job is not None and job.name != unit.job:
                return job
            if unit.job is not None:  # this very job, in another run: the same leg
                return self._said(job, jobs, job_id=run.job, matrix=settings.matrix)
            return self._said(job, jobs)

        return tuple(said(job) for job in jobs)

    def _said(
        self,
        job: Job,
        jobs: tuple[Job, ...],
        *,
        job_id: str | None = None,
        matrix: dict[str, Any] | None = None,
        annotations: tuple[Annotation, ...] | None = None,
        newer_run: int | None = None,
        cancelled_at: datetime | None = None,
    ) -> Job:
        evidence = cancels.Evidence(
            annotations=annotations,
            hosted=_hosted(job, self._run),
            failed_leg=cancels.failed_leg(jobs, job),
            newer_run=newer_run,
            cancelled_at=cancelled_at,
        )
        if self.policy == "timeout" and not cancels.said_by_annotations(annotations):
            evidence = dataclasses.replace(evidence, limit=self.definitions.limit(job_id, job.name, matrix))
        return dataclasses.replace(job, cancel=cancels.classify(job, self.policy, evidence))


def _cancel_decides(settings: Settings, run: WorkflowRun) -> bool:
    """Whether the run's ended cancels decide what is sent: a watched run that concluded cancelled, or a
    notify job with a needed job cancelled or skipped (perhaps behind a cancelled one: needs lists direct
    dependencies only). A failed run fires whatever its cancelled legs were."""
    if run.watched is not None:
        return run.watched.conclusion == "cancelled"
    return settings.needs is not None and bool({"cancelled", "skipped"} & set(settings.needs.values()))


def _this_step_start(job: Job) -> datetime:
    """When the alert step started (the job's step still in progress), just after the cancel; else now."""
    running = [step.started_at for step in job.steps if step.status == "in_progress" and step.started_at]
    return max(running) if running else datetime.now(UTC)


def _hosted(job: Job, run: WorkflowRun) -> bool | None:
    """Whether the job ran on a GitHub-hosted runner: by its labels, or for this job, RUNNER_ENVIRONMENT."""
    if job.labels:
        return "self-hosted" not in job.labels
    if run.runner_environment:
        return run.runner_environment == "github-hosted"
    return None


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
    listed = runs_answer if isinstance(runs_answer, Listed) else None
    ordered = sorted(
        (past for past in (listed.runs if listed else []) if past.run_id != run_id),
        key=attrgetter("order"),
        reverse=True,
    )
    number = run.run_number or 0
    newer = [past for past in ordered if (past.run_number or 0) > number][:MAX_NEWER_RUNS]
    where = (settings.job_workflow if run.watched is None else None) or run.definition
    definitions = Definitions(api, where, run.repository, run.workspace)
    judged = Cancels(settings, run, definitions)
    if jobs is not None:
        next_run = min((past.run_number for past in newer if past.run_number), default=None)
        jobs, this_job = judged.this_attempt(api, jobs, this_job, next_run)
    unit = unit_of(settings, run, this_job)
    facts = Facts(
        jobs,
        this_job,
        unit,
        unavailable=unavailable,
        api_url=api.base_url,
        allowed_to_fail=_allowed_to_fail(settings, run, this_job, definitions),
        annotations=judged.annotations,
    )
    if listed is None or run.run_number is None:
        return dataclasses.replace(facts, definition_problem=definitions.problem)
    earlier = [past for past in ordered if (past.run_number or 0) < run.run_number][: wanted.earlier]
    skipped: tuple[str, ...] = ()
    uncounted = False
    if api.short_of_budget and len(earlier) > wanted.streak:
        earlier = earlier[: wanted.streak]  # no undecided run passed over: only what the streak needs
        skipped = (messages.BUDGET_SKIPPED_STREAK.format(streak=wanted.streak),)
    first = newer + earlier[: wanted.streak]

    def classify(other_jobs: tuple[Job, ...]) -> tuple[Job, ...]:
        return judged.other_run(other_jobs, unit)

    read, problem = read_other_runs(api, run.repository, first, unit, classify)
    earlier, problem = read_earlier(
        api,
        run.repository,
        earlier,
        streak=wanted.streak,
        unit=unit,
        classify=classify,
        read=read,
        problem=problem,
    )
    if skipped and not streak_decided(earlier, wanted.streak, read, unit):
        # The budget stopped the streak short of the runs that would decide it: it is not counted, and
        # the failure fires rather than being held back on a count left unfinished.
        skipped = (messages.BUDGET_SKIPPED_STREAK_UNCOUNTED.format(streak=wanted.streak),)
        uncounted = True
    cut = None
    if not (listed.reached_this_run and listed.reached_earlier):
        what = messages.RUNS_CUT_NEWER if not listed.reached_this_run else messages.RUNS_CUT_EARLIER
        cut = GitHubUnavailable(
            messages.RUNS_CUT.format(runs=MAX_RUN_PAGES * HISTORY_PAGE, what=what),
            messages.GITHUB_FIX_RUNS_CUT,
        )
    return dataclasses.replace(
        facts,
        newer=tuple(read[past.run_id] for past in newer) if listed.reached_this_run else None,
        newer_unreached=not listed.reached_this_run,
        earlier=(
            tuple(read[past.run_id] for past in earlier) if listed.reached_earlier and not uncounted else None
        ),
        unavailable=facts.unavailable or problem or cut,
        skipped_for_budget=skipped,
        definition_problem=definitions.problem,
    )


def _allowed_to_fail(
    settings: Settings, run: WorkflowRun, this_job: Job | None, definitions: Definitions
) -> bool | None:
    """Where this job failed and its status decides: whether its own continue-on-error lets it (for this
    leg); the workflow file is read for it only then."""
    if settings.status != "auto" or settings.job_status != "failure" or run.watched or settings.needs:
        return None
    return definitions.allowed_to_fail(run.job, this_job.name if this_job else None, settings.matrix)


def streak_decided(earlier: list[PastRun], streak: int, read: dict[int, OtherRun], unit: Unit) -> bool:
    """Whether the earlier runs read decide the streak: enough of them failed before any other outcome,
    or one passed (or could not be read) first. An undecided run before that leaves it open."""
    for failed, past in enumerate(earlier, start=1):
        result = read[past.run_id].outcome(unit)
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
    classify: Callable[[tuple[Job, ...]], tuple[Job, ...]],
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
            result = read[past.run_id].outcome(unit)
            if result in ("passed", "unknown"):
                return earlier[:looked], None
            failed += result == "failed"
        if failed >= streak:
            break
        batch = earlier[looked : looked + streak - failed]
        more, problem = read_other_runs(api, repository, batch, unit, classify)
        read.update(more)
        looked += len(batch)
    return earlier[:looked], problem


def read_other_runs(
    api: GitHubApi,
    repository: str,
    runs: list[PastRun],
    unit: Unit,
    classify: Callable[[tuple[Job, ...]], tuple[Job, ...]],
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
    read = {past.run_id: OtherRun(past, (classify(tuple(latest.get(past.run_id, ()))),)) for past in runs}
    for back in range(1, MAX_ATTEMPTS_BACK + 1):
        wanted = [
            (past.run_id, attempt)
            for past in runs
            if (attempt := (past.run_attempt or 1) - back) >= 1 and read[past.run_id].outcome(unit) is None
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
            before = (*read[run_id].attempts, classify(tuple(attempts[run_id, attempt])))
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
    github: GitHub,
    repository: str,
    failed_jobs: tuple[FailedJob, ...],
    known: Mapping[int, tuple[Annotation, ...]] | None = None,
) -> tuple[tuple[FailedJob, ...], GitHubUnavailable | None]:
    """The failed jobs with their error messages (and whether a runner was lost), read for the first few
    completed ones; `known`: annotations already read (a cancelled job's), not asked for again.

    The runner hands a job's annotations to GitHub when the job completes, so a job still running (the
    one alerting, in the step's own job) has none to read yet, and nothing is said about it.
    """
    known = known or {}
    readable = [job.id for job in failed_jobs if job.completed and job.id is not None][:MAX_JOBS_WITH_ERRORS]
    unread = [job_id for job_id in readable if job_id not in known]
    api = github.api
    annotations: dict[int, list[Annotation]] = {job_id: list(found) for job_id, found in known.items()}
    if api is not None and unread:
        try:
            annotations |= api.annotations_of_jobs(repository, unread)
        except GitHubUnavailable as exc:
            return failed_jobs, exc
    return tuple(
        job.with_annotations(annotations[job.id]) if job.id is not None and job.id in annotations else job
        for job in failed_jobs
    ), None
