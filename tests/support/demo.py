"""`make demo`: the real entrypoint, run as the runner runs it, against the local incident.io stand-in.

A `workflow_run` workflow watches CI; CI's run on master failed (tests/data/demo), in its `test` job
at the `Run pytest` step, as a local stand-in for GitHub's API tells. The demo prints the step's log,
what the incident.io stand-in received, the outputs as the runner parses them, and the job summary.
Then CI goes green again and the same alert is resolved. Last, CI fails on a feature branch, which
is outside `branches` (by default the default branch): nothing is sent, and a notice says why.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests.support.actions_runner import (
    DATA_DIR,
    JOB_TOKEN,
    StepFiles,
    StepResult,
    default_github_env,
    run_step,
)
from tests.support.github_api_stand_in import FakeRun, GitHubApiStandIn, job, step
from tests.support.incident_io_stand_in import IncidentIoStandIn

TOKEN = "demo-secret-token"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"


def show(heading: str, text: str) -> None:
    print(f"\n===== {heading} " + "=" * max(0, 70 - len(heading)))
    print(text.rstrip())


EVENT = json.loads((DATA_DIR / "demo" / "failed-workflow-run.event.json").read_text())


def failed_ci_run(github: GitHubApiStandIn) -> None:
    watched = EVENT["workflow_run"]
    github.add_run(
        FakeRun(watched["id"], "failure", watched["head_branch"], "test.yml", watched["workflow_id"]),
        jobs=[
            job("lint", "success", [step("Set up job"), step("Run ruff")]),
            job(
                "test",
                "failure",
                [step("Set up job"), step("Run pytest", "failure"), step("Upload", "skipped")],
            ),
        ],
    )


def run_alert_step(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, root: Path, conclusion: str, branch: str
) -> StepResult:
    event = json.loads(json.dumps(EVENT))
    event["workflow_run"].update(conclusion=conclusion, head_branch=branch)
    watcher = default_github_env(
        GITHUB_EVENT_NAME="workflow_run",
        GITHUB_WORKFLOW="Alerts",
        GITHUB_JOB="alert",
        GITHUB_API_URL=github.url,
    )
    inputs = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
    return run_step(StepFiles(root), inputs, event=event, job_status="success", github_env=watcher)


def main() -> None:
    with (
        IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as stand_in,
        GitHubApiStandIn(token=JOB_TOKEN, repository=EVENT["repository"]["full_name"]) as github,
        tempfile.TemporaryDirectory() as tmp,
    ):
        failed_ci_run(github)
        default_branch = EVENT["repository"]["default_branch"]
        runs = [("failure", default_branch), ("success", default_branch), ("failure", "feature/login")]
        for number, (conclusion, branch) in enumerate(runs, start=1):
            print(f"\n##### Run {number}: the watched CI run on {branch} ended '{conclusion}' #####")
            sent_before = len(stand_in.received)
            result = run_alert_step(stand_in, github, Path(tmp) / str(number), conclusion, branch)
            show("step log (what the runner shows)", result.log)
            if len(stand_in.received) == sent_before:
                show("what incident.io received", "nothing")
            else:
                request = stand_in.received[-1]
                show(
                    "what incident.io received",
                    f"{request.method} {request.path}\n"
                    f"Authorization: Bearer {'*' * 8} (the token, masked here)\n"
                    f"User-Agent: {request.headers.get('user-agent')}\n\n"
                    + json.dumps(request.json(), indent=2),
                )
            show(
                "step outputs (parsed as the runner parses GITHUB_OUTPUT)",
                json.dumps(result.outputs, indent=2),
            )
            show("job summary (GITHUB_STEP_SUMMARY)", result.summary)
            print(f"\nexit code: {result.returncode}")
            if result.returncode != 0:
                raise SystemExit(result.returncode)
        first, second = stand_in.bodies()
        same = first["deduplication_key"] == second["deduplication_key"]
        print(
            f"\nThe failure fired and the green run resolved the same alert: {same} "
            f"(key {first['deduplication_key']!r}). The feature branch's failure sent nothing."
        )


if __name__ == "__main__":
    main()
