"""Properties over arbitrary text: parsing never crashes, and everything written round-trips through the
runner's own formats."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoint.runner import Runner
from entrypoint.settings import INPUTS, InvalidSettings, Settings, parse_metadata, read_settings
from tests.support.actions_runner import parse_output_file, read_raw, workflow_commands

text = st.text(st.characters(codec="utf-8"), max_size=200)
output_names = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)


@given(text)
def test_metadata_parses_to_an_object_or_a_clear_error(value: str) -> None:
    try:
        parsed = parse_metadata(value.strip())
    except ValueError as exc:
        assert "must be a JSON object or key=value lines" in str(exc)
    else:
        assert isinstance(parsed, dict)


@given(st.dictionaries(st.sampled_from([spec.input_variable for spec in INPUTS]), text))
@settings(max_examples=300)
def test_any_inputs_give_settings_or_named_problems(inputs: dict[str, str]) -> None:
    environ = {"GITHUB_REPOSITORY": "o/r", **inputs}
    try:
        assert isinstance(read_settings(environ), Settings)
    except InvalidSettings as exc:
        assert exc.problems
        for problem in exc.problems:
            assert str(problem).startswith(f"Input '{problem.input.name}' (INCIDENT_IO_")
        # The token is never echoed: what is said about it depends on its shape alone (length, spaces,
        # a Bearer prefix), never on its characters. (Other inputs' echoes are redacted by Runner.)
        token = inputs.get("INPUT_API-TOKEN", "")
        if token.strip():
            shaped = {**environ, "INPUT_API-TOKEN": shape(token)}
            assert token_problems(environ) == token_problems(shaped)


def shape(token: str) -> str:
    """The token with every character but spaces replaced, its `Bearer ` prefix kept."""
    kept = len("bearer ") if token.strip().lower().startswith("bearer ") else 0
    start = len(token) - len(token.lstrip()) + kept
    return token[:start] + "".join(char if char.isspace() else "x" for char in token[start:])


def token_problems(environ: dict[str, str]) -> list[str]:
    try:
        read_settings(environ)
    except InvalidSettings as exc:
        return [str(problem) for problem in exc.problems if problem.input.name == "api-token"]
    return []


@given(st.dictionaries(output_names, text, min_size=1, max_size=5))
@settings(max_examples=200)
def test_outputs_round_trip_through_the_runner(outputs: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "output"
        path.write_text("")
        Runner({"GITHUB_OUTPUT": str(path)}, stream=io.StringIO()).set_outputs(outputs)
        assert parse_output_file(read_raw(path)) == outputs


@given(text, text)
def test_an_annotation_is_exactly_one_command_carrying_the_text(message: str, title: str) -> None:
    stream = io.StringIO()
    Runner({"GITHUB_ACTIONS": "true"}, stream=stream).error(message, title=title or None)
    (command,) = workflow_commands(stream.getvalue())
    assert command.name == "error"
    assert command.data == message
    assert command.properties == ({"title": title} if title else {})


@given(text)
def test_untrusted_text_never_becomes_a_command(value: str) -> None:
    stream = io.StringIO()
    Runner({"GITHUB_ACTIONS": "true"}, stream=stream).untrusted(value)
    assert workflow_commands(stream.getvalue()) == []
