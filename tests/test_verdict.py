"""The status rules as a table: each row is the settings, what GitHub's API said, and what is sent.

verdict.decide is a pure function of the settings, the run and GitHub's facts, so each rule can be
shown on its own here; tests/test_across_runs.py and tests/test_layouts.py run the same rules as
processes, with GitHub's stand-in answering.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from entrypoint import messages
from entrypoint.facts import Facts, OtherRun
from entrypoint.github_data import Cancel, Job, PastRun, Step, Unit
from entrypoint.settings import Settings
from entrypoint.verdict import Verdict, decide, wanted
from entrypoint.workflow_run import Origin, Watched, WorkflowRun

RUN = WorkflowRun(
    "https://github.com", "o/r", "CI", "test", "refs/heads/main", "main", "push", 5, 17, 1,
    "https://github.com/o/r/actions/runs/5", "me", None, None, origin=Origin("branch", "main"),
)  # fmt: skip


def this(*steps: Step) -> Job:
    return Job(1, "test", "in_progress", None, None, "runner", steps)


def done(name: str, conclusion: str, *steps: Step) -> Job:
    return Job(None, name, "completed", conclusion, None, None, steps)


FAILED = Step("pytest", "completed", "failure")


def other(number: int, *jobs: Job, status: str = "completed", conclusion: str | None = None) -> OtherRun:
    """Another run with one attempt, whose jobs are these."""
    return OtherRun(PastRun(number, conclusion, run_number=number, status=status), (jobs,))


def re_run(number: int, *attempts: tuple[Job, ...]) -> OtherRun:
    """A run being re-run: its attempts' jobs, newest first, as GitHub gave them."""
    return OtherRun(PastRun(number, None, run_number=number, status="in_progress"), attempts)


UNREAD = OtherRun(PastRun(18, None, run_number=18, status="in_progress"), unread=True)
TEST = Unit(job="test")


def facts(
    *,
    jobs: tuple[Job, ...] = (this(),),
    newer: tuple[OtherRun, ...] = (),
    earlier: tuple[OtherRun, ...] = (),
    unit: Unit = TEST,
) -> Facts:
    return Facts(jobs, jobs[0] if jobs else None, unit, newer, earlier)


def settings(**values: Any) -> Settings:
    return Settings.model_validate({key: str(value) for key, value in values.items()})


NEEDS_SKIPPED = '{"lint": {"result": "success"}, "deploy": {"result": "skipped"}}'
NEEDS_CANCELLED = '{"lint": {"result": "success"}, "deploy": {"result": "cancelled"}}'
GREEN, RED, CANCELLED = (settings(job_status=status) for status in ("success", "failure", "cancelled"))
RED_TWICE = settings(job_status="failure", failures_before_alert=2)
FIRE = {"on_cancelled": "fire"}
NOTIFY_SKIPPED, NOTIFY_CANCELLED = settings(needs=NEEDS_SKIPPED), settings(needs=NEEDS_CANCELLED)
CANCELLED_FIRE, GREEN_FIRE = settings(job_status="cancelled", **FIRE), settings(job_status="success", **FIRE)
RED_TWICE_FIRE = settings(job_status="failure", failures_before_alert=2, **FIRE)
CANCELLED_SKIP = settings(job_status="cancelled", on_cancelled="skip")


def said(job: Job, cancel: Cancel | None) -> Job:
    """The job with what its cancel was, as facts.gather says it once for every cancelled job read."""
    return dataclasses.replace(job, cancel=cancel) if job.conclusion == "cancelled" else job


COUNTED = Cancel("cancel", counts=True)  # on-cancelled: fire
TIMEOUT = Cancel("timeout", counts=True, seconds=1800, limit_minutes=30)
SUPERSEDED = Cancel("superseded", counts=False, detail="run #19", seconds=60, limit_minutes=30)


def newer(*runs: tuple[str, str], cancel: Cancel | None = None) -> Facts:
    """Newer runs, newest first, each as (how this job ended in it, its status)."""
    ended = [done("test", conclusion) if status == "completed" else this() for conclusion, status in runs]
    return facts(
        newer=tuple(other(19 - i, said(job, cancel), status=runs[i][1]) for i, job in enumerate(ended))
    )


def earlier(*conclusions: str, cancel: Cancel | None = None) -> Facts:
    return facts(
        earlier=tuple(other(16 - i, said(done("test", c), cancel)) for i, c in enumerate(conclusions))
    )


def run_jobs(*jobs: Job) -> Facts:
    return facts(jobs=(this(), *jobs))


NOTIFY_UNIT = Unit(needs=("lint", "deploy"), besides=frozenset({"notify"}))


