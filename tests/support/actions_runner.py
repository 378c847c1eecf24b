"""What the GitHub runner does around a container step, re-implemented for tests.

- `step_environment` builds the step's environment the way the runner does (notes §3.4): the
  `GITHUB_*`/`RUNNER_*` variables, `INPUT_<NAME>` for every input of action.yml (hyphens kept; the
  default when `with:` does not set it, '' when there is none), then `runs.env` added only where
  the key is absent, then the file-command paths.
- `parse_output_file` reads GITHUB_OUTPUT like the runner's EnvFileKeyValuePairs, strictly.
- `workflow_commands` lists the commands the runner would act on in a log, honouring
  `::stop-commands::`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from entrypoint.messages import GITHUB_API_TITLE

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
DATA_DIR = ROOT / "tests" / "data"  # copies of ../shared, so a fresh clone tests on its own
EVENTS_DIR = DATA_DIR / "github-events"
DEAD_GITHUB_API = "http://127.0.0.1:9"  # no test ever reaches the real GitHub API

RUNTIME_TOKEN = "actions-runtime-token-must-never-leave"
JOB_TOKEN = "ghs_jobtokenmustneverbeshown0123456789"  # what ${{ github.token }} gives
CHECK_RUN_ID = "51725241954"  # what ${{ job.check_run_id }} gives on github.com
# What the job-workflow input's default gives on github.com: the file that defines the job, at its commit.
WORKFLOW_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
JOB_WORKFLOW = f"octo-org/octo-repo/.github/workflows/ci.yml@{WORKFLOW_SHA}"
JOB_WORKFLOW_DEFAULT = "${{ job.workflow_repository }}/${{ job.workflow_file_path }}@${{ job.workflow_sha }}"
DEFAULT_BRANCH = "main"
# The event a run_step gets unless told otherwise: the push that the GITHUB_* variables describe.
THIS_PUSH = "the push of this run"


class RunnerParseError(Exception):
    """The runner would fail the step: `Unable to process file command 'output' successfully.`"""


def default_github_env(**overrides: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": DEAD_GITHUB_API,
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_REPOSITORY_OWNER": "octo-org",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
        "GITHUB_WORKFLOW_SHA": WORKFLOW_SHA,
        "GITHUB_JOB": "test",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_SHA": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "GITHUB_RUN_ID": "1658821493",
        "GITHUB_RUN_NUMBER": "17",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_TRIGGERING_ACTOR": "octocat",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_ACTION": "__owner_incident-io-alert-action",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_NAME": "GitHub Actions 2",
        "RUNNER_ENVIRONMENT": "github-hosted",
        "ACTIONS_RUNTIME_URL": "https://pipelines.actions.githubusercontent.invalid/abc/",
        "ACTIONS_RUNTIME_TOKEN": RUNTIME_TOKEN,
    }
    env.update(overrides)
    return env


def push_payload(github_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A real push payload made this run's: its ref, repository, default branch and head commit agree
    with the GITHUB_* variables (a push's `ref` is GITHUB_REF)."""
    env = github_env if github_env is not None else default_github_env()
    payload: dict[str, Any] = json.loads((EVENTS_DIR / "push" / "with-new-branch.payload.json").read_text())
    owner, name = env["GITHUB_REPOSITORY"].split("/")
    payload["ref"] = env.get("GITHUB_REF", "refs/heads/main")
    payload["repository"].update(full_name=f"{owner}/{name}", name=name, default_branch=DEFAULT_BRANCH)
    payload["repository"]["owner"]["login"] = owner
    payload["after"] = payload["head_commit"]["id"] = env.get("GITHUB_SHA", "0" * 40)
    payload["head_commit"]["message"] = "Fix the flaky retry test\n\nIt waited on a real clock."
    return payload


