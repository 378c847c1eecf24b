"""Talking to incident.io: POST one alert event (or one heartbeat ping), retrying what is worth retrying.

- Success is any 2xx; the body's `status` is logged, never insisted on.
- Retried: connection errors, timeouts, an answer cut short (a connection closed in the middle of it, a
  body that cannot be decoded), 408, 429, 500, 502, 503, 504, with capped exponential backoff and jitter,
  or as long as `Retry-After` / the body's `rate_limit.retry_after` asks.
- Not retried: every other answer. A failure says what incident.io said and what to do.
- `timeout-seconds` bounds each attempt whole: connecting, the headers and the body (http_call.py).
- A 2xx status line is an accepted event, whatever follows it: a body cut short or odd bytes in it never
  turn a delivered alert into a failed one.
- The token travels only in the Authorization header, only to the api-url host: redirects are not
  followed and `~/.netrc` is never consulted. Proxies come from HTTPS_PROXY / NO_PROXY as usual.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from entrypoint import ACTION_NAME, __version__, messages, untrusted
from entrypoint.http_call import Answer, NoAnswer, call

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 20.0
# incident.io's per-source limit is per minute, so a minute is the longest wait worth honouring.
MAX_RETRY_AFTER_SECONDS = 60.0
SERVER_WAIT_JITTER_SECONDS = 0.25
# incident.io's answers are a few hundred bytes; more is kept only up to this (it becomes an output).
MAX_ANSWER_BYTES = 64 * 1024
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
    clock: Callable[[], float] = time.monotonic
    session: requests.Session = field(default_factory=requests.Session)

    def send(self, body: bytes | None) -> Accepted:
        """POST the body (JSON), or nothing at all (a heartbeat ping)."""
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self.max_attempts + 1):
            size = len(body) if body is not None else 0
            self.debug(f"POST {self.url} attempt {attempt}/{self.max_attempts}, {size} bytes")
            wait = None
            try:
                answer = call(
                    self.session,
                    "POST",
                    self.url,
                    token=self.token,
                    deadline=self.clock() + self.timeout_seconds,
                    max_bytes=MAX_ANSWER_BYTES,
                    clock=self.clock,
                    data=body,
                    headers=headers,
                )
            except NoAnswer as no_answer:
                failure = self._no_answer(no_answer, attempt)
                if not no_answer.retryable:
                    raise failure from None
            else:
                text = answer.body.decode("utf-8", errors="replace")
                parsed = _json_or_none(text)
                self.debug(f"incident.io answered HTTP {answer.status}")
                if 200 <= answer.status < 300:
                    if not answer.complete:
                        self.debug(f"Its answer was cut short: {answer.problem}.")
                    return Accepted(
                        answer.status, text, parsed if isinstance(parsed, dict) else None, attempt
                    )
                if not answer.complete:  # as a network failure: what it said is not known
                    problem = (
                        f"its answer did not arrive whole within {self.timeout_seconds:g} s"
                        if answer.timed_out
                        else answer.problem
                    )
                    failure = DeliveryFailed(
                        f"{self._host()} answered HTTP {answer.status}, but {problem}",
                        status_code=answer.status,
                        text=text,
                        attempts=attempt,
                        timed_out=answer.timed_out,
                    )
                else:
                    error = IncidentIoError.parse(parsed)
                    failure = _refusal(answer, error, text, attempt, self.what)
                    if answer.status not in RETRY_STATUSES:
                        raise failure
                    wait = self._server_wait(answer, error)
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

    def _no_answer(self, no_answer: NoAnswer, attempt: int) -> DeliveryFailed:
        if no_answer.timed_out:
            return DeliveryFailed(
                f"incident.io did not answer within {self.timeout_seconds:g} s",
                attempts=attempt,
                timed_out=True,
            )
        if not no_answer.retryable:
            return DeliveryFailed(f"the request to {self._host()} failed: {no_answer}", attempts=attempt)
        return DeliveryFailed(f"could not connect to {self._host()} ({no_answer})", attempts=attempt)

    def _server_wait(self, answer: Answer, error: IncidentIoError) -> float | None:
        header = answer.headers.get("Retry-After")
        for value in (header, error.retry_after):
            if value:
                wait = parse_retry_after(value, self.now())
                if wait is not None:
                    return wait
        return None

    def _host(self) -> str:
        return urlsplit(self.url).netloc


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds, an HTTP date, or RFC 3339; None for
    anything else."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except (ValueError, OverflowError):
            return None
    try:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    except (ValueError, OverflowError):  # a date no clock reaches
        return None


def _refusal(
    answer: Answer, error: IncidentIoError, text: str, attempts: int, what: str = "alert"
) -> DeliveryFailed:
    code = answer.status
    if 300 <= code < 400:
        # Not a refusal: whatever answers at api-url points elsewhere, and following it could carry the
        # token there. Only the scheme and host of where it points are repeated (redacted like all text).
        to = _redirect_target(answer.headers.get("Location", ""))
        reason = (
            f"{urlsplit(answer.url).netloc} answered with a redirect (HTTP {code}){to}, which is not "
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


def _redirect_target(location: str) -> str:
    """` to https://host` for a redirect's Location, or "" where it names no http(s) host."""
    try:
        where = urlsplit(location)
        host = where.hostname
    except ValueError:  # an unbalanced `[` in the host
        return ""
    if where.scheme not in ("http", "https") or not host:
        return ""
    return f" to {where.scheme}://{messages.one_line(host, 100)}"


def _json_or_none(text: str) -> Any:
    try:
        return untrusted.loads(text) if text.strip() else None
    except ValueError:
        return None
