"""The request body schema from incident.io's published OpenAPI document (a copy of ../shared's)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

from tests.support.actions_runner import DATA_DIR
from tests.support.http_stand_in import Received

OPENAPI = DATA_DIR / "incident-io" / "alert-events-v2-openapi.json"
HEARTBEAT_OPENAPI = DATA_DIR / "incident-io" / "heartbeat-v2-openapi.json"


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return document


def payload_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _document()["components"]["schemas"]["AlertEventsCreateHTTPPayloadV2"]
    return schema


def assert_valid_body(body: Any) -> None:
    """Valid against the schema, and holding only the schema's fields."""
    schema = payload_schema()
    jsonschema.Draft4Validator(schema).validate(body)
    assert set(body) <= set(schema["properties"]), set(body) - set(schema["properties"])
    for name in ("title", "status", "deduplication_key"):
        assert isinstance(body[name], str) and body[name].strip(), name


def assert_valid_ping(request: Received) -> None:
    """A heartbeat ping as incident.io's published `Heartbeat V2#Ping` takes it: a method it lists, its
    path, the token in the Authorization header only (never in the URL), and no body."""
    paths = json.loads(HEARTBEAT_OPENAPI.read_text(encoding="utf-8"))["paths"]
    ((template, operations),) = paths.items()
    pattern = re.escape(template).replace(re.escape("{alert_source_config_id}"), "[A-Za-z0-9_-]+")
    parts = urlsplit(request.path)
    assert request.method.lower() in operations
    assert re.fullmatch(pattern, parts.path), parts.path
    assert "token" not in parse_qs(parts.query)
    assert request.headers.get("authorization", "").startswith("Bearer ")
    assert request.body == b""
    assert "204" in operations[request.method.lower()]["responses"]
