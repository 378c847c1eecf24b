"""Speaking to the runner: outputs round-trip through the runner's parser; commands are escaped."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from entrypoint.runner import Runner, escape_data, escape_property
from tests.support.actions_runner import parse_output_file, read_raw, workflow_commands

NASTY = [
    "",
    "plain",
    "two\nlines",
    "trailing newline\n",
    "\n\nleading blank lines",
    "ghadelimiter_00000000-0000-0000-0000-000000000000",
    "out<<EOF\nEOF\nsent=true",
    "%0A %25 \r\n windows",
    "::error::x\n##[set-output name=a;]b",
]


@pytest.mark.parametrize("value", NASTY)
def test_outputs_round_trip_through_the_runner_parser(tmp_path: Path, value: str) -> None:
    output = tmp_path / "out"
    output.write_text("")
    runner = Runner({"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)}, stream=io.StringIO())
    runner.set_outputs({"first": value, "second": "after"})
    assert parse_output_file(read_raw(output)) == {"first": value, "second": "after"}


@pytest.mark.parametrize("message", NASTY)
def test_annotations_are_one_command_that_carries_the_text(message: str) -> None:
    stream = io.StringIO()
    runner = Runner({"GITHUB_ACTIONS": "true"}, stream=stream)
    runner.error(message, title="a: title, with commas")
    (command,) = workflow_commands(stream.getvalue())
    assert command.name == "error"
    assert command.data == message
    assert command.properties == {"title": "a: title, with commas"}


def test_untrusted_text_is_fenced_by_stop_commands() -> None:
    stream = io.StringIO()
    runner = Runner({"GITHUB_ACTIONS": "true"}, stream=stream)
    runner.untrusted("::error::a\n::add-mask::b\n  ::warning::c\n##[error]d")
    runner.untrusted("::notice::second block")
    assert workflow_commands(stream.getvalue()) == []
    tokens = [line for line in stream.getvalue().splitlines() if line.startswith("::stop-commands::")]
    assert len(set(tokens)) == 2  # a fresh token each time


def test_outside_github_actions_no_commands_and_no_mask_line() -> None:
    stream = io.StringIO()
    runner = Runner({}, stream=stream)
    runner.add_mask("secret")
    runner.error("bad", title="T")
    runner.debug("hidden")
    assert stream.getvalue() == "Error: T: bad\n"


def test_escaping_matches_the_toolkit() -> None:
    assert escape_data("a%b\r\nc") == "a%25b%0D%0Ac"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary"
    summary.write_text("earlier step\n")
    Runner({"GITHUB_STEP_SUMMARY": str(summary)}, stream=io.StringIO()).append_summary("### ours")
    assert summary.read_text() == "earlier step\n### ours\n"


def test_secrets_are_redacted_from_everything_written(tmp_path: Path) -> None:
    output, summary, stream = tmp_path / "out", tmp_path / "summary", io.StringIO()
    output.write_text("")
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    runner = Runner(environ, stream=stream)
    runner.add_mask("tok")
    runner.add_mask("longer-tok")
    runner.info("echo: longer-tok and tok")
    runner.untrusted("tok")
    runner.set_outputs({"response": '{"echo": "tok"}'})
    runner.append_summary("tok")
    log = stream.getvalue()
    assert log.splitlines()[:2] == ["::add-mask::tok", "::add-mask::longer-tok"]
    assert "tok" not in "\n".join(log.splitlines()[2:]).replace("::stop-commands::", "")
    assert "echo: *** and ***" in log
    assert parse_output_file(read_raw(output)) == {"response": '{"echo": "***"}'}
    assert summary.read_text() == "***\n"


class Writes(io.StringIO):
    """A stream that remembers each write, and yields the thread between writes as a pipe would."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        time.sleep(0)
        return super().write(text)


def test_each_line_reaches_the_runner_in_one_write_with_its_newline() -> None:
    """`print` writes the text and the newline apart: two threads printing at once make one merged line."""
    stream = Writes()
    runner = Runner({"GITHUB_ACTIONS": "true", "ACTIONS_RUNTIME_TOKEN": "x" * 20}, stream=stream)
    runner.add_mask("secret-value-0123456789")
    runner.debug("GET https://api.github.com/x {}")
    runner.info("Alert status: firing.")
    runner.warning("two\nlines", title="t")
    with runner.group("body"):
        runner.untrusted("::error::a\nb")

    assert stream.writes and all(write.endswith("\n") for write in stream.writes)
    assert all(write.count("\n") == 1 for write in stream.writes if not write.startswith("::error::a"))


def test_lines_from_threads_printing_at_once_never_merge() -> None:
    """As the GitHub API threads log their requests side by side (act showed `::debug::GET
    .../jobs {...}::debug::GET .../runs/1 {}` as one line before): every command reaches the runner whole,
    and no thread's line lands inside another's stop-commands block."""
    read_end, write_end = os.pipe()
    stream = open(write_end, "w", encoding="utf-8", buffering=1, closefd=True)  # noqa: SIM115
    runner = Runner({"GITHUB_ACTIONS": "true"}, stream=stream)
    start = threading.Barrier(8)

    def log(thread: int) -> None:
        start.wait()
        for line in range(200):
            if line % 50 == 0:
                runner.untrusted(f"block {thread}.{line}\n::error::inside")
            runner.debug(f"GET {thread}.{line}")

    with open(read_end, encoding="utf-8") as reading:
        threads = [threading.Thread(target=log, args=(number,)) for number in range(8)]
        collected: list[str] = []
        reader = threading.Thread(target=lambda: collected.append(reading.read()))
        reader.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stream.close()
        reader.join()

    commands = workflow_commands(collected[0])
    debug = sorted(command.data for command in commands if command.name == "debug")
    assert debug == sorted(f"GET {thread}.{line}" for thread in range(8) for line in range(200))
    assert {command.name for command in commands} == {"debug"}  # every ::error:: stayed inside its block
