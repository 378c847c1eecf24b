"""Histories of a busy repository: the action run at every moment its step runs, scored against the truth.

A history is one workflow on `main` in one layout (the last step of a job, a notify job with `needs`, a
matrix, a `workflow_run` watcher): pushes whose runs overlap, jobs that pass, fail, hit their
timeout-minutes, are superseded by a newer run, cancelled by a person or stopped by fail-fast, or fail and
then hang until their timeout, re-runs of earlier runs, and GitHub API outages. A timeout is a failure that
must page; the other cancels must neither page nor resolve (with `on-cancelled: fire`, every cancel pages;
with `skip`, none). The model
(tests/support/github_model.py) says what GitHub shows at each moment; at each step, the action runs as a
process (`python -m entrypoint`) against the GitHub stand-in loaded with that moment's state.

Every event incident.io receives is scored against the branch's true state at that moment: the compared
unit's result in the newest run in which it has ended (in that run's latest attempt that decided). The
truth is worked out here from the model's plan, not by the action's code:
- a wrong resolve: a resolve while the unit is red on the branch;
- a stale page: a page while it is green;
- a missed page: a step whose own attempt failed, its run the newest to have decided, that sends no page
  (with `failures-before-alert`, once the streak is long enough);
- a wrong final state: the last event of a key disagrees with the branch's state at the end.
Where GitHub's API failed at a step and the action warned about it, what it could not know is excused (a
cancelled job whose steps cannot be read; a page where it could not see that a newer run passed; a resolve
only where it could not even list the runs: knowing that a newer run exists, it must not guess).

`python -m tests.support.simulation [histories] [seed]` (`make month`) runs many and prints the figures.
"""

from __future__ import annotations

