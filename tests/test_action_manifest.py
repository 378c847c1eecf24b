"""action.yml loads under the runner's own rules (tests/support/action_manifest.py reads it with the schema
the runner loads it with): a `${{ }}` only where a definition allows a context, naming only its values.

From the `needs` input's arrival (unreleased) until this test, its description held `${{ toJSON(needs) }}`:
every runner refused to load the action (act: "Line: 71 Column 18: expressions are not allowed here"), in
every layout, and every test passed, reading action.yml with PyYAML.
"""

from __future__ import annotations

import pytest

from tests.support.action_manifest import ManifestError, expression_errors, load_errors
from tests.support.actions_runner import ROOT

ACTION_YML = (ROOT / "action.yml").read_text(encoding="utf-8")


def with_line(after: str, line: str) -> str:
    """action.yml with `line` inserted after the first line that starts with `after`."""
    lines = ACTION_YML.splitlines()
    index = next(number for number, text in enumerate(lines) if text.startswith(after))
    return "\n".join([*lines[: index + 1], line, *lines[index + 1 :]]) + "\n"


def replaced(old: str, new: str) -> str:
    assert old in ACTION_YML, old
    return ACTION_YML.replace(old, new, 1)


def test_action_yml_loads_under_the_runners_rules() -> None:
    assert load_errors(ACTION_YML) == []


def test_the_needs_description_of_1_0_is_refused_as_the_runner_refused_it() -> None:
    lines = ACTION_YML.splitlines()
    number = next(index for index, text in enumerate(lines) if text.startswith("  needs:")) + 2
    before = replaced(lines[number - 1], "    description: 'For a notify job: pass `${{ toJSON(needs) }}`.'")

    assert [str(error) for error in load_errors(before)] == [
        f"Line: {number} Column 18: expressions are not allowed here"
    ]


DESCRIPTIONS = [
    number
    for number, text in enumerate(ACTION_YML.splitlines(), start=1)
    if text.startswith("    description:")
]


@pytest.mark.parametrize("number", DESCRIPTIONS)
def test_an_expression_in_any_description_is_refused(number: int) -> None:
    """Every input's and output's description: even a context their defaults may name is refused there."""
    lines = ACTION_YML.splitlines()
    lines[number - 1] = "    description: 'Defaults to ${{ github.token }}, see ${{ toJSON(needs) }}.'"

    assert [str(error) for error in load_errors("\n".join(lines))] == [
        f"Line: {number} Column 18: expressions are not allowed here"
    ]


def test_a_comment_is_not_read_as_an_expression() -> None:
    assert load_errors(ACTION_YML + "# pass ${{ toJSON(needs) }}\n") == []


STATUS_DEFAULT = "    default: ${{ job.status }}"
# action.yml has no runs.env (only with: decides, issue 28): the loader is tried on one added to it.
IMAGE = "  image: Dockerfile"
TITLE_ENV = IMAGE + "\n  env:\n    INCIDENT_IO_TITLE: "
NOT_HERE = "expressions are not allowed here"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("name: incident.io alert", "name: alert ${{ github.repository }}", NOT_HERE),
        (
            "    description: '`firing`, `resolved` or `skipped`.'",
            "    description: ${{ job.status }}",
            NOT_HERE,
        ),
        (IMAGE, "  image: ${{ inputs.image }}", NOT_HERE),
        (STATUS_DEFAULT, "    default: ${{ needs.test.result }}", "Unrecognized named-value: 'needs'"),
        (STATUS_DEFAULT, "    default: ${{ inputs.status }}", "Unrecognized named-value: 'inputs'"),
        (STATUS_DEFAULT, "    default: ${{ secrets.TOKEN }}", "Unrecognized named-value: 'secrets'"),
        (STATUS_DEFAULT, "    default: ${{ env.STATUS }}", "Unrecognized named-value: 'env'"),
        (STATUS_DEFAULT, "    default: ${{ always() }}", "Unrecognized function: 'always'"),
        (IMAGE, TITLE_ENV + "${{ github.workflow }}", "Unrecognized named-value: 'github'"),
        (STATUS_DEFAULT, "    default: ${{ job.status", "The expression is not closed"),
    ],
    ids=["name", "output", "image", "needs", "inputs", "secrets", "env", "always", "runs-env", "unclosed"],
)
def test_an_expression_naming_what_its_place_does_not_allow_is_refused(
    old: str, new: str, message: str
) -> None:
    errors = load_errors(replaced(old, new))

    assert len(errors) == 1 and errors[0].message.startswith(message), errors


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (STATUS_DEFAULT, "    default: ${{ hashFiles('**/requirements.txt') }}"),
        (STATUS_DEFAULT, "    default: ${{ format('{0}-{1}', runner.os, strategy.job-index) }}"),
        (STATUS_DEFAULT, "    default: \"${{ github.event_name == 'push' && 'a }}' || 'b' }}\""),
        (IMAGE, TITLE_ENV + "${{ inputs['title'] }}"),
        (IMAGE, TITLE_ENV + "x-${{ toJSON(inputs) }}"),
    ],
    ids=["hashFiles", "format", "string-with-braces", "index", "toJSON"],
)
def test_what_the_runner_allows_is_allowed(old: str, new: str) -> None:
    assert load_errors(replaced(old, new)) == []


def test_unknown_keys_and_wrong_kinds_are_reported_where_the_runner_reports_them() -> None:
    """Controls for the reader itself: it reads the schema's shapes, not only its contexts."""
    missing = "runs:\n  using: composite\n  steps:\n    - id: x\n"
    assert [error.message for error in load_errors(missing)] == [
        "Required property is missing: run",
        "Required property is missing: shell",
    ]
    assert load_errors("inputs: [a, b]\n") == [
        ManifestError(1, 9, "A sequence was not expected here (inputs)")
    ]


def test_expressions_are_read_past_string_literals() -> None:
    assert expression_errors("${{ 'needs }}' }}", frozenset({"github"})) == []
    assert expression_errors("${{ needs }}", frozenset({"github"})) == ["Unrecognized named-value: 'needs'"]
