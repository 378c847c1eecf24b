"""The right alert in every layout users really have: never page wrongly, never stay silent, never let an
outsider resolve. Each test runs the action as a process, with a real event payload made consistent
with the GITHUB_* variables (tests/support/layouts.py), against incident.io's and GitHub's stand-ins.

The README's layout table is kept true at the end of this file: each of its rows runs here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SOURCE_ID, TOKEN
from tests.support import layouts
from tests.support.actions_runner import (
    CHECK_RUN_ID,
    ROOT,
    StepFiles,
    StepResult,
    default_github_env,
)
from tests.support.cancels import (
    BY_CONCURRENCY,
    CI,
    LOST,
    TIMED_OUT_NEWER,
    TIMED_OUT_RUNNER,
    cancelled_here,
    cancelled_job,
)
from tests.support.github_api_stand_in import (
    THIS_RUN_ID,
    THIS_RUNNER,
    FakeRun,
    GitHubApiStandIn,
    annotation,
    job,
    not_accessible,
    running_job,
    step,
    this_job,
    workflow_with,
)
from tests.support.http_stand_in import Reply
from tests.support.incident_io_stand_in import HEARTBEAT_ID, HEARTBEAT_TOKEN, IncidentIoStandIn, error_body
from tests.support.layouts import Layout
from tests.support.schema import assert_valid_body
from tests.support.steps import Steps, assert_skipped, notice

RUN_ID = THIS_RUN_ID
MAIN_KEY = "github-actions:octo-org/octo-repo:ci.yml:test:main"
NO_TOKEN = {"github-token": ""}  # GitHub's API cannot be asked: as under act


# -- 1. pull requests from forks and Dependabot get no secrets -----------------------------------------------

NO_SECRETS = {"api-token": "", "alert-source-config-id": ""}


def test_a_fork_pull_request_without_secrets_sends_nothing_and_passes(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    # In scope on purpose (every fork), so that only the missing secrets keep it from alerting.
    result = steps.run(layouts.pull_request("fix", fork_owner="someone"), branches="*:*", **NO_SECRETS)

    assert_skipped(result, stand_in, "a pull request from the fork someone")
    assert "GitHub gives such runs no secrets" in notice(result)


def test_dependabot_without_secrets_sends_nothing_and_passes(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    result = steps.run(layouts.dependabot_pull_request(), branches="*", **NO_SECRETS)

    assert_skipped(result, stand_in, "This run was triggered by Dependabot")


def test_a_missing_token_elsewhere_stays_an_error(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push(), **NO_SECRETS)

    assert result.returncode == 2
    assert stand_in.received == []
    assert [error.data.split("'")[1] for error in result.annotations("error")] == [
        "api-token",
        "alert-source-config-id",
    ]


def test_an_invalid_input_still_fails_a_run_without_secrets(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """A mistake in the workflow shows on pull requests too, before it reaches the default branch."""
    result = steps.run(layouts.pull_request("fix", fork_owner="someone"), status="resovled", **NO_SECRETS)

    assert result.returncode == 2
    assert stand_in.received == []
    # Only the mistake: the missing secrets are expected here and not reported.
    assert [error.data.split("'")[1] for error in result.annotations("error")] == ["status"]


# -- 2. a fork can never page or resolve this repository's alerts --------------------------------------------


def test_a_watched_fork_run_on_its_own_main_is_out_of_scope(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    fork_run = layouts.watched_run("success", head_branch="main", fork_owner="someone", event="pull_request")

    result = steps.run(fork_run, job_status="success")

    assert_skipped(result, stand_in, "This run is on someone:main (a fork)")
    assert "a fork can neither page anyone nor resolve this repository's alerts" in notice(result)
    assert "add someone:main (or *:* for every fork) to branches" in notice(result)


def test_a_fork_never_shares_a_key_with_this_repository(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    """Even with every fork in scope, a fork's green `main` cannot resolve this repository's red `main`."""
    fired = steps.run(layouts.watched_run("failure"), job_status="success")
    fork_run = layouts.watched_run("success", head_branch="main", fork_owner="someone", event="pull_request")
    fork = steps.run(fork_run, job_status="success", branches="main, *:*")
    fork_pr = steps.run(layouts.pull_request("main", fork_owner="someone"), "success", branches="*:*")

    assert fired.returncode == fork.returncode == fork_pr.returncode == 0
    keys = [body["deduplication_key"] for body in stand_in.bodies()]
    assert keys == [
        "github-actions:octo-org/octo-repo:ci.yml:main",
        "github-actions-fork:octo-org/octo-repo:ci.yml:someone/main",
        "github-actions-fork:octo-org/octo-repo:ci.yml:test:someone/main",
    ]
    assert stand_in.bodies()[0]["status"] == "firing"


def test_a_watched_pull_request_target_run_is_never_taken_for_the_base_branch(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    # Such runs carry the base branch's name and commit, whoever opened the pull request.
    target_run = layouts.watched_run("failure", head_branch="main", event="pull_request_target")

    result = steps.run(target_run, job_status="success", branches="*")

    assert_skipped(result, stand_in, "cannot be told apart from a fork's")


# -- 3. which runs may alert: branches -----------------------------------------------------------------------


def test_a_feature_branch_is_out_of_scope_and_needs_no_secrets(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    result = steps.run(layouts.push("feature/login"), **NO_SECRETS)

    assert_skipped(result, stand_in, "This run is on feature/login, which branches")
    assert "(the default branch, main)" in notice(result)
    assert "add feature/login to branches" in notice(result)
    assert (
        result.outputs["deduplication-key"] == "github-actions:octo-org/octo-repo:ci.yml:test:feature/login"
    )
    assert "Nothing sent" in result.summary


def test_a_same_repository_pull_request_is_scoped_by_its_head_branch(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    out = steps.run(layouts.pull_request("feature/login"))
    inside = steps.run(layouts.pull_request("feature/login"), branches="feature/*")

    assert "This run is on feature/login" in notice(out)
    assert inside.returncode == 0, inside.log
    (body,) = stand_in.bodies()
    assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:test:feature/login"


@pytest.mark.parametrize(
    ("branches", "branch", "alerts"),
    [
        ("main, release/*", "release/1.x", True),
        ("main, release/*", "releases/1.x", False),
        ("*", "deep/feature/branch", True),  # `*` crosses '/'
        ("release/*\nhotfix-*", "hotfix-12", True),
    ],
)
def test_branches_patterns(
    steps: Steps, stand_in: IncidentIoStandIn, branches: str, branch: str, alerts: bool
) -> None:
    result = steps.run(layouts.push(branch), branches=branches)

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == (1 if alerts else 0)


def test_a_bad_tag_fires_and_the_next_good_tag_resolves_it(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    bad = steps.run(layouts.tag_push("v1.2.0"), "failure")
    good = steps.run(layouts.tag_push("v1.2.1"), "success", branches="main")  # tags need no pattern

    assert bad.returncode == good.returncode == 0, bad.log + good.log
    fired, resolved = stand_in.bodies()
    assert (fired["status"], resolved["status"]) == ("firing", "resolved")
    assert fired["deduplication_key"] == resolved["deduplication_key"]
    assert fired["deduplication_key"] == "github-actions-tag:octo-org/octo-repo:release.yml:publish"
    assert fired["title"] == "Release / publish failed for tag v1.2.0 in octo-org/octo-repo"
    assert "- **Tag:** `v1.2.0`" in fired["description"]


def test_without_a_default_branch_in_the_payload_the_run_is_in_scope(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """Rather lose nothing: the run alerts, and debug logging says why."""
    push = layouts.push("feature")
    del push.event["repository"]["default_branch"]

    result = steps.run(push)

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 1
    assert any("treated as in scope" in command.data for command in result.annotations("debug"))


# -- 4. merge queues -----------------------------------------------------------------------------------------


def test_a_merge_queue_rejection_pages_nobody_by_default(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.merge_group("main"))

    assert_skipped(result, stand_in, "This run is in the merge queue of main")
    assert "add merge-queue/main to branches" in notice(result)


def test_merge_queue_runs_in_scope_have_their_own_key(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    steps.run(layouts.push(), "failure")  # main is red
    queue_red = steps.run(layouts.merge_group("main"), "failure", branches="main, merge-queue/main")
    queue_green = steps.run(layouts.merge_group("main"), "success", branches="main, merge-queue/main")

    assert queue_red.returncode == queue_green.returncode == 0
    main, red, green = stand_in.bodies()
    assert main["deduplication_key"] == MAIN_KEY
    assert red["deduplication_key"] == green["deduplication_key"] != MAIN_KEY
    assert red["deduplication_key"] == "github-actions-merge-queue:octo-org/octo-repo:ci.yml:test:main"
    assert (red["status"], green["status"]) == ("firing", "resolved")
    assert red["title"] == "CI / test failed in the merge queue of main in octo-org/octo-repo"


# -- 5. a notify job with needs ------------------------------------------------------------------------------


def notify_job() -> Layout:
    return layouts.push(GITHUB_JOB="notify")


def notify_running() -> dict[str, Any]:
    """The notify job itself, in this run's jobs: still running, on this runner."""
    return job("notify", None, status="in_progress", runner_name=THIS_RUNNER)


