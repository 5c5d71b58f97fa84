"""Where the ingest writes in the private work bucket, per source and run.

WHY: a rerun of a run must overwrite its own objects and nothing else, so every
key is a pure function of (source, run id, part number). Downstream stages get
the exact keys through XCom and never rebuild them.
"""

from __future__ import annotations

import re

from include.ingest.errors import IngestError

# Airflow run ids look like "scheduled__2026-03-26T00:00:00+00:00"; anything printable
# without a slash keeps one run in one key "folder".
_RUN_ID = re.compile(r"[^/\x00-\x1f\x7f]{1,200}")


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id) or run_id in (".", ".."):
        raise IngestError(
            f"run id {run_id!r} cannot name a folder of the work bucket: use 1 to 200 "
            "printable characters without '/' (an Airflow run id qualifies)"
        )
    return run_id


def ingested_prefix(source: str, run_id: str) -> str:
    """Validated Parquet chunks: `runs/<source>/<run_id>/ingested/part-NNNNN.parquet`."""
    return f"runs/{source}/{run_id}/ingested/"


def scrubbed_prefix(source: str, run_id: str) -> str:
    """The scrub stage's output chunks: `runs/<source>/<run_id>/scrubbed/part-NNNNN.parquet`."""
    return f"runs/{source}/{run_id}/scrubbed/"


def quarantine_prefix(source: str, run_id: str) -> str:
    """Rejected rows and duplicates (personal data: private, encrypted, retention-bound)."""
    return f"quarantine/{source}/{run_id}/"


def part_key(prefix: str, stem: str, number: int, extension: str) -> str:
    return f"{prefix}{stem}-{number:05d}.{extension}"
