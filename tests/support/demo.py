"""`make demo`: the real entrypoint, run as the runner runs it, against local stand-ins.

A `workflow_run` workflow watches CI. CI's run on master failed (tests/data/demo): its `lint` job at
`Run ruff`, and its `test` job at `Run pytest` with an assertion error, as a local stand-in for
GitHub's API tells. The demo shows the step's log as the runner shows it, what the incident.io
stand-in received, the outputs as the runner parses them, and the job summary. Then CI goes green
again and the same alert is resolved. Last, CI fails on a feature branch, which is outside `branches`
(by default the default branch): nothing is sent, and a notice says why.
"""

from __future__ import annotations

import json
import re
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
from tests.support.github_api_stand_in import FakeRun, GitHubApiStandIn, annotation, exit_code, job, step
from tests.support.incident_io_stand_in import IncidentIoStandIn, Received

TOKEN = "demo-secret-token"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
EVENT = json.loads((DATA_DIR / "demo" / "failed-workflow-run.event.json").read_text())
INTRO = """\
This demo runs the action's real entrypoint three times, as GitHub's runner would run its container,
against local stand-ins for incident.io and for GitHub's API (nothing leaves this machine).

The step logs below are shown as the runner shows them. The raw log also carries `::add-mask::` lines
(they hide the tokens) and `::debug::` lines (shown only with debug logging on): both are commands the
runner consumes and never shows, so they are left out here. `::group::` sections are folded, as in
GitHub's log view; annotations appear as the Error:, Warning: and Notice: lines GitHub shows."""


def show(heading: str, text: str) -> None:
    print(f"\n===== {heading} " + "=" * max(0, 70 - len(heading)))
    print(text.rstrip())


def failed_ci_run(github: GitHubApiStandIn) -> None:
    watched = EVENT["workflow_run"]
    lint = job("lint", "failure", [step("Set up job"), step("Run ruff", "failure")], minutes=0.8)
    test = job(
        "test",
        "failure",
        [step("Set up job"), step("Run pytest", "failure"), step("Upload", "skipped")],
        minutes=6.3,
    )
    github.add_run(
        FakeRun(watched["id"], "failure", watched["head_branch"], "test.yml", watched["workflow_id"]),
        jobs=[job("build", "success", [step("Set up job"), step("Build")]), lint, test],
    )
    github.annotations[lint["id"]] = [
        annotation("F401 `os` imported but unused", path="src/app.py", line=3),
        exit_code(1),
    ]
    github.annotations[test["id"]] = [
        annotation(
            "AssertionError: expected 3 retries, got 2",
            title="test_retry",
            path="tests/test_client.py",
            line=88,
        ),
        exit_code(1),
    ]


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


def as_the_runner_shows(log: str) -> str:
    """The log as GitHub's log view shows it: commands consumed, annotations labelled, groups folded."""
    shown: list[str] = []
    stop_token: str | None = None
    group: list[str] | None = None
    for line in log.splitlines():
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            elif group is not None:
                group.append(line)
            else:
                shown.append(line)
            continue
        command = re.match(r"::([\w-]+)(?: title=([^:]*))?::(.*)", line)
        if command is None:
            (group if group is not None else shown).append(line)
            continue
        name, title, data = command.group(1), command.group(2), _unescape(command.group(3))
        if name == "stop-commands":
            stop_token = data
        elif name == "group":
            shown.append(f"▶ {data}")
            group = []
        elif name == "endgroup" and group is not None:
            shown[-1] += f"  ({len(group)} line{'' if len(group) == 1 else 's'}, folded)"
            group = None
        elif name in ("error", "warning", "notice"):
            label = name.capitalize() + (f": {_unescape(title)}" if title else "")
            shown.append(f"{label}: {data}")
    return "\n".join(shown)


def _unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def received(request: Received) -> str:
    return (
        f"{request.method} {request.path}\n"
        f"Authorization: Bearer {'*' * 8} (the token, masked here)\n"
        f"User-Agent: {request.headers.get('user-agent')}\n\n" + json.dumps(request.json(), indent=2)
    )


def outputs(result: StepResult) -> str:
    """The outputs, but the payload and response (the body and answer shown above) only named."""
    shown = {
        name: value if name not in ("payload", "response") or not value else "(shown above)"
        for name, value in result.outputs.items()
    }
    return json.dumps(shown, indent=2)


def main() -> None:
    print(INTRO)
    with (
        IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as stand_in,
        GitHubApiStandIn(token=JOB_TOKEN, repository=EVENT["repository"]["full_name"]) as github,
        tempfile.TemporaryDirectory() as tmp,
    ):
        failed_ci_run(github)
        default_branch = EVENT["repository"]["default_branch"]
        runs = [("failure", default_branch), ("success", default_branch), ("failure", "feature/login")]
        for number, (conclusion, branch) in enumerate(runs, start=1):
            print(f"\n\n##### Run {number}: the watched CI run on {branch} ended '{conclusion}' #####")
            sent_before = len(stand_in.received)
            result = run_alert_step(stand_in, github, Path(tmp) / str(number), conclusion, branch)
            show("step log (as the runner shows it)", as_the_runner_shows(result.log))
            sent = stand_in.received[sent_before:]
            show("what incident.io received", received(sent[-1]) if sent else "nothing")
            show("step outputs (parsed as the runner parses GITHUB_OUTPUT)", outputs(result))
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
