"""Status, deduplication key, title and metadata: tables of what a user would see."""

from __future__ import annotations

import json
from typing import Any

import pytest

from entrypoint.alert import MAX_BODY_BYTES, Alert, AlertTooLarge, Skip, build_alert, decide_status
from entrypoint.settings import read_settings
from entrypoint.workflow_run import Watched, WorkflowRun, read_workflow_run
from tests.support.actions_runner import default_github_env
from tests.support.schema import assert_valid_body

INPUTS = {"INPUT_API-TOKEN": "t", "INPUT_ALERT-SOURCE-CONFIG-ID": "01GW2G3V0S59R238FAHPDS1R66"}


def alert_for(env: dict[str, str] | None = None, **inputs: str) -> Alert | Skip:
    environ = {**default_github_env(GITHUB_EVENT_PATH=""), **INPUTS, **(env or {})}
    environ |= {"INPUT_" + name.replace("_", "-").upper(): value for name, value in inputs.items()}
    run = read_workflow_run(environ).run
    return build_alert(read_settings(environ), run)


def key_for(**env: str) -> str:
    matrix = env.pop("matrix", "")
    built = alert_for(env, matrix=matrix) if matrix else alert_for(env)
    assert isinstance(built, Alert)
    return built.deduplication_key


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"job_status": "failure"}, "firing"),
        ({"job_status": "success"}, "resolved"),
        ({"job_status": "cancelled"}, None),
        ({"job_status": "skipped"}, None),
        ({}, "firing"),
        ({"job_status": "success", "status": "firing"}, "firing"),
        ({"job_status": "failure", "status": "resolved"}, "resolved"),
        ({"job_status": "cancelled", "status": "firing"}, "firing"),
    ],
)
def test_status_from_job(inputs: dict[str, str], expected: str | None) -> None:
    environ = {**default_github_env(), **INPUTS}
    environ |= {"INPUT_" + name.replace("_", "-").upper(): value for name, value in inputs.items()}
    decision = decide_status(read_settings(environ), read_workflow_run(environ).run)
    assert decision.status == expected


def watched_run(kind: str, completed: bool, conclusion: str | None) -> WorkflowRun:
    return WorkflowRun(
        "https://github.com",
        "o/r",
        "CI",
        None,
        None,
        "main",
        "push",
        1,
        1,
        1,
        None,
        None,
        None,
        None,
        watched=Watched(kind, completed, conclusion),
    )


@pytest.mark.parametrize(
    ("kind", "completed", "conclusion", "expected"),
    [
        ("workflow_run", True, "success", "resolved"),
        ("workflow_run", True, "failure", "firing"),
        ("workflow_run", True, "timed_out", "firing"),
        ("workflow_run", True, "startup_failure", "firing"),
        ("workflow_run", True, "cancelled", None),
        ("workflow_run", True, "skipped", None),
        ("workflow_run", True, "neutral", None),
        ("workflow_run", True, "stale", None),
        ("workflow_run", True, "action_required", None),
        ("workflow_run", False, None, None),
        ("check_suite", True, "failure", "firing"),
        ("check_run", True, "success", "resolved"),
        ("check_run", False, None, None),
        ("deployment_status", True, "success", "resolved"),
        ("deployment_status", True, "failure", "firing"),
        ("deployment_status", True, "error", "firing"),
        ("deployment_status", True, "inactive", None),
        ("deployment_status", False, "in_progress", None),
    ],
)
def test_status_from_watched_run(
    kind: str, completed: bool, conclusion: str | None, expected: str | None
) -> None:
    settings = read_settings({**default_github_env(), **INPUTS, "INPUT_JOB-STATUS": "success"})
    decision = decide_status(settings, watched_run(kind, completed, conclusion))
    assert decision.status == expected
    if expected is None:
        assert "nothing is sent" in decision.reason


BASE_KEY = key_for()


@pytest.mark.parametrize(
    "env",
    [
        {"GITHUB_RUN_ID": "999"},
        {"GITHUB_RUN_ATTEMPT": "3"},
        {"GITHUB_RUN_NUMBER": "40"},
        {"GITHUB_SHA": "0" * 40},
        {"GITHUB_ACTOR": "someone-else"},
        {"INPUT_JOB-STATUS": "success"},
    ],
)
def test_key_is_stable_across_runs_attempts_commits_and_status(env: dict[str, str]) -> None:
    assert key_for(**env) == BASE_KEY


