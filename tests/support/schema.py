"""The request body schema from incident.io's published OpenAPI document (a copy of ../shared's)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from tests.support.actions_runner import DATA_DIR

OPENAPI = DATA_DIR / "incident-io" / "alert-events-v2-openapi.json"


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
