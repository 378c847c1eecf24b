"""The status rules as a table: each row is the settings, what GitHub's API said, and what is sent.

verdict.decide is a pure function of the settings, the run and GitHub's facts, so each rule can be
shown on its own here; tests/test_across_runs.py and tests/test_layouts.py run the same rules as
processes, with GitHub's stand-in answering.
"""

from __future__ import annotations

from typing import Any

import pytest

from entrypoint.facts import Facts, OtherRun
from entrypoint.github_data import Job, PastRun, Step
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
    return OtherRun(PastRun(number, conclusion, run_number=number, status=status), jobs)


def facts(
    *, jobs: tuple[Job, ...] = (this(),), newer: tuple[OtherRun, ...] = (), earlier: tuple[OtherRun, ...] = ()
) -> Facts:
    return Facts(jobs, jobs[0] if jobs else None, "test", newer, earlier)


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


def newer(*runs: tuple[str, str]) -> Facts:
    """Newer runs, newest first, each as (how this job ended in it, its status)."""
    ended = [done("test", conclusion) if status == "completed" else this() for conclusion, status in runs]
    return facts(newer=tuple(other(19 - i, job, status=runs[i][1]) for i, job in enumerate(ended)))


def earlier(*conclusions: str) -> Facts:
    return facts(earlier=tuple(other(16 - i, done("test", c)) for i, c in enumerate(conclusions)))


def run_jobs(*jobs: Job) -> Facts:
    return facts(jobs=(this(), *jobs))


DONE, GOING = "completed", "in_progress"
ROWS: list[tuple[str, Settings, Facts, str | None]] = [
    # the job's own status
    ("success resolves", GREEN, facts(), "resolved"),
    ("failure fires", RED, facts(), "firing"),
    ("cancelled sends nothing", CANCELLED, facts(), None),
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
    ("a newer cancel counts with fire", GREEN_FIRE, newer(("cancelled", DONE)), None),
    ("newer runs unread: a success resolves", GREEN, Facts(), "resolved"),
    ("newer runs unread: a failure fires", RED, Facts(), "firing"),
    # failures-before-alert
    ("1 of 2 is held back", RED_TWICE, earlier("success"), None),
    ("2 of 2 fires", RED_TWICE, earlier("failure"), "firing"),
    ("an earlier cancel is passed over", RED_TWICE, earlier("cancelled", "success"), None),
    ("an earlier cancel counts with fire", RED_TWICE_FIRE, earlier("cancelled"), "firing"),
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
    assert (success.jobs, success.other_runs, success.their_jobs, success.earlier) == (True, True, True, 0)
    failure = wanted(settings(job_status="failure", failures_before_alert=3), RUN)
    assert failure.earlier == 12  # 2 more failures, and 10 runs without this job passed over at most
    notify = wanted(settings(needs=NEEDS_SKIPPED), RUN)
    assert notify.other_runs and not notify.their_jobs  # a notify job compares whole runs


def test_a_verdict_is_a_value() -> None:
    assert Verdict("firing", "x").lacking("y").missing == ("y",)
