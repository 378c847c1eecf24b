"""Issue 28: the real process (`python -m entrypoint`, the runner's environment, real output files) against
random inputs, earlier steps' variables, events and answers from both servers, with hypothesis (a fixed seed,
a bounded number of examples). Whatever it is given, it must:

- exit 0, 1 or 2, with no traceback and no "unexpected error";
- show no secret (the alert source's token, the GitHub token, the runner's own) anywhere, in any case;
- let no untrusted text act as a workflow command;
- leave an outputs file that the runner parses to exactly the action's outputs;
- send nothing at all where an input is invalid, and report a delivered alert as sent;
- end within the time its own settings bound it to.
"""

from __future__ import annotations

import json
import re
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.actions_runner import (
    ACTION,
    EVENTS_DIR,
    RUNTIME_TOKEN,
    StepFiles,
    StepResult,
    default_github_env,
    run_step,
)
from tests.support.raw_http import RawReply, RawServer

EXAMPLES = 60
OUTPUT_NAMES = set(ACTION["outputs"])
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
OWN_COMMANDS = {"add-mask", "error", "warning", "notice", "debug", "group", "endgroup"}
MARK = "PWNED"  # in every injected command: the action itself never starts a command's text with it
INJECTIONS = [
    f"::error::{MARK}",
    f"::warning title={MARK}::{MARK}",
    f"::set-output name=sent::{MARK}",
    f"::add-mask::{MARK}",
    "::stop-commands::zz",
    f"##[error]{MARK}",
    f"  ::notice::{MARK}",
    "sent<<EOF",
    "EOF",
    "ghadelimiter_00000000-0000-0000-0000-000000000000",
    "\n",
    "\r",
    "%0A",
    "| --- |",
    "## heading",
    "<img src=x onerror=alert(1)>",
    "](javascript:alert(1))",
    "`",
    "\\",
    "\u2028",
    "é漢🙂",
]
SURROGATES = ["\ud800", "\udfff", "\udc80"]
EVENTS = {
    "push": "push/with-new-branch.payload.json",
    "pull_request": "pull_request/opened.payload.json",
    "workflow_run": "workflow_run/completed.payload.json",
    "check_suite": "check_suite/completed.payload.json",
    "check_run": "check_run/completed.payload.json",
    "deployment_status": "deployment_status/payload.json",
    "merge_group": "merge_group/checks_requested.payload.json",
    "release": "release/published.payload.json",
    "workflow_dispatch": "workflow_dispatch/payload.json",
}
HEADER_NAMES = ["Retry-After", "Link", "x-ratelimit-reset", "x-ratelimit-remaining", "Location"]
SECRET_ALPHABET = string.ascii_letters + string.digits + "_-"


@dataclass
class Case:
    with_: dict[str, str]
    step_env: dict[str, str]
    github_env: dict[str, str]
    job_status: str
    event: bytes
    incident_io: list[RawReply]
    github: list[RawReply]

    @property
    def secrets(self) -> list[str]:
        """Every secret the step has: its token inputs, and the runner's own token in its environment."""
        given = [self.with_.get(name) for name in ("api-token", "github-token", "heartbeat-token")]
        return [secret for secret in given if secret] + [RUNTIME_TOKEN]

    def time_bound(self) -> float:
        """What the step's own settings allow it: GitHub's budget, then each attempt of the alert and of a
        ping with its wait, and the process around them."""
        attempts = _number(self.with_.get("max-attempts"), 5)
        timeout = _number(self.with_.get("timeout-seconds"), 10)
        per_attempt = timeout + 4.0 + 1.3  # the attempt, the longest backoff of three, a short Retry-After
        return 5.0 + 2 * attempts * per_attempt + 15.0


def _number(value: str | None, default: int) -> int:
    return int(value) if value is not None and re.fullmatch(r"[0-9]{1,3}", value.strip()) else default


