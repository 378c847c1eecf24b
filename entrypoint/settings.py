"""Reading the settings: the action's inputs, from the environment, validated all at once.

Where the step came through action.yml (`uses: owner/action`, `uses: ./`), each input is read from
`INPUT_<NAME>` alone: what the runner sets from `with:` (hyphens kept, so `INPUT_API-TOKEN`), and what
no earlier step can change. An `INCIDENT_IO_<NAME>` variable there comes from `env:` or from an earlier
step's `$GITHUB_ENV`, which the runner lets win over action.yml's own settings: it is ignored, with a
warning where it would differ (`ignored_variables`), so that nothing but `with:` can send the token
elsewhere or silence the alert. Elsewhere (`uses: docker://`, `docker run -e`) the inputs are the
`INCIDENT_IO_<NAME>` variables. Blank values count as unset; values are trimmed. Defaults live here and
only here, in `Settings`.

The two required inputs are checked apart from the others (`missing_required`): a run that sends
nothing on purpose (a feature branch, a fork's pull request) must not fail for want of secrets it
is never given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, ValidationInfo, field_validator

from entrypoint import messages, untrusted
from entrypoint.runner import under_act
from entrypoint.workflow_file import FileAt, file_at

DEFAULT_API_URL = "https://api.incident.io"
ENV_PREFIX = "INCIDENT_IO_"
ALERT_EVENTS_PATH = "/v2/alert_events/http/"
HEARTBEAT_PATH = re.compile(r"/v2/heartbeat/([^/]*)/ping/?")
EXAMPLE_CONFIG_ID = "01GW2G3V0S59R238FAHPDS1R66"
# incident.io's source tokens and GitHub's tokens are long random strings; a shorter value is a placeholder
# (`test`, `token`): an input error, and never masked, as masking it would garble every line that holds
# the word (`Input 'api-***'`).
MIN_SECRET_LENGTH = 16
# How close an unknown INCIDENT_IO_* variable must be to an input's to be called a misspelling of it.
MISSPELLING_CUTOFF = 0.8


@dataclass(frozen=True)
class Input:
    """One input of action.yml and the two environment variables it can arrive in."""

    name: str  # kebab-case, as in action.yml
    required: bool = False
    secret: bool = False

    @property
    def field(self) -> str:
        return self.name.replace("-", "_")

    @property
    def input_variable(self) -> str:
        # The runner upper-cases the name and turns only spaces into '_': hyphens stay.
        return "INPUT_" + self.name.replace(" ", "_").upper()

    @property
    def env_variable(self) -> str:
        return ENV_PREFIX + self.field.upper()


INPUTS: tuple[Input, ...] = (
    Input("api-token", required=True, secret=True),
    Input("alert-source-config-id", required=True),
    Input("title"),
    Input("description"),
    Input("status"),
    Input("deduplication-key"),
    Input("metadata"),
    Input("source-url"),
    Input("job-status"),
    Input("matrix"),
    Input("api-url"),
    Input("dry-run"),
    Input("fail-on-error"),
    Input("max-attempts"),
    Input("timeout-seconds"),
    Input("github-token", secret=True),
    Input("failures-before-alert"),
    Input("branches"),
    Input("needs"),
    Input("on-cancelled"),
    Input("check-run-id"),
    Input("job-workflow"),
    Input("heartbeat-source-config-id"),
    Input("heartbeat-token", secret=True),
)
INPUTS_BY_FIELD = {spec.field: spec for spec in INPUTS}
INPUTS_BY_VARIABLE = {spec.env_variable: spec for spec in INPUTS}

JsonObject = dict[str, Any]
JOB_RESULTS = ("success", "failure", "cancelled", "skipped")


class Settings(BaseModel):
    """The validated settings. Field names are the inputs' names in snake_case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_token: SecretStr | None = None  # required where something is sent: see missing_required
    alert_source_config_id: str | None = None
    title: str | None = None
    description: str | None = None
    status: Literal["auto", "firing", "resolved"] = "auto"
    deduplication_key: str | None = None
    metadata: JsonObject = {}
    source_url: str | None = None
    job_status: Literal["success", "failure", "cancelled", "skipped"] | None = None
    matrix: JsonObject | None = None
    api_url: str = DEFAULT_API_URL
    dry_run: bool = False
    fail_on_error: Literal["auto", "true", "false"] = "auto"
    max_attempts: int = 5
    timeout_seconds: float = 10.0
    github_token: SecretStr | None = None
    failures_before_alert: int = 1
    branches: tuple[str, ...] | None = None  # None: the repository's default branch
    needs: dict[str, str] | None = None  # needed job id → its result, from ${{ toJSON(needs) }}
    on_cancelled: Literal["timeout", "skip", "fire"] = "timeout"
    check_run_id: int | None = None
    job_workflow: FileAt | None = None  # the file that defines this job, at its commit
    heartbeat_source_config_id: str | None = None
    heartbeat_token: SecretStr | None = None

    @property
    def alert_events_url(self) -> str:
        return self.api_url + ALERT_EVENTS_PATH + (self.alert_source_config_id or "")

    @property
    def api_host(self) -> str:
        """incident.io's host, as messages name it: api.incident.io."""
        return urlsplit(self.api_url).netloc

    @property
    def heartbeat_ping_url(self) -> str:
        return f"{self.api_url}/v2/heartbeat/{self.heartbeat_source_config_id or ''}/ping"

    @property
    def heartbeat_only(self) -> bool:
        """A heartbeat, and no alert source: the step only pings (a nightly job's liveness)."""
        heartbeat = self.heartbeat_source_config_id is not None or self.heartbeat_token is not None
        return heartbeat and self.api_token is None and self.alert_source_config_id is None

    @property
    def pings(self) -> bool:
        """Whether a green run pings a heartbeat."""
        return self.heartbeat_source_config_id is not None and self.heartbeat_token is not None

    def fails_step(self, status: str) -> bool:
        """Whether an undelivered alert of this status fails the step.

        `auto`: only a firing alert does; a resolve that did not arrive must not turn a green build red.
        """
        if self.fail_on_error == "auto":
            return status != "resolved"
        return self.fail_on_error == "true"

    # Every validator runs on the raw, trimmed string and raises ValueError with the sentence a
    # user sees after "Input 'name' (ENV_NAME) ...". pydantic gathers the failures of all fields.

    @field_validator("api_token", "github_token", "heartbeat_token", mode="before")
    @classmethod
    def _token(cls, value: str, info: ValidationInfo) -> str:
        """Never echoes the value: it is a secret."""
        incident_io = info.field_name != "github_token"
        what = {
            "api_token": "the alert source's secret token",
            "heartbeat_token": "the heartbeat source's secret token",
        }.get(info.field_name or "", "a GitHub token")
        if value.lower().startswith("bearer "):
            raise ValueError(f"must be {what} alone: drop the 'Bearer ' prefix, which the action adds")
        if any(ch.isspace() for ch in value):
            raise ValueError(f"must be {what}, a single word with no spaces")
        if incident_io and len(value) < MIN_SECRET_LENGTH:
            source = "HTTP" if info.field_name == "api_token" else "heartbeat"
            raise ValueError(
                f"must be {what} (incident.io → Alerts → Sources → your {source} source), a long random "
                f"string; this one has {len(value)} characters, so it looks like a placeholder. To try "
                f"the action without a token, leave {INPUTS_BY_FIELD[info.field_name or ''].name} out and "
                "set dry-run"
            )
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be {what}, a long random string; this one has {len(value)} characters, so it looks "
                "like a placeholder. Leave github-token at its default, ${{ github.token }}, or set it "
                "empty to read nothing from GitHub's API"
            )
        return value

    @field_validator("alert_source_config_id", mode="before")
    @classmethod
    def _source_id(cls, value: str) -> str:
        def id_in(path: str) -> str | None:
            return path.rsplit(ALERT_EVENTS_PATH, 1)[1].strip("/") if ALERT_EVENTS_PATH in path else None

        url = f"https://api.incident.io{ALERT_EVENTS_PATH}<id>"
        return _config_id(value, "the alert source", "alert events URL", url, id_in)

    @field_validator("heartbeat_source_config_id", mode="before")
    @classmethod
    def _heartbeat_id(cls, value: str) -> str:
        def id_in(path: str) -> str | None:
            found = HEARTBEAT_PATH.fullmatch(path)
            return found.group(1) if found else None

        url = "https://api.incident.io/v2/heartbeat/<id>/ping"
        return _config_id(value, "the heartbeat source", "ping URL", url, id_in)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: str) -> str:
        return _one_of(value, ("auto", "firing", "resolved"))

    @field_validator("job_status", mode="before")
    @classmethod
    def _job_status(cls, value: str) -> str:
        return _one_of(value, JOB_RESULTS, " (as ${{ job.status }} gives)")

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: str) -> JsonObject:
        return parse_metadata(value)

    @field_validator("matrix", mode="before")
    @classmethod
    def _matrix(cls, value: str) -> JsonObject | None:
        if value in ("null", "{}"):
            return None
        try:
            parsed = untrusted.loads(value, surrogates="refuse")
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object, as ${{ toJSON(matrix) }} gives")
        return parsed or None

    @field_validator("api_url", mode="before")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        allowed = (
            "must be an https URL such as https://api.incident.io (http only for a loopback host), "
            "with no query, fragment or credentials"
        )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{allowed}; got {_show(value)}")
        if parts.query or parts.fragment or "?" in value or "#" in value:
            raise ValueError(f"{allowed}; it has a query or fragment")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{allowed}; it carries credentials")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(f"{allowed}; http is only allowed for a loopback host")
        try:
            parts.port  # noqa: B018 - a bad port raises here
        except ValueError:
            raise ValueError(f"{allowed}; its port is not a number from 0 to 65535") from None
        return value.rstrip("/")

    @field_validator("source_url", mode="before")
    @classmethod
    def _source_url(cls, value: str) -> str:
        if untrusted.link(value) is None:
            raise ValueError(f"must be an http(s) URL with no spaces or line breaks; got {_show(value)}")
        return value

    @field_validator("dry_run", mode="before")
    @classmethod
    def _boolean(cls, value: str) -> bool:
        return _one_of(value, ("true", "false")) == "true"

    @field_validator("fail_on_error", mode="before")
    @classmethod
    def _fail_on_error(cls, value: str) -> str:
        return _one_of(value, ("auto", "true", "false"))

    @field_validator("on_cancelled", mode="before")
    @classmethod
    def _on_cancelled(cls, value: str) -> str:
        return _one_of(value, ("timeout", "skip", "fire"))

    @field_validator("job_workflow", mode="before")
    @classmethod
    def _job_workflow(cls, value: str) -> FileAt | None:
        # The default, from job.workflow_*: where GitHub sets none of them (GHES, act), it reads `/@`.
        if not value.replace("/", "").replace("@", "").strip():
            return None
        found = file_at(value)
        if found is None:
            raise ValueError(
                "must be the workflow file that defines the job at a commit, "
                f"owner/repo/.github/workflows/<file>.yml@<sha>, as its default gives; got {_show(value)}"
            )
        return found

    @field_validator("branches", mode="before")
    @classmethod
    def _branches(cls, value: str) -> tuple[str, ...]:
        return parse_branches(value)

    @field_validator("needs", mode="before")
    @classmethod
    def _needs(cls, value: str) -> dict[str, str] | None:
        return parse_needs(value)

    @field_validator("check_run_id", mode="before")
    @classmethod
    def _check_run_id(cls, value: str) -> int:
        if not re.fullmatch(r"[0-9]{1,20}", value) or int(value) == 0:
            raise ValueError(
                "must be the job's check run id, a whole number as ${{ job.check_run_id }} gives; "
                f"got {_show(value)}"
            )
        return int(value)

    @field_validator("max_attempts", mode="before")
    @classmethod
    def _attempts(cls, value: str) -> int:
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= 10:
            raise ValueError(f"must be a whole number from 1 to 10; got {_show(value)}")
        return int(value)

    @field_validator("failures_before_alert", mode="before")
    @classmethod
    def _failures(cls, value: str) -> int:
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= 20:
            raise ValueError(f"must be a whole number from 1 to 20; got {_show(value)}")
        return int(value)

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _timeout(cls, value: str) -> float:
        try:
            # ASCII only: float() also reads other scripts' digits and "1_0".
            seconds = float(value) if re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", value) else -1.0
        except ValueError:
            seconds = -1.0
        if not 1 <= seconds <= 120:  # also refuses nan and inf
            raise ValueError(f"must be a number of seconds from 1 to 120; got {_show(value)}")
        return seconds


