"""A matrix fan-out: many jobs alerting at once against a rate-limited incident.io stand-in."""

from __future__ import annotations

import math
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.support.actions_runner import ENTRYPOINT, THIS_PUSH, StepFiles, process_environment, write_event
from tests.support.incident_io_stand_in import IncidentIoStandIn

TOKEN = "burst-token-0123456789"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"


@dataclass(frozen=True)
class BurstResult:
    jobs: int
    exit_codes: list[int]
    accepted_per_key: Counter[str]
    requests: int
    seconds: float  # first request to last accepted
    minimum_seconds: float  # what the rate limit itself imposes

    @property
    def ratio(self) -> float:
        return self.seconds / self.minimum_seconds


def run_burst(tmp: Path, jobs: int = 30, limit: int = 10, window: float = 5.0) -> BurstResult:
    with IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as stand_in:
        stand_in.rate_limit(limit, window)
        processes = []
        for index in range(jobs):
            files = StepFiles(tmp / f"job{index}")
            write_event(files, THIS_PUSH)
            inputs = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
            env = process_environment(files, inputs, matrix={"shard": index})
            processes.append(
                subprocess.Popen(
                    ENTRYPOINT,
                    env=env,
                    cwd=files.workspace,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 120
        exit_codes = [process.wait(timeout=max(1.0, deadline - time.monotonic())) for process in processes]
        accepted = [request for request in stand_in.received if request.answered == 202]
        keys = Counter(request.json()["deduplication_key"] for request in accepted)
        first = min(request.at for request in stand_in.received)
        return BurstResult(
            jobs=jobs,
            exit_codes=exit_codes,
            accepted_per_key=keys,
            requests=len(stand_in.received),
            seconds=max(request.at for request in accepted) - first,
            minimum_seconds=(math.ceil(jobs / limit) - 1) * window,
        )
