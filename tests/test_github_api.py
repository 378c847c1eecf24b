"""What broke and how often, from GitHub's API: failed jobs and steps, and failures-before-alert.

Each test runs the action as a process against two stand-ins on 127.0.0.1: incident.io, and GitHub's
REST API selected by GITHUB_API_URL, as a GitHub Enterprise Server job would select its own.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from entrypoint.messages import GITHUB_API_TITLE
from tests.conftest import TOKEN
from tests.support.actions_runner import (
    EVENTS_DIR,
    JOB_TOKEN,
    RUNTIME_TOKEN,
    StepFiles,
    StepResult,
    default_github_env,
    run_step,
)
from tests.support.github_api_stand_in import (
    THIS_RUN_ID,
    THIS_RUN_NUMBER,
    FakeRun,
    GitHubApiStandIn,
    api_error,
    job,
    not_accessible,
    rate_limited,
    running_job,
    step,
)
from tests.support.http_stand_in import Reply
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.schema import assert_valid_body

RUN_ID = THIS_RUN_ID
RUN_NUMBER = THIS_RUN_NUMBER
GITHUB_WARNING = GITHUB_API_TITLE


def run_against(
    github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str], **kwargs: Any
) -> StepResult:
    env = default_github_env(GITHUB_API_URL=github.url, **kwargs.pop("github_env", {}))
    return run_step(files, with_, github_env=env, **kwargs)


def assert_secrets_kept(result: StepResult, stand_in: IncidentIoStandIn, github: GitHubApiStandIn) -> None:
    """Each token went only to its own host, and neither shows anywhere a user can read."""
    shown = result.log.replace(f"::add-mask::{JOB_TOKEN}", "") + result.output_file + result.summary
    for secret in (JOB_TOKEN, TOKEN, RUNTIME_TOKEN):
        assert secret not in shown.replace(f"::add-mask::{TOKEN}", "")
    assert all(JOB_TOKEN not in json.dumps(r.headers) + r.body.decode() for r in stand_in.received)
    assert all(r.headers["authorization"] == f"Bearer {JOB_TOKEN}" for r in github.received)
    assert all(TOKEN not in json.dumps(r.headers) for r in github.received)


# -- failed jobs and steps ------------------------------------------------------------------------------


def test_the_alert_names_the_failed_jobs_and_steps_with_links(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(
        job("build", "success", [step("Set up job"), step("Build")]),
        job("lint", "failure", [step("Set up job"), step("Run ruff", "failure"), step("Upload", "skipped")]),
        running_job(step("Set up job"), step("Run pytest", "failure"), step("Alert", None, "in_progress")),
    )
    result = run_against(github, files, with_)

    assert result.returncode == 0, result.log
    assert result.annotations("warning") == []
    body = stand_in.bodies()[0]
    assert_valid_body(body)
    assert body["metadata"]["failed_jobs"] == ["lint", "test"]
    assert body["metadata"]["failed_jobs_count"] == 2
    description = body["description"]
    lint_url = github.runs[RUN_ID].attempts[1][1]["html_url"]
    assert f"  - [lint]({lint_url}): failed at `Run ruff`" in description
    assert ": failed at `Run pytest`" in description
    assert "build" not in description and "Upload" not in description and "`Alert`" not in description
    assert "| Failed jobs | lint, test |" in result.summary
    # The jobs and the workflow's runs side by side (a newer run that passed would hold the page back),
    # then the workflow file (is this failed job allowed to fail? no checkout in this workspace to read it
    # from), then the completed failed job's errors.
    first, second, definition, errors = github.received
    assert definition.path.startswith("/repos/octo-org/octo-repo/contents/.github/workflows/ci.yml?ref=")
    request = next(r for r in (first, second) if "/jobs?" in r.path)
    assert request.path.startswith(f"/repos/octo-org/octo-repo/actions/runs/{RUN_ID}/attempts/1/jobs?")
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert any("/actions/workflows/ci.yml/runs?" in r.path for r in (first, second))
    lint_id = github.runs[RUN_ID].attempts[1][1]["id"]
    assert errors.path.startswith(f"/repos/octo-org/octo-repo/check-runs/{lint_id}/annotations?")
    assert_secrets_kept(result, stand_in, github)


def test_many_failures_are_paginated_and_capped(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    with GitHubApiStandIn(token=JOB_TOKEN, page_size=5) as github:
        steps = [step(f"step {n}", "failure") for n in range(7)]
        github.this_run(*[job(f"test ({n})", "failure", steps) for n in range(23)])
        result = run_against(github, files, with_)

        assert result.returncode == 0, result.log
        jobs_pages = [r for r in github.received if "/jobs?" in r.path]
        errors = [r for r in github.received if "/annotations?" in r.path]
        assert len(jobs_pages) == 5  # 23 jobs, 5 to a page, following the Link headers
        assert len(errors) == 5  # the error messages of the first 5 failed jobs only
    body = stand_in.bodies()[0]
    assert_valid_body(body)
    assert body["metadata"]["failed_jobs"] == [f"test ({n})" for n in range(10)]
    assert body["metadata"]["failed_jobs_count"] == 23
    description = body["description"]
    assert description.count("failed at `step 0`, `step 1`, `step 2`, `step 3`, `step 4`, and 2 more") == 10
    assert "  - … and 13 more failed jobs" in description
    assert len(json.dumps(body)) < 8000


def test_a_next_page_on_another_host_is_not_fetched(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    with GitHubApiStandIn(token=JOB_TOKEN) as github, GitHubApiStandIn(token=JOB_TOKEN) as elsewhere:
        github.this_run(job("lint", "failure"))
        github.script_for(
            "/jobs",
            Reply(
                200,
                github.jobs_body(RUN_ID),
                headers={"Link": f'<{elsewhere.url.replace("127.0.0.1", "localhost")}/page2>; rel="next"'},
            ),
        )
        result = run_against(github, files, with_)

        assert result.returncode == 0, result.log
        assert elsewhere.received == []
    assert stand_in.bodies()[0]["metadata"]["failed_jobs"] == ["lint"]


def test_a_watched_workflow_run_lists_its_own_failed_jobs(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    payload = json.loads((EVENTS_DIR / "workflow_run" / "completed.payload.json").read_text())
    payload["workflow_run"].update(conclusion="failure", run_attempt=2)
    watched = payload["workflow_run"]
    github.add_run(
        FakeRun(watched["id"], "failure", "master", "test.yml", watched["workflow_id"]),
        attempt=2,
        jobs=[job("unit", "failure", [step("pytest", "failure")])],
    )
    result = run_against(
        github,
        files,
        with_,
        event=payload,
        github_env={"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_WORKFLOW": "Alerts", "GITHUB_JOB": "notify"},
    )

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["metadata"]["failed_jobs"] == ["unit"]
    assert any(
        r.path.startswith(f"/repos/octo-org/octo-repo/actions/runs/{watched['id']}/attempts/2/")
        for r in github.received
    )


# -- failures-before-alert ------------------------------------------------------------------------------


def test_the_first_failures_are_held_back_with_a_notice(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.history("failure", "success", "failure")  # oldest first: one failure since the last success
    github.this_run(running_job(step("Run pytest", "failure")))
    result = run_against(github, files, {**with_, "failures-before-alert": "3"})

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    (notice,) = result.annotations("notice")
    assert notice.data.startswith("2 of 3 consecutive failures of CI / test on main")
    assert result.outputs["status"] == "skipped"
    assert result.outputs["sent"] == "false"
    assert result.outputs["deduplication-key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    assert "2 of 3 consecutive failures" in result.summary
    runs_request = next(r for r in github.received if "/workflows/" in r.path)
    assert runs_request.path.startswith("/repos/octo-org/octo-repo/actions/workflows/ci.yml/runs?")
    # Runs still going count too: a run's job may have ended while its other jobs go on.
    assert "branch=main" in runs_request.path and "status=" not in runs_request.path


def test_the_nth_consecutive_failure_fires(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.history("success", "failure", "cancelled", "failure")  # cancelled runs are passed over
    github.history("success", "success", branch="other", start=1658821400)  # another branch
    github.this_run(running_job(step("Run pytest", "failure")))
    result = run_against(github, files, {**with_, "failures-before-alert": "3"})

    assert result.returncode == 0, result.log
    assert result.annotations("warning") == []
    body = stand_in.bodies()[0]
    assert body["status"] == "firing"
    assert body["metadata"]["consecutive_failures"] == 3
    assert body["metadata"]["failed_jobs"] == ["test"]


def test_a_flaky_streak_from_first_failure_to_alert_to_resolve(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, tmp_path: Path, with_: dict[str, str]
) -> None:
    """Four runs of the same job on main with failures-before-alert: 3: held, held, fired, resolved."""
    github.history("success")  # run #16
    seen = []
    for number, job_status in enumerate(["failure", "failure", "failure", "success"]):
        run_id, run_number = RUN_ID + number, RUN_NUMBER + number  # runs #17 to #20
        failed_steps = [step("pytest", "failure")] if job_status == "failure" else []
        this_run = FakeRun(run_id, None, status="in_progress", run_number=run_number)
        github.add_run(this_run, jobs=[running_job(*failed_steps)])
        result = run_against(
            github,
            StepFiles(tmp_path / str(number)),
            {**with_, "failures-before-alert": "3"},
            job_status=job_status,
            github_env={"GITHUB_RUN_ID": str(run_id), "GITHUB_RUN_NUMBER": str(run_number)},
        )
        assert result.returncode == 0, result.log
        seen.append(result.outputs["status"])
        finished = github.runs[run_id]  # the run ends as its job did
        finished.status, finished.conclusion = "completed", job_status
        finished.attempts[1][0].update(status="completed", conclusion=job_status)

    assert seen == ["skipped", "skipped", "firing", "resolved"]
    assert [body["status"] for body in stand_in.bodies()] == ["firing", "resolved"]
    assert stand_in.bodies()[0]["metadata"]["consecutive_failures"] == 3


def test_twenty_failures_are_counted_within_the_time_budget(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    """19 earlier runs' jobs at 0.4 s each would take 7.6 s one after another; they are asked for together."""
    github.history("success", *["failure"] * 19, number=1)  # runs #1 to #20, before this one, #40
    github.jobs_delay = 0.4
    github.this_run(running_job(step("Run pytest", "failure")))
    started = time.monotonic()
    result = run_against(
        github, files, {**with_, "failures-before-alert": "20"}, github_env={"GITHUB_RUN_NUMBER": "40"}
    )

    assert result.returncode == 0, result.log
    assert result.annotations("warning") == []
    assert stand_in.bodies()[0]["metadata"]["consecutive_failures"] == 20
    assert time.monotonic() - started < 4


