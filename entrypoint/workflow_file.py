"""A workflow file, read for what GitHub's API never says about a job: its `timeout-minutes` (to tell a
job that hit its limit from one cancelled by a person, `concurrency` or fail-fast) and its job-level
`continue-on-error` (a job allowed to fail leaves its run green).

The file is the one that defines the job (a called workflow's own, for a reusable workflow's legs), at the
commit the run used: from the workspace when the checkout there is that commit, else from GitHub's API
(facts.py). It is parsed with PyYAML's `safe_load` only, imported here and only when a file is read, and
read defensively: any file, however odd, gives definitions or `NotAWorkflow`, never a crash.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entrypoint.expressions import Unevaluable, evaluate, number, truthy

# GitHub's defaults and bounds (docs: workflow syntax, jobs.<job_id>.timeout-minutes; usage limits).
DEFAULT_TIMEOUT_MINUTES = 360.0
HOSTED_MAX_MINUTES = 360.0  # a GitHub-hosted runner cancels a job at 6 hours whatever the file says
MAX_FILE_BYTES = 1024 * 1024  # GitHub's contents API gives a file's content up to 1 MB
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# `owner/repo/.github/workflows/ci.yml@<sha>`: a job's workflow file at a commit.
FILE_AT = re.compile(
    r"([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/(\.github/workflows/[^@\s]+\.ya?ml)@([0-9a-f]{40}|[0-9a-f]{64})"
)
MATRIX_SUFFIX = re.compile(r"^(.*?) \((.*)\)$")


class NotAWorkflow(Exception):
    """The text is no workflow file that can be read (not YAML, no jobs, too large)."""


@dataclass(frozen=True)
class FileAt:
    """A workflow file at a commit: what defines a job."""

    repository: str
    path: str  # .github/workflows/ci.yml
    sha: str

    def __str__(self) -> str:
        return f"{self.path} at {self.sha[:7]}"


def file_at(text: str | None) -> FileAt | None:
    """`owner/repo/.github/workflows/ci.yml@<sha>`, or None for anything else."""
    match = FILE_AT.fullmatch((text or "").strip())
    return FileAt(match.group(1), match.group(2), match.group(3)) if match else None


def file_of_workflow_ref(workflow_ref: str | None, sha: str | None) -> FileAt | None:
    """The file GITHUB_WORKFLOW_REF names (`owner/repo/.github/workflows/ci.yml@refs/heads/main`) at
    GITHUB_WORKFLOW_SHA: the caller's own file, which defines every job but a called workflow's."""
    if not workflow_ref or not sha or not SHA.fullmatch(sha):
        return None
    return file_at(workflow_ref.rsplit("@", 1)[0] + "@" + sha)


@dataclass(frozen=True)
class JobDefinition:
    """What a workflow file says of one job, as written (values may be expressions)."""

    id: str
    name: object = None
    timeout_minutes: object = None  # None: unset, GitHub's default
    continue_on_error: object = None
    matrix_keys: tuple[str, ...] = ()  # strategy.matrix's own keys, in their order (not include/exclude)


@dataclass(frozen=True)
class Limit:
    """A job's time limit in minutes, or why it is not known."""

    minutes: float | None
    unknown: str | None = None


def parse(text: str) -> dict[str, JobDefinition]:
    """The jobs a workflow file defines, by id."""
    if len(text) > MAX_FILE_BYTES:
        raise NotAWorkflow("it is larger than 1 MB")
    import yaml  # noqa: PLC0415 - only a cancelled job or a failed one needs a workflow file

    try:
        document = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise NotAWorkflow(f"it is not YAML ({type(exc).__name__})") from None
    jobs = document.get("jobs") if isinstance(document, dict) else None
    if not isinstance(jobs, dict):
        raise NotAWorkflow("it defines no jobs")
    return {
        str(job_id): _definition(str(job_id), job) for job_id, job in jobs.items() if isinstance(job, dict)
    }


