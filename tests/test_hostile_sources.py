"""Issue 28: nothing an earlier step, an input or a server's answer holds can redirect the token, silence a
page, crash the step or leak a secret. One section per finding of the issue, each a process test run with
the environment GitHub's runner builds (`step_environment`: an earlier step's `$GITHUB_ENV` is the step
env, and action.yml's inputs are `INPUT_*`)."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from tests.conftest import SOURCE_ID, TOKEN
from tests.support.actions_runner import (
    ACTION,
    EVENTS_DIR,
    JOB_TOKEN,
    StepFiles,
    StepResult,
    default_github_env,
    push_payload,
    run_step,
)
from tests.support.github_api_stand_in import GitHubApiStandIn, step, this_job
from tests.support.incident_io_stand_in import IncidentIoStandIn, Reply
from tests.support.raw_http import RawReply, RawServer

OUTPUT_NAMES = set(ACTION["outputs"])
HOSTILE_TITLE = "::error::injected\n::set-output name=sent::true"
DEEP = "[" * 5000 + "]" * 5000
NO_ROUTE = "http://127.0.0.1:9"  # nothing listens: a proxy that refuses at once


def assert_whole(result: StepResult) -> None:
    """The step ended as the action means it to: no traceback, no unexpected error, every output."""
    assert "Traceback" not in result.log, result.log
    assert "unexpected error" not in result.log, result.log
    assert set(result.outputs) == OUTPUT_NAMES, result.log


def warning_titled(result: StepResult, title: str) -> str:
    (warning,) = [w.data for w in result.annotations("warning") if w.properties.get("title") == title]
    return warning


# -- 1. an earlier step cannot redirect the token or silence the alert -----------------------------------


def test_an_earlier_step_cannot_send_the_token_elsewhere(files: StepFiles) -> None:
    """An earlier step writes INCIDENT_IO_API_URL to $GITHUB_ENV; with: leaves api-url at its default. The
    alert goes to api.incident.io (here through a proxy that refuses, so nothing leaves the machine)."""
    with IncidentIoStandIn(token=None) as elsewhere:
        result = run_step(
            files,
            {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "max-attempts": "1"},
            step_env={"INCIDENT_IO_API_URL": elsewhere.url, "HTTPS_PROXY": NO_ROUTE, "NO_PROXY": ""},
        )

    assert elsewhere.received == []
    assert_whole(result)
    assert result.returncode == 1
    assert result.outputs["sent"] == "false"
    assert "could not connect to api.incident.io" in result.outputs["error"]
    ignored = warning_titled(result, "incident.io alert: variable ignored")
    assert ignored.startswith("INCIDENT_IO_API_URL is set in the step's environment")
    assert ignored.endswith("Set api-url under with: if that is what you meant.")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INCIDENT_IO_STATUS", "resolved"),
        ("INCIDENT_IO_DRY_RUN", "true"),
        ("INCIDENT_IO_BRANCHES", "nothing-matches"),
        ("INCIDENT_IO_FAILURES_BEFORE_ALERT", "20"),
        ("INCIDENT_IO_JOB_STATUS", "success"),
        ("INCIDENT_IO_DEDUPLICATION_KEY", "another-alert"),
    ],
)
def test_an_earlier_step_cannot_silence_or_turn_a_failure(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], variable: str, value: str
) -> None:
    result = run_step(files, with_, job_status="failure", step_env={variable: value})

    assert_whole(result)
    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    assert variable in warning_titled(result, "incident.io alert: variable ignored")


def test_an_earlier_steps_act_true_is_no_dry_run_on_githubs_runner(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    """act sets ACT=true and makes dry-run the default; on GitHub's runner an earlier step can write
    ACT=true too, but the runner's event file path, which no step can change, says it is not act."""
    github = default_github_env(ACT="true", GITHUB_EVENT_PATH="/github/workflow/event.json")
    result = run_step(files, with_, github_env=github)

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["firing"]
    assert result.outputs["sent"] == "true"


