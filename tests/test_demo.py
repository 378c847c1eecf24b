"""`make demo`, the first thing a newcomer runs: it works, reads well, and needs only what it installs."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.actions_runner import ROOT

DEV_ONLY = ("pytest", "responses", "jsonschema", "hypothesis", "mypy", "check_jsonschema")


def pins(path: str) -> dict[str, str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    return {name.lower(): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_the_demo_needs_only_its_own_requirements_pinned_like_the_tests() -> None:
    demo, dev = pins("requirements-demo.txt"), pins("requirements-dev.txt")
    assert set(demo) == {"pyyaml"}
    assert all(dev[name] == version for name, version in demo.items())  # one version everywhere
    code = f"import sys, tests.support.demo; print(sorted(set({DEV_ONLY!r}) & set(sys.modules)))"
    imported = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert imported.stdout.strip() == "[]"


def test_the_demo_fires_resolves_and_skips_and_shows_the_payload_once() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.support.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    assert "resolved the same alert: True" in out
    assert "The feature branch's failure sent nothing." in out
    assert "commands the\nrunner consumes and never shows" in out
    assert "::add-mask::" not in out.split("so they are left out here.")[1]
    key = '"deduplication_key": "github-actions:octo-org/octo-repo:test.yml:master"'
    assert out.count(key) == 2  # each body once: the firing one and the resolving one
    assert "demo-secret-token" not in out
