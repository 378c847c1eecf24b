"""Dockerfile rules that hadolint does not know: what the GitHub runner needs from a container action."""

from __future__ import annotations

import re

from tests.support.actions_runner import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = [line.split()[0] for line in DOCKERFILE.splitlines() if re.match(r"^[A-Z]+\s", line)]


def test_built_on_the_official_slim_python_and_shipped_from_scratch() -> None:
    """The runtime is assembled in a build stage of the official image; the image itself holds only it."""
    stages = re.findall(r"^FROM (.+)$", DOCKERFILE, re.MULTILINE)
    assert stages == ["python:3.12-slim AS build", "scratch"]  # not pinned by digest: see the release
    assert "COPY --from=build /rootfs/ /" in DOCKERFILE


def test_runs_as_root_without_workdir_reliance() -> None:
    # The runner writes its files as root and sets --workdir /github/workspace itself.
    assert "USER" not in INSTRUCTIONS
    assert "WORKDIR" not in INSTRUCTIONS


def test_installs_only_hash_pinned_runtime_requirements_without_cache() -> None:
    assert "--require-hashes" in DOCKERFILE
    assert "--no-cache-dir" in DOCKERFILE
    assert "requirements-dev" not in DOCKERFILE


def test_isolated_unbuffered_exec_form_entrypoint() -> None:
    """No shell in the image: the interpreter by its path, in exec form."""
    assert 'ENTRYPOINT ["/usr/local/bin/python", "-I", "-u", "-X", "utf8", "-m", "entrypoint"]' in DOCKERFILE


def test_dockerignore_keeps_tests_git_and_venv_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"  # everything out ...
    assert {line for line in lines if line.startswith("!")} == {
        "!requirements.txt",
        "!entrypoint/",
        "!container/assemble.py",
    }
