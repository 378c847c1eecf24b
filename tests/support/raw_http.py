"""A server on 127.0.0.1 that answers with exactly the bytes it is given, as a hostile or broken server
would: a body that drips a byte at a time, a connection closed in the middle of a body, a body that is not
the gzip it claims, deep JSON, odd headers. The well-behaved stand-ins (http_stand_in.py) cannot, as they
hold to the published schemas.

Each connection carries one request and one `RawReply` (the next scripted one, else the default), then
closes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Self


@dataclass(frozen=True)
class RawReply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_length: int | None = None  # None: the body's own length
    drip_seconds: float = 0.0  # between the body's bytes; 0: all at once
    close_after: int | None = None  # body bytes sent before the connection is closed; None: all
    head_delay: float = 0.0  # before the status line

    def head(self) -> bytes:
        length = len(self.body) if self.content_length is None else self.content_length
        lines = [f"HTTP/1.1 {self.status} Answer", f"Content-Length: {length}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    reply: RawReply | None = None  # what it was answered with


@dataclass
class RawServer:
    default: RawReply = field(default_factory=RawReply)
    received: list[RawRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._script: deque[RawReply] = deque()
        self._lock = threading.Lock()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def script(self, *replies: RawReply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self, *replies: RawReply) -> None:
        """Forget what was received, and answer the next requests with these replies."""
        with self._lock:
            self.received.clear()
            self._script.clear()
            self._script.extend(replies)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopped.set()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _address = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(30)
            try:
                request = _read_request(connection)
                if request is None:
                    return
                with self._lock:
                    reply = self._script.popleft() if self._script else self.default
                    request.reply = reply
                    self.received.append(request)
                time.sleep(reply.head_delay)
                connection.sendall(reply.head())
                body = reply.body if reply.close_after is None else reply.body[: reply.close_after]
                if reply.drip_seconds:
                    for index in range(len(body)):
                        if self._stopped.wait(reply.drip_seconds):
                            return
                        connection.sendall(body[index : index + 1])
                else:
                    connection.sendall(body)
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                return  # the client gave up: nothing more to send


def _read_request(connection: socket.socket) -> RawRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    method, path, *_ = [*request_line.split(" "), "", ""]
    return RawRequest(method, path, headers, body)
