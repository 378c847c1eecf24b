"""The workflow's other runs: how many failed in a row before this one, and whether a newer one failed.

Only runs that would share this run's alert are compared: the same workflow, and the same origin
(a branch of this repository, one fork's branch, one merge queue), each placed by the same function
as a watched run is. GitHub's branch filter alone would mix a fork's `main` into this repository's.
A run counts by how the same job ended in it, where the job is known; else by how the run ended.
Cancelled and skipped runs, and runs in which the job did not run, are passed over.
"""

from __future__ import annotations

from dataclasses import dataclass

from entrypoint.github_api import FAILED_CONCLUSIONS, GitHubApi, Job, PastRun
from entrypoint.workflow_run import WorkflowRun, origin_of_actions_run

# How many runs of the workflow to look through: cancelled and skipped runs are passed over.
HISTORY_PAGE = 50
# Runs in which this job did not run (renamed, or not in that run) looked through at most.
MAX_PASSED_OVER = 10
# The origins whose runs can be compared: a tag's runs are each about another tag.
COMPARABLE = ("branch", "fork", "merge-queue")


@dataclass(frozen=True)
class Subject:
    """Whose runs are compared: a run of a workflow, and the job in it (None: the whole run)."""

    run: WorkflowRun
    run_id: int
    job_name: str | None

    @property
    def shown(self) -> str:
        """`CI / test on main`."""
        name = f"{self.run.workflow} / {self.job_name}" if self.job_name else self.run.workflow
        return f"{name} {self.run.origin.where}".strip()


def comparable(run: WorkflowRun) -> bool:
    return run.origin.kind in COMPARABLE


def runs_like(api: GitHubApi, subject: Subject) -> list[PastRun]:
    """The latest completed runs of the same workflow with the same origin, newest first."""
    run = subject.run
    workflow = run.api_workflow or api.workflow_of_run(run.repository, subject.run_id)
    origin = run.origin
    branch = origin.name if origin.kind in ("branch", "fork") else None  # narrows GitHub's answer
    return [
        past
        for past in api.completed_runs(run.repository, workflow, branch, HISTORY_PAGE)
        if _same_origin(past, run)
    ]


def _same_origin(past: PastRun, run: WorkflowRun) -> bool:
    theirs = origin_of_actions_run(past.event, past.head_branch, past.head_repository, run.repository)
    ours = run.origin
    return (theirs.kind, theirs.name, (theirs.owner or "").lower()) == (
        ours.kind,
        ours.name,
        (ours.owner or "").lower(),
    )


def count_consecutive_failures(api: GitHubApi, subject: Subject, needed: int) -> int:
    """Failed runs in a row, this one included, counted up to `needed`. A success ends the streak."""
    run = subject.run
    # Later runs (a watched run's successors, a re-run's) and this run itself do not count.
    earlier = [past for past in runs_like(api, subject) if past.run_id < subject.run_id]
    jobs_by_run: dict[int, list[Job]] = {}
    if subject.job_name:
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
        if subject.job_name and conclusion in FAILED_CONCLUSIONS:
            if past.run_id not in jobs_by_run:
                break  # the job was passed over too often to look further back
            conclusion = _job_conclusion(jobs_by_run[past.run_id], subject.job_name)
        if conclusion in FAILED_CONCLUSIONS:
            consecutive += 1
        elif conclusion == "success":
            break
    return consecutive


def newer_runs(api: GitHubApi, subject: Subject) -> list[PastRun]:
    """The completed runs after this one (a higher run number), newest first, a few at most."""
    number = subject.run.run_number
    if number is None:
        return []
    newer = [past for past in runs_like(api, subject) if (past.run_number or 0) > number]
    return sorted(newer, key=lambda past: past.run_number or 0, reverse=True)[:MAX_PASSED_OVER]


def newest_decided_failure(api: GitHubApi, newer: list[PastRun], subject: Subject) -> PastRun | None:
    """The newest of `newer` that decided anything, if it failed; else None.

    A slow run of an older commit, or a re-run of an old run, may pass after a newer run failed: its
    success says nothing about the branch now. A newer success makes resolving harmless.
    """
    jobs_by_run: dict[int, list[Job]] = {}
    if subject.job_name and newer:
        jobs_by_run = api.jobs_of_runs(subject.run.repository, [past.run_id for past in newer])
    for past in newer:
        conclusion = past.conclusion
        if subject.job_name:
            conclusion = _job_conclusion(jobs_by_run.get(past.run_id, []), subject.job_name)
        if conclusion in FAILED_CONCLUSIONS:
            return past
        if conclusion == "success":
            return None
    return None


def _job_conclusion(jobs: list[Job], name: str) -> str | None:
    conclusions = {job.conclusion for job in jobs if job.name == name and job.conclusion}
    if failed := conclusions & FAILED_CONCLUSIONS:
        return min(failed)  # any failed conclusion counts the same
    return "success" if "success" in conclusions else None  # None: the job did not run then