def notify_newer(*jobs: Job) -> Facts:
    """A notify job's facts: its own run's jobs all green, and a newer run with these jobs."""
    notify = Job(1, "notify", "in_progress", None, None, "runner", ())
    own = (notify, done("lint", "success"), done("deploy", "success"))
    return facts(jobs=own, newer=(other(18, *jobs),), unit=NOTIFY_UNIT)


NOTIFY_GREEN = settings(needs='{"lint": {"result": "success"}, "deploy": {"result": "success"}}')
WATCHED_CANCELLED = WorkflowRun(**{**RUN.__dict__, "watched": Watched("workflow_run", True, "cancelled")})


DONE, GOING = "completed", "in_progress"
# A newer run of the notify layout still going: `test` failed and hangs, so `deploy`, which needs it, waits.
QUEUED_DEPLOY = Job(None, "deploy", "queued", None, None, None, ())
FAILING = Job(None, "test", "in_progress", None, None, "runner", (FAILED,))
CANCEL_DONE = ("cancelled", DONE)
CANCEL_THEN_PASS = ("cancelled", "success")


def said_here(cancel: Cancel) -> Job:
    """This job, still running its alert step, with what its cancel was."""
    return dataclasses.replace(this(), cancel=cancel)


LINT, SKIPPED, DEPLOYED = done("lint", "success"), done("deploy", "skipped"), done("deploy", "success")
TIMED_OUT = done("test", "cancelled", FAILED)  # a step failed, then the job hit its timeout
NEWER_FAILED_THEN_CANCELLED = facts(newer=(other(18, TIMED_OUT),))
NEWER_RE_RUN_GOING = facts(newer=(re_run(18, (this(),), (done("test", "failure"),)),))
NEWER_RE_RUN_CANCELLED = facts(newer=(re_run(18, (done("test", "cancelled"),), (done("test", "success"),)),))
ROWS: list[tuple[str, Settings, Facts, str | None]] = [
    # the job's own status
    ("success resolves", GREEN, facts(), "resolved"),
    ("failure fires", RED, facts(), "firing"),
    ("cancelled, not told apart: nothing", CANCELLED, facts(), None),
    ("a timeout fires", CANCELLED, facts(jobs=(said_here(TIMEOUT),)), "firing"),
    ("superseded sends nothing", CANCELLED, facts(jobs=(said_here(SUPERSEDED),)), None),
    ("cancelled sends nothing with skip", CANCELLED_SKIP, facts(), None),
    ("cancelled after a failed step fires", CANCELLED, facts(jobs=(this(FAILED),)), "firing"),
    ("cancelled fires with on-cancelled: fire", CANCELLED_FIRE, facts(), "firing"),
    ("skipped sends nothing", settings(job_status="skipped"), facts(), None),
    # a notify job
    ("a needed job failed", settings(needs='{"a": {"result": "failure"}}'), facts(), "firing"),
    ("a failure behind a skipped need", NOTIFY_SKIPPED, run_jobs(done("test", "failure")), "firing"),
    ("a need skipped by its own if:", NOTIFY_SKIPPED, run_jobs(done("lint", "success")), "resolved"),
    ("a cancelled need, nothing failed", NOTIFY_CANCELLED, facts(), None),
    ("a need cancelled after failing", NOTIFY_CANCELLED, run_jobs(done("d", "cancelled", FAILED)), "firing"),
    ("a skipped need, jobs unread", NOTIFY_SKIPPED, Facts(), None),
    # newer runs, both directions: the newest decided one wins
    ("a newer run's job failed: no resolve", GREEN, newer(("failure", DONE)), None),
    ("a newer run's job passed: no page", RED, newer(("success", DONE)), None),
    ("a newer run's job also failed: page", RED, newer(("failure", DONE)), "firing"),
    ("a newer run still going is passed over", GREEN, newer(("", GOING)), "resolved"),
    ("the newest decided wins", GREEN, newer(("", GOING), ("success", DONE), ("failure", DONE)), "resolved"),
    ("a newer cancel is passed over", GREEN, newer(("cancelled", DONE)), "resolved"),
    ("a newer cancel counts with fire", GREEN_FIRE, newer(("cancelled", DONE), cancel=COUNTED), None),
    ("a newer timeout: no resolve", GREEN, newer(("cancelled", DONE), cancel=TIMEOUT), None),
    ("a newer superseded run is passed over", GREEN, newer(CANCEL_DONE, cancel=SUPERSEDED), "resolved"),
    ("newer runs unread: a success resolves", GREEN, Facts(), "resolved"),
    ("newer runs unread: a failure fires", RED, Facts(), "firing"),
    # one rule for every run: a newer run is judged by its jobs as this one is, by the attempt that decided
    ("a newer failure then cancel: no resolve", GREEN, NEWER_FAILED_THEN_CANCELLED, None),
    ("a newer re-run going: attempt 1 failed", GREEN, NEWER_RE_RUN_GOING, None),
    ("a newer re-run cancelled: attempt 1 passed", RED, NEWER_RE_RUN_CANCELLED, None),
    ("a newer run unread: no resolve on a guess", GREEN, facts(newer=(UNREAD,)), None),
    ("a newer run unread: a failure fires", RED, facts(newer=(UNREAD,)), "firing"),
    ("notify: a newer failure then cancel", NOTIFY_GREEN, notify_newer(LINT, TIMED_OUT, SKIPPED), None),
    ("notify: a newer run all green", NOTIFY_GREEN, notify_newer(LINT, DEPLOYED), "resolved"),
    ("notify: a newer run still going", NOTIFY_GREEN, notify_newer(LINT, this()), "resolved"),
    ("notify: a newer run going, one failed", NOTIFY_GREEN, notify_newer(LINT, QUEUED_DEPLOY, FAILING), None),
    ("notify: skipped behind a cancel", NOTIFY_SKIPPED, run_jobs(done("test", "cancelled"), SKIPPED), None),
    # failures-before-alert
    ("1 of 2 is held back", RED_TWICE, earlier("success"), None),
    ("2 of 2 fires", RED_TWICE, earlier("failure"), "firing"),
    ("an earlier cancel is passed over", RED_TWICE, earlier("cancelled", "success"), None),
    ("an earlier cancel counts with fire", RED_TWICE_FIRE, earlier("cancelled", cancel=COUNTED), "firing"),
    ("an earlier timeout counts", RED_TWICE, earlier("cancelled", cancel=TIMEOUT), "firing"),
    ("an earlier supersede is passed over", RED_TWICE, earlier(*CANCEL_THEN_PASS, cancel=SUPERSEDED), None),
    ("history unread: fires anyway", RED_TWICE, Facts(), "firing"),
    # given outright
    ("status: resolved is as given", settings(status="resolved"), newer(("failure", DONE)), "resolved"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "given", "known", "sent"), ROWS, ids=[row[0] for row in ROWS])
