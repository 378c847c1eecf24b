"""Knowing the workflow run: what the alert is about, from `GITHUB_*` and the event payload.

Two cases:
- the action runs inside the job it reports on: the run is the current one (`GITHUB_*`), and the
  job's own status (the `job-status` input) decides;
- the workflow was triggered by another run it watches (`workflow_run`, `check_suite`,
  `check_run`, `deployment_status`): the alert is about that watched run, its workflow, branch,
  commit, URL and conclusion, not about the watcher.

Each run also knows its origin: where the code under test came from (a branch of this repository, a
fork, the merge queue, a tag). The origin decides which runs may alert (`branches`) and what the
deduplication key is made of, so a fork's branch named `main` can never stand for this repository's.

Only the fields named here are read from the payload; nothing else of it reaches an alert.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from entrypoint import untrusted
from entrypoint.workflow_file import FileAt, file_at, file_of_workflow_ref

DEFAULT_SERVER_URL = "https://github.com"
# GitHub's webhook payloads are at most 25 MB; an event file larger than that is not GitHub's.
MAX_EVENT_BYTES = 32 * 2**20
DEFAULT_API_URL = "https://api.github.com"
WATCHED_EVENTS = ("workflow_run", "check_suite", "check_run", "deployment_status")
DEPENDABOT = "dependabot[bot]"
# The branch GitHub's merge queue creates for each entry: gh-readonly-queue/<target>/pr-<number>-<sha>.
MERGE_QUEUE_BRANCH = re.compile(r"gh-readonly-queue/(.+)/pr-\d+-[0-9a-f]+")

PLACED_KINDS = ("branch", "fork", "merge-queue", "tag")  # the origins that name a branch or tag
OriginKind = Literal["branch", "fork", "merge-queue", "tag", "deployment", "comment", "unverified", "unknown"]
# ChatOps: runs started by a comment (`/test`). They run on the default branch's ref, usually test a pull
# request's code, and anyone who can comment may start one, so they never stand for a branch.
COMMENT_EVENTS = frozenset({"issue_comment"})
# GitHub's owner/name: what a payload's repository must look like to be put in links and keys.
REPOSITORY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")


@dataclass(frozen=True)
class Origin:
    """Where the code a run tested came from.

    - branch: a branch of this repository (`name`); pull requests from this repository are their head branch;
    - fork: a branch (`name`) of someone else's repository (`owner`), through a pull request;
    - merge-queue: an entry of the merge queue of the target branch `name`;
    - tag: the tag `name` (release workflows);
    - deployment: a deployment, about its environment rather than a ref;
    - comment: a run started by a comment (ChatOps), whatever ref it runs on;
    - unverified: a run whose source cannot be told apart from a fork's (`reason` says why);
    - unknown: nothing says (no ref at all); treated as this repository's, so no alert is lost.
    """

    kind: OriginKind
    name: str | None = None
    owner: str | None = None
    reason: str = ""

    @property
    def scope_name(self) -> str | None:
        """What the `branches` patterns are matched against: `main`, `owner:branch`, `merge-queue/main`."""
        if self.kind == "branch":
            return self.name
        if self.kind == "fork":
            return f"{self.owner}:{self.name}"
        if self.kind == "merge-queue":
            return f"merge-queue/{self.name}"
        return None

    @property
    def where(self) -> str:
        """How titles and notices place it: `on main`, `in the merge queue of main`, `for tag v1.2.0`."""
        if self.kind == "branch" and self.name:
            return f"on {self.name}"
        if self.kind == "fork":
            return f"on {self.owner}:{self.name} (a fork)"
        if self.kind == "merge-queue":
            return f"in the merge queue of {self.name}"
        if self.kind == "tag":
            return f"for tag {self.name}"
        if self.kind == "comment":
            return "started by a comment"
        return ""


def origin_of_actions_run(
    event: str | None, head_branch: str | None, head_repository: str | None, repository: str
) -> Origin:
    """The origin of a GitHub Actions run as GitHub's API and `workflow_run` payloads describe it.

    One function for the watched run and for the earlier runs compared with it, so that both are
    placed the same way.
    """
    if event in COMMENT_EVENTS:
        return Origin("comment")
    if event == "pull_request_target":
        # Such runs test the base branch's workflow for someone's pull request: their head_branch and
        # head_sha are the base's, so they cannot be told apart from the base branch's own runs.
        return Origin("unverified", reason="it ran for a pull request (pull_request_target)")
    if head_repository and head_repository.lower() != repository.lower():
        owner = head_repository.split("/", 1)[0]
        return Origin("fork", head_branch or "", owner)
    if not head_branch:
        # As for a fork's check suite, whose head branch GitHub leaves out.
        return Origin("unverified", reason="GitHub gave no head branch for it, as it does for a fork's")
    if head_repository is None and event and event.startswith("pull_request"):
        return Origin("unverified", reason="GitHub did not say which repository its pull request came from")
    if event == "release":
        return Origin("tag", head_branch)
    return branch_origin(head_branch)


def as_tag_run(run: WorkflowRun) -> WorkflowRun:
    """A watched run whose head branch turned out to be a tag of this repository: a tag's run."""
    name = run.origin.name or run.branch or ""
    return dataclasses.replace(run, origin=Origin("tag", name), branch=name)


