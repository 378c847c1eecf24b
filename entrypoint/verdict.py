"""Fire, resolve or send nothing: every rule in one place, from the settings, the run and GitHub's facts.

In the order they apply (the README's "How the status is decided" is this, in words):
1. `status: firing` or `resolved`: as given; nothing below applies.
2. What this run says about the compared unit:
   - a watched run: success resolves; failure, timed_out, startup_failure fire; cancelled fires where a job
     of it failed before the cancel (its jobs, from GitHub's API), or with on-cancelled: fire; anything
     else, or a run still going, sends nothing;
   - a notify job (`needs`): the needs rule (github_data.needs_outcome): a needed job failed → fire; all
     succeeded → resolve; behind a skipped or cancelled needed job the run's jobs decide: one failed →
     fire; none → resolve, or nothing where one was cancelled; GitHub cannot tell → nothing, with a warning;
   - the job's own status: success resolves, failure fires; cancelled fires where a step had failed (the
     runner reports a failed job that then hit its timeout, or was cancelled by `concurrency`, as
     cancelled), else follows on-cancelled; skipped sends nothing.
3. Newer runs of the same workflow and origin (higher run numbers, still running or not), each judged by
   the same rule from its jobs (github_data.judge), by its latest attempt that decided: the newest decided
   one wins. If it failed, a success does not resolve; if it passed, a failure does not fire. Each sends
   nothing, with a notice naming that run. A newer run whose jobs GitHub could not give blocks a resolve
   (never a resolve on a guess) and lets a failure fire, with a warning.
4. failures-before-alert: a failure fires only once N runs in a row have failed, this one among them (the
   newer runs that failed since it count, as the earlier ones do), every run judged alike.
Steps 3 and 4 apply to `status: auto` runs of GitHub Actions on a branch, a fork or a merge queue: not to
tags, checks or deployments. Where GitHub cannot answer at all, a failure fires and a success resolves,
with a warning.

The unit (facts.unit_of): this job, by its name in GitHub's API; a notify job's needed jobs (and what is
behind them); the watched run. In every run it is failed, passed, or undecided (still running, skipped,
cancelled with nothing failed, absent), which is passed over.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from entrypoint import messages
from entrypoint.facts import Facts, OtherRun, Wanted
from entrypoint.github_data import (
    FAILED_CONCLUSIONS,
    Cancel,
    Job,
    Outcome,
    Unit,
    needs_outcome,
    whole_run_outcome,
)
from entrypoint.settings import INPUTS_BY_FIELD, Problem, Settings
from entrypoint.workflow_run import Watched, WorkflowRun

AlertStatus = Literal["firing", "resolved"]

WATCHED_FIRING = FAILED_CONCLUSIONS  # a watched run fires on what counts as failed everywhere
DEPLOYMENT_FIRING = frozenset({"failure", "error"})
# The origins whose runs are compared with each other: a tag's runs are each about another tag.
COMPARABLE = ("branch", "fork", "merge-queue")
# Earlier runs in which the compared job did not run (renamed, or not in that run) looked through at most.
MAX_PASSED_OVER = 10


@dataclass(frozen=True)
class Verdict:
    status: AlertStatus | None  # None: nothing is sent
    reason: str  # why: logged beside the status, or the notice when nothing is sent
    consecutive: int | None = None  # failures-before-alert above 1: failed runs in a row, up to it
    missing: tuple[str, ...] = ()  # what GitHub's API could not tell, and what was done anyway: a warning
    loud: bool = False  # nothing is sent, and it may be a page missed: a warning, not a notice
    timed_out_after: int | None = None  # seconds: the alert is about this job hitting its timeout-minutes

    def lacking(self, *missing: str) -> Verdict:
        return dataclasses.replace(self, missing=self.missing + missing)

    def louder(self) -> Verdict:
        return dataclasses.replace(self, loud=True)


def wanted(settings: Settings, run: WorkflowRun | None) -> Wanted:
    """What `decide` will need from GitHub's API: nothing where the run alone says nothing is sent."""
    if run is None or run.run_id is None or (run.watched is not None and run.watched.kind != "workflow_run"):
        return Wanted()  # outside Actions, check suites, deployments: there are no jobs to read
    if settings.status == "auto":  # where the run alone says nothing is sent, GitHub cannot change that
        watched = run.watched
        cancelled = watched is not None and watched.conclusion == "cancelled"  # its jobs may say it failed
        if watched is not None and not cancelled and _from_watched(settings, watched, Facts()).status is None:
            return Wanted()
        if run.watched is None and settings.needs is None and settings.job_status == "skipped":
            return Wanted()
    history = compared_with_other_runs(settings, run)
    # Only a failure counts a streak; what the run alone says is resolved stays resolved.
    streak = history and settings.failures_before_alert > 1
    if streak and what_the_run_says(settings, run, Facts()).status == "resolved":
        streak = False
    return Wanted(
        jobs=True,  # this job (its steps, its name), the run's failed jobs, what the needs rule looks behind
        other_runs=history,
        earlier=settings.failures_before_alert - 1 + MAX_PASSED_OVER if streak else 0,
        streak=settings.failures_before_alert - 1 if streak else 0,
    )


