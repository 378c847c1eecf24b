"""GitHub requests one alert step makes, layout by layout: the token's rate limit is the user's repository's
(1,000 requests an hour for a workflow's GITHUB_TOKEN on github.com, shared by every workflow there).

Each scenario runs the action once as a process against the GitHub stand-in, and counts what it received.
`python -m tests.support.requests_per_layout` prints them; `make bench` prints them beside the figures
measured before issue 24 (BEFORE: the same scenarios on the code of bd3aa89, deterministic counts).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support import layouts
from tests.support.actions_runner import JOB_TOKEN
from tests.support.cancels import TIMED_OUT_NEWER, TIMED_OUT_RUNNER, cancelled_here, cancelled_job
from tests.support.github_api_stand_in import (
    THIS_RUNNER,
    FakeRun,
    GitHubApiStandIn,
    annotation,
    job,
    running_job,
    step,
    workflow_with,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.steps import Steps

TOKEN = "requests-token-0123456789"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
PUSH_JOBS = 50
Scenario = Callable[[Steps, GitHubApiStandIn], int]  # runs the step(s); returns how many steps ran

# Measured on bd3aa89 (before issue 24) with these same scenarios; the cancels on db38f7e (before issue 29,
# when a cancel read nothing more: on-cancelled: skip, the default, sent nothing).
BEFORE = {
    "last step, fires (1 failed job)": 2,
    "last step, resolves (1 newer run)": 3,
    "last step, fires quoting 3 failed jobs' errors": 5,
    "failures-before-alert: 3 (2 earlier failures)": 14,
    "failures-before-alert: 10 (9 earlier failures)": 18,  # 21 where 19 earlier runs exist
    "notify job with needs, a needed job failed": 3,
    "matrix leg, fires": 2,
    "workflow_run watcher, fires": 4,
    "workflow_run watcher on a tag, fires": 3,
    f"a push of a {PUSH_JOBS}-job workflow, all green": 100,
    f"a push of a {PUSH_JOBS}-job workflow, 5 jobs failing": 100,
    "last step, cancelled at its timeout (fires)": 2,
    "last step, cancelled by a newer run (nothing)": 3,
    "last step, cancelled, workflow file in the workspace": 2,
    "notify job with needs, a needed job timed out": 2,
    "workflow_run watcher, a run cancelled at a job's timeout": 2,
}


def _fires(steps: Steps, github: GitHubApiStandIn) -> int:
    github.this_run(running_job(step("Run pytest", "failure")))
    steps.run(layouts.push(), "failure")
    return 1


def _resolves(steps: Steps, github: GitHubApiStandIn) -> int:
    github.this_run(running_job(step("Run pytest")))
    github.newer_run(job("test", "success", [step("Run pytest")]), conclusion="success")
    steps.run(layouts.push(), "success")
    return 1


def _quotes_errors(steps: Steps, github: GitHubApiStandIn) -> int:
    github.this_run_with_failed_siblings("lint", "unit", "e2e")
    steps.run(layouts.push(), "failure")
    return 1


def _streak(needed: int) -> Scenario:
    """This run fails after `needed - 1` failed runs, with passing runs before them: 16 earlier runs in all
    (or fewer), as many as run #17 can have."""

    def scenario(steps: Steps, github: GitHubApiStandIn) -> int:
        github.this_run(running_job(step("Run pytest", "failure")))
        github.history(*["success"] * (min(16, needed + 10) - (needed - 1)), *["failure"] * (needed - 1))
        steps.run(layouts.push(), "failure", **{"failures-before-alert": str(needed)})
        return 1

    return scenario


def _notify(steps: Steps, github: GitHubApiStandIn) -> int:
    github.this_run(
        job("build", "success"),
        job("test", "failure", [step("Run pytest", "failure")]),
        running_job(name="notify"),
    )
    steps.run(
        layouts.push(GITHUB_JOB="notify"), "success", needs=layouts.needs(build="success", test="failure")
    )
    return 1


def _matrix(steps: Steps, github: GitHubApiStandIn) -> int:
    github.this_run(
        job("test (3.12)", "success"), running_job(step("Run pytest", "failure"), name="test (3.13)")
    )
    steps.run(layouts.push(), "failure", matrix={"python": "3.13"})
    return 1


def _watcher(tag: bool) -> Scenario:
    def scenario(steps: Steps, github: GitHubApiStandIn) -> int:
        layout = layouts.watched_run("failure", head_branch="v1.2.0" if tag else "main")
        watched = FakeRun(layouts.WATCHED_RUN_ID, "failure", workflow_id=layouts.WATCHED_WORKFLOW_ID)
        github.add_run(watched, jobs=[job("test", "failure", [step("Run pytest", "failure")])])
        if tag:
            github.tags["v1.2.0"] = layout.event["workflow_run"]["head_sha"]
        steps.run(layout, "success")
        return 1

    return scenario


