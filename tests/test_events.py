"""Every real webhook payload in ../shared/github-events gives a valid request or a deliberate skip."""

from __future__ import annotations

import pytest

from entrypoint.alert import Alert, Skip, build_alert
from entrypoint.settings import read_settings
from entrypoint.workflow_run import read_workflow_run
from tests.support.actions_runner import EVENTS_DIR, default_github_env
from tests.support.schema import assert_valid_body

EVENT_FILES = sorted(path.relative_to(EVENTS_DIR).as_posix() for path in EVENTS_DIR.glob("*/*.json"))

# Watched runs that have not finished, or ended in a way that neither fires nor resolves.
SKIPPED = {
    "check_run/created.payload.json": "has not completed",  # queued
    "check_run/requested_action.payload.json": "has not completed",  # in_progress
    "check_run/rerequested.payload.json": "ended neutral",
    "check_suite/requested.payload.json": "has not completed",  # queued
    "deployment_status/gh-pages.payload.json": "has not completed",  # in_progress
    "workflow_run/requested.payload.json": "has not completed",
    "workflow_run/requested.with-conclusion.payload.json": "ended action_required",
}


def test_all_42_payloads_are_covered() -> None:
    assert len(EVENT_FILES) == 42


@pytest.mark.parametrize("event_file", EVENT_FILES)
def test_event_gives_a_valid_request_or_an_explained_skip(event_file: str) -> None:
    event_name = event_file.split("/", maxsplit=1)[0]
    environ = {
        **default_github_env(GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(EVENTS_DIR / event_file)),
        "INPUT_API-TOKEN": "t",
        "INPUT_ALERT-SOURCE-CONFIG-ID": "01GW2G3V0S59R238FAHPDS1R66",
        "INPUT_JOB-STATUS": "failure",
    }
    reading = read_workflow_run(environ)
    assert reading.warnings == []
    built = build_alert(read_settings(environ), reading.run)
    if event_file in SKIPPED:
        assert isinstance(built, Skip)
        assert SKIPPED[event_file] in built.reason
        return
    assert isinstance(built, Alert), built
    body = built.body()
    assert_valid_body(body)
    assert body["source_url"].startswith("https://")
    assert "\n" not in body["title"]
    assert body["metadata"]["repository"]
