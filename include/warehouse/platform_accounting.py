"""Accounting over the whole platform, not one run: every row ever received is
published, suppressed, quarantined, a duplicate, or still in flight, and the
warehouse's tables agree with what the runs say they did.

WHY: a run's own accounting only compares the run's figures with each other, so
rows lost between runs (a run killed after its ingest, a load rolled back, a gate
that blocked a run) never showed: every accounting row still said "balanced".
Here the figures of every live run (not superseded) are added up and checked
against the rows actually stored: `curated` (published), the private record store
(published + suppressed), and the ids kept for the duplicate check. Rows of runs
that have not loaded, or not yet been accounted for, are "in flight", named by raw
object, until a run loads them. The publish stage refuses to release while a
problem is listed; `civic services status` and the demo summary print the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from include.core.source_config import SourceConfig
from include.warehouse.pg_tables import RUN_COLUMN
from include.warehouse.record_store import SCHEMA as STORE_SCHEMA

_PLACES = {
    "store": "the private record store",
    "curated": "curated",
    "ids": "the duplicate check's ids",
}


@dataclass(frozen=True)
class InFlightObject:
    """A raw object whose rows no run has loaded and accounted for yet."""

    run_id: str
    run_status: str
    bucket: str
    key: str
    rows: int | None  # rows read from it, None while it has not been read


@dataclass(frozen=True)
class PlatformAccounting:
    source: str
    rows_received: int = 0
    rows_published: int = 0
    rows_suppressed: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_in_flight: int = 0
    in_flight: tuple[InFlightObject, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def rows_accounted(self) -> int:
        return (
            self.rows_published
            + self.rows_suppressed
            + self.rows_quarantined
            + self.rows_duplicate
            + self.rows_in_flight
        )

    @property
    def balanced(self) -> bool:
        return not self.problems and self.rows_received == self.rows_accounted

    def summary(self) -> str:
        """One line: the identity with its figures, and what is wrong if anything."""
        line = (
            f"{self.source}: {self.rows_received:,} rows received = {self.rows_published:,} "
            f"published + {self.rows_suppressed:,} suppressed + {self.rows_quarantined:,} "
            f"quarantined + {self.rows_duplicate:,} duplicates + {self.rows_in_flight:,} in "
            f"flight ({len(self.in_flight)} objects)"
        )
        if self.problems:
            line += f"; NOT BALANCED: {self.problems[0]}"
            if len(self.problems) > 1:
                line += f" (and {len(self.problems) - 1} more)"
        return line


def _counts_by_run(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, int]:
    if conn.execute("SELECT to_regclass(%s)", (f"{schema}.{table}",)).fetchone() == (None,):
        return {}
    query = sql.SQL("SELECT {0}, count(*) FROM {1} GROUP BY {0}").format(
        sql.Identifier(RUN_COLUMN), sql.Identifier(schema, table)
    )
    return {str(run): int(n) for run, n in conn.execute(query).fetchall()}


def _run_problems(
    run_id: str,
    run: tuple[Any, ...],
    accounted: tuple[Any, ...],
    stored: dict[str, dict[str, int]],
) -> list[str]:
    rows_read, rows_valid = run[2], run[3]
    acc_read, published, suppressed, balanced = accounted
    problems = []
    if not balanced:
        problems.append(f"run {run_id}'s own accounting does not balance")
    if acc_read != rows_read:
        problems.append(
            f"run {run_id} was accounted with {acc_read} rows read, its ingest says {rows_read}"
        )
    checks = [
        ("store", published + suppressed),
        ("curated", published),
        ("ids", rows_valid),
    ]
    problems += [
        f"run {run_id}: {_PLACES[where]} holds {found} rows, its accounting says {expected}"
        for where, expected in checks
        if (found := stored[where].get(run_id, 0)) != expected
    ]
    return problems


def platform_accounting(dsn: str, config: SourceConfig) -> PlatformAccounting:
    """Add up every live run of the source and check the warehouse against it."""
    source = config.name
    with psycopg.connect(dsn) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        if conn.execute("SELECT to_regclass('pipeline.ingest_runs')").fetchone() == (None,):
            return PlatformAccounting(source)
        runs = {
            row[0]: row
            for row in conn.execute(
                "SELECT run_id, status, rows_read, rows_valid, rows_quarantined, rows_duplicate "
                "FROM pipeline.ingest_runs WHERE source = %s AND status <> 'superseded'",
                (source,),
            ).fetchall()
        }
        accounted = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT run_id, rows_read, rows_published, rows_suppressed, balanced "
                "FROM pipeline.run_accounting WHERE source = %s",
                (source,),
            ).fetchall()
        }
        objects = conn.execute(
            "SELECT run_id, bucket, key, rows_read FROM pipeline.raw_objects "
            "WHERE source = %s AND run_id = ANY(%s) ORDER BY run_id, key",
            (source, [run for run in runs if runs[run][1] != "loaded" or run not in accounted]),
        ).fetchall()
        ids = dict(
            conn.execute(
                "SELECT run_id, count(*) FROM pipeline.ingested_ids WHERE source = %s "
                "GROUP BY run_id",
                (source,),
            ).fetchall()
        )
        stored = {
            "store": _counts_by_run(conn, STORE_SCHEMA, source),
            "curated": _counts_by_run(conn, "curated", source),
            "ids": {str(run): int(n) for run, n in ids.items()},
        }
    totals = dict.fromkeys(("received", "published", "suppressed", "quarantined", "dup", "fly"), 0)
    problems: list[str] = []
    for run_id, run in sorted(runs.items()):
        totals["received"] += run[2] or 0
        if run[1] == "loaded" and run_id in accounted:
            published, suppressed = accounted[run_id][1], accounted[run_id][2]
            totals["published"] += published
            totals["suppressed"] += suppressed
            totals["quarantined"] += run[4]
            totals["dup"] += run[5]
            problems += _run_problems(run_id, run, accounted[run_id], stored)
        else:
            totals["fly"] += run[2] or 0
    live_loaded = {run for run, row in runs.items() if row[1] == "loaded"}
    for where, counts in stored.items():
        live = live_loaded if where != "ids" else set(runs)
        kind = "loaded run" if where != "ids" else "run"
        problems += [
            f"{_PLACES[where]}: {n} rows belong to run {run}, "
            f"which is not a live {kind} of {source}"
            for run, n in sorted(counts.items())
            if run not in live
        ]
    in_flight = tuple(
        InFlightObject(run_id, runs[run_id][1], bucket, key, rows)
        for run_id, bucket, key, rows in objects
    )
    return PlatformAccounting(
        source,
        rows_received=totals["received"],
        rows_published=totals["published"],
        rows_suppressed=totals["suppressed"],
        rows_quarantined=totals["quarantined"],
        rows_duplicate=totals["dup"],
        rows_in_flight=totals["fly"],
        in_flight=in_flight,
        problems=tuple(problems),
    )
