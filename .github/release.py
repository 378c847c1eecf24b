"""The release, one step per subcommand: the release workflow calls them in order, and
`make release-rehearsal` calls the same ones against a registry on this machine.

    version VERSION                    check it against __version__ and CHANGELOG.md
    image REPOSITORY --version V       build and push REPOSITORY:vV; print its digest
    action-yml IMAGE_REF [--out F]     write action.yml with runs.image docker://IMAGE_REF, nothing else
    commit VERSION IMAGE_REF           commit that action.yml (detached from main) and tag it vV
    push-tags VERSION                  push vV (never forced), then move vX.Y and vX to it
    tag-image REPOSITORY DIGEST TAG..  point image tags at the digest
    notes VERSION                      print the CHANGELOG's section for VERSION

Order matters: the image is pushed (and, in the workflow, attested) before any git tag exists, and git
tags are moved before image tags, so a release that stops half-way leaves no tag pointing at an image
that does not exist. Only the standard library is used: the workflow runs it with the runner's python3.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTION_YML = ROOT / "action.yml"
IMAGE_LINE = re.compile(r"^(  image: )(\S+)$", re.M)
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class ReleaseError(Exception):
    """A release step cannot go on; `str()` says why and what to do."""


# -- the version ---------------------------------------------------------------------------------------


def check_version(version: str) -> dict[str, str]:
    """The tags of a release: vX.Y.Z, vX.Y and vX, once VERSION agrees with the package and CHANGELOG."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ReleaseError(f"The version {version!r} is not X.Y.Z.")
    package = re.search(r'^__version__ = "(.+)"$', (ROOT / "entrypoint" / "__init__.py").read_text(), re.M)
    if package is None or package.group(1) != version:
        found = package.group(1) if package else "nothing"
        raise ReleaseError(
            f"The version {version} does not match __version__ = {found!r} in entrypoint/__init__.py."
        )
    if not re.search(rf"^## {re.escape(version)} ", (ROOT / "CHANGELOG.md").read_text(), re.M):
        raise ReleaseError(f"CHANGELOG.md has no section for {version} ('## {version} - <date>').")
    major, minor, _ = version.split(".")
    return {"version": version, "tag": f"v{version}", "minor": f"v{major}.{minor}", "major": f"v{major}"}


def release_notes(version: str) -> str:
    """The CHANGELOG's section for VERSION, without its heading."""
    lines = (ROOT / "CHANGELOG.md").read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"## {version} ")), None)
    if start is None:
        raise ReleaseError(f"CHANGELOG.md has no section for {version}.")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1 : end]).strip() + "\n"


# -- the image -----------------------------------------------------------------------------------------


def build_and_push(repository: str, version: str, platforms: str | None, context: Path = ROOT) -> str:
    """Build the image, push it as REPOSITORY:vVERSION, and return its digest (`sha256:...`).

    With platforms (the release: linux/amd64,linux/arm64) buildx builds and pushes a multi-arch index;
    without (the rehearsal), the plain docker build and push of this machine's platform.
    """
    tag = f"{repository}:v{version}"
    labels = [
        f"org.opencontainers.image.version={version}",
        f"org.opencontainers.image.revision={_git('rev-parse', 'HEAD', cwd=context)}",
    ]
    if source := os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        labels.append(f"org.opencontainers.image.source={server}/{source}")
    label_args = [arg for label in labels for arg in ("--label", label)]
    if platforms:
        with tempfile.TemporaryDirectory() as tmp:
            metadata = Path(tmp) / "metadata.json"
            _run(["docker", "buildx", "build", "--platform", platforms, "--tag", tag, *label_args, "--push",
                  "--metadata-file", str(metadata), str(context)])  # fmt: skip
            digest = str(json.loads(metadata.read_text()).get("containerimage.digest", ""))
    else:
        _run(["docker", "build", "--tag", tag, *label_args, str(context)])
        _run(["docker", "push", tag])
        inspected = _run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", tag])
        repo_digests = json.loads(inspected)
        digest = next((ref.split("@", 1)[1] for ref in repo_digests if ref.startswith(f"{repository}@")), "")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ReleaseError(f"No digest for {tag} after the push (got {digest!r}).")
    return digest


def tag_image(repository: str, digest: str, tags: Sequence[str]) -> None:
    """Point REPOSITORY:TAG at REPOSITORY@DIGEST for each tag: on the registry where buildx is there
    (keeping every platform of the index), else by pull, tag and push."""
    source = f"{repository}@{digest}"
    buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False).returncode == 0
    if not buildx:
        _run(["docker", "pull", source])
    for tag in tags:
        if buildx:
            _run(["docker", "buildx", "imagetools", "create", "--tag", f"{repository}:{tag}", source])
        else:
            _run(["docker", "tag", source, f"{repository}:{tag}"])
            _run(["docker", "push", f"{repository}:{tag}"])


# -- action.yml and git --------------------------------------------------------------------------------


