"""A local stand-in for the parts of GitHub's REST API the action reads, on 127.0.0.1 only.

Answers with the real API's shapes (docs.github.com/rest/actions, /rest/checks, /rest/git): the jobs of
a run attempt or of a run's latest attempt, one run, the runs of a workflow filtered by branch and status,
a job's check run annotations (a JSON array), paginated with `Link` headers, and tag refs (lightweight
tags point at a commit, annotated ones at a tag object). It checks the bearer
token like GitHub (401 Bad credentials) and can be scripted with GitHub's 403 and rate-limit
answers. Tests select it through GITHUB_API_URL.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.actions_runner import CHECK_RUN_ID, default_github_env
from tests.support.http_stand_in import HttpStandIn, Received, Reply

DOCS = "https://docs.github.com/rest"
_ids = itertools.count(29679449)
# The run a step is in, and its runner, as default_github_env() describes them.
THIS_RUN_ID = int(default_github_env()["GITHUB_RUN_ID"])
THIS_RUN_NUMBER = int(default_github_env()["GITHUB_RUN_NUMBER"])
THIS_RUNNER = default_github_env()["RUNNER_NAME"]


def step(name: str, conclusion: str | None = "success", status: str = "completed") -> dict[str, Any]:
    return {"name": name, "status": status, "conclusion": conclusion, "number": 1, "started_at": None}


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

    It started `minutes` ago (a completed one ran that long and has just ended).
    """
    job_id = next(_ids)
    now = datetime.now(UTC)
    started = now - timedelta(minutes=minutes)
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
        "runner_id": 7,
        "runner_name": runner_name,
        "runner_group_name": "GitHub Actions",
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
    branch: str = "main"
    workflow_file: str = "ci.yml"
    workflow_id: int = 161335
    status: str = "completed"
    attempts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # attempt → jobs
    run_number: int = 1
    event: str = "push"
    head_repository: str | None = None  # None: the stand-in's repository; else a fork's


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
        self, token: str, repository: str = "octo-org/octo-repo", page_size: int | None = None
    ) -> None:
        super().__init__()
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
        self.oldest_first = False  # list runs oldest first: GitHub's order is not documented
        self.down = False  # an outage: every request is answered 503
        self.answers_before_failing: int | None = None  # a flaky GitHub: this many answers, then 503s

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
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
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
            return self._page(parts.path, query, "jobs", run.attempts[int(match.group(2))])
        if match := re.fullmatch(r"/runs/(\d+)/jobs", path):
            time.sleep(self.jobs_delay)
            run = self.runs.get(int(match.group(1)))
            if run is None or not run.attempts:
                return Reply(404, api_error(404, "Not Found"))
            return self._page(parts.path, query, "jobs", run.attempts[max(run.attempts)])
        if match := re.fullmatch(r"/runs/(\d+)", path):
            run = self.runs.get(int(match.group(1)))
            return Reply(200, self._run_json(run)) if run else Reply(404, api_error(404, "Not Found"))
        if match := re.fullmatch(r"/workflows/([^/]+)/runs", path):
            workflow = match.group(1)
            runs = [
                run
                for run in sorted(
                    self.runs.values(), key=lambda run: run.run_id, reverse=not self.oldest_first
                )
                if workflow in (run.workflow_file, str(run.workflow_id))
                and run.branch == query.get("branch", run.branch)
                and run.status == query.get("status", run.status)
            ]
            return self._page(parts.path, query, "workflow_runs", [self._run_json(run) for run in runs])
        return Reply(404, api_error(404, "Not Found"))

    def _tag_ref(self, name: str) -> Reply:
        if name in self.tags:
            target = {"type": "commit", "sha": self.tags[name]}
        elif name in self.annotated_tags:
            target = {"type": "tag", "sha": _tag_object_sha(name)}
        else:
            return Reply(404, api_error(404, "Not Found"))
        url = f"https://api.github.com/repos/{self.repository}/git/refs/tags/{name}"
        return Reply(200, {"ref": f"refs/tags/{name}", "node_id": "REF_kwDO", "url": url, "object": target})

    def _tag_object(self, sha: str) -> Reply:
        for name, commit in self.annotated_tags.items():
            if _tag_object_sha(name) == sha:
                body = {"sha": sha, "tag": name, "message": f"Release {name}\n"}
                return Reply(200, body | {"object": {"type": "commit", "sha": commit}})
        return Reply(404, api_error(404, "Not Found"))

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

    def _run_json(self, run: FakeRun) -> dict[str, Any]:
        head_repository = run.head_repository or self.repository
        return {
            "id": run.run_id,
            "name": "CI",
            "run_number": run.run_number,
            "head_branch": run.branch,
            "head_repository": {"full_name": head_repository, "fork": head_repository != self.repository},
            "repository": {"full_name": self.repository},
            "path": f".github/workflows/{run.workflow_file}",
            "workflow_id": run.workflow_id,
            "run_attempt": max(run.attempts, default=1),
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "html_url": f"https://github.com/{self.repository}/actions/runs/{run.run_id}",
            "created_at": "2026-11-26T08:00:00Z",
        }

    def _page(self, path: str, query: dict[str, str], key: str | None, items: list[dict[str, Any]]) -> Reply:
        """One page: `{"total_count": n, key: [...]}`, or the bare list where `key` is None."""
        per_page = min(int(query.get("per_page", "30")), 100, self.page_size or 100)
        page = int(query.get("page", "1"))
        chosen = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            next_query = urlencode({**query, "page": page + 1, "per_page": per_page})
            headers["Link"] = f'<{self.url}{path}?{next_query}>; rel="next"'
        body: Any = chosen if key is None else {"total_count": len(items), key: chosen}
        return Reply(200, body, headers=headers)


def _tag_object_sha(name: str) -> str:
    """An annotated tag's object id: made up, stable for its name."""
    return hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
