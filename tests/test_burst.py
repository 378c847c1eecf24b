"""Load: a matrix of jobs failing at once against incident.io's per-source rate limit."""

from __future__ import annotations

from pathlib import Path

from tests.support.burst import run_burst


def test_burst_delivers_every_alert_once_close_to_the_limits_minimum(tmp_path: Path) -> None:
    result = run_burst(tmp_path, jobs=30, limit=10, window=5.0)

    assert result.exit_codes == [0] * result.jobs
    assert len(result.accepted_per_key) == result.jobs  # every job's alert delivered
    assert set(result.accepted_per_key.values()) == {1}  # none accepted twice
    assert result.requests <= result.jobs * 3  # at most the two waits the limit forces on the last jobs
    assert result.minimum_seconds == 10.0
    assert result.seconds <= 1.2 * result.minimum_seconds, result
