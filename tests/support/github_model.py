"""A model of GitHub Actions for one workflow on `main`, over time: the state of every run at any moment.

A run is pushed at a moment and has attempts; each attempt's jobs start, run and end at planned times, with
planned outcomes: success; failure; skipped; and the four things GitHub concludes `cancelled`: a job that
hit its timeout-minutes (`timed-out`, TIMEOUT_MINUTES after it started), one superseded by a newer run
(`superseded`), one a person cancelled (`cancelled`), a matrix leg fail-fast stopped (`fail-fast`); and a
job whose step failed and which then hung until its timeout (`failed-then-cancelled`). A re-run starts a
new attempt of a completed run, which then becomes its latest (GitHub's `filter=latest` shows only it).
Outages are spans of time in which GitHub's API answers 503.

`Model.load(github, at)` puts the state of every run at that moment into the GitHub stand-in, which then
answers as GitHub would at that moment: queued jobs with no runner yet, jobs in progress with the steps
done so far, a failed step before its job ends, runs still going, conclusions once they end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tests.support.github_api_stand_in import FakeRun, GitHubApiStandIn, annotation

Planned = Literal[
    "success",
    "failure",
    "cancelled",
    "superseded",
    "fail-fast",
    "timed-out",
    "failed-then-cancelled",
    "skipped",
]
# The outcomes GitHub concludes `cancelled`, and among them the cancels with nothing failed before them.
CANCELLED: frozenset[str] = frozenset(
    {"cancelled", "superseded", "fail-fast", "timed-out", "failed-then-cancelled"}
)
CANCELS: frozenset[str] = CANCELLED - {"failed-then-cancelled"}
# What `needs.<job>.result` says of a job that ended so.
NEEDS_RESULT = dict.fromkeys(CANCELLED, "cancelled") | {
    "success": "success",
    "failure": "failure",
    "skipped": "skipped",
}
# Every job's timeout-minutes in the model's workflow file (`WORKFLOW`).
TIMEOUT_MINUTES = 30
WORKFLOW = f"""\
name: CI
on: push
jobs:
  lint: {{runs-on: ubuntu-latest, timeout-minutes: {TIMEOUT_MINUTES}}}
  build: {{runs-on: ubuntu-latest, timeout-minutes: {TIMEOUT_MINUTES}}}
  test:
    runs-on: ubuntu-latest
    timeout-minutes: {TIMEOUT_MINUTES}
    strategy:
      matrix:
        python: ['3.12', '3.13']
  deploy: {{runs-on: ubuntu-latest, needs: test, timeout-minutes: {TIMEOUT_MINUTES}}}
  notify: {{runs-on: ubuntu-latest, needs: [build, deploy], if: always()}}
"""
# What GitHub writes on a cancelled job's check run once it has ended (../shared/notes/
# github-cancellations.md).
CANCEL_ANNOTATIONS = {
    "timed-out": (
        "The job running on runner GitHub Actions 7 has exceeded the maximum execution time of 30 minutes."
    ),
    "failed-then-cancelled": "The job has exceeded the maximum execution time of 30m0s",
    "superseded": "Canceling since a higher priority waiting request for 'ci-refs/heads/main' exists",
    "cancelled": "The run was canceled by @octocat.",
    "fail-fast": 'The job was canceled because "test (3.13)" failed.',
}
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)  # model time 0; times are minutes after it


def stamp(minutes: float) -> str:
    return (EPOCH + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PlannedJob:
    """A job of an attempt: when it starts and ends, and how (a skipped job ends when it is skipped)."""

    id: int
    name: str
    queued: float
    start: float
    end: float
    outcome: Planned

    @property
    def fails_at(self) -> float | None:
        """When its test step fails: halfway through a job that fails or fails and is then cancelled."""
        if self.outcome == "failure":
            return self.start + (self.end - self.start) / 2
        if self.outcome == "failed-then-cancelled":  # it failed early, then hung until its timeout
            return self.start + min(self.end - self.start, 10.0) / 2
        return None

    def api(
        self, at: float, run: PlannedRun, attempt: int, *, running: bool = False
    ) -> dict[str, Any] | None:
        """The job as GitHub's API lists it at `at` (None before its attempt is queued). `running`: the
        job's last step (the alert) is running at `at`, its other steps done: still in progress."""
        if at < self.queued:
            return None
        ended = at >= self.end and not running
        started = at >= self.start or (self.outcome == "skipped" and ended)
        if self.outcome == "skipped":
            status = "completed" if ended else "queued"
        else:
            status = "completed" if ended else ("in_progress" if started else "queued")
        conclusion = None
        if status == "completed":
            conclusion = "cancelled" if self.outcome in CANCELLED else self.outcome
        return {
            "id": self.id,
            "run_id": run.id,
            "run_attempt": attempt,
            "workflow_name": "CI",
            "head_branch": "main",
            "html_url": f"https://github.com/octo-org/octo-repo/actions/runs/{run.id}/job/{self.id}",
            "status": status,
            "conclusion": conclusion,
            "name": self.name,
            "steps": self._steps(at, ended or running)
            if status != "queued" and self.outcome != "skipped"
            else [],
            "labels": ["ubuntu-latest"],
            "runner_id": 7 if status != "queued" else None,
            "runner_name": f"GitHub Actions {self.id % 97}" if status != "queued" else None,
            "runner_group_name": "GitHub Actions" if status != "queued" else None,
            "started_at": stamp(self.start if started else self.queued),
            "completed_at": stamp(self.end) if status == "completed" else None,
        }

    def _steps(self, at: float, done: bool) -> list[dict[str, Any]]:
        """Its steps at `at`, with their times: a cancel ends the step it interrupts at the cancel."""
        fails_at = self.fails_at
        setup = _step("Set up job", "completed", "success", self.start, self.start)
        if fails_at is not None and at >= fails_at:
            tests = _step("Run tests", "completed", "failure", self.start, fails_at)
        elif done:
            conclusion = "cancelled" if self.outcome in CANCELS else "success"
            tests = _step("Run tests", "completed", conclusion, self.start, self.end)
        else:
            tests = _step("Run tests", "in_progress", None, self.start, None)
        steps = [setup, tests]
        if self.outcome == "failed-then-cancelled" and fails_at is not None and at >= fails_at:
            ended = (
                ("completed", "cancelled", fails_at, self.end)
                if done
                else ("in_progress", None, fails_at, None)
            )
            steps.append(_step("Clean up", *ended))  # `if: always()`: it hangs until the timeout
        return steps