import json
import os
import queue
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from tests.support import layouts
from tests.support.actions_runner import StepFiles, StepResult, run_step
from tests.support.github_api_stand_in import GitHubApiStandIn
from tests.support.github_model import (
    CANCELLED,
    CANCELS,
    NEEDS_RESULT,
    TIMEOUT_MINUTES,
    Model,
    Outage,
    Planned,
    PlannedAttempt,
    PlannedJob,
    PlannedRun,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn

TOKEN = "simulation-token-0123456789"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
JOB_TOKEN = "ghs_jobtokenmustneverbeshown0123456789"
REPOSITORY = "octo-org/octo-repo"
FIRST_RUN_ID, FIRST_RUN_NUMBER = 1658821000, 300
Layout = Literal["last-step", "notify", "matrix", "watcher"]
LAYOUTS: tuple[Layout, ...] = ("last-step", "notify", "matrix", "watcher")
OUTCOMES: tuple[Planned, ...] = (
    "success", "failure", "cancelled", "superseded", "timed-out", "failed-then-cancelled"
)  # fmt: skip
WEIGHTS = (9, 4, 1, 1, 2, 2)  # mostly green, as on a real main
POLICIES = ("timeout", "timeout", "timeout", "fire", "skip")  # on-cancelled: mostly the default
Truth = Literal["failed", "passed"] | None
PARALLEL_STEPS = max(1, min(4, os.cpu_count() or 1))
LEG_KEY = "github-actions:octo-org/octo-repo:ci.yml:test[python={version}]:main"
KEYS = {
    "last-step": ["github-actions:octo-org/octo-repo:ci.yml:test:main"],
    "notify": ["github-actions:octo-org/octo-repo:ci.yml:notify:main"],
    "matrix": [LEG_KEY.format(version=version) for version in ("3.12", "3.13")],
    "watcher": ["github-actions:octo-org/octo-repo:ci.yml:main"],
}
# The job a key is about, where it is one job (the last step of it, or a leg of the matrix).
JOB_OF_KEY = {KEYS["last-step"][0]: "test"} | {
    LEG_KEY.format(version=version): f"test ({version})" for version in ("3.12", "3.13")
}


class Choices(Protocol):
    """Where a history's choices come from: hypothesis's `draw`, or a seeded random generator."""

    def integer(self, low: int, high: int) -> int: ...
    def number(self, low: float, high: float) -> float: ...
    def outcome(self) -> Planned: ...


class RandomChoices:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def number(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 2)

    def outcome(self) -> Planned:
        return self.rng.choices(OUTCOMES, WEIGHTS)[0]


# -- a history --------------------------------------------------------------------------------------------


@dataclass
class History:
    layout: Layout
    model: Model
    on_cancelled: str = "timeout"
    failures_before_alert: int = 1

    def describe(self) -> str:
        settings = f"on-cancelled: {self.on_cancelled}, failures-before-alert: {self.failures_before_alert}"
        return f"{self.layout} ({settings})"


def job_names(layout: Layout) -> list[str]:
    return {
        "last-step": ["lint", "test"],
        "notify": ["build", "test", "deploy", "notify"],
        "matrix": ["test (3.12)", "test (3.13)"],
        "watcher": ["build", "test"],
    }[layout]


def make_history(choices: Choices, layout: Layout) -> History:
    """Pushes that overlap, each a run of the workflow; re-runs of some; outages now and then."""
    model = Model(workflow_id=layouts.WATCHED_WORKFLOW_ID if layout == "watcher" else 161335)
    ids = iter(range(900000, 10**7))
    pushed = 0.0
    for index in range(choices.integer(3, 7)):
        pushed += choices.number(0.5, 12.0)
        run = PlannedRun(FIRST_RUN_ID + 10 * index, FIRST_RUN_NUMBER + index, pushed)
        run.attempts.append(plan_attempt(choices, layout, 1, pushed, ids))
        model.runs.append(run)
    for _rerun in range(choices.integer(0, 3)):
        run = model.runs[choices.integer(0, len(model.runs) - 1)]
        latest = run.attempts[-1]
        start = latest.end + choices.number(0.5, 15.0)
        run.attempts.append(plan_attempt(choices, layout, latest.number + 1, start, ids))
    for _outage in range(choices.integer(0, 2)):
        start = choices.number(0.0, pushed + 20.0)
        kind: Literal["down", "flaky"] = "flaky" if choices.integer(0, 1) else "down"
        model.outages.append(Outage(start, start + choices.number(1.0, 15.0), kind))
    on_cancelled = POLICIES[choices.integer(0, len(POLICIES) - 1)]
    streak = choices.integer(1, 2) if layout == "last-step" else 1
    return History(layout, model, on_cancelled, streak)


def plan_attempt(choices: Choices, layout: Layout, number: int, start: float, ids: Any) -> PlannedAttempt:
    def planned(name: str, begin: float) -> PlannedJob:
        queued = begin
        began = begin + choices.number(0.0, 2.0)  # a job may wait for a runner
        outcome = choices.outcome()
        # A timeout ends the job at its limit (a failed one hangs until then); other jobs end sooner.
        ran = (
            TIMEOUT_MINUTES + 0.02
            if outcome in ("timed-out", "failed-then-cancelled")
            else choices.number(1.0, 20.0)
        )
        return PlannedJob(next(ids), name, queued, began, began + ran, outcome)

    if layout == "matrix":
        return PlannedAttempt(number, start, fail_fast([planned(name, start) for name in job_names(layout)]))
    if layout != "notify":
        return PlannedAttempt(number, start, [planned(name, start) for name in job_names(layout)])
    build, test = planned("build", start), planned("test", start)
    if test.outcome == "success":
        deploy = planned("deploy", test.end)
    else:  # it needs test: skipped as soon as test did not succeed
        deploy = PlannedJob(next(ids), "deploy", start, test.end, test.end, "skipped")
    notify_start = max(build.end, deploy.end) + 0.1
    notify = PlannedJob(next(ids), "notify", start, notify_start, notify_start + 0.2, "success")
    return PlannedAttempt(number, start, [build, test, deploy, notify])


def fail_fast(legs: list[PlannedJob]) -> list[PlannedJob]:
    """A matrix's fail-fast: once a leg fails (ends failed), GitHub cancels the legs still running."""
    failed = [leg for leg in legs if leg.outcome == "failure"]
    if not failed:
        return legs
    first = min(failed, key=lambda leg: leg.end)
    return [
        PlannedJob(leg.id, leg.name, leg.queued, leg.start, first.end + 0.01, "fail-fast")
        if leg is not first and leg.end > first.end and leg.fails_at is None
        else leg
        for leg in legs
    ]


# -- the steps the action runs ----------------------------------------------------------------------------


@dataclass
class Step:
    at: float  # when the alert step runs
    run: PlannedRun
    attempt: PlannedAttempt
    key: str
    job: PlannedJob | None  # the job the step runs in (a watcher's step is in another workflow)
    job_status: str = "success"
    inputs: dict[str, str] = field(default_factory=dict)
    matrix: dict[str, str] | None = None
    result: StepResult | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    outage: str | None = None  # "down" or "flaky": GitHub's API failed at this step
    runs_listed: bool = False  # GitHub answered the list of the workflow's runs

    @property
    def warned(self) -> bool:
        return bool(self.result and self.result.github_api_warnings())

    def excused(self, kind: str) -> bool:
        """GitHub's API failed, and the action said what it could not know. A resolve is excused only where
        GitHub could not even list the runs: knowing that a newer run exists, it must not guess."""
        if kind == "wrong resolve" and self.runs_listed:
            return False
        return self.outage is not None and self.warned

    def label(self) -> str:
        where = f"run #{self.run.number}.{self.attempt.number}"
        return f"{where} {self.job.name if self.job else 'watcher'}"


STATUS_OF: dict[str, str] = dict.fromkeys(CANCELLED, "cancelled") | {
    "success": "success",
    "failure": "failure",
    "skipped": "skipped",
}


def steps_of(history: History) -> list[Step]:
    steps = []
    for run in history.model.runs:
        for attempt in run.attempts:
            jobs = {job.name: job for job in attempt.jobs}
            if history.layout == "last-step":
                test = jobs["test"]
                steps.append(
                    Step(test.end, run, attempt, KEYS["last-step"][0], test, STATUS_OF[test.outcome])
                )
            elif history.layout == "matrix":
                for version, key in zip(("3.12", "3.13"), KEYS["matrix"], strict=True):
                    leg = jobs[f"test ({version})"]
                    steps.append(
                        Step(
                            leg.end,
                            run,
                            attempt,
                            key,
                            leg,
                            STATUS_OF[leg.outcome],
                            matrix={"python": version},
                        )
                    )
            elif history.layout == "notify":
                notify = jobs["notify"]
                needs = {
                    name: {"result": NEEDS_RESULT[jobs[name].outcome], "outputs": {}}
                    for name in ("build", "deploy")
                }
                steps.append(
                    Step(
                        notify.start + 0.05,
                        run,
                        attempt,
                        KEYS["notify"][0],
                        notify,
                        inputs={"needs": json.dumps(needs)},
                    )
                )
            else:
                steps.append(Step(attempt.end + 0.05, run, attempt, KEYS["watcher"][0], None))
    return sorted(steps, key=lambda step: step.at)


def run_history(history: History, root: Path, parallel: int = PARALLEL_STEPS) -> list[Step]:
    """Every step of the history, each as a process against GitHub as it is at that step's moment.

    The action keeps no state between steps (GitHub's state is the model's, not what was sent), so steps
    run side by side, each with stand-ins of its own: as many at once as the machine has cores."""
    steps = steps_of(history)
    slots: queue.Queue[tuple[IncidentIoStandIn, GitHubApiStandIn]] = queue.Queue()
    stand_ins = [
        (
            IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID).start(),
            GitHubApiStandIn(token=JOB_TOKEN).start(),
        )
        for _slot in range(parallel)
    ]
    for pair in stand_ins:
        slots.put(pair)

    def run(number: int, step: Step) -> None:
        incident_io, github = slots.get()
        try:
            running = frozenset({step.job.id}) if step.job is not None else frozenset()
            history.model.load(github, step.at, running)
            outage = history.model.outage(step.at)
            step.outage = outage.kind if outage is not None else None
            before = len(incident_io.bodies())
            github.received.clear()
            step.result = run_action(history, step, github, incident_io, root / f"step{number}")
            step.events = incident_io.bodies()[before:]
            listed = [request for request in github.received if "/workflows/" in request.path]
            step.runs_listed = any(request.answered == 200 for request in listed)
        finally:
            slots.put((incident_io, github))

    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            for done in [pool.submit(run, number, step) for number, step in enumerate(steps)]:
                done.result()
    finally:
        for incident_io, github in stand_ins:
            incident_io.stop()
            github.stop()
    return steps


