"""Building the image and running it with the runner's own `docker run` line (notes §2).

The environment is passed as `-e NAME` only, with the values in the docker CLI's own environment, as
the runner does; paths are the container's (/github/...). `--network host` stands in for the runner's
network so the container reaches the incident.io stand-in on 127.0.0.1, and nothing else.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.actions_runner import (
    ACTION,
    ROOT,
    THIS_PUSH,
    StepFiles,
    StepResult,
    step_environment,
    step_result,
    write_event,
)

# One tag per checkout: two clones testing at once must not build over each other's image.
CHECKOUT_ID = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
IMAGE = f"incident-io-alert-action:test-{CHECKOUT_ID}"


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers; else why container tests cannot run here."""
    if shutil.which("docker") is None:
        return "no docker client on PATH (run ../shared/container/offline-docker.sh)"
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False, timeout=30)
    if probe.returncode != 0:
        return "no Docker engine answers (run ../shared/container/offline-docker.sh)"
    return None


def build_image(tag: str = IMAGE, no_cache: bool = False) -> None:
    command = ["docker", "build", "-q", "-t", tag, str(ROOT)]
    if no_cache:
        command.insert(2, "--no-cache")
    subprocess.run(command, check=True, capture_output=True, timeout=600)


def container_environment(files: StepFiles, env: Mapping[str, str]) -> dict[str, str]:
    """The step environment after the runner's path translation."""
    translated = dict(env)
    translated.update(
        {
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "GITHUB_OUTPUT": f"/github/file_commands/{files.output.name}",
            "GITHUB_STEP_SUMMARY": f"/github/file_commands/{files.summary.name}",
            "GITHUB_WORKSPACE": "/github/workspace",
            "RUNNER_TEMP": "/github/runner_temp",
            "HOME": "/github/home",
        }
    )
    return translated


def docker_run_command(files: StepFiles, env: Mapping[str, str], image: str = IMAGE) -> list[str]:
    command = [
        "docker", "run", "--name", f"incident-io-alert-action-test_{uuid.uuid4().hex[:6]}",
        "--label", "incident-io-alert-action-test", "--workdir", "/github/workspace", "--rm",
    ]  # fmt: skip
    for name in env:
        command += ["-e", name]
    command += ["-e", "GITHUB_ACTIONS=true"]
    if "CI" not in env:
        command += ["-e", "CI=true"]
    command += ["--network", "host"]
    if Path("/var/run/docker.sock").exists():
        command += ["-v", "/var/run/docker.sock:/var/run/docker.sock"]
    command += [
        "-v", f"{files.root}:/github/runner_temp",
        "-v", f"{files.root / '_github_home'}:/github/home",
        "-v", f"{files.root / '_github_workflow'}:/github/workflow",
        "-v", f"{files.root / '_runner_file_commands'}:/github/file_commands",
        "-v", f"{files.workspace}:/github/workspace",
        image,
    ]  # fmt: skip
    return command


def prepare(
    files: StepFiles,
    with_: Mapping[str, str],
    *,
    event: Any = THIS_PUSH,
    job_status: str = "failure",
    step_env: Mapping[str, str] | None = None,
    github_env: Mapping[str, str] | None = None,
    image: str = IMAGE,
    action: Mapping[str, Any] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and the docker CLI's environment for one container step of `image`, with the
    inputs of `action` (this checkout's action.yml unless told otherwise)."""
    if event is not None:
        write_event(files, event, github_env)
    step = step_environment(
        with_,
        job_status=job_status,
        step_env=step_env,
        github_env=github_env,
        action=action if action is not None else ACTION,
    )
    env = container_environment(files, step)
    cli_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return docker_run_command(files, env, image), cli_env


def run_container_step(
    files: StepFiles,
    with_: Mapping[str, str],
    *,
    event: Any = THIS_PUSH,
    job_status: str = "failure",
    step_env: Mapping[str, str] | None = None,
    github_env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> StepResult:
    command, cli_env = prepare(
        files, with_, event=event, job_status=job_status, step_env=step_env, github_env=github_env
    )
    completed = subprocess.run(
        command, env=cli_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return step_result(files, completed)
