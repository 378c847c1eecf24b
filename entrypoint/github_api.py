"""Talking to GitHub's REST API: the jobs of a run, their check runs' annotations, a workflow's runs, tags.

GitHub's API only ever adds detail to an alert; it must never hold one back or slow it down much:
- every call shares one time budget (a few seconds in all), which bounds each call whole, its answer's
  body included (http_call.py); a call that would overrun it is not made;
- nothing is retried: the first failure raises `GitHubUnavailable`, and the caller makes no further call;
- the token travels only in the Authorization header, only to GITHUB_API_URL's host: redirects are
  not followed, `Link` pages on another host are not fetched, and `~/.netrc` is never consulted;
- the token's rate limit is the user's repository's (1,000 requests an hour for a workflow's
  GITHUB_TOKEN on github.com, shared by every workflow): every answer's `x-ratelimit-*` headers are
  kept, and `short_of_budget` tells the caller to skip the reads that only add detail.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests

from entrypoint import ACTION_NAME, __version__, messages, untrusted
from entrypoint.github_data import Annotation, GitHubUnavailable, Job, PastRun, Step, settled
from entrypoint.http_call import Answer, NoAnswer, call

BUDGET_SECONDS = 5.0  # for all calls together
MAX_ANSWER_BYTES = 8 * 1024 * 1024
MAX_PAGES = 5
PER_PAGE = 100
# Tags of tags followed at most (git/get-tag), from a tag's ref to its commit.
MAX_TAG_LEVELS = 4
# What is left of the rate limit below which only the reads that decide are made.
RESERVE_FRACTION = 0.1
PARALLEL_REQUESTS = 8
USER_AGENT = f"{ACTION_NAME}/{__version__}"
T = TypeVar("T")
K = TypeVar("K")
A = TypeVar("A")
B = TypeVar("B")


@dataclass
class GitHubApi:
    base_url: str  # GITHUB_API_URL: https://api.github.com, or https://<host>/api/v3 on GHES
    token: str
    budget_seconds: float = BUDGET_SECONDS
    debug: Callable[[str], None] = lambda _line: None
    clock: Callable[[], float] = time.monotonic
    session: requests.Session = field(default_factory=requests.Session)
    _deadline: float | None = field(default=None, init=False, repr=False)  # set by the first call
    # The token's rate limit as the latest answer gave it (x-ratelimit-limit and -remaining).
    rate_limit: int | None = field(default=None, init=False)
    rate_remaining: int | None = field(default=None, init=False)
    _rate_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def short_of_budget(self) -> bool:
        """What is left of the token's rate limit is under the reserve (a tenth of it): the repository's
        other workflows and actions need it more than an alert needs its detail."""
        with self._rate_lock:
            limit, remaining = self.rate_limit, self.rate_remaining
        return limit is not None and remaining is not None and remaining < limit * RESERVE_FRACTION

    def jobs_of_attempt(self, repository: str, run_id: int, attempt: int | None) -> list[Job]:
        """Every job of one attempt of a run (or of its latest attempt), in GitHub's order."""
        path = f"/repos/{repository}/actions/runs/{run_id}"
        if attempt:
            path += f"/attempts/{attempt}/jobs"
            params: dict[str, str | int] = {"per_page": PER_PAGE}
        else:
            path += "/jobs"
            params = {"per_page": PER_PAGE, "filter": "latest"}
        return [
            _job(item, self.debug) for item in self._pages(path, params, "jobs") if isinstance(item, dict)
        ]

    def jobs_of_runs(self, repository: str, run_ids: list[int]) -> dict[int, list[Job]]:
        """The jobs of each run's latest attempt, fetched side by side: one round trip, not one per run."""
        return self._side_by_side(run_ids, lambda run_id: self.jobs_of_attempt(repository, run_id, None))

    def jobs_of_attempts(
        self, repository: str, attempts: list[tuple[int, int]]
    ) -> dict[tuple[int, int], list[Job]]:
        """The jobs of given attempts of runs (`(run id, attempt)`), side by side."""
        return self._side_by_side(attempts, lambda key: self.jobs_of_attempt(repository, key[0], key[1]))

    def annotations_of_jobs(self, repository: str, job_ids: list[int]) -> dict[int, list[Annotation]]:
        """Each job's check run annotations (its errors and warnings), fetched side by side.

        GitHub records them when a job completes, so a job still running has none yet.
        """
        return self._side_by_side(job_ids, lambda job_id: self.annotations_of(repository, job_id))

    def annotations_of(self, repository: str, check_run_id: int) -> list[Annotation]:
        path = f"/repos/{repository}/check-runs/{check_run_id}/annotations"
        items = self._pages(path, {"per_page": PER_PAGE}, None)
        return [_annotation(item) for item in items if isinstance(item, dict)]

    def _side_by_side(self, keys: list[K], fetch: Callable[[K], T]) -> dict[K, T]:
        if not keys:
            return {}
        if len(keys) == 1:
            return {keys[0]: fetch(keys[0])}
        # Imported here: about 20 ms that a single request does not need.
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(keys))) as pool:
            futures = {key: pool.submit(fetch, key) for key in keys}
            return {key: future.result() for key, future in futures.items()}

    def file_text(self, repository: str, path: str, ref: str) -> str:
        """A file of a repository at a commit (repos/get-content), as text; GitHubUnavailable where it
        cannot be read (a 404: no such file, or no `contents: read`)."""
        url = self._url(f"/repos/{repository}/contents/{quote(path, safe='/')}")
        answer = self._get(url, {"ref": ref})[0]
        content = answer.get("content")
        if answer.get("type") != "file" or answer.get("encoding") != "base64" or not isinstance(content, str):
            raise GitHubUnavailable("it gave no file's content (a file over 1 MB?)", messages.GITHUB_FIX_NONE)
        import base64  # noqa: PLC0415 - only a cancelled or failed job's file needs it
        import binascii  # noqa: PLC0415

        try:
            return base64.b64decode(content).decode("utf-8")
        except (binascii.Error, ValueError):
            raise GitHubUnavailable("its file was not base64 UTF-8 text", messages.GITHUB_FIX_NONE) from None

    def workflow_of_run(self, repository: str, run_id: int) -> str:
        """The workflow id of a run, for when the workflow's file name is not known."""
        answer = self._get(self._url(f"/repos/{repository}/actions/runs/{run_id}"), {})[0]
        workflow_id = answer.get("workflow_id")
        if not isinstance(workflow_id, int):
            raise GitHubUnavailable("its answer had no workflow id", messages.GITHUB_FIX_NONE)
        return str(workflow_id)

    def runs_of_workflow(
        self,
        repository: str,
        workflow: str,
        branch: str | None,
        count: int,
        *,
        enough: Callable[[list[PastRun]], bool] = lambda _runs: True,
        pages: int = 1,
    ) -> tuple[list[PastRun], bool]:
        """Runs of a workflow (on a branch, if given), finished or not, in GitHub's order, and whether
        they are `enough`: read page by page (`Link`), `pages` at most, until `enough` says they cover
        what the caller needs or GitHub has no more. False: the bound was hit first.

        GitHub's order is not documented, so callers order them themselves (`PastRun.order`) and say
        what they need, not how many. Its branch filter matches the head branch whatever repository it
        is in, so a fork's `main` is listed with this repository's: the caller places each run by its
        own fields.
        """
        path = f"/repos/{repository}/actions/workflows/{quote(workflow, safe='')}/runs"
        params: dict[str, str | int] = {"per_page": count}
        if branch:
            params["branch"] = branch
        url: str | None = self._url(path)
        runs: list[PastRun] = []
        for _page in range(pages):
            if url is None:
                return runs, True
            answer, next_url = self._get(url, params)
            runs += [
                _past_run(item, self.debug)
                for item in answer.get("workflow_runs") or []
                if isinstance(item, dict) and isinstance(item.get("id"), int)
            ]
            if enough(runs):
                return runs, True
            params = {}  # the next link carries them
            url = next_url if next_url and _same_origin(next_url, self.base_url) else None
        return runs, url is None

    def tag_commit(self, repository: str, tag: str) -> str | None:
        """The commit the tag `tag` points at, or None where this repository has no such tag (GitHub
        answers 404, or 409 for a repository with no commits yet).

        An annotated tag's ref points at a tag object, which points at the commit, or at another tag
        object (a tag of a tag): followed MAX_TAG_LEVELS deep at most.
        """
        path = f"/repos/{repository}/git/ref/tags/{quote(tag, safe='/')}"
        try:
            target = self._get(self._url(path), {})[0].get("object")
        except GitHubUnavailable as exc:
            if exc.status in (404, 409):
                return None
            raise
        for level in range(MAX_TAG_LEVELS + 1):
            if not isinstance(target, dict):
                return None
            if target.get("type") == "commit":
                return _text(target.get("sha"))
            if (
                target.get("type") != "tag"
                or not isinstance(target.get("sha"), str)
                or level == MAX_TAG_LEVELS
            ):
                return None
            path = f"/repos/{repository}/git/tags/{quote(target['sha'], safe='')}"
            target = self._get(self._url(path), {})[0].get("object")
        return None

    def side_by_side(
        self, first: Callable[[], A], second: Callable[[], B]
    ) -> tuple[A | GitHubUnavailable, B | GitHubUnavailable]:
        """Two calls at once (one round trip, not two), each giving its answer or why it could not: the
        second on a thread of its own, the first on this one (no pool to import or start).

        Anything else the second call raises (a bug) is raised again here, on the caller's thread, where
        the entrypoint reports it in one line: a thread left to itself prints its traceback to the log.
        """
        answers: list[B | GitHubUnavailable] = []
        bugs: list[Exception] = []

        def run_second() -> None:
            try:
                answers.append(settled(second))
            except Exception as exc:  # raised again on the caller's thread, below
                bugs.append(exc)

        worker = threading.Thread(target=run_second, daemon=True)
        worker.start()
        one = settled(first)
        worker.join()
        if bugs:
            raise bugs[0]
        return one, answers[0]

    # -- HTTP ------------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _pages(self, path: str, params: dict[str, str | int], key: str | None) -> Iterator[Any]:
        """The items of up to MAX_PAGES pages: the answer's `key` list, or the answer itself (key None)."""
        url: str | None = self._url(path)
        for _page in range(MAX_PAGES):
            if url is None:
                return
            answer, next_url = self._get_any(url, params)
            items = answer.get(key) if isinstance(answer, dict) and key else answer
            yield from items if isinstance(items, list) else []
            params = {}  # the next link carries them
            url = next_url if next_url and _same_origin(next_url, self.base_url) else None

    def _get(self, url: str, params: dict[str, str | int]) -> tuple[dict[str, Any], str | None]:
        """A JSON object answer, and the next page's URL."""
        answer, next_url = self._get_any(url, params)
        if not isinstance(answer, dict):
            raise GitHubUnavailable("its answer was not a JSON object", messages.GITHUB_FIX_NONE)
        return answer, next_url

    def _get_any(self, url: str, params: dict[str, str | int]) -> tuple[Any, str | None]:
        if self._deadline is None:
            self._deadline = self.clock() + self.budget_seconds
        if self._deadline - self.clock() < 0.2:
            raise self._too_slow()
        self.debug(f"GET {url} {params}")
        try:
            answer = call(
                self.session,
                "GET",
                url,
                token=self.token,
                deadline=self._deadline,
                max_bytes=MAX_ANSWER_BYTES,
                clock=self.clock,
                params=params,
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                    "User-Agent": USER_AGENT,
                },
            )
        except NoAnswer as no_answer:
            if no_answer.timed_out:
                raise self._too_slow() from None
            raise GitHubUnavailable(
                f"it could not be reached ({no_answer})", messages.GITHUB_FIX_NETWORK
            ) from None
        self._keep_rate_limit(answer)
        if answer.timed_out:
            raise self._too_slow()
        if answer.truncated:
            raise GitHubUnavailable("its answer was too large", messages.GITHUB_FIX_NONE)
        if not answer.complete:
            raise GitHubUnavailable(f"{answer.problem}", messages.GITHUB_FIX_NETWORK)
        if answer.status != 200:
            raise _unavailable(answer, _message(answer.body))
        try:
            parsed = untrusted.loads(answer.body)
        except untrusted.NotStrictJson:
            raise GitHubUnavailable("its answer was not JSON", messages.GITHUB_FIX_NONE) from None
        next_url = answer.links.get("next", {}).get("url")
        return parsed, next_url if isinstance(next_url, str) else None

    def _keep_rate_limit(self, answer: Answer) -> None:
        limit = _header_int(answer, "x-ratelimit-limit")
        remaining = _header_int(answer, "x-ratelimit-remaining")
        if limit is None or remaining is None:
            return
        with self._rate_lock:
            self.rate_limit = limit
            # Answers come back side by side in any order: the lowest figure seen is the latest.
            seen = self.rate_remaining
            self.rate_remaining = remaining if seen is None else min(seen, remaining)

    def _too_slow(self) -> GitHubUnavailable:
        return GitHubUnavailable(
            f"it did not answer within {self.budget_seconds:g} seconds", messages.GITHUB_FIX_NETWORK
        )


