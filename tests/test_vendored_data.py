"""tests/data holds copies of ../shared (so that a clone tests on its own, on GitHub too), and they must not
drift: tests/data/SHA256SUMS records the copies' checksums as they were taken from ../shared.

- Everywhere (GitHub's checkout has no ../shared): the copies match the checksums, file for file.
- Where ../shared is beside the clone (these machines, and CI here): ../shared matches them too, so a
  change there shows up as a failure here, to be copied over and recorded in SHA256SUMS.
Nothing is skipped in either place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.actions_runner import DATA_DIR, ROOT

SHARED = ROOT.parent / "shared"
FOLDERS = ("github-api", "github-events", "github-runner", "incident-io")
RECORDED = DATA_DIR / "SHA256SUMS"


def checksums(base: Path) -> dict[str, str]:
    return {
        path.relative_to(base).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in FOLDERS
        for path in sorted((base / folder).rglob("*"))
        if path.is_file()
    }


def recorded() -> dict[str, str]:
    lines = RECORDED.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())}


def test_the_copies_are_what_was_recorded() -> None:
    assert checksums(DATA_DIR) == recorded()


@pytest.mark.parametrize("folder", FOLDERS)
def test_shared_matches_the_recorded_copies_where_it_is_beside_the_clone(folder: str) -> None:
    if not SHARED.is_dir():
        # GitHub's checkout: the recorded checksums are the reference, checked above.
        assert RECORDED.is_file()
        return
    theirs = {name: digest for name, digest in checksums(SHARED).items() if name.startswith(f"{folder}/")}
    ours = {name: digest for name, digest in recorded().items() if name.startswith(f"{folder}/")}
    assert theirs == ours, "../shared changed: copy it to tests/data and record it in tests/data/SHA256SUMS"


def test_the_contents_operation_is_the_one_its_source_records() -> None:
    """tests/data/github-api-contents is cut from the same package as ../shared's subset, by this project:
    its SOURCE.md records the file's checksum."""
    folder = DATA_DIR / "github-api-contents"
    digest = hashlib.sha256((folder / "repos-get-content-openapi.json").read_bytes()).hexdigest()
    assert f"`{digest}`" in (folder / "SOURCE.md").read_text(encoding="utf-8")
