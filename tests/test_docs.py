"""The README stays true to action.yml and to the code."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from entrypoint.alert import default_metadata, failure_metadata, runner_metadata
from entrypoint.failures import FailedJob, Failures
from entrypoint.settings import INPUTS, Input, Settings
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


def readme_with_block() -> dict[str, str]:
    """The README's Inputs block: each input's name and the comment above it, joined into one line."""
    section = README.split("## Inputs\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    inputs, comment = {}, []
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            comment.append(stripped[2:])
        elif match := re.fullmatch(r"([a-z][a-z0-9-]*): ''", stripped):
            inputs[match.group(1)] = " ".join(comment)
            comment = []
    return inputs


def mismatch(what: str, only_here: set[str], only_there: set[str], here: str, there: str) -> str:
    """Where a contributor must edit, not a bare set difference."""
    lines = [f"{what} disagree:"]
    lines += [
        f"- {name} is in {here} but not in {there}: add it there, or remove it here"
        for name in sorted(only_here)
    ]
    lines += [
        f"- {name} is in {there} but not in {here}: add it here, or remove it there"
        for name in sorted(only_there)
    ]
    return "\n".join(lines)


WITH_BLOCK = "README.md's `with:` block under ## Inputs (a `name: ''` line with its comment)"
ACTION_INPUTS = "action.yml `inputs:`"


def test_the_readme_with_block_lists_every_input_of_action_yml() -> None:
    documented, declared = set(readme_with_block()), set(ACTION["inputs"])
    assert documented == declared, mismatch(
        "The inputs", declared - documented, documented - declared, ACTION_INPUTS, WITH_BLOCK
    )


@pytest.mark.parametrize("spec", INPUTS, ids=lambda spec: spec.name)
def test_each_input_shows_its_default_in_the_with_block(spec: Input) -> None:
    comment = readme_with_block().get(spec.name, "")
    yaml_default = ACTION["inputs"][spec.name].get("default")
    model_default = Settings.model_fields[spec.field].default
    where = f"the comment above `{spec.name}:` in {WITH_BLOCK}"
    if yaml_default is not None:
        assert f"Default: {yaml_default}" in comment, (
            f"{where} must say `Default: {yaml_default}` (action.yml)"
        )
    elif spec.required:
        assert "Required" in comment, f"{where} must say it is required (action.yml says so)"
    elif model_default not in (None, {}):
        shown = str(model_default).lower() if isinstance(model_default, bool) else str(model_default)
        shown = shown.removesuffix(".0")
        assert f"Default: {shown}" in comment, (
            f"{where} must say `Default: {shown}`, the default in entrypoint/settings.py `Settings`"
        )


def test_every_input_is_read_from_its_documented_variable() -> None:
    """The README states the rule: INCIDENT_IO_ and the name in capitals, with _ for -."""
    assert "`INCIDENT_IO_` and its name in capitals with `_` for `-`" in " ".join(README.split())
    for spec in INPUTS:
        variable = "INCIDENT_IO_" + spec.name.upper().replace("-", "_")
        assert spec.env_variable == variable, f"entrypoint/settings.py: read {spec.name} from {variable}"


def test_action_yml_has_no_python_defaults_except_runner_contexts() -> None:
    with_defaults = {name for name, spec in ACTION["inputs"].items() if "default" in spec}
    assert with_defaults == {"job-status", "matrix", "github-token", "check-run-id", "job-workflow"}, (
        "action.yml: only an input whose default is a runner context (${{ job.status }} ...) has a "
        "`default:`; other defaults go in entrypoint/settings.py `Settings`, so the image behaves the same "
        "outside Actions"
    )


def test_every_input_is_read_by_the_settings_from_the_runners_inputs_alone() -> None:
    """No runs.env: an INCIDENT_IO_* variable there would lose to an earlier step's $GITHUB_ENV, and the
    action reads its inputs from the runner's INPUT_* variables alone (issue 28)."""
    assert "env" not in ACTION["runs"], "action.yml `runs.env`: the action reads INPUT_* only; remove it"
    named = {spec.name for spec in INPUTS}
    assert named == set(ACTION["inputs"]), mismatch(
        "The inputs", named - set(ACTION["inputs"]), set(ACTION["inputs"]) - named,
        "entrypoint/settings.py `INPUTS` (and a `Settings` field)", ACTION_INPUTS,
    )  # fmt: skip