@pytest.mark.parametrize(
    "env",
    [
        {"GITHUB_REPOSITORY": "octo-org/other"},
        {"GITHUB_WORKFLOW": "Nightly"},
        {"GITHUB_JOB": "lint"},
        {"GITHUB_REF_NAME": "release", "GITHUB_REF": "refs/heads/release"},
        {"matrix": '{"os": "ubuntu"}'},
    ],
)
def test_key_differs_when_what_it_names_differs(env: dict[str, str]) -> None:
    assert key_for(**env) != BASE_KEY


def test_key_is_readable_and_matrix_order_does_not_matter() -> None:
    assert BASE_KEY == "github-actions:octo-org/octo-repo:CI:test:main"
    one = key_for(matrix='{"python": "3.12", "os": "ubuntu-latest", "include": {"x": [1, 2]}}')
    two = key_for(matrix='{"include": {"x": [1, 2]}, "os": "ubuntu-latest", "python": "3.12"}')
    assert one == two
    assert "os=ubuntu-latest" in one


def test_parts_cannot_run_into_each_other() -> None:
    assert key_for(GITHUB_WORKFLOW="a:b", GITHUB_JOB="c") != key_for(GITHUB_WORKFLOW="a", GITHUB_JOB="b:c")


def test_very_long_keys_are_bounded_and_still_distinct() -> None:
    one = key_for(GITHUB_WORKFLOW="w" * 300 + "1")
    two = key_for(GITHUB_WORKFLOW="w" * 300 + "2")
    assert len(one) <= 200 and len(two) <= 200 and one != two


def test_pull_request_runs_are_keyed_by_head_branch() -> None:
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/5/merge",
        "GITHUB_REF_NAME": "5/merge",
    }
    assert key_for(**env, GITHUB_HEAD_REF="feature") == "github-actions:octo-org/octo-repo:CI:test:feature"


def test_title_is_one_line_and_the_same_for_both_statuses() -> None:
    firing = alert_for(job_status="failure", matrix='{"os": "ubuntu"}')
    resolved = alert_for(job_status="success", matrix='{"os": "ubuntu"}')
    assert isinstance(firing, Alert) and isinstance(resolved, Alert)
    assert firing.title == resolved.title == "CI / test (os=ubuntu) on main in octo-org/octo-repo"
    assert "\n" not in firing.title


def test_metadata_keys() -> None:
    built = alert_for(job_status="failure", matrix='{"os": "ubuntu"}')
    assert isinstance(built, Alert)
    assert set(built.metadata) == {
        "repository", "workflow", "job", "ref", "branch", "sha", "run_id", "run_number", "run_attempt",
        "run_url", "actor", "event_name", "server_url", "conclusion", "matrix",
    }  # fmt: skip
    assert all(isinstance(value, (str, int)) for value in built.metadata.values())  # flat
    assert "ACTIONS_RUNTIME_TOKEN" not in json.dumps(built.body())


def test_description_links_run_attempt_and_commit() -> None:
    built = alert_for(job_status="failure")
    assert isinstance(built, Alert) and built.description
    assert "(https://github.com/octo-org/octo-repo/actions/runs/1658821493/attempts/1)" in built.description
    assert "[`6113728`](https://github.com/octo-org/octo-repo/commit/6113728f" in built.description
    assert "**Conclusion:** failure" in built.description


def test_huge_description_is_cut_to_stay_under_the_limit() -> None:
    built = alert_for(description="x" * (2 * MAX_BODY_BYTES))
    assert isinstance(built, Alert)
    assert len(built.body_bytes()) <= MAX_BODY_BYTES
    assert built.description and built.description.endswith("size limit)")
    assert_valid_body(built.body())


def test_huge_metadata_is_refused() -> None:
    metadata: dict[str, Any] = {"blob": "y" * (MAX_BODY_BYTES + 10)}
    with pytest.raises(AlertTooLarge, match="512 KiB"):
        alert_for(metadata=json.dumps(metadata))
