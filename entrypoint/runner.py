"""Speaking to the runner: workflow commands on stdout, the output file and the job summary.

Everything the action says to GitHub Actions goes through `Runner`, so escaping, masking and the
handling of untrusted text live in one place. The semantics follow actions/toolkit's
`packages/core` (command.ts, file-command.ts, summary.ts).

Outside GitHub Actions (`GITHUB_ACTIONS` is not `true`, e.g. `docker run -e INCIDENT_IO_...`) there
is no runner to read workflow commands, so the same calls print plain, readable lines instead and,
above all, never print `::add-mask::<secret>`, which would put the secret itself in the log.
"""

from __future__ import annotations

import re
import secrets
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from entrypoint.untrusted import clean_text

# The runner's own credentials in a step's environment. The runner masks them in the log itself; they
# are redacted from everything this class writes too, in case some text (an error message) echoes one.
RUNNER_SECRETS = ("ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
MIN_RUNNER_SECRET_LENGTH = 16


# Where GitHub's runner puts the event file inside a container step. It sets GITHUB_EVENT_PATH over anything
# an earlier step wrote to $GITHUB_ENV; act puts its own under /var/run/act.
RUNNER_EVENT_PATH = "/github/workflow/event.json"


def under_act(environ: Mapping[str, str]) -> bool:
    """Whether nektos/act runs the step (a workflow run on a developer's machine): act sets ACT=true. On
    GitHub's runner any earlier step may write ACT=true to $GITHUB_ENV too, and it must not turn the alert
    into a dry run there, so the event file's path, which only the runner sets, must not be the runner's."""
    acting = environ.get("ACT", "").strip().lower() == "true"
    return acting and environ.get("GITHUB_EVENT_PATH", "").strip() != RUNNER_EVENT_PATH


def escape_data(text: str) -> str:
    """Escape a command's message so that it stays on one line and means only itself."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (title=...), which also ends at ',' and '::'."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class OutputFileError(Exception):
    """The runner's output or summary file could not be written."""


class Runner:
    """Owns every workflow command and file command the action uses.

    Each line reaches the runner whole: text and newline in one write, one writer at a time. The GitHub API
    calls run on threads that log too, and the runner reads its log line by line: two lines written at the
    same moment (`print` writes the text and the newline apart) would become one, which breaks both
    commands, and a line written inside another thread's `::stop-commands::` block would go unread.
    """

    def __init__(self, environ: Mapping[str, str], stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._writing = threading.RLock()
        self.in_actions = environ.get("GITHUB_ACTIONS", "").strip().lower() == "true"
        self.is_act = under_act(environ)
        self.debug_enabled = environ.get("RUNNER_DEBUG", "").strip() == "1"
        self._output_path = environ.get("GITHUB_OUTPUT", "").strip() or None
        self._summary_path = environ.get("GITHUB_STEP_SUMMARY", "").strip() or None
        self._secrets: list[str] = []
        self._secret_pattern: re.Pattern[str] | None = None
        for name in RUNNER_SECRETS:
            value = environ.get(name, "").strip()
            if len(value) >= MIN_RUNNER_SECRET_LENGTH:  # shorter is no credential (act sets a placeholder)
                self._remember(value)

    # -- plain lines -------------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """Replace every registered secret, e.g. a token that an API answer echoed back, in any case: a
        host name or an error message may have lower-cased it (the runner's own mask is case-sensitive)."""
        if self._secret_pattern is None:
            return text
        return self._secret_pattern.sub("***", text)

    def _print(self, line: str) -> None:
        self._write(self.redact(line))

    def _write(self, line: str) -> None:
        """One whole line to the log. Only this class's own command syntax reaches it unredacted: every
        text inside a command is redacted before it is put there, so no secret, however short, can turn
        `::error` or `::stop-commands::` into something else."""
        with self._writing:
            self._stream.write(clean_text(line) + "\n")
            self._stream.flush()

    def info(self, line: str) -> None:
        """Print a line the action itself wrote. Never pass text that came from outside."""
        self._print(line)

    def untrusted(self, text: str) -> None:
        """Print text that came from outside (commit messages, titles, API answers).

        Inside GitHub Actions it goes between `::stop-commands::` markers with a fresh random token,
        so that no line of it (`::add-mask::`, `::error::`, `##[set-output]`, ...) is acted upon.
        """
        if not self.in_actions:
            self._print(text)
            return
        token = secrets.token_hex(16)
        with self._writing:  # no other thread's line inside the block, where it would go unread
            self._write(f"::stop-commands::{token}")
            self._print(text)
            self._write(f"::{token}::")

    # -- commands ----------------------------------------------------------------------------------

    def add_mask(self, secret: str) -> None:
        """Mask `secret`: the runner hides it in the log, and this class in everything it writes."""
        if not secret:
            return
        self._remember(secret)
        if self.in_actions:
            self._write(f"::add-mask::{escape_data(secret)}")

    def _remember(self, secret: str) -> None:
        if secret and secret.lower() not in (known.lower() for known in self._secrets):
            self._secrets.append(secret)
            # The longest first: a secret inside another is replaced after it.
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._secret_pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)

    def _annotation(self, kind: str, message: str, title: str | None) -> None:
        message, title = self.redact(message), self.redact(title) if title else title
        if self.in_actions:
            props = f" title={escape_property(title)}" if title else ""
            self._write(f"::{kind}{props}::{escape_data(message)}")
        else:
            label = f"{kind.capitalize()}: {title}: " if title else f"{kind.capitalize()}: "
            self._write(label + message)

    def error(self, message: str, title: str | None = None) -> None:
        self._annotation("error", message, title)

    def warning(self, message: str, title: str | None = None) -> None:
        self._annotation("warning", message, title)

    def notice(self, message: str, title: str | None = None) -> None:
        self._annotation("notice", message, title)

    def debug(self, message: str) -> None:
        """Detail the runner shows only with step debug logging on (`RUNNER_DEBUG=1`)."""
        if self.in_actions:
            self._write(f"::debug::{escape_data(self.redact(message))}")
        elif self.debug_enabled:
            self._print(f"Debug: {message}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible section of the log."""
        if self.in_actions:
            self._write(f"::group::{escape_data(self.redact(title))}")
        else:
            self._print(f"-- {title}")
        try:
            yield
        finally:
            if self.in_actions:
                self._write("::endgroup::")

    # -- files -------------------------------------------------------------------------------------

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Append outputs to `GITHUB_OUTPUT` in the runner's multiline form.

        Each value gets its own random delimiter, so no value, whatever it holds, can end its entry
        early and smuggle in another output (the delimiter-injection problem of CVE-2022-35954).
        """
        if self._output_path is None:
            return
        chunks = []
        for name, value in outputs.items():
            redacted = clean_text(self.redact(value))
            delimiter = _fresh_delimiter(redacted)
            chunks.append(f"{name}<<{delimiter}\n{redacted}\n{delimiter}\n")
        self._append(self._output_path, "".join(chunks))

    def append_summary(self, markdown: str) -> None:
        """Append a markdown section to the job summary (`GITHUB_STEP_SUMMARY`)."""
        if self._summary_path is None:
            return
        markdown = clean_text(self.redact(markdown))
        self._append(self._summary_path, markdown if markdown.endswith("\n") else markdown + "\n")

    @staticmethod
    def _append(path: str, text: str) -> None:
        try:
            with open(path, "a", encoding="utf-8", newline="\n") as file:
                file.write(text)
        except OSError as exc:
            raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def _fresh_delimiter(value: str) -> str:
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            return delimiter