def test_each_rule(rule: str, given: Settings, known: Facts, sent: str | None) -> None:
    verdict = decide(given, RUN, known)
    assert verdict.status == sent, verdict.reason
    if sent is None:
        assert "nothing is sent" in verdict.reason or "nothing is sent yet" in verdict.reason


def test_what_github_could_not_tell_is_said() -> None:
    assert decide(settings(job_status="success"), RUN, Facts()).missing == (
        "whether a newer run of CI on main failed could not be checked, and the alert is resolved because "
        "this run passed",
    )
    assert (
        "failures-before-alert (2) could not be checked"
        in decide(settings(job_status="failure", failures_before_alert=2), RUN, Facts()).missing[-1]
    )


def test_a_tag_run_and_a_watched_check_are_not_compared() -> None:
    tag = WorkflowRun(**{**RUN.__dict__, "origin": Origin("tag", "v1.2.0")})
    check = WorkflowRun(**{**RUN.__dict__, "watched": Watched("check_suite", True, "success")})
    newer_failed = facts(newer=(other(18, done("test", "failure")),))
    assert decide(settings(job_status="success"), tag, newer_failed).status == "resolved"
    assert wanted(settings(job_status="success"), tag).other_runs is False
    assert wanted(settings(job_status="success"), check) == wanted(settings(), None)


def test_github_is_asked_only_what_the_rules_need() -> None:
    assert not wanted(settings(job_status="skipped"), RUN).jobs
    success = wanted(settings(job_status="success", failures_before_alert=3), RUN)
    assert (success.jobs, success.other_runs, success.earlier) == (True, True, 0)
    failure = wanted(settings(job_status="failure", failures_before_alert=3), RUN)
    assert failure.earlier == 12  # 2 more failures, and 10 runs without this job passed over at most
    assert wanted(settings(needs=NEEDS_SKIPPED), RUN).other_runs  # each judged by its jobs too
    assert wanted(settings(), WATCHED_CANCELLED).jobs  # a cancelled watched run's jobs may say it failed


def test_a_watched_run_cancelled_after_a_failure_fires() -> None:
    failed_then_cancelled = Facts((done("build", "success"), done("test", "cancelled", FAILED)), unit=Unit())
    assert decide(settings(), WATCHED_CANCELLED, failed_then_cancelled).status == "firing"
    nothing_failed = Facts((done("build", "success"), done("test", "cancelled")), unit=Unit())
    assert decide(settings(), WATCHED_CANCELLED, nothing_failed).status is None
    unread = decide(settings(), WATCHED_CANCELLED, Facts())
    assert (unread.status, unread.missing) == (None, (messages.GITHUB_MISSING_WATCHED_STEPS,))


def test_a_verdict_is_a_value() -> None:
    assert Verdict("firing", "x").lacking("y").missing == ("y",)