def step_environment(
    with_: Mapping[str, str],
    *,
    job_status: str = "failure",
    matrix: Any = None,
    step_env: Mapping[str, str] | None = None,
    github_env: Mapping[str, str] | None = None,
    check_run_id: str = CHECK_RUN_ID,
    action: Mapping[str, Any] = ACTION,
) -> dict[str, str]:
    """The environment the runner gives the container, before path translation, from `action`'s
    inputs and runs.env (this checkout's action.yml unless told otherwise)."""
    env: dict[str, str] = dict(step_env or {})  # workflow/job/step env: first
    unexpected = set(with_) - set(action["inputs"])
    if unexpected:
        raise AssertionError(f"Unexpected input(s) {sorted(unexpected)}: the runner would warn")
    contexts = {
        "${{ job.status }}": job_status,
        "${{ toJSON(matrix) }}": json.dumps(matrix),
        "${{ github.token }}": JOB_TOKEN,
        "${{ job.check_run_id }}": check_run_id,
        JOB_WORKFLOW_DEFAULT: JOB_WORKFLOW,
    }
    inputs: dict[str, str] = {}
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", ""))
        inputs[name] = with_[name] if name in with_ else contexts.get(default, default)
        env["INPUT_" + name.replace(" ", "_").upper()] = inputs[name]  # overwrite
    for key, expression in action["runs"].get("env", {}).items():
        match = re.fullmatch(r"\$\{\{ inputs\.([a-z0-9-]+) \}\}", str(expression))
        assert match, f"runs.env {key} is not a plain inputs expression"
        env.setdefault(key, inputs[match.group(1)])  # added only where absent
    env["HOME"] = "/github/home"
    env.update(github_env if github_env is not None else default_github_env())
    return env


def read_raw(path: Path) -> str:
    """A file as the runner reads it: UTF-8, no newline translation."""
    with open(path, encoding="utf-8", newline="") as file:
        return file.read()


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it on Linux (EnvFileKeyValuePairs)."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line == "":
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
            if not name:
                raise RunnerParseError(f"Invalid format '{line}'")
            outputs[name] = value
            continue
        if heredoc < 0:
            raise RunnerParseError(f"Invalid format '{line}'")
        name, delimiter = line[:heredoc], line[heredoc + 2 :]
        if not name or not delimiter:
            raise RunnerParseError(f"Invalid format '{line}'")
        value_lines = []
        while True:
            if index >= len(lines):
                raise RunnerParseError(f"Invalid value. Matching delimiter not found '{delimiter}'")
            candidate = lines[index]
            index += 1
            if candidate == delimiter:
                break
            value_lines.append(candidate)
        if index >= len(lines):
            raise RunnerParseError("Invalid value. EOF marker missing new line.")
        outputs[name] = "\n".join(value_lines)
    return outputs


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str


def _unescape(text: str, is_property: bool = False) -> str:
    text = text.replace("%0D", "\r").replace("%0A", "\n")
    if is_property:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%25", "%")


def workflow_commands(log: str) -> list[Command]:
    """The commands the runner acts on in a log (v2 `::x::` and legacy `##[x]`)."""
    commands: list[Command] = []
    stop_token: str | None = None
    for raw in re.split(r"\r\n|\r|\n", log):  # as the runner's ReadLine splits, not str.splitlines
        line = raw.lstrip()
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        command = _parse_v2(line) or _parse_legacy(raw)
        if command is None:
            continue
        if command.name == "stop-commands":
            stop_token = command.data
            continue
        commands.append(command)
    return commands