def test_without_a_workflow_file_the_workflow_is_found_by_the_run(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.history("failure")
    github.this_run(running_job(step("Run pytest", "failure")))
    result = run_against(
        github, files, {**with_, "failures-before-alert": "2"}, github_env={"GITHUB_WORKFLOW_REF": ""}
    )

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["metadata"]["consecutive_failures"] == 2
    assert any(r.path == f"/repos/octo-org/octo-repo/actions/runs/{RUN_ID}" for r in github.received)
    assert any(
        r.path.startswith("/repos/octo-org/octo-repo/actions/workflows/161335/runs?") for r in github.received
    )


def test_another_jobs_failures_do_not_count_towards_this_job(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    for run_id in (1658821001, 1658821002):  # the run failed, but in lint; test passed
        github.add_run(FakeRun(run_id, "failure"), jobs=[job("lint", "failure"), job("test", "success")])
    github.this_run(job("lint", "success"), running_job(step("Run pytest", "failure")))
    result = run_against(github, files, {**with_, "failures-before-alert": "2"})

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert result.annotations("notice")[0].data.startswith("1 of 2 consecutive failures of CI / test on main")


def test_a_success_resolves_after_one_round_trip_to_github(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.history("failure", "failure")  # failures-before-alert never holds back a resolve
    github.this_run(running_job())
    result = run_against(github, files, {**with_, "failures-before-alert": "20"}, job_status="success")

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["status"] == "resolved"
    assert result.annotations("warning") == []
    # This attempt's jobs (which job this is) and the workflow's runs, side by side; no newer run, so
    # no other run's jobs are asked for.
    paths = sorted(request.path for request in github.received)
    assert len(paths) == 2
    assert paths[0].startswith(f"/repos/octo-org/octo-repo/actions/runs/{RUN_ID}/attempts/1/jobs?")
    assert paths[1].startswith("/repos/octo-org/octo-repo/actions/workflows/ci.yml/runs?")


# -- when GitHub's API cannot help ----------------------------------------------------------------------

EMPTY_LIST = {"total_count": 0, "jobs": [], "workflow_runs": []}
DEGRADED = {
    "restricted token (403)": (not_accessible(), "actions: read"),
    "not found (404)": (Reply(404, api_error(404, "Not Found")), "actions: read"),
    "bad credentials (401)": (Reply(401, api_error(401, "Bad credentials")), "${{ github.token }}"),
    "rate limit (403)": (rate_limited(403), "rate limit was hit (HTTP 403); it resets at"),
    "rate limit (429)": (rate_limited(429), "rate limit was hit (HTTP 429)"),
    "GitHub down (502 HTML)": (Reply(502, "<html>Unicorn!</html>"), "HTTP 502"),
    "dropped connection": (Reply(drop=True), "could not be reached"),
    # Whichever of the two requests it answers, the body is a valid one (an empty list), only too late.
    "no answer": (Reply(200, EMPTY_LIST, delay=30), "did not answer within 5 seconds"),
}


@pytest.mark.parametrize("needed", ["1", "3"])
@pytest.mark.parametrize("case", sorted(DEGRADED))
def test_the_alert_still_goes_out_when_github_cannot_help(
    stand_in: IncidentIoStandIn,
    github: GitHubApiStandIn,
    files: StepFiles,
    with_: dict[str, str],
    case: str,
    needed: str,
) -> None:
    reply, says = DEGRADED[case]
    github.history("failure", "failure")
    github.this_run(running_job(step("Run pytest", "failure")))
    github.script(*[reply] * 5)
    started = time.monotonic()
    result = run_against(github, files, {**with_, "failures-before-alert": needed})
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.log
    assert elapsed < 8, "GitHub's API may delay the alert by a few seconds at most"
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert "failed_jobs" not in body["metadata"] and "Failed jobs" not in body["description"]
    (warning,) = result.annotations("warning")
    assert warning.properties["title"] == GITHUB_WARNING
    assert says in warning.data
    assert "does not list the failed jobs" in warning.data
    if needed == "3":
        assert "failures-before-alert (3) could not be checked and the alert fires anyway" in warning.data
    assert_secrets_kept(result, stand_in, github)


def test_history_that_cannot_be_read_fires_and_says_so(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(running_job(step("Run pytest", "failure")))
    # The jobs are read; the runs, asked for side by side, hit the rate limit.
    github.script_for("/jobs", Reply(200, github.jobs_body(RUN_ID)))
    github.script_for("/workflows/", rate_limited())
    result = run_against(github, files, {**with_, "failures-before-alert": "2"})

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert body["metadata"]["failed_jobs"] == ["test"]  # what could be read is kept
    assert "consecutive_failures" not in body["metadata"]
    (warning,) = result.github_api_warnings()
    assert "rate limit" in warning and "fires anyway" in warning
    assert "does not list the failed jobs" not in warning


def test_an_empty_github_token_sends_the_alert_with_one_warning(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_against(github, files, {**with_, "github-token": ""})

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 1
    (warning,) = result.github_api_warnings()
    assert warning.startswith("github-token is empty, so the alert does not list the failed jobs")
    assert github.received == []


def test_an_unreachable_github_api_is_one_warning(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    """What every other test sees: GITHUB_API_URL is a dead loopback port."""
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 1
    (warning,) = result.annotations("warning")
    assert warning.data.startswith(
        "GitHub's API at http://127.0.0.1:9 could not help: it could not be reached"
    )
    assert "GITHUB_API_URL" in warning.data


def test_the_github_token_is_refused_like_any_input(files: StepFiles, with_: dict[str, str]) -> None:
    result = run_step(files, {**with_, "github-token": "two words", "failures-before-alert": "21"})

    assert result.returncode == 2
    errors = [error.data for error in result.annotations("error")]
    assert len(errors) == 2
    assert errors[0].startswith("Input 'github-token' (INCIDENT_IO_GITHUB_TOKEN) must be a GitHub token")
    assert "two words" not in errors[0]
    assert errors[1] == (
        "Input 'failures-before-alert' (INCIDENT_IO_FAILURES_BEFORE_ALERT) must be a whole number "
        "from 1 to 20; got '21'."
    )
