"""The action from start to end: environment → settings → run → facts → verdict → alert → delivery → outputs.

`run()` returns the exit code. Every outcome, good or bad, leaves the same set of outputs and one job
summary section (outcome.py); a delivery failure becomes an annotation and an exit code in one place
(delivery.py). The HTTP stack is imported only where something is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from entrypoint import facts, messages, verdict
from entrypoint.alert import AlertTooLarge, build_alert, deduplication_key
from entrypoint.failures import Failures, find_failed_jobs
from entrypoint.github_data import GitHubUnavailable
from entrypoint.outcome import EXIT_INVALID_INPUT, EXIT_OK, Outcome, finish
from entrypoint.runner import Runner
from entrypoint.scope import misspelt_default_branch, out_of_scope, withheld_secrets
from entrypoint.settings import (
    InvalidSettings,
    Problem,
    Settings,
    dry_run_by_default,
    has_with_block,
    ignored_variables,
    ignored_warning,
    in_input_order,
    missing_required,
    misspelt_dry_run,
    read_settings,
    secret_values,
    unknown_variables,
    unused_with_status,
)
from entrypoint.workflow_run import WorkflowRun, read_workflow_run


@dataclass(frozen=True)
class Given:
    """What the step was given: its settings (the valid ones, where some are not), what is wrong with
    them, the workflow run, whether the inputs came through action.yml's `with:`, and whether dry-run is
    true only because act runs the workflow locally."""

    settings: Settings
    problems: list[Problem]
    run: WorkflowRun | None
    with_block: bool
    dry_run_by_default: bool = False


def read_given(environ: Mapping[str, str], runner: Runner) -> Given:
    """Masks the secrets before anything is printed, warns about misspelt variables, reads the settings
    and the workflow run."""
    # Before anything else is printed: a token that came from a plain variable is not masked yet.
    for secret in secret_values(environ):
        runner.add_mask(secret)
    if ignored := ignored_warning(ignored_variables(environ)):
        runner.warning(ignored, title=messages.VARIABLES_IGNORED_TITLE)
    unknown = unknown_variables(environ)
    for variable in unknown:  # a typo'd variable is a mistake too: say so first
        if not variable.misspells_dry_run:  # that one is an error, below
            runner.warning(str(variable), title=messages.UNKNOWN_VARIABLE_TITLE)
    problems: list[Problem] = []
    try:
        settings = read_settings(environ)
    except InvalidSettings as exc:
        settings, problems = exc.partial, list(exc.problems)
    problems += filter(None, [misspelt_dry_run(unknown)])
    if unused := unused_with_status(settings):
        runner.warning(unused, title=messages.INPUTS_TITLE)
    reading = read_workflow_run(environ, runner.debug)
    for warning in reading.warnings:
        runner.warning(warning)
    return Given(settings, problems, reading.run, has_with_block(environ), dry_run_by_default(environ))


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
        reason = f"{skip_reason} {typo}" if typo else skip_reason
        return _skip(runner, reason, key, settings, loud=typo is not None)
    if typo:
        runner.warning(typo, title=messages.BRANCHES_TITLE)

    decided, failures, known = _decide(settings, workflow_run, github, runner)
    key = deduplication_key(settings, workflow_run, known.this_job)
    if decided.status is None:  # a warning where it may be a page missed (a cancel not told apart)
        return _skip(runner, decided.reason, key, settings, loud=decided.loud)
    if settings.heartbeat_only:
        return _heartbeat_only(settings, decided.status, key, runner, given.dry_run_by_default)
    if settings.title is not None and len(lines := settings.title.splitlines()) > 1:
        runner.notice(messages.TITLE_CUT.format(lines=len(lines)))
    try:
        built = build_alert(settings, workflow_run, decided, failures, known.this_job)
    except AlertTooLarge as exc:
        runner.error(str(exc), title=messages.INVALID_SETTINGS_TITLE)
        too_large = Outcome(message=str(exc), error=str(exc), headline="❌ Alert too large, nothing sent")
        return finish(runner, too_large, EXIT_INVALID_INPUT)

    # Text from outside (an error message, a commit) is data: it must not carry a secret onward.
    alert = built.redacted(runner.redact)
    payload = json.dumps(alert.body(), ensure_ascii=False, indent=2, allow_nan=False)
    outcome = Outcome(
        status=alert.status,
        deduplication_key=alert.deduplication_key,
        payload=payload,
        title=alert.title,
        link=alert.source_url or "",
        failed_jobs=", ".join(job.name for job in (failures.failed_jobs or ())),
        heartbeat="skipped" if settings.pings else None,
    )
    runner.info(f"Alert status: {alert.status} ({alert.why}).")
    runner.info("Deduplication key and title:")
    runner.untrusted(f"  {alert.deduplication_key}\n  {alert.title}")
    with runner.group("Alert event body"):
        runner.untrusted(payload)
    # A green run pings the heartbeat, whether or not its resolve arrived: the job itself is alive.
    pings = settings.pings and alert.status == "resolved"

    if settings.dry_run:
        dry_run = messages.DRY_RUN_UNDER_ACT if given.dry_run_by_default else messages.DRY_RUN_MESSAGE
        runner.notice(dry_run, title=messages.DRY_RUN_TITLE)
        if pings:
            runner.notice(messages.DRY_RUN_PING.format(host=settings.api_host))
        outcome.message = dry_run
        outcome.headline = "🧪 Dry run, nothing sent"
        return finish(runner, outcome, EXIT_OK)

    # Imported here: runs that send nothing (a skip, an invalid input) load no HTTP stack.
    from entrypoint.delivery import deliver_alert, ping_heartbeat  # noqa: PLC0415

    code = deliver_alert(settings, alert, runner, outcome)
    if pings:
        code = max(code, ping_heartbeat(settings, runner, outcome))
    return finish(runner, outcome, code)


def _decide(
    settings: Settings, run: WorkflowRun | None, github: facts.GitHub, runner: Runner
) -> tuple[verdict.Verdict, Failures, facts.Facts]:
    """What GitHub says about this job, what the rules decide from it, and, for a firing alert, what
    broke; with one warning where GitHub's API could not say everything."""
    known = facts.gather(settings, run, verdict.wanted(settings, run), github)
    if not_found := _job_not_found(settings, run, known, runner.is_act):
        runner.warning(not_found, title=messages.GITHUB_API_TITLE)
    decided = verdict.decide(settings, run, known)
    failures, missing, errors_warning = Failures(), list(decided.missing), None
    if decided.status == "firing" and run is not None:
        failures, left_out, errors_warning = _what_failed(run, known, github, runner.is_act)
        missing = left_out + missing
    for github_warning in (_github_warning(known, missing, runner.is_act), errors_warning):
        if github_warning:
            runner.warning(github_warning, title=messages.GITHUB_API_TITLE)
    if short := _budget_notice(github, (*known.skipped_for_budget, *failures.skipped_for_budget)):
        runner.notice(short, title=messages.BUDGET_TITLE)
    return decided, failures, known