def compared_with_other_runs(settings: Settings, run: WorkflowRun) -> bool:
    actions_run = run.watched is None or run.watched.kind == "workflow_run"
    return (
        settings.status == "auto"
        and actions_run
        and run.origin.kind in COMPARABLE
        and run.run_id is not None
        and run.run_number is not None
    )


def decide(settings: Settings, run: WorkflowRun | None, facts: Facts) -> Verdict:
    """The alert's status and why, or why nothing is sent (status None)."""
    if settings.status != "auto":
        return Verdict(settings.status, f"the status input is {settings.status}")
    said = what_the_run_says(settings, run, facts)
    if said.status is None or run is None or not compared_with_other_runs(settings, run):
        return said
    subject = _subject(run, facts.unit)
    if facts.newer_unreached and said.status == "resolved":
        # GitHub listed more runs than were read, and not this one: newer runs lie beyond (it is an old
        # run, re-run): resolving would guess that none of them failed.
        return Verdict(None, messages.NEWER_RUNS_UNREACHED.format(subject=subject))
    if facts.newer is None:
        resolving = said.status == "resolved"
        missing = messages.GITHUB_MISSING_NEWER if resolving else messages.GITHUB_MISSING_NEWER_PASSED
        said = said.lacking(missing.format(subject=subject))
    elif newest := newest_decided(facts.newer, facts.unit):
        other, result = newest
        named = {"subject": subject, "number": other.run.run_number, "url": other.run.url or "its page"}
        if result == "unknown" and said.status == "resolved":
            held = Verdict(None, messages.NEWER_RUN_UNREAD.format(**named))
            return held.lacking(messages.GITHUB_MISSING_NEWER_UNREAD.format(**named))
        if result == "unknown":
            said = said.lacking(messages.GITHUB_MISSING_NEWER_PASSED.format(subject=subject))
        elif said.status == "resolved" and result == "failed":
            return Verdict(None, messages.NEWER_RUN_FAILED.format(**named))
        elif said.status == "firing" and result == "passed":
            return Verdict(None, messages.NEWER_RUN_PASSED.format(**named))
    needed = settings.failures_before_alert
    if said.status != "firing" or needed == 1:
        return said
    if facts.earlier is None or facts.newer is None:
        return said.lacking(messages.GITHUB_MISSING_HISTORY.format(needed=needed))
    streak = failures_in_a_row(facts.newer, facts.earlier, facts.unit, needed)
    if streak is None:  # a run of the streak could not be read: a real failure is not missed
        return said.lacking(messages.GITHUB_MISSING_HISTORY.format(needed=needed))
    if isinstance(streak, OtherRun):  # a newer run passed after this one: the streak is not this run's
        named = {"subject": subject, "number": streak.run.run_number, "url": streak.run.url or "its page"}
        return Verdict(None, messages.NEWER_RUN_PASSED.format(**named))
    if streak < needed:
        return Verdict(None, messages.HELD_BACK.format(consecutive=streak, needed=needed, subject=subject))
    return dataclasses.replace(said, consecutive=streak)