def _unavailable(response: Answer, message: str) -> GitHubUnavailable:
    status = response.status
    if status in (403, 429) and "secondary rate limit" in message.lower():
        # Too many requests at once or too fast (GitHub's secondary limits): it passes, and the token's
        # permissions are not the cause, whatever the status.
        return GitHubUnavailable(
            f"its secondary rate limit was hit (HTTP {status}){_reset_time(response)}",
            messages.GITHUB_FIX_SECONDARY_LIMIT,
            status,
        )
    if status in (403, 429) and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    ):
        return GitHubUnavailable(
            f"its rate limit was hit (HTTP {status}){_reset_time(response)}", messages.GITHUB_FIX_RATE_LIMIT
        )
    if status == 401:
        return GitHubUnavailable(
            "it refused the github-token (HTTP 401)", messages.GITHUB_FIX_UNAUTHORIZED, status
        )
    if status in (403, 404):
        return GitHubUnavailable(
            f"the github-token may not read this run's jobs (HTTP {status})",
            messages.GITHUB_FIX_PERMISSION,
            status,
        )
    if 300 <= status < 400:
        return GitHubUnavailable(
            f"it answered with a redirect (HTTP {status}), which is not followed", messages.GITHUB_FIX_NONE
        )
    return GitHubUnavailable(f"it answered HTTP {status}", messages.GITHUB_FIX_NONE, status)