def _budget_notice(github: facts.GitHub, skipped: tuple[str, ...]) -> str | None:
    """One notice for everything left unread to spare the repository's rate limit."""
    api = github.api if skipped else None
    if api is None or api.rate_limit is None:
        return None
    return messages.BUDGET_LOW.format(
        remaining=api.rate_remaining, limit=api.rate_limit, skipped=" and ".join(skipped)
    )


def _job_not_found(
    settings: Settings, run: WorkflowRun | None, known: facts.Facts, is_act: bool
) -> str | None:
    """A warning, on every run, where GitHub's API listed the run's jobs and none could be told to be this
    one: its key, its failed steps and how the other runs are judged depend on it. (A watcher and a notify
    job are about other jobs.)"""
    if known.jobs is None or known.this_job is not None or run is None or run.watched is not None:
        return None
    if settings.needs is not None:
        return None
    if settings.check_run_id is not None:
        why = f"no job has the check-run-id {settings.check_run_id}"
    else:
        why = "check-run-id is empty, and neither the runner's name nor the job's name tells it"
    fix = messages.JOB_NOT_FOUND_FIX_ACT if is_act else messages.JOB_NOT_FOUND_FIX
    return messages.JOB_NOT_FOUND.format(why=why, fix=fix)


def _heartbeat_only(settings: Settings, status: str, key: str, runner: Runner, by_default: bool) -> int:
    """No alert source, a heartbeat: a green run pings it; a failed run sends nothing, and the heartbeat's
    silence pages."""
    if status != "resolved":
        return _skip(runner, messages.HEARTBEAT_ONLY_FAILED, key, settings)
    outcome = Outcome(status="skipped", deduplication_key=key, heartbeat="skipped", headline="💓 Heartbeat")
    if settings.dry_run:
        message = messages.DRY_RUN_PING.format(host=settings.api_host)
        if by_default:
            message = f"{message} {messages.DRY_RUN_UNDER_ACT}"
        runner.notice(message, title=messages.DRY_RUN_TITLE)
        outcome.message = message
        return finish(runner, outcome, EXIT_OK)
    from entrypoint.delivery import ping_heartbeat  # noqa: PLC0415 - as above

    code = ping_heartbeat(settings, runner, outcome)
    outcome.message = messages.HEARTBEAT_ONLY_PINGED if outcome.heartbeat == "sent" else outcome.error
    return finish(runner, outcome, code)


