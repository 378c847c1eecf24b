"""One HTTP request and its answer, bounded in time and size, for both servers the action talks to.

requests' timeouts bound each socket operation, not a request: a server that sends a byte every second
keeps a `timeout=1` request going for as long as it likes. So the request runs on a thread of its own, and
the caller waits for it until the deadline and not a moment longer: it gets what had arrived by then (the
status and headers, and as much of the body as came), or `NoAnswer`. A thread given up on is a daemon: it
holds nothing the step needs, and the process ends without it.

The bearer token goes only in the Authorization header, set by an auth object so that requests never falls
back to `~/.netrc`; redirects are never followed, so the token goes to the URL's host and nowhere else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

CHUNK_BYTES = 16 * 1024
# Connecting takes no longer than this, whatever the deadline (a dead host is not waited on for minutes).
MAX_CONNECT_SECONDS = 10.0


class BearerToken(requests.auth.AuthBase):
    """Sets `Authorization: Bearer`; being an auth object keeps requests from reading ~/.netrc."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


@dataclass(frozen=True)
class Answer:
    """What a server answered: its status and headers, and its body as far as it came.

    `complete` is false where the body did not arrive whole: by the deadline (`timed_out`), a connection
    closed in the middle of it, or content that could not be decoded (`problem` says which). `truncated`:
    it was longer than the size cap, and only its start is here."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    links: Mapping[str, Mapping[str, str]]
    complete: bool = True
    problem: str | None = None
    timed_out: bool = False
    truncated: bool = False


class NoAnswer(Exception):
    """No status line and headers came back. `timed_out`: the deadline passed first; `retryable`: a
    network failure worth trying again (not a request that cannot be made at all, such as a bad proxy URL)."""

    def __init__(self, reason: str, *, timed_out: bool = False, retryable: bool = True) -> None:
        super().__init__(reason)
        self.timed_out = timed_out
        self.retryable = retryable


# What requests raises for a request that cannot be made as given: trying again changes nothing.
NOT_RETRYABLE = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidProxyURL,
)


@dataclass
class _Progress:
    """What the request's thread has received so far; read by the caller under the lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    response: requests.Response | None = None
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    truncated: bool = False
    error: BaseException | None = None
    problem: str | None = None
    done: bool = False
    given_up: bool = False


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    token: str,
    deadline: float,
    max_bytes: int,
    clock: Callable[[], float] = time.monotonic,
    **kwargs: Any,
) -> Answer:
    """Send the request and return its answer by `deadline` (on `clock`), its body cut at `max_bytes`."""
    progress = _Progress()
    remaining = max(0.01, deadline - clock())
    worker = threading.Thread(
        target=_exchange,
        args=(progress, session, method, url),
        kwargs={"token": token, "seconds": remaining, "max_bytes": max_bytes, "options": kwargs},
        daemon=True,
    )
    worker.start()
    worker.join(remaining)
    if worker.is_alive():  # the deadline passed: join again only for what the thread had by then
        with progress.lock:
            progress.given_up = True
    with progress.lock:
        response, error, body = progress.response, progress.error, b"".join(progress.chunks)
        timed_out, truncated = not progress.done, progress.truncated
        problem = "the answer did not arrive whole in time" if timed_out else progress.problem
    if response is None:
        if error is None:
            raise NoAnswer("no answer in time", timed_out=True)
        raise _no_answer(error)
    return Answer(
        status=response.status_code,
        headers=response.headers,
        body=body[:max_bytes],
        url=response.url,
        links=response.links if _has_link(response) else {},
        complete=problem is None,
        problem=problem,
        timed_out=timed_out,
        truncated=truncated,
    )


def _exchange(
    progress: _Progress,
    session: requests.Session,
    method: str,
    url: str,
    *,
    token: str,
    seconds: float,
    max_bytes: int,
    options: dict[str, Any],
) -> None:
    """On the request's own thread: send, then read the body chunk by chunk into `progress`."""
    try:
        response = session.request(
            method,
            url,
            auth=BearerToken(token),
            timeout=(min(seconds, MAX_CONNECT_SECONDS), seconds),
            allow_redirects=False,
            stream=True,
            **options,
        )
    except BaseException as exc:  # handed to the caller, which says what it was
        with progress.lock:
            progress.error = exc
        return
    with progress.lock:
        progress.response = response
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            with progress.lock:
                if progress.given_up:
                    return
                progress.chunks.append(chunk)
                progress.size += len(chunk)
                if progress.size > max_bytes:
                    progress.truncated = True
                    break
    except requests.exceptions.ContentDecodingError:
        with progress.lock:
            progress.problem = "the answer could not be decoded"
    except Exception as exc:  # a connection closed mid-body, a broken chunk, ...
        with progress.lock:
            progress.problem = f"the connection broke in the middle of the answer ({type(exc).__name__})"
    finally:
        response.close()
        with progress.lock:
            progress.done = True


def _no_answer(error: BaseException) -> NoAnswer:
    if isinstance(error, requests.Timeout):
        return NoAnswer("no answer in time", timed_out=True)
    if isinstance(error, NOT_RETRYABLE):
        return NoAnswer(f"the request could not be made ({type(error).__name__})", retryable=False)
    if isinstance(error, requests.ConnectionError):
        return NoAnswer(connection_reason(error))
    if isinstance(error, requests.RequestException):
        return NoAnswer(type(error).__name__)
    # Anything else (an odd proxy variable, an odd host name) is no network failure: not tried again.
    return NoAnswer(f"the request failed ({type(error).__name__})", retryable=False)


def connection_reason(exc: requests.ConnectionError) -> str:
    """Why there was no connection, in a few words."""
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


def _has_link(response: requests.Response) -> bool:
    """Whether requests can read the Link header: it parses any text, but a header it cannot split
    must not end the step."""
    try:
        response.links  # noqa: B018 - parsed here, once, where an odd header cannot escape
    except Exception:
        return False
    return True
