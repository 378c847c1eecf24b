"""A local stand-in for incident.io's alert events endpoint, on 127.0.0.1 only.

It answers like incident.io (202 with the documented body; incident.io's ErrorResponse bodies for
401 and 404), records every request, and can be scripted per request: status, headers, body,
delay, or dropping the connection without an answer. Used by the tests and by `make demo`.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH_PATTERN = re.compile(r"^/v2/alert_events/http/([A-Za-z0-9_-]+)$")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int | None = None  # the status the stand-in answered with; None for a dropped one

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 202
    body: Any = None  # dict → JSON; str → sent as is; None → incident.io's answer for the status
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


def error_body(status: int, error_type: str, message: str, code: str = "", **extra: Any) -> dict[str, Any]:
    """An ErrorResponse as incident.io sends it."""
    body: dict[str, Any] = {
        "type": error_type,
        "status": status,
        "request_id": str(uuid.uuid4()),
        "errors": [{"code": code or error_type, "message": message}],
    }
    body.update(extra)
    return body


class IncidentIoStandIn:
    def __init__(self, token: str | None = "test-token", source_id: str | None = None) -> None:
        self.token = token
        self.source_id = source_id
        self.received: list[Received] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._limit: tuple[int, float] | None = None  # (events, window seconds)
        self._window_start: float | None = None
        self._window_count = 0
        self.accepted = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> IncidentIoStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> IncidentIoStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order; then as incident.io would."""
        with self._lock:
            self._script.extend(replies)

    def rate_limit(self, events: int, window_seconds: float) -> None:
        """Accept `events` per fixed window, then 429 with Retry-After, as incident.io's 120 a minute."""
        self._limit = (events, window_seconds)

    def _rate_limited(self, now: float) -> Reply | None:
        if self._limit is None:
            return None
        events, window = self._limit
        if self._window_start is None:
            self._window_start = now
        while now >= self._window_start + window:
            self._window_start += window
            self._window_count = 0
        if self._window_count < events:
            self._window_count += 1
            return None
        wait = self._window_start + window - now
        reset = datetime.now(UTC) + timedelta(seconds=wait)
        body = error_body(
            429,
            "too_many_requests",
            "Too many requests hit the API too quickly. "
            "We recommend an exponential backoff of your requests.",
            rate_limit={
                "name": "alert_events",
                "limit": events,
                "remaining": 0,
                "retry_after": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        return Reply(429, body, headers={"Retry-After": str(math.ceil(wait))})

    def bodies(self) -> list[Any]:
        return [request.json() for request in self.received]

    def _next_reply(self, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
            scripted = self._script.popleft() if self._script else None
            limited = None if scripted else self._rate_limited(request.at)
        if scripted is not None:
            return scripted
        if limited is not None:
            return limited
        match = PATH_PATTERN.match(request.path)
        if match is None or (self.source_id is not None and match.group(1) != self.source_id):
            return Reply(404, error_body(404, "not_found", "The requested resource could not be found"))
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                error_body(
                    401,
                    "authentication_error",
                    "No authorization material provided in request",
                    "missing_authorization_material",
                ),
            )
        try:
            key = request.json().get("deduplication_key", "")
        except ValueError:
            return Reply(400, error_body(400, "invalid_request_error", "Request body is not JSON"))
        with self._lock:
            self.accepted += 1
        accepted = {"deduplication_key": key, "message": "Event accepted for processing", "status": "success"}
        return Reply(202, accepted)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Received(
                    self.command,
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                    time.monotonic(),
                )
                reply = stand_in._next_reply(request)
                request.answered = None if reply.drop else reply.status
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if isinstance(reply.body, str):
                    payload = reply.body.encode("utf-8")
                    content_type = "text/html; charset=utf-8"
                elif reply.body is None:
                    payload = b""
                    content_type = "application/json"
                else:
                    payload = json.dumps(reply.body).encode("utf-8")
                    content_type = "application/json"
                headers = {"Content-Type": content_type, "Content-Length": str(len(payload)), **reply.headers}
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (a timeout): nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests read `received`

        return Handler
