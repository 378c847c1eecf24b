"""tests/data holds copies of ../shared (so a fresh clone tests on its own); they must not drift."""

from __future__ import annotations

import os

import pytest

from tests.support.actions_runner import DATA_DIR, ROOT

SHARED = ROOT.parent / "shared"


@pytest.mark.skipif(not SHARED.is_dir() and not os.environ.get("CI"), reason="no ../shared beside this clone")
@pytest.mark.parametrize("folder", ["github-events", "incident-io"])
def test_copies_match_shared(folder: str) -> None:
    ours = {
        path.relative_to(DATA_DIR / folder): path.read_bytes() for path in (DATA_DIR / folder).rglob("*.*")
    }
    theirs = {path.relative_to(SHARED / folder): path.read_bytes() for path in (SHARED / folder).rglob("*.*")}
    assert ours == theirs
