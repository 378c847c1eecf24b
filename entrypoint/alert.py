"""The alert: what to send to incident.io, from the settings, the workflow run and the verdict.

Defaults are deterministic. The deduplication key depends only on the repository, the workflow's
file, the job (and matrix combination, or a called workflow's leg) and the run's origin (branch, fork,
merge queue or tag), never on the run, attempt or commit, so a failure fires an alert and a later green
run of the same job resolves that same alert, and a run from elsewhere (a fork, the merge queue) never
shares it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from entrypoint import messages, untrusted
from entrypoint.failures import FailedJob, Failures
from entrypoint.github_data import Job
from entrypoint.settings import Settings
from entrypoint.verdict import AlertStatus, Verdict, failed_needed_jobs
from entrypoint.workflow_run import WorkflowRun

# incident.io refuses bodies over 512 KiB (413 payload_too_large); stay clearly below it.
MAX_BODY_BYTES = 500 * 1024
MAX_KEY_LENGTH = 200
# Enough for on-call to see what broke, small enough to keep the alert readable.
MAX_FAILED_JOBS = 10
MAX_FAILED_STEPS = 5
MAX_ERRORS_IN_METADATA = 10
# What a firing title says happened, by conclusion; anything else "failed".
FIRING_VERBS = {"timed_out": "timed out", "startup_failure": "failed to start", "cancelled": "was cancelled"}


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

    def redacted(self, redact: Callable[[str], str]) -> Alert:
        """The alert with every secret taken out of its text: an error message may echo a token."""
        return dataclasses.replace(
            self,
            title=redact(self.title),
            description=redact(self.description) if self.description else self.description,
            metadata=_redact_values(self.metadata, redact),
            source_url=redact(self.source_url) if self.source_url else self.source_url,
        )


def _redact_values(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_values(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_values(item, redact) for item in value]
    return value


class AlertTooLarge(Exception):
    """The body is over incident.io's limit even with the description cut short."""