def test_every_output_is_documented() -> None:
    documented, declared = set(table_rows("Outputs")), set(ACTION["outputs"])
    assert documented == declared, mismatch(
        "The outputs", declared - documented, documented - declared, "action.yml `outputs:`",
        "README.md's table under ## Outputs",
    )  # fmt: skip


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


# -- read from the top ------------------------------------------------------------------------------------


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, re.S)


def workflow(text: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(text)
    if True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document


def test_the_first_snippet_is_a_whole_workflow_to_paste_as_a_new_file() -> None:
    first = workflow(yaml_blocks()[0])
    assert {"name", "on", "permissions", "jobs"} <= set(first)
    (job,) = first["jobs"].values()
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[-1]["uses"].startswith("OWNER/incident-io-alert-action@") and steps[-1]["if"] == "always()"
    top = README.split("## Quick start", 1)[0]
    assert "container actions run on Linux runners only" in top
    assert "### macOS and Windows jobs" in README


def test_troubleshooting_starts_with_an_alert_that_never_fires_or_never_resolves() -> None:
    rows = [line for line in README.split("## Troubleshooting", 1)[1].splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| the alert never fires | The step needs `if: always()`")
    assert rows[2].startswith("| the alert never resolves | `if: failure()` skips the step on green runs")
    for cause in ("branches", "Dependabot", "failures-before-alert", "A newer run ... passed"):
        assert cause in rows[1]
    for cause in ("A changed key", "A newer run ... failed"):
        assert cause in rows[2]


@pytest.mark.parametrize(
    "link",
    [
        "https://docs.github.com/en/actions/security-guides/using-secrets-in-github-actions",
        "https://docs.github.com/en/actions/learn-github-actions/variables",
        "https://docs.github.com/en/actions/using-jobs/assigning-permissions-to-jobs",
        "https://docs.incident.io/alerts/custom-http-sources",
    ],
)
def test_the_quick_start_links_the_docs_it_relies_on(link: str) -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert f"]({link})" in quick_start


def test_the_outputs_example_appears_once() -> None:
    assert sum("steps.alert.outputs" in block for block in yaml_blocks()) == 1


def test_the_watcher_snippet_checks_what_its_example_checks() -> None:
    (snippet,) = [workflow(block) for block in yaml_blocks() if "workflow_run:" in block]
    example = workflow((ROOT / "examples" / "watch-workflows.yml").read_text(encoding="utf-8"))
    assert " ".join(snippet["jobs"]["alert"]["if"].split()) == " ".join(
        example["jobs"]["alert"]["if"].split()
    )
    assert snippet["permissions"] == dict.fromkeys(example["permissions"], "read")


def test_the_speed_claim_gives_a_fresh_runners_figure_too() -> None:
    quick_start = " ".join(README.split("## Quick start", 1)[1].split("\n## ", 1)[0].split())
    assert "A fresh GitHub-hosted runner has no Docker images, so it pulls the whole image" in quick_start


def test_the_readme_is_shorter_than_it_was() -> None:
    """People read the top: 753 lines before the first-hour review, and well under that since."""
    assert len(README.splitlines()) < 700


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_within_the_readme_reaches_a_heading() -> None:
    anchors = {anchor(line.lstrip("#")) for line in README.splitlines() if line.startswith("#")}
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert links <= anchors, f"README.md links to missing headings: {sorted(links - anchors)}"
