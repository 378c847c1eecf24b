"""A misbehaving incident.io, met by the real process: slow, rate limiting, proxies answering HTML,
refusals, dropped connections, silence. The step must end as the user would expect, in bounded time."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.conftest import TOKEN
from tests.support.actions_runner import StepFiles, StepResult, run_step
from tests.support.incident_io_stand_in import IncidentIoStandIn, Reply, error_body

HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def gaps(stand_in: IncidentIoStandIn) -> list[float]:
    times = [request.at for request in stand_in.received]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def assert_outputs_written(result: StepResult, sent: str) -> None:
    assert result.outputs["sent"] == sent
    assert result.outputs["status"] == "firing"
    assert result.outputs["payload"]


def test_5xx_then_success(stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]) -> None:
    stand_in.script(Reply(500, error_body(500, "api_error", "Something went wrong")), Reply(504, HTML))
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 3
    assert result.stdout.count("Retrying in") == 2
    assert_outputs_written(result, "true")


def test_429_retry_after_seconds_waits_that_long(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(
        Reply(429, error_body(429, "too_many_requests", "slow down"), headers={"Retry-After": "2"})
    )
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    (gap,) = gaps(stand_in)
    assert 2.0 <= gap <= 2.6
    assert "as incident.io asked" in result.stdout


def test_429_retry_after_http_date_waits_until_then(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    stand_in.script(Reply(429, "", headers={"Retry-After": format_datetime(when, usegmt=True)}))
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    retried_at = datetime.now(UTC) - timedelta(seconds=time.monotonic() - stand_in.received[1].at)
    assert when - timedelta(seconds=0.1) <= retried_at <= when + timedelta(seconds=0.6)


def test_429_with_only_the_body_rate_limit(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    # The body gives a whole second, so the wait asked for is 2 s to 3 s from now, less the time the
    # step takes to start and send; the second attempt must come no earlier than that and not much later.
    reset_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    reset = reset_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    limited = error_body(429, "rate_limit_reached", "Rate limit", rate_limit={"retry_after": reset})
    stand_in.script(Reply(429, limited))
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    (gap,) = gaps(stand_in)
    retried_at = datetime.now(UTC) - timedelta(seconds=time.monotonic() - stand_in.received[1].at)
    assert retried_at >= reset_at - timedelta(seconds=0.05)  # not before the reset
    assert 1.0 <= gap <= 3.6


def test_always_502_html_gives_up_after_max_attempts(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(*[Reply(502, HTML)] * 3)
    started = time.monotonic()
    result = run_step(files, {**with_, "max-attempts": "3"})

    assert result.returncode == 1
    assert len(stand_in.received) == 3
    assert time.monotonic() - started < 1 + 2 + 3  # backoff at most 1 s then 2 s, plus start-up
    (error,) = result.annotations("error")
    assert "HTTP 502" in error.data and "an HTML page, maybe from a proxy" in error.data
    assert "gave up after 3 attempts" in error.data
    assert "Re-run the job later" in error.data
    assert result.outputs["error"] == error.data
    assert result.outputs["response"] == HTML
    assert_outputs_written(result, "false")
    assert "Alert not delivered" in result.summary


@pytest.mark.parametrize(
    ("status", "error_type", "message", "hint"),
    [
        (
            401,
            "authentication_error",
            "No authorization material provided in request",
            "secret token of this alert source",
        ),
        (
            403,
            "resource_forbidden",
            "Access to this resource is forbidden",
            "secret token of this very alert source",
        ),
        (404, "not_found", "The referenced resource could not be found", "Check alert-source-config-id"),
        (422, "validation_error", "A required field was not provided", "rejected a field"),
    ],
)
def test_refusals_are_not_retried_and_say_what_and_why(
    stand_in: IncidentIoStandIn,
    files: StepFiles,
    with_: dict[str, str],
    status: int,
    error_type: str,
    message: str,
    hint: str,
) -> None:
    body = error_body(status, error_type, message)
    stand_in.script(Reply(status, body))
    result = run_step(files, with_)

    assert result.returncode == 1
    assert len(stand_in.received) == 1
    (error,) = result.annotations("error")
    assert f"HTTP {status} {error_type}: {message}" in error.data
    assert body["request_id"] in error.data
    assert hint in error.data
    assert json.loads(result.outputs["response"]) == body
    assert_outputs_written(result, "false")


def test_dropped_connection_is_retried(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(drop=True))
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 2
    assert "closed the connection without answering" in result.stdout


def test_server_that_never_answers_ends_within_the_attempts(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(delay=20), Reply(delay=20))
    started = time.monotonic()
    result = run_step(files, {**with_, "max-attempts": "2", "timeout-seconds": "1"})
    elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert elapsed < 2 * 1 + 1 + 2  # attempts x timeout, plus backoff, plus start-up
    (error,) = result.annotations("error")
    assert "did not answer within 1 s" in error.data
    assert "timeout-seconds" in error.data
    assert_outputs_written(result, "false")


def test_fail_on_error_false_with_an_unreachable_server(files: StepFiles, with_: dict[str, str]) -> None:
    result = run_step(
        files, {**with_, "api-url": "http://127.0.0.1:9", "fail-on-error": "false", "max-attempts": "2"}
    )

    assert result.returncode == 0
    assert result.annotations("error") == []
    (warning,) = result.warnings_besides_github_api()
    assert "connection refused" in warning.data and "fail-on-error is false" in warning.data
    assert_outputs_written(result, "false")


@pytest.mark.parametrize("reply", [Reply(202, None), Reply(200, {"unexpected": True}), Reply(204, None)])
def test_2xx_with_an_empty_or_unexpected_body_is_success(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], reply: Reply
) -> None:
    stand_in.script(reply)
    result = run_step(files, with_)

    assert result.returncode == 0, result.log
    assert_outputs_written(result, "true")
    assert result.outputs["deduplication-key"] == "github-actions:octo-org/octo-repo:ci.yml:test:main"
    assert TOKEN not in result.output_file