# -- 2. what the run says --------------------------------------------------------------------------------


def what_the_run_says(settings: Settings, run: WorkflowRun | None, facts: Facts) -> Verdict:
    if run is not None and run.watched is not None:
        return _from_watched(settings, run.watched, facts)
    if settings.needs is not None:
        return _from_needs(settings, facts)
    return _from_job_status(settings, run, facts)


def _from_watched(settings: Settings, watched: Watched, facts: Facts) -> Verdict:
    what = f"the watched {watched.kind.replace('_', ' ')}"
    if not watched.completed:
        state = watched.conclusion or "no conclusion yet"
        return Verdict(None, f"{what.capitalize()} has not completed ({state}); nothing is sent.")
    conclusion = watched.conclusion or "none"
    if conclusion == "success":
        return Verdict("resolved", f"{what} ended {conclusion}")
    firing = DEPLOYMENT_FIRING if watched.kind == "deployment_status" else WATCHED_FIRING
    if conclusion in firing:
        return Verdict("firing", f"{what} ended {conclusion}")
    jobs = facts.jobs if conclusion == "cancelled" and watched.kind == "workflow_run" else None
    # A job that failed, or hit its timeout-minutes: GitHub concludes the run cancelled, its jobs say why.
    if jobs is not None and whole_run_outcome(jobs) == "failed":
        return _failed_then_cancelled(jobs, f"a job of {what}", "then the run was cancelled")
    if conclusion == "cancelled" and settings.on_cancelled == "fire":
        return Verdict("firing", f"{what} was cancelled and on-cancelled is fire")
    neither = "which neither fires nor resolves an alert; nothing is sent"
    skipped = Verdict(None, f"{what.capitalize()} ended {conclusion}, {neither}.")
    if conclusion == "cancelled" and watched.kind == "workflow_run":
        if facts.jobs is None:
            return skipped.lacking(messages.GITHUB_MISSING_WATCHED_STEPS)
        if settings.on_cancelled == "timeout":
            return _not_a_timeout(_cancels(facts.jobs), facts, subject=f"{what.capitalize()}'s job")
    return skipped


def _from_needs(settings: Settings, facts: Facts) -> Verdict:
    """A notify job's alert is about the jobs it needs, not about itself (it succeeds either way): the
    needs rule, as other runs are judged by it too."""
    needs = settings.needs or {}
    failed = failed_needed_jobs(settings)
    if failed:
        return Verdict("firing", f"needed jobs failed: {', '.join(failed)}")
    hidden = {job: result for job, result in needs.items() if result != "success"}
    if not hidden:
        return Verdict("resolved", "the needed jobs succeeded")
    listed = ", ".join(f"{job} {result}" for job, result in hidden.items())
    others = None if facts.jobs is None else [job for job in facts.jobs if job != facts.this_job]
    outcome = needs_outcome(needs, others)
    if outcome == "failed" and others is not None:
        return _failed_then_cancelled(others, "a job of this run", f"the needed jobs were {listed}")
    if outcome == "passed":
        return Verdict("resolved", f"no job of this run failed (needed jobs: {listed})")
    if outcome == "unknown":
        unknown = Verdict(None, messages.NEEDS_UNKNOWN.format(needs=listed))
        return unknown.lacking(messages.GITHUB_MISSING_RUN_JOBS)
    if settings.on_cancelled == "timeout" and others is not None and "cancelled" in hidden.values():
        return _not_a_timeout(_cancels(others), facts, subject="A needed job")
    return Verdict(None, messages.NEEDS_CANCELLED.format(needs=listed))