@dataclass(frozen=True)
class Problem:
    """One invalid setting, worded for the user."""

    input: Input
    message: str

    def __str__(self) -> str:
        return f"Input '{self.input.name}' ({self.input.env_variable}) {self.message}."


class InvalidSettings(Exception):
    """Some inputs are invalid. `partial` holds the valid ones, the others left at their defaults."""

    def __init__(self, problems: list[Problem], partial: Settings) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems
        self.partial = partial


def in_input_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: INPUTS.index(problem.input))


def raw_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """The non-blank, trimmed value of each input, by field name: from `INPUT_*` where the step came through
    action.yml, else from `INCIDENT_IO_*`."""
    through_action_yml = has_with_block(environ)
    values: dict[str, str] = {}
    for spec in INPUTS:
        value = environ.get(spec.input_variable if through_action_yml else spec.env_variable, "").strip()
        if value:
            values[spec.field] = value
    return values


def ignored_variables(environ: Mapping[str, str]) -> list[UnknownVariable]:
    """Where the step came through action.yml: the `INCIDENT_IO_*` variables (in any case) that are set and
    are ignored though they differ from the input, each with the input it is (or resembles). They come
    from `env:` or from an earlier step, through `$GITHUB_ENV`; a variable that only repeats the input's
    value changes nothing."""
    if not has_with_block(environ):
        return []
    ignored = []
    for variable in _prefixed(environ):
        value = environ[variable].strip()
        spec = INPUTS_BY_VARIABLE.get(variable)
        same = spec is not None and value == environ.get(spec.input_variable, "").strip()
        if value and not same:
            ignored.append(UnknownVariable(variable, spec or _resembled(variable)))
    return ignored


