from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.actions_runner import StepFiles
from tests.support.incident_io_stand_in import IncidentIoStandIn

TOKEN = "test-token"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"


@pytest.fixture
def stand_in() -> Iterator[IncidentIoStandIn]:
    with IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as server:
        yield server


@pytest.fixture
def files(tmp_path: Path) -> StepFiles:
    return StepFiles(tmp_path / "runner_temp")


@pytest.fixture
def with_(stand_in: IncidentIoStandIn) -> dict[str, str]:
    """The two required inputs, pointed at the stand-in."""
    return {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
