"""Status, deduplication key, title and metadata: tables of what a user would see."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any

import pytest

from entrypoint.alert import MAX_BODY_BYTES, Alert, AlertTooLarge, build_alert
from entrypoint.facts import Facts
from entrypoint.failures import FailedJob, Failures
from entrypoint.settings import Settings, read_settings
from entrypoint.verdict import Verdict, decide
from entrypoint.workflow_run import Origin, Watched, WorkflowRun, read_workflow_run
from tests.support import layouts
from tests.support.actions_runner import default_github_env
from tests.support.layouts import Layout
from tests.support.schema import assert_valid_body

INPUTS = {
    "INPUT_API-TOKEN": "token-0123456789abcdef",
    "INPUT_ALERT-SOURCE-CONFIG-ID": "01GW2G3V0S59R238FAHPDS1R66",
}


def alert_or_verdict(
    settings: Settings, run: WorkflowRun | None, failures: Failures | None = None
) -> Alert | Verdict:
    """The alert for the run as GitHub's API would not add to it, or the verdict that sends nothing."""
    verdict = decide(settings, run, Facts())
    return build_alert(settings, run, verdict, failures) if verdict.status else verdict


def alert_for(env: dict[str, str] | None = None, **inputs: str) -> Alert | Verdict:
    environ = {**default_github_env(GITHUB_EVENT_PATH=""), **INPUTS, **(env or {})}
    environ |= {"INPUT_" + name.replace("_", "-").upper(): value for name, value in inputs.items()}
    run = read_workflow_run(environ).run
    return alert_or_verdict(read_settings(environ), run)


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
    decision = decide(read_settings(environ), read_workflow_run(environ).run, Facts())
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
    decision = decide(settings, watched_run(kind, completed, conclusion), Facts())
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
        {"GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/nightly.yml@refs/heads/main"},
        {"GITHUB_JOB": "lint"},
        {"GITHUB_REF_NAME": "release", "GITHUB_REF": "refs/heads/release"},
        {"matrix": '{"os": "ubuntu"}'},
    ],
)
def test_key_differs_when_what_it_names_differs(env: dict[str, str]) -> None:
    assert key_for(**env) != BASE_KEY


def test_key_is_readable_and_matrix_order_does_not_matter() -> None:
    assert BASE_KEY == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    one = key_for(matrix='{"python": "3.12", "os": "ubuntu-latest", "include": {"x": [1, 2]}}')
    two = key_for(matrix='{"include": {"x": [1, 2]}, "os": "ubuntu-latest", "python": "3.12"}')
    assert one == two
    assert "os=ubuntu-latest" in one


def workflow_ref(file: str) -> str:
    return f"octo-org/octo-repo/.github/workflows/{file}@refs/heads/main"


def test_two_workflows_named_alike_have_keys_of_their_own() -> None:
    ci = key_for(GITHUB_WORKFLOW="CI", GITHUB_WORKFLOW_REF=workflow_ref("ci.yml"))
    other_ci = key_for(GITHUB_WORKFLOW="CI", GITHUB_WORKFLOW_REF=workflow_ref("ci-windows.yml"))
    renamed = key_for(GITHUB_WORKFLOW="Tests", GITHUB_WORKFLOW_REF=workflow_ref("ci.yml"))
    assert ci != other_ci
    assert ci == renamed  # renaming a workflow does not orphan its open alert
    # Without GITHUB_WORKFLOW_REF (older GHES) the display name stands in.
    assert key_for(GITHUB_WORKFLOW_REF="") == "github-actions:octo-org/octo-repo:CI:test:main"


def test_parts_cannot_run_into_each_other() -> None:
    one = key_for(GITHUB_WORKFLOW_REF=workflow_ref("a:b"), GITHUB_JOB="c")
    two = key_for(GITHUB_WORKFLOW_REF=workflow_ref("a"), GITHUB_JOB="b:c")
    assert one != two


def test_very_long_keys_are_bounded_and_still_distinct() -> None:
    one = key_for(GITHUB_JOB="j" * 300 + "1")
    two = key_for(GITHUB_JOB="j" * 300 + "2")
    assert len(one) <= 200 and len(two) <= 200 and one != two


def layout_key(layout: Layout, **inputs: str) -> str:
    built = layout_alert(layout, **inputs)
    assert isinstance(built, Alert)
    return built.deduplication_key


def layout_alert(layout: Layout, **inputs: str) -> Alert | Verdict:
    environ = {**layout.github_env, **INPUTS, "GITHUB_EVENT_PATH": "", "INPUT_JOB-STATUS": "failure"}
    environ |= {"INPUT_" + name.replace("_", "-").upper(): value for name, value in inputs.items()}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(layout.event, file)
    environ["GITHUB_EVENT_PATH"] = file.name
    try:
        return alert_or_verdict(read_settings(environ), read_workflow_run(environ).run)
    finally:
        os.unlink(file.name)


REPO = "octo-org/octo-repo"


