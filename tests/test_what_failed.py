"""What an on-call engineer woken at night reads: the error messages of the failed jobs, a title that says
what failed, who wrote the commit, how long the job ran, on which runner, and messages without slips.

Process-level, against incident.io's and GitHub's stand-ins; the GitHub stand-in serves check run
annotations as GitHub does (a JSON array per job, paginated).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from entrypoint.messages import GITHUB_API_TITLE
from tests.conftest import SOURCE_ID, TOKEN
from tests.support import layouts
from tests.support.actions_runner import (
    JOB_TOKEN,
    ROOT,
    RUNTIME_TOKEN,
    StepFiles,
    StepResult,
    run_step,
)
from tests.support.github_api_stand_in import (
    THIS_RUN_ID,
    THIS_RUNNER,
    FakeRun,
    GitHubApiStandIn,
    annotation,
    exit_code,
    job,
    running_job,
    step,
)
from tests.support.http_stand_in import Reply
from tests.support.incident_io_stand_in import IncidentIoStandIn, error_body
from tests.support.layouts import Layout
from tests.support.schema import assert_valid_body

RUN_ID = THIS_RUN_ID
GITHUB_WARNING = GITHUB_API_TITLE


def run(
    github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str], layout: Layout | None = None, **kw: Any
) -> StepResult:
    layout = layout or layouts.push()
    github_env = {**layout.github_env, "GITHUB_API_URL": github.url}
    return run_step(files, with_, event=layout.event, github_env=github_env, **kw)


# -- 1. the failed jobs' error messages -------------------------------------------------------------------


def test_the_errors_of_failed_sibling_jobs_are_quoted(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    lint = job("lint", "failure", [step("Run ruff", "failure")], minutes=1.25)
    mine = running_job(step("Run pytest", "failure"), minutes=3.5)
    github.this_run(job("build", "success"), lint, mine)
    github.annotations[lint["id"]] = [
        annotation("E501 Line too long (120 > 110)", path="src/app.py", line=12),
        exit_code(1),  # the runner's own line: left out, as there is a more specific one
        annotation("Node.js 20 actions are deprecated.", "warning"),  # not a failure
    ]
    github.annotations[mine["id"]] = [annotation("never read: this job is still running")]

    result = run(github, files, with_)

    assert result.returncode == 0, result.log
    assert result.github_api_warnings() == []
    body = stand_in.bodies()[0]
    assert_valid_body(body)
    lines = body["description"].splitlines()
    at = lines.index(f"  - [lint]({lint['html_url']}): failed at `Run ruff` after 1m 15s")
    assert lines[at + 1] == "    - src/app.py:12: E501 Line too long (120 \\> 110)"  # markdown-escaped
    assert not lines[at + 2].startswith("    - ")  # nothing else under lint
    assert "exit code" not in body["description"] and "deprecated" not in body["description"]
    assert "never read" not in json.dumps(body)
    running = [line for line in lines if line.startswith("  - [test](")]
    assert re.fullmatch(r".*: failed at `Run pytest` after 3m 3[0-2]s", running[0])  # so far
    assert body["metadata"]["errors"] == ["lint: src/app.py:12: E501 Line too long (120 > 110)"]
    asked = [r.path.split("?")[0] for r in github.received if "/annotations" in r.path]
    assert asked == [f"/repos/octo-org/octo-repo/check-runs/{lint['id']}/annotations"]  # not the running one


def test_a_watched_runs_jobs_all_have_their_errors(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    watched = layouts.watched_run("failure")
    unit = job("unit", "failure", [step("pytest", "failure")])
    e2e = job("e2e", "failure", [step("cypress", "failure")])
    github.add_run(
        FakeRun(layouts.WATCHED_RUN_ID, "failure", workflow_id=layouts.WATCHED_WORKFLOW_ID), jobs=[unit, e2e]
    )
    github.annotations[unit["id"]] = [
        annotation("AssertionError: assert 2 == 3", title="test_sum", path="tests/test_x.py", line=7)
    ]
    github.annotations[e2e["id"]] = [exit_code(137)]  # all there is: kept

    result = run(github, files, with_, layout=watched, job_status="success")

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert body["metadata"]["errors"] == [
        "unit: tests/test_x.py:7: test_sum: AssertionError: assert 2 == 3",
        "e2e: Process completed with exit code 137.",
    ]
    assert "    - tests/test\\_x.py:7: test\\_sum: AssertionError: assert 2 == 3" in body["description"]
    assert body["title"] == "CI failed on main in octo-org/octo-repo"  # two jobs failed
    assert body["source_url"] == watched.event["workflow_run"]["html_url"]


def test_a_job_without_error_messages_says_nothing_misleading(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(job("lint", "failure", [step("Run ruff", "failure")]), running_job())

    result = run(github, files, with_)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert "errors" not in body["metadata"]
    assert "error" not in body["description"].lower()
    assert result.github_api_warnings() == []


@pytest.mark.parametrize("status", [403, 404])
def test_without_checks_read_one_warning_and_the_alert_goes_out(
    stand_in: IncidentIoStandIn,
    github: GitHubApiStandIn,
    files: StepFiles,
    with_: dict[str, str],
    status: int,
) -> None:
    github.this_run(job("lint", "failure", [step("Run ruff", "failure")]), running_job())
    github.annotations_status = status

    result = run(github, files, with_)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert body["metadata"]["failed_jobs"] == ["lint"]  # what could be read is kept
    assert "errors" not in body["metadata"]
    (warning,) = result.annotations("warning")
    assert warning.properties["title"] == GITHUB_WARNING
    assert f"(HTTP {status}), so the alert does not quote them" in warning.data
    assert "Grant `checks: read`" in warning.data


def test_hostile_error_messages_are_only_data(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    lint = job("lint", "failure", [step("Run ruff", "failure")])
    github.this_run(lint, running_job())
    hostile = (
        "::error::pwned\n::add-mask::x\n##[set-output name=sent;]true\nsent<<ghadelimiter_x\n"
        f"[click](https://evil.example) <img src=x> {TOKEN} {JOB_TOKEN} {RUNTIME_TOKEN}"
    )
    github.annotations[lint["id"]] = [annotation(hostile, title="::warning::t")]

    result = run(github, files, {**with_, "dry-run": "true"})

    assert result.returncode == 0, result.log
    assert result.own_commands() <= {"add-mask", "group", "endgroup", "debug", "notice"}, result.commands
    assert {c.data for c in result.commands if c.name == "add-mask"} == {TOKEN, JOB_TOKEN}
    payload = json.loads(result.outputs["payload"])
    assert payload["metadata"]["errors"][0].startswith("lint: ::warning::t: ::error::pwned ::add-mask::x")
    description = payload["description"]
    assert "\\[click\\](https://evil.example) \\<img src=x\\>" in description  # escaped, not a link
    for secret in (TOKEN, JOB_TOKEN, RUNTIME_TOKEN):
        assert secret not in result.output_file.replace(f"::add-mask::{secret}", "")
        assert secret not in result.summary
    assert TOKEN not in result.stdout.replace(f"::add-mask::{TOKEN}", "")
    assert set(result.outputs) >= {"sent", "payload", "status"}
    assert result.outputs["sent"] == "false"


def test_errors_are_capped(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    jobs = [job(f"shard {n}", "failure", [step("pytest", "failure")]) for n in range(7)]
    github.this_run(*jobs, running_job())
    for made in jobs:
        github.annotations[made["id"]] = [annotation(f"error {n}: " + "y" * 500) for n in range(5)]

    result = run(github, files, with_)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert_valid_body(body)
    errors = body["metadata"]["errors"]
    assert len(errors) == 10  # 5 jobs read, 3 errors each, the first 10 in metadata
    assert all(len(error) <= len("shard 0: ") + 300 for error in errors)
    assert errors[0].startswith("shard 0: error 0: yyy") and errors[0].endswith("…")
    description = body["description"]
    assert description.count("    - … and 2 more errors") == 5
    assert description.count("    - error ") == 15
    assert len([r for r in github.received if "/annotations" in r.path]) == 5
    assert len(json.dumps(body)) < 20_000


def test_paginated_annotations_are_all_read(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    with GitHubApiStandIn(token=JOB_TOKEN, page_size=2) as github:
        lint = job("lint", "failure", [step("Run ruff", "failure")])
        github.this_run(lint, running_job())
        notices = [annotation(f"notice {n}", "notice") for n in range(3)]
        github.annotations[lint["id"]] = [*notices, annotation("the real error")]
        result = run(github, files, with_)

        assert result.returncode == 0, result.log
        assert len([r for r in github.received if "/annotations" in r.path]) == 2
    assert stand_in.bodies()[0]["metadata"]["errors"] == ["lint: the real error"]


# -- 2. a title that says it failed, and what --------------------------------------------------------------


def test_the_title_names_the_one_failed_step_and_the_resolve_says_passed(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, tmp_path: Path, with_: dict[str, str]
) -> None:
    github.this_run(running_job(step("Run pytest", "failure")))
    fired = run(github, StepFiles(tmp_path / "1"), with_)
    resolved = run(github, StepFiles(tmp_path / "2"), with_, job_status="success")

    assert fired.returncode == resolved.returncode == 0
    red, green = stand_in.bodies()
    assert red["title"] == 'CI / test failed at step "Run pytest" on main in octo-org/octo-repo'
    assert green["title"] == "CI / test passed on main in octo-org/octo-repo"
    assert red["deduplication_key"] == green["deduplication_key"]
    assert red["title"] in fired.summary


# -- 3. what on-call asks next -----------------------------------------------------------------------------


def test_author_duration_runner_and_the_failed_jobs_log(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    mine = running_job(step("Run pytest", "failure"), minutes=3.5)
    github.this_run(job("lint", "success"), mine)
    runner = {"RUNNER_NAME": "build-box-3", "RUNNER_ENVIRONMENT": "self-hosted"}
    push = layouts.push(GITHUB_ACTOR="release-bot", GITHUB_TRIGGERING_ACTOR="release-bot", **runner)
    push.event["head_commit"]["author"] = {
        "name": "Mona Lisa",
        "email": "mona@example.com",
        "username": "mona",
    }
    mine["runner_name"] = "build-box-3"

    result = run(github, files, with_, layout=push)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    metadata = body["metadata"]
    assert metadata["commit_author"] == "mona"
    assert metadata["actor"] == "release-bot"  # who started the run, not who wrote the commit
    assert 210 <= metadata["job_duration_seconds"] <= 212  # started 3.5 minutes before the step ran
    assert (metadata["runner_name"], metadata["runner_environment"]) == ("build-box-3", "self-hosted")
    assert body["source_url"] == mine["html_url"]  # one job failed: straight to its log
    description = body["description"]
    assert ", by mona" in description
    assert "- **Runner:** build-box-3 (self-hosted)" in description
    assert "mona@example.com" not in json.dumps(body)


def test_a_watched_runs_one_failed_job_gives_its_runner(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    e2e = job(
        "e2e", "failure", [step("cypress", "failure")], runner_name="gpu-7", labels=["self-hosted", "gpu"]
    )
    github.add_run(
        FakeRun(layouts.WATCHED_RUN_ID, "failure", workflow_id=layouts.WATCHED_WORKFLOW_ID), jobs=[e2e]
    )

    result = run(github, files, with_, layout=layouts.watched_run("failure"), job_status="success")

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert (body["metadata"]["runner_name"], body["metadata"]["runner_environment"]) == (
        "gpu-7",
        "self-hosted",
    )
    assert body["title"] == 'CI / e2e failed at step "cypress" on main in octo-org/octo-repo'
    assert body["source_url"] == e2e["html_url"]
    assert THIS_RUNNER not in json.dumps(body)  # the watcher's runner says nothing about the failure


def test_a_source_url_input_always_wins(
    stand_in: IncidentIoStandIn, github: GitHubApiStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    github.this_run(running_job(step("Run pytest", "failure")))

    run(github, files, {**with_, "source-url": "https://ci.example.com/42"})

    assert stand_in.bodies()[0]["source_url"] == "https://ci.example.com/42"


# -- 4. messages without slips ------------------------------------------------------------------------------


def error_of(result: StepResult) -> str:
    (error,) = result.annotations("error")
    return error.data


def test_each_error_and_its_hint_are_separate_sentences(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(503), Reply(503))
    gave_up = run_step(files, {**with_, "max-attempts": "2"})
    assert error_of(gave_up) == (
        "incident.io refused the alert: HTTP 503: an empty answer (gave up after 2 attempts). "
        "incident.io or a proxy on the way had a problem; it usually passes. Re-run the job later."
    )

    files.output.write_text("")
    refused = run_step(files, {**with_, "api-token": "wrong-token-0123456789"})
    text = error_of(refused)
    assert "]. Check api-token: it must be the secret token of this alert source" in text


def test_a_redirect_is_reported_as_a_redirect(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(301, headers={"Location": "https://user:pw@login.example/path?token=x"}))

    result = run_step(files, with_)

    text = error_of(result)
    assert "refused" not in text
    assert text == (
        f"{stand_in.url.removeprefix('http://')} answered with a redirect (HTTP 301) to "
        "https://login.example, which is not followed so that the token stays with incident.io. "
        "Check api-url: it should be https://api.incident.io (or your proxy's exact URL)."
    )


@pytest.mark.parametrize(
    ("fields", "hint"),
    [
        (["deduplication_key"], "incident.io rejected deduplication_key: check the deduplication-key input."),
        (
            ["/metadata/team", "source_url"],
            "incident.io rejected metadata and source_url: check the metadata and source-url inputs.",
        ),
        (
            [],
            "incident.io rejected a field of the alert: check title, description, metadata, source-url and "
            "deduplication-key against its message.",
        ),
    ],
)  # fmt: skip
def test_a_422_names_the_inputs_behind_the_fields(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], fields: list[str], hint: str
) -> None:
    errors = [{"code": "invalid", "message": "is invalid", "source": {"field": field}} for field in fields]
    body = error_body(422, "validation_error", "is invalid")
    body["errors"] = errors or body["errors"]
    stand_in.script(Reply(422, body))

    text = error_of(run_step(files, with_))

    assert text.endswith(hint)
    assert "named above" not in text


def test_only_a_timeout_suggests_raising_timeout_seconds(files: StepFiles, with_: dict[str, str]) -> None:
    with IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as slow:
        slow.script(Reply(202, delay=3))
        timed_out = run_step(
            files, {**with_, "api-url": slow.url, "timeout-seconds": "1", "max-attempts": "1"}
        )
    files.output.write_text("")
    refused = run_step(files, {**with_, "api-url": "http://127.0.0.1:9", "max-attempts": "1"})

    assert "raise timeout-seconds" in error_of(timed_out)
    text = error_of(refused)
    assert "connection refused" in text
    assert "timeout-seconds" not in text
    assert text.endswith(
        "Check that the runner can reach 127.0.0.1:9 (firewall, DNS, HTTPS_PROXY / NO_PROXY)."
    )


def test_outside_github_actions_a_missing_token_is_asked_for_as_a_variable() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID,
        "INCIDENT_IO_TITLE": "Backup failed",
        "INCIDENT_IO_DEDUPLICATION_KEY": "backup",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "entrypoint"], env=env, capture_output=True, text=True, check=False
    )

    assert completed.returncode == 2
    assert "INCIDENT_IO_API_TOKEN=… (docker run -e INCIDENT_IO_API_TOKEN)" in completed.stdout
    assert "${{" not in completed.stdout


def test_invalid_json_metadata_says_where(files: StepFiles, with_: dict[str, str]) -> None:
    result = run_step(files, {**with_, "metadata": '{\n  "team": "payments"\n  "service": "api"\n}'})

    assert result.returncode == 2
    assert error_of(result) == (
        "Input 'metadata' (INCIDENT_IO_METADATA) must be a JSON object or key=value lines; it is not valid "
        "JSON (Expecting ',' delimiter at line 3, column 3)."
    )
