"""`make release-rehearsal`: the release script's steps, in the release workflow's order, against a real
registry on this machine and a bare git repository standing in for GitHub; then the released action run
the way the runner runs a `docker://` action.

1. `version --remote origin`: the version matches, and no tag vX.Y.Z is on the remote yet;
2. `image` builds the image and pushes it to the registry (REGISTRY, or 127.0.0.1:REGISTRY_PORT, 5000
   by default) under a throwaway tag: no version tag names it yet;
3. `public` fetches its manifest by digest with no credentials, as users' runners pull it;
4. `action-yml` writes dist/release/action.yml (runs.image `docker://<registry>/...@sha256:...`); the
   local image is removed and pulled by digest, as the runner does at "Set up job", and run with the
   runner's `docker run` line, the inputs and runs.env of the released action.yml, against the
   incident.io stand-in;
5. `commit` and `push-tags` make the release commit and push vX.Y.Z, vX.Y and vX to the bare repository;
6. `tag-image` gives the image its tags vX.Y.Z, vX.Y and vX, after the git tags;
7. releasing the same version again is refused by `version` before anything is built.

Where no registry answers, it says how to start one: `../shared/container/local-registry.sh` on these
machines, `docker run -d -p 127.0.0.1:5000:5000 registry:2` elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from entrypoint import __version__
from tests.support.actions_runner import ROOT, StepFiles, StepResult, step_result
from tests.support.container import CHECKOUT_ID, prepare
from tests.support.incident_io_stand_in import IncidentIoStandIn

REGISTRY = os.environ.get("REGISTRY") or f"127.0.0.1:{os.environ.get('REGISTRY_PORT') or '5000'}"
OUT = ROOT / "dist" / "release"
TOKEN = "rehearsal-token-0123456789"
NAME = f"incident-io-alert-action-rehearsal-{CHECKOUT_ID}"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"


class RehearsalFailed(Exception):
    """A step of the rehearsal did not do what the release needs."""


@dataclass
class Rehearsal:
    repository: str
    digest: str
    action_yml: Path
    step: StepResult
    body: dict[str, Any]
    release_commit: str


def registry_unavailable_reason(registry: str = REGISTRY) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/", timeout=3):
            return None
    except OSError as exc:
        return (
            f"no registry answers at {registry} ({exc}); start one with "
            "../shared/container/local-registry.sh or `docker run -d -p 127.0.0.1:5000:5000 registry:2`"
        )


def release(*args: str, script: Path = ROOT / ".github" / "release.py", cwd: Path = ROOT) -> str:
    """One step of the release script, as the workflow runs it (outside GitHub Actions here)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")}
    completed = subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RehearsalFailed(f"release.py {args[0]} failed: {completed.stdout}{completed.stderr}")
    return completed.stdout.strip()


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def rehearse(
    tmp: Path, registry: str = REGISTRY, log: Any = print, name: str = NAME, pull_from: str | None = None
) -> Rehearsal:
    """The release, step by step. `pull_from`: another registry host for step 3's anonymous pull (a
    stand-in that refuses it), to show that the release stops there."""
    version = __version__
    major, minor, _ = version.split(".")
    repository = f"{registry}/{name}"
    origin, clone = git_remote(tmp)

    def step(*args: str) -> str:
        return release(*args, script=clone / ".github" / "release.py", cwd=clone)

    log(f"1. v{version} matches the package and the CHANGELOG, and is not on the remote yet")
    step("version", version, "--remote", "origin")

    log(f"2. build {repository} and push it under a throwaway tag")
    digest = step("image", repository, "--version", version).splitlines()[-1]
    image_ref = f"{repository}@{digest}"

    log("3. pull its manifest by digest with no credentials, as users' runners do")
    step("public", image_ref if pull_from is None else image_ref.replace(registry, pull_from, 1))

    log(f"4. write {OUT.relative_to(ROOT)}/action.yml, pull the image by digest, and run it as a runner does")
    action_yml = OUT / "action.yml"
    step("action-yml", image_ref, "--out", str(action_yml))
    action = yaml.safe_load(action_yml.read_text())
    if action["runs"]["image"] != f"docker://{image_ref}":
        raise RehearsalFailed(f"runs.image is {action['runs']['image']!r}")
    # (Layers it shares with other images here stay and are not fetched again: `make bench` times a pull.)
    local_ids = set(docker("image", "ls", "--quiet", repository).split())  # its tags, and earlier runs'
    docker("image", "rm", "--force", *local_ids)
    docker("pull", image_ref)
    run, body = run_released(tmp, action)

    log(f"5. the release commit, tagged v{version}; v{major}.{minor} and v{major} moved to it")
    released = release_git(clone, origin, version, image_ref)

    log(f"6. the image's tags v{version}, v{major}.{minor} and v{major}, after the git tags")
    step("tag-image", repository, digest, f"v{version}", f"v{major}.{minor}", f"v{major}")
    for tag in (f"v{version}", f"v{major}"):
        docker("pull", f"{repository}:{tag}")
        if image_ref not in docker(
            "image", "inspect", "--format", "{{json .RepoDigests}}", f"{repository}:{tag}"
        ):
            raise RehearsalFailed(f"{repository}:{tag} is not {image_ref}")

    log(f"7. releasing v{version} again is refused before anything is built")
    refuse_again(tmp, origin, version)
    return Rehearsal(repository, digest, action_yml, run, body, released)