def test_an_earlier_step_cannot_have_text_of_its_choice_masked_out_of_the_alert(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    """A secret input's value is masked and redacted everywhere: an ignored variable's must not be, or an
    earlier step could cut the repository's name out of every title and link."""
    result = run_step(files, with_, step_env={"INCIDENT_IO_GITHUB_TOKEN": "octo-org/octo-repo"})

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["title"].endswith("in octo-org/octo-repo")
    assert "***" not in json.dumps(body)
    assert "octo-org/octo-repo" not in {c.data for c in result.annotations("add-mask")}


def test_a_variable_that_repeats_the_input_is_not_warned_about(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "title": "Same"}, step_env={"INCIDENT_IO_TITLE": "Same"})

    assert result.returncode == 0, result.log
    assert result.warnings_besides_github_api() == []


# -- 2. inputs that the status makes meaningless --------------------------------------------------------


@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_an_explicit_status_names_the_inputs_it_overrides(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], status: str
) -> None:
    """`status: ${{ job.status == 'success' && 'resolved' || 'firing' }}` gives one of the two: the step's
    failures-before-alert and on-cancelled then decide nothing."""
    inputs = {**with_, "status": status, "failures-before-alert": "3", "on-cancelled": "fire"}
    result = run_step(files, inputs)

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == [status]
    warning = warning_titled(result, "incident.io alert: check inputs")
    assert warning.startswith(
        f"status is {status}, so every run sends a {status} alert and failures-before-alert and on-cancelled "
        "have no say in it"
    )


def test_status_auto_with_the_same_inputs_says_nothing(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "on-cancelled": "fire"})

    assert result.returncode == 0, result.log
    assert result.warnings_besides_github_api() == []


# -- 3. short secrets never garble the action's own commands -----------------------------------------------


@pytest.mark.parametrize("placeholder", ["token", "error", "stop", "input", "api"])
def test_a_placeholder_token_is_one_whole_error_and_is_not_masked(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], placeholder: str
) -> None:
    result = run_step(files, {**with_, "api-token": placeholder})

    assert_whole(result)
    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = result.annotations("error")
    assert error.properties == {"title": "incident.io alert: invalid input"}
    assert error.data.startswith(
        "Input 'api-token' (INCIDENT_IO_API_TOKEN) must be the alert source's secret"
    )
    assert [c.data for c in result.annotations("add-mask")] == [JOB_TOKEN]  # the job's real token only


def test_a_short_github_token_cannot_open_stop_commands(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "github-token": "stop", "title": HOSTILE_TITLE})

    assert_whole(result)
    assert result.returncode == 2
    (error,) = result.annotations("error")
    assert error.data.startswith("Input 'github-token' (INCIDENT_IO_GITHUB_TOKEN) must be a GitHub token")
    assert "***" not in result.stdout


def test_a_secret_that_spells_the_actions_own_syntax_never_unlocks_a_command(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    """A token of a real token's length that happens to be `::stop-commands::`: masked and redacted in
    every text, never in the action's own command lines, so the hostile title stays inside its block."""
    result = run_step(files, {**with_, "github-token": "::stop-commands::", "title": HOSTILE_TITLE})

    assert_whole(result)
    assert result.returncode == 0, result.log
    own = {"add-mask", "warning", "notice", "group", "endgroup", "debug"}
    assert {command.name for command in result.commands} <= own, result.commands
    assert result.outputs["sent"] == "true"


# -- 4. odd bytes never crash the step ---------------------------------------------------------------------


def test_deep_json_in_incident_ios_answer_after_it_accepted_the_event(
    files: StepFiles, with_: dict[str, str]
) -> None:
    with RawServer(RawReply(202, (("Content-Type", "application/json"),), DEEP.encode())) as incident_io:
        result = run_step(files, {**with_, "api-url": incident_io.url})

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert result.outputs["sent"] == "true"
    assert result.annotations("error") == []


@pytest.mark.parametrize("answer", [b'{"message": "\\ud800"}', DEEP.encode(), b"\xff\xfe not utf-8"])
def test_odd_bytes_in_a_github_error_never_stop_a_resolve(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], answer: bytes
) -> None:
    with RawServer(RawReply(500, (("Content-Type", "application/json"),), answer)) as github:
        result = run_step(
            files, with_, job_status="success", github_env=default_github_env(GITHUB_API_URL=github.url)
        )

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["resolved"]


