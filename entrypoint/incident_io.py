"""Talking to incident.io: POST one alert event (or one heartbeat ping), retrying what is worth retrying.

- Success is any 2xx; the body's `status` is logged, never insisted on.
- Retried: connection errors, timeouts, 408, 429, 500, 502, 503, 504, with capped exponential backoff
  and jitter, or as long as `Retry-After` / the body's `rate_limit.retry_after` asks.
- Not retried: every other answer. A failure says what incident.io said and what to do.
- The token travels only in the Authorization header, only to the api-url host: redirects are not
  followed and `~/.netrc` is never consulted. Proxies come from HTTPS_PROXY / NO_PROXY as usual.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from entrypoint import ACTION_NAME, __version__
from entrypoint.http_auth import BearerToken

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 20.0
# incident.io's per-source limit is per minute, so a minute is the longest wait worth honouring.
MAX_RETRY_AFTER_SECONDS = 60.0
SERVER_WAIT_JITTER_SECONDS = 0.25
USER_AGENT = f"{ACTION_NAME}/{__version__} python-requests/{requests.__version__}"


@dataclass(frozen=True)
class Accepted:
    status_code: int
    text: str  # the answer's body, as received (untrusted)
    json: dict[str, Any] | None
    attempts: int

    @property
    def deduplication_key(self) -> str | None:
        value = (self.json or {}).get("deduplication_key")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class IncidentIoError:
    """incident.io's ErrorResponse, read leniently: every part may be missing."""

    type: str | None = None
    request_id: str | None = None
    messages: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    retry_after: str | None = None  # rate_limit.retry_after

    @classmethod
    def parse(cls, body: Any) -> IncidentIoError:
        if not isinstance(body, dict):
            return cls()
        messages, fields = [], []
        for item in body.get("errors") or []:
            if isinstance(item, dict):
                if isinstance(item.get("message"), str):
                    messages.append(item["message"])
                source = item.get("source")
                if isinstance(source, dict):
                    name = source.get("field") or source.get("pointer")
                    if isinstance(name, str) and name:
                        fields.append(name)
        rate_limit = body.get("rate_limit")
        retry_after = rate_limit.get("retry_after") if isinstance(rate_limit, dict) else None
        return cls(
            type=body["type"] if isinstance(body.get("type"), str) else None,
            request_id=body["request_id"] if isinstance(body.get("request_id"), str) else None,
            messages=messages,
            fields=fields,
            retry_after=retry_after if isinstance(retry_after, str) else None,
        )


class DeliveryFailed(Exception):
    """The alert event was not accepted. `str()` is the one-line reason for the user."""

    def __init__(
        self,
        reason: str,
        *,
        status_code: int | None = None,
        error: IncidentIoError | None = None,
        text: str = "",
        attempts: int = 1,
        timed_out: bool = False,
    ) -> None:
        super().__init__(reason)
        self.status_code = status_code  # None: no answer (a timeout, or no connection)
        self.error = error or IncidentIoError()
        self.text = text  # the answer's body (untrusted)
        self.attempts = attempts
        self.timed_out = timed_out

    def amended(self, more: str) -> DeliveryFailed:
        """The same failure, its reason saying more."""
        return DeliveryFailed(
            f"{self}{more}",
            status_code=self.status_code,
            error=self.error,
            text=self.text,
            attempts=self.attempts,
            timed_out=self.timed_out,
        )


