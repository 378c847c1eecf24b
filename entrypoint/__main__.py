"""`python -m entrypoint`: run the action and exit with its code; no traceback reaches the user."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import traceback
from types import FrameType

from entrypoint import messages
from entrypoint.app import run
from entrypoint.outcome import EXIT_DELIVERY_FAILED, Outcome, finish
from entrypoint.runner import Runner


class _Stopped(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise _Stopped(signum)


def main() -> int:
    # A cancelled job stops the container with SIGTERM (docker stop) or SIGINT (sig-proxy).
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    # The runner reads the log as UTF-8, whatever LANG or PYTHONIOENCODING an earlier step set.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")
    environ = dict(os.environ)
    runner = Runner(environ)
    try:
        return run(environ, runner)
    except _Stopped as stopped:
        name = signal.Signals(stopped.signum).name
        runner.warning(f"Stopped by {name} (the job was cancelled?); the alert may not have been sent.")
        return 128 + stopped.signum
    except Exception as exc:
        message = messages.INTERNAL_ERROR.format(kind=type(exc).__name__)
        runner.error(message)
        for line in traceback.format_exc().splitlines():
            runner.debug(line)
        # Every output is still set, so that later steps read an error, not an empty string.
        failed = Outcome(message=message, error=message, headline="❌ Unexpected error")
        with contextlib.suppress(Exception):
            finish(runner, failed, EXIT_DELIVERY_FAILED)
        return EXIT_DELIVERY_FAILED


if __name__ == "__main__":
    sys.exit(main())