@pytest.mark.parametrize("name", ["metadata", "needs", "matrix"])
def test_deep_json_in_an_input_is_an_input_error(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], name: str
) -> None:
    value = "{" + '"a":' * 3000 + "1" + "}" * 3000
    result = run_step(files, {**with_, name: value})

    assert_whole(result)
    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = result.annotations("error")
    assert error.data.startswith(f"Input '{name}'")


def test_a_lone_surrogate_in_a_job_name_still_pages(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], github: GitHubApiStandIn
) -> None:
    github.this_run(this_job(step("Build \ud800 it", "failure"), name="test \udfff"))
    result = run_step(files, with_, github_env=default_github_env(GITHUB_API_URL=github.url))

    assert_whole(result)
    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert "Build \ufffd it" in body["title"]


def test_lone_surrogates_in_the_event_and_in_incident_ios_answer(
    files: StepFiles, with_: dict[str, str]
) -> None:
    event = push_payload()
    event["head_commit"]["message"] = "Fix \ud800 the build"
    answer = b'{"status": "success", "message": "\\udc00", "deduplication_key": "\\ud83d"}'
    with RawServer(RawReply(202, (("Content-Type", "application/json"),), answer)) as incident_io:
        result = run_step(files, {**with_, "api-url": incident_io.url}, event=json.dumps(event))
        (request,) = incident_io.received

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert result.outputs["sent"] == "true"
    assert "Fix \ufffd the build" in json.loads(request.body)["description"]


def test_an_event_file_that_is_not_utf8_still_pages(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    files.event.write_bytes(b'{"ref": "refs/heads/main", "x": "\xff\xfe"}')
    result = run_step(files, with_, event=None)

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["firing"]
    assert any("is not UTF-8" in w.data for w in result.annotations("warning"))


@pytest.mark.parametrize("variable", ["GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT"])
def test_a_number_in_another_script_is_no_number(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], variable: str
) -> None:
    result = run_step(files, with_, github_env=default_github_env(**{variable: "²"}))

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["firing"]


def test_a_number_in_another_script_in_the_event(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    event = json.loads((EVENTS_DIR / "pull_request" / "opened.payload.json").read_text())
    event["number"] = "²"
    event["pull_request"]["number"] = "١٢"
    github = default_github_env(GITHUB_EVENT_NAME="pull_request", GITHUB_HEAD_REF="main")
    result = run_step(files, {**with_, "branches": "*"}, event=event, github_env=github)

    assert_whole(result)
    assert result.returncode == 0, result.log


# -- 5. timeout-seconds bounds a whole attempt; GitHub's budget every read ---------------------------------


def test_a_server_that_drips_its_answer_is_given_up_on_at_the_timeout(
    files: StepFiles, with_: dict[str, str]
) -> None:
    dripping = RawReply(202, body=b'{"status": "success"}' + b" " * 100, drip_seconds=0.2)
    with RawServer(dripping) as incident_io:
        started = time.monotonic()
        result = run_step(
            files, {**with_, "api-url": incident_io.url, "timeout-seconds": "1", "max-attempts": "1"}
        )
        elapsed = time.monotonic() - started

    assert_whole(result)
    assert elapsed < 5, result.log  # 24 s of dripping before
    # The 202 arrived: the event was accepted, whatever the rest of the body does.
    assert result.returncode == 0, result.log
    assert result.outputs["sent"] == "true"


def test_a_refusal_that_drips_is_a_timeout_and_is_retried(files: StepFiles, with_: dict[str, str]) -> None:
    dripping = RawReply(503, body=b'{"type": "api_error"}' + b" " * 100, drip_seconds=0.2)
    with RawServer(dripping) as incident_io:
        started = time.monotonic()
        result = run_step(
            files, {**with_, "api-url": incident_io.url, "timeout-seconds": "1", "max-attempts": "2"}
        )
        elapsed = time.monotonic() - started
        attempts = len(incident_io.received)

    assert_whole(result)
    assert elapsed < 8, result.log
    assert attempts == 2
    assert result.returncode == 1
    assert "its answer did not arrive whole within 1 s" in result.outputs["error"]


def test_githubs_budget_bounds_a_dripping_answer(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    dripping = RawReply(
        200, (("Content-Type", "application/json"),), b'{"jobs": []}' + b" " * 100, drip_seconds=0.2
    )
    with RawServer(dripping) as github:
        started = time.monotonic()
        result = run_step(files, with_, github_env=default_github_env(GITHUB_API_URL=github.url))
        elapsed = time.monotonic() - started

    assert_whole(result)
    assert elapsed < 9, result.log  # the 5 s budget, and the process
    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["firing"]
    assert "did not answer within 5 seconds" in " ".join(result.github_api_warnings())


# -- 6. an answer cut short is retried ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        RawReply(503, body=b'{"type": "api_error", "status": 503}', close_after=10),
        RawReply(503, (("Content-Encoding", "gzip"),), b"this is not gzip at all"),
    ],
    ids=["closed-mid-body", "bad-gzip"],
)
def test_an_answer_cut_short_is_retried_like_a_network_error(
    files: StepFiles, with_: dict[str, str], broken: RawReply
) -> None:
    accepted = RawReply(202, (("Content-Type", "application/json"),), b'{"status": "success"}')
    with RawServer(accepted) as incident_io:
        incident_io.script(broken)
        result = run_step(files, {**with_, "api-url": incident_io.url})
        attempts = len(incident_io.received)

    assert_whole(result)
    assert result.returncode == 0, result.log
    assert attempts == 2
    assert result.outputs["sent"] == "true"