def _what_failed(
    run: WorkflowRun, known: facts.Facts, github: facts.GitHub, is_act: bool
) -> tuple[Failures, list[str], str | None]:
    """A firing alert's failed jobs with their error messages; what the GitHub warning must add that
    they leave out; and a warning of its own where only the error messages could not be read."""
    if known.jobs is None:
        return Failures(), [messages.GITHUB_MISSING_JOBS] if known.unavailable else [], None
    failed = find_failed_jobs(known.jobs, datetime.now(UTC))
    if known.unavailable is not None:  # no further call once GitHub could not answer
        unread_errors = any(job.completed for job in failed)
        return Failures(failed), [messages.GITHUB_MISSING_ERRORS] if unread_errors else [], None
    api = github.api
    if api is not None and api.short_of_budget and any(job.completed for job in failed):
        # Detail only: the rate limit is the repository's, and its other workflows need it more.
        return Failures(failed, skipped_for_budget=(messages.BUDGET_SKIPPED_ERRORS,)), [], None
    failed, unread = facts.read_errors(github, run.repository, failed, known.annotations)
    return Failures(failed), [], _errors_warning(unread, known.api_url, is_act)


def _errors_warning(unread: GitHubUnavailable | None, api_url: str | None, is_act: bool) -> str | None:
    if unread is None:
        return None
    if unread.status in (403, 404) and not is_act:  # the token lacks `checks: read`, not `actions: read`
        return messages.GITHUB_ERRORS_FORBIDDEN.format(base_url=api_url, status=unread.status)
    fix = _fix(unread, is_act)
    return messages.github_warning(str(unread), fix, [messages.GITHUB_MISSING_ERRORS], api_url)


def _github_warning(known: facts.Facts, missing: list[str], is_act: bool) -> str | None:
    """The one warning about GitHub's API: why it could not help, and what that left out."""
    problem = known.unavailable
    if problem is None:
        return None
    return messages.github_warning(str(problem), _fix(problem, is_act), missing, known.api_url)


def _fix(problem: GitHubUnavailable, is_act: bool) -> str:
    """What to do about it. Under act, advice about the job's token and permissions cannot apply: the
    token's default is empty there, and GitHub's API knows nothing of a local run."""
    about_the_token = problem.fix in (messages.GITHUB_FIX_UNAUTHORIZED, messages.GITHUB_FIX_PERMISSION)
    return messages.GITHUB_FIX_UNDER_ACT if is_act and about_the_token else problem.fix


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
    return finish(runner, outcome, EXIT_INVALID_INPUT, details=[str(problem) for problem in problems])


def _skip(runner: Runner, reason: str, key: str, settings: Settings, *, loud: bool = False) -> int:
    """Nothing is sent on purpose: one notice says why (a warning where it may be a mistake that silences
    alerts), and the step succeeds."""
    annotate = runner.warning if loud else runner.notice
    annotate(reason, title=messages.SKIPPED_NOTICE_TITLE)
    heartbeat = "skipped" if settings.pings else None
    skipped = Outcome(status="skipped", message=reason, deduplication_key=key, heartbeat=heartbeat)
    skipped.headline = "⏭️ Nothing sent"
    return finish(runner, skipped, EXIT_OK)
