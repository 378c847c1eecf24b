"""GitHub's API as GitHub describes it (tests/data/github-api: the seven operations the action calls, from
GitHub's published OpenAPI description), and what the action does with the answers GitHub really gives.

The GitHub stand-in checks every request and every answer of the whole suite against the description
(tests/support/github_openapi.py); the first part here shows that check catching what it must. The rest run
the action as a process against the stand-in: the shapes GitHub answers with (jobs queued or waiting with no
runner, runs queued, lists in no promised order, pages joined by `Link` on github.com's `/repositories/{id}`
form), the defects that reading showed (secondary rate limits, tags of tags, an empty repository, runs
beyond the first page), and the token's rate limit, which is the user's repository's.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from entrypoint.messages import BUDGET_TITLE, GITHUB_API_TITLE
from tests.support import github_openapi, layouts
from tests.support.actions_runner import ROOT, StepFiles, StepResult, default_github_env, run_step
from tests.support.github_api_stand_in import (
    THIS_RUN_ID,
    THIS_RUN_NUMBER,
    FakeRun,
    GitHubApiStandIn,
    api_error,
    job,
    running_job,
    step,
)
from tests.support.http_stand_in import Reply
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.steps import Steps, assert_skipped, notice

REPOSITORY = "octo-org/octo-repo"
REPOSITORY_ID = 1296269


def run_against(
    github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str], **kwargs: Any
) -> StepResult:
    env = default_github_env(GITHUB_API_URL=github.url, **kwargs.pop("github_env", {}))
    return run_step(files, with_, github_env=env, **kwargs)


def problems_of_request(target: str, method: str = "GET") -> list[str]:
    return github_openapi.check_request(method, target, REPOSITORY, REPOSITORY_ID)


def problems_of_answer(target: str, status: int, body: Any) -> list[str]:
    return github_openapi.check_answer("GET", target, status, body, REPOSITORY, REPOSITORY_ID)


# -- 1. the check itself ---------------------------------------------------------------------------------

JOBS = f"/repos/{REPOSITORY}/actions/runs/1/attempts/1/jobs"
RUNS = f"/repos/{REPOSITORY}/actions/workflows/ci.yml/runs"


def test_the_description_holds_the_eight_operations_the_action_calls() -> None:
    """../shared's seven, and repos/get-content (tests/data/github-api-contents) for a job's workflow file."""
    assert sorted(operation.operation_id for operation in github_openapi.operations()) == [
        "actions/get-workflow-run",
        "actions/list-jobs-for-workflow-run",
        "actions/list-jobs-for-workflow-run-attempt",
        "actions/list-workflow-runs",
        "checks/list-annotations",
        "git/get-ref",
        "git/get-tag",
        "repos/get-content",
    ]


@pytest.mark.parametrize(
    ("target", "says"),
    [
        (f"{JOBS}?per_page=101", "outside 1 to 100"),
        (f"{JOBS}?per_page=0", "outside 1 to 100"),
        (f"{JOBS}?filter=latest", "'filter' is not declared"),  # only the run's jobs take a filter
        (f"/repos/{REPOSITORY}/actions/runs/1/jobs?filter=newest", "'newest' is not one of"),
        (f"{RUNS}?status=finished", "'finished' is not one of"),
        (f"{RUNS}?sort=created", "'sort' is not declared"),
        (f"/repos/{REPOSITORY}/actions/runs/x/jobs", "not an integer"),
        (f"/repos/{REPOSITORY}/actions/jobs/1", "no such operation"),
        (f"/repos/{REPOSITORY}/git/refs/tags/v1", "no such operation"),  # the list, not git/get-ref
    ],
)
def test_a_request_outside_the_description_is_caught(target: str, says: str) -> None:
    assert any(says in problem for problem in problems_of_request(target)), problems_of_request(target)


def test_the_requests_the_action_makes_are_in_the_description() -> None:
    for target in (
        f"{JOBS}?per_page=100",
        f"/repos/{REPOSITORY}/actions/runs/1/jobs?per_page=100&filter=latest",
        f"/repos/{REPOSITORY}/actions/runs/1",
        f"{RUNS}?per_page=50&branch=main",
        f"/repos/{REPOSITORY}/actions/workflows/161335/runs?per_page=50&page=2",
        f"/repos/{REPOSITORY}/check-runs/7/annotations?per_page=100",
        f"/repos/{REPOSITORY}/git/ref/tags/release/v1.2",  # a ref's name may hold slashes
        f"/repos/{REPOSITORY}/git/tags/940bd336248efae0f9ee5bc7b2d5c985887b16ac",
        # github.com's form in a Link URL:
        f"/repositories/{REPOSITORY_ID}/actions/workflows/ci.yml/runs?per_page=50&page=2",
    ):
        assert problems_of_request(target) == [], target


def test_an_answer_without_a_required_field_is_caught_and_nullable_fields_may_be_null() -> None:
    complete = github_openapi.example("job-paginated")
    # GitHub's own example predates the schema's `created_at`: the stand-in fills it in (_job_json).
    assert problems_of_answer(JOBS, 200, complete) == [
        "actions/list-jobs-for-workflow-run-attempt HTTP 200: jobs/0: 'created_at' is a required property"
    ]
    complete["jobs"][0]["created_at"] = "2020-01-20T17:42:40Z"
    assert problems_of_answer(JOBS, 200, complete) == []

    queued = github_openapi.example("job-paginated")
    queued["jobs"][0].update(status="queued", conclusion=None, completed_at=None, runner_name=None)
    queued["jobs"][0]["created_at"] = "2020-01-20T17:42:40Z"
    assert problems_of_answer(JOBS, 200, queued) == []

    del complete["jobs"][0]["check_run_url"]
    assert any("'check_run_url' is a required property" in p for p in problems_of_answer(JOBS, 200, complete))
    unknown_status = github_openapi.example("job-paginated")
    unknown_status["jobs"][0].update(status=None, created_at="2020-01-20T17:42:40Z")  # status is never null
    assert problems_of_answer(JOBS, 200, unknown_status) != []


def test_an_error_answer_has_the_shape_of_basic_error_where_github_documents_none() -> None:
    assert problems_of_answer(JOBS, 403, api_error(403, "Resource not accessible by integration")) == []
    assert problems_of_answer(JOBS, 403, {"message": 403}) != []
    assert problems_of_answer(JOBS, 502, "<html>Unicorn!</html>") == []  # the edge's page, not the API's
    assert problems_of_answer(JOBS, 201, {}) != []  # a success it does not document


def test_a_stand_in_answer_outside_the_description_fails_the_test_that_made_it() -> None:
    github = GitHubApiStandIn(token="t").start()
    github.script(Reply(200, {"jobs": []}))  # no total_count
    import requests  # noqa: PLC0415 - only this test talks to the stand-in directly

    requests.get(f"{github.url}{JOBS}", headers={"Authorization": "Bearer t"}, timeout=5)
    requests.get(f"{github.url}{JOBS}?per_page=500", headers={"Authorization": "Bearer t"}, timeout=5)
    with pytest.raises(AssertionError) as failed:
        github.stop()
    assert "'total_count' is a required property" in str(failed.value)
    assert "per_page='500': outside 1 to 100" in str(failed.value)


# Every field github_api.py reads, by the schema it reads it from, and the JSON type its parsing assumes.
FIELDS_READ = {
    "job": {
        "id": "integer",
        "name": "string",
        "status": "string",
        "conclusion": "string",
        "html_url": "string",
        "runner_name": "string",
        "steps": "array",
        "started_at": "string",
        "completed_at": "string",
        "labels": "array",
    },
    "workflow-run": {
        "id": "integer",
        "conclusion": "string",
        "run_number": "integer",
        "event": "string",
        "head_branch": "string",
        "head_repository": "object",
        "html_url": "string",
        "status": "string",
        "run_attempt": "integer",
        "workflow_id": "integer",
    },
    "minimal-repository": {"full_name": "string"},
    "check-annotation": {
        "annotation_level": "string",
        "message": "string",
        "title": "string",
        "path": "string",
        "start_line": "integer",
    },
    "git-ref": {"object": "object"},
    "basic-error": {"message": "string"},
    "content-file": {"type": "string", "encoding": "string", "content": "string"},
}
STEP_FIELDS = {
    "name": "string",
    "status": "string",
    "conclusion": "string",
    "started_at": "string",
    "completed_at": "string",
}
OBJECT_FIELDS = {"type": "string", "sha": "string"}  # a ref's or a tag's `object`
LIST_KEYS = {"jobs", "workflow_runs"}


def test_every_field_the_action_reads_is_declared_with_the_type_it_assumes() -> None:
    schemas = github_openapi.document()["components"]["schemas"]

    def declared(properties: dict[str, Any], name: str) -> str | None:
        node = properties.get(name, {})
        if "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[1]]
        kind = node.get("type")
        return kind if isinstance(kind, str) else None

    for schema, fields in FIELDS_READ.items():
        for name, kind in fields.items():
            assert declared(schemas[schema]["properties"], name) == kind, (schema, name)
    step_properties = schemas["job"]["properties"]["steps"]["items"]["properties"]
    assert all(declared(step_properties, name) == kind for name, kind in STEP_FIELDS.items())
    for schema in ("git-ref", "git-tag"):
        object_properties = schemas[schema]["properties"]["object"]["properties"]
        assert all(declared(object_properties, name) == kind for name, kind in OBJECT_FIELDS.items())

    source = (ROOT / "entrypoint" / "github_api.py").read_text(encoding="utf-8")
    read = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and not node.args[0].value.startswith("x-")  # headers
    }
    listed = (
        {name for fields in FIELDS_READ.values() for name in fields} | set(STEP_FIELDS) | set(OBJECT_FIELDS)
    )
    assert read - {"next", "url", "retry-after"} <= listed | LIST_KEYS, read - listed - LIST_KEYS


# -- 2. the shapes GitHub really answers -------------------------------------------------------------------


def test_jobs_queued_or_waiting_with_no_runner_yet_are_neither_failed_nor_this_job(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(
        job("deploy", None, status="waiting"),  # an environment's approval
        job("e2e", None, status="queued"),
        job("lint", None, [step("Run ruff", None, "in_progress")], status="in_progress"),
        running_job(step("Set up job"), step("Run pytest", "failure"), step("Alert", None, "in_progress")),
    )
    assert github.runs[THIS_RUN_ID].attempts[1][0]["runner_name"] is None

    result = run_against(github, files, with_)

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["metadata"]["failed_jobs"] == ["test"]  # found by its runner, not the runnerless ones
    assert result.annotations("warning") == []


def test_a_resolve_over_a_shuffled_list_with_a_queued_newer_run_and_a_failed_one_beyond_it_holds(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.run_order = "shuffled"
    github.this_run(running_job(step("Run pytest")))
    github.history(*["success"] * 8)
    github.newer_run(job("test", "failure", [step("Run pytest", "failure")]), conclusion="failure")
    queued = github.newer_run(after=2)
    queued.status = "queued"
    queued.attempts = {}  # GitHub has made no job of it yet

    result = run_against(github, files, with_, job_status="success")

    assert result.returncode == 0, result.log
    assert stand_in.received == []  # the newer failed run decides, not the queued one nor the list's order
    assert f"#{THIS_RUN_NUMBER + 1}" in notice(result)


# -- 3. what the description showed -------------------------------------------------------------------------


def secondary_rate_limited(status: int, retry_after: str | None) -> Reply:
    """GitHub's answer to too many requests at once: a 403 or 429 saying so, `retry-after` or not."""
    body = api_error(
        status, "You have exceeded a secondary rate limit. Please wait a few minutes before retrying."
    )
    return Reply(status, body, headers={"retry-after": retry_after} if retry_after else {})


