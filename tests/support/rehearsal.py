"""`make release-rehearsal`: the release script's steps against a real registry on this machine, then the
released action run the way the runner runs a `docker://` action.

1. `.github/release.py image` builds the image and pushes it to the registry (REGISTRY, 127.0.0.1:5000);
2. `action-yml` writes dist/release/action.yml, whose runs.image is `docker://<registry>/...@sha256:...`;
3. the local image is removed, then pulled by digest, as the runner does at "Set up job";
4. the pulled image runs with the runner's `docker run` line, the inputs and runs.env of the released
   action.yml, against the incident.io stand-in, and its outputs are checked;
5. `tag-image` moves the image's vX.Y and vX tags to it, and `commit` and `push-tags` make and push the
   release commit and tags, in a clone whose `origin` is a bare repository here.

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

REGISTRY = os.environ.get("REGISTRY", "127.0.0.1:5000")
OUT = ROOT / "dist" / "release"
TOKEN = "rehearsal-token"
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


def rehearse(tmp: Path, registry: str = REGISTRY, log: Any = print) -> Rehearsal:
    version = __version__
    major, minor, _ = version.split(".")
    repository = f"{registry}/incident-io-alert-action-rehearsal-{CHECKOUT_ID}"

    log(f"1. build and push {repository}:v{version}")
    release("version", version)
    digest = release("image", repository, "--version", version).splitlines()[-1]
    image_ref = f"{repository}@{digest}"

    log(f"2. write {OUT.relative_to(ROOT)}/action.yml with runs.image docker://{image_ref}")
    action_yml = OUT / "action.yml"
    release("action-yml", image_ref, "--out", str(action_yml))
    action = yaml.safe_load(action_yml.read_text())
    if action["runs"]["image"] != f"docker://{image_ref}":
        raise RehearsalFailed(f"runs.image is {action['runs']['image']!r}")

    # (Layers it shares with other images here stay and are not fetched again: `make bench` times a pull.)
    log("3. remove the local image, then pull it by digest as the runner does")
    docker("image", "rm", f"{repository}:v{version}")
    docker("pull", image_ref)

    log("4. run the released action with the runner's docker run line")
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

    log(
        f"5. move the image tags v{major}.{minor} and v{major}, and make and push the release commit and tags"
    )
    release("tag-image", repository, digest, f"v{major}.{minor}", f"v{major}")
    docker("pull", f"{repository}:v{major}")
    if image_ref not in docker(
        "image", "inspect", "--format", "{{json .RepoDigests}}", f"{repository}:v{major}"
    ):
        raise RehearsalFailed(f"{repository}:v{major} is not {image_ref}")
    release_commit = rehearse_git(tmp, version, image_ref)
    return Rehearsal(repository, digest, action_yml, step, bodies[0], release_commit)


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


def rehearse_git(tmp: Path, version: str, image_ref: str) -> str:
    """The release commit and tags, pushed from a clone to a bare repository standing in for GitHub."""
    origin, clone = tmp / "origin.git", tmp / "clone"
    git("clone", "--quiet", "--bare", str(snapshot(tmp)), str(origin), cwd=tmp)
    git("clone", "--quiet", str(origin), str(clone), cwd=tmp)
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
    # A release is never replaced: releasing the same version again, from a fresh checkout, is refused.
    again = tmp / "again"
    git("clone", "--quiet", str(origin), str(again), cwd=tmp)
    try:
        release("commit", version, image_ref, script=again / ".github" / "release.py", cwd=again)
        release("push-tags", version, script=again / ".github" / "release.py", cwd=again)
    except RehearsalFailed:
        if git("rev-parse", f"v{version}^{{commit}}", cwd=origin) == released:
            return released
    raise RehearsalFailed(f"v{version} could be released a second time")


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
