"""Dockerfile rules that hadolint does not know: what the GitHub runner needs from a container action."""

from __future__ import annotations

import re

from tests.support.actions_runner import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = [line.split()[0] for line in DOCKERFILE.splitlines() if re.match(r"^[A-Z]+\s", line)]


def test_official_slim_python_base() -> None:
    assert re.search(r"^FROM python:3\.1[23]-slim$", DOCKERFILE, re.MULTILINE)


def test_runs_as_root_without_workdir_reliance() -> None:
    # The runner writes its files as root and sets --workdir /github/workspace itself.
    assert "USER" not in INSTRUCTIONS
    assert "WORKDIR" not in INSTRUCTIONS


def test_installs_only_hash_pinned_runtime_requirements_without_cache() -> None:
    assert "--require-hashes" in DOCKERFILE
    assert "--no-cache-dir" in DOCKERFILE
    assert "requirements-dev" not in DOCKERFILE


def test_isolated_unbuffered_exec_form_entrypoint() -> None:
    assert 'ENTRYPOINT ["python", "-I", "-u", "-m", "entrypoint"]' in DOCKERFILE


def test_dockerignore_keeps_tests_git_and_venv_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"  # everything out ...
    assert {line for line in lines if line.startswith("!")} == {"!requirements.txt", "!entrypoint/"}