def _push(failing: int) -> Scenario:
    """Every job of a 50-job workflow ends with the alert step, as the README's first layout has it."""

    def scenario(steps: Steps, github: GitHubApiStandIn) -> int:
        names = [f"job {number}" for number in range(PUSH_JOBS)]
        jobs = {
            name: running_job(step("Run", "failure" if n < failing else "success"), name=name)
            for n, name in enumerate(names)
        }
        for item in jobs.values():
            item["runner_name"] = f"runner {item['id']}"
        github.this_run(*jobs.values())

        def one(number: int) -> None:
            name = names[number]
            status = "failure" if number < failing else "success"
            layout = layouts.push(GITHUB_JOB=name.replace(" ", "-"), RUNNER_NAME=jobs[name]["runner_name"])
            steps.run(layout, status, check_run_id=str(jobs[name]["id"]))

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(one, range(PUSH_JOBS)))
        return PUSH_JOBS

    return scenario


def _in_job_cancel(ran: float, *, newer: bool = False) -> Scenario:
    """This job cancelled after `ran` minutes, its limit 30: a timeout, or (newer) a supersede."""

    def scenario(steps: Steps, github: GitHubApiStandIn) -> int:

        github.files[".github/workflows/ci.yml"] = workflow_with(test={"timeout-minutes": 30})
        github.this_run(cancelled_here(ran))
        if newer:
            github.newer_run(job("test", None, status="in_progress"))
        steps.run(layouts.push(), "cancelled")
        return 1

    return scenario


def _cancel_with_checkout(steps: Steps, github: GitHubApiStandIn) -> int:
    """As above, where actions/checkout left the workflow file's very commit in the workspace."""
    import subprocess  # noqa: PLC0415

    workspace = steps.tmp_path / f"step{steps.count + 1}" / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / ".github" / "workflows" / "ci.yml").write_text(workflow_with(test={"timeout-minutes": 30}))
    git = ["git", "-C", str(workspace), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "ci"], check=True)
    sha = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    github.this_run(cancelled_here(30.1))
    steps.run(
        layouts.push(), "cancelled", **{"job-workflow": f"octo-org/octo-repo/.github/workflows/ci.yml@{sha}"}
    )
    return 1


def _notify_timed_out(steps: Steps, github: GitHubApiStandIn) -> int:
    build = cancelled_job("build", 30.1)
    github.this_run(build, job("notify", None, status="in_progress", runner_name=THIS_RUNNER))
    github.annotations[build["id"]] = [annotation(TIMED_OUT_RUNNER)]
    steps.run(layouts.push(GITHUB_JOB="notify"), "success", needs=layouts.needs(build="cancelled"))
    return 1


def _watcher_timed_out(steps: Steps, github: GitHubApiStandIn) -> int:
    watched = FakeRun(layouts.WATCHED_RUN_ID, "cancelled", workflow_id=layouts.WATCHED_WORKFLOW_ID)
    test = cancelled_job("test", 30.05)
    github.add_run(watched, jobs=[job("build", "success"), test])
    github.annotations[test["id"]] = [annotation(TIMED_OUT_NEWER)]
    steps.run(layouts.watched_run("cancelled"), "success")
    return 1


SCENARIOS: dict[str, Scenario] = {
    "last step, fires (1 failed job)": _fires,
    "last step, resolves (1 newer run)": _resolves,
    "last step, fires quoting 3 failed jobs' errors": _quotes_errors,
    "failures-before-alert: 3 (2 earlier failures)": _streak(3),
    "failures-before-alert: 10 (9 earlier failures)": _streak(10),
    "notify job with needs, a needed job failed": _notify,
    "matrix leg, fires": _matrix,
    "workflow_run watcher, fires": _watcher(tag=False),
    "workflow_run watcher on a tag, fires": _watcher(tag=True),
    f"a push of a {PUSH_JOBS}-job workflow, all green": _push(0),
    f"a push of a {PUSH_JOBS}-job workflow, 5 jobs failing": _push(5),
    "last step, cancelled at its timeout (fires)": _in_job_cancel(30.1),
    "last step, cancelled by a newer run (nothing)": _in_job_cancel(4, newer=True),
    "last step, cancelled, workflow file in the workspace": _cancel_with_checkout,
    "notify job with needs, a needed job timed out": _notify_timed_out,
    "workflow_run watcher, a run cancelled at a job's timeout": _watcher_timed_out,
}


def measure(root: Path) -> dict[str, int]:
    """How many GitHub requests each scenario made in all."""
    counted = {}
    with IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as stand_in:
        with_ = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
        for number, (name, scenario) in enumerate(SCENARIOS.items()):
            with GitHubApiStandIn(token=JOB_TOKEN) as github:
                scenario(Steps(root / f"scenario{number}", with_, github), github)
                counted[name] = len(github.received)
    return counted


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, count in measure(Path(tmp)).items():
            print(f"{name:<52} {count:>4}   before: {BEFORE[name]}")


if __name__ == "__main__":
    main()