def branch_origin(branch: str) -> Origin:
    """A branch of this repository; the merge queue's own branches are its entries' runs."""
    if queue := MERGE_QUEUE_BRANCH.fullmatch(branch):
        return Origin("merge-queue", queue.group(1))
    return Origin("branch", branch)


@dataclass(frozen=True)
class Commit:
    sha: str
    url: str
    message: str | None = None  # untrusted text
    author: str | None = None  # who wrote it (a login where the payload gives one); untrusted text

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
    workflow_id: str | None = None  # the workflow's numeric id, where the payload gives it
    api_url: str = DEFAULT_API_URL  # GitHub's REST API for this server (GITHUB_API_URL)
    runner_name: str | None = None  # the runner running this step (RUNNER_NAME), to find its job
    origin: Origin = Origin("unknown")
    workflow_file: str | None = None  # `ci.yml`: names the workflow in keys (display names can repeat)
    default_branch: str | None = None  # this repository's, from the event payload
    by_dependabot: bool = False  # Dependabot's runs get no Actions secrets
    runner_environment: str | None = None  # github-hosted or self-hosted (RUNNER_ENVIRONMENT)
    definition: FileAt | None = None  # the run's workflow file at the commit it ran from
    workspace: str | None = None  # GITHUB_WORKSPACE, where a checkout may hold that file

    @property
    def api_workflow(self) -> str | None:
        """The workflow as GitHub's API takes it: its id or its file name."""
        return self.workflow_id or self.workflow_file

    @property
    def key_name(self) -> str:
        """The workflow as the deduplication key names it: its file where known, else its name."""
        return self.workflow_file or self.workflow

    @property
    def secrets_withheld(self) -> bool:
        """GitHub gives this run no secrets: a pull request from a fork, or a run triggered by Dependabot.

        A watched run's watcher runs in this repository with its secrets, whatever it watches.
        """
        if self.watched is not None:
            return False
        from_fork = self.origin.kind == "fork" and self.event_name != "pull_request_target"
        return from_fork or self.by_dependabot

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


