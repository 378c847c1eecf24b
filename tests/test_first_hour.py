"""The first hour: the mistakes a new user makes are loud, a dry run needs no secrets, and every message
says what to do. Each test runs the action as a process, against incident.io's and GitHub's stand-ins."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from entrypoint import messages
from tests.conftest import SOURCE_ID, TOKEN
from tests.support import layouts
from tests.support.actions_runner import (
    ENTRYPOINT,
    ROOT,
    THIS_PUSH,
    StepFiles,
    StepResult,
    default_github_env,
    step_result,
    write_event,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.steps import Steps, notice

NO_SECRETS = {"api-token": "", "alert-source-config-id": ""}


def errors(result: StepResult) -> list[str]:
    return [error.data for error in result.annotations("error")]


def skipped_loudly(result: StepResult, stand_in: IncidentIoStandIn) -> str:
    """Nothing was sent and the step passed, but a warning (not a mere notice) says why."""
    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert result.outputs["status"] == "skipped"
    assert result.annotations("notice") == []
    (warning,) = result.warnings_besides_github_api()
    return warning.data


# -- 1. a typo in branches must not silence the default branch -----------------------------------------------


@pytest.mark.parametrize("branches", ["mian", "Main", "mainn", "mian, release/*"])
def test_a_misspelt_default_branch_is_a_warning(
    steps: Steps, stand_in: IncidentIoStandIn, branches: str
) -> None:
    result = steps.run(layouts.push("main"), "failure", branches=branches)

    warning = skipped_loudly(result, stand_in)
    pattern = branches.split(",", maxsplit=1)[0]
    assert (
        f"branches names '{pattern}', which looks like a misspelling of the default branch, main" in warning
    )
    assert "its failures page nobody. Write main if that is what you meant." in warning


def test_a_misspelt_default_branch_is_a_warning_on_other_branches_runs_too(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """The run on release/1.x alerts, and says that main never will."""
    result = steps.run(layouts.push("release/1.x"), "failure", branches="mian, release/*")

    assert result.returncode == 0, result.log
    assert [body["status"] for body in stand_in.bodies()] == ["firing"]
    (warning,) = result.warnings_besides_github_api()
    assert "which looks like a misspelling of the default branch, main" in warning.data


def test_a_deliberate_scope_without_the_default_branch_stays_a_notice(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    result = steps.run(layouts.push("main"), "failure", branches="release/*")

    assert result.returncode == 0
    assert stand_in.received == []
    assert "This run is on main, which branches (release/*) does not include" in notice(result)
    assert result.warnings_besides_github_api() == []


@pytest.mark.parametrize("branches", ["refs/heads/main", "[main, release/*]", "['main', \"release/*\"]"])
def test_branches_written_as_on_push_branches_are_read_the_same(
    steps: Steps, stand_in: IncidentIoStandIn, branches: str
) -> None:
    on_main = steps.run(layouts.push("main"), "failure", branches=branches)
    on_release = steps.run(layouts.push("release/1.x"), "failure", branches=branches)

    assert on_main.returncode == on_release.returncode == 0, on_main.log + on_release.log
    expected = 1 if branches == "refs/heads/main" else 2
    assert [body["status"] for body in stand_in.bodies()] == ["firing"] * expected


def test_a_tag_pattern_is_refused_naming_branches(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push("main"), "failure", branches="main, refs/tags/v*")

    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = errors(result)
    assert error.startswith("Input 'branches' (INCIDENT_IO_BRANCHES) must be comma- or newline-separated")
    assert "'refs/tags/v*' names tags, and tag runs are always in scope: leave it out" in error


# -- 2. a dry run needs no secrets ---------------------------------------------------------------------------


def test_a_dry_run_needs_no_secrets(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push("main"), "failure", **{"dry-run": "true"}, **NO_SECRETS)

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert result.outputs["status"] == "firing"
    assert result.outputs["sent"] == "false"
    assert json.loads(result.outputs["payload"])["title"] == "CI / test failed on main in octo-org/octo-repo"
    assert errors(result) == []
    (dry_run,) = result.annotations("notice")
    assert dry_run.data == "The alert was built and validated, and not sent: dry-run is true."
    assert dry_run.properties["title"] == "incident.io alert: dry run"  # not "dry run: Dry run:"


def test_a_local_run_of_act_is_a_dry_run_unless_told_otherwise(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """nektos/act (ACT=true) runs workflows locally, often with the real secrets: a failing local run of main
    must not page anyone. `dry-run: false` sends. (tests/test_real_runner.py runs it under act itself.)"""
    local = layouts.push("main", ACT="true")

    dry = steps.run(local, "failure")
    assert stand_in.received == []
    assert (dry.returncode, dry.outputs["status"], dry.outputs["sent"]) == (0, "firing", "false")
    (notice_,) = dry.annotations("notice")
    assert notice_.data == dry.outputs["message"] == messages.DRY_RUN_UNDER_ACT
    assert "set dry-run: false" in notice_.data

    sent = steps.run(local, "failure", **{"dry-run": "false"})
    assert sent.outputs["sent"] == "true"
    assert len(stand_in.bodies()) == 1


def test_under_act_the_github_token_advice_is_what_applies_there(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    """Under act `${{ github.token }}` is empty unless act is given one, and GitHub's API knows nothing of a
    local run: "leave github-token at its default" would not help."""
    local = steps.run(layouts.push("main", ACT="true"), "failure", **{"github-token": "", "dry-run": "false"})
    on_github = steps.run(layouts.push("main"), "failure", **{"github-token": ""})

    (under_act,) = local.github_api_warnings()
    assert under_act.endswith(messages.GITHUB_FIX_UNDER_ACT)
    assert "Leave github-token at its default" not in under_act
    (there,) = on_github.github_api_warnings()
    assert there.endswith(messages.GITHUB_FIX_UNAUTHORIZED)


# -- 3. a placeholder token ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", ["false", "true"])
@pytest.mark.parametrize("token", ["test", "main", "0123456789abcde"])
def test_a_placeholder_token_is_refused_in_every_mode(
    steps: Steps, stand_in: IncidentIoStandIn, token: str, dry_run: str
) -> None:
    result = steps.run(layouts.push("main"), "failure", **{"api-token": token, "dry-run": dry_run})

    assert result.returncode == 2
    assert stand_in.received == []
    (error,) = errors(result)
    assert error.startswith(
        "Input 'api-token' (INCIDENT_IO_API_TOKEN) must be the alert source's secret token"
    )
    assert f"this one has {len(token)} characters, so it looks like a placeholder" in error
    assert "leave api-token out and set dry-run" in error


def test_a_token_pasted_with_its_bearer_prefix_is_told_to_drop_it(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    result = steps.run(layouts.push("main"), "failure", **{"api-token": f"Bearer {TOKEN}"})

    assert result.returncode == 2
    (error,) = errors(result)
    assert "drop the 'Bearer ' prefix, which the action adds" in error
    # The token itself is masked, prefix or not (issue 28: each word of a token's length, no shorter one).
    assert result.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"
    assert TOKEN not in result.log.replace(f"::add-mask::{TOKEN}", "")


# -- 4. a misspelt dry run never sends -----------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["INCIDENT_IO_DRYRUN", "INCIDENT_IO_DRY-RUN", "incident_io_dry_run"])
def test_a_misspelt_dry_run_fails_before_anything_is_sent(
    stand_in: IncidentIoStandIn, variable: str, tmp_path: Path
) -> None:
    result = run_without_action_yml(StepFiles(tmp_path / "step"), docker_env(stand_in, **{variable: "true"}))

    assert result.returncode == 2, result.log
    assert stand_in.received == []
    (error,) = errors(result)
    assert error.startswith(f"Input 'dry-run' (INCIDENT_IO_DRY_RUN) is misspelt as {variable}")
    assert "Name the variable INCIDENT_IO_DRY_RUN" in error


def test_other_misspellings_stay_warnings(stand_in: IncidentIoStandIn, tmp_path: Path) -> None:
    result = run_without_action_yml(StepFiles(tmp_path / "step"), docker_env(stand_in, INCIDENT_IO_TITEL="x"))

    assert result.returncode == 0, result.log
    assert len(stand_in.received) == 1
    warnings = [warning.data for warning in result.warnings_besides_github_api()]
    assert warnings == [
        "INCIDENT_IO_TITEL is set but is not an input of this action, so it is ignored; did you mean "
        "INCIDENT_IO_TITLE?"
    ]


def docker_env(stand_in: IncidentIoStandIn, **extra: str) -> dict[str, str]:
    """A failed job's `uses: docker://` step: its settings in the step's env, as INCIDENT_IO_* variables."""
    return {
        **default_github_env(),
        "INCIDENT_IO_API_TOKEN": TOKEN,
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID,
        "INCIDENT_IO_API_URL": stand_in.url,
        "INCIDENT_IO_JOB_STATUS": "failure",
        **extra,
    }


def run_without_action_yml(files: StepFiles, env: dict[str, str]) -> StepResult:
    """`uses: docker://`: no action.yml, so no INPUT_* variables; the settings come from the step's env."""
    write_event(files, THIS_PUSH)
    env = {
        **env,
        "GITHUB_EVENT_PATH": str(files.event),
        "GITHUB_OUTPUT": str(files.output),
        "GITHUB_STEP_SUMMARY": str(files.summary),
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(ENTRYPOINT, env=env, capture_output=True, text=True, check=False, timeout=60)
    return step_result(files, completed)


# -- 5. messages that say what to do -------------------------------------------------------------------------


def test_a_missing_token_names_its_likely_causes(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push("main"), "failure", **{"api-token": ""})

    (error,) = errors(result)
    assert "api-token: ${{ secrets.INCIDENT_IO_ALERT_TOKEN }}" in error
    for cause in (
        "the secret's name may be misspelt",
        "the secret may belong to an environment this job does not use (give the job environment: its name)",
        "an organisation secret may not be shared with this repository",
    ):
        assert cause in error


def test_yaml_style_metadata_says_how_to_write_it(steps: Steps, stand_in: IncidentIoStandIn) -> None:
    result = steps.run(layouts.push("main"), "failure", metadata="team: platform\nservice: api")

    (error,) = errors(result)
    assert error == (
        "Input 'metadata' (INCIDENT_IO_METADATA) must be a JSON object or key=value lines; lines 1 and 2 "
        "have no key=value (write 'team=platform', not YAML's key: value)."
    )


@pytest.mark.parametrize("value", ["source 42", "https://app.incident.io/alerts/sources/01GW"])
def test_a_rejected_config_id_echoes_what_it_got(
    steps: Steps, stand_in: IncidentIoStandIn, value: str
) -> None:
    result = steps.run(layouts.push("main"), "failure", **{"alert-source-config-id": value})

    (error,) = errors(result)
    assert error.endswith(f"got {value!r}.")


def test_a_docker_step_is_told_to_set_the_variable_and_the_summary_has_no_backticks(
    stand_in: IncidentIoStandIn, tmp_path: Path
) -> None:
    env = docker_env(stand_in)
    del env["INCIDENT_IO_ALERT_SOURCE_CONFIG_ID"]
    result = run_without_action_yml(StepFiles(tmp_path / "step"), env)

    assert result.returncode == 2
    (error,) = errors(result)
    assert error.endswith(
        "set INCIDENT_IO_ALERT_SOURCE_CONFIG_ID in the step's env: (uses: docker:// has no with: inputs)."
    )
    assert "under 'with:'" not in error
    assert "fix them in the INCIDENT_IO_* variables" in result.outputs["message"]
    assert "`" not in result.summary
