"""Warehouse data for the Superset asset tests: each source released once by its own DAG.

WHY real pipeline runs rather than rows inserted by hand: the charts must read what
the pipeline really writes (suppressed cells, generalized labels, run indicators,
quarantine reasons), and a hand-made table would only test itself. Imported by
tests/superset/conftest.py, so the fixture is one per session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import psycopg
import pytest
from psycopg import sql

from include.core.settings import Settings
from include.core.source_config import load_all_sources
from include.sample.writer import write_sample
from include.services.stack import LocalPlatform
from tests.dags import pipeline_helpers as helpers

# A date partition, logical date and seed of their own (tests/dags use March 2026).
RELEASES = {"signalements": (date(2026, 5, 4), 61_001), "consultation": (date(2026, 5, 5), 61_002)}
SAMPLE_ROWS = 1_000


@dataclass(frozen=True)
class ReleasedSource:
    source: str
    run_id: str  # as the stages write it into the warehouse
    release_id: str  # what the run published in the public bucket
    states: dict[str, list[str | None]]


@pytest.fixture(scope="session")
def released_sources(
    platform: LocalPlatform, s3_client: Any, settings: Settings
) -> dict[str, ReleasedSource]:
    """Both sources' pipelines run once through Airflow on a sample of their own.

    Each run is limited to its own delivery date (`from_date` = `to_date`), so raw objects
    other tests left unprocessed in the session's bucket cannot change its outcome.
    """
    return {
        source: release_sample(s3_client, settings, source, SAMPLE_ROWS, seed, day)
        for source, (day, seed) in RELEASES.items()
    }


def release_sample(
    s3_client: Any, settings: Settings, source: str, rows: int, seed: int, day: date
) -> ReleasedSource:
    """`rows` sample records of `source` delivered on `day`, then its pipeline run through
    Airflow for that day only; fails the test unless every task succeeded and it published."""
    write_sample(
        s3_client, settings.raw_bucket, load_all_sources()[source], rows, seed, day, settings.sse
    )
    when = datetime.combine(day, time(), tzinfo=UTC)
    dag = helpers.pipeline_dag(source, retries=0)
    run = dag.test(
        logical_date=when,
        run_after=when,
        run_conf={"from_date": day.isoformat(), "to_date": day.isoformat()},
    )
    states = helpers.task_states(run)
    failed = {task: s for task, s in states.items() if s != ["success"] * len(s)}
    assert not failed, f"{source}: the pipeline run did not succeed: {failed}"
    pointer = helpers.latest_pointer(s3_client, settings.public_bucket, source)
    assert pointer is not None, f"{source}: the run published no release"
    return ReleasedSource(source, helpers.stage_run_id(run), str(pointer["release_id"]), states)


@contextmanager
def column_added(
    warehouse_dsn: str, table: str, column: str, afterwards: Callable[[], object]
) -> Iterator[str]:
    """A text column added to `aggregates.<table>` by the pipeline's role, as a new source
    field would add one; dropped afterwards, then `afterwards()` (a sync) puts Superset back."""
    ident = sql.Identifier("aggregates", table)
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} text").format(ident, sql.Identifier(column))
        )
    try:
        yield column
    finally:
        with psycopg.connect(warehouse_dsn) as conn:
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(
                    ident, sql.Identifier(column)
                )
            )
        afterwards()