def _failed_then_cancelled(jobs: list[Job] | tuple[Job, ...], which: str, context: str) -> Verdict:
    """A firing alert about a run's jobs; where every job that counts as failed hit its timeout-minutes,
    it says so."""
    failed = [job for job in jobs if job.failed]
    if failed and all(job.timed_out for job in failed):
        seconds = failed[0].cancel.seconds if len(failed) == 1 and failed[0].cancel else None
        names = ", ".join(job.name for job in failed)
        return Verdict("firing", f"{names} hit timeout-minutes ({context})", timed_out_after=seconds)
    return Verdict("firing", f"{which} failed ({context})")


def _cancels(jobs: list[Job] | tuple[Job, ...]) -> list[Cancel]:
    return [job.cancel for job in jobs if job.conclusion == "cancelled" and job.cancel is not None]


def _not_a_timeout(said: list[Cancel], facts: Facts, *, subject: str) -> Verdict:
    """Nothing is sent for a cancel that was no timeout, with a notice naming its cause; or, where what it
    was could not be told, with a warning saying what was missing."""
    unknown = next((cancel for cancel in said if cancel.cause == "unknown"), None)
    if unknown is not None or not said:
        missing = (
            (unknown.missing if unknown else "")
            or facts.definition_problem
            or "the cancelled job's annotations"
        )
        return Verdict(None, messages.CANCEL_UNKNOWN.format(subject=subject, missing=missing), loud=True)
    return Verdict(None, _cause_notice(said[0], subject))


def _cause_notice(cancel: Cancel, subject: str) -> str:
    cause = messages.CANCEL_CAUSES.get(cancel.cause, messages.CANCEL_CAUSES["cancel"]).format(
        detail=cancel.detail
    )
    after = ""
    if cancel.seconds is not None:
        after = f" after {messages.duration(cancel.seconds)}"
        if cancel.limit_minutes is not None:
            after += f" of its {cancel.limit_minutes:g}-minute timeout-minutes"
    return messages.CANCEL_NOT_TIMEOUT.format(subject=subject, cause=cause, after=after)


def failed_needed_jobs(settings: Settings) -> list[str]:
    """The needed jobs that count as failed: failure, and cancelled with on-cancelled: fire."""
    failed = {"failure", "cancelled"} if settings.on_cancelled == "fire" else {"failure"}
    return [job for job, result in (settings.needs or {}).items() if result in failed]


def _from_job_status(settings: Settings, run: WorkflowRun | None, facts: Facts) -> Verdict:
    status = settings.job_status
    if status == "success":
        failed_leg = failed_unseparated_leg(run, facts)
        if failed_leg is not None:
            return Verdict(None, messages.LEG_FAILED.format(leg=failed_leg.name))
        return Verdict("resolved", "the job status is success")
    if status == "failure":
        if facts.allowed_to_fail:
            return Verdict(None, messages.ALLOWED_TO_FAIL)
        return Verdict("firing", "the job status is failure")
    if status == "cancelled":
        return _from_cancel(settings, facts)
    if status == "skipped":
        return Verdict(None, "The job was skipped; nothing is sent.")
    return Verdict("firing", "no job status was given")


