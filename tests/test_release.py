"""The release: `.github/release.py` step by step, and the rehearsal that runs the steps against a real
registry and runs the released action the way the runner runs a `docker://` action."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import entrypoint
from tests.support.actions_runner import ACTION, ROOT, workflow_commands
from tests.support.container import CHECKOUT_ID, docker_unavailable_reason
from tests.support.registry_stand_in import RegistryStandIn
from tests.support.rehearsal import (
    REGISTRY,
    RehearsalFailed,
    git,
    git_remote,
    registry_unavailable_reason,
    rehearse,
    rehearse_git,
    tags_in_registry,
)

SCRIPT = ROOT / ".github" / "release.py"
VERSION = entrypoint.__version__
IMAGE_REF = "ghcr.io/octo-org/incident-io-alert-action@sha256:" + "0123456789abcdef" * 4


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = load_script()


def without_image(action: dict[str, Any]) -> dict[str, Any]:
    return {**action, "runs": {key: value for key, value in action["runs"].items() if key != "image"}}


def test_the_released_action_yml_differs_from_mains_in_runs_image_alone() -> None:
    main_text = (ROOT / "action.yml").read_text()
    released_text = release.release_action_yml(main_text, IMAGE_REF)
    released = yaml.safe_load(released_text)

    assert ACTION["runs"]["image"] == "Dockerfile"  # main, forks and @main still build from source
    assert released["runs"]["image"] == f"docker://{IMAGE_REF}"
    assert without_image(released) == without_image(ACTION)
    changed = [
        pair
        for pair in zip(main_text.splitlines(), released_text.splitlines(), strict=True)
        if pair[0] != pair[1]
    ]
    assert changed == [("  image: Dockerfile", f"  image: docker://{IMAGE_REF}")]


@pytest.mark.parametrize(
    "image_ref",
    [
        "ghcr.io/octo-org/incident-io-alert-action:v1",  # a tag can move: only a digest pins
        "ghcr.io/octo-org/incident-io-alert-action@sha256:abc",
        "ghcr.io/Octo-Org/incident-io-alert-action@sha256:" + "0" * 64,  # registries want lower case
    ],
)
def test_only_an_image_pinned_by_digest_is_released(image_ref: str) -> None:
    with pytest.raises(release.ReleaseError, match="not pinned by digest"):
        release.release_action_yml((ROOT / "action.yml").read_text(), image_ref)


def test_the_version_must_be_the_packages_and_in_the_changelog() -> None:
    major, minor, _ = VERSION.split(".")
    assert release.check_version(VERSION) == {
        "version": VERSION,
        "tag": f"v{VERSION}",
        "minor": f"v{major}.{minor}",
        "major": f"v{major}",
    }
    with pytest.raises(release.ReleaseError, match="does not match __version__"):
        release.check_version("9.9.9")
    with pytest.raises(release.ReleaseError, match=r"is not X\.Y\.Z"):
        release.check_version("v1.0")


def script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_the_version_step_gives_the_workflow_its_tags(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "GITHUB_ACTIONS": "true"}
    ok = script("version", VERSION, env=env)
    major, minor, _ = VERSION.split(".")
    assert ok.returncode == 0, ok.stderr
    assert output.read_text().split() == [
        f"version={VERSION}",
        f"tag=v{VERSION}",
        f"minor=v{major}.{minor}",
        f"major=v{major}",
    ]

    refused = script("version", "9.9.9", env=env)
    assert refused.returncode == 1
    (error,) = workflow_commands(refused.stdout)
    assert error.name == "error" and error.properties == {"title": "Release stopped"}
    assert error.data.startswith("The version 9.9.9 does not match __version__")


def test_the_release_notes_are_the_changelog_section() -> None:
    notes = release.release_notes(VERSION)
    assert notes.startswith("First release.")
    assert "# Changelog" not in notes and f"## {VERSION}" not in notes


def test_the_release_commit_and_tags(tmp_path: Path) -> None:
    """The git half of the release, against a bare repository standing in for GitHub: vX.Y.Z on a commit
    that changes only action.yml, vX.Y and vX moved to it, and the version never released twice."""
    released = rehearse_git(tmp_path, VERSION, IMAGE_REF)
    origin = tmp_path / "origin.git"

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=origin, capture_output=True, text=True, check=True).stdout

    action = yaml.safe_load(git("show", f"v{VERSION}:action.yml"))
    assert action["runs"]["image"] == f"docker://{IMAGE_REF}"
    assert yaml.safe_load(git("show", "main:action.yml"))["runs"]["image"] == "Dockerfile"  # main unchanged
    assert git("rev-parse", f"v{VERSION.split('.')[0]}^{{commit}}").strip() == released
    assert git("cat-file", "-t", f"v{VERSION}").strip() == "tag"  # annotated: who released it, and when


# -- a published version never changes ------------------------------------------------------------------


def test_the_version_step_refuses_a_version_already_on_the_remote(tmp_path: Path) -> None:
    """Before anything is built: a re-run would otherwise push a new image under a published version."""
    origin, clone = git_remote(tmp_path)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GITHUB_ACTIONS": "true"}
    script = str(clone / ".github" / "release.py")
    version_step = [sys.executable, script, "version", VERSION, "--remote", "origin"]

    fresh = subprocess.run(version_step, cwd=clone, env=env, capture_output=True, text=True, check=False)
    git("tag", f"v{VERSION}", cwd=origin)
    again = subprocess.run(version_step, cwd=clone, env=env, capture_output=True, text=True, check=False)

    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert again.returncode == 1
    (error,) = workflow_commands(again.stdout)
    assert error.data.startswith(f"v{VERSION} is already released (the tag exists on origin)")
    assert "CONTRIBUTING.md says how to finish it" in error.data


def test_git_authenticates_with_the_token_through_the_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_TOKEN", "ghs_apptoken")
    env = release._git_env()

    assert "GIT_TOKEN" not in env
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraheader"
    assert env["GIT_CONFIG_VALUE_0"] == "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2FwcHRva2Vu"


# -- never a tag on an image users cannot pull ----------------------------------------------------------

DIGEST = "sha256:" + "0123456789abcdef" * 4
PYTHON = "docker.io/library/python:3.12-slim"
PACKAGE = "octo-org/incident-io-alert-action"


def test_a_private_package_stops_the_release_with_how_to_make_it_public() -> None:
    with RegistryStandIn(public=False) as registry:
        with pytest.raises(release.ReleaseError) as stopped:
            release.check_public(f"{registry.host}/{PACKAGE}@{DIGEST}")
        asked = [request.path for request in registry.received]

    assert "cannot be pulled without credentials (HTTP 403)" in str(stopped.value)
    assert "make the package public" in str(stopped.value)
    assert "Nothing was tagged." in str(stopped.value)
    # As a runner pulls: the manifest, then the anonymous token the challenge offers (refused); no login.
    assert asked[0] == f"/v2/{PACKAGE}/manifests/{DIGEST}"
    assert asked[1].startswith("/token?")
    assert "scope=repository%3Aocto-org%2Fincident-io-alert-action%3Apull" in asked[1]


def test_a_public_package_is_pulled_with_the_anonymous_token() -> None:
    with RegistryStandIn(public=True) as registry:
        release.check_public(f"{registry.host}/{PACKAGE}@{DIGEST}")
        last = registry.received[-1]

    assert last.headers["authorization"] == "Bearer anonymous-pull-token"
    assert "application/vnd.oci.image.index.v1+json" in last.headers["accept"]


def test_the_image_says_where_it_comes_from_and_what_it_was_built_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", PACKAGE)
    labels = release.image_labels(VERSION)

    assert labels["org.opencontainers.image.source"] == f"https://github.com/{PACKAGE}"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.description"] == ACTION["description"]
    assert labels["org.opencontainers.image.base.name"] == PYTHON
    # Where the base's registry answers (GitHub's runners), its digest too; not for an offline stand-in.
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", labels.get("org.opencontainers.image.base.digest", DIGEST))


@pytest.mark.parametrize(
    ("dockerfile", "base"),
    [
        ("FROM python:3.12-slim\n", PYTHON),
        ("FROM --platform=$BUILDPLATFORM python:3.12-slim AS build\nFROM scratch\n", PYTHON),
        ("FROM someone/python:3.12\n", "docker.io/someone/python:3.12"),
        ("FROM ghcr.io/o/python:3.12\n", "ghcr.io/o/python:3.12"),
    ],
)  # fmt: skip
def test_the_base_image_is_named_in_full(tmp_path: Path, dockerfile: str, base: str) -> None:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    assert release.base_image(tmp_path) == base


def require_registry(registry: str = REGISTRY) -> None:
    reason = docker_unavailable_reason() or registry_unavailable_reason(registry)
    if reason is not None:
        if os.environ.get("REQUIRE_CONTAINER_TESTS") == "1":
            pytest.fail(f"the release rehearsal is required but cannot run: {reason}")
        pytest.skip(reason)


@pytest.mark.container
def test_a_registry_refusing_anonymous_pulls_stops_the_release_before_any_tag(tmp_path: Path) -> None:
    require_registry()
    name = f"incident-io-alert-action-refused-{CHECKOUT_ID}-{uuid.uuid4().hex[:8]}"
    refused = pytest.raises(RehearsalFailed, match="make the package public")
    with RegistryStandIn(public=False) as private, refused:
        rehearse(tmp_path, log=lambda _line: None, name=name, pull_from=private.host)

    major = VERSION.split(".")[0]
    origin = tmp_path / "origin.git"
    assert git("tag", "--list", cwd=origin).split() == [f"v{major}"]  # only the earlier release's, unmoved
    assert git("rev-parse", f"v{major}^{{commit}}", cwd=origin) == git("rev-parse", "main", cwd=origin)
    assert [tag for tag in tags_in_registry(f"{REGISTRY}/{name}") if tag.startswith("v")] == []


@pytest.mark.container
def test_release_rehearsal_against_a_real_registry(tmp_path: Path) -> None:
    """The release's steps in its order: checked, pushed, pulled without credentials, run as the runner runs
    a docker:// action, git tags pushed, then the image's tags; the same version again refused."""
    require_registry()

    rehearsal = rehearse(tmp_path, log=lambda _line: None)

    assert rehearsal.step.returncode == 0, rehearsal.step.log
    assert rehearsal.step.outputs["sent"] == "true"
    assert rehearsal.step.outputs["status"] == "firing"
    assert rehearsal.body["title"].startswith("CI / test failed")
    released = yaml.safe_load(rehearsal.action_yml.read_text())
    assert released["runs"]["image"] == f"docker://{rehearsal.repository}@{rehearsal.digest}"
    assert without_image(released) == without_image(ACTION)
    major, minor, _ = VERSION.split(".")
    assert {f"v{VERSION}", f"v{major}.{minor}", f"v{major}"} <= set(tags_in_registry(rehearsal.repository))


OTHER_PORT = "5001"  # .ci/run and the CI workflow start a registry here too


@pytest.mark.container
def test_make_release_rehearsal_honours_registry_port() -> None:
    """The registry it starts (where ../shared has the script) and the one it pushes to."""
    require_registry(f"127.0.0.1:{OTHER_PORT}")
    env = {key: value for key, value in os.environ.items() if key != "REGISTRY"}

    done = subprocess.run(
        ["make", "--no-print-directory", "release-rehearsal", f"REGISTRY_PORT={OTHER_PORT}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert summary["image"].startswith(f"127.0.0.1:{OTHER_PORT}/")
    assert summary["outputs"] == {"status": "firing", "sent": "true"}
