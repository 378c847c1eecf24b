"""The image as GitHub runs it: built from the Dockerfile, run with the runner's `docker run` line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import SOURCE_ID, TOKEN
from tests.support.actions_runner import JOB_TOKEN, ROOT, RUNTIME_TOKEN, StepFiles, default_github_env
from tests.support.container import prepare, run_container_step
from tests.support.github_api_stand_in import FakeRun, GitHubApiStandIn, annotation, job, this_job
from tests.support.incident_io_stand_in import IncidentIoStandIn, Reply
from tests.support.schema import assert_valid_body

pytestmark = pytest.mark.container


def test_alert_arrives_and_outputs_reach_the_runner(
    image: str, stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_container_step(files, with_, job_status="failure")

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert_valid_body(body)
    assert body["status"] == "firing"
    assert result.outputs["sent"] == "true"
    assert result.outputs["deduplication-key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    assert json.loads(result.outputs["payload"]) == body
    assert "Alert sent (firing)" in result.summary
    assert result.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"
    for text in (
        result.stdout.replace(f"::add-mask::{TOKEN}", ""),
        result.stderr,
        result.output_file,
        result.summary,
    ):
        assert TOKEN not in text
        assert RUNTIME_TOKEN not in text


def test_failed_jobs_and_their_errors_come_from_the_github_api_url(
    image: str, stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    with GitHubApiStandIn(token=JOB_TOKEN) as github:
        run_id = int(default_github_env()["GITHUB_RUN_ID"])
        lint = job("lint", "failure")
        # GitHub lists the job the step runs in too (found by its check run id): it is no failed job.
        github.add_run(FakeRun(run_id, None, status="in_progress"), jobs=[lint, this_job()])
        github.annotations[lint["id"]] = [annotation("F401 unused import", path="app.py", line=3)]
        result = run_container_step(files, with_, github_env=default_github_env(GITHUB_API_URL=github.url))

        assert result.returncode == 0, result.log
        # The jobs and the runs side by side, the workflow file (is the failed job allowed to fail? this
        # workspace holds no checkout), then the errors.
        paths = [r.path for r in github.received]
        assert len(paths) == 4 and "/contents/.github/workflows/ci.yml?" in paths[2]
        assert "/annotations?" in paths[3]
        assert {"/jobs?" in path for path in paths[:2]} == {True, False}
        assert {r.headers["authorization"] for r in github.received} == {f"Bearer {JOB_TOKEN}"}
    metadata = stand_in.bodies()[0]["metadata"]
    assert metadata["failed_jobs"] == ["lint"]
    assert metadata["errors"] == ["lint: app.py:3: F401 unused import"]
    assert result.annotations("warning") == []
    assert JOB_TOKEN not in result.log.replace(f"::add-mask::{JOB_TOKEN}", "") + result.output_file


def test_dry_run_sends_nothing(
    image: str, stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_container_step(files, {**with_, "dry-run": "true"})

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert result.outputs["sent"] == "false"
    assert_valid_body(json.loads(result.outputs["payload"]))


def test_bad_input_fails_the_step_with_its_annotation(
    image: str, stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_container_step(files, {**with_, "status": "broken", "max-attempts": "99"})

    assert result.returncode == 2
    assert stand_in.received == []
    assert [error.data.split("'")[1] for error in result.annotations("error")] == ["status", "max-attempts"]
    assert "Traceback" not in result.log


def test_nothing_in_the_workspace_is_imported_or_run(
    image: str, stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    # A pull request could put any of these in the checked-out workspace.
    trap = 'print("::error::PWNED from the workspace"); raise SystemExit(99)\n'
    for name in ("requests.py", "pydantic.py", "sitecustomize.py", "usercustomize.py", "json.py"):
        (files.workspace / name).write_text(trap)
    (files.workspace / "entrypoint").mkdir()
    (files.workspace / "entrypoint" / "__init__.py").write_text(trap)
    (files.workspace / "entrypoint" / "__main__.py").write_text(trap)
    step_env = {"PYTHONPATH": "/github/workspace", "PYTHONSTARTUP": "/github/workspace/json.py"}

    result = run_container_step(files, with_, step_env=step_env)

    assert result.returncode == 0, result.log
    assert "PWNED" not in result.log
    assert len(stand_in.received) == 1


def test_sigterm_stops_promptly_with_a_clear_line(
    image: str, stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(202, delay=60))  # incident.io hangs; then the job is cancelled
    command, cli_env = prepare(files, {**with_, "timeout-seconds": "90"})
    process = subprocess.Popen(
        command, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not stand_in.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stand_in.received, "the container never sent its request"
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)  # the docker CLI proxies it to the container
    stdout, stderr = process.communicate(timeout=30)

    assert time.monotonic() - started < 10
    assert process.returncode == 128 + signal.SIGTERM
    assert "Stopped by SIGTERM" in stdout
    assert "Traceback" not in stdout + stderr


def test_readme_recipe_outside_github_actions(image: str, stand_in: IncidentIoStandIn) -> None:
    # As the README shows: docker run with INCIDENT_IO_* variables and nothing else.
    env = {
        "INCIDENT_IO_API_TOKEN": TOKEN,
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID,
        "INCIDENT_IO_TITLE": "Nightly backup failed",
        "INCIDENT_IO_DEDUPLICATION_KEY": "nightly-backup",
        "INCIDENT_IO_API_URL": stand_in.url,
    }
    command = ["docker", "run", "--rm", "--network", "host"]
    for name in env:
        command += ["-e", name]
    completed = subprocess.run(
        [*command, image],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert stand_in.bodies() == [
        {"title": "Nightly backup failed", "status": "firing", "deduplication_key": "nightly-backup"}
    ]
    assert TOKEN not in completed.stdout + completed.stderr
    assert "::" not in completed.stdout


def test_ci_runs_a_saved_workflow_run_event_through_the_image(image: str, tmp_path: Path) -> None:
    """The CI workflow's image job, its shell run here as the hosted runner would run it."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    (build, check) = [step["run"] for step in workflow["jobs"]["image"]["steps"] if "run" in step]
    assert build == "docker build --tag incident-io-alert-action:ci ."
    # The image this session built stands in for :ci, a tag other checkouts on this machine may use.
    assert check.count("incident-io-alert-action:ci") == 1
    check = check.replace("incident-io-alert-action:ci", image)
    summary = tmp_path / "summary.md"
    completed = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", check],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "PWD": str(ROOT),
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Dry run, nothing sent" in summary.read_text()
