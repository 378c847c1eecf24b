"""What a cancel was: the one place that says it, once for each cancelled job (`Cancel`, carried by the job).

GitHub concludes four different things `cancelled`, and no field anywhere says which (../shared/notes/
github-cancellations.md): a job that hit its `timeout-minutes`, a run superseded by `concurrency`, a person
(or an app) cancelling it, a fail-fast matrix stopping the other legs. Under `on-cancelled: timeout`, the
default, a timeout counts as a failure and the others count as nothing. The evidence, first that applies:

1. the job's check run annotations, written once the job has ended (a notify job, a watcher): they say
   which, with the group, the person or the leg;
2. timing: how long the job ran before the cancel, against its `timeout-minutes` (workflow_file.py): at or
   past the limit, less a minute, it timed out; well before it, it did not, and what is visible names the
   cause (a newer run of the same workflow and branch: superseded; a sibling leg that failed: fail-fast);
   a GitHub-hosted runner stops every job at 6 hours, whatever the file says;
3. neither: unknown, and `missing` says what could not be read.

A job whose step failed before the cancel counts as failed whatever the cancel was (`Job.failed`).
`on-cancelled: fire` counts every cancel; `skip` none. Nothing here reads or decides about the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from entrypoint.github_data import Annotation, Cancel, Job
from entrypoint.workflow_file import HOSTED_MAX_MINUTES, Limit

CancelPolicy = Literal["timeout", "skip", "fire"]
# A cancel this close to the limit is the limit: the service cancels within seconds of it, and the cancel
# time read from the steps can be late by as much as a step's last write.
TOLERANCE_SECONDS = 60
# The annotations GitHub writes on a cancelled job's check run (the notes, §2; newer runners give the limit
# as a Go duration: `30m0s`).
TIMED_OUT = re.compile(r"exceeded the maximum execution time of ([^.]+)")
SUPERSEDED = re.compile(r"Canceling since a higher priority waiting request for '?(.+?)'? exists")
BY_PERSON = re.compile(r"The run was canceled by @?(\S+?)\.?$")
FAIL_FAST = re.compile(r'The job was canceled because "(.+?)" failed')
# A runner lost (a job that ends `failure` without a failed step, and runs no always() step).
RUNNER_LOST = re.compile(
    r"lost communication with the server|has received a shutdown signal|Operating system is shutting down"
)


@dataclass(frozen=True)
class Evidence:
    """What may tell a cancel's cause, for one job."""

    annotations: tuple[Annotation, ...] | None = None  # None: not read (in-job they are not there yet)
    limit: Limit | None = None  # None: the definition was not looked for (nothing needed it)
    hosted: bool | None = None  # on a GitHub-hosted runner: 6 hours at most
    failed_leg: str | None = None  # a sibling matrix leg that failed
    newer_run: int | None = None  # the number of a newer run of the same workflow and origin
    cancelled_at: datetime | None = None  # when it was cancelled, where the steps do not say (in-job: now)


def classify(job: Job, policy: CancelPolicy, evidence: Evidence) -> Cancel:
    """What the cancel of this cancelled job was, and whether it counts as a failure."""
    seconds = ran_for(job, evidence.cancelled_at)
    if policy == "fire":
        return Cancel("cancel", counts=True, seconds=seconds)
    said = _from_annotations(evidence.annotations or (), seconds)
    if said is not None:
        return _under(policy, said)
    return _under(policy, _from_timing(seconds, evidence))


def said_by_annotations(annotations: tuple[Annotation, ...] | None) -> bool:
    """Whether the annotations alone say what the cancel was (no timing, no workflow file needed)."""
    return _from_annotations(annotations or (), None) is not None


def _under(policy: CancelPolicy, cancel: Cancel) -> Cancel:
    """`skip` counts nothing, not even a timeout (as before on-cancelled: timeout existed)."""
    if policy == "skip" and cancel.counts:
        return Cancel(
            cancel.cause, False, cancel.detail, cancel.seconds, cancel.limit_minutes, cancel.missing
        )
    return cancel


def _from_annotations(annotations: tuple[Annotation, ...], seconds: int | None) -> Cancel | None:
    for annotation in annotations:
        text = annotation.message
        if found := TIMED_OUT.search(text):
            return Cancel("timeout", counts=True, detail=found.group(1).strip(), seconds=seconds)
        if found := SUPERSEDED.search(text):
            return Cancel("superseded", counts=False, detail=f"group {found.group(1)!r}", seconds=seconds)
        if found := BY_PERSON.search(text):
            return Cancel("person", counts=False, detail=f"@{found.group(1)}", seconds=seconds)
        if found := FAIL_FAST.search(text):
            return Cancel("fail-fast", counts=False, detail=found.group(1), seconds=seconds)
    return None


def _from_timing(seconds: int | None, evidence: Evidence) -> Cancel:
    limit = evidence.limit
    minutes = limit.minutes if limit is not None else None
    if minutes is not None and evidence.hosted:
        minutes = min(minutes, HOSTED_MAX_MINUTES)
    if seconds is None:
        return Cancel(
            "unknown", counts=False, limit_minutes=minutes, missing="when the job started and was cancelled"
        )
    if minutes is None and evidence.hosted and seconds >= HOSTED_MAX_MINUTES * 60 - TOLERANCE_SECONDS:
        return Cancel("timeout", counts=True, seconds=seconds, limit_minutes=HOSTED_MAX_MINUTES)
    if minutes is None:
        missing = limit.unknown if limit is not None and limit.unknown else "its timeout-minutes"
        return Cancel("unknown", counts=False, seconds=seconds, missing=missing)
    if seconds >= minutes * 60 - TOLERANCE_SECONDS:
        return Cancel("timeout", counts=True, seconds=seconds, limit_minutes=minutes)
    if evidence.failed_leg:
        return Cancel("fail-fast", False, evidence.failed_leg, seconds, minutes)
    if evidence.newer_run is not None:
        return Cancel("superseded", False, f"run #{evidence.newer_run}", seconds, minutes)
    return Cancel("cancel", False, "", seconds, minutes)


def ran_for(job: Job, cancelled_at: datetime | None) -> int | None:
    """Seconds from the job's start to its cancel: the end of its first step that ended cancelled (within
    seconds of the cancel); else the given time (in-job: when the alert step started, just after it); else
    the job's end."""
    if job.started_at is None:
        return None
    ends = [step.completed_at for step in job.steps if step.conclusion == "cancelled" and step.completed_at]
    end = min(ends) if ends else cancelled_at or job.completed_at
    if end is None:
        return None
    return max(0, int((end - job.started_at).total_seconds()))


def runner_lost(annotations: list[Annotation]) -> str | None:
    """The runner's own words where the job's runner was lost or shut down, else None."""
    return next(
        (a.message for a in annotations if a.level == "failure" and RUNNER_LOST.search(a.message)), None
    )


def failed_leg(jobs: tuple[Job, ...], job: Job) -> str | None:
    """A sibling leg of the same matrix (same name before its values) that failed: fail-fast's cause."""
    base = leg_base(job.name)
    if base is None:
        return None
    return next(
        (other.name for other in jobs if other is not job and leg_base(other.name) == base and other.failed),
        None,
    )


def leg_base(name: str) -> str | None:
    """`test` for a matrix leg `test (3.12, ubuntu)`, or a called workflow's `unit (3.12) / test` as
    `unit / test`; None for a job that is no matrix leg."""
    parts = [re.sub(r" \(.*\)$", "", part) for part in name.split(" / ")]
    joined = " / ".join(parts)
    return joined if joined != name else None