@pytest.mark.parametrize(
    ("layout", "key"),
    [
        (layouts.push(), f"github-actions:{REPO}:ci.yml:test:main"),
        (layouts.pull_request("feature"), f"github-actions:{REPO}:ci.yml:test:feature"),
        # A fork's branch, even one named main, has a key of its own kind that carries its owner.
        (
            layouts.pull_request("main", fork_owner="someone"),
            f"github-actions-fork:{REPO}:ci.yml:test:someone/main",
        ),
        (
            layouts.pull_request("main", fork_owner="someone", event_name="pull_request_target"),
            f"github-actions-fork:{REPO}:ci.yml:test:someone/main",
        ),
        (layouts.merge_group("main"), f"github-actions-merge-queue:{REPO}:ci.yml:test:main"),
        # Every tag shares one key per workflow and job: the next good release resolves a bad one's alert.
        (layouts.tag_push("v1.2.0"), f"github-actions-tag:{REPO}:release.yml:publish"),
        (layouts.tag_push("v1.2.1"), f"github-actions-tag:{REPO}:release.yml:publish"),
        (layouts.watched_run(head_branch="main"), f"github-actions:{REPO}:ci.yml:main"),
        (
            layouts.watched_run(head_branch="main", fork_owner="someone", event="pull_request"),
            f"github-actions-fork:{REPO}:ci.yml:someone/main",
        ),
        (
            layouts.watched_run(head_branch="gh-readonly-queue/main/pr-7-0123abc", event="merge_group"),
            f"github-actions-merge-queue:{REPO}:ci.yml:main",
        ),
    ],
)
def test_keys_by_origin(layout: Layout, key: str) -> None:
    assert layout_key(layout, branches="*, *:*") == key


def test_titles_say_where_the_run_came_from() -> None:
    def title(layout: Layout) -> str:
        built = layout_alert(layout, branches="*, *:*")
        assert isinstance(built, Alert)
        return built.title

    assert title(layouts.push()) == "CI / test failed on main in octo-org/octo-repo"
    assert title(layouts.pull_request("main", fork_owner="someone")) == (
        "CI / test failed on someone:main (a fork) in octo-org/octo-repo"
    )
    assert title(layouts.merge_group()) == "CI / test failed in the merge queue of main in octo-org/octo-repo"
    assert (
        title(layouts.tag_push("v1.2.0")) == "Release / publish failed for tag v1.2.0 in octo-org/octo-repo"
    )


def test_the_title_says_what_happened_and_the_key_stays() -> None:
    firing = alert_for(job_status="failure", matrix='{"os": "ubuntu"}')
    resolved = alert_for(job_status="success", matrix='{"os": "ubuntu"}')
    assert isinstance(firing, Alert) and isinstance(resolved, Alert)
    assert firing.title == "CI / test (os=ubuntu) failed on main in octo-org/octo-repo"
    assert resolved.title == "CI / test (os=ubuntu) passed on main in octo-org/octo-repo"
    assert firing.deduplication_key == resolved.deduplication_key
    assert "\n" not in firing.title


def failed(name: str, *steps: str) -> FailedJob:
    return FailedJob(name, f"https://github.com/o/r/actions/runs/1/job/{len(name)}", steps, id=len(name))


@pytest.mark.parametrize(
    ("failures", "title"),
    [
        # One failed step of the one failed job (this one) is named.
        (Failures((failed("test", "pytest"),)), f'CI / test failed at step "pytest" on main in {REPO}'),
        # Two failed steps, or two failed jobs: the description lists them; the title stays short.
        (Failures((failed("test", "a", "b"),)), f"CI / test failed on main in {REPO}"),
        (Failures((failed("test", "a"), failed("lint", "b"))), f"CI / test failed on main in {REPO}"),
        # A very long step name is cut.
        (Failures((failed("test", "x" * 100),)), f'CI / test failed at step "{"x" * 59}…" on main in {REPO}'),
    ],
)  # fmt: skip
def test_a_firing_title_names_the_failed_step(failures: Failures, title: str) -> None:
    environ = {**default_github_env(GITHUB_EVENT_PATH=""), **INPUTS, "INPUT_JOB-STATUS": "failure"}
    built = alert_or_verdict(read_settings(environ), read_workflow_run(environ).run, failures)
    assert isinstance(built, Alert)
    assert built.title == title


def test_a_watched_run_names_its_one_failed_job_and_how_it_ended() -> None:
    run = dataclasses.replace(watched_run("workflow_run", True, "timed_out"), origin=Origin("branch", "main"))
    settings = read_settings({**default_github_env(), **INPUTS})
    one = alert_or_verdict(settings, run, Failures((failed("e2e", "Cypress"),)))
    two = alert_or_verdict(settings, run, Failures((failed("e2e"), failed("unit"))))
    assert isinstance(one, Alert) and isinstance(two, Alert)
    assert one.title == 'CI / e2e timed out at step "Cypress" on main in o/r'
    assert two.title == "CI timed out on main in o/r"
    assert one.source_url == "https://github.com/o/r/actions/runs/1/job/3"  # the one failed job's log
    assert two.source_url is None  # this test's run has no URL: the run's, where there is one


def test_metadata_keys() -> None:
    built = alert_for(job_status="failure", matrix='{"os": "ubuntu"}')
    assert isinstance(built, Alert)
    assert set(built.metadata) == {
        "repository", "workflow", "workflow_file", "job", "ref", "branch", "sha", "run_id", "run_number",
        "run_attempt", "run_url", "actor", "event_name", "server_url", "conclusion", "matrix",
        "runner_name", "runner_environment",
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
