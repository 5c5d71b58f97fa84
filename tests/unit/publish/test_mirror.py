"""The local mirror: release folders appear whole, `latest` switches atomically and forward."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from include.publish import (
    ReleaseConflictError,
    ReleaseFiles,
    ReleaseVerificationError,
    mirror_release,
    mirrored_latest,
)
from tests.unit.publish.inputs import RUN_A, RUN_B

Build = Callable[..., ReleaseFiles]


@pytest.fixture
def releases(build: Build, consultation_inputs: dict) -> tuple[ReleaseFiles, ReleaseFiles]:
    return build(consultation_inputs, run=RUN_A), build(consultation_inputs, run=RUN_B)


def test_mirror_a_then_b_switches_latest_and_keeps_a(tmp_path: Path, releases: tuple) -> None:
    a, b = releases
    exports = tmp_path / "exports"
    first = mirror_release(a, exports)
    assert (first.copied, first.latest, first.latest_switched) == (True, a.release_id, True)
    assert mirrored_latest(exports, "consultation") == a.release_id
    second = mirror_release(b, exports)
    assert (second.latest, second.latest_switched) == (b.release_id, True)
    latest = exports / "consultation" / "latest"
    assert latest.is_symlink()
    assert os.readlink(latest) == b.release_id  # relative: the folder can move
    assert (latest / "manifest.json").read_bytes() == b.path("manifest.json").read_bytes()
    assert (exports / "consultation" / a.release_id / "manifest.json").is_file()
    assert sorted(p.name for p in (exports / "consultation").iterdir()) == sorted(
        [a.release_id, b.release_id, "latest"]
    )


def test_rerun_is_a_no_op(tmp_path: Path, releases: tuple) -> None:
    _, b = releases
    exports = tmp_path / "exports"
    mirror_release(b, exports)
    csv_path = exports / "consultation" / b.release_id / "consultation.csv"
    before = csv_path.stat().st_mtime_ns
    again = mirror_release(b, exports)
    assert (again.copied, again.latest_switched, again.latest) == (False, False, b.release_id)
    assert csv_path.stat().st_mtime_ns == before


def test_an_older_release_does_not_move_latest_back(tmp_path: Path, releases: tuple) -> None:
    a, b = releases
    exports = tmp_path / "exports"
    mirror_release(b, exports)
    late = mirror_release(a, exports)
    assert (late.copied, late.latest_switched, late.latest) == (True, False, b.release_id)
    assert mirrored_latest(exports, "consultation") == b.release_id


def test_same_release_with_other_content_is_refused(
    tmp_path: Path, build: Build, consultation_inputs: dict
) -> None:
    exports = tmp_path / "exports"
    mirror_release(build(consultation_inputs), exports)
    fewer = {**consultation_inputs, "records": consultation_inputs["records"].iloc[:-1]}
    with pytest.raises(ReleaseConflictError, match="never overwritten"):
        mirror_release(build(fewer), exports)


def test_a_corrupted_staging_file_leaves_latest_where_it_was(
    tmp_path: Path, releases: tuple
) -> None:
    a, b = releases
    exports = tmp_path / "exports"
    mirror_release(a, exports)
    b.path("consultation.parquet").write_bytes(b"PAR1 damaged")
    with pytest.raises(ReleaseVerificationError, match=r"consultation\.parquet has 12 bytes"):
        mirror_release(b, exports)
    assert mirrored_latest(exports, "consultation") == a.release_id
    assert not (exports / "consultation" / b.release_id).exists()


def test_a_real_latest_folder_is_not_replaced(tmp_path: Path, releases: tuple) -> None:
    a, _ = releases
    (tmp_path / "exports" / "consultation" / "latest").mkdir(parents=True)
    with pytest.raises(ReleaseConflictError, match="real folder"):
        mirror_release(a, tmp_path / "exports")
    assert mirrored_latest(tmp_path / "exports", "consultation") is None


def test_an_interrupted_copy_is_cleaned_up(tmp_path: Path, releases: tuple) -> None:
    a, _ = releases
    incoming = tmp_path / "exports" / "consultation" / f".incoming-{a.release_id}"
    incoming.mkdir(parents=True)
    (incoming / "partial.csv").write_text("x")
    mirror_release(a, tmp_path / "exports")
    assert not incoming.exists()
    assert mirrored_latest(tmp_path / "exports", "consultation") == RUN_A.release_id
