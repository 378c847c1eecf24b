"""Settings: precedence, trimming, defaults in one place, and every problem reported at once."""

from __future__ import annotations

import pytest

from entrypoint.settings import (
    INPUTS,
    InvalidSettings,
    Settings,
    in_input_order,
    missing_required,
    parse_metadata,
    read_settings,
)

BASE = {
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "INPUT_API-TOKEN": "secret-token-0123456789",
    "INPUT_ALERT-SOURCE-CONFIG-ID": "01GW2G3V0S59R238FAHPDS1R66",
}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(InvalidSettings) as caught:
        read_settings({**BASE, **env})
    return [str(problem) for problem in caught.value.problems]


def test_defaults() -> None:
    settings = read_settings(BASE)
    assert settings.status == "auto"
    assert settings.api_url == "https://api.incident.io"
    assert settings.dry_run is False
    assert settings.fail_on_error == "auto"
    assert settings.on_cancelled == "timeout"  # issue 29: a job that hits its timeout-minutes pages
    assert settings.branches is None and settings.needs is None and settings.check_run_id is None
    assert settings.max_attempts == 5
    assert settings.timeout_seconds == 10
    assert settings.metadata == {}
    assert settings.matrix is None
    assert (
        settings.alert_events_url == "https://api.incident.io/v2/alert_events/http/01GW2G3V0S59R238FAHPDS1R66"
    )


def test_through_action_yml_only_the_inputs_decide_and_a_blank_one_is_its_default() -> None:
    """Issue 28: an INCIDENT_IO_* variable beside action.yml's INPUT_* comes from env: or an earlier step's
    $GITHUB_ENV, and never decides (it used to fill in a blank input)."""
    env = {"INPUT_TITLE": "  from input  ", "INCIDENT_IO_TITLE": "from env", "INPUT_STATUS": "  "}
    env["INCIDENT_IO_STATUS"] = "Resolved"
    settings = read_settings({**BASE, **env})
    assert settings.title == "from input"
    assert settings.status == "auto"


def test_env_alone_is_enough_outside_github_actions() -> None:
    env = {
        "INCIDENT_IO_API_TOKEN": "token-0123456789abcdef",
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": "abc_DEF-123",
        "INCIDENT_IO_TITLE": "Backup failed",
        "INCIDENT_IO_DEDUPLICATION_KEY": "backup",
    }
    settings = read_settings(env)
    assert settings.alert_source_config_id == "abc_DEF-123"