def run_action(
    history: History, step: Step, github: GitHubApiStandIn, incident_io: IncidentIoStandIn, root: Path
) -> StepResult:
    with_ = {
        "api-token": TOKEN,
        "alert-source-config-id": SOURCE_ID,
        "api-url": incident_io.url,
        "on-cancelled": history.on_cancelled,
        "failures-before-alert": str(history.failures_before_alert),
        "max-attempts": "1",
        **step.inputs,
    }
    run_env = {
        "GITHUB_API_URL": github.url,
        "GITHUB_RUN_ID": str(step.run.id),
        "GITHUB_RUN_NUMBER": str(step.run.number),
        "GITHUB_RUN_ATTEMPT": str(step.attempt.number),
    }
    if history.layout == "watcher":
        conclusion = watched_conclusion(step.attempt)
        watched = layouts.watched_run(
            conclusion, run_number=step.run.number, run_attempt=step.attempt.number, run_id=step.run.id
        )
        github_env = {**watched.github_env, "GITHUB_API_URL": github.url}
        return run_step(
            StepFiles(root), with_, event=watched.event, job_status="success", github_env=github_env
        )
    assert step.job is not None
    with_["check-run-id"] = str(step.job.id)
    job_id = "notify" if history.layout == "notify" else "test"
    pushed = layouts.push(GITHUB_JOB=job_id, **run_env)
    return run_step(
        StepFiles(root),
        with_,
        event=pushed.event,
        job_status=step.job_status,
        matrix=step.matrix,
        github_env=pushed.github_env,
    )


