"""What broke, as the alert tells it: the failed jobs of the run, their failed steps and error messages.

Made from GitHub's facts (facts.py reads them); nothing here reads or decides whether to alert.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from entrypoint import messages
from entrypoint.cancels import runner_lost
from entrypoint.github_data import Annotation, Job

# Of each failed job's error messages: a few, each cut short. Enough to tell a flaky network call from a
# real regression, small enough to read at night.
MAX_ERRORS_PER_JOB = 3
MAX_ERROR_CHARS = 300
# What the runner adds to every failed step; it says nothing where a more specific message exists.
GENERIC_ERROR = re.compile(r"Process completed with exit code \d+\.?")


@dataclass(frozen=True)
class FailedJob:
    name: str  # untrusted text
    url: str | None
    failed_steps: tuple[str, ...]  # untrusted text
    id: int | None = None
    completed: bool = True
    seconds: int | None = None  # how long it ran (so far, if it still runs)
    runner_name: str | None = None  # untrusted text
    self_hosted: bool | None = None
    errors: tuple[str, ...] = ()  # its failure annotations, one line each, cut short; untrusted text
    more_errors: int = 0  # how many more there were
    timed_out_after: int | None = None  # seconds, for a job cancelled at its timeout-minutes
    runner_lost: str | None = None  # the runner's words, where the job lost its runner (untrusted text)

    def with_annotations(self, annotations: list[Annotation]) -> FailedJob:
        """With its error messages, and whether its runner was lost, from its check run's annotations."""
        errors = error_messages(annotations)
        shown = tuple(errors[:MAX_ERRORS_PER_JOB])
        lost = runner_lost(annotations)
        return dataclasses.replace(
            self,
            errors=shown,
            more_errors=len(errors) - len(shown),
            runner_lost=messages.one_line(lost, MAX_ERROR_CHARS) if lost else None,
        )


@dataclass(frozen=True)
class Failures:
    """The failed jobs of the run, as GitHub's API gave them; None where it could not be read."""

    failed_jobs: tuple[FailedJob, ...] | None = None
    skipped_for_budget: tuple[str, ...] = ()  # what was not read to spare the token's rate limit

    @property
    def single(self) -> FailedJob | None:
        """The failed job, where exactly one job of the run failed (the one alerting included)."""
        return self.failed_jobs[0] if self.failed_jobs and len(self.failed_jobs) == 1 else None


def find_failed_jobs(jobs: tuple[Job, ...], now: datetime) -> tuple[FailedJob, ...]:
    """The jobs that count as failed (`Job.failed`): like this one, still running with a failed step, or
    cancelled at its timeout-minutes."""
    failed = []
    for job in jobs:
        if job.failed:
            url = job.url if job.url and job.url.startswith(("https://", "http://")) else None
            failed.append(
                FailedJob(
                    job.name,
                    url,
                    job.failed_steps,
                    id=job.id,
                    completed=job.completed,
                    seconds=job.seconds(now),
                    runner_name=job.runner_name,
                    self_hosted="self-hosted" in job.labels if job.labels else None,
                    timed_out_after=job.cancel.seconds if job.timed_out and job.cancel else None,
                )
            )
    return tuple(failed)


def error_messages(annotations: list[Annotation]) -> list[str]:
    """A job's failure annotations, one line each, without the runner's generic exit-code line where
    a more specific message exists."""
    errors = [_one_line(annotation) for annotation in annotations if annotation.level == "failure"]
    errors = [error for error in errors if error]
    specific = [error for error in errors if not GENERIC_ERROR.fullmatch(error)]
    return specific or errors


def _one_line(annotation: Annotation) -> str:
    text = annotation.message
    if annotation.title and annotation.title not in text:
        text = f"{annotation.title}: {text}"
    if annotation.path and annotation.path != ".github":  # `.github`: the runner's own, about no file
        where = f"{annotation.path}:{annotation.line}" if annotation.line else annotation.path
        text = f"{where}: {text}"
    return messages.one_line(text, MAX_ERROR_CHARS)