def test_every_input_has_both_variables() -> None:
    names = {spec.name for spec in INPUTS}
    assert {spec.field for spec in INPUTS} == set(Settings.model_fields)
    spec = next(spec for spec in INPUTS if spec.name == "api-token")
    assert (spec.input_variable, spec.env_variable) == ("INPUT_API-TOKEN", "INCIDENT_IO_API_TOKEN")
    assert "job-status" in names and "matrix" in names


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("INPUT_DRY-RUN", "TRUE", ("dry_run", True)),
        ("INPUT_DRY-RUN", "False", ("dry_run", False)),
        ("INPUT_FAIL-ON-ERROR", "false", ("fail_on_error", "false")),
        ("INPUT_FAIL-ON-ERROR", "True", ("fail_on_error", "true")),
        ("INPUT_FAIL-ON-ERROR", "AUTO", ("fail_on_error", "auto")),
        ("INPUT_ON-CANCELLED", "Fire", ("on_cancelled", "fire")),
        ("INPUT_CHECK-RUN-ID", "51725241954", ("check_run_id", 51725241954)),
        ("INPUT_BRANCHES", "main, release/*\n\n*:*", ("branches", ("main", "release/*", "*:*"))),
        (
            "INPUT_BRANCHES",
            "merge-queue/main,someone:fix-*",
            ("branches", ("merge-queue/main", "someone:fix-*")),
        ),
        (
            "INPUT_NEEDS",
            '{"build": {"result": "failure", "outputs": {"x": "1"}}, "lint": {"result": "success"}}',
            ("needs", {"build": "failure", "lint": "success"}),
        ),
        ("INPUT_NEEDS", "{}", ("needs", None)),
        ("INPUT_MAX-ATTEMPTS", "10", ("max_attempts", 10)),
        ("INPUT_MAX-ATTEMPTS", "1", ("max_attempts", 1)),
        ("INPUT_TIMEOUT-SECONDS", "2.5", ("timeout_seconds", 2.5)),
        ("INPUT_TIMEOUT-SECONDS", "120", ("timeout_seconds", 120)),
        ("INPUT_API-URL", "http://127.0.0.1:8080/", ("api_url", "http://127.0.0.1:8080")),
        ("INPUT_API-URL", "http://localhost:1", ("api_url", "http://localhost:1")),
        ("INPUT_API-URL", "http://[::1]:1", ("api_url", "http://[::1]:1")),
        (
            "INPUT_API-URL",
            "https://proxy.example.com/incident",
            ("api_url", "https://proxy.example.com/incident"),
        ),
        ("INPUT_JOB-STATUS", "Failure", ("job_status", "failure")),
        ("INPUT_MATRIX", "null", ("matrix", None)),
        ("INPUT_MATRIX", '{"os": "ubuntu"}', ("matrix", {"os": "ubuntu"})),
        ("INPUT_METADATA", '{"team": ["a"], "n": 1}', ("metadata", {"team": ["a"], "n": 1})),
        (
            "INPUT_METADATA",
            "team = payments\n\n# note\nservice=api=v2",
            ("metadata", {"team": "payments", "service": "api=v2"}),
        ),
        (
            "INPUT_ALERT-SOURCE-CONFIG-ID",
            "https://api.incident.io/v2/alert_events/http/01GW2G3V0S59R238FAHPDS1R66/",
            ("alert_source_config_id", "01GW2G3V0S59R238FAHPDS1R66"),
        ),
    ],
)
def test_accepted_values(variable: str, value: str, expected: tuple[str, object]) -> None:
    settings = read_settings({**BASE, variable: value})
    field, wanted = expected
    assert getattr(settings, field) == wanted


@pytest.mark.parametrize(
    ("variable", "value", "named", "allowed"),
    [
        ("INPUT_STATUS", "fire", "status", "auto, firing or resolved"),
        ("INPUT_JOB-STATUS", "neutral", "job-status", "success, failure, cancelled or skipped"),
        ("INPUT_DRY-RUN", "yes", "dry-run", "true or false"),
        ("INPUT_FAIL-ON-ERROR", "0", "fail-on-error", "auto, true or false"),
        ("INPUT_ON-CANCELLED", "resolve", "on-cancelled", "skip or fire"),
        ("INPUT_CHECK-RUN-ID", "5.1E+10", "check-run-id", "${{ job.check_run_id }}"),
        ("INPUT_CHECK-RUN-ID", "0", "check-run-id", "whole number"),
        ("INPUT_BRANCHES", ",", "branches", "branch patterns such as main"),
        ("INPUT_BRANCHES", "main feature", "branches", "has a space"),
        ("INPUT_BRANCHES", "!main", "branches", "cannot be negated"),
        ("INPUT_BRANCHES", "a:b:c", "branches", "is not owner:branch"),
        ("INPUT_BRANCHES", ":main", "branches", "is not owner:branch"),
        ("INPUT_NEEDS", "build", "needs", "${{ toJSON(needs) }}"),
        ("INPUT_NEEDS", '["build"]', "needs", "not an object"),
        ("INPUT_NEEDS", '{"build": {"result": "maybe"}}', "needs", "job 'build' has no such result"),
        ("INPUT_NEEDS", '{"build": "failure"}', "needs", "job 'build' has no such result"),
        ("INPUT_MAX-ATTEMPTS", "0", "max-attempts", "from 1 to 10"),
        ("INPUT_MAX-ATTEMPTS", "2.5", "max-attempts", "from 1 to 10"),
        ("INPUT_MAX-ATTEMPTS", "11", "max-attempts", "from 1 to 10"),
        ("INPUT_TIMEOUT-SECONDS", "0.5", "timeout-seconds", "from 1 to 120"),
        ("INPUT_TIMEOUT-SECONDS", "nan", "timeout-seconds", "from 1 to 120"),
        ("INPUT_TIMEOUT-SECONDS", "121", "timeout-seconds", "from 1 to 120"),
        ("INPUT_API-URL", "http://api.incident.io", "api-url", "http only for a loopback host"),
        ("INPUT_API-URL", "https://api.incident.io?x=1", "api-url", "no query"),
        ("INPUT_API-URL", "https://api.incident.io/#frag", "api-url", "no query, fragment"),
        ("INPUT_API-URL", "https://user:pw@api.incident.io", "api-url", "credentials"),
        ("INPUT_API-URL", "ftp://api.incident.io", "api-url", "https URL"),
        ("INPUT_API-URL", "api.incident.io", "api-url", "https URL"),
        ("INPUT_SOURCE-URL", "javascript:alert(1)", "source-url", "http(s) URL"),
        ("INPUT_METADATA", "[1, 2]", "metadata", "JSON object or key=value lines"),
        ("INPUT_METADATA", "{bad json", "metadata", "JSON object or key=value lines"),
        ("INPUT_METADATA", "team: payments", "metadata", "JSON object or key=value lines"),
        ("INPUT_METADATA", "=value", "metadata", "JSON object or key=value lines"),
        ("INPUT_MATRIX", "[1]", "matrix", "JSON object"),
        ("INPUT_ALERT-SOURCE-CONFIG-ID", "../admin", "alert-source-config-id", "letters, digits"),
        ("INPUT_ALERT-SOURCE-CONFIG-ID", "01GW 2G3V", "alert-source-config-id", "letters, digits"),
        (
            "INPUT_ALERT-SOURCE-CONFIG-ID",
            "https://example.com/x",
            "alert-source-config-id",
            "alert events URL",
        ),
        ("INPUT_API-TOKEN", "two words", "api-token", "no spaces"),
    ],
)
def test_refused_values_name_the_input_and_what_is_allowed(
    variable: str, value: str, named: str, allowed: str
) -> None:
    (message,) = problems({variable: value})
    assert message.startswith(f"Input '{named}' (INCIDENT_IO_")
    assert allowed in message


