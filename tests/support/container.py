"""Building the image and running it with the runner's own `docker run` line (notes §2).

The environment is passed as `-e NAME` only, with the values in the docker CLI's own environment, as
the runner does; paths are the container's (/github/...). `--network host` stands in for the runner's
network so the container reaches the incident.io stand-in on 127.0.0.1, and nothing else.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
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


def compressed_layers(image: str = IMAGE) -> int:
    """The image's layers compressed as `docker push` compresses them (gzip, level 6): what a runner with
    no images at all fetches. For an image FROM scratch, every layer is the action's own."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "image.tar"
        subprocess.run(["docker", "save", "--output", str(archive), image], check=True, timeout=300)
        with tarfile.open(archive) as saved:
            layers: list[str] = json.loads(_member(saved, "manifest.json"))[0]["Layers"]
            return sum(_gzipped_size(_member(saved, layer)) for layer in layers)


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(name)
    if member is None:
        raise FileNotFoundError(f"{name} is not a file of the saved image")
    return member.read()


def stripped_estimate(image: str = IMAGE) -> int:
    """The same, had its ELF files been stripped as the official python image links them (--strip-all):
    the figure for the released image, where this machine's base is a stand-in built without stripping.
    On the official base (GitHub's CI) stripping changes little, and this is what the registry holds."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fs"
        root.mkdir()
        container = subprocess.run(["docker", "create", image], capture_output=True, text=True, check=True)
        try:
            exported = subprocess.run(
                ["docker", "export", container.stdout.strip()], capture_output=True, check=True, timeout=300
            )
        finally:
            subprocess.run(["docker", "rm", container.stdout.strip()], capture_output=True, check=False)
        with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as tar:
            tar.extractall(root, filter="tar")
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF":
                subprocess.run(["strip", "--strip-unneeded", str(path)], capture_output=True, check=False)
        layer = io.BytesIO()
        with tarfile.open(fileobj=layer, mode="w") as tar:
            for path in sorted(root.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
        return _gzipped_size(layer.getvalue())


def _gzipped_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))
