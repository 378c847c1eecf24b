"""The places users put the action, as the runner presents them: an event payload and the GITHUB_* variables.

Each builder starts from a real payload in tests/data/github-events and edits a copy so that both
agree, as they do on GitHub: a push's `ref` is GITHUB_REF, the payload's repository is
GITHUB_REPOSITORY with its `default_branch` set, a pull request's head branch is GITHUB_HEAD_REF, a
fork's head repository is the fork's.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tests.support.actions_runner import DEFAULT_BRANCH, EVENTS_DIR, default_github_env, push_payload

REPOSITORY = "octo-org/octo-repo"
WATCHED_RUN_ID = 289782451
WATCHED_WORKFLOW_ID = 2823525  # the watched workflow's id in the real payload (ci.yml here)


@dataclass
class Layout:
    event: dict[str, Any]
    github_env: dict[str, str] = field(default_factory=dict)


@cache
def _real(path: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((EVENTS_DIR / path).read_text(encoding="utf-8"))
    return payload


def real(path: str) -> dict[str, Any]:
    """A fresh copy of a real payload, to edit."""
    return copy.deepcopy(_real(path))


def _make_ours(repo: dict[str, Any], full_name: str = REPOSITORY) -> None:
    owner, name = full_name.split("/")
    repo.update(full_name=full_name, name=name, default_branch=DEFAULT_BRANCH)
    repo["owner"]["login"] = owner


def push(branch: str = DEFAULT_BRANCH, **env: str) -> Layout:
    """A push to a branch of this repository (or, with `ref`, to any ref)."""
    github_env = default_github_env(GITHUB_REF=f"refs/heads/{branch}", GITHUB_REF_NAME=branch, **env)
    return Layout(push_payload(github_env), github_env)


def tag_push(tag: str = "v1.2.0", **env: str) -> Layout:
    """A release workflow's run on a pushed tag."""
    github_env = default_github_env(
        GITHUB_WORKFLOW="Release",
        GITHUB_WORKFLOW_REF=f"{REPOSITORY}/.github/workflows/release.yml@refs/tags/{tag}",
        GITHUB_JOB="publish",
        GITHUB_REF=f"refs/tags/{tag}",
        GITHUB_REF_NAME=tag,
        GITHUB_REF_TYPE="tag",
        **env,
    )
    return Layout(push_payload(github_env), github_env)


def pull_request(
    head_branch: str = "feature",
    *,
    fork_owner: str | None = None,
    author: str = "octocat",
    event_name: str = "pull_request",
    number: int = 2,
) -> Layout:
    """A pull request into main, from a branch of this repository or of a fork."""
    payload = real("pull_request/opened.payload.json")
    pull = payload["pull_request"]
    _make_ours(payload["repository"])
    _make_ours(pull["base"]["repo"])
    pull["base"].update(ref=DEFAULT_BRANCH, label=f"octo-org:{DEFAULT_BRANCH}")
    head_repo = f"{fork_owner}/octo-repo" if fork_owner else REPOSITORY
    _make_ours(pull["head"]["repo"], head_repo)
    pull["head"]["repo"]["fork"] = fork_owner is not None
    pull["head"].update(ref=head_branch, label=f"{head_repo.split('/')[0]}:{head_branch}")
    pull["user"]["login"] = author
    payload["number"] = pull["number"] = number
    payload["sender"]["login"] = author
    github_env = default_github_env(
        GITHUB_EVENT_NAME=event_name,
        GITHUB_REF=f"refs/pull/{number}/merge" if event_name == "pull_request" else "refs/heads/main",
        GITHUB_REF_NAME=f"{number}/merge" if event_name == "pull_request" else DEFAULT_BRANCH,
        GITHUB_HEAD_REF=head_branch,
        GITHUB_BASE_REF=DEFAULT_BRANCH,
        GITHUB_ACTOR=author,
        GITHUB_TRIGGERING_ACTOR=author,
        GITHUB_SHA=pull["head"]["sha"] if event_name == "pull_request" else "e" * 40,
    )
    return Layout(payload, github_env)