def env_text(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Text an environment variable can hold: no NUL; odd bytes arrive as surrogates U+DC80-U+DCFF."""
    pieces = st.one_of(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8),
        st.sampled_from(INJECTIONS),
        st.sampled_from(["\udc80", "\udcff"]),
    )
    return st.lists(pieces, max_size=6).map("".join).map(lambda text: text[:max_size])


def json_text() -> st.SearchStrategy[str]:
    """Text for a JSON string: anything, lone surrogates included."""
    return st.lists(
        st.one_of(st.text(max_size=6), st.sampled_from(INJECTIONS), st.sampled_from(SURROGATES)), max_size=5
    ).map("".join)


def secret() -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(SECRET_ALPHABET), min_size=16, max_size=40)


def maybe_hostile(valid: list[str]) -> st.SearchStrategy[str]:
    """Mostly a valid value, so that the run goes on to send; sometimes anything."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(valid), env_text())


INPUT_VALUES: dict[str, list[str]] = {
    "title": ["Nightly broke", "", "x" * 300],
    "description": ["See the **log**.", ""],
    "status": ["auto", "firing", "resolved", "Auto"],
    "deduplication-key": ["", "nightly", "a:b%c"],
    "metadata": [
        "",
        '{"team": "payments"}',
        "team=payments\npriority=P1",
        '{"a": NaN}',
        "[" * 100 + "]" * 100,
    ],
    "source-url": ["", "https://ci.example.com/1", "https://ci.example.com/(1)"],
    "job-status": ["success", "failure", "cancelled", "skipped"],
    "matrix": ["null", '{"python": "3.12"}', '{"os": ["a", 1]}'],
    "dry-run": ["", "false", "true"],
    "fail-on-error": ["", "auto", "true", "false"],
    "max-attempts": ["1", "2", "3"],
    "timeout-seconds": ["1", "2"],
    "failures-before-alert": ["", "1", "2"],
    "branches": ["", "*", "main", "*:*"],
    "needs": ["", '{"build": {"result": "failure"}}', '{"build": {"result": "success"}}'],
    "on-cancelled": ["", "skip", "fire"],
    "check-run-id": ["", "51725241954", "12"],
}


@st.composite
def events(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(EVENTS)))
    payload: Any = json.loads((EVENTS_DIR / EVENTS[name]).read_text(encoding="utf-8"))
    kind = draw(
        st.sampled_from(["as is", "hostile strings", "hostile strings", "deep", "bytes", "not an object"])
    )
    if kind == "hostile strings":
        payload = _replace_strings(payload, draw, st.one_of(json_text(), st.sampled_from(["", "²", "main"])))
    elif kind == "deep":
        return name, ('{"a":' * 3000 + "1" + "}" * 3000).encode()
    elif kind == "bytes":
        return name, draw(st.binary(max_size=64))
    elif kind == "not an object":
        return name, b'["a list"]'
    return name, json.dumps(payload).encode()  # surrogates as JSON escapes


def _replace_strings(value: Any, draw: st.DrawFn, strings: st.SearchStrategy[str]) -> Any:
    if isinstance(value, dict):
        return {key: _replace_strings(item, draw, strings) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_strings(item, draw, strings) for item in value[:3]]
    if isinstance(value, str) and draw(st.integers(0, 3)) == 0:
        return draw(strings)
    return value