def watched_conclusion(attempt: PlannedAttempt) -> str:
    ended = {"cancelled" if job.outcome in CANCELLED else job.outcome for job in attempt.jobs}
    return "failure" if "failure" in ended else ("cancelled" if "cancelled" in ended else "success")


# -- the truth --------------------------------------------------------------------------------------------


def unit_of_attempt(history: History, attempt: PlannedAttempt, key: str, at: float) -> Truth:
    """What an attempt says about the unit behind `key` at `at`, from the plan: a job failed from the moment
    its step failed, even while it still runs; a job that hit its timeout failed when it ended (unless
    on-cancelled is skip), as did every cancelled one with on-cancelled: fire; a superseded, manual or
    fail-fast cancel decides nothing. A job passed once it ended in success."""
    policy = history.on_cancelled

    def failed(job: PlannedJob) -> bool:
        if job.fails_at is not None and job.fails_at <= at:
            return True
        if job.end > at:
            return False
        if job.outcome == "timed-out":
            return policy != "skip"
        return policy == "fire" and job.outcome in CANCELS

    if history.layout in ("last-step", "matrix"):
        job = next(job for job in attempt.jobs if job.name == JOB_OF_KEY[key])
        if failed(job):
            return "failed"
        return "passed" if job.end <= at and job.outcome == "success" else None
    unit = [job for job in attempt.jobs if job.name != "notify"]
    if any(failed(job) for job in unit):
        return "failed"
    everyone = [job for job in attempt.jobs if job.name != "notify"]
    if all(job.end <= at and job.outcome == "success" for job in everyone):
        return "passed"
    return None