def _message(body: bytes) -> str:
    """An error answer's `message` (GitHub's basic-error), or "" where it has none."""
    try:
        answer = untrusted.loads(body)
    except untrusted.NotStrictJson:
        return ""
    message = answer.get("message") if isinstance(answer, dict) else None
    return message if isinstance(message, str) else ""


def _header_int(response: Answer, name: str) -> int | None:
    value = response.headers.get(name, "")
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None


def _reset_time(response: Answer) -> str:
    """When to try again: `retry-after` where GitHub gives it (a secondary limit's own wait), else when
    the primary limit resets."""
    retry_after = response.headers.get("retry-after", "")
    if re.fullmatch(r"[0-9]{1,6}", retry_after):
        return f"; retry after {retry_after} s"
    reset = response.headers.get("x-ratelimit-reset", "")
    if re.fullmatch(r"[0-9]{1,11}", reset):  # up to the year 5138: within what datetime can hold
        return f"; it resets at {datetime.fromtimestamp(int(reset), UTC):%H:%M} UTC"
    return ""


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _job(item: dict[str, Any], debug: Callable[[str], None]) -> Job:
    steps = tuple(
        Step(
            _text(step.get("name")) or "step",
            _text(step.get("status")),
            _text(step.get("conclusion")),
            started_at=_time(step.get("started_at")),
            completed_at=_time(step.get("completed_at")),
        )
        for step in item.get("steps") or []
        if isinstance(step, dict)
    )
    labels = item.get("labels")
    return Job(
        id=_int(item.get("id")),
        name=_text(item.get("name")) or "job",
        status=_text(item.get("status")),
        conclusion=_text(item.get("conclusion")),
        url=_link(item.get("html_url"), "a job's html_url", debug),
        runner_name=_text(item.get("runner_name")),
        steps=steps,
        started_at=_time(item.get("started_at")),
        completed_at=_time(item.get("completed_at")),
        labels=tuple(label for label in labels if isinstance(label, str)) if isinstance(labels, list) else (),
    )