def json_body(draw: st.DrawFn, tokens: list[str]) -> bytes:
    """A body a hostile server might send: JSON with hostile text (the tokens among it, in any case), deep
    JSON, or bytes that are no JSON at all."""
    text = st.one_of(json_text(), st.sampled_from(tokens).map(str.swapcase), st.sampled_from(tokens))
    kind = draw(st.sampled_from(["object", "object", "jobs", "deep", "bytes", "empty"]))
    if kind == "object":
        body: Any = {
            "status": draw(st.sampled_from(["success", "error"])),
            "message": draw(text),
            "deduplication_key": draw(text),
            "errors": [{"message": draw(text), "source": {"field": draw(text)}}],
            "rate_limit": {"retry_after": draw(st.sampled_from(["", "1", "2026-12-07T00:00:00Z", "9" * 30]))},
        }
    elif kind == "jobs":
        job = {
            "id": draw(st.sampled_from([51725241954, 7, "²"])),
            "name": draw(text),
            "status": draw(st.sampled_from(["completed", "in_progress"])),
            "conclusion": draw(st.sampled_from(["failure", "success", "cancelled", None])),
            "html_url": draw(st.one_of(text, st.just("https://github.com/o/r/job/1"))),
            "runner_name": draw(text),
            "steps": [{"name": draw(text), "status": "completed", "conclusion": "failure"}],
            "started_at": draw(st.sampled_from(["2026-12-07T00:00:00Z", "0001-01-01T00:00:00+23:59", "x"])),
            "labels": [draw(text)],
        }
        body = {"total_count": 1, "jobs": [job], "workflow_runs": [], "message": draw(text)}
    elif kind == "deep":
        return ("[" * 3000 + "]" * 3000).encode()
    elif kind == "bytes":
        return draw(st.binary(max_size=64))
    else:
        return b""
    return json.dumps(body).encode()


