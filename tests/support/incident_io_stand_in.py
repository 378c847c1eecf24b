"""A local stand-in for incident.io's alert events endpoint and heartbeat ping, on 127.0.0.1 only.

It answers like incident.io (202 with the documented body for an alert event, 204 with none for a ping;
incident.io's ErrorResponse bodies for 401 and 404), records every request, and can be scripted per
request: status, headers, body, delay, or dropping the connection without an answer. Each source has its
own token, as on incident.io: the HTTP source's token does not ping the heartbeat. Used by the tests and
by `make demo`.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.http_stand_in import HttpStandIn, Received, Reply

__all__ = ["IncidentIoStandIn", "Received", "Reply", "error_body"]

PATH_PATTERN = re.compile(r"^/v2/alert_events/http/([A-Za-z0-9_-]+)$")
PING_PATTERN = re.compile(r"^/v2/heartbeat/([A-Za-z0-9_-]+)/ping(\?.*)?$")
HEARTBEAT_TOKEN = "heartbeat-token-0123456789"
HEARTBEAT_ID = "01HB7HEARTBEAT0SOURCE0ID00"


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


class IncidentIoStandIn(HttpStandIn):
    def __init__(
        self,
        token: str | None = "test-token",
        source_id: str | None = None,
        heartbeat_token: str = HEARTBEAT_TOKEN,
        heartbeat_id: str = HEARTBEAT_ID,
    ) -> None:
        super().__init__()
        self.token = token
        self.source_id = source_id
        self.heartbeat_token = heartbeat_token
        self.heartbeat_id = heartbeat_id
        self._limit: tuple[int, float] | None = None  # (events, window seconds)
        self._window_start: float | None = None
        self._window_count = 0
        self.accepted = 0

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
        """The alert events' bodies, in the order they came."""
        return [request.json() for request in self.received if PATH_PATTERN.match(request.path)]

    def pings(self) -> list[Received]:
        return [request for request in self.received if PING_PATTERN.match(request.path)]

    def _unscripted(self, request: Received) -> Reply | None:
        return self._rate_limited(request.at)

    def answer(self, request: Received) -> Reply:
        if ping := PING_PATTERN.match(request.path):
            return self._ping(request, ping.group(1))
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

    def _ping(self, request: Received, source_id: str) -> Reply:
        if source_id != self.heartbeat_id:
            return Reply(404, error_body(404, "not_found", "The requested resource could not be found"))
        if request.headers.get("authorization") != f"Bearer {self.heartbeat_token}":
            return Reply(
                401,
                error_body(401, "authentication_error", "Invalid token provided", "invalid_authorization"),
            )
        return Reply(204)
