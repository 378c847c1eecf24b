"""Hostile input: a stranger's pull request, a crafted commit, an API answer that tries to speak to the
runner. Nothing of it may act as a workflow command or an output, and the token never shows."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SOURCE_ID, TOKEN
from tests.support.actions_runner import (
    ACTION,
    JOB_TOKEN,
    RUNTIME_TOKEN,
    StepFiles,
    StepResult,
    default_github_env,
    run_step,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn, Reply, error_body

OUTPUT_NAMES = set(ACTION["outputs"])  # every output action.yml declares, on every path
OWN_COMMANDS = {"add-mask", "group", "endgroup", "debug"}
ATTACKS = [
    "::error::injected error",
    "::add-mask::injected",
    "::set-output name=sent::true",
    "::stop-commands::zzz",
    "##[warning]legacy injected",
    "##[set-output name=status;]firing",
    "%0A::error::encoded",
    "  ::notice::leading spaces",
    "sent<<EOF",
    "ghadelimiter_00000000-0000-0000-0000-000000000000",
    "EOF",
    "status=resolved",
]
HOSTILE = "\n".join(ATTACKS)


def assert_only_own_commands(result: StepResult, *allowed: str) -> None:
    assert result.own_commands() <= OWN_COMMANDS | set(allowed), result.commands
    assert [command.data for command in result.commands if command.name == "add-mask"] == [TOKEN, JOB_TOKEN]


def test_pull_request_text_and_api_answer_are_only_data(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    event = {
        "number": 7,
        "pull_request": {"number": 7, "title": HOSTILE, "head": {"ref": "feature"}},
        "head_commit": {"id": default_github_env()["GITHUB_SHA"], "message": HOSTILE},
    }
    github = default_github_env(GITHUB_EVENT_NAME="pull_request", GITHUB_HEAD_REF="feature")
    stand_in.script(
        Reply(503, {"type": "api_error", "errors": [{"message": HOSTILE}]}),
        Reply(202, {"deduplication_key": HOSTILE, "message": HOSTILE, "status": HOSTILE}),
    )
    result = run_step(
        files,
        {**with_, "description": HOSTILE, "metadata": json.dumps({"x": HOSTILE})},
        event=event,
        github_env=github,
    )

    assert result.returncode == 0, result.log
    assert_only_own_commands(result)
    assert set(result.outputs) == OUTPUT_NAMES
    assert result.outputs["sent"] == "true"
    assert result.outputs["deduplication-key"] == HOSTILE  # incident.io's answer, as data
    body = stand_in.bodies()[-1]
    assert body["description"] == HOSTILE
    assert json.loads(result.outputs["payload"]) == body
    for attack in ATTACKS:
        assert attack in result.stdout  # shown, inside stop-commands


def test_a_failure_quoting_hostile_text_makes_one_annotation(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    stand_in.script(Reply(422, error_body(422, "validation_error", HOSTILE)))
    result = run_step(files, {**with_, "title": HOSTILE})

    assert result.returncode == 1
    assert_only_own_commands(result, "error", "notice")
    (error,) = result.annotations("error")
    assert HOSTILE in error.data
    (cut,) = result.annotations("notice")  # a title is one line: the first of the hostile text is sent
    assert cut.data.startswith(f"The title input has {len(ATTACKS)} lines")
    assert stand_in.bodies()[0]["title"] == ATTACKS[0]
    assert set(result.outputs) == OUTPUT_NAMES
    assert result.outputs["error"] == error.data


def test_hostile_invalid_inputs_make_one_annotation_each(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    result = run_step(files, {**with_, "status": HOSTILE, "api-url": HOSTILE})

    assert result.returncode == 2
    assert_only_own_commands(result, "error")
    assert len(result.annotations("error")) == 2
    assert set(result.outputs) == OUTPUT_NAMES


def all_text(result: StepResult) -> str:
    return "\n".join(
        (result.stdout.replace(f"::add-mask::{TOKEN}", ""), result.stderr, result.output_file, result.summary)
    )


@pytest.mark.parametrize(
    ("name", "inputs", "replies"),
    [
        ("bad input", {"status": "nope", "max-attempts": "0"}, []),
        ("401", {"api-token": "wrong-" + TOKEN}, []),
        ("timeouts", {"timeout-seconds": "1", "max-attempts": "2"}, [Reply(delay=5), Reply(delay=5)]),
        ("500s", {"max-attempts": "2"}, [Reply(500, {"echo": TOKEN}), Reply(500, {"echo": TOKEN})]),
        ("dry run", {"dry-run": "true"}, []),
    ],
)
@pytest.mark.parametrize("debug", ["1", ""])
def test_the_token_never_shows(
    stand_in: IncidentIoStandIn,
    files: StepFiles,
    with_: dict[str, str],
    name: str,
    inputs: dict[str, str],
    replies: list[Reply],
    debug: str,
) -> None:
    stand_in.script(*replies)
    result = run_step(files, {**with_, **inputs}, github_env=default_github_env(RUNNER_DEBUG=debug))

    token = inputs.get("api-token", TOKEN)
    assert result.stdout.splitlines()[0] == f"::add-mask::{token}", name
    text = all_text(result).replace(f"::add-mask::{token}", "")
    assert token not in text, name
    assert RUNTIME_TOKEN not in text
    for request in stand_in.received:
        assert token not in request.path
        assert token not in request.body.decode()


def test_the_token_is_never_sent_to_another_host(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str]
) -> None:
    with IncidentIoStandIn(token=None) as elsewhere:
        target = f"{elsewhere.url}/v2/alert_events/http/{SOURCE_ID}"
        stand_in.script(*[Reply(307, headers={"Location": target})] * 2)
        result = run_step(files, with_)

    assert result.returncode == 1
    assert elsewhere.received == []
    assert "redirect" in result.annotations("error")[0].data