def encode_body(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def build_alert(
    settings: Settings,
    run: WorkflowRun | None,
    verdict: Verdict,
    failures: Failures | None = None,
    this_job: Job | None = None,
) -> Alert:
    """The alert for a verdict that sends one. `failures` is what GitHub's API told about a firing alert;
    `this_job`, the job running this step as GitHub's API names it."""
    if verdict.status is None:
        raise ValueError("nothing is sent: " + verdict.reason)
    failures = failures or Failures()
    timed_out_after = timed_out(verdict, failures)
    conclusion = "timed_out" if timed_out_after is not None else _conclusion(settings, run, verdict.status)
    metadata = default_metadata(run, settings, conclusion)
    metadata.update(failure_metadata(failures, verdict.consecutive, settings.failures_before_alert))
    metadata.update(runner_metadata(run, settings, failures))
    metadata.update(settings.metadata)  # the user's keys win
    description = settings.description or default_description(run, settings, conclusion, failures, this_job)
    if description and not settings.description and failures.failed_jobs:
        description += "\n" + failed_jobs_markdown(failures.failed_jobs)
    single = failures.single
    title = first_line(settings.title) or default_title(
        run,
        settings,
        verdict.status,
        conclusion,
        failures,
        this_job=this_job,
        timed_out_after=timed_out_after,
    )
    alert = Alert(
        title=title,
        status=verdict.status,
        deduplication_key=deduplication_key(settings, run, this_job),
        description=description,
        metadata=metadata,
        # Straight to the failed job's log where one job failed; else the run (where it is fit for a link).
        source_url=settings.source_url
        or (single and single.url)
        or untrusted.link(run.run_url if run else None),
        why=verdict.reason,
    )
    return fit_to_size(alert)


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


def deduplication_key(settings: Settings, run: WorkflowRun | None, this_job: Job | None = None) -> str:
    return settings.deduplication_key or default_deduplication_key(run, settings.matrix, this_job)


def job_name(run: WorkflowRun, this_job: Job | None) -> str | None:
    """The job as keys and titles name it: its id (GITHUB_JOB); in a workflow called by another job, its
    full name in GitHub's API (`unit (3.12) / test`). There `GITHUB_JOB` is the called job's id and the
    caller's matrix is not visible, so only that name tells the caller's matrix legs apart."""
    if this_job is not None and " / " in this_job.name:
        return this_job.name
    return run.job


# Runs that are not on a branch of this repository get a key of their own kind, so that they can never
# share one with that branch: `github-actions-fork:...`, `github-actions-merge-queue:...`.
KEY_KIND_SUFFIX = {"fork": "-fork", "merge-queue": "-merge-queue", "tag": "-tag", "comment": "-comment"}


def default_deduplication_key(
    run: WorkflowRun | None, matrix: dict[str, Any] | None, this_job: Job | None = None
) -> str:
    """`github-actions:owner/repo:ci.yml:test[os=ubuntu-latest,python=3.12]:main`.

    Readable, because incident.io shows it and users filter on it. Parts are joined with ':' and a
    ':' or '%' inside a part is percent-encoded, so two different jobs cannot share a key. The
    workflow is named by its file, as two workflows may share a display name.
    """
    if run is None:  # unreachable: settings require a key outside GitHub Actions
        raise ValueError("a deduplication key is needed outside GitHub Actions")
    job = job_name(run, this_job)
    label = matrix_label(matrix, separator=",")
    if job and label:
        job = f"{job}[{label}]"
    origin = run.origin
    if origin.kind == "fork":
        where: str | None = f"{origin.owner}/{origin.name}"  # owners have no '/': unambiguous
    elif origin.kind in ("tag", "comment"):
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


def default_title(
    run: WorkflowRun | None,
    settings: Settings,
    status: AlertStatus,
    conclusion: str | None,
    failures: Failures,
    *,
    this_job: Job | None = None,
    timed_out_after: int | None = None,
) -> str:
    """One line that says what happened first: `CI / test failed at step "Run pytest" on main in o/r`.

    A firing title names the job, and its step where exactly one step of exactly one job failed; a
    resolved one says it passed. The key, not the title, ties the two together.
    """
    if run is None:  # unreachable: settings require a title outside GitHub Actions
        raise ValueError("a title is needed outside GitHub Actions")
    single = failures.single if status == "firing" else None
    subject = run.workflow
    about_this_job = settings.needs is None and run.watched is None
    job = job_name(run, this_job) if about_this_job else (single.name if single else None)
    if job is None and status == "firing" and (failed_needs := failed_needed_jobs(settings)):
        job = ", ".join(failed_needs)  # a notify job's alert is about the jobs it needs, GitHub's API or not
    if job:
        subject += f" / {messages.one_line(job, 80)}"
    label = matrix_label(settings.matrix)
    if label and job and about_this_job:
        subject += f" ({label})"
    what = "passed" if status == "resolved" else FIRING_VERBS.get(conclusion or "", "failed")
    if single and single.failed_steps and conclusion == "cancelled":
        what = "failed"  # a step failed, then the job was cancelled (a timeout): the failure is the news
    if timed_out_after is not None and status == "firing":
        what = f"timed out after {messages.duration(timed_out_after)}"
    elif single and single.runner_lost and status == "firing":
        what = messages.RUNNER_LOST  # not "failed at step": the step did not fail, its runner went away
    elif single and len(single.failed_steps) == 1:
        what += f' at step "{messages.one_line(single.failed_steps[0], 60)}"'
    where = run.origin.where or (f"on {run.branch}" if run.branch else "")
    return " ".join(f"{subject} {what} {where} in {run.repository}".split())


def timed_out(verdict: Verdict, failures: Failures) -> int | None:
    """Seconds after which the job the alert is about hit its timeout-minutes, where that is the news."""
    if verdict.status != "firing":
        return None
    if verdict.timed_out_after is not None:
        return verdict.timed_out_after
    single = failures.single
    return single.timed_out_after if single is not None else None


def _conclusion(settings: Settings, run: WorkflowRun | None, status: AlertStatus) -> str | None:
    """How what the alert is about ended: the watched run; a notify job's needed jobs (the notify job
    itself succeeds whatever they did); else this job."""
    if run and run.watched:
        return run.watched.conclusion
    if settings.needs is not None:
        return needs_conclusion(settings, status)
    return settings.job_status


def needs_conclusion(settings: Settings, status: AlertStatus) -> str:
    """The needed jobs' conclusion, as one: `success` for a resolve; `cancelled` where a cancel fired it
    (on-cancelled: fire) and nothing failed; else `failure` (a needed job, or one behind a skipped one)."""
    results = set((settings.needs or {}).values())
    if status == "resolved":
        return "success"
    if "failure" not in results and "cancelled" in results and settings.on_cancelled == "fire":
        return "cancelled"
    return "failure"


def first_line(title: str | None) -> str | None:
    """A title is one line (a commit message passed as the title has many): its first non-blank line."""
    if title is None:
        return None
    return next((line.strip() for line in title.splitlines() if line.strip()), None)


def default_description(
    run: WorkflowRun | None,
    settings: Settings,
    conclusion: str | None,
    failures: Failures | None = None,
    this_job: Job | None = None,
) -> str | None:
    """Markdown for on-call: where the run is, what commit and who, why it ran, how it ended."""
    if run is None:
        return None
    lines = _run_lines(run, settings, this_job) + _ref_lines(run) + _people_lines(run)
    runner = runner_metadata(run, settings, failures or Failures())
    if "runner_name" in runner:
        kind = runner.get("runner_environment")
        lines.append(f"- **Runner:** {_md(runner['runner_name'])}" + (f" ({kind})" if kind else ""))
    if run.event_name:
        lines.append(f"- **Event:** {_md(run.event_name)}")
    if conclusion:
        lines.append(f"- **Conclusion:** {_md(conclusion)}")
    lines.append(f"- **Repository:** {_link(run.repository, f'{run.server_url}/{run.repository}')}")
    return "\n".join(lines)


def _run_lines(run: WorkflowRun, settings: Settings, this_job: Job | None) -> list[str]:
    lines = []
    if run.run_url:
        name = f"#{run.run_number}" if run.run_number else "run"
        line = f"- **Run:** {_link(f'{run.workflow} {name}', run.run_url)}"
        if run.run_attempt and run.attempt_url:
            line += f", {_link(f'attempt {run.run_attempt}', run.attempt_url)}"
        lines.append(line)
    if shown := job_name(run, this_job):
        label = matrix_label(settings.matrix)
        job = _md(shown)
        if settings.check_run_id and run.run_url and run.watched is None:
            job = _link(shown, f"{run.run_url}/job/{settings.check_run_id}")  # its log, without asking GitHub
        lines.append(f"- **Job:** {job}" + (f" ({_md(label)})" if label else ""))
    if failed_needs := failed_needed_jobs(settings):
        lines.append("- **Failed needed jobs:** " + ", ".join(_md(job) for job in failed_needs))
    return lines


def _ref_lines(run: WorkflowRun) -> list[str]:
    origin = run.origin
    if origin.kind == "fork":
        return [f"- **Branch:** `{_code(origin.scope_name or '')}` (a fork's)"]
    if origin.kind == "merge-queue":
        return [f"- **Merge queue of:** `{_code(origin.name or '')}`"]
    if origin.kind == "tag":
        return [f"- **Tag:** `{_code(origin.name or '')}`"]
    if run.branch:
        return [f"- **Branch:** `{_code(run.branch)}`"]
    return [f"- **Ref:** `{_code(run.ref)}`"] if run.ref else []


def _people_lines(run: WorkflowRun) -> list[str]:
    """The commit and who wrote it, the pull request, and who started the run (not always the author)."""
    lines = []
    if run.commit:
        line = f"- **Commit:** {_link(run.commit.short_sha, run.commit.url, code=True)}"
        if run.commit.subject:
            line += f" {_md(run.commit.subject[:200])}"
        if run.commit.author:
            line += f", by {_md(run.commit.author[:100])}"
        lines.append(line)
    if run.pull_request:
        line = f"- **Pull request:** {_link(f'#{run.pull_request.number}', run.pull_request.url)}"
        if run.pull_request.title:
            line += f" {_md(run.pull_request.title[:200])}"
        lines.append(line)
    if run.actor:
        lines.append(f"- **Actor:** {_md(run.actor)}")
    return lines


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
        "commit_author": run.commit.author if run.commit else None,
        "matrix": matrix_label(settings.matrix),
        "failed_needs": failed_needed_jobs(settings) or None,
    }
    return {name: value for name, value in values.items() if value is not None}