@pytest.mark.parametrize(("status", "retry_after"), [(403, None), (403, "60"), (429, None), (429, "30")])
def test_a_secondary_rate_limit_is_told_as_one_with_no_permission_advice(
    stand_in: IncidentIoStandIn,
    github: GitHubApiStandIn,
    files: StepFiles,
    with_: dict[str, str],
    status: int,
    retry_after: str | None,
) -> None:
    github.this_run(running_job(step("Run pytest", "failure")))
    github.script(*[secondary_rate_limited(status, retry_after)] * 2)

    result = run_against(github, files, with_)

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["status"] == "firing"
    (warning,) = result.annotations("warning")
    assert warning.properties["title"] == GITHUB_API_TITLE
    assert f"its secondary rate limit was hit (HTTP {status})" in warning.data
    assert "may not read" not in warning.data and "actions: read" not in warning.data
    assert "not about permissions" in warning.data
    if retry_after:
        assert f"retry after {retry_after} s" in warning.data


def watched_tag_run(tag: str, conclusion: str, run_number: int) -> layouts.Layout:
    return layouts.watched_run(
        conclusion, head_branch=tag, run_number=run_number, run_id=layouts.WATCHED_RUN_ID + run_number
    )


def test_an_annotated_tag_of_an_annotated_tag_is_followed_to_its_commit(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    run = watched_tag_run("v2.0.0", "failure", 170)
    github.nested_tags["v2.0.0"] = (1, run.event["workflow_run"]["head_sha"])  # tag → tag → commit
    deeper = watched_tag_run("v2.0.1", "failure", 171)
    github.nested_tags["v2.0.1"] = (3, deeper.event["workflow_run"]["head_sha"])

    for layout in (run, deeper):
        result = steps.run(layout, "success")
        assert result.returncode == 0, result.log
    first, second = stand_in.bodies()
    assert first["title"] == "CI failed for tag v2.0.0 in octo-org/octo-repo"
    assert second["title"] == "CI failed for tag v2.0.1 in octo-org/octo-repo"
    assert first["deduplication_key"] == "github-actions-tag:octo-org/octo-repo:ci.yml"


def test_an_empty_repository_has_no_tags_and_github_is_not_blamed(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.empty_repository = True  # git/get-ref answers 409, as GitHub documents

    result = steps.run(watched_tag_run("v1.0", "failure", 170), "success")

    assert_skipped(result, stand_in, "which branches (the default branch, main) does not include")
    assert "409" not in result.log and "contents: read" not in notice(result)


def test_runs_beyond_the_first_page_are_read_where_the_list_is_not_newest_first(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.run_order = "oldest"  # the list's order is not promised: the newest runs come last here
    github.links_by_id = True  # and its Link is github.com's /repositories/{id} form
    github.page_size = 5  # pages of 5, not 50: the same paging with fewer runs
    github.history(*["success"] * 6)
    github.this_run(running_job(step("Run pytest")))
    github.newer_run(job("test", "failure", [step("Run pytest", "failure")]), conclusion="failure")

    result = run_against(github, files, with_, job_status="success")

    assert result.returncode == 0, result.log
    assert stand_in.received == []  # #N+1 failed since: no resolve
    assert f"#{THIS_RUN_NUMBER + 1}" in notice(result)
    pages = [r.path for r in github.received if "/runs?" in r.path]
    assert len(pages) == 2 and pages[1].startswith(f"/repositories/{REPOSITORY_ID}/")


def test_where_the_runs_read_do_not_reach_this_run_it_does_not_resolve_and_says_why(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.run_order = "oldest"
    github.page_size = 5  # three pages of 5 read at most, as of 50 on GitHub
    github.history(*["success"] * 16)  # this run lies beyond them
    github.this_run(running_job(step("Run pytest")))

    result = run_against(github, files, with_, job_status="success")

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert "did not reach this run within the pages read" in notice(result)
    (warning,) = result.annotations("warning")
    assert "did not reach this run (a re-run of an old one?)" in warning.data
    assert "within the 150 runs read" in warning.data  # the action asks for 50 a page
    assert len([r for r in github.received if "/runs?" in r.path]) == 3


def test_the_first_page_suffices_where_it_holds_this_run_and_the_runs_before_it(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.page_size = 5
    github.history(*["success"] * 12)
    github.this_run(running_job(step("Run pytest")))

    result = run_against(github, files, with_, job_status="success")

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["status"] == "resolved"
    assert len([r for r in github.received if "/runs?" in r.path]) == 1


# -- 4. the rate limit is the repository's ------------------------------------------------------------------


def test_with_the_budget_low_a_failure_fires_without_the_detail_and_one_notice_says_so(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run_with_failed_siblings("lint", "unit", "e2e")
    github.history(*["success"] * 3, "failure", *["cancelled"] * 4, "failure")
    github.rate_used = 950  # 50 of 1,000 left: under a tenth

    result = run_against(github, files, {**with_, "failures-before-alert": "3"})

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    # #N-1 failed, #N-2 was cancelled: with budget to spare, the streak would pass over it and the
    # three after it to #N-6; short of it, the failure fires uncounted rather than be held back.
    assert body["status"] == "firing"
    assert "consecutive_failures" not in body["metadata"] and "errors" not in body["metadata"]
    assert not [r for r in github.received if "/annotations" in r.path]
    (budget,) = [n for n in result.annotations("notice") if n.properties.get("title") == BUDGET_TITLE]
    assert "left" in budget.data and "of its 1000 requests an hour" in budget.data
    assert "the failed jobs' error messages" in budget.data
    assert "beyond the 2 that failures-before-alert needs, so it fired without counting" in budget.data
    jobs_read = [r for r in github.received if "/jobs" in r.path]
    assert len(jobs_read) == 1 + 2  # this run's, and the two earlier runs the streak needs
    assert result.annotations("warning") == []


def test_with_the_budget_low_a_resolve_is_still_judged_against_newer_runs(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(running_job(step("Run pytest")))
    github.newer_run(job("test", "failure", [step("Run pytest", "failure")]), conclusion="failure")
    github.rate_used = 990

    result = run_against(github, files, with_, job_status="success")

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert f"#{THIS_RUN_NUMBER + 1}" in notice(result)


def test_with_budget_to_spare_the_detail_is_read_and_nothing_is_said(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run_with_failed_siblings("lint", "unit", "e2e")
    github.rate_used = 800

    result = run_against(github, files, with_)

    assert result.returncode == 0, result.log
    assert len(stand_in.bodies()[0]["metadata"]["errors"]) == 3
    assert [n for n in result.annotations("notice") if n.properties.get("title") == BUDGET_TITLE] == []


def test_a_streak_reads_the_runs_it_needs_first_and_more_only_for_runs_that_did_not_decide(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(running_job(step("Run pytest", "failure")))
    github.history(*["success"] * 12, "failure", "failure")

    result = run_against(github, files, {**with_, "failures-before-alert": "3"})

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["metadata"]["consecutive_failures"] == 3
    # This run's jobs and the list side by side, the workflow file (is the job allowed to fail? there is no
    # checkout here to read it from), then the two earlier runs' jobs: 5 requests, not 15.
    assert len(github.received) == 5


def test_the_newest_remaining_figure_of_answers_side_by_side_is_the_lowest(tmp_path: Path) -> None:
    del tmp_path
    from entrypoint.github_api import GitHubApi  # noqa: PLC0415

    with GitHubApiStandIn(token="t") as github:
        github.add_run(FakeRun(THIS_RUN_ID, None, status="in_progress"), jobs=[job("test", None)])
        github.rate_used = 899
        api = GitHubApi(base_url=github.url, token="t")
        api.jobs_of_runs(REPOSITORY, [THIS_RUN_ID, THIS_RUN_ID])
        assert (api.rate_limit, api.rate_remaining, api.short_of_budget) == (1000, 99, True)


def test_a_run_with_a_null_head_branch_and_a_queued_run_with_no_jobs_are_read_as_github_gives_them() -> None:
    from entrypoint.github_api import GitHubApi  # noqa: PLC0415

    with GitHubApiStandIn(token="t") as github:
        github.add_run(FakeRun(THIS_RUN_ID - 1, "failure", branch=None, run_number=THIS_RUN_NUMBER - 1))
        github.add_run(FakeRun(THIS_RUN_ID, None, status="queued", run_number=THIS_RUN_NUMBER))
        api = GitHubApi(base_url=github.url, token="t")
        runs, complete = api.runs_of_workflow(REPOSITORY, "ci.yml", None, 50)
        jobs = api.jobs_of_attempt(REPOSITORY, THIS_RUN_ID, None)  # a queued run: no jobs yet
    assert complete and jobs == []
    assert [(run.head_branch, run.status) for run in sorted(runs, key=lambda run: run.order)] == [
        (None, "completed"),
        ("main", "queued"),
    ]