def release_action_yml(text: str, image_ref: str) -> str:
    """action.yml as released: `runs.image: docker://IMAGE_REF` instead of the Dockerfile; nothing else."""
    if not re.fullmatch(r"[a-z0-9.:/_-]+@sha256:[0-9a-f]{64}", image_ref):
        raise ReleaseError(f"The image {image_ref!r} is not pinned by digest (name@sha256:...).")
    images = IMAGE_LINE.findall(text)
    if images != [("  image: ", "Dockerfile")]:
        raise ReleaseError(
            f"action.yml should have one `  image: Dockerfile` line under runs; found {images}."
        )
    return IMAGE_LINE.sub(lambda match: f"{match.group(1)}docker://{image_ref}", text)


def commit(version: str, image_ref: str, cwd: Path = ROOT) -> str:
    """Commit the release action.yml on a detached HEAD (main keeps `image: Dockerfile`) and tag it."""
    tags = check_version(version)
    _git("checkout", "--quiet", "--detach", cwd=cwd)
    action = cwd / "action.yml"
    action.write_text(release_action_yml(action.read_text(), image_ref))
    _git("add", "action.yml", cwd=cwd)
    as_bot = ("-c", f"user.name={BOT[0]}", "-c", f"user.email={BOT[1]}")
    message = f"Release {tags['tag']}: runs.image is the prebuilt image {image_ref}"
    _git(*as_bot, "commit", "--quiet", "-m", message, cwd=cwd)
    _git(*as_bot, "tag", "-a", tags["tag"], "-m", tags["tag"], cwd=cwd)
    return _git("rev-parse", "HEAD", cwd=cwd)


def push_tags(version: str, remote: str, cwd: Path = ROOT) -> None:
    """Push vX.Y.Z (refused if it exists: a release is never replaced), then move vX.Y and vX to it.

    With PUSH_TOKEN set (the release app's token), git authenticates with it through an environment
    header, as actions/checkout does: the token is in no argument and no file.
    """
    tags = check_version(version)
    env = dict(os.environ)
    if token := env.pop("PUSH_TOKEN", ""):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        env |= {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"http.{server}/.extraheader",
            "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
        }
    _git("push", remote, f"refs/tags/{tags['tag']}", cwd=cwd, env=env)
    for moving in (tags["minor"], tags["major"]):
        _git("tag", "--force", moving, f"{tags['tag']}^{{commit}}", cwd=cwd)
    _git(
        "push",
        "--force",
        remote,
        f"refs/tags/{tags['minor']}",
        f"refs/tags/{tags['major']}",
        cwd=cwd,
        env=env,
    )


# -- plumbing ------------------------------------------------------------------------------------------


def _run(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        shown = " ".join(command[:4])
        raise ReleaseError(
            f"`{shown} ...` failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}"
        )
    return completed.stdout.strip()


def _git(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    return _run(["git", *args], cwd=cwd, env=env)


def _set_outputs(values: dict[str, str]) -> None:
    """For the workflow's next steps, in GITHUB_OUTPUT (these values are plain words: one line each)."""
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as file:
            file.writelines(f"{name}={value}\n" for name, value in values.items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("version").add_argument("version")
    image = steps.add_parser("image")
    image.add_argument("repository")
    image.add_argument("--version", required=True)
    image.add_argument("--platforms")
    action = steps.add_parser("action-yml")
    action.add_argument("image_ref")
    action.add_argument("--out", type=Path, default=ACTION_YML)
    release_commit = steps.add_parser("commit")
    release_commit.add_argument("version")
    release_commit.add_argument("image_ref")
    push = steps.add_parser("push-tags")
    push.add_argument("version")
    push.add_argument("--remote", default="origin")
    retag = steps.add_parser("tag-image")
    retag.add_argument("repository")
    retag.add_argument("digest")
    retag.add_argument("tags", nargs="+")
    steps.add_parser("notes").add_argument("version")
    args = parser.parse_args(argv)
    try:
        if args.step == "version":
            tags = check_version(args.version)
            _set_outputs(tags)
            print(" ".join(tags[name] for name in ("tag", "minor", "major")))
        elif args.step == "image":
            check_version(args.version)
            digest = build_and_push(args.repository, args.version, args.platforms)
            _set_outputs({"digest": digest, "ref": f"{args.repository}@{digest}"})
            print(digest)
        elif args.step == "action-yml":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(release_action_yml(ACTION_YML.read_text(), args.image_ref))
            print(args.out)
        elif args.step == "commit":
            print(commit(args.version, args.image_ref))
        elif args.step == "push-tags":
            push_tags(args.version, args.remote)
        elif args.step == "tag-image":
            tag_image(args.repository, args.digest, args.tags)
        elif args.step == "notes":
            print(release_notes(args.version), end="")
    except ReleaseError as exc:
        if os.environ.get("GITHUB_ACTIONS") == "true":  # one annotation, whatever the error's text holds
            text = str(exc).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            print(f"::error title=Release stopped::{text}")
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
