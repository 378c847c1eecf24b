"""The README stays true to action.yml and to the code."""

from __future__ import annotations

import re

import pytest
import yaml

from entrypoint.alert import default_metadata, failure_metadata, runner_metadata
from entrypoint.failures import FailedJob, Failures
from entrypoint.settings import INPUTS, Settings
from entrypoint.workflow_run import Commit, PullRequest, WorkflowRun
from tests.support.actions_runner import ACTION, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def table_rows(heading: str) -> dict[str, list[str]]:
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells:
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells
    return rows


def test_every_input_is_documented_with_its_variable_and_default() -> None:
    rows = table_rows("Inputs")
    assert set(rows) == set(ACTION["inputs"])
    for spec in INPUTS:
        cells = rows[spec.name]
        assert cells[1] == f"`{spec.env_variable}`"
        yaml_default = ACTION["inputs"][spec.name].get("default")
        if yaml_default is not None:
            assert cells[2] == f"`{yaml_default}`"
        elif spec.required:
            assert cells[2] == "required"
        else:
            model_default = Settings.model_fields[spec.field].default
            if model_default not in (None, {}):
                shown = str(model_default).lower() if isinstance(model_default, bool) else str(model_default)
                assert cells[2] == f"`{shown.removesuffix('.0')}`", spec.name


def test_action_yml_has_no_python_defaults_except_runner_contexts() -> None:
    with_defaults = {name for name, spec in ACTION["inputs"].items() if "default" in spec}
    assert with_defaults == {"job-status", "matrix", "github-token", "check-run-id"}


def test_every_input_is_mapped_in_runs_env_and_read_by_the_settings() -> None:
    env = ACTION["runs"]["env"]
    assert env == {spec.env_variable: f"${{{{ inputs.{spec.name} }}}}" for spec in INPUTS}
    assert {spec.name for spec in INPUTS} == set(ACTION["inputs"])


def test_every_output_is_documented() -> None:
    assert set(table_rows("Outputs")) == set(ACTION["outputs"])


@pytest.mark.parametrize("key", sorted(table_rows("Metadata")))
def test_every_documented_metadata_key_is_produced(key: str) -> None:
    run = WorkflowRun(
        "https://github.com", "o/r", "CI", "test", "refs/heads/main", "main", "push", 1, 2, 3,
        "https://github.com/o/r/actions/runs/1", "me", Commit("a" * 40, "u", "m", "mona"),
        PullRequest(4, "u"), workflow_file="ci.yml", runner_name="GitHub Actions 2",
        runner_environment="github-hosted",
    )  # fmt: skip
    failed = FailedJob("test", None, ("Run tests",), seconds=75, errors=("assert 1 == 2",))
    failures = Failures((failed,))
    needs = '{"build": {"result": "failure"}, "lint": {"result": "success"}}'
    settings = Settings.model_validate({"matrix": '{"os": "ubuntu"}', "needs": needs})
    produced = (
        default_metadata(run, settings, "failure")
        | failure_metadata(failures, 3, 3)
        | runner_metadata(run, settings.model_copy(update={"needs": None}), failures)
    )
    documented = set(table_rows("Metadata"))
    assert key in produced
    assert set(produced) == documented


@pytest.mark.parametrize("name", ["LICENSE", "SECURITY.md", "CONTRIBUTING.md"])
def test_the_repository_files_exist_and_the_readme_links_them(name: str) -> None:
    assert (ROOT / name).is_file()
    assert f"]({name})" in README


def test_the_license_is_mit_everywhere_it_is_named() -> None:
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_issue_forms_ask_for_the_log_the_layout_and_the_version_and_route_security_reports() -> None:
    forms = ROOT / ".github" / "ISSUE_TEMPLATE"
    bug = yaml.safe_load((forms / "bug_report.yml").read_text(encoding="utf-8"))
    asked = {item["id"] for item in bug["body"] if "id" in item}
    assert {"log", "layout", "version"} <= asked
    assert "Remove every token" in bug["body"][0]["attributes"]["value"]
    config = yaml.safe_load((forms / "config.yml").read_text(encoding="utf-8"))
    assert config["contact_links"][0]["url"].endswith("/security/policy")