def _definition(job_id: str, job: dict[Any, Any]) -> JobDefinition:
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    keys = (
        tuple(str(key) for key in matrix if key not in ("include", "exclude"))
        if isinstance(matrix, dict)
        else ()
    )
    return JobDefinition(
        id=job_id,
        name=job.get("name"),
        timeout_minutes=job.get("timeout-minutes"),
        continue_on_error=job.get("continue-on-error"),
        matrix_keys=keys,
    )


def read_from_workspace(workspace: str | None, where: FileAt, repository: str) -> str | None:
    """The file from the workspace, where the checkout there is this repository at that very commit (its
    HEAD, read from .git without git); else None."""
    if not workspace or where.repository.lower() != repository.lower():
        return None
    root = Path(workspace)
    if _head(root / ".git") != where.sha:
        return None
    path = (root / where.path).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _head(git: Path) -> str | None:
    """The commit HEAD names: a detached sha, or a branch's, from its loose ref or packed-refs."""
    try:
        head = (git / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        if SHA.fullmatch(head):
            return head
        if not head.startswith("ref: "):
            return None
        ref = head[5:].strip()
        loose = git / ref
        if ref.startswith("refs/") and ".." not in ref and loose.is_file():
            value = loose.read_text(encoding="utf-8", errors="replace").strip()
            return value if SHA.fullmatch(value) else None
        for line in (git / "packed-refs").read_text(encoding="utf-8", errors="replace").splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and SHA.fullmatch(sha):
                return sha
    except OSError:
        return None
    return None


def definition_of(
    jobs: dict[str, JobDefinition], job_id: str | None, api_name: str | None
) -> JobDefinition | None:
    """A job's definition: by its id (GITHUB_JOB, for this job); else by the name GitHub's API gives it
    (`build`, a leg's `test (3.12, ubuntu)`, a called workflow's `unit / test`): its `name:`, or its id."""
    if job_id and job_id in jobs:
        return jobs[job_id]
    if not api_name:
        return None
    base = api_name.rsplit(" / ", 1)[-1]
    if suffix := MATRIX_SUFFIX.fullmatch(base):
        base = suffix.group(1)
    named = [job for job in jobs.values() if isinstance(job.name, str) and job.name == base]
    if len(named) == 1:
        return named[0]
    return jobs.get(base)


def leg_matrix(definition: JobDefinition, api_name: str) -> dict[str, Any] | None:
    """A matrix leg's values from its name in GitHub's API (`test (3.12, ubuntu)`), as text, by the
    matrix's own keys; None where they cannot be told (include-only legs, values with commas)."""
    suffix = MATRIX_SUFFIX.fullmatch(api_name.rsplit(" / ", 1)[-1])
    if not suffix or not definition.matrix_keys:
        return None
    values = suffix.group(2).split(", ")
    if len(values) != len(definition.matrix_keys):
        return None
    return dict(zip(definition.matrix_keys, values, strict=True))


def time_limit(definition: JobDefinition, matrix: dict[str, Any] | None) -> Limit:
    """The job's `timeout-minutes`, evaluated with its matrix where it reads it; 360 where unset."""
    raw = definition.timeout_minutes
    if raw is None:
        return Limit(DEFAULT_TIMEOUT_MINUTES)
    try:
        value = evaluate(raw, {"matrix": matrix or {}})
    except Unevaluable as exc:
        return Limit(None, f"its timeout-minutes ({_short(raw)}) cannot be evaluated here: {exc}")
    minutes = number(value)
    if math.isnan(minutes) or minutes <= 0:
        return Limit(None, f"its timeout-minutes ({_short(raw)}) is no number of minutes")
    return Limit(minutes)


def allowed_to_fail(definition: JobDefinition, matrix: dict[str, Any] | None) -> bool | None:
    """Whether the job's own `continue-on-error` lets it fail with its run green; None where it reads
    something the action cannot evaluate."""
    raw = definition.continue_on_error
    if raw is None:
        return False
    try:
        value = evaluate(raw, {"matrix": matrix or {}})
    except Unevaluable:
        return None
    if isinstance(value, str):  # a YAML string, or an expression's text: the runner reads it as a boolean
        return value.strip().lower() == "true"
    return truthy(value)


def _short(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:59] + "…"