def ignored_warning(ignored: list[UnknownVariable]) -> str | None:
    """One warning naming every ignored variable and the input to set instead."""
    if not ignored:
        return None
    names = [variable.name for variable in ignored]
    meant = list(dict.fromkeys(variable.nearest.name for variable in ignored if variable.nearest))
    fix = messages.VARIABLES_IGNORED_FIX.format(inputs=_and(meant)) if meant else ""
    many = len(names) > 1
    return messages.VARIABLES_IGNORED.format(
        variables=_and(names), are="are" if many else "is", fix=fix
    ).strip()


# What only `status: auto` uses to decide the status: an explicit status decides alone.
DECIDE_ONLY_WITH_AUTO = ("failures_before_alert", "on_cancelled", "needs")


def unused_with_status(settings: Settings) -> str | None:
    """A warning where status is firing or resolved (or an expression that gives one) and the step was also
    given inputs that decide the status only with status: auto; None where there is nothing to say."""
    given = [
        INPUTS_BY_FIELD[field].name for field in DECIDE_ONLY_WITH_AUTO if field in settings.model_fields_set
    ]
    if settings.status == "auto" or not given:
        return None
    return messages.UNUSED_WITH_STATUS.format(
        status=settings.status, inputs=_and(given), have="have" if len(given) > 1 else "has"
    )


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _prefixed(environ: Mapping[str, str]) -> list[str]:
    """The `INCIDENT_IO_*` variables, in any case, sorted."""
    return sorted(name for name in environ if name.upper().startswith(ENV_PREFIX))


