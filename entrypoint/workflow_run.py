"""Knowing the workflow run: what the alert is about, from `GITHUB_*` and the event payload.

Two cases:
- the action runs inside the job it reports on: the run is the current one (`GITHUB_*`), and the
  job's own status (the `job-status` input) decides;
- the workflow was triggered by another run it watches (`workflow_run`, `check_suite`,
  `check_run`, `deployment_status`): the alert is about that watched run, its workflow, branch,
  commit, URL and conclusion, not about the watcher.

Only the fields named here are read from the payload; nothing else of it reaches an alert.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_SERVER_URL = "https://github.com"
DEFAULT_API_URL = "https://api.github.com"
WATCHED_EVENTS = ("workflow_run", "check_suite", "check_run", "deployment_status")


@dataclass(frozen=True)
class Commit:
    sha: str
    url: str
    message: str | None = None  # untrusted text

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def subject(self) -> str | None:
        if not self.message:
            return None
        return self.message.strip().splitlines()[0] if self.message.strip() else None


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    title: str | None = None  # untrusted text


@dataclass(frozen=True)
class Watched:
    """The run that the current workflow watches, and how it ended."""

    kind: str  # workflow_run, check_suite, check_run, deployment_status
    completed: bool
    conclusion: str | None  # for deployments, the deployment state


@dataclass(frozen=True)
class WorkflowRun:
    """The run an alert is about."""

    server_url: str
    repository: str
    workflow: str  # for checks and deployments: what is being checked or deployed
    job: str | None
    ref: str | None
    branch: str | None  # branch or tag name; for pull requests the head branch
    event_name: str | None  # what triggered the run the alert is about
    run_id: int | None
    run_number: int | None
    run_attempt: int | None
    run_url: str | None
    actor: str | None
    commit: Commit | None
    pull_request: PullRequest | None
    watched: Watched | None = None
    key_scope: str = "github-actions"  # what kind of thing the deduplication key names
    workflow_id: str | None = None  # for GitHub's API: the file name (`ci.yml`) or the numeric id
    api_url: str = DEFAULT_API_URL  # GitHub's REST API for this server (GITHUB_API_URL)
    runner_name: str | None = None  # the runner running this step (RUNNER_NAME), to find its job

    @property
    def sha(self) -> str | None:
        return self.commit.sha if self.commit else None

    @property
    def attempt_url(self) -> str | None:
        if self.run_url and self.run_attempt:
            return f"{self.run_url}/attempts/{self.run_attempt}"
        return self.run_url


@dataclass(frozen=True)
class RunReading:
    run: WorkflowRun | None  # None outside GitHub Actions
    warnings: list[str]


def read_workflow_run(environ: Mapping[str, str]) -> RunReading:
    """Read the run from the environment and the event file; problems with the file are warnings."""
    env = {key: value.strip() for key, value in environ.items() if key.startswith("GITHUB_")}
    repository = env.get("GITHUB_REPOSITORY", "")
    if not repository:
        return RunReading(None, [])
    payload, warnings = _read_event(env.get("GITHUB_EVENT_PATH", ""))
    server_url = (env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")
    event_name = env.get("GITHUB_EVENT_NAME") or None
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    runner_name = (environ.get("RUNNER_NAME") or "").strip() or None
    if event_name in WATCHED_EVENTS and payload:
        watched = _WATCHED_READERS[event_name](payload, server_url, repository)
        if watched is not None:
            return RunReading(
                dataclasses.replace(watched, api_url=api_url, runner_name=runner_name), warnings
            )
        warnings.append(
            f"The {event_name} event file has no {event_name} object, so the alert is about this "
            "run instead of the one it watches."
        )
    current = _current_run(env, payload, server_url, repository, event_name)
    return RunReading(dataclasses.replace(current, api_url=api_url, runner_name=runner_name), warnings)


def _read_event(path: str) -> tuple[dict[str, Any], list[str]]:
    fallback = "; the alert is built from the GITHUB_* environment alone."
    if not path:
        return {}, ["GITHUB_EVENT_PATH is not set" + fallback]
    try:
        with open(path, encoding="utf-8-sig") as file:
            text = file.read()
    except OSError as exc:
        return {}, [f"Cannot read the event file {path} ({exc.strerror or exc})" + fallback]
    if not text.strip():
        return {}, [f"The event file {path} is empty" + fallback]
    try:
        payload = json.loads(text)
    except ValueError:
        return {}, [f"The event file {path} is not valid JSON" + fallback]
    if not isinstance(payload, dict):
        return {}, [f"The event file {path} does not hold a JSON object" + fallback]
    return payload, []


# -- the current run ---------------------------------------------------------------------------------


def _current_run(
    env: Mapping[str, str],
    payload: Mapping[str, Any],
    server_url: str,
    repository: str,
    event_name: str | None,
) -> WorkflowRun:
    repo_url = f"{server_url}/{repository}"
    run_id = _int(env.get("GITHUB_RUN_ID"))
    pull = _dict(payload.get("pull_request"))
    pull_request = None
    if event_name and event_name.startswith("pull_request") and pull:
        number = _int(pull.get("number")) or _int(payload.get("number"))
        if number:
            pull_request = PullRequest(number, f"{repo_url}/pull/{number}", _str(pull.get("title")))
    sha = env.get("GITHUB_SHA") or None
    head_commit = _dict(payload.get("head_commit"))
    message = _str(head_commit.get("message")) if head_commit.get("id") == sha else None
    commit = Commit(sha, f"{repo_url}/commit/{sha}", message) if sha else None
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=env.get("GITHUB_WORKFLOW") or "workflow",
        job=env.get("GITHUB_JOB") or None,
        ref=env.get("GITHUB_REF") or None,
        branch=_branch_of_current_run(env, payload, event_name),
        event_name=event_name,
        run_id=run_id,
        run_number=_int(env.get("GITHUB_RUN_NUMBER")),
        run_attempt=_int(env.get("GITHUB_RUN_ATTEMPT")),
        run_url=f"{repo_url}/actions/runs/{run_id}" if run_id else None,
        actor=env.get("GITHUB_TRIGGERING_ACTOR") or env.get("GITHUB_ACTOR") or None,
        commit=commit,
        pull_request=pull_request,
        workflow_id=_workflow_file(env.get("GITHUB_WORKFLOW_REF", "")),
    )


def _workflow_file(workflow_ref: str) -> str | None:
    """`ci.yml` from GITHUB_WORKFLOW_REF `owner/repo/.github/workflows/ci.yml@refs/heads/main`."""
    match = re.fullmatch(r"[^/]+/[^/]+/\.github/workflows/([^/@]+)@.*", workflow_ref)
    return match.group(1) if match else None


def _branch_of_current_run(
    env: Mapping[str, str], payload: Mapping[str, Any], event_name: str | None
) -> str | None:
    # A pull request's runs are about its head branch (GITHUB_REF is refs/pull/N/merge).
    if env.get("GITHUB_HEAD_REF"):
        return env["GITHUB_HEAD_REF"]
    if event_name == "merge_group":
        # Each queue entry has its own gh-readonly-queue/... ref; the alert is about the target.
        base = _str(_dict(payload.get("merge_group")).get("base_ref"))
        if base:
            return _short_ref(base)
    if env.get("GITHUB_REF_NAME"):
        return env["GITHUB_REF_NAME"]
    return _short_ref(env.get("GITHUB_REF", "")) or None


# -- watched runs ------------------------------------------------------------------------------------


def _watched_workflow_run(payload: Mapping[str, Any], server_url: str, repository: str) -> WorkflowRun | None:
    run = _dict(payload.get("workflow_run"))
    if not run:
        return None
    repository = _str(_dict(run.get("repository")).get("full_name")) or repository
    repo_url = f"{server_url}/{repository}"
    workflow = (
        _str(_dict(payload.get("workflow")).get("name"))
        or _str(run.get("name"))
        or _str(run.get("path"))
        or "workflow"
    )
    run_id = _int(run.get("id"))
    sha = _str(run.get("head_sha"))
    head_commit = _dict(run.get("head_commit"))
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=workflow,
        job=None,
        ref=None,
        branch=_str(run.get("head_branch")),
        event_name=_str(run.get("event")),
        run_id=run_id,
        run_number=_int(run.get("run_number")),
        run_attempt=_int(run.get("run_attempt")),
        run_url=f"{repo_url}/actions/runs/{run_id}" if run_id else None,
        actor=_login(run.get("triggering_actor")) or _login(run.get("actor")),
        commit=Commit(sha, f"{repo_url}/commit/{sha}", _str(head_commit.get("message"))) if sha else None,
        pull_request=_first_pull_request(run.get("pull_requests"), repo_url),
        watched=Watched("workflow_run", _str(run.get("status")) == "completed", _str(run.get("conclusion"))),
        workflow_id=str(number) if (number := _int(run.get("workflow_id"))) else None,
    )


def _watched_check(
    kind: str, payload: Mapping[str, Any], server_url: str, repository: str
) -> WorkflowRun | None:
    check = _dict(payload.get(kind))
    if not check:
        return None
    suite = check if kind == "check_suite" else _dict(check.get("check_suite"))
    repo_url = f"{server_url}/{repository}"
    app = _str(_dict(check.get("app")).get("name")) or "check"
    name = app if kind == "check_suite" else f"{app} / {_str(check.get('name')) or 'check'}"
    sha = _str(check.get("head_sha"))
    check_id = _int(check.get("id"))
    if kind == "check_run":
        url = _str(check.get("html_url")) or (f"{repo_url}/runs/{check_id}" if check_id else None)
    else:
        url = f"{repo_url}/commit/{sha}/checks?check_suite_id={check_id}" if sha and check_id else None
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=name,
        job=None,
        ref=None,
        branch=_str(suite.get("head_branch")),
        event_name=kind,
        run_id=check_id,
        run_number=None,
        run_attempt=None,
        run_url=url,
        actor=_login(payload.get("sender")),
        commit=Commit(sha, f"{repo_url}/commit/{sha}", _str(_dict(suite.get("head_commit")).get("message")))
        if sha
        else None,
        pull_request=_first_pull_request(check.get("pull_requests"), repo_url),
        watched=Watched(kind, _str(check.get("status")) == "completed", _str(check.get("conclusion"))),
        key_scope=f"github-{kind.replace('_', '-')}",
    )


def _watched_deployment(payload: Mapping[str, Any], server_url: str, repository: str) -> WorkflowRun | None:
    status = _dict(payload.get("deployment_status"))
    if not status:
        return None
    deployment = _dict(payload.get("deployment"))
    repo_url = f"{server_url}/{repository}"
    environment = _str(status.get("environment")) or _str(deployment.get("environment")) or "environment"
    sha = _str(deployment.get("sha"))
    state = _str(status.get("state"))
    ref = _str(deployment.get("ref"))
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=f"deployment to {environment}",
        job=None,
        ref=ref,
        # A deployment alert is about the environment: a later good deploy of any ref resolves it.
        branch=None,
        event_name="deployment_status",
        run_id=_int(deployment.get("id")),
        run_number=None,
        run_attempt=None,
        run_url=_str(status.get("log_url")) or _str(status.get("target_url")) or f"{repo_url}/deployments",
        actor=_login(status.get("creator")) or _login(payload.get("sender")),
        commit=Commit(sha, f"{repo_url}/commit/{sha}") if sha else None,
        pull_request=None,
        watched=Watched("deployment_status", state in ("success", "failure", "error", "inactive"), state),
        key_scope="github-deployment",
    )


_WATCHED_READERS = {
    "workflow_run": _watched_workflow_run,
    "check_suite": lambda p, s, r: _watched_check("check_suite", p, s, r),
    "check_run": lambda p, s, r: _watched_check("check_run", p, s, r),
    "deployment_status": _watched_deployment,
}


# -- small readers that tolerate odd payloads ----------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _login(actor: object) -> str | None:
    return _str(_dict(actor).get("login"))


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _first_pull_request(pulls: object, repo_url: str) -> PullRequest | None:
    if isinstance(pulls, list):
        for pull in pulls:
            number = _int(_dict(pull).get("number"))
            if number:
                return PullRequest(number, f"{repo_url}/pull/{number}")
    return None
