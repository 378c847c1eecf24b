"""The release: `.github/release.py` step by step, and the rehearsal that runs the steps against a real
registry and runs the released action the way the runner runs a `docker://` action."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import entrypoint
from tests.support.actions_runner import ACTION, ROOT, workflow_commands
from tests.support.container import docker_unavailable_reason
from tests.support.rehearsal import registry_unavailable_reason, rehearse, rehearse_git

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


@pytest.mark.container
def test_release_rehearsal_against_a_real_registry(tmp_path: Path) -> None:
    """`make release-rehearsal`: build, push, write the release action.yml, pull by digest, run as the
    runner runs a docker:// action, move the image and git tags."""
    reason = docker_unavailable_reason() or registry_unavailable_reason()
    if reason is not None:
        if os.environ.get("REQUIRE_CONTAINER_TESTS") == "1":
            pytest.fail(f"the release rehearsal is required but cannot run: {reason}")
        pytest.skip(reason)

    rehearsal = rehearse(tmp_path, log=lambda _line: None)

    assert rehearsal.step.returncode == 0, rehearsal.step.log
    assert rehearsal.step.outputs["sent"] == "true"
    assert rehearsal.step.outputs["status"] == "firing"
    assert rehearsal.body["title"].startswith("CI / test failed")
    released = yaml.safe_load(rehearsal.action_yml.read_text())
    assert released["runs"]["image"] == f"docker://{rehearsal.repository}@{rehearsal.digest}"
    assert without_image(released) == without_image(ACTION)
