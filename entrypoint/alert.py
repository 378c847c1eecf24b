"""The alert: what to send to incident.io, decided from the settings and the workflow run.

Defaults are deterministic. The deduplication key depends only on the repository, the workflow's
file, the job (and matrix combination) and the run's origin (branch, fork, merge queue or tag),
never on the run, attempt or commit, so a failure fires an alert and a later green run of the same
job resolves that same alert, and a run from elsewhere (a fork, the merge queue) never shares it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from entrypoint import messages
from entrypoint.failures import FAILED_CONCLUSIONS, FailedJob, Failures
from entrypoint.settings import INPUTS_BY_FIELD, Problem, Settings
from entrypoint.workflow_run import WorkflowRun

AlertStatus = Literal["firing", "resolved"]

# incident.io refuses bodies over 512 KiB (413 payload_too_large); stay clearly below it.
MAX_BODY_BYTES = 500 * 1024
MAX_KEY_LENGTH = 200
# Enough for on-call to see what broke, small enough to keep the alert readable.
MAX_FAILED_JOBS = 10
MAX_FAILED_STEPS = 5

WATCHED_FIRING = FAILED_CONCLUSIONS  # a watched run fires on what counts as failed everywhere
DEPLOYMENT_FIRING = frozenset({"failure", "error"})


@dataclass(frozen=True)
class Alert:
    title: str
    status: AlertStatus
    deduplication_key: str
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source_url: str | None = None
    why: str = ""  # why this status; logged, never sent

    def body(self) -> dict[str, Any]:
        """The request body: only the schema's fields, optional ones only when set."""
        body: dict[str, Any] = {
            "title": self.title,
            "status": self.status,
            "deduplication_key": self.deduplication_key,
        }
        if self.description:
            body["description"] = self.description
        if self.metadata:
            body["metadata"] = self.metadata
        if self.source_url:
            body["source_url"] = self.source_url
        return body

    def body_bytes(self) -> bytes:
        return encode_body(self.body())


@dataclass(frozen=True)
class Skip:
    """Nothing is sent, on purpose (e.g. a cancelled job)."""

    reason: str
    deduplication_key: str


class AlertTooLarge(Exception):
    """The body is over incident.io's limit even with the description cut short."""