def read_workflow_run(
    environ: Mapping[str, str], debug: Callable[[str], None] = lambda _line: None
) -> RunReading:
    """Read the run from the environment and the event file; problems with the file are warnings. A link
    the event file gives that is no http(s) URL fit for a link is left out, with a debug line."""
    # Text that is not UTF-8 (a variable's odd bytes, as Python reads them) is shown as U+FFFD.
    env = {
        key: untrusted.clean_text(value.strip())
        for key, value in environ.items()
        if key.startswith(("GITHUB_", "RUNNER_"))
    }
    repository = env.get("GITHUB_REPOSITORY", "")
    if not repository:
        return RunReading(None, [])
    payload, warnings = _read_event(env.get("GITHUB_EVENT_PATH", ""))
    default_branch = _default_branch(payload, repository)
    server_url = (env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")
    event_name = env.get("GITHUB_EVENT_NAME") or None
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    runner_name = env.get("RUNNER_NAME") or None
    runner_environment = env.get("RUNNER_ENVIRONMENT") or None
    if event_name in WATCHED_EVENTS and payload:
        watched = _WATCHED_READERS[event_name](payload, server_url, repository, _Links(debug))
        if watched is not None:
            watched = dataclasses.replace(
                watched,
                api_url=api_url,
                runner_name=runner_name,
                default_branch=default_branch,
                workspace=env.get("GITHUB_WORKSPACE") or None,
            )
            return RunReading(watched, warnings)
        warnings.append(
            f"The {event_name} event file has no {event_name} object, so the alert is about this "
            "run instead of the one it watches."
        )
    current = _current_run(env, payload, server_url, repository, event_name)
    current = dataclasses.replace(
        current,
        api_url=api_url,
        runner_name=runner_name,
        default_branch=default_branch,
        runner_environment=runner_environment,
        definition=file_of_workflow_ref(env.get("GITHUB_WORKFLOW_REF"), env.get("GITHUB_WORKFLOW_SHA")),
        workspace=env.get("GITHUB_WORKSPACE") or None,
    )
    return RunReading(current, warnings)


def _default_branch(payload: Mapping[str, Any], repository: str) -> str | None:
    """This repository's default branch, from the payload's repository when it is this repository."""
    repo = _dict(payload.get("repository"))
    name = _str(repo.get("full_name"))
    if name is None or name.lower() != repository.lower():
        return None  # another repository's (or none): its default branch says nothing about ours
    return _str(repo.get("default_branch"))


def _read_event(path: str) -> tuple[dict[str, Any], list[str]]:
    fallback = "; the alert is built from the GITHUB_* environment alone."
    if not path:
        return {}, ["GITHUB_EVENT_PATH is not set" + fallback]
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        return {}, [f"Cannot read the event file {path} ({exc.strerror or exc})" + fallback]
    if len(data) > MAX_EVENT_BYTES:
        return {}, [f"The event file {path} is larger than {MAX_EVENT_BYTES // 2**20} MiB" + fallback]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}, [f"The event file {path} is not UTF-8" + fallback]
    if not text.strip():
        return {}, [f"The event file {path} is empty" + fallback]
    try:
        payload = untrusted.loads(text)
    except untrusted.NotStrictJson as exc:
        return {}, [f"The event file {path} is not valid JSON ({exc})" + fallback]
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
    run_id = untrusted.number(env.get("GITHUB_RUN_ID"))
    pull = _dict(payload.get("pull_request"))
    pull_request = None
    if event_name and event_name.startswith("pull_request") and pull:
        number = _int(pull.get("number")) or _int(payload.get("number"))
        if number:
            pull_request = PullRequest(number, f"{repo_url}/pull/{number}", _str(pull.get("title")))
    sha = env.get("GITHUB_SHA") or None
    head_commit = _dict(payload.get("head_commit"))
    # A push's head commit is the run's commit; other events' runs test another one.
    commit = _commit(repo_url, sha, head_commit if head_commit.get("id") == sha else {})
    origin = _origin_of_current_run(env, payload, event_name)
    actors = {env.get("GITHUB_ACTOR"), env.get("GITHUB_TRIGGERING_ACTOR"), _login(pull.get("user"))}
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=env.get("GITHUB_WORKFLOW") or "workflow",
        job=env.get("GITHUB_JOB") or None,
        ref=env.get("GITHUB_REF") or None,
        branch=origin.name if origin.kind in PLACED_KINDS else None,
        event_name=event_name,
        run_id=run_id,
        run_number=untrusted.number(env.get("GITHUB_RUN_NUMBER")),
        run_attempt=untrusted.number(env.get("GITHUB_RUN_ATTEMPT")),
        run_url=f"{repo_url}/actions/runs/{run_id}" if run_id else None,
        actor=env.get("GITHUB_TRIGGERING_ACTOR") or env.get("GITHUB_ACTOR") or None,
        commit=commit,
        pull_request=pull_request,
        origin=origin,
        workflow_file=_workflow_file(env.get("GITHUB_WORKFLOW_REF", "")),
        by_dependabot=DEPENDABOT in actors,
    )