def _from_cancel(settings: Settings, facts: Facts) -> Verdict:
    """This job was cancelled, and its own always() step runs: a failed step fires; then on-cancelled
    says, and under `timeout` the cancel's timing against its timeout-minutes (cancels.py)."""
    this_job = facts.this_job
    if settings.on_cancelled == "fire":
        return Verdict("firing", "the job was cancelled (a timeout, or by hand) and on-cancelled is fire")
    if this_job is not None and this_job.failed_steps:
        return Verdict("firing", "a step failed, then the job was cancelled (a timeout, or concurrency)")
    if settings.on_cancelled == "skip":
        skipped = Verdict(None, messages.CANCEL_SKIP)
        return skipped.lacking(messages.GITHUB_MISSING_STEPS) if facts.jobs is None else skipped
    cancel = this_job.cancel if this_job is not None else None
    if cancel is None:  # GitHub's API did not list the jobs (its warning says why), or this one is not there
        missing = messages.CANCEL_UNKNOWN_NO_JOBS
        unknown = Verdict(None, messages.CANCEL_UNKNOWN.format(subject="The job", missing=missing))
        return unknown.lacking(messages.GITHUB_MISSING_TIMEOUT) if facts.jobs is None else unknown.louder()
    if cancel.counts:
        after = f" after {messages.duration(cancel.seconds)}" if cancel.seconds is not None else ""
        limit = (
            f" of {cancel.limit_minutes:g} minutes"
            if cancel.limit_minutes is not None
            else f": {cancel.detail}"
        )
        reason = messages.CANCEL_TIMED_OUT.format(after=after, limit=limit)
        return Verdict("firing", reason, timed_out_after=cancel.seconds)
    return _not_a_timeout([cancel], facts, subject="The job")


def failed_unseparated_leg(run: WorkflowRun | None, facts: Facts) -> Job | None:
    """Where this job is not found among the run's jobs, its key falls back to the job's id, which a called
    workflow's legs (`unit (3.12) / test`, `unit (3.13) / test`) all share: a leg of it that failed in this
    run, whose alert this green leg's resolve would close, or None."""
    if run is None or not run.job or facts.jobs is None or facts.this_job is not None:
        return None
    legs = (job for job in facts.jobs if job.name.endswith(f" / {run.job}"))
    return next((job for job in legs if job.failed), None)


def job_status_problem(settings: Settings, run: WorkflowRun | None, in_actions: bool) -> Problem | None:
    """In GitHub Actions, an alert without any status to go by would fire on every green run."""
    if not in_actions or settings.status != "auto" or (run is not None and run.watched is not None):
        return None
    if settings.job_status is not None or settings.needs is not None:
        return None
    return Problem(INPUTS_BY_FIELD["job_status"], messages.JOB_STATUS_MISSING)


# -- 3 and 4. other runs -------------------------------------------------------------------------------


def newest_decided(
    newer: tuple[OtherRun, ...], unit: Unit
) -> tuple[OtherRun, Outcome | Literal["unknown"]] | None:
    """The newest of the newer runs (already newest first) that decided for the unit, and how; or the
    newest one that could not be read, before any that decided: it may have decided either way."""
    for other in newer:
        if (result := other.outcome(unit)) is not None:
            return other, result
    return None


def failures_in_a_row(
    newer: tuple[OtherRun, ...], earlier: tuple[OtherRun, ...], unit: Unit, needed: int
) -> int | OtherRun | None:
    """How many runs in a row failed, this one among them, counted up to `needed`: the newer runs that
    failed since it (a slow run that ends last still counts the failures after it), this run, and the
    earlier ones before a success; undecided runs are passed over. A newer run that passed since this one
    (the run itself is given back): this failure is no longer the branch's. None: a run of the streak
    could not be read."""
    consecutive = 1
    for other in reversed(newer):  # the closest to this run first
        result = other.outcome(unit)
        if result == "unknown":
            return None
        if result == "passed":
            return other
        consecutive += result == "failed"
    for other in earlier:
        if consecutive >= needed:
            break
        result = other.outcome(unit)
        if result == "unknown":
            return None
        if result == "failed":
            consecutive += 1
        elif result == "passed":
            break
    return min(consecutive, needed)


def _subject(run: WorkflowRun, unit: Unit) -> str:
    """Whose runs were compared: `CI / test on main`, or `CI on main` for a watcher or a notify job."""
    name = f"{run.workflow} / {unit.job}" if unit.job else run.workflow
    return f"{name} {run.origin.where}".strip()
