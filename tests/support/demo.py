"""`make demo`: the real entrypoint, run as the runner runs it, against local stand-ins.

The main layout first: the alert as the last step of CI's `test` job, with `if: always()`.
1. Run #17, a push to main: `Run pytest` failed. The alert fires, naming the step, as a local stand-in
   for GitHub's API tells which step failed.
2. Run #18, the next push to main: the same job passed. The same alert (the same key) is resolved.
3. A `workflow_run` watcher of the Nightly workflow: its run #40 on main failed in `e2e` and `load`; the
   alert is about the watched run, lists its failed jobs and quotes their error messages.
4. A push to a feature branch fails: it is outside `branches` (by default the default branch), so
   nothing is sent, and a notice says why.
Each shows the step's log as the runner shows it, what the incident.io stand-in received, the outputs as
the runner parses them, and the job summary.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support import layouts
from tests.support.actions_runner import JOB_TOKEN, StepFiles, StepResult, run_step
from tests.support.github_api_stand_in import (
    FakeRun,
    GitHubApiStandIn,
    annotation,
    exit_code,
    job,
    step,
    this_job,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn, Received

TOKEN = "demo-secret-token-0123456789"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
FIRST_RUN_ID, FIRST_RUN_NUMBER = 1658821493, 17
INTRO = """\
This demo runs the action's real entrypoint four times, as GitHub's runner would run its container,
against local stand-ins for incident.io and for GitHub's API (nothing leaves this machine).

The step logs below are shown as the runner shows them. The raw log also carries `::add-mask::` lines
(they hide the tokens) and `::debug::` lines (shown only with debug logging on): both are commands the
runner consumes and never shows, so they are left out here. `::group::` sections are folded, as in
GitHub's log view; annotations appear as the Error:, Warning: and Notice: lines GitHub shows."""


@dataclass
class Scene:
    title: str
    layout: layouts.Layout
    job_status: str


def push_run(offset: int, branch: str = "main") -> layouts.Layout:
    """Run #17+offset of CI, triggered by a push to `branch` (its own run id and commit)."""
    return layouts.push(
        branch,
        GITHUB_RUN_ID=str(FIRST_RUN_ID + offset),
        GITHUB_RUN_NUMBER=str(FIRST_RUN_NUMBER + offset),
        GITHUB_SHA=f"{offset + 6:x}113728f27ae82c7b1a177c8d03f9e96e0adf24"[:40],
    )


NIGHTLY_RUN_ID = 1658830040
CHECK_RUN_IDS = (51725241954, 51725241955)  # the two runs' test jobs


def nightly_run(run_id: int, number: int) -> layouts.Layout:
    """The watcher's run, about a run of the Nightly workflow (nightly.yml) on main."""
    layout = layouts.watched_run("failure", run_number=number, run_id=run_id)
    layout.event["workflow_run"].update(
        name="Nightly", path=".github/workflows/nightly.yml", workflow_id=4242, event="schedule"
    )
    layout.event["workflow"].update(name="Nightly", path=".github/workflows/nightly.yml", id=4242)
    return layout


def scenes(github: GitHubApiStandIn) -> list[Scene]:
    """The runs, with what GitHub's API will say about each."""
    for offset, steps in ((0, [step("Run pytest", "failure")]), (1, [step("Run pytest")])):
        run = FakeRun(FIRST_RUN_ID + offset, None, status="in_progress", run_number=FIRST_RUN_NUMBER + offset)
        mine = this_job(
            step("Set up job"),
            *steps,
            step("incident.io alert", None, "in_progress"),
            check_run_id=CHECK_RUN_IDS[offset],
        )
        github.add_run(run, jobs=[job("lint", "success"), mine])
    e2e = job("e2e", "failure", [step("Set up job"), step("Run Playwright", "failure")], minutes=11.4)
    load = job("load", "failure", [step("Set up job"), step("Run k6", "failure")], minutes=4.1)
    nightly = FakeRun(NIGHTLY_RUN_ID, "failure", workflow_file="nightly.yml", workflow_id=4242, run_number=40)
    github.add_run(nightly, jobs=[job("build", "success"), e2e, load])
    github.annotations[e2e["id"]] = [
        annotation("expected 'Paid', got 'Pending'", title="checkout", path="e2e/checkout.spec.ts", line=42),
        exit_code(1),
    ]
    github.annotations[load["id"]] = [
        annotation("p95 latency 812 ms is over the 500 ms threshold", title="thresholds"),
        exit_code(99),
    ]
    return [
        Scene("Run #17, a push to main: the `test` job failed at `Run pytest`", push_run(0), "failure"),
        Scene("Run #18, the next push to main: the same job passed", push_run(1), "success"),
        Scene(
            "A workflow_run watcher: the Nightly workflow's run #40 on main failed",
            nightly_run(NIGHTLY_RUN_ID, 40),
            "success",
        ),
        Scene("Run #19, a push to feature/login: the job failed", push_run(2, "feature/login"), "failure"),
    ]


def run_alert_step(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, root: Path, scene: Scene, check_run_id: str
) -> StepResult:
    inputs = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
    if check_run_id:
        inputs["check-run-id"] = check_run_id
    github_env = {**scene.layout.github_env, "GITHUB_API_URL": github.url}
    return run_step(
        StepFiles(root), inputs, event=scene.layout.event, job_status=scene.job_status, github_env=github_env
    )


def show(heading: str, text: str) -> None:
    print(f"\n===== {heading} " + "=" * max(0, 70 - len(heading)))
    print(text.rstrip())


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
        GitHubApiStandIn(token=JOB_TOKEN, check_contract=False) as github,
        tempfile.TemporaryDirectory() as tmp,
    ):
        check_run_ids = [str(CHECK_RUN_IDS[0]), str(CHECK_RUN_IDS[1]), "", str(CHECK_RUN_IDS[0])]
        for number, scene in enumerate(scenes(github), start=1):
            print(f"\n\n##### {number}. {scene.title} #####")
            sent_before = len(stand_in.received)
            result = run_alert_step(
                stand_in, github, Path(tmp) / str(number), scene, check_run_ids[number - 1]
            )
            show("step log (as the runner shows it)", as_the_runner_shows(result.log))
            sent = stand_in.received[sent_before:]
            show("what incident.io received", received(sent[-1]) if sent else "nothing")
            show("step outputs (parsed as the runner parses GITHUB_OUTPUT)", outputs(result))
            show("job summary (GITHUB_STEP_SUMMARY)", result.summary)
            print(f"\nexit code: {result.returncode}")
            if result.returncode != 0:
                raise SystemExit(result.returncode)
        fired, resolved, watched = stand_in.bodies()
        same = fired["deduplication_key"] == resolved["deduplication_key"]
        print(
            f"\nThe failure on main fired and the next green run resolved the same alert: {same} "
            f"(key {fired['deduplication_key']!r}). The watcher's alert is about the watched run "
            f"({watched['deduplication_key']!r}). The feature branch's failure sent nothing."
        )


if __name__ == "__main__":
    main()