def _parse_v2(line: str) -> Command | None:
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    head, data = line[2:end], line[end + 2 :]
    name, _, props_text = head.partition(" ")
    if not name:
        return None
    properties = {}
    for pair in filter(None, props_text.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = _unescape(value, is_property=True)
    return Command(name.lower(), properties, _unescape(data))


def _parse_legacy(line: str) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    head = line[start + 3 : end]
    name, _, props_text = head.partition(" ")
    properties = {}
    for pair in filter(None, props_text.split(";")):
        key, _, value = pair.partition("=")
        properties[key] = value
    return Command(name.lower(), properties, line[end + 1 :])


@dataclass
class StepResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    output_file: str
    summary: str
    commands: list[Command] = field(default_factory=list)

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def annotations(self, kind: str) -> list[Command]:
        return [command for command in self.commands if command.name == kind]

    def github_api_warnings(self) -> list[str]:
        """The texts of the warnings about GitHub's API giving less detail."""
        return [
            command.data
            for command in self.annotations("warning")
            if command.properties.get("title") == GITHUB_API_TITLE
        ]

    def warnings_besides_github_api(self) -> list[Command]:
        """Warnings other than the one about GITHUB_API_URL being unreachable, as in most tests."""
        return [
            command
            for command in self.annotations("warning")
            if command.properties.get("title") != GITHUB_API_TITLE
        ]

    def own_commands(self) -> set[str]:
        """The names of the commands in the log, counting the GitHub API warning as the action's own."""
        return {
            command.name
            for command in self.commands
            if not (command.name == "warning" and command.properties.get("title") == GITHUB_API_TITLE)
        }


@dataclass
class StepFiles:
    """The runner's per-step files, laid out as on a hosted runner's RUNNER_TEMP."""

    root: Path

    def __post_init__(self) -> None:
        for folder in ("_github_home", "_github_workflow", "_runner_file_commands", "workspace"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.output.write_text("")
        self.summary.write_text("")

    @property
    def event(self) -> Path:
        return self.root / "_github_workflow" / "event.json"

    @property
    def output(self) -> Path:
        return self.root / "_runner_file_commands" / "set_output_0a1b2c"

    @property
    def summary(self) -> Path:
        return self.root / "_runner_file_commands" / "step_summary_0a1b2c"

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"


def write_event(files: StepFiles, event: Any, github_env: Mapping[str, str] | None = None) -> None:
    """`event` is THIS_PUSH (the push the GITHUB_* variables describe), a payload (dict), a path under
    tests/data/github-events ('push/payload.json'), or text."""
    if event == THIS_PUSH:
        event = push_payload(github_env)
    if isinstance(event, dict):
        files.event.write_text(json.dumps(event), encoding="utf-8")
    elif isinstance(event, str) and event.endswith(".json") and (EVENTS_DIR / event).exists():
        files.event.write_bytes((EVENTS_DIR / event).read_bytes())
    elif isinstance(event, str):
        files.event.write_text(event, encoding="utf-8")


def process_environment(
    files: StepFiles,
    with_: Mapping[str, str],
    *,
    job_status: str = "failure",
    matrix: Any = None,
    step_env: Mapping[str, str] | None = None,
    github_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The step's environment for `python -m entrypoint` run as a process from this checkout."""
    env = step_environment(
        with_, job_status=job_status, matrix=matrix, step_env=step_env, github_env=github_env
    )
    if github_env is None or "GITHUB_EVENT_PATH" not in github_env:
        env["GITHUB_EVENT_PATH"] = str(files.event)
    env["GITHUB_OUTPUT"] = str(files.output)
    env["GITHUB_STEP_SUMMARY"] = str(files.summary)
    env["GITHUB_WORKSPACE"] = str(files.workspace)
    env["RUNNER_TEMP"] = str(files.root)
    # The program, not the workspace, must provide the code: run from the workspace, import from ROOT.
    env["PYTHONPATH"] = str(ROOT)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    return env


# As the image runs it (Dockerfile's ENTRYPOINT: python -I -u -X utf8 -m entrypoint): isolated, so that no
# PYTHON* variable an earlier step set reaches the interpreter, and UTF-8 whatever the locale. Isolated
# mode ignores PYTHONPATH too, so this checkout goes on the path as the image's .pth file puts /action.
ENTRYPOINT = [
    sys.executable,
    "-I",
    "-u",
    "-X",
    "utf8",
    "-c",
    f"import runpy, sys; sys.path.insert(0, {str(ROOT)!r}); "
    "runpy.run_module('entrypoint', run_name='__main__', alter_sys=True)",
]


def step_result(files: StepFiles, completed: subprocess.CompletedProcess[str]) -> StepResult:
    """What the runner makes of a finished step: its log, its commands, its output and summary files."""
    output_text = read_raw(files.output)
    return StepResult(
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
        outputs=parse_output_file(output_text),
        output_file=output_text,
        summary=read_raw(files.summary),
        commands=workflow_commands(completed.stdout) + workflow_commands(completed.stderr),
    )


def run_step(
    files: StepFiles,
    with_: Mapping[str, str],
    *,
    event: Any = THIS_PUSH,
    job_status: str = "failure",
    matrix: Any = None,
    step_env: Mapping[str, str] | None = None,
    github_env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> StepResult:
    """Run `python -m entrypoint` as a process, as the runner would run the container's program."""
    if event is not None:
        write_event(files, event, github_env)
    env = process_environment(
        files, with_, job_status=job_status, matrix=matrix, step_env=step_env, github_env=github_env
    )
    completed = subprocess.run(
        ENTRYPOINT, env=env, cwd=files.workspace, capture_output=True, text=True, timeout=timeout, check=False
    )
    return step_result(files, completed)
