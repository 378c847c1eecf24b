"""A local stand-in for the parts of GitHub's REST API the action reads, on 127.0.0.1 only.

Answers with the real API's shapes (docs.github.com/rest/actions, /rest/checks, /rest/git): the jobs of
a run attempt or of a run's latest attempt, one run, the runs of a workflow filtered by branch and status,
a job's check run annotations (a JSON array), paginated with `Link` headers, and tag refs (lightweight
tags point at a commit, annotated ones at a tag object, which may point at another). It checks the bearer
token like GitHub (401 Bad credentials) and can be scripted with GitHub's 403 and rate-limit
answers. Tests select it through GITHUB_API_URL.

It holds to GitHub's published description (tests/support/github_openapi.py): every request it receives
must be one the description allows, and every answer it gives, scripted or its own, must validate against
the operation's response schema for its status; each answer carries every required field (the
description's own examples fill what a test does not set). What breaks the contract is collected in
`contract_violations`, and stopping the stand-in fails the test that made it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support import github_openapi
from tests.support.actions_runner import CHECK_RUN_ID, default_github_env
from tests.support.http_stand_in import HttpStandIn, Received, Reply

DOCS = "https://docs.github.com/rest"
_ids = itertools.count(29679449)
# The run a step is in, and its runner, as default_github_env() describes them.
THIS_RUN_ID = int(default_github_env()["GITHUB_RUN_ID"])
THIS_RUN_NUMBER = int(default_github_env()["GITHUB_RUN_NUMBER"])
THIS_RUNNER = default_github_env()["RUNNER_NAME"]


def step(name: str, conclusion: str | None = "success", status: str = "completed") -> dict[str, Any]:
    """A step as GitHub lists it: `status` queued, in_progress or completed (conclusion null until then)."""
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "number": 1,
        "started_at": None,
        "completed_at": None,
    }


def job(
    name: str,
    conclusion: str | None,
    steps: list[dict[str, Any]] | None = None,
    *,
    status: str = "completed",
    runner_name: str = "GitHub Actions 7",
    minutes: float = 4.2,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """A job as GET .../actions/runs/{id}/attempts/{n}/jobs lists it (run fields filled in later).

    It started `minutes` ago (a completed one ran that long and has just ended). A job still `queued` or
    `waiting` (for an environment's approval) has no runner yet: GitHub gives null for its runner's
    name, id and group.
    """
    job_id = next(_ids)
    now = datetime.now(UTC)
    started = now - timedelta(minutes=minutes)
    unassigned = status in ("queued", "waiting", "pending", "requested")
    return {
        "id": job_id,
        "run_id": 0,
        "run_attempt": 1,
        "workflow_name": "CI",
        "head_branch": "main",
        "html_url": "",
        "status": status,
        "conclusion": conclusion,
        "name": name,
        "steps": steps or [],
        "labels": labels if labels is not None else ["ubuntu-latest"],
        "runner_id": None if unassigned else 7,
        "runner_name": None if unassigned else runner_name,
        "runner_group_id": None if unassigned else 2,
        "runner_group_name": None if unassigned else "GitHub Actions",
        "created_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "completed_at": now.strftime("%Y-%m-%dT%H:%M:%SZ") if status == "completed" else None,
    }


def running_job(*steps: dict[str, Any], name: str = "test", minutes: float = 4.2) -> dict[str, Any]:
    """The job the step is in: still in progress, on this runner."""
    return job(name, None, list(steps), status="in_progress", runner_name=THIS_RUNNER, minutes=minutes)


def this_job(
    *steps: dict[str, Any], name: str = "test", check_run_id: int | str = CHECK_RUN_ID
) -> dict[str, Any]:
    """The job the step is in, as GitHub's API lists it while it runs: found by its id, which is
    `${{ job.check_run_id }}`."""
    mine = running_job(*steps, name=name)
    mine["id"] = int(check_run_id)
    return mine


def annotation(
    message: str, level: str = "failure", *, title: str | None = None, path: str = ".github", line: int = 1
) -> dict[str, Any]:
    """A check run annotation as GitHub lists it; the runner's own have the path `.github`."""
    return {
        "path": path,
        "blob_href": f"https://github.com/octo-org/octo-repo/blob/6113728f27ae/{path}",
        "start_line": line,
        "end_line": line,
        "start_column": None,
        "end_column": None,
        "annotation_level": level,
        "title": title,
        "message": message,
        "raw_details": None,
    }


def exit_code(code: int = 1) -> dict[str, Any]:
    """What the runner records for every failed step."""
    return annotation(f"Process completed with exit code {code}.")


@dataclass
class FakeRun:
    run_id: int
    conclusion: str | None
    branch: str | None = "main"  # None: GitHub gives a null head_branch (e.g. its ref is gone)
    workflow_file: str = "ci.yml"
    workflow_id: int = 161335
    status: str = "completed"
    attempts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # attempt → jobs
    run_number: int = 1
    event: str = "push"
    head_repository: str | None = None  # None: the stand-in's repository; else a fork's

    @property
    def head_sha(self) -> str:
        return hashlib.sha1(str(self.run_id).encode(), usedforsecurity=False).hexdigest()


# The workflow file the GITHUB_* variables of a test step name (ci.yml), as a repository would hold it: its
# `test` job, with GitHub's default timeout (360 minutes) unless a test gives it another.
CI_WORKFLOW = """\
name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""


def workflow_with(**jobs: dict[str, Any]) -> str:
    """A workflow file (ci.yml) defining these jobs (`test={"timeout-minutes": 30}`)."""
    import yaml  # noqa: PLC0415

    document = {
        "name": "CI",
        "on": "push",
        "jobs": {job_id: {"runs-on": "ubuntu-latest", **spec} for job_id, spec in jobs.items()},
    }
    return str(yaml.safe_dump(document, sort_keys=False))


def api_error(status: int, message: str) -> dict[str, Any]:
    return {"message": message, "documentation_url": DOCS, "status": str(status)}


def rate_limited(status: int = 403) -> Reply:
    """GitHub's answer once the token's rate limit is used up."""
    return Reply(
        status,
        api_error(status, "API rate limit exceeded for installation. (But here's the good news: ...)"),
        headers={
            "x-ratelimit-limit": "1000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": "1798761600",
        },
    )


def not_accessible() -> Reply:
    """A restricted default token without `actions: read`."""
    return Reply(403, api_error(403, "Resource not accessible by integration"))


class GitHubApiStandIn(HttpStandIn):
    def __init__(
        self,
        token: str,
        repository: str = "octo-org/octo-repo",
        page_size: int | None = None,
        *,
        check_contract: bool = True,
    ) -> None:
        super().__init__()
        self.check_contract = check_contract  # off only in `make demo`, which shows the action, not tests it
        self.token = token
        self.repository = repository
        self.page_size = page_size  # a smaller page than asked for, to make it paginate
        self.jobs_delay = 0.0  # seconds before each answer about jobs, as a slow GitHub would take
        self.delay = 0.0  # seconds before every answer
        self.runs: dict[int, FakeRun] = {}
        self.annotations: dict[int, list[dict[str, Any]]] = {}  # job (check run) id → its annotations
        self.annotations_status: int | None = None  # e.g. 403: a token without checks: read
        self.tags: dict[str, str] = {}  # tag name → the commit a lightweight tag points at
        self.annotated_tags: dict[str, str] = {}  # tag name → the commit an annotated tag points at
        # tag name → (levels, commit): an annotated tag whose object is another annotated tag, `levels` deep
        self.nested_tags: dict[str, tuple[int, str]] = {}
        # The order runs are listed in, which GitHub's description never promises: newest first (as seen),
        # oldest first, or shuffled (by a fixed seed).
        self.run_order: Literal["newest", "oldest", "shuffled"] = "newest"
        self.down = False  # an outage: every request is answered 503
        self.answers_before_failing: int | None = None  # a flaky GitHub: this many answers, then 503s
        # `Link: rel="next"` URLs as github.com may write them: `/repositories/{id}/...`, not `/repos/...`.
        self.repository_id = 1296269
        self.links_by_id = False
        self.empty_repository = False  # git/get-ref answers 409, as for a repository with no commits
        # The token's primary rate limit, reported on every answer (x-ratelimit-*), 403 once used up.
        self.rate_limit = 1000
        self.rate_used = 0
        self.contract_violations: list[str] = []  # requests and answers outside GitHub's description
        # The repository's files (any commit), for repos/get-content: the workflow files that define jobs.
        self.files: dict[str, str] = {".github/workflows/ci.yml": CI_WORKFLOW}

    def stop(self) -> None:
        super().stop()
        if self.contract_violations:
            listed = "\n  ".join(dict.fromkeys(self.contract_violations))
            raise AssertionError(f"Outside GitHub's published description of its API:\n  {listed}")

    def _next_reply(self, request: Received) -> Reply:
        """The reply, after checking the request and then the answer against GitHub's description."""
        reply = super()._next_reply(request)
        if not reply.drop:
            reply = self._counted(reply)
        if not self.check_contract:
            return reply
        args = (self.repository, self.repository_id)
        problems = github_openapi.check_request(request.method, request.path, *args)
        if not reply.drop:
            problems += github_openapi.check_answer(
                request.method, request.path, reply.status, reply.body, *args
            )
        if problems:
            with self._lock:
                self.contract_violations.extend(f"{request.method} {request.path}: {p}" for p in problems)
        return reply

    def _counted(self, reply: Reply) -> Reply:
        """The reply with GitHub's rate-limit headers, which every answer carries (a scripted reply's own
        headers win); once the limit is used up, GitHub's primary rate-limit answer instead."""
        with self._lock:
            self.rate_used += 1
            used = self.rate_used
        if used > self.rate_limit and reply.status == 200:
            reply = rate_limited()
        headers = {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - used)),
            "x-ratelimit-used": str(min(used, self.rate_limit)),
            "x-ratelimit-reset": "1798761600",
            "x-ratelimit-resource": "core",
        }
        return dataclasses.replace(reply, headers={**headers, **reply.headers})

    def add_run(self, run: FakeRun, attempt: int = 1, jobs: list[dict[str, Any]] | None = None) -> FakeRun:
        self.runs[run.run_id] = run
        if jobs is not None:
            for item in jobs:
                item.update(
                    run_id=run.run_id,
                    run_attempt=attempt,
                    head_branch=run.branch,
                    html_url=f"https://github.com/{self.repository}/actions/runs/{run.run_id}/job/{item['id']}",
                )
            run.attempts[attempt] = jobs
        return run

    def this_run(self, *jobs: dict[str, Any], attempt: int = 1) -> list[dict[str, Any]]:
        """The run the step is in (an attempt of THIS_RUN_ID, still in progress), with these jobs."""
        run = FakeRun(THIS_RUN_ID, None, status="in_progress", run_number=THIS_RUN_NUMBER)
        self.add_run(run, attempt=attempt, jobs=list(jobs))
        return list(jobs)

    def this_run_with_failed_siblings(self, *names: str) -> list[dict[str, Any]]:
        """This run, with jobs `names` failed (each with an assertion error and the runner's exit code as
        its annotations) beside this job, still running after its own step failed."""
        siblings = [job(name, "failure", [step("run", "failure")]) for name in names]
        for sibling in siblings:
            self.annotations[sibling["id"]] = [annotation("AssertionError: 2 != 3", path="t.py"), exit_code()]
        return self.this_run(*siblings, running_job(step("Run pytest", "failure")))

    def newer_run(
        self, *jobs: dict[str, Any], conclusion: str | None = None, after: int = 1, **fields: Any
    ) -> FakeRun:
        """Run #THIS_RUN_NUMBER+after of ci.yml on main, with these jobs: still going unless told how it
        ended. `fields` are other FakeRun fields (`event`, `head_repository`)."""
        return self._run_beside(after, list(jobs), conclusion, fields)

    def earlier_run(self, *jobs: dict[str, Any], conclusion: str | None = None) -> FakeRun:
        """The run just before this one (#THIS_RUN_NUMBER-1), with these jobs: still going unless told
        how it ended."""
        return self._run_beside(-1, list(jobs), conclusion, {})

    def _run_beside(
        self, offset: int, jobs: list[dict[str, Any]], conclusion: str | None, fields: dict[str, Any]
    ) -> FakeRun:
        status = "completed" if conclusion else "in_progress"
        number = THIS_RUN_NUMBER + offset
        run = FakeRun(THIS_RUN_ID + 5 * offset, conclusion, run_number=number, status=status, **fields)
        return self.add_run(run, jobs=jobs)

    def history(
        self,
        *conclusions: str | None,
        branch: str = "main",
        start: int = 1658821000,
        number: int | None = None,
    ) -> None:
        """Completed runs of ci.yml on a branch, oldest first, each with one job 'test'.

        Run ids count up from `start` and run numbers from `number`: by default, so that the last one
        comes just before this run (THIS_RUN_NUMBER), as earlier runs do.
        """
        if number is None:
            number = max(1, THIS_RUN_NUMBER - len(conclusions))
        for offset, conclusion in enumerate(conclusions):
            run = FakeRun(start + offset, conclusion, branch, run_number=number + offset)
            self.add_run(run, jobs=[job("test", conclusion)])

    def answer(self, request: Received) -> Reply:
        time.sleep(self.delay)
        if self.down:
            return Reply(503, api_error(503, "Service Unavailable"))
        if self.answers_before_failing is not None:
            with self._lock:
                flaky = self.answers_before_failing <= 0
                self.answers_before_failing -= 1
            if flaky:
                return Reply(503, api_error(503, "Service Unavailable"))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, api_error(401, "Bad credentials"))
        parts = urlsplit(request.path)
        parts = parts._replace(
            path=github_openapi.repos_path(parts.path, self.repository, self.repository_id)
        )
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        if match := re.fullmatch(rf"/repos/{self.repository}/contents/(.+)", parts.path):
            return self._file(match.group(1))
        if match := re.fullmatch(rf"/repos/{self.repository}/check-runs/(\d+)/annotations", parts.path):
            return self._annotations(parts.path, query, int(match.group(1)))
        if match := re.fullmatch(rf"/repos/{self.repository}/git/ref/tags/(.+)", parts.path):
            return self._tag_ref(match.group(1))
        if match := re.fullmatch(rf"/repos/{self.repository}/git/tags/([0-9a-f]+)", parts.path):
            return self._tag_object(match.group(1))
        prefix = f"/repos/{self.repository}/actions"
        path = parts.path.removeprefix(prefix) if parts.path.startswith(prefix + "/") else ""
        if match := re.fullmatch(r"/runs/(\d+)/attempts/(\d+)/jobs", path):
            run = self.runs.get(int(match.group(1)))
            if run is None or int(match.group(2)) not in run.attempts:
                return Reply(404, api_error(404, "Not Found"))
            jobs = run.attempts[int(match.group(2))]
            return self._page(parts.path, query, "jobs", [self._job_json(run, item) for item in jobs])
        if match := re.fullmatch(r"/runs/(\d+)/jobs", path):
            time.sleep(self.jobs_delay)
            run = self.runs.get(int(match.group(1)))
            if run is None:
                return Reply(404, api_error(404, "Not Found"))
            latest = run.attempts[max(run.attempts)] if run.attempts else []  # a queued run: no jobs yet
            return self._page(parts.path, query, "jobs", [self._job_json(run, item) for item in latest])
        if match := re.fullmatch(r"/runs/(\d+)", path):
            run = self.runs.get(int(match.group(1)))
            return Reply(200, self._run_json(run)) if run else Reply(404, api_error(404, "Not Found"))
        if match := re.fullmatch(r"/workflows/([^/]+)/runs", path):
            workflow = match.group(1)
            runs = [
                run
                for run in self._runs_in_order()
                if workflow in (run.workflow_file, str(run.workflow_id))
                and run.branch == query.get("branch", run.branch)
                and run.status == query.get("status", run.status)
            ]
            return self._page(parts.path, query, "workflow_runs", [self._run_json(run) for run in runs])
        return Reply(404, api_error(404, "Not Found"))

    def _file(self, path: str) -> Reply:
        """A file's content, base64 (repos/get-content), as the description's example answers it."""
        import base64  # noqa: PLC0415

        text = self.files.get(path)
        if text is None:
            return Reply(404, api_error(404, "Not Found"))
        data = text.encode("utf-8")
        body: dict[str, Any] = github_openapi.example("content-file-response-if-content-is-a-file")
        sha = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        api = f"https://api.github.com/repos/{self.repository}/contents/{path}"
        body.update(
            name=path.rsplit("/", 1)[-1],
            path=path,
            sha=sha,
            size=len(data),
            content=base64.encodebytes(data).decode("ascii"),
            encoding="base64",
            url=api,
        )
        return Reply(200, body)

    def _tag_ref(self, name: str) -> Reply:
        if self.empty_repository:
            return Reply(409, api_error(409, "Git Repository is empty."))
        if name in self.tags:
            target = {"type": "commit", "sha": self.tags[name]}
        elif name in self.annotated_tags or name in self.nested_tags:
            target = {"type": "tag", "sha": _tag_object_sha(name, 0)}
        else:
            return Reply(404, api_error(404, "Not Found"))
        api = f"https://api.github.com/repos/{self.repository}"
        kind = "commits" if target["type"] == "commit" else "tags"
        body = {
            "ref": f"refs/tags/{name}",
            "node_id": "REF_kwDOAAABw3a0cmVmcy90YWdz",
            "url": f"{api}/git/refs/tags/{name}",
            "object": target | {"url": f"{api}/git/{kind}/{target['sha']}"},
        }
        return Reply(200, body)

    def _tag_object(self, sha: str) -> Reply:
        """An annotated tag object: it points at the commit, or (a tag of a tag) at the next tag object."""
        chains = {name: (0, commit) for name, commit in self.annotated_tags.items()} | self.nested_tags
        for name, (levels, commit) in chains.items():
            for level in range(levels + 1):
                if _tag_object_sha(name, level) != sha:
                    continue
                if level < levels:
                    target = {"type": "tag", "sha": _tag_object_sha(name, level + 1)}
                else:
                    target = {"type": "commit", "sha": commit}
                return Reply(200, self._tag_json(name, sha, target))
        return Reply(404, api_error(404, "Not Found"))

    def _tag_json(self, name: str, sha: str, target: dict[str, str]) -> dict[str, Any]:
        api = f"https://api.github.com/repos/{self.repository}"
        kind = "commits" if target["type"] == "commit" else "tags"
        body: dict[str, Any] = github_openapi.example("git-tag")
        body.update(
            sha=sha,
            tag=name,
            message=f"Release {name}\n",
            url=f"{api}/git/tags/{sha}",
            object=target | {"url": f"{api}/git/{kind}/{target['sha']}"},
        )
        return body

    def _annotations(self, path: str, query: dict[str, str], check_run_id: int) -> Reply:
        if self.annotations_status is not None:
            message = (
                "Resource not accessible by integration" if self.annotations_status == 403 else "Not Found"
            )
            return Reply(self.annotations_status, api_error(self.annotations_status, message))
        known = {item["id"] for run in self.runs.values() for jobs in run.attempts.values() for item in jobs}
        if check_run_id not in known:
            return Reply(404, api_error(404, "Not Found"))
        return self._page(path, query, None, self.annotations.get(check_run_id, []))

    def jobs_body(self, run_id: int, attempt: int = 1) -> dict[str, Any]:
        """The body GitHub answers for the jobs of a run's attempt, for a test that scripts a reply."""
        run = self.runs[run_id]
        jobs = [self._job_json(run, item) for item in run.attempts[attempt]]
        return {"total_count": len(jobs), "jobs": jobs}

    def _runs_in_order(self) -> list[FakeRun]:
        runs = sorted(self.runs.values(), key=lambda run: run.run_id, reverse=self.run_order == "newest")
        if self.run_order == "shuffled":
            random.Random(len(runs)).shuffle(runs)  # noqa: S311 - an order, not a secret
        return runs

    def _job_json(self, run: FakeRun, item: dict[str, Any]) -> dict[str, Any]:
        """A job with every field GitHub's job schema requires: the test's, and for the rest what GitHub
        would give a job of this run (its URLs, its run's commit, its creation time)."""
        api = f"https://api.github.com/repos/{self.repository}"
        job_id = item["id"]
        defaults: dict[str, Any] = {
            "node_id": f"CR_kwDO{job_id}",
            "run_url": f"{api}/actions/runs/{run.run_id}",
            "url": f"{api}/actions/jobs/{job_id}",
            "check_run_url": f"{api}/check-runs/{job_id}",
            "head_sha": run.head_sha,
            "workflow_name": "CI",
            "head_branch": run.branch,
            "runner_id": None,
            "runner_name": None,
            "runner_group_id": None,
            "runner_group_name": None,
            "labels": [],
            "created_at": item.get("started_at") or "2026-11-26T08:00:00Z",
            "completed_at": None,
        }
        steps = [{"started_at": None, "completed_at": None} | step for step in item.get("steps", [])]
        return defaults | item | {"steps": steps}

    def _run_json(self, run: FakeRun) -> dict[str, Any]:
        """A workflow run with every field GitHub's schema requires: the description's example, with this
        run's own fields, its repository and its head repository (a fork's where it is one)."""
        head_repository = run.head_repository or self.repository
        api = f"https://api.github.com/repos/{self.repository}"
        body: dict[str, Any] = github_openapi.example("workflow-run")
        body.update(
            id=run.run_id,
            node_id=f"WFR_kwLO{run.run_id}",
            name="CI",
            display_title=f"Change {run.run_number}",
            run_number=run.run_number,
            head_branch=run.branch,
            head_sha=run.head_sha,
            head_commit=body["head_commit"] | {"id": run.head_sha, "tree_id": run.head_sha},
            head_repository=self._repository_json(head_repository),
            repository=self._repository_json(self.repository),
            path=f".github/workflows/{run.workflow_file}",
            workflow_id=run.workflow_id,
            run_attempt=max(run.attempts, default=1),
            previous_attempt_url=(
                f"{api}/actions/runs/{run.run_id}/attempts/{max(run.attempts) - 1}"
                if max(run.attempts, default=1) > 1
                else None
            ),
            event=run.event,
            status=run.status,
            conclusion=run.conclusion,
            pull_requests=[],
            referenced_workflows=[],
            url=f"{api}/actions/runs/{run.run_id}",
            html_url=f"https://github.com/{self.repository}/actions/runs/{run.run_id}",
            jobs_url=f"{api}/actions/runs/{run.run_id}/jobs",
            logs_url=f"{api}/actions/runs/{run.run_id}/logs",
            check_suite_url=f"{api}/check-suites/{run.run_id + 7}",
            artifacts_url=f"{api}/actions/runs/{run.run_id}/artifacts",
            cancel_url=f"{api}/actions/runs/{run.run_id}/cancel",
            rerun_url=f"{api}/actions/runs/{run.run_id}/rerun",
            workflow_url=f"{api}/actions/workflows/{run.workflow_id}",
            created_at="2026-11-26T08:00:00Z",
            updated_at="2026-11-26T08:04:00Z",
            run_started_at="2026-11-26T08:00:00Z",
        )
        return body

    def _repository_json(self, full_name: str) -> dict[str, Any]:
        """A minimal repository as a workflow run gives it (every required field), from the example's."""
        example: dict[str, Any] = github_openapi.example("workflow-run")["repository"]
        owner, name = full_name.split("/", 1)
        template = json.dumps(example).replace("octo-org/Hello-World", full_name)
        template = template.replace("octocat/Hello-World", full_name)
        body: dict[str, Any] = json.loads(template)
        body.update(name=name, full_name=full_name, fork=full_name != self.repository)
        body["owner"] = body["owner"] | {"login": owner}
        if full_name == self.repository:
            body["id"] = self.repository_id
        return body

    def _page(self, path: str, query: dict[str, str], key: str | None, items: list[dict[str, Any]]) -> Reply:
        """One page: `{"total_count": n, key: [...]}`, or the bare list where `key` is None. Its `Link`
        names the next and last pages, as GitHub's does; on the `/repositories/{id}` path where
        `links_by_id`, as github.com may."""
        per_page = min(int(query.get("per_page", "30")), 100, self.page_size or 100)
        page = int(query.get("page", "1"))
        chosen = items[(page - 1) * per_page : page * per_page]
        headers = {}
        last = max(1, -(-len(items) // per_page))
        if self.links_by_id:
            path = path.replace(f"/repos/{self.repository}/", f"/repositories/{self.repository_id}/", 1)
        links = []

        def link(number: int, rel: str) -> str:
            target = urlencode({**query, "page": number, "per_page": per_page})
            return f'<{self.url}{path}?{target}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        if links:
            headers["Link"] = ", ".join(links)
        body: Any = chosen if key is None else {"total_count": len(items), key: chosen}
        return Reply(200, body, headers=headers)


def _tag_object_sha(name: str, level: int) -> str:
    """An annotated tag's object id (`level` down a chain of tags of tags): made up, stable for its name."""
    return hashlib.sha1(f"{name}/{level}".encode(), usedforsecurity=False).hexdigest()
