"""A cancelled job: SIGTERM or SIGINT stops the program promptly with a clear line, not a traceback."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.support.actions_runner import ENTRYPOINT, THIS_PUSH, StepFiles, process_environment, write_event
from tests.support.incident_io_stand_in import IncidentIoStandIn, Reply


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_step(
    stand_in: IncidentIoStandIn, files: StepFiles, with_: dict[str, str], signum: signal.Signals
) -> None:
    stand_in.script(Reply(202, delay=30))
    write_event(files, THIS_PUSH)
    env = process_environment(files, {**with_, "timeout-seconds": "60"})
    process = subprocess.Popen(
        ENTRYPOINT, env=env, cwd=files.workspace, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not stand_in.received and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=10)

    assert time.monotonic() - started < 3
    assert process.returncode == 128 + signum
    assert f"Stopped by {signum.name}" in stdout
    assert "Traceback" not in stdout + stderr