def _step(
    name: str, status: str, conclusion: str | None, started: float, ended: float | None
) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "number": 1,
        "started_at": stamp(started),
        "completed_at": stamp(ended) if ended is not None else None,
    }


@dataclass
class PlannedAttempt:
    number: int
    start: float
    jobs: list[PlannedJob]

    @property
    def end(self) -> float:
        return max(job.end for job in self.jobs)


@dataclass
class PlannedRun:
    id: int
    number: int
    pushed: float
    attempts: list[PlannedAttempt] = field(default_factory=list)

    def attempts_at(self, at: float) -> list[PlannedAttempt]:
        return [attempt for attempt in self.attempts if attempt.start <= at]


@dataclass(frozen=True)
class Outage:
    """A span of time in which GitHub's API fails: every request (`down`), or all but the first few of a
    step (`flaky`: the step's jobs and the workflow's runs come back, the other runs' jobs do not)."""

    start: float
    end: float
    kind: Literal["down", "flaky"] = "down"


FLAKY_ANSWERS = 2  # what a flaky GitHub still answers of a step: its first round trip


@dataclass
class Model:
    runs: list[PlannedRun] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    workflow_id: int = 161335  # the stand-in's ci.yml

    def outage(self, at: float) -> Outage | None:
        return next((outage for outage in self.outages if outage.start <= at < outage.end), None)

    def down(self, at: float) -> bool:
        return self.outage(at) is not None

    def load(self, github: GitHubApiStandIn, at: float, running: frozenset[int] = frozenset()) -> None:
        """Put every run's state at `at` into the stand-in; `running`: the jobs whose alert step runs now."""
        github.runs = {}
        github.annotations = {}
        github.files[".github/workflows/ci.yml"] = WORKFLOW
        github.rate_used = 0  # each step on a token with its hour's requests to spare
        outage = self.outage(at)
        github.down = outage is not None and outage.kind == "down"
        github.answers_before_failing = (
            FLAKY_ANSWERS if outage is not None and outage.kind == "flaky" else None
        )
        for run in self.runs:
            started = run.attempts_at(at)
            if not started:
                continue
            latest = started[-1]
            jobs = [job.api(at, run, latest.number, running=job.id in running) for job in latest.jobs]
            listed = [item for item in jobs if item is not None]
            ended = all(item["status"] == "completed" for item in listed) and at >= latest.end
            fake = FakeRun(
                run.id,
                _run_conclusion(listed) if ended else None,
                status="completed" if ended else ("in_progress" if at >= latest.start else "queued"),
                run_number=run.number,
                workflow_id=self.workflow_id,
            )
            fake.attempts = {
                attempt.number: [
                    item
                    for job in attempt.jobs
                    if (item := job.api(at, run, attempt.number, running=job.id in running)) is not None
                ]
                for attempt in started
            }
            github.runs[run.id] = fake
            for attempt in started:  # written once a cancelled job has ended (not while its steps run)
                for job in attempt.jobs:
                    if job.outcome in CANCEL_ANNOTATIONS and at >= job.end and job.id not in running:
                        github.annotations[job.id] = [annotation(CANCEL_ANNOTATIONS[job.outcome])]


def _run_conclusion(jobs: list[dict[str, Any]]) -> str:
    """A run's conclusion from its jobs', as GitHub gives it: a failure, else a cancel, else success."""
    conclusions = {item["conclusion"] for item in jobs}
    if "failure" in conclusions:
        return "failure"
    if "cancelled" in conclusions:
        return "cancelled"
    return "success"