def dependabot_pull_request() -> Layout:
    return pull_request("dependabot/pip/requests-2.33.0", author="dependabot[bot]")


def merge_group(target: str = DEFAULT_BRANCH) -> Layout:
    """A merge-queue entry testing a pull request on top of `target`."""
    payload = real("merge_group/checks_requested.payload.json")
    _make_ours(payload["repository"])
    queue_branch = f"gh-readonly-queue/{target}/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64"
    payload["merge_group"].update(head_ref=f"refs/heads/{queue_branch}", base_ref=f"refs/heads/{target}")
    github_env = default_github_env(
        GITHUB_EVENT_NAME="merge_group",
        GITHUB_REF=f"refs/heads/{queue_branch}",
        GITHUB_REF_NAME=queue_branch,
        GITHUB_SHA=payload["merge_group"]["head_sha"],
    )
    return Layout(payload, github_env)


def watched_run(
    conclusion: str | None = "failure",
    *,
    head_branch: str = DEFAULT_BRANCH,
    fork_owner: str | None = None,
    event: str = "push",
    status: str = "completed",
    run_number: int = 163,
    run_attempt: int = 1,
    run_id: int = WATCHED_RUN_ID,
) -> Layout:
    """A `workflow_run` watcher's run: the watched run of CI (ci.yml) ended `conclusion`."""
    payload = real("workflow_run/completed.payload.json")
    _make_ours(payload["repository"])
    run = payload["workflow_run"]
    _make_ours(run["repository"])
    head_repo = f"{fork_owner}/octo-repo" if fork_owner else REPOSITORY
    _make_ours(run["head_repository"], head_repo)
    run.update(
        name="CI",
        path=".github/workflows/ci.yml",
        conclusion=conclusion,
        status=status,
        head_branch=head_branch,
        event=event,
        run_number=run_number,
        run_attempt=run_attempt,
        id=run_id,
        html_url=f"https://github.com/{REPOSITORY}/actions/runs/{run_id}",
    )
    payload["workflow"].update(name="CI", path=".github/workflows/ci.yml")
    github_env = default_github_env(
        GITHUB_EVENT_NAME="workflow_run",
        GITHUB_WORKFLOW="Alerts",
        GITHUB_WORKFLOW_REF=f"{REPOSITORY}/.github/workflows/alerts.yml@refs/heads/main",
        GITHUB_JOB="alert",
        GITHUB_RUN_ID="1658830000",
        GITHUB_RUN_NUMBER="40",
    )
    return Layout(payload, github_env)


def issue_comment(number: int = 2, *, on_pull_request: bool = True, commenter: str = "someone") -> Layout:
    """A ChatOps run: someone commented `/test` on a pull request (or an issue). GitHub runs such a
    workflow on the default branch's ref and commit, whatever the pull request holds."""
    payload = real("issues/opened.payload.json")
    _make_ours(payload["repository"])
    issue = payload["issue"]
    issue["number"] = number
    if on_pull_request:  # a comment on a pull request arrives as an issue with a pull_request link
        api = f"https://api.github.com/repos/{REPOSITORY}/pulls/{number}"
        issue["pull_request"] = {"url": api, "html_url": f"https://github.com/{REPOSITORY}/pull/{number}"}
    payload["action"] = "created"
    payload["comment"] = {"id": 1, "body": "/test", "user": {"login": commenter, "type": "User"}}
    payload["sender"]["login"] = commenter
    github_env = default_github_env(
        GITHUB_EVENT_NAME="issue_comment", GITHUB_ACTOR=commenter, GITHUB_TRIGGERING_ACTOR=commenter
    )
    return Layout(payload, github_env)


def needs(**results: str) -> str:
    """What `${{ toJSON(needs) }}` gives for needed jobs with these results."""
    return json.dumps({job: {"result": result, "outputs": {}} for job, result in results.items()}, indent=2)
