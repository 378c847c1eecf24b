"""The GitHub API client and the failure logic, one case at a time (responses; no network, no sleeping)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import responses

from entrypoint.facts import current_job
from entrypoint.failures import find_failed_jobs
from entrypoint.github_api import GitHubApi
from entrypoint.github_data import Cancel, GitHubUnavailable, Job, PastRun, Step

API = "https://github.example.com/api/v3"  # GitHub Enterprise Server's form of GITHUB_API_URL
JOBS = f"{API}/repos/o/r/actions/runs/5/attempts/2/jobs"


def api(clock: list[float] | None = None) -> GitHubApi:
    ticks = clock if clock is not None else [0.0]
    return GitHubApi(base_url=API, token="ghs_secret", clock=lambda: ticks[0])


@responses.activate
def test_jobs_are_read_with_the_token_from_the_enterprise_api_url() -> None:
    responses.get(
        JOBS,
        json={"total_count": 1, "jobs": [{"id": 77, "name": "lint", "conclusion": "failure", "steps": []}]},
    )

    (read,) = api().jobs_of_attempt("o/r", 5, 2)

    assert read == Job(77, "lint", None, "failure", None, None, ())
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Bearer ghs_secret"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert "per_page=100" in (request.url or "")


@responses.activate
def test_a_redirect_is_not_followed() -> None:
    responses.get(JOBS, status=301, headers={"Location": "https://elsewhere.example/jobs"})

    with pytest.raises(GitHubUnavailable, match="redirect"):
        api().jobs_of_attempt("o/r", 5, 2)
    assert len(responses.calls) == 1


@responses.activate
def test_no_call_is_made_once_the_time_budget_is_spent() -> None:
    clock = [0.0]
    client = api(clock)
    responses.get(JOBS, json={"jobs": []})
    client.jobs_of_attempt("o/r", 5, 2)
    clock[0] = 4.9

    with pytest.raises(GitHubUnavailable, match="did not answer within 5 seconds"):
        client.jobs_of_attempt("o/r", 5, 2)
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("status", "headers", "says"),
    [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1798761600"}, "resets at 00:00 UTC"),
        (429, {"retry-after": "60"}, "retry after 60 s"),
        (403, {}, "may not read this run's jobs (HTTP 403)"),
        (401, {}, "refused the github-token"),
        (503, {}, "answered HTTP 503"),
    ],
)
@responses.activate
def test_each_refusal_says_what_happened(status: int, headers: dict[str, str], says: str) -> None:
    responses.get(JOBS, status=status, headers=headers, json={"message": "no"})

    with pytest.raises(GitHubUnavailable) as raised:
        api().jobs_of_attempt("o/r", 5, 2)
    assert says in str(raised.value)


@responses.activate
def test_an_answer_that_is_not_json_is_unavailable() -> None:
    responses.get(JOBS, body="<html>", status=200)

    with pytest.raises(GitHubUnavailable, match="not JSON"):
        api().jobs_of_attempt("o/r", 5, 2)


def test_failed_jobs_include_running_jobs_whose_steps_failed_and_cancels_after_a_failed_step() -> None:
    jobs = (
        Job(None, "ok", "completed", "success", None, None, (Step("a", "completed", "success"),)),
        Job(None, "timed out", "completed", "timed_out", "https://x/1", None, ()),
        Job(
            None,
            "running",
            "in_progress",
            None,
            "javascript:alert(1)",
            "r",
            (Step("b", "completed", "failure"),),
        ),
        Job(None, "running fine", "in_progress", None, None, "r2", (Step("c", "in_progress", None),)),
        Job(None, "cancelled", "completed", "cancelled", None, None, ()),
        # The runner reports a job that failed and then hit its timeout as cancelled.
        Job(
            None,
            "hung after failing",
            "completed",
            "cancelled",
            None,
            None,
            (Step("d", "completed", "failure"),),
        ),
    )

    failed = find_failed_jobs(jobs, datetime.now(UTC))
    # A cancel that counts (on-cancelled: fire, or a timeout) is said once, on the job (cancels.py).
    counted = tuple(
        dataclasses.replace(job, cancel=Cancel("cancel", counts=True))
        if job.conclusion == "cancelled"
        else job
        for job in jobs
    )
    with_cancels = find_failed_jobs(counted, datetime.now(UTC))

    assert [(job.name, job.url, job.failed_steps) for job in failed] == [
        ("timed out", "https://x/1", ()),
        ("running", None, ("b",)),  # a link that is not http(s) is dropped
        ("hung after failing", None, ("d",)),
    ]
    assert [job.name for job in with_cancels] == ["timed out", "running", "cancelled", "hung after failing"]


def test_this_job_is_found_by_its_id_then_by_its_runner_then_by_its_name() -> None:
    mine = Job(12, "test (3.12)", "in_progress", None, None, "runner 2", ())
    other = Job(13, "test (3.13)", "in_progress", None, None, "runner 3", ())
    named = Job(14, "lint", "completed", "failure", None, "runner 2", ())

    # By id: exact, whatever the runner (a self-hosted pool may reuse names) or the name says.
    assert current_job((other, mine, named), 13, "runner 2", "test") is other
    assert current_job((other, mine, named), None, "runner 2", "test") is mine
    assert current_job((other, mine, named), 99, "runner 2", "test") is mine  # an unknown id falls back
    assert current_job((other, named), None, "runner 9", "lint") is named
    assert current_job((other,), None, "runner 9", "test") is None


def test_without_an_id_or_a_runner_this_job_is_found_by_what_github_names_it_and_what_it_is_doing() -> None:
    """act and older GitHub Enterprise Server give no check run id and no runner name that matches."""
    legs = (
        Job(21, "test (3.12, ubuntu-latest)", "in_progress", None, None, "r1", ()),
        Job(22, "test (3.13, ubuntu-latest)", "in_progress", None, None, "r2", ()),
    )
    matrix = {"python": "3.13", "os": "ubuntu-latest"}  # toJSON(matrix), in the matrix's order
    assert current_job(legs, None, None, "test", matrix=matrix) is legs[1]
    assert current_job(legs, None, None, "test", matrix={"python": ["a"], "os": "x"}) is None

    failing = Job(
        31, "unit (3.13) / test", "in_progress", None, None, "r3", (Step("pytest", "completed", "failure"),)
    )
    green = Job(32, "unit (3.12) / test", "in_progress", None, None, "r4", ())
    done = Job(33, "unit (3.11) / test", "completed", "success", None, "r5", ())
    assert current_job((done, green), None, None, "test") is green  # the one leg in progress
    assert current_job((failing, green), None, None, "test", job_status="failure") is failing
    assert current_job((failing, green), None, None, "test", job_status="success") is green
    assert current_job((failing, green), None, None, "test", job_status="cancelled") is None
    assert current_job((failing, green, green), None, None, "test", job_status="success") is None


RUNS = f"{API}/repos/o/r/actions/workflows/ci.yml/runs"


@responses.activate
def test_runs_of_every_status_are_listed_with_their_number_and_attempt() -> None:
    running = {"id": 9, "run_number": 18, "run_attempt": 1, "status": "in_progress", "conclusion": None}
    re_run = {"id": 8, "run_number": 17, "run_attempt": 2, "status": "completed", "conclusion": "failure"}
    responses.get(RUNS, json={"total_count": 2, "workflow_runs": [running, re_run, {"id": "x"}]})

    runs, complete = api().runs_of_workflow("o/r", "ci.yml", "main", 50)
    assert complete

    assert [(run.run_id, run.status, run.order) for run in runs] == [
        (9, "in_progress", (18, 1)),
        (8, "completed", (17, 2)),
    ]
    url = responses.calls[0].request.url or ""
    assert "branch=main" in url and "status=" not in url  # runs still going count too
    assert PastRun(1, None).order < PastRun(2, None, run_number=1).order


TAG_REF = f"{API}/repos/o/r/git/ref/tags/v1.2.0"


@responses.activate
def test_a_tag_is_followed_to_its_commit_lightweight_or_annotated() -> None:
    responses.get(TAG_REF, json={"ref": "refs/tags/v1.2.0", "object": {"type": "commit", "sha": "c0ffee"}})
    assert api().tag_commit("o/r", "v1.2.0") == "c0ffee"

    responses.replace(responses.GET, TAG_REF, json={"object": {"type": "tag", "sha": "7a9"}})
    responses.get(
        f"{API}/repos/o/r/git/tags/7a9", json={"sha": "7a9", "object": {"type": "commit", "sha": "beef"}}
    )
    assert api().tag_commit("o/r", "v1.2.0") == "beef"


@responses.activate
def test_no_such_tag_is_none_and_a_refusal_is_unavailable() -> None:
    responses.get(TAG_REF, status=404, json={"message": "Not Found"})
    assert api().tag_commit("o/r", "v1.2.0") is None

    responses.replace(responses.GET, TAG_REF, status=403, json={"message": "Resource not accessible"})
    with pytest.raises(GitHubUnavailable):
        api().tag_commit("o/r", "v1.2.0")


def test_a_bug_in_the_call_on_the_other_thread_is_raised_to_the_caller_without_a_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The entrypoint turns an unexpected exception into one error line; a thread would print its own."""

    def broken() -> list[PastRun]:
        raise KeyError("id")

    with pytest.raises(KeyError, match="id"):
        api().side_by_side(lambda: [], broken)
    assert capfd.readouterr().err == ""