def encode_body(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_alert(
    settings: Settings, run: WorkflowRun | None, failures: Failures | None = None
) -> Alert | Skip:
    """The alert, or why nothing is sent. `failures` is what GitHub's API told about a firing alert."""
    failures = failures or Failures()
    key = deduplication_key(settings, run)
    decision = decide_status(settings, run)
    if decision.status is None:
        return Skip(decision.reason, key)
    needed = settings.failures_before_alert
    if decision.status == "firing" and failures.consecutive is not None and failures.consecutive < needed:
        # Resolving is never held back; only a firing alert waits for the N-th failure in a row.
        reason = messages.HELD_BACK.format(
            consecutive=failures.consecutive, needed=needed, subject=failures.counted
        )
        return Skip(reason, key)
    conclusion = _conclusion(settings, run)
    metadata = default_metadata(run, settings, conclusion)
    metadata.update(failure_metadata(failures, needed))
    metadata.update(settings.metadata)  # the user's keys win
    description = settings.description or default_description(run, settings, conclusion)
    if description and not settings.description and failures.failed_jobs:
        description += "\n" + failed_jobs_markdown(failures.failed_jobs)
    alert = Alert(
        title=settings.title or default_title(run, settings),
        status=decision.status,
        deduplication_key=key,
        description=description,
        metadata=metadata,
        source_url=settings.source_url or (run.run_url if run else None),
        why=decision.reason,
    )
    return fit_to_size(alert)


@dataclass(frozen=True)
class StatusDecision:
    status: AlertStatus | None  # None: nothing is sent
    reason: str


def decide_status(settings: Settings, run: WorkflowRun | None) -> StatusDecision:
    """The alert's status and why, or why nothing is sent (status None)."""
    if settings.status != "auto":
        return StatusDecision(settings.status, f"the status input is {settings.status}")
    fire_cancelled = settings.on_cancelled == "fire"
    watched = run.watched if run else None
    if watched is not None:
        what = f"the watched {watched.kind.replace('_', ' ')}"
        if not watched.completed:
            state = watched.conclusion or "no conclusion yet"
            return StatusDecision(None, f"{what.capitalize()} has not completed ({state}); nothing is sent.")
        conclusion = watched.conclusion or "none"
        if conclusion == "success":
            return StatusDecision("resolved", f"{what} ended {conclusion}")
        firing = DEPLOYMENT_FIRING if watched.kind == "deployment_status" else WATCHED_FIRING
        if conclusion in firing:
            return StatusDecision("firing", f"{what} ended {conclusion}")
        if conclusion == "cancelled" and fire_cancelled:
            return StatusDecision("firing", f"{what} was cancelled and on-cancelled is fire")
        return StatusDecision(
            None,
            f"{what.capitalize()} ended {conclusion}, which neither fires nor resolves an alert; "
            "nothing is sent.",
        )
    if settings.needs is not None:
        return _decide_from_needs(settings)
    if settings.job_status == "success":
        return StatusDecision("resolved", "the job status is success")
    if settings.job_status == "failure":
        return StatusDecision("firing", "the job status is failure")
    if settings.job_status == "cancelled" and fire_cancelled:
        return StatusDecision(
            "firing", "the job was cancelled (a timeout, or by hand) and on-cancelled is fire"
        )
    if settings.job_status in ("cancelled", "skipped"):
        hint = " (on-cancelled: fire alerts on it)" if settings.job_status == "cancelled" else ""
        return StatusDecision(None, f"The job was {settings.job_status}; nothing is sent{hint}.")
    return StatusDecision("firing", "no job status was given")


def _decide_from_needs(settings: Settings) -> StatusDecision:
    """A notify job's alert is about the jobs it needs, not about itself (it succeeds either way)."""
    needs = settings.needs or {}
    failed = failed_needed_jobs(settings)
    if failed:
        return StatusDecision("firing", f"needed jobs failed: {', '.join(failed)}")
    if "success" in needs.values():
        return StatusDecision("resolved", "the needed jobs succeeded")
    results = ", ".join(f"{job} {result}" for job, result in needs.items())
    return StatusDecision(
        None, f"The needed jobs were only cancelled or skipped ({results}); nothing is sent."
    )


def failed_needed_jobs(settings: Settings) -> list[str]:
    """The needed jobs that count as failed: failure, and cancelled with on-cancelled: fire."""
    failed = {"failure", "cancelled"} if settings.on_cancelled == "fire" else {"failure"}
    return [job for job, result in (settings.needs or {}).items() if result in failed]


def job_status_problem(settings: Settings, run: WorkflowRun | None, in_actions: bool) -> Problem | None:
    """In GitHub Actions, an alert without any status to go by would fire on every green run."""
    if not in_actions or settings.status != "auto" or (run is not None and run.watched is not None):
        return None
    if settings.job_status is not None or settings.needs is not None:
        return None
    return Problem(INPUTS_BY_FIELD["job_status"], messages.JOB_STATUS_MISSING)


# -- defaults -------------------------------------------------------------------------------------------


def matrix_label(matrix: dict[str, Any] | None, separator: str = ", ") -> str | None:
    """`os=ubuntu-latest, python=3.12`: the matrix combination, independent of key order."""
    if not matrix:
        return None
    return separator.join(f"{name}={_matrix_value(matrix[name])}" for name in sorted(matrix))


def _matrix_value(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[\w.+/@-]*", value):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def deduplication_key(settings: Settings, run: WorkflowRun | None) -> str:
    return settings.deduplication_key or default_deduplication_key(run, settings.matrix)


# Runs that are not on a branch of this repository get a key of their own kind, so that they can never
# share one with that branch: `github-actions-fork:...`, `github-actions-merge-queue:...`.
KEY_KIND_SUFFIX = {"fork": "-fork", "merge-queue": "-merge-queue", "tag": "-tag"}


def default_deduplication_key(run: WorkflowRun | None, matrix: dict[str, Any] | None) -> str:
    """`github-actions:owner/repo:ci.yml:test[os=ubuntu-latest,python=3.12]:main`.

    Readable, because incident.io shows it and users filter on it. Parts are joined with ':' and a
    ':' or '%' inside a part is percent-encoded, so two different jobs cannot share a key. The
    workflow is named by its file, as two workflows may share a display name.
    """
    if run is None:  # unreachable: settings require a key outside GitHub Actions
        raise ValueError("a deduplication key is needed outside GitHub Actions")
    job = run.job
    label = matrix_label(matrix, separator=",")
    if job and label:
        job = f"{job}[{label}]"
    origin = run.origin
    if origin.kind == "fork":
        where: str | None = f"{origin.owner}/{origin.name}"  # owners have no '/': unambiguous
    elif origin.kind == "tag":
        where = None  # one key for all tags: the next good release resolves a bad one's alert
    else:
        where = run.branch
    scope = run.key_scope + KEY_KIND_SUFFIX.get(origin.kind, "")
    parts = [scope, run.repository, run.key_name, job, where]
    key = ":".join(_key_part(part) for part in parts if part)
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        key = f"{key[: MAX_KEY_LENGTH - 18]}~{digest}"
    return key


def _key_part(text: str) -> str:
    return " ".join(text.split()).replace("%", "%25").replace(":", "%3A")


def default_title(run: WorkflowRun | None, settings: Settings) -> str:
    """One line, the same for firing and resolved: `CI / test (os=...) on main in owner/repo`.

    A notify job's alert (with `needs`) is about the workflow's jobs, so it names the workflow only.
    """
    if run is None:  # unreachable: settings require a title outside GitHub Actions
        raise ValueError("a title is needed outside GitHub Actions")
    subject = run.workflow
    job = None if settings.needs is not None else run.job
    if job:
        subject += f" / {job}"
    label = matrix_label(settings.matrix)
    if label and job:
        subject += f" ({label})"
    where = run.origin.where or (f"on {run.branch}" if run.branch else "")
    return " ".join(f"{subject} {where} in {run.repository}".split())


def _conclusion(settings: Settings, run: WorkflowRun | None) -> str | None:
    if run and run.watched:
        return run.watched.conclusion
    return settings.job_status


def default_description(run: WorkflowRun | None, settings: Settings, conclusion: str | None) -> str | None:
    """Markdown for on-call: where the run is, what commit, who, why it ran, how it ended."""
    if run is None:
        return None
    lines = []
    if run.run_url:
        name = f"#{run.run_number}" if run.run_number else "run"
        line = f"- **Run:** [{run.workflow} {name}]({run.run_url})"
        if run.run_attempt and run.attempt_url:
            line += f", [attempt {run.run_attempt}]({run.attempt_url})"
        lines.append(line)
    if run.job:
        label = matrix_label(settings.matrix)
        job = _md(run.job)
        if settings.check_run_id and run.run_url and run.watched is None:
            job = f"[{job}]({run.run_url}/job/{settings.check_run_id})"  # its log, without asking GitHub
        lines.append(f"- **Job:** {job}" + (f" ({_md(label)})" if label else ""))
    if failed_needs := failed_needed_jobs(settings):
        lines.append("- **Failed needed jobs:** " + ", ".join(_md(job) for job in failed_needs))
    origin = run.origin
    if origin.kind == "fork":
        lines.append(f"- **Branch:** `{_code(origin.scope_name or '')}` (a fork's)")
    elif origin.kind == "merge-queue":
        lines.append(f"- **Merge queue of:** `{_code(origin.name or '')}`")
    elif origin.kind == "tag":
        lines.append(f"- **Tag:** `{_code(origin.name or '')}`")
    elif run.branch:
        lines.append(f"- **Branch:** `{_code(run.branch)}`")
    elif run.ref:
        lines.append(f"- **Ref:** `{_code(run.ref)}`")
    if run.commit:
        line = f"- **Commit:** [`{run.commit.short_sha}`]({run.commit.url})"
        if run.commit.subject:
            line += f" {_md(run.commit.subject[:200])}"
        lines.append(line)
    if run.pull_request:
        line = f"- **Pull request:** [#{run.pull_request.number}]({run.pull_request.url})"
        if run.pull_request.title:
            line += f" {_md(run.pull_request.title[:200])}"
        lines.append(line)
    if run.actor:
        lines.append(f"- **Actor:** {run.actor}")
    if run.event_name:
        lines.append(f"- **Event:** {run.event_name}")
    if conclusion:
        lines.append(f"- **Conclusion:** {conclusion}")
    lines.append(f"- **Repository:** [{run.repository}]({run.server_url}/{run.repository})")
    return "\n".join(lines)


def default_metadata(run: WorkflowRun | None, settings: Settings, conclusion: str | None) -> dict[str, Any]:
    """Flat snake_case keys users can map to alert attributes. Nothing secret, no payload dumps."""
    if run is None:
        return {}
    values: dict[str, Any] = {
        "repository": run.repository,
        "workflow": run.workflow,
        "workflow_file": run.workflow_file,
        "job": run.job,
        "ref": run.ref,
        "branch": run.branch,
        "sha": run.sha,
        "run_id": run.run_id,
        "run_number": run.run_number,
        "run_attempt": run.run_attempt,
        "run_url": run.run_url,
        "actor": run.actor,
        "event_name": run.event_name,
        "server_url": run.server_url,
        "conclusion": conclusion,
        "pull_request_number": run.pull_request.number if run.pull_request else None,
        "matrix": matrix_label(settings.matrix),
        "failed_needs": failed_needed_jobs(settings) or None,
    }
    return {name: value for name, value in values.items() if value is not None}


def failed_jobs_markdown(jobs: tuple[FailedJob, ...]) -> str:
    """A nested list: each failed job linked to its log, with its failed steps; capped."""
    lines = ["- **Failed jobs:**"]
    for job in jobs[:MAX_FAILED_JOBS]:
        name = _md(job.name[:200])
        line = f"  - [{name}]({_url(job.url)})" if job.url else f"  - {name}"
        steps = [f"`{_code(step[:100])}`" for step in job.failed_steps[:MAX_FAILED_STEPS]]
        if len(job.failed_steps) > MAX_FAILED_STEPS:
            steps.append(f"and {len(job.failed_steps) - MAX_FAILED_STEPS} more")
        if steps:
            line += ": failed at " + ", ".join(steps)
        lines.append(line)
    if len(jobs) > MAX_FAILED_JOBS:
        lines.append(f"  - … and {len(jobs) - MAX_FAILED_JOBS} more failed jobs")
    return "\n".join(lines)


def failure_metadata(failures: Failures, needed: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if failures.failed_jobs is not None:
        metadata["failed_jobs"] = [job.name for job in failures.failed_jobs[:MAX_FAILED_JOBS]]
        metadata["failed_jobs_count"] = len(failures.failed_jobs)
    if failures.consecutive is not None and needed > 1:
        metadata["consecutive_failures"] = failures.consecutive
    return metadata


def fit_to_size(alert: Alert) -> Alert:
    """Cut the description so the body stays under MAX_BODY_BYTES; refuse if that is not enough."""
    size = len(alert.body_bytes())
    if size <= MAX_BODY_BYTES:
        return alert
    description = alert.description or ""
    marker = "\n\n… (truncated to stay under incident.io's size limit)"
    while description and size > MAX_BODY_BYTES:
        keep = max(0, int(len(description) * MAX_BODY_BYTES / size * 0.95) - len(marker))
        description = description[:keep]
        alert = Alert(**{**alert.__dict__, "description": description + marker if description else None})
        size = len(alert.body_bytes())
    if size > MAX_BODY_BYTES:
        raise AlertTooLarge(
            f"The alert body is {size} bytes even without a description; incident.io accepts at most "
            "512 KiB. Shorten the metadata or the title."
        )
    return alert


def _md(text: str) -> str:
    """Escape markdown in untrusted text so it reads as itself (a commit message cannot add links)."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", " ".join(text.split()))


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _code(text: str) -> str:
    return " ".join(text.replace("`", "'").split())