def run_released(tmp: Path, action: dict[str, Any]) -> tuple[StepResult, dict[str, Any]]:
    """The released action's image, run with the runner's docker run line against incident.io's stand-in."""
    with IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as stand_in:
        files = StepFiles(tmp / "step")
        with_ = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
        pulled = action["runs"]["image"].removeprefix("docker://")
        command, cli_env = prepare(files, with_, image=pulled, action=action)
        completed = subprocess.run(
            command, env=cli_env, capture_output=True, text=True, timeout=120, check=False
        )
        step = step_result(files, completed)
        bodies = stand_in.bodies()
    if step.returncode != 0 or step.outputs.get("sent") != "true" or len(bodies) != 1:
        raise RehearsalFailed(f"the released action did not deliver its alert: {step.log}")
    return step, bodies[0]


def tags_in_registry(repository: str) -> list[str]:
    """The tags a repository of the registry has (distribution API), for checking what a release left."""
    registry, _, name = repository.partition("/")
    with urllib.request.urlopen(f"http://{registry}/v2/{name}/tags/list", timeout=10) as answer:
        tags: list[str] = json.load(answer).get("tags") or []
    return tags


def snapshot(tmp: Path) -> Path:
    """A repository holding this checkout's files as they are now (committed or not), on `main`, with the
    tags a previous release left: what the workflow's checkout of main would hold."""
    repo = tmp / "main"
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    git("add", "--all", cwd=repo)
    as_someone = ("-c", "user.name=Maintainer", "-c", "user.email=maintainer@example.com")
    git(*as_someone, "commit", "--quiet", "-m", "main as it is", cwd=repo)
    major = __version__.split(".")[0]
    git("tag", f"v{major}", cwd=repo)  # where an earlier release left it: to be moved
    return repo


def git_remote(tmp: Path) -> tuple[Path, Path]:
    """A bare repository standing in for GitHub (main as it is, and the major tag an earlier release left),
    and a clone of it, as the workflow's checkout of main would hold."""
    origin, clone = tmp / "origin.git", tmp / "clone"
    git("clone", "--quiet", "--bare", str(snapshot(tmp)), str(origin), cwd=tmp)
    git("clone", "--quiet", str(origin), str(clone), cwd=tmp)
    return origin, clone


def release_git(clone: Path, origin: Path, version: str, image_ref: str) -> str:
    """The release commit and tags, pushed from the clone; returns the released commit."""
    script = clone / ".github" / "release.py"
    release("commit", version, image_ref, script=script, cwd=clone)
    release("push-tags", version, script=script, cwd=clone)
    major, minor, _ = version.split(".")
    released = git("rev-parse", f"v{version}^{{commit}}", cwd=origin)
    moved = {git("rev-parse", f"{tag}^{{commit}}", cwd=origin) for tag in (f"v{major}.{minor}", f"v{major}")}
    if moved != {released}:
        raise RehearsalFailed(f"v{major}.{minor} and v{major} do not point at v{version} ({released})")
    changed = git("diff", "--name-only", "main", released, cwd=origin).split()
    if changed != ["action.yml"]:
        raise RehearsalFailed(f"the release commit changes {changed}, not action.yml alone")
    return released


def refuse_again(tmp: Path, origin: Path, version: str) -> None:
    """A published version never changes: from a fresh checkout, its version step refuses it."""
    again = tmp / "again"
    git("clone", "--quiet", str(origin), str(again), cwd=tmp)
    try:
        release("version", version, "--remote", "origin", script=again / ".github" / "release.py", cwd=again)
    except RehearsalFailed as refused:
        if "is already released" in str(refused):
            return
        raise
    raise RehearsalFailed(f"v{version} could be released a second time")


def rehearse_git(tmp: Path, version: str, image_ref: str) -> str:
    """The git half of the release alone: checked, committed, tagged, pushed, and refused a second time."""
    origin, clone = git_remote(tmp)
    release("version", version, "--remote", "origin", script=clone / ".github" / "release.py", cwd=clone)
    released = release_git(clone, origin, version, image_ref)
    refuse_again(tmp, origin, version)
    return released


def main() -> None:
    reason = registry_unavailable_reason()
    if reason is not None:
        raise SystemExit(f"release rehearsal: {reason}")
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        rehearsal = rehearse(Path(tmp))
    print(
        json.dumps(
            {
                "image": f"{rehearsal.repository}@{rehearsal.digest}",
                "action.yml": str(rehearsal.action_yml.relative_to(ROOT)),
                "alert": rehearsal.body["title"],
                "outputs": {k: v for k, v in rehearsal.step.outputs.items() if k in ("status", "sent")},
                "release commit": rehearsal.release_commit,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