def _past_run(item: dict[str, Any], debug: Callable[[str], None]) -> PastRun:
    head_repository = item.get("head_repository")
    head_repository_name = head_repository.get("full_name") if isinstance(head_repository, dict) else None
    return PastRun(
        item["id"],
        _text(item.get("conclusion")),
        run_number=_int(item.get("run_number")),
        event=_text(item.get("event")),
        head_branch=_text(item.get("head_branch")),
        head_repository=_text(head_repository_name),
        url=_link(item.get("html_url"), "a run's html_url", debug),
        status=_text(item.get("status")),
        run_attempt=_int(item.get("run_attempt")),
    )


def _annotation(item: dict[str, Any]) -> Annotation:
    return Annotation(
        level=_text(item.get("annotation_level")),
        message=_text(item.get("message")) or "",
        title=_text(item.get("title")),
        path=_text(item.get("path")),
        line=_int(item.get("start_line")),
    )


def _time(value: object) -> datetime | None:
    """GitHub's ISO 8601 times (`2026-11-26T08:00:00Z`), in UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # not a time, or one out of datetime's range once in UTC
        return None


def _link(value: object, what: str, debug: Callable[[str], None]) -> str | None:
    """A URL from an answer, where it is fit to be a link; else None, with a debug line."""
    text = _text(value)
    if text is not None and untrusted.link(text) is None:
        debug(f"GitHub's API gave {what} that is no http(s) URL fit for a link; it is left out.")
        return None
    return text


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
