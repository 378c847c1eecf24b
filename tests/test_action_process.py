"""The action as a user meets it: `python -m entrypoint` as a real process, the environment exactly as
the runner sets it, a local incident.io, and the output file parsed the way the runner parses it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import SOURCE_ID, TOKEN
from tests.support.actions_runner import (
    ACTION,
    EVENTS_DIR,
    JOB_TOKEN,
    ROOT,
    RUNTIME_TOKEN,
    StepFiles,
    default_github_env,
    run_step,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn, Reply, error_body
from tests.support.schema import assert_valid_body

OUTPUT_NAMES = set(ACTION["outputs"])  # every output action.yml declares, on every path


def assert_token_hidden(result: object, *tokens: str) -> None:
    texts = [result.stdout, result.stderr, result.output_file, result.summary]  # type: ignore[attr-defined]
    for token in (*tokens, RUNTIME_TOKEN):
        for text in texts:
            leftover = text.replace(f"::add-mask::{token}", "")
            assert token not in leftover


def test_failed_job_fires_an_alert_and_outputs_say_so(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, with_, job_status="failure")

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 1
    request = stand_in.received[0]
    assert request.path == f"/v2/alert_events/http/{SOURCE_ID}"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("incident-io-alert-action/")
    assert TOKEN not in request.path
    body = request.json()
    assert_valid_body(body)
    assert body["status"] == "firing"
    assert body["title"] == "CI / test failed on main in octo-org/octo-repo"
    assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    assert body["source_url"] == "https://github.com/octo-org/octo-repo/actions/runs/1658821493"
    assert body["metadata"]["conclusion"] == "failure"
    assert set(result.outputs) == OUTPUT_NAMES
    assert result.outputs["status"] == "firing"
    assert result.outputs["sent"] == "true"
    assert result.outputs["deduplication-key"] == body["deduplication_key"]
    assert json.loads(result.outputs["payload"]) == body
    assert json.loads(result.outputs["response"])["status"] == "success"
    assert result.outputs["error"] == ""
    assert "Alert sent (firing)" in result.summary
    assert body["deduplication_key"] in result.summary
    assert result.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"
    assert_token_hidden(result, TOKEN)


def test_passing_job_resolves_the_same_alert_on_a_later_run(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    fired = run_step(files, with_, job_status="failure")
    later = default_github_env(
        GITHUB_RUN_ID="1658829999", GITHUB_RUN_NUMBER="18", GITHUB_RUN_ATTEMPT="2", GITHUB_SHA="f" * 40
    )
    files.output.write_text("")
    resolved = run_step(files, with_, job_status="success", github_env=later)

    assert fired.returncode == resolved.returncode == 0
    first, second = stand_in.bodies()
    assert (first["status"], second["status"]) == ("firing", "resolved")
    assert first["deduplication_key"] == second["deduplication_key"]
    assert first["title"] == "CI / test failed on main in octo-org/octo-repo"
    assert second["title"] == "CI / test passed on main in octo-org/octo-repo"
    assert resolved.outputs["status"] == "resolved"


def test_cancelled_job_sends_nothing_and_says_why(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, with_, job_status="cancelled")

    assert result.returncode == 0
    assert stand_in.received == []
    assert result.outputs["status"] == "skipped"
    assert result.outputs["sent"] == "false"
    assert result.outputs["deduplication-key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    notices = result.annotations("notice")
    assert len(notices) == 1 and "cancelled" in notices[0].data


def test_matrix_jobs_get_their_own_alert_whatever_the_key_order(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    run_step(files, with_, matrix={"os": "ubuntu-latest", "python": "3.12"})
    run_step(files, with_, matrix={"python": "3.12", "os": "ubuntu-latest"})
    run_step(files, with_, matrix={"os": "ubuntu-latest", "python": "3.13"})

    keys = [body["deduplication_key"] for body in stand_in.bodies()]
    assert keys[0] == keys[1] != keys[2]
    assert keys[0] == "github-actions:octo-org/octo-repo:ci.yml:test[os=ubuntu-latest,python=3.12]:main"


def test_dry_run_sends_nothing_and_shows_the_body(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "dry-run": "TRUE"})

    assert result.returncode == 0
    assert stand_in.received == []
    assert result.outputs["sent"] == "false"
    assert result.outputs["status"] == "firing"
    body = json.loads(result.outputs["payload"])
    assert_valid_body(body)
    assert "Dry run" in result.summary


def test_every_bad_input_is_reported_at_once_and_nothing_is_sent(
    stand_in: IncidentIoStandIn, files: StepFiles
) -> None:
    bad = {
        "api-token": f"  {TOKEN}  ",
        "alert-source-config-id": "../../admin",
        "status": "fire",
        "metadata": "team: payments",
        "api-url": "http://api.incident.io",
        "source-url": "javascript:alert(1)",
        "dry-run": "yes",
        "fail-on-error": "1",
        "max-attempts": "11",
        "timeout-seconds": "0",
    }
    result = run_step(files, bad)

    assert result.returncode == 2
    assert stand_in.received == []
    errors = result.annotations("error")
    named = [error.data.split("'")[1] for error in errors]
    assert named == [
        "alert-source-config-id",
        "status",
        "metadata",
        "source-url",
        "api-url",
        "dry-run",
        "fail-on-error",
        "max-attempts",
        "timeout-seconds",
    ]
    for error in errors:
        assert "must" in error.data  # says what is allowed
    assert "Traceback" not in result.log
    assert result.outputs["sent"] == "false"
    assert "Invalid input" in result.summary
    assert_token_hidden(result, TOKEN)


def test_missing_required_inputs_name_the_inputs(stand_in: IncidentIoStandIn, files: StepFiles) -> None:
    result = run_step(files, {"api-token": "   "})

    assert result.returncode == 2
    assert stand_in.received == []
    messages = [error.data for error in result.annotations("error")]
    assert len(messages) == 2
    assert "'api-token'" in messages[0] and "required" in messages[0]
    assert "'alert-source-config-id'" in messages[1]


def test_wrong_token_fails_with_incident_ios_words_and_a_hint(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "api-token": "wrong-token-0123456789"})

    assert result.returncode == 1
    assert len(stand_in.received) == 1  # 401 is not retried
    errors = result.annotations("error")
    assert len(errors) == 1
    assert "HTTP 401" in errors[0].data
    assert "No authorization material provided in request" in errors[0].data
    assert "request id" in errors[0].data
    assert "secret token of this alert source" in errors[0].data
    assert result.outputs["sent"] == "false"
    assert result.outputs["error"] == errors[0].data
    assert json.loads(result.outputs["response"])["type"] == "authentication_error"
    assert_token_hidden(result, "wrong-token")


def test_unknown_source_id_gets_the_config_id_hint(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "alert-source-config-id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"})

    assert result.returncode == 1
    assert "alert-source-config-id" in result.annotations("error")[0].data


def test_source_url_form_of_the_id_is_accepted(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    url = f"https://api.incident.io/v2/alert_events/http/{SOURCE_ID}"
    result = run_step(files, {**with_, "alert-source-config-id": url})

    assert result.returncode == 0, result.log
    assert stand_in.received[0].path == f"/v2/alert_events/http/{SOURCE_ID}"


def test_fail_on_error_false_turns_a_failure_into_a_warning(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(422, error_body(422, "validation_error", "Deduplication key is required")))
    result = run_step(files, {**with_, "fail-on-error": "false"})

    assert result.returncode == 0
    assert result.annotations("error") == []
    warnings = result.warnings_besides_github_api()
    assert len(warnings) == 1 and "HTTP 422" in warnings[0].data
    assert result.outputs["sent"] == "false"
    assert "Deduplication key is required" in result.outputs["error"]


def test_server_errors_are_retried_then_succeed(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(503, "<html><body>Service Unavailable</body></html>"))
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 2
    assert stand_in.received[0].body == stand_in.received[1].body
    assert "Attempt 1/5 failed: incident.io refused the alert: HTTP 503" in result.stdout


def test_user_inputs_override_the_defaults(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    inputs = {
        **with_,
        "title": "Nightly build broke",
        "description": "See the **log**.",
        "status": "resolved",
        "deduplication-key": "nightly-build",
        "metadata": "team=payments\nrepository=overridden",
        "source-url": "https://ci.example.com/build/1",
    }
    result = run_step(files, inputs)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert_valid_body(body)
    assert body["title"] == "Nightly build broke"
    assert body["description"] == "See the **log**."
    assert body["status"] == "resolved"
    assert body["deduplication_key"] == "nightly-build"
    assert body["source_url"] == "https://ci.example.com/build/1"
    assert body["metadata"]["team"] == "payments"
    assert body["metadata"]["repository"] == "overridden"  # the user's keys win
    assert body["metadata"]["workflow"] == "CI"  # defaults stay under them


def test_through_action_yml_only_with_decides_and_a_variable_beside_it_is_named(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    """Issue 28: the job's env: (or an earlier step's $GITHUB_ENV) used to fill in what with: left out."""
    step_env = {"INCIDENT_IO_TITLE": "from job env", "INCIDENT_IO_DEDUPLICATION_KEY": "key-from-env"}
    result = run_step(files, {**with_, "title": "from with"}, step_env=step_env)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert body["title"] == "from with"
    assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    (warning,) = result.warnings_besides_github_api()
    assert warning.properties["title"] == "incident.io alert: variable ignored"
    assert warning.data.startswith(
        "INCIDENT_IO_DEDUPLICATION_KEY and INCIDENT_IO_TITLE are set in the step's environment (by env:, or "
        "by an earlier step through $GITHUB_ENV) and ignored: in a workflow only the step's with: sets"
    )
    assert warning.data.endswith("Set deduplication-key and title under with: if that is what you meant.")


def test_watched_workflow_run_is_what_the_alert_is_about(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    payload = json.loads(
        (EVENTS_DIR / "workflow_run" / "completed.with-pull-requests.payload.json").read_text()
    )
    payload["workflow_run"]["conclusion"] = "failure"
    watcher = default_github_env(
        GITHUB_EVENT_NAME="workflow_run", GITHUB_WORKFLOW="Alerts", GITHUB_JOB="notify"
    )
    result = run_step(files, with_, event=payload, job_status="success", github_env=watcher)

    assert result.returncode == 0, result.log
    body = stand_in.bodies()[0]
    assert_valid_body(body)
    assert body["status"] == "firing"  # the watched run failed, though the watcher job succeeded
    assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:test.yml:master"
    assert body["source_url"] == "https://github.com/octo-org/octo-repo/actions/runs/289782451"
    assert body["metadata"]["workflow"] == "test"
    assert body["metadata"]["pull_request_number"] == 2
    assert body["metadata"]["event_name"] == "repository_dispatch"
    assert "Alerts" not in body["title"]


def test_broken_event_file_is_a_warning_and_the_alert_still_goes_out(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, with_, event="{not json")

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 1
    warnings = result.warnings_besides_github_api()
    assert len(warnings) == 1 and "not valid JSON" in warnings[0].data


def test_github_enterprise_server_links(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    ghes = default_github_env(GITHUB_SERVER_URL="https://github.example.com")
    run_step(files, with_, github_env=ghes)

    body = stand_in.bodies()[0]
    assert body["source_url"].startswith("https://github.example.com/octo-org/octo-repo/actions/runs/")
    assert "https://github.com" not in json.dumps(body)


def test_untrusted_text_is_never_a_workflow_command(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    hostile = "::error::pwned\n::add-mask::x\n##[set-output name=sent;]true\nsent<<EOF"
    payload = {
        "ref": "refs/heads/main",
        "head_commit": {"id": default_github_env()["GITHUB_SHA"], "message": hostile},
    }
    api_says = "::warning::nope ##[error]legacy ##[add-mask]x"
    stand_in.script(Reply(500, {"type": "api_error", "errors": [{"message": api_says}]}))
    result = run_step(files, {**with_, "title": "::notice::title %0A ::error::x"}, event=payload)

    assert result.returncode == 0, result.log
    own = {"add-mask", "group", "endgroup", "debug"}
    assert result.own_commands() <= own, result.commands
    assert [c.data for c in result.commands if c.name == "add-mask"] == [TOKEN, JOB_TOKEN]
    assert "legacy" in result.stdout  # the retry line was shown, as data
    assert set(result.outputs) == OUTPUT_NAMES
    assert result.outputs["sent"] == "true"
    assert "pwned" in stand_in.bodies()[0]["description"]  # data, delivered as data


def test_outside_github_actions_needs_title_and_key(stand_in: IncidentIoStandIn) -> None:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    env = {
        **base,
        "INCIDENT_IO_API_TOKEN": TOKEN,
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID,
        "INCIDENT_IO_API_URL": stand_in.url,
    }
    refused = subprocess.run(
        [sys.executable, "-m", "entrypoint"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "'title'" in refused.stdout and "'deduplication-key'" in refused.stdout
    assert "::" not in refused.stdout  # plain lines outside GitHub Actions
    assert TOKEN not in refused.stdout  # and no ::add-mask:: printing the token

    env |= {"INCIDENT_IO_TITLE": "Backup job failed", "INCIDENT_IO_DEDUPLICATION_KEY": "backup"}
    sent = subprocess.run(
        [sys.executable, "-m", "entrypoint"], env=env, capture_output=True, text=True, check=False
    )
    assert sent.returncode == 0, sent.stdout
    assert stand_in.bodies() == [
        {"title": "Backup job failed", "status": "firing", "deduplication_key": "backup"}
    ]
    assert TOKEN not in sent.stdout + sent.stderr


@pytest.mark.parametrize("debug", ["1", ""])
def test_token_never_shown_even_with_debug_logging(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], debug: str
) -> None:
    github = default_github_env(RUNNER_DEBUG=debug)
    result = run_step(files, with_, github_env=github)

    assert result.returncode == 0
    assert_token_hidden(result, TOKEN)
    assert TOKEN not in json.dumps(stand_in.bodies())
    assert RUNTIME_TOKEN not in json.dumps(stand_in.bodies())


def test_a_mistyped_variable_is_named_with_the_one_meant(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(
        files, with_, step_env={"INCIDENT_IO_TITEL": "Nightly broke", "INCIDENT_IO_SOMETHING_ELSE": "x"}
    )

    assert result.returncode == 0, result.log
    # Through action.yml, every INCIDENT_IO_* variable is ignored (issue 28): one warning names them all and
    # the input a misspelt one was meant to be. (Without action.yml: test_first_hour's docker:// tests.)
    (warning,) = [w.data for w in result.warnings_besides_github_api()]
    assert warning.startswith(
        "INCIDENT_IO_SOMETHING_ELSE and INCIDENT_IO_TITEL are set in the step's environment"
    )
    assert warning.endswith("Set title under with: if that is what you meant.")
    assert stand_in.bodies()[0]["title"] != "Nightly broke"