def run_truth(history: History, run: PlannedRun, key: str, at: float) -> Truth:
    """A run's result for the unit at `at`: its latest attempt that has decided."""
    for attempt in reversed(run.attempts_at(at)):
        if (result := unit_of_attempt(history, attempt, key, at)) is not None:
            return result
    return None


def branch_truth(history: History, key: str, at: float) -> tuple[Truth, PlannedRun | None, int]:
    """The branch's state for the unit at `at`: the result in the newest run that has decided; that run;
    and how many decided runs in a row, newest first, failed (undecided ones passed over)."""
    decided = [
        (run, result)
        for run in sorted(history.model.runs, key=lambda run: run.number, reverse=True)
        if (result := run_truth(history, run, key, at)) is not None
    ]
    if not decided:
        return None, None, 0
    streak = 0
    for _run, result in decided:
        if result != "failed":
            break
        streak += 1
    return decided[0][1], decided[0][0], streak


# -- the score --------------------------------------------------------------------------------------------


@dataclass
class Violation:
    kind: Literal["wrong resolve", "stale page", "missed page", "wrong final state"]
    key: str
    detail: str
    step: Step | None = None


@dataclass
class Score:
    steps: int = 0
    events: int = 0
    violations: list[Violation] = field(default_factory=list)
    excused: int = 0
    excused_kinds: list[str] = field(default_factory=list)  # what each excused one would have been

    def count(self, kind: str) -> int:
        return sum(1 for violation in self.violations if violation.kind == kind)


def score(history: History, steps: Sequence[Step]) -> Score:
    result = Score(steps=len(steps), events=sum(len(step.events) for step in steps))

    def flag(violation: Violation, step: Step | None) -> None:
        if step is not None and step.excused(violation.kind):
            result.excused += 1
            result.excused_kinds.append(violation.kind)
        else:
            result.violations.append(violation)

    for step in steps:
        truth, newest, streak = branch_truth(history, step.key, step.at)
        own = unit_of_attempt(history, step.attempt, step.key, step.at)  # this attempt's own say
        for event in step.events:
            if event["status"] == "resolved" and truth == "failed":
                flag(
                    Violation(
                        "wrong resolve", step.key, f"resolved while #{newest and newest.number} is red", step
                    ),
                    step,
                )
            if event["status"] == "firing" and truth == "passed":
                flag(
                    Violation(
                        "stale page", step.key, f"paged while #{newest and newest.number} is green", step
                    ),
                    step,
                )
        fired = any(event["status"] == "firing" for event in step.events)
        due = own == "failed" and newest is step.run and streak >= history.failures_before_alert
        if due and not fired:
            flag(
                Violation("missed page", step.key, f"#{step.run.number} failed and sent no page", step), step
            )
    end = max((step.at for step in steps), default=0.0) + 1000.0
    for key in KEYS[history.layout]:
        truth, newest, streak = branch_truth(history, key, end)
        keyed = [step for step in steps if step.events and step.events[-1]["deduplication_key"] == key]
        last = keyed[-1].events[-1]["status"] if keyed else None
        red = truth == "failed" and streak >= history.failures_before_alert
        wrong = (red and last != "firing") or (truth == "passed" and last == "firing")
        if wrong:
            # Two steps can leave the end wrong: the one that should have set it (that of the attempt that
            # decided the newest decided run), and the one that sent the last event. Where GitHub's outage
            # made either one blind and the action warned there, the end is excused with it.
            deciding = [
                s
                for s in steps
                if s.key == key
                and newest is not None
                and s.run is newest
                and unit_of_attempt(history, s.attempt, key, end) == truth
            ]
            candidates = [*deciding[-1:], *keyed[-1:]] or [s for s in steps if s.key == key][-1:]
            excusing = [s for s in candidates if s.excused("wrong final state")]
            chosen = excusing or candidates
            blame = chosen[0] if chosen else None
            flag(
                Violation("wrong final state", key, f"ends {last or 'with no event'}, branch {truth}"), blame
            )
    return result