@dataclass(frozen=True)
class UnknownVariable:
    """An `INCIDENT_IO_*` variable that is no input: a typo would otherwise be ignored."""

    name: str
    nearest: Input | None  # the input it most resembles, where it is close enough to be its misspelling

    @property
    def misspells_dry_run(self) -> bool:
        """A misspelt dry run would send for real: an invalid input (misspelt_dry_run), not a warning."""
        return self.nearest is not None and self.nearest.field == "dry_run"

    def __str__(self) -> str:
        hint = f"; did you mean {self.nearest.env_variable}?" if self.nearest else "."
        return f"{self.name} is set but is not an input of this action, so it is ignored{hint}"


def unknown_variables(environ: Mapping[str, str]) -> list[UnknownVariable]:
    """Where the inputs are `INCIDENT_IO_*` variables (no action.yml): those (in any case) that are no
    input, each with the input it resembles. (Through action.yml, see `ignored_variables`.)"""
    if has_with_block(environ):
        return []
    return [
        UnknownVariable(name, _resembled(name))
        for name in _prefixed(environ)
        if name not in INPUTS_BY_VARIABLE
    ]


def _resembled(variable: str) -> Input | None:
    """The input whose variable this one is close enough to be a misspelling of."""
    import difflib  # noqa: PLC0415 - only a run with an unknown variable needs it

    close = difflib.get_close_matches(variable.upper(), INPUTS_BY_VARIABLE, n=1, cutoff=MISSPELLING_CUTOFF)
    return INPUTS_BY_VARIABLE[close[0]] if close else None