@st.composite
def replies(draw: st.DrawFn, statuses: list[int], tokens: list[str]) -> list[RawReply]:
    headers = st.lists(
        st.tuples(
            st.sampled_from(HEADER_NAMES),
            st.sampled_from(
                ["1", "0", "61", "nan", "1e999", "-3", "²", "Thu, 01 Jan 9999 00:00:00 GMT", "999999999999",
                 '<http://127.0.0.1:9/x>; rel="next"', "<", f"https://{tokens[0].upper()}.example/"]
            ),
        ),
        max_size=2,
    )  # fmt: skip
    found = []
    for _ in range(draw(st.integers(0, 3))):
        body = json_body(draw, tokens)
        shape = draw(st.sampled_from(["whole", "whole", "whole", "cut", "bad gzip", "drip", "late"]))
        extra: dict[str, Any] = {}
        head = tuple(draw(headers))
        if shape == "cut":
            extra = {"close_after": len(body) // 2, "content_length": len(body) + 10}
        elif shape == "bad gzip":
            head += (("Content-Encoding", "gzip"),)
        elif shape == "drip":
            extra = {"drip_seconds": 0.3, "body": body[:20] + b" " * 20}
        elif shape == "late":
            extra = {"head_delay": 1.5}
        found.append(RawReply(draw(st.sampled_from(statuses)), head, **{"body": body, **extra}))
    return found


@st.composite
def cases(draw: st.DrawFn) -> Case:
    api_token, github_token = draw(secret()), draw(secret())
    tokens = [api_token, github_token, RUNTIME_TOKEN]
    chosen = draw(st.lists(st.sampled_from(sorted(INPUT_VALUES)), unique=True, max_size=8))
    with_ = {name: draw(maybe_hostile(INPUT_VALUES[name])) for name in chosen}
    for name in ("title", "description", "metadata"):  # the tokens inside text the alert carries
        if name in with_ and draw(st.booleans()):
            with_[name] += " " + draw(st.sampled_from(tokens)).swapcase()
    with_ |= {"api-token": api_token, "alert-source-config-id": SOURCE_ID, "github-token": github_token}
    with_.setdefault("max-attempts", draw(st.sampled_from(["1", "2"])))
    with_.setdefault("timeout-seconds", "1")
    if draw(st.integers(0, 4)) == 0:
        with_ |= {
            "heartbeat-source-config-id": "01HB7HEARTBEAT0SOURCE0ID00",
            "heartbeat-token": draw(secret()),
        }
    earlier_step = draw(
        st.dictionaries(
            st.sampled_from(
                ["INCIDENT_IO_API_URL", "INCIDENT_IO_STATUS", "INCIDENT_IO_DRY_RUN", "INCIDENT_IO_BRANCHES",
                 "INCIDENT_IO_DRYRUN", "ACT", "LANG", "PYTHONIOENCODING", "RUNNER_DEBUG", "GITHUB_RUN_ID"]
            ),
            st.one_of(env_text(), st.sampled_from(["true", "http://127.0.0.1:9", "C", "ascii", "1"])),
            max_size=3,
        )
    )  # fmt: skip
    event_name, event = draw(events())
    overrides = draw(
        st.dictionaries(
            st.sampled_from(
                ["GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_REF", "GITHUB_WORKFLOW", "RUNNER_NAME"]
            ),
            env_text(max_size=20),
            max_size=2,
        )
    )
    github_env = {"GITHUB_EVENT_NAME": event_name, **overrides}
    return Case(
        with_=with_,
        step_env=earlier_step,
        github_env=github_env,
        job_status=draw(st.sampled_from(["success", "failure", "cancelled"])),
        event=event,
        incident_io=draw(replies([202, 200, 204, 400, 401, 404, 422, 429, 500, 503, 307], tokens)),
        github=draw(replies([200, 200, 403, 404, 500, 301], tokens)),
    )


def test_the_real_process_holds_against_any_input_event_and_answer(tmp_path: Path) -> None:
    accepted = RawReply(202, (("Content-Type", "application/json"),), b'{"status": "success"}')
    with RawServer(accepted) as incident_io, RawServer(RawReply(404, body=b"{}")) as github:
        count = iter(range(10**6))

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(cases())
        def holds(case: Case) -> None:
            incident_io.reset(*case.incident_io)
            github.reset(*case.github)
            files = StepFiles(tmp_path / f"step{next(count)}")
            files.event.write_bytes(case.event)
            with_ = {**case.with_, "api-url": incident_io.url}
            github_env = default_github_env(GITHUB_API_URL=github.url, **case.github_env)
            started = time.monotonic()
            result = run_step(
                files,
                with_,
                event=None,
                job_status=case.job_status,
                step_env=case.step_env,
                github_env=github_env,
                timeout=case.time_bound(),
            )  # parses the outputs file as the runner does: RunnerParseError if it could not
            elapsed = time.monotonic() - started
            check(case, result, incident_io, github, elapsed)

        holds()


def check(case: Case, result: StepResult, incident_io: RawServer, github: RawServer, elapsed: float) -> None:
    log = result.log
    assert result.returncode in (0, 1, 2), log
    assert "Traceback" not in log and "unexpected error" not in log, log
    assert set(result.outputs) == OUTPUT_NAMES, log
    assert elapsed <= case.time_bound(), log
    shown = "\n".join((result.stdout, result.stderr, result.output_file, result.summary))
    masked = {command.data for command in result.annotations("add-mask")}
    for word in masked:
        shown = shown.replace(f"::add-mask::{word}", "")
    requests = incident_io.received + github.received
    sent = b"".join(request.body + request.path.encode() for request in requests).decode("utf-8", "replace")
    for token in case.secrets:
        assert token.lower() not in shown.lower(), (token, log)
        assert token.lower() not in sent.lower(), (token, sent)
    assert masked <= set(case.secrets), masked
    for command in result.commands:
        assert command.name in OWN_COMMANDS, (command, log)
        assert not command.data.lstrip().startswith(MARK), (command, log)
        assert MARK not in command.properties.get("title", ""), (command, log)
    if result.returncode == 2:  # an invalid input: nothing sent, nothing asked
        assert incident_io.received == [] and github.received == [], log
    alerts = [request for request in incident_io.received if "/alert_events/" in request.path]
    timeout = _number(case.with_.get("timeout-seconds"), 10)
    first_accepted = next(
        (r for r in alerts if r.reply and 200 <= r.reply.status < 300 and r.reply.head_delay < timeout), None
    )
    if first_accepted is not None:
        assert result.outputs["sent"] == "true", log