def _workflow_file(workflow_ref: str) -> str | None:
    """`ci.yml` from GITHUB_WORKFLOW_REF `owner/repo/.github/workflows/ci.yml@refs/heads/main`."""
    match = re.fullmatch(r"[^/]+/[^/]+/\.github/workflows/([^/@]+)@.*", workflow_ref)
    return match.group(1) if match else None


def _file_name(path: str | None) -> str | None:
    """`ci.yml` from a watched run's path `.github/workflows/ci.yml` (GHES may add `@ref`)."""
    match = re.fullmatch(r"\.github/workflows/([^/@]+)(@.*)?", path or "")
    return match.group(1) if match else None


def _origin_of_current_run(
    env: Mapping[str, str], payload: Mapping[str, Any], event_name: str | None
) -> Origin:
    ref = env.get("GITHUB_REF", "")
    if event_name in COMMENT_EVENTS:
        return Origin("comment")
    if event_name and event_name.startswith("pull_request"):
        return _origin_of_pull_request(env, _dict(payload.get("pull_request")))
    if event_name == "merge_group":
        base = _str(_dict(payload.get("merge_group")).get("base_ref"))
        if base:
            return Origin("merge-queue", _short_ref(base))
    if ref.startswith("refs/tags/") or env.get("GITHUB_REF_TYPE") == "tag":
        return Origin("tag", env.get("GITHUB_REF_NAME") or _short_ref(ref))
    if ref.startswith("refs/heads/"):
        return branch_origin(_short_ref(ref))  # `on: push` workflows run on the queue's branches too
    if env.get("GITHUB_REF_NAME"):
        return Origin("branch", env["GITHUB_REF_NAME"])
    return Origin("unknown")


def _origin_of_pull_request(env: Mapping[str, str], pull: Mapping[str, Any]) -> Origin:
    """A pull request's run is about its head branch: of this repository, or of a fork."""
    head, base = _dict(pull.get("head")), _dict(pull.get("base"))
    branch = env.get("GITHUB_HEAD_REF") or _str(head.get("ref"))
    if not pull or not branch:
        return Origin("unverified", reason="the event file does not say where the pull request came from")
    head_repo = _str(_dict(head.get("repo")).get("full_name"))
    base_repo = _str(_dict(base.get("repo")).get("full_name"))
    if head_repo is None:
        # The fork was deleted: GitHub sends `head.repo: null`; its owner is still in the label.
        label = _str(head.get("label")) or ""
        owner = label.split(":", 1)[0] if ":" in label else _login(head.get("user"))
        return Origin("fork", branch, owner or "unknown")
    if base_repo is not None and head_repo.lower() != base_repo.lower():
        return Origin("fork", branch, head_repo.split("/", 1)[0])
    return Origin("branch", branch)


# -- watched runs ------------------------------------------------------------------------------------


class _Links:
    """Links from the event file: only an http(s) URL fit for a link is kept; what is dropped is said."""

    def __init__(self, debug: Callable[[str], None]) -> None:
        self._debug = debug

    def __call__(self, value: object, what: str) -> str | None:
        text = _str(value)
        if text is None:
            return None
        kept = untrusted.link(text)
        if kept is None:
            self._debug(f"The event file's {what} is no http(s) URL fit for a link, so it is left out.")
        return kept


def _repository_name(value: object, fallback: str) -> str:
    """A payload's owner/name where it is one, else this repository's (GITHUB_REPOSITORY)."""
    name = _str(value)
    return name if name and REPOSITORY_NAME.fullmatch(name) else fallback


