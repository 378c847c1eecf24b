"""A heartbeat: a green run pings incident.io's heartbeat source, so that a job that stops running (a
disabled schedule, a cron typo, a removed runner label) pages. Each test runs the action as a process
against the incident.io stand-in, which serves the ping endpoint as its published schema says."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TOKEN
from tests.support import layouts
from tests.support.actions_runner import StepResult
from tests.support.github_api_stand_in import GitHubApiStandIn, job, running_job
from tests.support.http_stand_in import Reply
from tests.support.incident_io_stand_in import HEARTBEAT_ID, HEARTBEAT_TOKEN, IncidentIoStandIn, error_body
from tests.support.schema import assert_valid_ping
from tests.support.steps import Steps, notice

HEARTBEAT = {"heartbeat-source-config-id": HEARTBEAT_ID, "heartbeat-token": HEARTBEAT_TOKEN}
NO_ALERT = {"api-token": "", "alert-source-config-id": ""}
PING_PATH = f"/v2/heartbeat/{HEARTBEAT_ID}/ping"


def ping_paths(stand_in: IncidentIoStandIn) -> list[str]:
    return [request.path for request in stand_in.pings()]


def assert_kept_secret(result: StepResult, stand_in: IncidentIoStandIn) -> None:
    """The heartbeat's token is masked, sent only in the ping's Authorization header, shown nowhere."""
    shown = result.log.replace(f"::add-mask::{HEARTBEAT_TOKEN}", "") + result.output_file + result.summary
    assert HEARTBEAT_TOKEN not in shown
    assert f"::add-mask::{HEARTBEAT_TOKEN}" in result.log
    for request in stand_in.received:
        in_headers = request.headers.get("authorization") == f"Bearer {HEARTBEAT_TOKEN}"
        assert in_headers == (request.path == PING_PATH)
        assert HEARTBEAT_TOKEN not in request.path + request.body.decode()


# -- a green run pings, once, after the alert event ----------------------------------------------------------


def test_a_green_run_pings_once_after_its_resolve(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push(), "success", **HEARTBEAT)

    assert result.returncode == 0, result.log
    alert, ping = stand_in.received
    assert alert.json()["status"] == "resolved"
    assert ping.path == PING_PATH
    assert_valid_ping(ping)
    assert result.outputs["heartbeat"] == "sent"
    assert "| Heartbeat | sent |" in result.summary
    assert "incident.io accepted the heartbeat ping (HTTP 204)." in result.stdout
    assert_kept_secret(result, stand_in)


def test_the_ping_goes_out_even_when_the_resolve_did_not(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    stand_in.script(Reply(422, error_body(422, "validation_error", "Title is too long")))

    result = steps.run(layouts.push(), "success", **HEARTBEAT)

    assert result.returncode == 0, result.log  # an undelivered resolve warns
    assert result.outputs["sent"] == "false"
    assert ping_paths(stand_in) == [PING_PATH]
    assert result.outputs["heartbeat"] == "sent"


@pytest.mark.parametrize(
    ("job_status", "layout", "inputs", "says"),
    [
        ("failure", layouts.push(), {}, None),
        ("cancelled", layouts.push(), {}, "The job was cancelled"),
        ("success", layouts.push("feature/login"), {}, "This run is on feature/login"),
        ("failure", layouts.push(), {"failures-before-alert": "2"}, None),
    ],
    ids=["failed", "cancelled", "out of scope", "held back"],
)
def test_a_run_that_is_not_green_does_not_ping(
    steps: Steps,
    stand_in: IncidentIoStandIn,
    job_status: str,
    layout: layouts.Layout,
    inputs: dict[str, str],
    says: str | None,
) -> None:
    if "failures-before-alert" in inputs:  # the run before passed: 1 of 2
        steps.github.history("success")
        steps.github.this_run(job("test", None, status="in_progress", runner_name="GitHub Actions 2"))

    result = steps.run(layout, job_status, **HEARTBEAT, **inputs)

    assert result.returncode == 0, result.log
    assert stand_in.pings() == []
    assert result.outputs["heartbeat"] == "skipped"
    assert "| Heartbeat | skipped |" in result.summary
    if says:
        assert says in notice(result)


# -- a heartbeat alone ---------------------------------------------------------------------------------------


def test_a_heartbeat_alone_only_pings(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push(), "success", **HEARTBEAT, **NO_ALERT)

    assert result.returncode == 0, result.log
    assert ping_paths(stand_in) == [PING_PATH]
    assert stand_in.bodies() == []
    assert result.outputs["heartbeat"] == "sent"
    assert result.outputs["status"] == "skipped" and result.outputs["sent"] == "false"
    assert (
        result.outputs["message"]
        == "The heartbeat was pinged; no alert source is set, so no alert event was sent."
    )


def test_a_heartbeat_alone_sends_nothing_for_a_failed_run(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push(), "failure", **HEARTBEAT, **NO_ALERT)

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert result.outputs["heartbeat"] == "skipped"
    assert "only a heartbeat, so this run sends nothing and does not ping" in notice(result)


def test_one_alert_input_without_the_other_stays_an_error(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push(), "success", **HEARTBEAT, **{"api-token": ""})

    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = [error.data for error in result.annotations("error")]
    assert error.startswith("Input 'api-token' (INCIDENT_IO_API_TOKEN) is required and was not set")


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"heartbeat-source-config-id": HEARTBEAT_ID}, "heartbeat-token"),
        ({"heartbeat-token": HEARTBEAT_TOKEN}, "heartbeat-source-config-id"),
    ],
)
def test_half_a_heartbeat_is_an_invalid_input_named_with_the_others(
    steps: Steps, stand_in: IncidentIoStandIn, given: dict[str, str], missing: str
) -> None:
    result = steps.run(layouts.push(), "success", **given, status="resovled")

    assert result.returncode == 2
    assert stand_in.received == []
    named = [error.data.split("'")[1] for error in result.annotations("error")]
    assert named == ["status", missing]
    assert "a heartbeat needs both" in result.annotations("error")[1].data


# -- its id, and its URL -------------------------------------------------------------------------------------


def test_the_whole_ping_url_is_read_as_its_id_and_the_ping_goes_to_api_url(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    url = f"https://api.incident.io/v2/heartbeat/{HEARTBEAT_ID}/ping"

    result = steps.run(layouts.push(), "success", **{**HEARTBEAT, "heartbeat-source-config-id": url})

    assert result.returncode == 0, result.log
    assert ping_paths(stand_in) == [PING_PATH]  # on the stand-in: api-url, not api.incident.io


@pytest.mark.parametrize("value", ["not an id", "https://api.incident.io/v2/alert_events/http/01GW"])
def test_a_wrong_heartbeat_id_is_refused_echoing_it(
    steps: Steps, stand_in: IncidentIoStandIn, value: str
) -> None:
    result = steps.run(layouts.push(), "success", **{**HEARTBEAT, "heartbeat-source-config-id": value})

    assert result.returncode == 2
    (error,) = [error.data for error in result.annotations("error")]
    assert error.startswith(
        "Input 'heartbeat-source-config-id' (INCIDENT_IO_HEARTBEAT_SOURCE_CONFIG_ID) must be"
    )
    assert error.endswith(f"got {value!r}.")


# -- delivery ------------------------------------------------------------------------------------------------


def test_a_ping_is_retried_as_an_alert_is(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    stand_in.script_for("/heartbeat/", Reply(503), Reply(429, headers={"Retry-After": "1"}))

    result = steps.run(layouts.push(), "success", **HEARTBEAT)

    assert result.returncode == 0, result.log
    assert [request.answered for request in stand_in.pings()] == [503, 429, 204]
    assert result.outputs["heartbeat"] == "sent"


@pytest.mark.parametrize(("fail_on_error", "code"), [("auto", 0), ("false", 0), ("true", 1)])
def test_an_undelivered_ping_is_a_warning_naming_the_token(
    steps: Steps, stand_in: IncidentIoStandIn, fail_on_error: str, code: int
) -> None:
    wrong = {**HEARTBEAT, "heartbeat-token": TOKEN}  # the HTTP source's token: it does not ping

    result = steps.run(layouts.push(), "success", **wrong, **{"fail-on-error": fail_on_error})

    assert result.returncode == code
    assert result.outputs["sent"] == "true"  # the resolve went out
    assert result.outputs["heartbeat"] == "failed"
    kind = "error" if code else "warning"
    (said,) = [item.data for item in result.annotations(kind) if "heartbeat" in item.data]
    assert said.startswith("incident.io refused the heartbeat ping: HTTP 401")
    assert "Check heartbeat-token: it must be the secret token of this very heartbeat source" in said
    assert "| Heartbeat | failed |" in result.summary


# -- a dry run -----------------------------------------------------------------------------------------------


def test_a_dry_run_says_a_ping_would_be_sent_and_sends_nothing(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    with_alert = steps.run(layouts.push(), "success", **HEARTBEAT, **{"dry-run": "true"})
    alone = steps.run(layouts.push(), "success", **HEARTBEAT, **NO_ALERT, **{"dry-run": "true"})

    assert with_alert.returncode == alone.returncode == 0
    assert stand_in.received == []
    for result in (with_alert, alone):
        assert any(
            item.data.startswith("A heartbeat ping would be sent to 127.0.0.1")
            for item in result.annotations("notice")
        )
        assert result.outputs["heartbeat"] == "skipped"


def test_the_heartbeat_token_is_kept_out_of_the_alert(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """Even where a step name echoes it, the token never reaches incident.io's alert or the outputs."""
    github.this_run(running_job())

    result = steps.run(layouts.push(), "failure", **HEARTBEAT, title=f"echo {HEARTBEAT_TOKEN}")

    (body,) = stand_in.bodies()
    assert HEARTBEAT_TOKEN not in json.dumps(body)
    assert body["title"] == "echo ***"
    assert_kept_secret(result, stand_in)