def misspelt_dry_run(unknown: list[UnknownVariable]) -> Problem | None:
    """A misspelt dry run would send for real (and retry for seconds): an invalid input, not a warning."""
    names = [variable.name for variable in unknown if variable.misspells_dry_run]
    if not names:
        return None
    return Problem(
        INPUTS_BY_FIELD["dry_run"],
        f"is misspelt as {', '.join(names)}, which is not an input and would be ignored: the run would send "
        "for real, so nothing is sent. Name the variable INCIDENT_IO_DRY_RUN",
    )


def has_with_block(environ: Mapping[str, str]) -> bool:
    """Whether the step came through action.yml (`uses: owner/action`, `uses: ./`): the runner sets
    `INPUT_<NAME>` for every input it declares, over anything an earlier step set. `uses: docker://` and
    runs outside GitHub Actions have only `INCIDENT_IO_*`."""
    return any(spec.input_variable in environ for spec in INPUTS)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """What to mask before anything is printed: every word of MIN_SECRET_LENGTH characters or more of each
    secret input, read where the settings read it (a real token, alone or inside `Bearer <token>`).

    A shorter value is no real token (an input error, `_token`): masking it would garble every line with
    the word. A variable the settings ignore is not masked either: through action.yml an earlier step could
    otherwise have any text it chose (a branch name, the repository's) redacted from the alert."""
    through_action_yml = has_with_block(environ)
    found: list[str] = []
    for spec in INPUTS:
        if spec.secret:
            value = environ.get(spec.input_variable if through_action_yml else spec.env_variable, "")
            for word in value.split():
                if len(word) >= MIN_SECRET_LENGTH and word not in found:
                    found.append(word)
    return found


def read_settings(environ: Mapping[str, str]) -> Settings:
    """Build the settings from the environment or raise InvalidSettings listing every invalid input.

    The required inputs are not checked here; see `missing_required`.
    """
    raw = raw_inputs(environ)
    if dry_run_by_default(environ):
        raw["dry_run"] = "true"
    problems = []
    for field, value in list(raw.items()):
        if untrusted.has_lone_surrogate(value):  # a variable that is not UTF-8: never sent, never shown
            del raw[field]
            problems.append(Problem(INPUTS_BY_FIELD[field], "is not UTF-8 text"))
    if not environ.get("GITHUB_REPOSITORY", "").strip():
        # Outside a workflow run there is nothing to derive these from.
        for field in ("title", "deduplication_key"):
            if field not in raw:
                problems.append(
                    Problem(
                        INPUTS_BY_FIELD[field],
                        "is required outside GitHub Actions (there is no workflow run to derive it from)",
                    )
                )
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        invalid = set()
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            spec = INPUTS_BY_FIELD.get(field)
            if spec is not None:
                invalid.add(field)
                problems.append(Problem(spec, str(error["msg"]).removeprefix("Value error, ")))
        # The valid inputs still decide what a run would do (is it in scope?), so keep them.
        settings = Settings.model_validate({k: v for k, v in raw.items() if k not in invalid})
    if problems:
        raise InvalidSettings(in_input_order(problems), settings)
    return settings