def _watched_workflow_run(
    payload: Mapping[str, Any], server_url: str, repository: str, _links: _Links
) -> WorkflowRun | None:
    run = _dict(payload.get("workflow_run"))
    if not run:
        return None
    repository = _repository_name(_dict(run.get("repository")).get("full_name"), repository)
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
    event = _str(run.get("event"))
    origin = origin_of_actions_run(
        event,
        _str(run.get("head_branch")),
        _str(_dict(run.get("head_repository")).get("full_name")),
        repository,
    )
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=workflow,
        job=None,
        ref=None,
        branch=origin.name if origin.kind in PLACED_KINDS else _str(run.get("head_branch")),
        event_name=event,
        run_id=run_id,
        run_number=_int(run.get("run_number")),
        run_attempt=_int(run.get("run_attempt")),
        run_url=f"{repo_url}/actions/runs/{run_id}" if run_id else None,
        actor=_login(run.get("triggering_actor")) or _login(run.get("actor")),
        commit=_commit(repo_url, sha, head_commit),
        pull_request=_first_pull_request(run.get("pull_requests"), repo_url),
        watched=Watched("workflow_run", _str(run.get("status")) == "completed", _str(run.get("conclusion"))),
        workflow_id=str(number) if (number := _int(run.get("workflow_id"))) else None,
        origin=origin,
        workflow_file=_file_name(_str(run.get("path"))),
        definition=file_at(f"{repository}/{_str(run.get('path'))}@{sha}") if sha else None,
    )


def _watched_check(
    kind: str, payload: Mapping[str, Any], server_url: str, repository: str, links: _Links
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
    origin = origin_of_actions_run(kind, _str(suite.get("head_branch")), None, repository)
    if kind == "check_run":
        url = links(check.get("html_url"), "check run URL") or (
            f"{repo_url}/runs/{check_id}" if check_id else None
        )
    else:
        url = f"{repo_url}/commit/{sha}/checks?check_suite_id={check_id}" if sha and check_id else None
    return WorkflowRun(
        server_url=server_url,
        repository=repository,
        workflow=name,
        job=None,
        ref=None,
        branch=origin.name,
        event_name=kind,
        run_id=check_id,
        run_number=None,
        run_attempt=None,
        run_url=url,
        actor=_login(payload.get("sender")),
        commit=_commit(repo_url, sha, _dict(suite.get("head_commit"))),
        pull_request=_first_pull_request(check.get("pull_requests"), repo_url),
        watched=Watched(kind, _str(check.get("status")) == "completed", _str(check.get("conclusion"))),
        key_scope=f"github-{kind.replace('_', '-')}",
        origin=origin,
    )


def _watched_deployment(
    payload: Mapping[str, Any], server_url: str, repository: str, links: _Links
) -> WorkflowRun | None:
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
        run_url=links(status.get("log_url"), "deployment log URL")
        or links(status.get("target_url"), "deployment target URL")
        or f"{repo_url}/deployments",
        actor=_login(status.get("creator")) or _login(payload.get("sender")),
        commit=Commit(sha, f"{repo_url}/commit/{sha}") if sha else None,
        pull_request=None,
        watched=Watched("deployment_status", state in ("success", "failure", "error", "inactive"), state),
        key_scope="github-deployment",
        origin=Origin("deployment", environment),
    )


_WATCHED_READERS = {
    "workflow_run": _watched_workflow_run,
    "check_suite": lambda p, s, r, links: _watched_check("check_suite", p, s, r, links),
    "check_run": lambda p, s, r, links: _watched_check("check_run", p, s, r, links),
    "deployment_status": _watched_deployment,
}


# -- small readers that tolerate odd payloads ----------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return untrusted.number(value)


def _login(actor: object) -> str | None:
    return _str(_dict(actor).get("login"))


def _commit(repo_url: str, sha: str | None, head_commit: Mapping[str, Any]) -> Commit | None:
    if not sha:
        return None
    message, author = _str(head_commit.get("message")), _author(head_commit.get("author"))
    return Commit(sha, f"{repo_url}/commit/{sha}", message, author)


def _author(author: object) -> str | None:
    """A commit's author: their GitHub login where the payload has it, else their name (never the email)."""
    return _str(_dict(author).get("username")) or _str(_dict(author).get("name"))


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
