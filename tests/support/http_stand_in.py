"""A scriptable HTTP server on 127.0.0.1, the common part of the stand-ins for incident.io and GitHub.

It records every request and answers each with a `Reply`: the next scripted one if any, else what the
subclass's `answer()` says. Replies can be delayed, or dropped without an answer.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Received:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float
    answered: int | None = None  # the status answered with; None for a dropped one

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 202
    body: Any = None  # dict or list → JSON; str → sent as is (HTML); None → the stand-in's own answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


class HttpStandIn:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: deque[Reply] = deque()
        self._script_by_path: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._scheme = "http"

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def serve_tls(self, certificate: str, key: str) -> Self:
        """Answer over TLS with this certificate (before start): a server whose CA clients may not trust."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https"
        return self

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order; then as the real service would."""
        with self._lock:
            self._script.extend(replies)

    def script_for(self, path_part: str, *replies: Reply) -> None:
        """Answer the next requests whose path contains `path_part` with these replies, in order, before
        any other script: for requests that go out side by side, in no fixed order."""
        with self._lock:
            self._script_by_path.setdefault(path_part, deque()).extend(replies)

    def answer(self, request: Received) -> Reply:
        """The service's own answer; called with no lock held."""
        raise NotImplementedError

    def _unscripted(self, request: Received) -> Reply | None:
        """A reply decided under the lock before `answer` (e.g. rate limiting), or None."""
        del request
        return None

    def _next_reply(self, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
            by_path = next(
                (queue for part, queue in self._script_by_path.items() if part in request.path and queue),
                None,
            )
            scripted = by_path.popleft() if by_path else (self._script.popleft() if self._script else None)
            if scripted is None:
                scripted = self._unscripted(request)
        return scripted if scripted is not None else self.answer(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write when the handler flushes, as a real server's do;
            # unbuffered, a kept-alive connection waits 40 ms per answer on delayed ACKs.
            wbufsize = -1

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
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (a timeout): nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests read `received`

        return Handler
