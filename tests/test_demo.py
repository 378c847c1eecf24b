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


def test_the_demo_needs_only_the_actions_requirements_pinned_like_the_tests() -> None:
    demo, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {"requests", "pydantic", "pyyaml"} <= set(demo)  # PyYAML: the action reads workflow files
    assert all(dev.get(name, version) == version for name, version in demo.items())  # one version everywhere
    code = f"import sys, tests.support.demo; print(sorted(set({DEV_ONLY!r}) & set(sys.modules)))"
    imported = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert imported.stdout.strip() == "[]"


def test_the_demo_tells_the_main_layout_first_then_the_watcher_then_a_feature_branch() -> None:
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
    scenes = re.findall(r"^##### \d\. (.+) #####$", out, re.M)
    assert scenes == [
        "Run #17, a push to main: the `test` job failed at `Run pytest`",
        "Run #18, the next push to main: the same job passed",
        "A workflow_run watcher: the Nightly workflow's run #40 on main failed",
        "Run #19, a push to feature/login: the job failed",
    ]
    first, second, watcher, feature = re.split(r"^##### \d\. .+ #####$", out, flags=re.M)[1:]
    # The last step of a job, if: always(): the failure names its step; the green run resolves that key.
    assert '"title": "CI / test failed at step \\"Run pytest\\" on main in octo-org/octo-repo"' in first
    assert '"title": "CI / test passed on main in octo-org/octo-repo"' in second
    key = '"deduplication_key": "github-actions:octo-org/octo-repo:ci.yml:test:main"'
    assert key in first and key in second
    assert '"run_number": 17' in first and '"run_number": 18' in second  # distinct runs of one story
    assert '"event_name": "push"' in first and '"branch": "main"' in first
    # The watcher: about the watched run, with its failed jobs' error messages.
    assert "expected 'Paid', got 'Pending'" in watcher
    assert "Notice: incident.io alert: nothing sent: This run is on feature/login" in feature
    assert "resolved the same alert: True" in out
    assert "commands the\nrunner consumes and never shows" in out
    assert "::add-mask::" not in out.split("so they are left out here.")[1]
    assert not re.search(r"^Warning", out, re.M)  # GitHub's stand-in answers every call: nothing to explain
    assert "demo-secret-token" not in out
