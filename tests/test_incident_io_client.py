"""The delivery client: what is retried, how long it waits, and what a failure says. No real sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from entrypoint import __version__
from entrypoint.incident_io import BACKOFF_CAP_SECONDS, Client, DeliveryFailed, parse_retry_after
from tests.support.incident_io_stand_in import error_body

URL = "https://api.incident.io/v2/alert_events/http/01GW2G3V0S59R238FAHPDS1R66"
NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
ACCEPTED = {"deduplication_key": "k", "message": "Event accepted for processing", "status": "success"}


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.lines: list[str] = []


def client(recorder: Recorder, **kwargs: object) -> Client:
    return Client(
        url=URL,
        token="tok",
        log=recorder.lines.append,
        sleep=recorder.sleeps.append,
        random=lambda: 0.5,
        now=lambda: NOW,
        **kwargs,  # type: ignore[arg-type]
    )


@responses.activate
def test_202_is_success_and_headers_are_right() -> None:
    responses.post(URL, json=ACCEPTED, status=202)
    recorder = Recorder()
    accepted = client(recorder).send(b'{"title":"t"}')
    assert accepted.status_code == 202 and accepted.attempts == 1
    assert accepted.deduplication_key == "k"
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer tok"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["User-Agent"].startswith(f"incident-io-alert-action/{__version__} python-requests/")
    assert "tok" not in (sent.url or "")
    assert recorder.sleeps == []


@pytest.mark.parametrize("body", [{"status": "accepted"}, {}, None, "not json"])
@responses.activate
def test_any_2xx_is_success_whatever_the_body(body: object) -> None:
    if isinstance(body, str):
        responses.post(URL, body=body, status=200)
    else:
        responses.post(URL, json=body, status=201)
    assert client(Recorder()).send(b"{}").status_code in (200, 201)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@responses.activate
def test_retryable_statuses_are_retried(status: int) -> None:
    responses.post(URL, status=status, body="")
    responses.post(URL, json=ACCEPTED, status=202)
    recorder = Recorder()
    assert client(recorder).send(b"{}").attempts == 2
    assert len(recorder.sleeps) == 1
    assert recorder.lines[0].startswith(f"Attempt 1/5 failed: incident.io refused the alert: HTTP {status}")


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (400, "invalid_request_error", "bad"),
        (401, "authentication_error", "No authorization material provided in request"),
        (403, "resource_forbidden", "forbidden"),
        (404, "not_found", "The referenced resource could not be found"),
        (413, "payload_too_large", "too large"),
        (422, "validation_error", "Deduplication key is required"),
    ],
)
@responses.activate
def test_other_4xx_are_not_retried_and_say_what_incident_io_said(
    status: int, error_type: str, message: str
) -> None:
    body = error_body(status, error_type, message)
    body["errors"][0]["source"] = {"field": "deduplication_key"}
    responses.post(URL, json=body, status=status)
    recorder = Recorder()
    with pytest.raises(DeliveryFailed) as caught:
        client(recorder).send(b"{}")
    text = str(caught.value)
    assert f"HTTP {status} {error_type}: {message}" in text
    assert "(field: deduplication_key)" in text
    assert body["request_id"] in text
    assert caught.value.status_code == status
    assert len(responses.calls) == 1 and recorder.sleeps == []


@responses.activate
def test_gives_up_after_max_attempts_with_capped_growing_backoff() -> None:
    responses.post(URL, body="<html>Bad Gateway</html>", status=502)
    recorder = Recorder()
    with pytest.raises(DeliveryFailed) as caught:
        client(recorder, max_attempts=7).send(b"{}")
    assert len(responses.calls) == 7
    assert "gave up after 7 attempts" in str(caught.value)
    assert "an HTML page, maybe from a proxy" in str(caught.value)
    assert len(recorder.sleeps) == 6  # none after the last attempt
    assert recorder.sleeps == sorted(recorder.sleeps)
    assert max(recorder.sleeps) <= BACKOFF_CAP_SECONDS
    assert recorder.sleeps[0] == pytest.approx(0.75)  # equal jitter: half + random * half


@pytest.mark.parametrize(
    ("headers", "body_retry_after", "expected"),
    [
        ({"Retry-After": "7"}, None, 7.0),
        ({"Retry-After": format_datetime(NOW + timedelta(seconds=12), usegmt=True)}, None, 12.0),
        ({}, (NOW + timedelta(seconds=9)).strftime("%Y-%m-%dT%H:%M:%SZ"), 9.0),
        ({}, "Thu, 26 Nov 2026 12:00:04 UTC", 4.0),
        ({"Retry-After": "garbage"}, (NOW + timedelta(seconds=3)).isoformat(), 3.0),
    ],
)
@responses.activate
def test_429_waits_as_long_as_asked_and_not_much_longer(
    headers: dict[str, str], body_retry_after: str | None, expected: float
) -> None:
    body = error_body(429, "too_many_requests", "Too many requests")
    if body_retry_after:
        body["rate_limit"] = {"name": "x", "limit": 120, "remaining": 0, "retry_after": body_retry_after}
    responses.post(URL, json=body, status=429, headers=headers)
    responses.post(URL, json=ACCEPTED, status=202)
    recorder = Recorder()
    client(recorder).send(b"{}")
    (slept,) = recorder.sleeps
    assert expected <= slept <= expected + 1.0
    assert "as incident.io asked" in recorder.lines[0]


@responses.activate
def test_a_wait_longer_than_a_minute_is_not_waited_out() -> None:
    responses.post(
        URL,
        json=error_body(429, "too_many_requests", "slow down"),
        status=429,
        headers={"Retry-After": "3600"},
    )
    recorder = Recorder()
    with pytest.raises(DeliveryFailed, match="asked to wait 3600 s"):
        client(recorder).send(b"{}")
    assert recorder.sleeps == []


@responses.activate
def test_connection_errors_and_timeouts_are_retried() -> None:
    responses.post(URL, body=requests.ConnectionError("Connection refused"))
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    responses.post(URL, json=ACCEPTED, status=202)
    recorder = Recorder()
    assert client(recorder).send(b"{}").attempts == 3
    assert "connection refused" in recorder.lines[0]
    assert "did not answer within 10 s" in recorder.lines[1]


@responses.activate
def test_redirects_are_not_followed() -> None:
    responses.post(URL, status=307, headers={"Location": "https://evil.example.com/steal"})
    with pytest.raises(DeliveryFailed, match="redirect") as caught:
        client(Recorder()).send(b"{}")
    assert caught.value.status_code == 307
    assert len(responses.calls) == 1


@responses.activate
def test_empty_error_body_is_handled() -> None:
    responses.post(URL, body="", status=418)
    with pytest.raises(DeliveryFailed, match="HTTP 418: an empty answer"):
        client(Recorder()).send(b"{}")


def test_netrc_is_never_consulted(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"  # type: ignore[operator]
    netrc.write_text("machine api.incident.io login someone password other-secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    with responses.RequestsMock() as mocked:
        mocked.post(URL, json=ACCEPTED, status=202)
        client(Recorder()).send(b"{}")
        assert mocked.calls[0].request.headers["Authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("-5", 0.0),
        ("2.5", 2.5),
        ("nan", None),
        ("", None),
        ("Wed, 26 Nov 2026 11:00:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
