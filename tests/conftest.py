from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.act import act_unavailable_reason
from tests.support.actions_runner import JOB_TOKEN, StepFiles
from tests.support.container import IMAGE, build_image, docker_unavailable_reason
from tests.support.github_api_stand_in import GitHubApiStandIn
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.steps import Steps

TOKEN = "test-token-0123456789"  # as long as a real source token
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"


@pytest.fixture
def stand_in() -> Iterator[IncidentIoStandIn]:
    with IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as server:
        yield server


@pytest.fixture
def github() -> Iterator[GitHubApiStandIn]:
    """GitHub's REST API on 127.0.0.1, answering the job's token; tests select it by GITHUB_API_URL."""
    with GitHubApiStandIn(token=JOB_TOKEN) as server:
        yield server


@pytest.fixture
def files(tmp_path: Path) -> StepFiles:
    return StepFiles(tmp_path / "runner_temp")


@pytest.fixture
def with_(stand_in: IncidentIoStandIn) -> dict[str, str]:
    """The two required inputs, pointed at the stand-in."""
    return {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}


@pytest.fixture
def steps(tmp_path: Path, with_: dict[str, str], github: GitHubApiStandIn) -> Steps:
    """Runs the alert step in a layout against both stand-ins (tests/support/steps.py)."""
    return Steps(tmp_path, with_, github)


@pytest.fixture(scope="session")
def image() -> str:
    """The action's image, built once per session; container tests skip only without Docker.

    REQUIRE_CONTAINER_TESTS=1 (set by .ci/run) turns that skip into a failure.
    """
    require("container tests", docker_unavailable_reason())
    build_image(IMAGE)
    return IMAGE


@pytest.fixture(scope="session")
def act_available() -> None:
    """The real-runner tests (nektos/act) skip only where act or Docker cannot be had; with
    REQUIRE_CONTAINER_TESTS=1 (.ci/run, the CI workflow) that skip is a failure."""
    require("the real-runner tests", act_unavailable_reason())


def require(what: str, reason: str | None) -> None:
    """Skip where Docker (or act) cannot be had, with the reason; with REQUIRE_CONTAINER_TESTS=1 (.ci/run,
    the CI workflow) fail instead: CI never passes by skipping them."""
    if reason is None:
        return
    if os.environ.get("REQUIRE_CONTAINER_TESTS") == "1":
        pytest.fail(f"{what} are required but cannot run: {reason}")
    pytest.skip(reason)