def dry_run_by_default(environ: Mapping[str, str]) -> bool:
    """Under nektos/act, a local run of a workflow, often with the real secrets in a `.secrets` file,
    dry-run defaults to true: a failing local run must not page on-call about the default branch.
    `dry-run: false` sends. (`under_act` says why an earlier step's `ACT=true` cannot do this on GitHub.)"""
    return under_act(environ) and "dry_run" not in raw_inputs(environ)


def missing_required(
    settings: Settings,
    reported: list[Problem] | None = None,
    *,
    in_actions: bool = True,
    with_block: bool = True,
) -> list[Problem]:
    """The required inputs that are not set: an error wherever an alert would be sent (a dry run sends
    nothing, and needs neither).

    An input already `reported` as invalid is not reported again as missing. The hint says how to set
    it where the action runs: `with:` in a workflow, the step's `env:` for `docker://`, a variable in
    `docker run`.
    """
    if settings.dry_run:
        return []
    known = {problem.input for problem in reported or []}
    missing = []
    if not settings.heartbeat_only:  # a heartbeat alone needs no alert source
        if settings.api_token is None:
            missing.append(INPUTS_BY_FIELD["api_token"])
        if settings.alert_source_config_id is None:
            missing.append(INPUTS_BY_FIELD["alert_source_config_id"])
    if settings.heartbeat_source_config_id is not None and settings.heartbeat_token is None:
        missing.append(INPUTS_BY_FIELD["heartbeat_token"])
    if settings.heartbeat_token is not None and settings.heartbeat_source_config_id is None:
        missing.append(INPUTS_BY_FIELD["heartbeat_source_config_id"])
    return [
        Problem(spec, "is required and was not set" + _where_to_set(spec, in_actions, with_block))
        for spec in missing
        if spec not in known
    ]


def parse_branches(text: str) -> tuple[str, ...]:
    """`branches`: comma- or newline-separated shell-style patterns (`main`, `release/*`, `owner:branch`).

    Written as on.push.branches would be, it is read the same: a YAML flow list (`[main, 'release/*']`)
    is its items, and `refs/heads/main` is the branch `main`.
    """
    allowed = (
        "must be comma- or newline-separated branch patterns such as main, release/*, * (every branch of "
        "this repository), merge-queue/main, or owner:branch and *:* for forks"
    )
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    patterns = tuple(filter(None, map(_branch_pattern, re.split(r"[,\n]", text))))
    if not patterns:
        raise ValueError(allowed)
    for pattern in patterns:
        if pattern.startswith("refs/tags/"):
            raise ValueError(
                f"{allowed}; {_show(pattern)} names tags, and tag runs are always in scope: leave it out"
            )
        if any(char.isspace() for char in pattern):
            raise ValueError(f"{allowed}; {_show(pattern)} has a space in it")
        if pattern.startswith("!"):
            raise ValueError(f"{allowed}; a pattern cannot be negated ({_show(pattern)})")
        owner, colon, branch = pattern.partition(":")
        if colon and (not owner or not branch or ":" in branch):
            raise ValueError(f"{allowed}; {_show(pattern)} is not owner:branch")
    return patterns


def _branch_pattern(part: str) -> str:
    """One pattern as written, without YAML's quotes or a `refs/heads/` prefix."""
    pattern = part.strip()
    if len(pattern) >= 2 and pattern[0] == pattern[-1] and pattern[0] in "'\"":
        pattern = pattern[1:-1].strip()
    return pattern.removeprefix("refs/heads/")


def parse_needs(text: str) -> dict[str, str] | None:
    """`needs`: what ${{ toJSON(needs) }} gives, read down to each needed job's result."""
    allowed = (
        "must be ${{ toJSON(needs) }}: a JSON object naming each needed job with its result "
        "(success, failure, cancelled or skipped)"
    )
    try:
        parsed = untrusted.loads(text, surrogates="refuse")
    except ValueError:
        raise ValueError(f"{allowed}; it is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{allowed}; it is not an object")
    results = {}
    for job, value in parsed.items():
        result = value.get("result") if isinstance(value, dict) else None
        if result not in JOB_RESULTS:
            raise ValueError(f"{allowed}; job {_show(str(job))} has no such result")
        results[str(job)] = str(result)
    return results or None  # {}: a job without needs