def test_an_accepted_event_whose_body_is_bad_gzip_is_delivered(
    files: StepFiles, with_: dict[str, str]
) -> None:
    compressed = gzip.compress(b'{"status": "success"}')[:12]
    with RawServer(RawReply(202, (("Content-Encoding", "gzip"),), compressed)) as incident_io:
        result = run_step(files, {**with_, "api-url": incident_io.url})
        attempts = len(incident_io.received)

    assert_whole(result)
    assert (result.returncode, attempts, result.outputs["sent"]) == (0, 1, "true")


# -- 7. no secret in any case ------------------------------------------------------------------------------


def test_a_redirect_cannot_show_the_token_lower_cased(files: StepFiles) -> None:
    token = "Test-Token-0123456789ABCdef"
    with IncidentIoStandIn(token=token, source_id=SOURCE_ID) as stand_in:
        stand_in.script(Reply(307, headers={"Location": f"https://{token}.example/v2"}))
        with_ = {"api-token": token, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
        result = run_step(files, {**with_, "max-attempts": "1"})

    assert_whole(result)
    assert result.returncode == 1
    text = "\n".join((result.stdout, result.stderr, result.output_file, result.summary)).replace(
        f"::add-mask::{token}", ""
    )
    assert token.lower() not in text.lower()
    assert "answered with a redirect (HTTP 307) to https://***.example" in result.outputs["error"]


# -- 8. URLs cannot write markdown or HTML -------------------------------------------------------------------


def test_a_source_url_with_a_line_break_is_refused(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "source-url": "https://ci.example.com/1\n## Pwned\n<img src=x>"})

    assert_whole(result)
    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = result.annotations("error")
    assert error.data.startswith("Input 'source-url' (INCIDENT_IO_SOURCE_URL) must be an http(s) URL with no")


def test_a_jobs_url_with_markup_from_github_is_left_out(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], github: GitHubApiStandIn
) -> None:
    (mine,) = github.this_run(this_job(step("Run pytest", "failure")))
    mine["html_url"] = "https://github.com/o/r/job/1\n## Pwned\n<img src=x onerror=alert(1)>"
    result = run_step(files, with_, github_env=default_github_env(GITHUB_API_URL=github.url))

    assert_whole(result)
    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["source_url"] == "https://github.com/octo-org/octo-repo/actions/runs/1658821493"
    assert "Pwned" not in json.dumps(body)
    assert "Pwned" not in result.summary
    assert "<img" not in result.summary


# -- 9. what is sent is strict JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata", ['{"a": NaN}', '{"b": 1e999}', '{"c": -Infinity}', '{"d": "\\ud800"}', '{"\\udfff": 1}']
)
def test_metadata_that_is_not_strict_json_is_an_input_error(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], metadata: str
) -> None:
    result = run_step(files, {**with_, "metadata": metadata})

    assert_whole(result)
    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = result.annotations("error")
    assert error.data.startswith("Input 'metadata' (INCIDENT_IO_METADATA) must be a JSON object or key=value")
    assert "not strict JSON" in error.data