def test_all_problems_at_once_in_input_order() -> None:
    # As the action reports them where an alert would be sent: invalid inputs, then the missing ones.
    with pytest.raises(InvalidSettings) as caught:
        read_settings({**BASE, "INPUT_TIMEOUT-SECONDS": "x", "INPUT_STATUS": "x", "INPUT_API-TOKEN": " "})
    found = caught.value.problems
    found = in_input_order(found + missing_required(caught.value.partial, reported=found))
    assert [problem.input.name for problem in found] == ["api-token", "status", "timeout-seconds"]


def test_invalid_inputs_leave_the_valid_ones_and_are_not_also_missing() -> None:
    with pytest.raises(InvalidSettings) as caught:
        read_settings({**BASE, "INPUT_ALERT-SOURCE-CONFIG-ID": "../x", "INPUT_BRANCHES": "release/*"})
    partial = caught.value.partial
    assert partial.branches == ("release/*",)  # still decides whether the run is in scope
    assert partial.alert_source_config_id is None
    assert missing_required(partial, reported=caught.value.problems) == []


def test_the_required_inputs_are_missing_only_where_unset() -> None:
    settings = read_settings({"GITHUB_REPOSITORY": "octo-org/octo-repo"})
    assert [problem.input.name for problem in missing_required(settings)] == [
        "api-token",
        "alert-source-config-id",
    ]
    assert missing_required(read_settings(BASE)) == []


def test_token_value_never_in_a_problem() -> None:
    token = "sekret value with spaces"
    found = problems({"INPUT_API-TOKEN": token})
    assert all("sekret" not in message for message in found)


def test_outside_github_actions_title_and_key_are_required() -> None:
    env = {key: value for key, value in BASE.items() if key != "GITHUB_REPOSITORY"}
    with pytest.raises(InvalidSettings) as caught:
        read_settings(env)
    assert [problem.input.name for problem in caught.value.problems] == ["title", "deduplication-key"]


def test_metadata_lines_report_the_line_numbers() -> None:
    with pytest.raises(ValueError, match="lines 2 and 4 have no key=value"):
        parse_metadata("a=1\nnope\nb=2\nalso nope")
    with pytest.raises(ValueError, match="line 3 has no key=value"):
        parse_metadata("a=1\nb=2\nnope")