def test_a_notify_job_fires_when_a_needed_job_failed(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(
        job("build", "success"),
        job("test", "failure", [step("Run pytest", "failure")]),
        job("notify", None, status="in_progress", runner_name=THIS_RUNNER),
    )
    needs = layouts.needs(build="success", test="failure")

    # The notify job itself succeeds: its job.status says nothing about the build.
    result = steps.run(notify_job(), "success", needs=needs)

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert_valid_body(body)
    assert body["status"] == "firing"
    assert body["metadata"]["failed_needs"] == ["test"]
    assert body["metadata"]["failed_jobs"] == ["test"]
    assert "- **Failed needed jobs:** test" in body["description"]
    # The one failed needed job, and its one failed step, say what broke.
    assert body["title"] == 'CI / test failed at step "Run pytest" on main in octo-org/octo-repo'
    assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:notify:main"
    assert "needed jobs failed: test" in result.stdout


def test_a_notify_job_without_githubs_api_is_still_about_its_needed_jobs(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """act showed `CI failed on main in ...` and `Conclusion: success` (the notify job's own status): the
    title names the failed needed jobs, and the conclusion is theirs, GitHub's API or not."""
    one = steps.run(notify_job(), "success", needs=layouts.needs(build="success", test="failure"), **NO_TOKEN)
    two = steps.run(notify_job(), "success", needs=layouts.needs(build="failure", test="failure"), **NO_TOKEN)
    green = steps.run(
        notify_job(), "success", needs=layouts.needs(build="success", test="success"), **NO_TOKEN
    )

    assert one.returncode == two.returncode == green.returncode == 0
    fired_one, fired_two, resolved = stand_in.bodies()
    assert fired_one["title"] == "CI / test failed on main in octo-org/octo-repo"
    assert fired_two["title"] == "CI / build, test failed on main in octo-org/octo-repo"
    for fired in (fired_one, fired_two):
        assert fired["metadata"]["conclusion"] == "failure"
        assert "- **Conclusion:** failure" in fired["description"]
    assert resolved["title"] == "CI passed on main in octo-org/octo-repo"
    assert resolved["metadata"]["conclusion"] == "success"


@pytest.mark.parametrize(
    ("results", "on_cancelled", "sent"),
    [
        ({"build": "success", "test": "success"}, "skip", "resolved"),
        ({"build": "success", "test": "skipped"}, "skip", "resolved"),
        ({"build": "cancelled", "test": "skipped"}, "skip", None),
        ({"build": "cancelled", "test": "skipped"}, "fire", "firing"),
        ({"build": "failure", "test": "cancelled"}, "skip", "firing"),
    ],
)
def test_a_notify_job_decides_from_its_needs(
    steps: Steps,
    stand_in: IncidentIoStandIn,
    github: GitHubApiStandIn,
    results: dict[str, str],
    on_cancelled: str,
    sent: str | None,
) -> None:
    github.this_run(*[job(name, result) for name, result in results.items()], notify_running())

    result = steps.run(
        notify_job(), "success", needs=layouts.needs(**results), **{"on-cancelled": on_cancelled}
    )

    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ([sent] if sent else [])
    if sent is None:
        assert notice(result).startswith(
            "Not every needed job succeeded (build cancelled, test skipped) and no job of this run failed"
        )


def test_a_notify_job_resolves_only_if_no_newer_run_failed(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """With needs, the needed jobs are compared, by their jobs in each run: the notify job itself passes in
    every run."""
    github.this_run(
        job("build", "success"), job("notify", None, status="in_progress", runner_name=THIS_RUNNER)
    )
    github.newer_run(job("build", "failure"), job("notify", "success"), conclusion="failure")

    result = steps.run(notify_job(), "success", needs=layouts.needs(build="success"))

    assert_skipped(result, stand_in, "A newer run of CI on main failed (run #18")


# -- 6. a job that times out ---------------------------------------------------------------------------------


def test_a_cancel_that_cannot_be_told_apart_sends_nothing_and_says_how_to_alert(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """GitHub's API lists no job of this run here: whether the cancel was a timeout cannot be told (issue 29;
    test_cancels.py has the timeouts that page)."""
    result = steps.run(layouts.push(), "cancelled")

    assert_skipped(
        result, stand_in, "whether it hit its timeout-minutes could not be told, so nothing is sent"
    )
    assert "on-cancelled: fire pages on every cancel" in notice(result)


def test_on_cancelled_fire_fires_for_a_cancelled_job_and_a_cancelled_watched_run(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    job_result = steps.run(layouts.push(), "cancelled", **{"on-cancelled": "fire"})
    watched_result = steps.run(layouts.watched_run("cancelled"), "success", **{"on-cancelled": "fire"})

    assert job_result.returncode == watched_result.returncode == 0
    assert [body["status"] for body in stand_in.bodies()] == ["firing", "firing"]
    assert stand_in.bodies()[0]["metadata"]["conclusion"] == "cancelled"


# -- 7. an old run must not resolve a newer failure ----------------------------------------------------------


def test_a_slow_old_run_does_not_resolve_a_newer_failure(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(running_job())
    # Run #18 of a newer commit already failed in this job; #19 failed elsewhere but not in it.
    github.newer_run(job("test", "failure"), conclusion="failure")
    github.newer_run(job("test", "cancelled"), conclusion="cancelled", after=2)

    result = steps.run(layouts.push(), "success")

    assert_skipped(result, stand_in, "A newer run of CI / test on main failed (run #18: https://github.com/")
    assert result.outputs["deduplication-key"] == MAIN_KEY


def test_a_newer_success_or_another_jobs_failure_lets_it_resolve(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(running_job())
    # The run failed, this job did not.
    github.newer_run(job("lint", "failure"), job("test", "success"), conclusion="failure")

    result = steps.run(layouts.push(), "success")

    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["resolved"]


def test_a_re_run_of_an_old_run_does_not_resolve_a_newer_failure(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    re_run = layouts.push(GITHUB_RUN_ATTEMPT="2")
    github.this_run(running_job(), attempt=2)  # the re-run the step is in
    github.newer_run(job("test", "failure"), conclusion="failure")

    result = steps.run(re_run, "success")

    assert_skipped(result, stand_in, "A newer run of CI / test on main failed (run #18")


def test_only_runs_with_the_same_origin_are_compared(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """GitHub lists a fork's `main` with this repository's; a fork's failure must not hold a resolve back."""
    github.this_run(running_job())
    fork_job = job("test", "failure")
    github.newer_run(
        fork_job, conclusion="failure", event="pull_request", head_repository="someone/octo-repo"
    )

    result = steps.run(layouts.push(), "success")

    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["resolved"]


def test_a_watched_run_is_compared_with_newer_runs_of_its_workflow(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    watched = layouts.watched_run("success", run_number=163)
    github.add_run(
        FakeRun(
            layouts.WATCHED_RUN_ID + 1, "failure", run_number=164, workflow_id=layouts.WATCHED_WORKFLOW_ID
        ),
        jobs=[job("test", "failure")],
    )

    result = steps.run(watched, "success")

    assert_skipped(result, stand_in, "A newer run of CI on main failed (run #164")


def test_when_github_cannot_tell_it_resolves_with_one_warning(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.script_for("/workflows/", not_accessible())  # this run's jobs: not found either

    result = steps.run(layouts.push(), "success")

    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["resolved"]
    (warning,) = result.annotations("warning")
    assert "whether a newer run of CI on main failed could not be checked" in warning.data
    assert "the alert is resolved because this run passed" in warning.data
    assert "actions: read" in warning.data


def test_an_explicit_resolve_and_a_tag_are_not_compared(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    steps.run(layouts.push(), "failure", status="resolved")
    steps.run(layouts.tag_push(), "success")

    assert [body["status"] for body in stand_in.bodies()] == ["resolved", "resolved"]
    assert not [request for request in github.received if "/workflows/" in request.path]


# -- 8. workflows named alike --------------------------------------------------------------------------------


def test_two_workflows_named_alike_never_resolve_each_other(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    windows = "octo-org/octo-repo/.github/workflows/ci-windows.yml@refs/heads/main"
    steps.run(layouts.push(), "failure")
    steps.run(layouts.push(GITHUB_WORKFLOW_REF=windows), "success")

    red, green = stand_in.bodies()
    assert red["deduplication_key"] == MAIN_KEY
    assert green["deduplication_key"] == "github-actions:octo-org/octo-repo:ci-windows.yml:test:main"
    assert red["metadata"]["workflow"] == green["metadata"]["workflow"] == "CI"
    assert red["metadata"]["workflow_file"] == "ci.yml"


# -- 9. this very job, by its id -----------------------------------------------------------------------------


def test_check_run_id_finds_this_job_where_the_heuristics_cannot(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """A job with a display name, on a runner whose name the API does not give: only its id finds it."""
    mine = job("Unit tests", None, [step("pytest", "failure")], status="in_progress", runner_name="")
    mine["id"] = int(CHECK_RUN_ID)
    github.this_run(mine, job("lint", "success"))
    # The run before failed, but in lint; "Unit tests" passed there.
    github.add_run(
        FakeRun(RUN_ID - 1, "failure"), jobs=[job("lint", "failure"), job("Unit tests", "success")]
    )

    by_id = steps.run(layouts.push(), "failure", **{"failures-before-alert": "2"})
    without = steps.run(layouts.push(), "failure", check_run_id="", **{"failures-before-alert": "2"})

    assert "1 of 2 consecutive failures of CI / Unit tests on main" in notice(by_id)
    assert without.returncode == 0, without.log
    (body,) = stand_in.bodies()  # without the id, the whole run is compared, and its failure counts
    assert body["metadata"]["consecutive_failures"] == 2


def test_the_job_links_to_its_own_log(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    steps.run(layouts.push(), "failure")

    run_url = f"https://github.com/octo-org/octo-repo/actions/runs/{RUN_ID}"
    assert f"- **Job:** [test]({run_url}/job/{CHECK_RUN_ID})" in stand_in.bodies()[0]["description"]


# -- 10. docker:// without a job status ----------------------------------------------------------------------


def docker_step_env(stand_in: IncidentIoStandIn, **extra: str) -> dict[str, str]:
    """`uses: docker://...` has no action.yml: no INPUT_* variables, only the step's env."""
    return {
        "INCIDENT_IO_API_TOKEN": TOKEN,
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID,
        "INCIDENT_IO_API_URL": stand_in.url,
        **extra,
    }


def run_docker_style(tmp_path: Path, step_env: dict[str, str], github_env: dict[str, str]) -> StepResult:
    import subprocess  # noqa: PLC0415

    from tests.support.actions_runner import ENTRYPOINT, push_payload, step_result, write_event  # noqa: PLC0415

    files = StepFiles(tmp_path / "docker")
    write_event(files, push_payload(github_env))
    env = {
        **step_env,
        **github_env,
        "GITHUB_EVENT_PATH": str(files.event),
        "GITHUB_OUTPUT": str(files.output),
        "GITHUB_STEP_SUMMARY": str(files.summary),
        "HOME": "/github/home",
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(ENTRYPOINT, env=env, capture_output=True, text=True, check=False, timeout=60)
    return step_result(files, completed)


def test_docker_without_a_job_status_is_refused_in_github_actions(
    tmp_path: Path, stand_in: IncidentIoStandIn
) -> None:
    result = run_docker_style(tmp_path, docker_step_env(stand_in), default_github_env())

    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = result.annotations("error")
    assert error.data.startswith("Input 'job-status' (INCIDENT_IO_JOB_STATUS) is empty")
    assert "INCIDENT_IO_JOB_STATUS: ${{ job.status }}" in error.data


def test_docker_with_a_job_status_works(tmp_path: Path, stand_in: IncidentIoStandIn) -> None:
    env = docker_step_env(stand_in, INCIDENT_IO_JOB_STATUS="success")
    result = run_docker_style(tmp_path, env, default_github_env())

    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["resolved"]


# -- 11. a resolve that fails must not turn a green build red ------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on_error", "job_status", "code"),
    [
        (None, "failure", 1),  # auto: an undelivered page fails the step
        (None, "success", 0),  # auto: an undelivered resolve is a warning
        ("true", "success", 1),
        ("false", "failure", 0),
    ],
)
def test_fail_on_error(
    steps: Steps, stand_in: IncidentIoStandIn, fail_on_error: str | None, job_status: str, code: int
) -> None:
    stand_in.script(Reply(422, error_body(422, "validation_error", "Title is too long")))
    inputs = {"fail-on-error": fail_on_error} if fail_on_error else {}

    result = steps.run(layouts.push(), job_status, **inputs)

    assert result.returncode == code
    assert result.outputs["sent"] == "false"
    assert "Title is too long" in result.outputs["error"]
    if code == 0:
        (warning,) = result.warnings_besides_github_api()
        assert "Title is too long" in warning.data
        assert result.annotations("error") == []
        if job_status == "success":
            assert "does not fail the step (fail-on-error is auto)" in warning.data
    else:
        (error,) = result.annotations("error")
        assert "Title is too long" in error.data


# -- 12. permission advice that holds for today's repositories -----------------------------------------------


def test_a_restricted_token_is_told_to_grant_actions_read(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.script_for("/repos/", *[not_accessible()] * 3)  # every call: a token without actions: read

    result = steps.run(layouts.push(), "failure")

    assert len(stand_in.received) == 1
    (warning,) = result.annotations("warning")
    assert "Grant `actions: read` in the workflow's or job's `permissions:`" in warning.data
    assert "created since February 2023" in warning.data


def test_the_quick_start_grants_what_the_action_reads() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert quick_start is not None
    assert "permissions:" in quick_start.group(1)
    assert "actions: read" in quick_start.group(1)
    assert "checks: read" in quick_start.group(1)


# -- the README's layout table, row by row -------------------------------------------------------------------

Scenario = Callable[[Steps, IncidentIoStandIn, GitHubApiStandIn], StepResult]


def _fork_main(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    result = steps.run(layouts.pull_request("main", fork_owner="someone"), branches="main, *:*")
    assert stand_in.bodies()[-1]["deduplication_key"].startswith("github-actions-fork:")
    return result


def _next_tag(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    steps.run(layouts.tag_push("v1.2.0"), "failure")
    result = steps.run(layouts.tag_push("v1.2.1"), "success")
    fired, resolved = stand_in.bodies()
    assert fired["deduplication_key"] == resolved["deduplication_key"]
    return result


def _queue(branches: str | None) -> Scenario:
    def scenario(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
        result = steps.run(layouts.merge_group(), **({"branches": branches} if branches else {}))
        if branches:
            assert stand_in.bodies()[-1]["deduplication_key"].startswith("github-actions-merge-queue:")
        return result

    return scenario


def _old_run_passes(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.this_run(running_job(), attempt=2)  # the re-run the step is in
    github.newer_run(job("test", "failure"), conclusion="failure")
    return steps.run(layouts.push(GITHUB_RUN_ATTEMPT="2"), "success")


def _matrix_leg(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    steps.run(layouts.push(), "success", matrix={"python": "3.12"})
    result = steps.run(layouts.push(), "failure", matrix={"python": "3.13"})
    passed, failed = stand_in.bodies()
    assert passed["deduplication_key"] != failed["deduplication_key"]  # each leg has its own alert
    return result


def _newer_run_still_going(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.this_run(this_job())
    github.newer_run(job("test", "failure"), job("e2e", None, status="in_progress"))
    return steps.run(layouts.push(), "success")


def _old_run_fails(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.this_run(this_job(step("Run pytest", "failure")), attempt=2)
    github.newer_run(job("test", "success"), conclusion="success")
    return steps.run(layouts.push(GITHUB_RUN_ATTEMPT="2"), "failure")


def _failed_then_timed_out(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.this_run(this_job(step("Run pytest", "failure"), step("Integration", "cancelled")))
    result = steps.run(layouts.push(), "cancelled")
    assert stand_in.bodies()[-1]["title"].startswith('CI / test failed at step "Run pytest"')
    return result


def _timed_out_twice(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.earlier_run(cancelled_job("test", 30.2), conclusion="cancelled")
    github.this_run(cancelled_here(30.1))
    result = steps.run(layouts.push(), "cancelled", **{"failures-before-alert": "2"})
    assert stand_in.bodies()[-1]["metadata"]["consecutive_failures"] == 2
    return result


def _timed_out(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.this_run(cancelled_here(30.1))
    result = steps.run(layouts.push(), "cancelled")
    assert " timed out after 30m " in stand_in.bodies()[-1]["title"]
    return result


def _superseded(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.this_run(cancelled_here(4))
    github.newer_run(job("test", None, status="in_progress"))
    return steps.run(layouts.push(), "cancelled")


def _cancelled_by_hand(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.this_run(cancelled_here(12))
    result = steps.run(layouts.push(), "cancelled")
    fired = steps.run(layouts.push(), "cancelled", **{"on-cancelled": "fire"})
    assert [body["status"] for body in stand_in.bodies()] == ["firing"] and fired.returncode == 0
    return result


def _fail_fast(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.this_run(
        job("test (3.13)", "failure", [step("Run pytest", "failure")]), cancelled_here(2, name="test (3.12)")
    )
    return steps.run(layouts.push(), "cancelled", matrix={"python": "3.12"})


def _allowed_to_fail(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    github.files[CI] = workflow_with(
        test={
            "continue-on-error": "${{ matrix.experimental }}",
            "strategy": {"matrix": {"experimental": [True]}},
        }
    )
    github.this_run(running_job(step("Run pytest", "failure")))
    return steps.run(layouts.push(), "failure", matrix={"experimental": True})


def _needed_job_superseded(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    build = cancelled_job("build", 3)
    github.this_run(build, notify_running())
    github.annotations[build["id"]] = [annotation(BY_CONCURRENCY)]
    return steps.run(notify_job(), "success", needs=layouts.needs(build="cancelled"))


def _needed_job_timed_out(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    build = cancelled_job("build", 30.1)
    github.this_run(build, notify_running())
    github.annotations[build["id"]] = [annotation(TIMED_OUT_RUNNER)]
    result = steps.run(notify_job(), "success", needs=layouts.needs(build="cancelled"))
    assert stand_in.bodies()[-1]["title"].startswith("CI / build timed out after 30m")
    return result


def _needed_job_lost_its_runner(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> StepResult:
    deploy = job("deploy", "failure", [step("Set up job"), step("Deploy", "cancelled")])
    github.this_run(deploy, notify_running())
    github.annotations[deploy["id"]] = [annotation(LOST)]
    result = steps.run(notify_job(), "success", needs=layouts.needs(deploy="failure"))
    assert stand_in.bodies()[-1]["title"] == "CI / deploy lost its runner on main in octo-org/octo-repo"
    return result


def _watched_timeout(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    run = FakeRun(
        layouts.WATCHED_RUN_ID, "cancelled", run_number=163, workflow_id=layouts.WATCHED_WORKFLOW_ID
    )
    test = cancelled_job("test", 30.05)
    github.add_run(run, jobs=[job("build", "success"), test])
    github.annotations[test["id"]] = [annotation(TIMED_OUT_NEWER)]
    return steps.run(layouts.watched_run("cancelled"), "success")


def _failure_behind_a_skipped_need(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> StepResult:
    github.this_run(
        job("lint", "success"), job("test", "failure"), job("deploy", "skipped"), notify_running()
    )
    result = steps.run(notify_job(), "success", needs=layouts.needs(lint="success", deploy="skipped"))
    assert stand_in.bodies()[-1]["metadata"]["failed_jobs"] == ["test"]
    return result


def _skipped_need_unreadable(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> StepResult:
    github.script_for("/repos/", *[not_accessible()] * 3)
    result = steps.run(notify_job(), "success", needs=layouts.needs(lint="success", deploy="skipped"))
    assert len(result.github_api_warnings()) == 1
    return result


def _reusable_workflow_legs(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> StepResult:
    legs = [running_job(name=f"unit ({python}) / test") for python in ("3.12", "3.13")]
    legs[0]["id"], legs[1]["id"] = 1001, 1002
    github.this_run(*legs)
    steps.run(layouts.push(), "failure", check_run_id="1001")
    result = steps.run(layouts.push(), "success", check_run_id="1002")
    fired, resolved = stand_in.bodies()
    assert fired["deduplication_key"] != resolved["deduplication_key"]  # leg 3.12's alert stays open
    return result


def _watched_tag(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    watched = layouts.watched_run("failure", head_branch="v1.2.0")
    github.tags["v1.2.0"] = watched.event["workflow_run"]["head_sha"]
    result = steps.run(watched, "success")
    assert stand_in.bodies()[-1]["deduplication_key"] == "github-actions-tag:octo-org/octo-repo:ci.yml"
    return result


HEARTBEAT = {"heartbeat-source-config-id": HEARTBEAT_ID, "heartbeat-token": HEARTBEAT_TOKEN}


def _heartbeat_pinged(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    result = steps.run(layouts.push(), "success", **HEARTBEAT)
    assert [request.path for request in stand_in.pings()] == [f"/v2/heartbeat/{HEARTBEAT_ID}/ping"]
    return result


def _needs_skipped_by_their_if(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> StepResult:
    github.this_run(job("build", "success"), job("e2e", "skipped"), notify_running())
    return steps.run(notify_job(), "success", needs=layouts.needs(build="success", e2e="skipped"))


def _docker_without_status(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    return run_docker_style(steps.tmp_path, docker_step_env(stand_in), default_github_env())


def _undelivered_resolve(steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> StepResult:
    stand_in.script(Reply(503), Reply(503))
    return steps.run(layouts.push(), "success", **{"max-attempts": "2"})


LAYOUT_ROWS: dict[str, Scenario] = {
    "Last step of a job, `if: always()`; push to the default branch; the job failed":
        lambda steps, _s, _g: steps.run(layouts.push(), "failure"),
    "Same; the job passed (a later push, or a re-run)":
        lambda steps, _s, _g: steps.run(layouts.push(), "success"),
    "Same; the job hit its `timeout-minutes` (the runner cancels it)": _timed_out,
    "Same; `concurrency: cancel-in-progress` cancelled it for a newer run": _superseded,
    "Same; a person cancelled the run": _cancelled_by_hand,
    "Same; a re-run of an old run passes after a newer run failed": _old_run_passes,
    "Push to a feature branch": lambda steps, _s, _g: steps.run(layouts.push("feature/login"), **NO_SECRETS),
    "Push to `release/1.x`, with `branches: main, release/*`; the job failed":
        lambda steps, _s, _g: steps.run(layouts.push("release/1.x"), branches="main, release/*"),
    "Matrix leg `python=3.13` failed; the other legs passed": _matrix_leg,
    "Pull request from a branch of this repository":
        lambda steps, _s, _g: steps.run(layouts.pull_request("feature/login")),
    "Pull request from a fork (no secrets)":
        lambda steps, _s, _g: steps.run(layouts.pull_request("main", fork_owner="someone"), **NO_SECRETS),
    "Pull request from a fork, with `branches: main, *:*`": _fork_main,
    "Dependabot's pull request, with `branches: '*'` (no secrets)":
        lambda steps, _s, _g: steps.run(layouts.dependabot_pull_request(), branches="*", **NO_SECRETS),
    "Merge queue: a queued pull request failed": _queue(None),
    "Merge queue, with `branches: main, merge-queue/main`": _queue("main, merge-queue/main"),
    "Tag push (a release workflow); the job failed":
        lambda steps, _s, _g: steps.run(layouts.tag_push("v1.2.0"), "failure"),
    "The next tag's run passed": _next_tag,
    "Notify job with `needs:` and `if: always()`; a needed job failed":
        lambda steps, _s, _g: steps.run(notify_job(), "success", needs=layouts.needs(build="failure")),
    "Same; every needed job passed or was skipped": _needs_skipped_by_their_if,
    "Same; a needed job was cancelled (by `concurrency`, or a person)": _needed_job_superseded,
    "`workflow_run` watcher; the watched run on the default branch failed":
        lambda steps, _s, _g: steps.run(layouts.watched_run("failure"), "success"),
    "`workflow_run` watcher; a fork's run on its own `main` passed":
        lambda steps, _s, _g: steps.run(
            layouts.watched_run("success", fork_owner="someone", event="pull_request"), "success"
        ),
    "Same; this older run passes while a newer run goes on, in which this job already failed":
        _newer_run_still_going,
    "Same; a re-run of an old run fails after a newer run passed": _old_run_fails,
    "Same; a step failed, then the job hit its `timeout-minutes`": _failed_then_timed_out,
    "Same, with `failures-before-alert: 2`; the job timed out in two runs in a row": _timed_out_twice,
    "Matrix leg `python=3.12` stopped by fail-fast after leg `python=3.13` failed": _fail_fast,
    "Matrix leg allowed to fail (`continue-on-error: ${{ matrix.experimental }}`) failed": _allowed_to_fail,
    "Same; a needed job hit its `timeout-minutes`": _needed_job_timed_out,
    "Same; a needed job lost its runner (it ran no `if: always()` step)": _needed_job_lost_its_runner,
    "`workflow_run` watcher; the watched run was cancelled when a job hit its `timeout-minutes`":
        _watched_timeout,
    "Notify job with `needs: [lint, deploy]`; `test` failed, so `deploy` (which needs it) was skipped":
        _failure_behind_a_skipped_need,
    "Same; a needed job was skipped and GitHub's API cannot list the run's jobs": _skipped_need_unreadable,
    "Reusable workflow called by a matrix; leg `unit (3.13) / test` passed, leg `unit (3.12) / test` failed":
        _reusable_workflow_legs,
    "`workflow_run` watcher; the watched release run on tag `v1.2.0` failed": _watched_tag,
    "ChatOps: a run started by a `/test` comment on a pull request, with `branches: '*'`":
        lambda steps, _s, _g: steps.run(layouts.issue_comment(), "failure", branches="*"),
    "Nightly job with a heartbeat source; the run passed": _heartbeat_pinged,
    "Same, with a heartbeat alone (no `api-token`); the run failed":
        lambda steps, _s, _g: steps.run(layouts.push(), "failure", **HEARTBEAT, **NO_SECRETS),
    "`uses: docker://` without `INCIDENT_IO_JOB_STATUS`": _docker_without_status,
    "A resolve that incident.io did not accept (`fail-on-error: auto`)": _undelivered_resolve,
}  # fmt: skip


def readme_layout_rows() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Where to put it\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        header_or_rule = cells[0] == "layout and run" or set(cells[0]) <= {"-"}
        if line.startswith("| ") and len(cells) == 2 and not header_or_rule:
            rows[cells[0]] = cells[1]
    return rows


def test_the_readme_layout_table_lists_every_scenario() -> None:
    assert set(readme_layout_rows()) == set(LAYOUT_ROWS)


def outcome_of(result: StepResult) -> str:
    """What on-call got from the last step: a page, a resolve, or nothing; or an error for the maintainer."""
    if result.returncode == 2:
        return "error"
    if result.returncode != 0:
        return "failed step"
    return result.outputs["status"] if result.outputs["sent"] == "true" else "nothing"


@pytest.mark.parametrize("row", sorted(LAYOUT_ROWS))
def test_each_readme_layout_row_is_what_happens(
    row: str, steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    documented = readme_layout_rows()[row]
    result = LAYOUT_ROWS[row](steps, stand_in, github)

    expected = re.match(r"\*\*(\w+)\*\*", documented)
    assert expected, (
        f"the row's outcome must start with **firing**, **resolved**, **nothing** or **error**: {documented}"
    )
    assert outcome_of(result) == expected.group(1), f"{row}: {result.log}"
    assert TOKEN not in json.dumps(result.outputs)
