"""Work-zone retention: a run's copies of submissions follow the raw zone's retention.

The ingest copies personal data out of the raw zone into the private work zone,
per run: the quarantined raw lines (`quarantine/<source>/<run>/`, rejected rows
and duplicates as received) and the validated chunks before scrubbing
(`runs/<source>/<run>/ingested/`, direct identifiers and unredacted free text
included); the scrub stage then writes the scrubbed chunks
(`runs/<source>/<run>/scrubbed/`: pseudonyms and scrubbed free text, whatever the
scrubber missed included). Deleting the raw object would not delete these copies,
so they are deleted here once the run is older than the source's `retention_days`.

WHY a run is dated by `pipeline.ingest_runs.claimed_at`: that row is written once,
when the run first takes its raw objects, which is the moment the personal data
enters the work zone; a rerun keeps it. The objects' LastModified moves on every
rerun (which rewrites them), and the run id is only dated in the shape Airflow's
scheduler happens to give it. The reference date is the retention DAG run's own
(`as_of`), never the wall clock, so a rerun of the same DAG run deletes the same
objects, and a second pass deletes nothing more. A run that claimed but never
completed (status `claimed`) is dated the same way: its copies are personal data
too. A work-zone run with no row in `pipeline.ingest_runs` cannot be dated: it is
reported, never deleted blindly.

Kept on purpose:
- nothing later runs need: the aggregates over all submissions to date are computed
  from the private record store in PostgreSQL (`include.warehouse.record_store`), never from
  the work zone, so an old run's chunks are transient;
- the run's later outputs (`curated/`, `aggregates/`): anonymized, as in the warehouse;
- the `pipeline` tables (quarantine counts, ingested ids): no personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg

from include.core.source_config import SourceConfig
from include.core.zones import StoredObject, list_objects
from include.ingest.keys import ingested_prefix, quarantine_prefix, scrubbed_prefix
from include.retention.raw_zone import delete_keys

# What a run keeps in the work zone before scrubbing, by kind, as the ingest names it.
PERSONAL_DATA_PREFIXES: dict[str, Callable[[str, str], str]] = {
    "quarantine": quarantine_prefix,
    "ingested": ingested_prefix,
    "scrubbed": scrubbed_prefix,
}
# A character no run id may hold (include.ingest.keys.check_run_id): splitting a prefix
# built for it gives the part of the key before the run id, from the ingest's own functions.
_NO_RUN = "\x00"


@dataclass
class WorkZoneRetentionReport:
    """What one pass deleted and kept, for one source.

    `deleted` counts objects per kind (`quarantine`, `ingested`, `scrubbed`); `kept` counts the
    objects of those kinds whose run is still within retention.
    """

    source: str
    as_of: str
    cutoff: str
    runs_purged: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(PERSONAL_DATA_PREFIXES, 0)
    )
    bytes_deleted: int = 0
    kept: int = 0
    unrecorded_runs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_claim_dates(dsn: str, source: str) -> dict[str, date]:
    """Run id → the UTC day the run first claimed its raw objects, for every run of `source`.

    No `pipeline.ingest_runs` table (no ingest ever ran on this warehouse) dates no run.
    """
    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regclass('pipeline.ingest_runs')").fetchone() == (None,):
            return {}
        rows = conn.execute(
            "SELECT run_id, (claimed_at AT TIME ZONE 'UTC')::date "
            "FROM pipeline.ingest_runs WHERE source = %s",
            (source,),
        ).fetchall()
    return dict(rows)


def _personal_data_objects(
    client: Any, bucket: str, source: str
) -> Iterator[tuple[str, str, StoredObject]]:
    """(kind, run id, object) for every work-zone object of `source` holding pre-scrub data."""
    for kind, prefix_of in PERSONAL_DATA_PREFIXES.items():
        listed = prefix_of(source, _NO_RUN).partition(_NO_RUN)[0]
        for obj in list_objects(client, bucket, listed):
            run_id = obj.key.removeprefix(listed).partition("/")[0]
            if obj.key.startswith(prefix_of(source, run_id)):  # not curated/, aggregates/
                yield kind, run_id, obj


def enforce_work_zone_retention(
    client: Any, bucket: str, dsn: str, source: SourceConfig, as_of: date
) -> WorkZoneRetentionReport:
    """Delete the quarantined lines and pre-scrub chunks of `source`'s runs past retention.

    `client` is a boto3 S3 client, `bucket` the work bucket, `dsn` the warehouse (read
    only: `pipeline.ingest_runs`). A run claimed before `as_of - retention_days` loses
    them; anything else under the run's prefix stays (see the module's docstring).
    """
    cutoff = as_of - timedelta(days=source.retention_days)
    report = WorkZoneRetentionReport(source.name, as_of.isoformat(), cutoff.isoformat())
    claimed = run_claim_dates(dsn, source.name)
    expired: list[str] = []
    purged: set[str] = set()
    unrecorded: set[str] = set()
    for kind, run_id, obj in _personal_data_objects(client, bucket, source.name):
        day = claimed.get(run_id)
        if day is None:
            unrecorded.add(run_id)
        elif day < cutoff:
            expired.append(obj.key)
            purged.add(run_id)
            report.deleted[kind] += 1
            report.bytes_deleted += obj.size
        else:
            report.kept += 1
    delete_keys(client, bucket, sorted(expired))
    report.runs_purged = sorted(purged)
    report.unrecorded_runs = sorted(unrecorded)
    return report