def parse_metadata(text: str) -> JsonObject:
    """Metadata is a JSON object, or `key=value` lines (blank lines and `# comments` skipped)."""
    allowed = "must be a JSON object or key=value lines"
    if text.startswith(("{", "[", '"')):
        try:
            json.loads(text)  # where it is not JSON at all, say where
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ValueError(f"{allowed}; it is not valid JSON ({exc.msg} at {where})") from None
        except (ValueError, RecursionError):
            pass  # the strict reading below says why
        try:
            # Strict: what is sent is RFC 8259 JSON, without NaN, Infinity or lone surrogates.
            parsed = untrusted.loads(text, surrogates="refuse")
        except untrusted.NotStrictJson as exc:
            raise ValueError(f"{allowed}; it is not strict JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError(f"{allowed}; the JSON is not an object")
        return parsed
    result: JsonObject = {}
    bad_lines: list[int] = []
    yaml_style: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            bad_lines.append(number)
            name, colon, rest = stripped.partition(": ")
            if colon and name.strip() and rest.strip():
                yaml_style.append(f"{name.strip()}={rest.strip()}")
            continue
        result[key.strip()] = value.strip()
    if bad_lines:
        shown = [str(number) for number in bad_lines[:5]]
        if len(shown) == 1:
            where = f"line {shown[0]} has"
        else:
            where = f"lines {', '.join(shown[:-1])} and {shown[-1]} have"
        hint = f" (write {_show(yaml_style[0])}, not YAML's key: value)" if yaml_style else ""
        raise ValueError(f"{allowed}; {where} no key=value{hint}")
    return result


def _config_id(value: str, source: str, url_name: str, url: str, id_in: Callable[[str], str | None]) -> str:
    """A source's config id, given alone or inside its URL (whose path `id_in` reads it from); what was
    given is echoed, as it is no secret."""
    given = value
    if "://" in value:
        parts = urlsplit(value)
        found = id_in(parts.path) if parts.scheme in ("http", "https") else None
        if found is None:
            raise ValueError(
                f"must be {source}'s config id (like {EXAMPLE_CONFIG_ID}) or its {url_name} {url}; "
                f"got {_show(given)}"
            )
        value = found
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", value):
        raise ValueError(
            f"must be {source}'s config id: letters, digits, '-' and '_' only (like {EXAMPLE_CONFIG_ID}), "
            f"or its {url_name}; got {_show(given)}"
        )
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    import ipaddress  # noqa: PLC0415 - only an http api-url needs it

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _one_of(value: str, allowed: tuple[str, ...], where_from: str = "") -> str:
    """The value in lower case, if it is one of `allowed` in any case; else the sentence saying so."""
    lowered = value.lower()
    if lowered not in allowed:
        choices = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        raise ValueError(f"must be {choices}{where_from}; got {_show(value)}")
    return lowered


def _show(value: str, limit: int = 60) -> str:
    shown = value if len(value) <= limit else value[:limit] + "..."
    return repr(shown)


def _where_to_set(spec: Input, in_actions: bool, with_block: bool) -> str:
    if spec.name.startswith("heartbeat-"):
        other = (
            "heartbeat-token" if spec.name == "heartbeat-source-config-id" else "heartbeat-source-config-id"
        )
        return (
            f" while {other} is: a heartbeat needs both (its source's config id, and that source's own token)"
        )
    what = "the alert source's secret token" if spec.name == "api-token" else "it"
    if not in_actions:
        return f"; pass {what} as {spec.env_variable}=… (docker run -e {spec.env_variable})"
    if spec.name == "api-token":
        where = "api-token:" if with_block else f"{spec.env_variable}:"
        return (
            "; pass the alert source's secret token, e.g. "
            f"{where} ${{{{ secrets.INCIDENT_IO_ALERT_TOKEN }}}}. "
            "Where it is passed and still empty, the secret's name may be misspelt, the secret may "
            "belong to an environment this job does not use (give the job environment: its name), or an "
            "organisation secret may not be shared with this repository"
        )
    if not with_block:
        return f"; set {spec.env_variable} in the step's env: (uses: docker:// has no with: inputs)"
    return f"; set '{spec.name}:' under 'with:' (or {spec.env_variable} outside GitHub Actions)"