def failed_jobs_markdown(jobs: tuple[FailedJob, ...]) -> str:
    """A nested list: each failed job linked to its log, with its failed steps, how long it ran, and
    its error messages; capped."""
    lines = ["- **Failed jobs:**"]
    for job in jobs[:MAX_FAILED_JOBS]:
        line = f"  - {_link(job.name[:200], job.url)}"
        steps = [f"`{_code(step[:100])}`" for step in job.failed_steps[:MAX_FAILED_STEPS]]
        if len(job.failed_steps) > MAX_FAILED_STEPS:
            steps.append(f"and {len(job.failed_steps) - MAX_FAILED_STEPS} more")
        if steps:
            line += ": failed at " + ", ".join(steps)
        if job.seconds is not None:
            line += f" after {messages.duration(job.seconds)}"
        lines.append(line)
        lines += [f"    - {_md(error)}" for error in job.errors]
        if job.more_errors:
            lines.append(f"    - … and {job.more_errors} more errors")
    if len(jobs) > MAX_FAILED_JOBS:
        lines.append(f"  - … and {len(jobs) - MAX_FAILED_JOBS} more failed jobs")
    return "\n".join(lines)


def failure_metadata(failures: Failures, consecutive: int | None, needed: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if failures.failed_jobs is not None:
        metadata["failed_jobs"] = [job.name for job in failures.failed_jobs[:MAX_FAILED_JOBS]]
        metadata["failed_jobs_count"] = len(failures.failed_jobs)
        errors = [f"{job.name}: {error}" for job in failures.failed_jobs for error in job.errors]
        if errors:
            metadata["errors"] = errors[:MAX_ERRORS_IN_METADATA]
        if failures.single and failures.single.seconds is not None:
            metadata["job_duration_seconds"] = failures.single.seconds
    if consecutive is not None and needed > 1:
        metadata["consecutive_failures"] = consecutive
    return metadata


def runner_metadata(run: WorkflowRun | None, settings: Settings, failures: Failures) -> dict[str, Any]:
    """The runner of the job the alert is about: this one's for a step in the failed job; for a watcher
    or a notify job, the single failed job's, as GitHub's API gives it."""
    if run is None:
        return {}
    if run.watched is None and settings.needs is None:
        name, environment = run.runner_name, run.runner_environment
    elif failures.single is not None:
        single = failures.single
        name = single.runner_name
        environment = (
            None if single.self_hosted is None else ("self-hosted" if single.self_hosted else "github-hosted")
        )
    else:
        return {}
    values = {"runner_name": name, "runner_environment": environment}
    return {key: value for key, value in values.items() if value}


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


def _link(text: str, url: str | None, *, code: bool = False) -> str:
    """`[text](url)` with both made safe (the text escaped, the URL encoded), or the text alone where the
    URL is no http(s) URL fit for a link."""
    shown = f"`{_code(text)}`" if code else _md(text)
    target = untrusted.link(url)
    return f"[{shown}]({untrusted.markdown_link_target(target)})" if target else shown


def _code(text: str) -> str:
    return " ".join(text.replace("`", "'").split())
