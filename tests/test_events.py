"""Every real webhook payload in tests/data/github-events gives a valid request or a deliberate skip.

Each payload runs with the GITHUB_* variables the runner would set for it (its repository, its ref),
so that the default scope, the repository's default branch, applies as it would on GitHub.
"""

from __future__ import annotations

from typing import Any

import pytest

from entrypoint.alert import build_alert
from entrypoint.facts import Facts
from entrypoint.scope import out_of_scope
from entrypoint.settings import read_settings
from entrypoint.verdict import decide
from entrypoint.workflow_run import read_workflow_run
from tests.support.actions_runner import EVENTS_DIR, default_github_env
from tests.support.layouts import real
from tests.support.schema import assert_valid_body

EVENT_FILES = sorted(path.relative_to(EVENTS_DIR).as_posix() for path in EVENTS_DIR.glob("*/*.json"))

OUT_OF_SCOPE = "which branches (the default branch, master) does not include"
# Runs that are not on the default branch (the default scope), watched runs that have not finished
# or ended in a way that neither fires nor resolves, and a fork's check suite.
SKIPPED = {
    "check_run/completed.payload.json": OUT_OF_SCOPE,  # head branch 'changes'
    "check_run/created.payload.json": OUT_OF_SCOPE,
    "check_run/requested_action.payload.json": OUT_OF_SCOPE,  # head branch miniak/event-process-id
    "check_run/rerequested.payload.json": "ended neutral",
    "check_suite/completed.payload.json": OUT_OF_SCOPE,
    "check_suite/requested.payload.json": "has not completed",  # queued, on master
    "check_suite/rerequested.payload.json": OUT_OF_SCOPE,
    "deployment_status/gh-pages.payload.json": "has not completed",  # in_progress
    "merge_group/checks_requested.payload.json": "which branches (the default branch, main)",
    "pull_request/closed.payload.json": OUT_OF_SCOPE,  # head branch 'changes'
    "pull_request/labeled.payload.json": OUT_OF_SCOPE,
    "pull_request/opened.payload.json": OUT_OF_SCOPE,
    "pull_request/opened.with-null-body.json": OUT_OF_SCOPE,
    "pull_request/ready_for_review.payload.json": OUT_OF_SCOPE,
    "pull_request/reopened.payload.json": OUT_OF_SCOPE,
    "pull_request/synchronize.payload.json": OUT_OF_SCOPE,
    "workflow_run/requested.payload.json": "has not completed",
    "workflow_run/requested.with-conclusion.payload.json": "ended action_required",
}


def test_all_42_payloads_are_covered() -> None:
    assert len(EVENT_FILES) == 42


def runner_env(event_name: str, payload: dict[str, Any]) -> dict[str, str]:
    """The GITHUB_* variables the runner sets for a run triggered by this payload."""
    repository = payload["repository"]
    env = {"GITHUB_REPOSITORY": repository["full_name"], "GITHUB_EVENT_NAME": event_name}
    default_ref = f"refs/heads/{repository['default_branch']}"
    if event_name == "push":
        env["GITHUB_REF"] = payload["ref"]
    elif event_name == "pull_request":
        pull = payload["pull_request"]
        env |= {"GITHUB_REF": f"refs/pull/{pull['number']}/merge", "GITHUB_HEAD_REF": pull["head"]["ref"]}
    elif event_name == "merge_group":
        env["GITHUB_REF"] = payload["merge_group"]["head_ref"]
    elif event_name == "release":
        env["GITHUB_REF"] = f"refs/tags/{payload['release']['tag_name']}"
    else:
        env["GITHUB_REF"] = payload.get("ref") or default_ref
    ref = env["GITHUB_REF"]
    env["GITHUB_REF_NAME"] = ref.split("/", 2)[2] if ref.startswith(("refs/heads/", "refs/tags/")) else ref
    env["GITHUB_REF_TYPE"] = "tag" if ref.startswith("refs/tags/") else "branch"
    env["GITHUB_WORKFLOW_REF"] = f"{repository['full_name']}/.github/workflows/ci.yml@{default_ref}"
    return env


@pytest.mark.parametrize("event_file", EVENT_FILES)
def test_event_gives_a_valid_request_or_an_explained_skip(event_file: str) -> None:
    event_name = event_file.split("/", maxsplit=1)[0]
    payload = real(event_file)
    environ = {
        **default_github_env(GITHUB_EVENT_PATH=str(EVENTS_DIR / event_file), GITHUB_HEAD_REF=""),
        **runner_env(event_name, payload),
        "INPUT_API-TOKEN": "token-0123456789abcdef",
        "INPUT_ALERT-SOURCE-CONFIG-ID": "01GW2G3V0S59R238FAHPDS1R66",
        "INPUT_JOB-STATUS": "failure",
    }
    reading = read_workflow_run(environ)
    assert reading.warnings == []
    settings = read_settings(environ)
    # As a step would decide with GitHub's API saying nothing more (its facts are tested elsewhere).
    verdict = decide(settings, reading.run, Facts())
    skipped = out_of_scope(settings, reading.run) or (verdict.reason if verdict.status is None else None)
    if event_file in SKIPPED:
        assert skipped is not None
        assert SKIPPED[event_file] in skipped
        return
    assert skipped is None, skipped
    body = build_alert(settings, reading.run, verdict).body()
    assert_valid_body(body)
    assert body["source_url"].startswith("https://")
    assert "\n" not in body["title"]
    assert body["metadata"]["repository"] == payload["repository"]["full_name"]