@dataclass
class Client:
    url: str  # the alert source's alert events URL, or a heartbeat source's ping URL
    token: str
    what: str = "alert"  # what is sent, as messages name it: `alert`, `heartbeat ping`
    max_attempts: int = 5
    timeout_seconds: float = 10.0
    log: Callable[[str], None] = print
    debug: Callable[[str], None] = lambda _line: None
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    session: requests.Session = field(default_factory=requests.Session)

    def send(self, body: bytes | None) -> Accepted:
        """POST the body (JSON), or nothing at all (a heartbeat ping)."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self.max_attempts + 1):
            size = len(body) if body is not None else 0
            self.debug(f"POST {self.url} attempt {attempt}/{self.max_attempts}, {size} bytes")
            try:
                response = self.session.post(
                    self.url,
                    data=body,
                    headers=headers,
                    auth=BearerToken(self.token),
                    timeout=(min(self.timeout_seconds, 10.0), self.timeout_seconds),
                    allow_redirects=False,
                )
            except requests.Timeout:
                failure = DeliveryFailed(
                    f"incident.io did not answer within {self.timeout_seconds:g} s",
                    attempts=attempt,
                    timed_out=True,
                )
                wait = None
            except requests.ConnectionError as exc:
                failure = DeliveryFailed(
                    f"could not connect to {self._host()} ({_connection_reason(exc)})", attempts=attempt
                )
                wait = None
            except requests.RequestException as exc:
                raise DeliveryFailed(
                    f"the request to {self._host()} failed ({type(exc).__name__})", attempts=attempt
                ) from None
            else:
                text = response.text
                parsed = _json_or_none(text)
                self.debug(f"incident.io answered HTTP {response.status_code}")
                if 200 <= response.status_code < 300:
                    return Accepted(
                        response.status_code,
                        text,
                        parsed if isinstance(parsed, dict) else None,
                        attempt,
                    )
                error = IncidentIoError.parse(parsed)
                failure = _refusal(response, error, text, attempt, self.what)
                if response.status_code not in RETRY_STATUSES:
                    raise failure
                wait = self._server_wait(response, error)
                if wait is not None and wait > MAX_RETRY_AFTER_SECONDS:
                    raise failure.amended(
                        f"; incident.io asked to wait {wait:.0f} s before retrying, longer than "
                        f"this action waits ({MAX_RETRY_AFTER_SECONDS:.0f} s)"
                    )
            if attempt == self.max_attempts:
                if self.max_attempts > 1:
                    raise failure.amended(f" (gave up after {attempt} attempts)")
                raise failure
            delay = self._delay(attempt, wait)
            source = "as incident.io asked" if wait is not None else "backing off"
            self.log(
                f"Attempt {attempt}/{self.max_attempts} failed: {failure}. "
                f"Retrying in {delay:.1f} s ({source})."
            )
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, server_wait: float | None) -> float:
        if server_wait is not None:
            # Honour the server's wait plus a little jitter, so a matrix of jobs does not return in
            # lockstep, but never much longer than asked: overshooting wastes users' minutes.
            return server_wait + self.random() * min(SERVER_WAIT_JITTER_SECONDS, 0.05 * server_wait + 0.05)
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.random() * ceiling / 2  # "equal jitter"

    def _server_wait(self, response: requests.Response, error: IncidentIoError) -> float | None:
        header = response.headers.get("Retry-After")
        for value in (header, error.retry_after):
            if value:
                wait = parse_retry_after(value, self.now())
                if wait is not None:
                    return wait
        return None

    def _host(self) -> str:
        return urlsplit(self.url).netloc


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds, an HTTP date, or RFC 3339."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    when: datetime | None = None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _refusal(
    response: requests.Response, error: IncidentIoError, text: str, attempts: int, what: str = "alert"
) -> DeliveryFailed:
    code = response.status_code
    if 300 <= code < 400:
        # Not a refusal: whatever answers at api-url points elsewhere, and following it could carry the
        # token there. Only the scheme and host of where it points are repeated.
        where = urlsplit(response.headers.get("Location", ""))
        shown = where.scheme in ("http", "https") and where.hostname
        to = f" to {where.scheme}://{where.hostname}" if shown else ""
        reason = (
            f"{urlsplit(response.url).netloc} answered with a redirect (HTTP {code}){to}, which is not "
            "followed so that the token stays with incident.io"
        )
        return DeliveryFailed(reason, status_code=code, error=error, text=text, attempts=attempts)
    said = [f"HTTP {code}"]
    if error.type:
        said.append(error.type)
    detail = "; ".join(error.messages) if error.messages else None
    if detail is None and text.strip():
        kind = "an HTML page" if text.lstrip()[:1] == "<" else "a non-JSON answer"
        detail = f"{kind}, maybe from a proxy"
    elif detail is None:
        detail = "an empty answer"
    reason = f"incident.io refused the {what}: {' '.join(said)}: {detail}"
    if error.fields:
        reason += f" (field: {', '.join(error.fields)})"
    if error.request_id:
        reason += f" [request id {error.request_id}]"
    return DeliveryFailed(reason, status_code=code, error=error, text=text, attempts=attempts)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def _connection_reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    for marker, reason in (
        ("Name or service not known", "the host name does not resolve"),
        ("Temporary failure in name resolution", "the host name does not resolve"),
        ("Connection refused", "connection refused"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("Connection reset", "the connection was reset"),
        ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted"),
        ("ProxyError", "the proxy refused or failed"),
    ):
        if marker in text:
            return reason
    return type(exc).__name__
