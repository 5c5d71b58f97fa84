"""Which run a release comes from, and the release id derived from it.

The release id is a pure function of the run (its logical date and its id), never
of the wall clock: rerunning the same DAG run rebuilds the same id, so the rerun
finds its own earlier release and becomes a no-op instead of publishing a copy.
The id starts with the run's date in UTC (`2026-11-25T0300Z-1a2b3c4d`), so
sorting ids as strings sorts releases by date, which is how `latest` decides
whether a release is newer than the one it points to.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

RELEASE_ID_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{4}Z-[0-9a-f]{8}$")


@dataclass(frozen=True)
class RunInfo:
    """The pipeline run that produces a release.

    `run_date` is the run's logical date (Airflow's `logical_date` or the end of its
    data interval), timezone-aware; it dates the release and its README.
    """

    run_id: str
    pipeline_version: str
    run_date: datetime

    def __post_init__(self) -> None:
        if not self.run_id.strip():
            raise ValueError("run_id is empty; pass the DAG run's id")
        if not self.pipeline_version.strip():
            raise ValueError("pipeline_version is empty; pass the platform's version")
        if self.run_date.tzinfo is None or self.run_date.utcoffset() is None:
            raise ValueError(
                f"run_date {self.run_date.isoformat()} has no time zone; pass the run's "
                "logical date as an aware datetime (Airflow's are in UTC)"
            )

    @property
    def run_date_utc(self) -> datetime:
        return self.run_date.astimezone(UTC)

    @property
    def release_id(self) -> str:
        """`<run date, UTC, to the minute>-<first 8 hex digits of sha256(run_id)>`."""
        digest = hashlib.sha256(self.run_id.encode("utf-8")).hexdigest()[:8]
        return f"{self.run_date_utc:%Y-%m-%dT%H%MZ}-{digest}"


def check_release_id(release_id: str) -> str:
    """Return `release_id` if it is well formed; it becomes part of S3 keys and paths."""
    if not RELEASE_ID_PATTERN.match(release_id):
        raise ValueError(
            f"'{release_id}' is not a release id (expected e.g. 2026-11-25T0300Z-1a2b3c4d); "
            "derive it with RunInfo.release_id"
        )
    return release_id
