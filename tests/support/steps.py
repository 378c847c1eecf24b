"""Running the alert step in a layout, as the runner would, against incident.io's and GitHub's stand-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.actions_runner import StepFiles, StepResult, run_step
from tests.support.github_api_stand_in import GitHubApiStandIn
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.layouts import Layout


class Steps:
    """Runs the alert step in a layout, each run with fresh step files, against both stand-ins."""

    def __init__(self, tmp_path: Path, with_: dict[str, str], github: GitHubApiStandIn) -> None:
        self.tmp_path = tmp_path
        self.with_ = with_
        self.github = github
        self.count = 0

    def run(
        self,
        layout: Layout,
        job_status: str = "failure",
        *,
        check_run_id: str | None = None,
        matrix: Any = None,
        **inputs: str,
    ) -> StepResult:
        self.count += 1
        github_env = {**layout.github_env, "GITHUB_API_URL": self.github.url}
        with_ = {**self.with_, **inputs}
        if check_run_id is not None:
            with_["check-run-id"] = check_run_id
        files = StepFiles(self.tmp_path / f"step{self.count}")
        return run_step(
            files, with_, event=layout.event, job_status=job_status, matrix=matrix, github_env=github_env
        )


def notice(result: StepResult) -> str:
    (only,) = result.annotations("notice")
    return only.data


def assert_skipped(result: StepResult, stand_in: IncidentIoStandIn, says: str) -> None:
    assert result.returncode == 0, result.log
    assert stand_in.received == []
    assert result.outputs["status"] == "skipped"
    assert result.outputs["sent"] == "false"
    assert says in notice(result)
    assert result.annotations("error") == []
