"""Cancelled jobs as GitHub's jobs list shows them, with the times a cancel's cause is told by, and the
annotations GitHub writes on a cancelled or lost job's check run (../shared/notes/github-cancellations.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.github_api_stand_in import THIS_RUNNER, job, step

CI = ".github/workflows/ci.yml"
TIMED_OUT_RUNNER = (
    "The job running on runner GitHub Actions 7 has exceeded the maximum execution time of 30 minutes."
)
TIMED_OUT_NEWER = "The job has exceeded the maximum execution time of 30m0s"
BY_CONCURRENCY = "Canceling since a higher priority waiting request for 'ci-refs/heads/main' exists"
BY_PERSON = "The run was canceled by @octocat."
LOST = (
    "The hosted runner lost communication with the server. Anything in your workflow that terminates the "
    "runner process, starves it for CPU/Memory, or blocks its network access can cause this error."
)


def at(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def timed_step(name: str, conclusion: str | None, started: float, ended: float | None) -> dict[str, Any]:
    """A step `started` and `ended` minutes ago (None: still going), as the jobs list gives it."""
    status = "completed" if ended is not None else "in_progress"
    return {
        **step(name, conclusion, status),
        "started_at": at(started),
        "completed_at": at(ended) if ended is not None else None,
    }


def cancelled_here(ran: float, *, name: str = "test", job_id: int | None = None) -> dict[str, Any]:
    """This job, while its own always() alert step runs: cancelled after `ran` minutes (its Integration step
    ended cancelled then), the alert step started seconds later."""
    started = ran + 0.2
    mine = job(name, None, [
        timed_step("Set up job", "success", started, started - 0.1),
        timed_step("Integration", "cancelled", started - 0.1, 0.2),
        timed_step("Alert", None, 0.1, None),
    ], status="in_progress", runner_name=THIS_RUNNER, minutes=started)  # fmt: skip
    if job_id is not None:
        mine["id"] = job_id
    return mine


def cancelled_job(name: str, ran: float) -> dict[str, Any]:
    """A job that ended cancelled after running `ran` minutes (its always() steps took a few seconds)."""
    started = ran + 0.1
    return job(name, "cancelled", [
        timed_step("Set up job", "success", started, started - 0.05),
        timed_step("Build", "cancelled", started - 0.05, 0.1),
    ], minutes=started)  # fmt: skip