# -- the timeline, for a failing history ------------------------------------------------------------------


def timeline(history: History, steps: Sequence[Step], result: Score) -> str:
    """The history as it happened: the plan of every run, the outages, and each step with what it sent."""
    lines = [f"History: {history.describe()}"]
    for run in history.model.runs:
        lines.append(f"  run #{run.number} (id {run.id}) pushed at {run.pushed:.2f}")
        for attempt in run.attempts:
            lines.append(f"    attempt {attempt.number} from {attempt.start:.2f}:")
            for job in attempt.jobs:
                lines.append(f"      {job.name:<12} {job.start:7.2f} → {job.end:7.2f}  {job.outcome}")
    for outage in history.model.outages:
        what = "down" if outage.kind == "down" else "flaky (the first calls of a step answered)"
        lines.append(f"  GitHub's API {what} {outage.start:.2f} → {outage.end:.2f}")
    lines.append("Steps:")
    for step in steps:
        truth, newest, _streak = branch_truth(history, step.key, step.at)
        sent = ", ".join(event["status"] for event in step.events) or "nothing"
        said = ""
        if step.result is not None:
            notices = [command.data for command in step.result.annotations("notice")]
            said = f" ({notices[0][:90]})" if notices else ""
        marks = " [API failing]" if step.outage else ""
        marks += " [warned]" if step.warned else ""
        state = f"branch {truth or 'undecided'}" + (f" by #{newest.number}" if newest else "")
        lines.append(f"  {step.at:7.2f} {step.label():<24} {state:<22} → {sent}{said}{marks}")
    lines.append("Violations:")
    lines += [f"  {violation.kind}: {violation.key}: {violation.detail}" for violation in result.violations]
    return "\n".join(lines)


# -- many histories, for the figure ------------------------------------------------------------------------


def simulate(history: History) -> tuple[list[Step], Score]:
    with tempfile.TemporaryDirectory() as tmp:
        steps = run_history(history, Path(tmp))
    return steps, score(history, steps)


def month(histories: int, seed: int, report: Callable[[str], None] = print) -> Score:
    """Many seeded histories across the four layouts; the figure for each kind of violation."""
    rng = random.Random(seed)  # noqa: S311 - seeded histories, not secrets
    total = Score()
    started = time.monotonic()
    worst: tuple[int, str] | None = None
    for index in range(histories):
        history = make_history(RandomChoices(rng), LAYOUTS[index % len(LAYOUTS)])
        steps, result = simulate(history)
        total.steps += result.steps
        total.events += result.events
        total.excused += result.excused
        total.violations += result.violations
        if result.violations and (worst is None or len(result.violations) > worst[0]):
            worst = (len(result.violations), timeline(history, steps, result))
        if (index + 1) % 50 == 0:
            report(f"  {index + 1} histories, {total.steps} steps, {len(total.violations)} violations")
    minutes = (time.monotonic() - started) / 60
    report(
        f"{histories} histories (seed {seed}), {total.steps} steps, {total.events} events, {minutes:.1f} min"
    )
    for kind in ("wrong resolve", "stale page", "wrong final state", "missed page"):
        report(f"  {kind + 's':<20} {total.count(kind)}")
    report(f"  excused (GitHub's API down, the action warned): {total.excused}")
    if worst is not None:
        report("The history with the most violations:\n" + worst[1])
    return total


def main(arguments: list[str]) -> int:
    histories = int(arguments[0]) if arguments else 600
    seed = int(arguments[1]) if len(arguments) > 1 else 2026
    total = month(histories, seed)
    return 1 if total.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
