"""The release, one step per subcommand: the release workflow calls them in order, and
`make release-rehearsal` calls the same ones against a registry on this machine.

    version VERSION [--remote R]       check it against __version__ and CHANGELOG.md, and that the remote
                                       has no tag vVERSION yet (a published version never changes)
    image REPOSITORY --version V       build and push the image; print its digest. With --platforms (the
                                       release) the index is pushed by digest alone, with no tag; without
                                       (the rehearsal), under a throwaway tag
    public IMAGE_REF                   fetch IMAGE_REF's manifest with no credentials, as the runner pulls
    action-yml IMAGE_REF [--out F]     write action.yml with runs.image docker://IMAGE_REF, nothing else
    commit VERSION IMAGE_REF           commit that action.yml (detached from main) and tag it vV
    push-tags VERSION                  push vV (never forced), then move vX.Y and vX to it
    tag-image REPOSITORY DIGEST TAG..  point image tags at the digest
    notes VERSION                      print the CHANGELOG's section for VERSION

Order matters: nothing is built for a version already released; the image is pushed (and, in the
workflow, attested) and proven pullable without credentials before any git tag exists; the git tags are
pushed before the image gets its version tags. So a release that stops half-way leaves no tag pointing at
an image users cannot pull, and no published version ever changes. GIT_TOKEN, where set, authenticates
git through an environment header, as actions/checkout does: the token is in no argument and no file.
Only the standard library is used: the workflow runs it with the runner's python3.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTION_YML = ROOT / "action.yml"
IMAGE_LINE = re.compile(r"^(  image: )(\S+)$", re.M)
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
LICENSE = "MIT"
# What a registry may answer for an image by digest: a multi-arch index, or one platform's manifest.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
MAKE_PUBLIC = (
    "Users' runners pull the image with no credentials, so a tag must never point at it while it is "
    "private: make the package public (the repository's Packages → incident-io-alert-action → Package "
    "settings → Change visibility → Public), then re-run the release. Nothing was tagged."
)


class ReleaseError(Exception):
    """A release step cannot go on; `str()` says why and what to do."""


# -- the version ---------------------------------------------------------------------------------------


def check_version(version: str, remote: str | None = None, cwd: Path = ROOT) -> dict[str, str]:
    """The tags of a release: vX.Y.Z, vX.Y and vX, once VERSION agrees with the package and CHANGELOG,
    and, with `remote`, once the remote has no tag vX.Y.Z: a published version is never rebuilt."""
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
    tags = {"version": version, "tag": f"v{version}", "minor": f"v{major}.{minor}", "major": f"v{major}"}
    if remote is not None:
        found = _git("ls-remote", "--tags", remote, f"refs/tags/{tags['tag']}", cwd=cwd, env=_git_env())
        if found:
            raise ReleaseError(
                f"{tags['tag']} is already released (the tag exists on {remote}), and a published version "
                f"never changes: release the next version instead. If that release stopped half-way, "
                "CONTRIBUTING.md says how to finish it."
            )
    return tags


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
    """Build the image, push it, and return its digest (`sha256:...`).

    With platforms (the release: linux/amd64,linux/arm64) buildx builds a multi-arch index and pushes it
    by digest alone: no tag names it until the release's git tags exist (`tag-image`), so a re-run can
    never move a published tag. Without (the rehearsal), the plain docker build and push of this
    machine's platform, under a throwaway tag.
    """
    labels = image_labels(version, context)
    label_args = [arg for name, value in labels.items() for arg in ("--label", f"{name}={value}")]
    if platforms:
        # The index's own annotations are what GHCR shows on the package page and links it by.
        annotations = [
            arg for name, value in labels.items() for arg in ("--annotation", f"index:{name}={value}")
        ]
        output = f"type=image,name={repository},push-by-digest=true,name-canonical=true,push=true"
        with tempfile.TemporaryDirectory() as tmp:
            metadata = Path(tmp) / "metadata.json"
            _run(["docker", "buildx", "build", "--platform", platforms, *label_args, *annotations,
                  "--output", output, "--metadata-file", str(metadata), str(context)])  # fmt: skip
            digest = str(json.loads(metadata.read_text()).get("containerimage.digest", ""))
    else:
        tag = f"{repository}:rehearsal-{labels['org.opencontainers.image.revision'][:12]}"
        _run(["docker", "build", "--tag", tag, *label_args, str(context)])
        _run(["docker", "push", tag])
        inspected = _run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", tag])
        repo_digests = json.loads(inspected)
        digest = next((ref.split("@", 1)[1] for ref in repo_digests if ref.startswith(f"{repository}@")), "")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ReleaseError(f"No digest for {repository} after the push (got {digest!r}).")
    return digest


def image_labels(version: str, context: Path = ROOT) -> dict[str, str]:
    """The OCI labels (and the index's annotations): what it is, where it came from, what it was built on."""
    action = (context / "action.yml").read_text()
    description = re.search(r"^description: (.+)$", action, re.M)
    labels = {
        "org.opencontainers.image.title": "incident-io-alert-action",
        "org.opencontainers.image.description": description.group(1).strip() if description else "",
        "org.opencontainers.image.licenses": LICENSE,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": _git("rev-parse", "HEAD", cwd=context),
    }
    if source := os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        labels["org.opencontainers.image.source"] = f"{server}/{source}"
    base = base_image(context)
    labels["org.opencontainers.image.base.name"] = base
    if digest := _base_digest(base):
        labels["org.opencontainers.image.base.digest"] = digest
    return labels


def base_image(context: Path = ROOT) -> str:
    """The image the Dockerfile builds from (its first FROM), named in full: docker.io/library/python:..."""
    found = re.search(r"^FROM\s+(?:--\S+\s+)*(\S+)", (context / "Dockerfile").read_text(), re.M)
    if found is None:
        raise ReleaseError("The Dockerfile has no FROM line.")
    name = found.group(1)
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def _base_digest(base: str) -> str | None:
    """The base image's digest on its registry, where this machine can ask (not an offline stand-in)."""
    answer = subprocess.run(
        ["docker", "buildx", "imagetools", "inspect", base, "--format", "{{json .Manifest}}"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    if answer.returncode != 0:
        return None
    try:
        digest = json.loads(answer.stdout).get("digest")
    except ValueError:
        return None
    return digest if isinstance(digest, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", digest) else None


def check_public(image_ref: str, timeout: float = 30) -> None:
    """Fetch the image's manifest by digest with no credentials at all, as a runner pulls a `docker://`
    action: straight away, or with the anonymous token the registry's `WWW-Authenticate` offers."""
    host, _, path = image_ref.partition("/")
    name, _, digest = path.partition("@")
    scheme = "http" if _is_loopback(host) else "https"  # a loopback registry (the rehearsal's) speaks http
    url = f"{scheme}://{host}/v2/{name}/manifests/{digest}"
    try:
        _get(url, {"Accept": MANIFEST_TYPES}, timeout)
        return
    except urllib.error.HTTPError as refused:
        refused.close()
        challenge = refused.headers.get("WWW-Authenticate", "")
        if refused.code != 401 or not challenge.lower().startswith("bearer "):
            raise ReleaseError(
                f"{image_ref} cannot be pulled without credentials (HTTP {refused.code}). {MAKE_PUBLIC}"
            ) from None
    except OSError as exc:
        raise ReleaseError(
            f"{image_ref} could not be fetched to check that it is public ({exc}); re-run."
        ) from None
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = params.pop("realm", "")
    params.setdefault("scope", f"repository:{name}:pull")
    try:
        answer = json.loads(_get(f"{realm}?{urllib.parse.urlencode(params)}", {}, timeout))
        token = answer.get("token") or answer.get("access_token")
        _get(url, {"Accept": MANIFEST_TYPES, "Authorization": f"Bearer {token}"}, timeout)
    except urllib.error.HTTPError as refused:
        refused.close()
        raise ReleaseError(
            f"{image_ref} cannot be pulled without credentials (HTTP {refused.code}). {MAKE_PUBLIC}"
        ) from None
    except (OSError, ValueError, AttributeError) as exc:
        raise ReleaseError(
            f"{image_ref} could not be fetched to check that it is public ({exc}); re-run."
        ) from None


def _get(url: str, headers: dict[str, str], timeout: float) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only, checked above
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body: bytes = response.read()
    return body


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


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
    """Push vX.Y.Z (refused if it exists: a release is never replaced), then move vX.Y and vX to it,
    with GIT_TOKEN (the release app's token) where set."""
    tags = check_version(version)
    env = _git_env()
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


def _git_env() -> dict[str, str]:
    """The environment for git: with GIT_TOKEN set, it authenticates to GitHub through a header held in
    environment variables, as actions/checkout does, so the token is in no argument and no file."""
    env = dict(os.environ)
    if token := env.pop("GIT_TOKEN", ""):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        env |= {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"http.{server}/.extraheader",
            "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
        }
    return env


def _set_outputs(values: dict[str, str]) -> None:
    """For the workflow's next steps, in GITHUB_OUTPUT (these values are plain words: one line each)."""
    if path := os.environ.get("GITHUB_OUTPUT"):
        with open(path, "a", encoding="utf-8") as file:
            file.writelines(f"{name}={value}\n" for name, value in values.items())


def _version_step(args: argparse.Namespace) -> None:
    tags = check_version(args.version, args.remote)
    _set_outputs(tags)
    print(" ".join(tags[name] for name in ("tag", "minor", "major")))


def _image_step(args: argparse.Namespace) -> None:
    check_version(args.version)
    digest = build_and_push(args.repository, args.version, args.platforms)
    _set_outputs({"digest": digest, "ref": f"{args.repository}@{digest}"})
    print(digest)


def _public_step(args: argparse.Namespace) -> None:
    check_public(args.image_ref)
    print(f"{args.image_ref} can be pulled without credentials")


def _action_yml_step(args: argparse.Namespace) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(release_action_yml(ACTION_YML.read_text(), args.image_ref))
    print(args.out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    steps = parser.add_subparsers(dest="step", required=True)
    check = steps.add_parser("version")
    check.add_argument("version")
    check.add_argument("--remote")
    check.set_defaults(run=_version_step)
    image = steps.add_parser("image")
    image.add_argument("repository")
    image.add_argument("--version", required=True)
    image.add_argument("--platforms")
    image.set_defaults(run=_image_step)
    public = steps.add_parser("public")
    public.add_argument("image_ref")
    public.set_defaults(run=_public_step)
    action = steps.add_parser("action-yml")
    action.add_argument("image_ref")
    action.add_argument("--out", type=Path, default=ACTION_YML)
    action.set_defaults(run=_action_yml_step)
    release_commit = steps.add_parser("commit")
    release_commit.add_argument("version")
    release_commit.add_argument("image_ref")
    release_commit.set_defaults(run=lambda args: print(commit(args.version, args.image_ref)))
    push = steps.add_parser("push-tags")
    push.add_argument("version")
    push.add_argument("--remote", default="origin")
    push.set_defaults(run=lambda args: push_tags(args.version, args.remote))
    retag = steps.add_parser("tag-image")
    retag.add_argument("repository")
    retag.add_argument("digest")
    retag.add_argument("tags", nargs="+")
    retag.set_defaults(run=lambda args: tag_image(args.repository, args.digest, args.tags))
    notes = steps.add_parser("notes")
    notes.add_argument("version")
    notes.set_defaults(run=lambda args: print(release_notes(args.version), end=""))
    args = parser.parse_args(argv)
    try:
        args.run(args)
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
