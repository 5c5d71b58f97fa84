"""A load streamed a slice at a time stores what the same load stores whole, and a slice
refused midway, or the loading process killed midway, leaves nothing of the run (the load
task reads its run's chunks and curated rows this way, so that its memory does not grow
with the run's size)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from include.core.source_config import SourceConfig, load_all_sources
from include.warehouse.aggregates import protect_all
from include.warehouse.load import LoadError, load_run
from include.warehouse.record_file_bounds import RecordFileFacts
from include.warehouse.record_store import RecordStoreError, ensure_store, write_run
from tests.warehouse_runs import made_up_runs


def _curated(ids: range) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": [f"st-{i}" for i in ids],
            "submitted_at": ["2026-T1"] * len(ids),
            "category": ["voirie", "bruit"] * (len(ids) // 2) + ["voirie"] * (len(ids) % 2),
            "description": [None if i % 5 == 0 else f"Texte {i}, « cité »" for i in ids],
            "commune": [None if i % 7 == 0 else "Lyon" for i in ids],
            "postcode": ["69"] * len(ids),
            "channel": ["web"] * len(ids),
            "reporter_email_pseudonym": [f"k1.{i:026d}" for i in ids],
        }
    )


def _records(ids: range) -> pd.DataFrame:
    return _curated(ids).assign(
        submission_id=[f"st-rec-{i}" for i in ids],
        submitted_at=[datetime(2026, 3, 1, i % 24, tzinfo=UTC) for i in ids],
        postcode=["69001"] * len(ids),
        record_key=[i * 2_654_435_761 % 2**32 for i in ids],
    )


def _slices(frame: pd.DataFrame, *bounds: int) -> Iterator[pd.DataFrame]:
    edges = [0, *bounds, len(frame)]
    for start, end in itertools.pairwise(edges):
        yield frame.iloc[start:end]


def _rows(dsn: str, config: SourceConfig, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """The run's rows in the curated table and the record store, every column but the run's."""
    with psycopg.connect(dsn) as conn:
        return {
            schema: [
                row[0]
                for row in conn.execute(
                    sql.SQL(
                        "SELECT to_jsonb(t) - 'run_id' FROM {} t WHERE run_id = %s "
                        "ORDER BY t.submission_id"
                    ).format(sql.Identifier(schema, config.name)),
                    (run_id,),
                )
            ]
            for schema in ("curated", "private")
        }


def _status(dsn: str, config: SourceConfig, run_id: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT status FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
            (config.name, run_id),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _aggregates(config: SourceConfig) -> dict[str, pd.DataFrame]:
    records = _records(range(40)).drop(columns=["submission_id", "record_key"])
    return {agg.name: agg.cells for agg in protect_all(records, config)}


def test_a_load_in_slices_stores_what_the_whole_load_stores(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    curated, records = _curated(range(23)), _records(range(23))
    aggregates = _aggregates(config)
    with made_up_runs(warehouse_dsn, config, "run-whole", "run-sliced"):
        with psycopg.connect(warehouse_dsn) as conn:
            before = int(conn.execute("SELECT count(*) FROM private.signalements").fetchone()[0])
        whole = load_run(
            warehouse_dsn, config, "run-whole", curated, aggregates,
            records=records, records_to_date=before + 23,
        )  # fmt: skip
        stored_whole = _rows(warehouse_dsn, config, "run-whole")
        with psycopg.connect(warehouse_dsn) as conn:  # the same records, by another run
            conn.execute("DELETE FROM private.signalements WHERE run_id = 'run-whole'")
            conn.execute("DELETE FROM curated.signalements WHERE run_id = 'run-whole'")
        sliced = load_run(
            warehouse_dsn, config, "run-sliced", _slices(curated, 1, 2, 10), aggregates,
            records=_slices(records, 7, 8), records_to_date=before + 23,
        )  # fmt: skip
        stored_sliced = _rows(warehouse_dsn, config, "run-sliced")
    assert (sliced.curated_rows, sliced.stored_records) == (23, 23)
    assert (sliced.curated_rows, sliced.stored_records) == (
        whole.curated_rows,
        whole.stored_records,
    )
    assert sliced.aggregate_rows == whole.aggregate_rows
    for schema in ("curated", "private"):
        assert len(stored_sliced[schema]) == 23
        assert stored_sliced[schema] == stored_whole[schema], f"{schema}: the same rows"
    assert sum(row["commune"] is None for row in stored_sliced["curated"]) == 4, "NULL as NULL"
    assert sum(row["description"] is None for row in stored_sliced["curated"]) == 5


@pytest.mark.parametrize("refused", ["curated", "records"])
def test_a_slice_refused_midway_leaves_nothing_of_the_run(warehouse_dsn: str, refused: str) -> None:
    config = load_all_sources()["signalements"]
    curated, records = _curated(range(12)), _records(range(100, 112))
    if refused == "curated":  # a direct identifier in a later slice of the rows
        bad_curated = [curated.iloc[:6], curated.iloc[6:].assign(reporter_phone="06 12 34 56 78")]
        bad_records = [records]
        expected = r"refusing to load direct identifier column\(s\) \['reporter_phone'\]"
    else:  # a record without a valid key in a later chunk
        bad_curated = [curated]
        bad_records = [records.iloc[:6], records.iloc[6:].assign(record_key=-1)]
        expected = "record\\(s\\) without a valid key"
    with made_up_runs(warehouse_dsn, config, "run-refused"):
        with psycopg.connect(warehouse_dsn) as conn:
            before = int(conn.execute("SELECT count(*) FROM private.signalements").fetchone()[0])
        with pytest.raises(LoadError, match=expected):
            load_run(
                warehouse_dsn, config, "run-refused", iter(bad_curated), {},
                records=iter(bad_records), records_to_date=before + 12,
            )  # fmt: skip
        assert _rows(warehouse_dsn, config, "run-refused") == {"curated": [], "private": []}
        assert _status(warehouse_dsn, config, "run-refused") == "ingested", "not marked loaded"


def test_a_refused_chunk_leaves_the_store_as_it_was(warehouse_dsn: str) -> None:
    """In the caller's transaction too: the store keeps the run's earlier records."""
    config = load_all_sources()["signalements"]
    records = _records(range(200, 210))
    with made_up_runs(warehouse_dsn, config, "run-kept"), psycopg.connect(warehouse_dsn) as conn:
        ensure_store(conn, config)
        assert write_run(conn, config, "run-kept", _slices(records, 4)) == 10
        stored = conn.execute(
            "SELECT submission_id, record_key FROM private.signalements "
            "WHERE run_id = 'run-kept' ORDER BY 1"
        ).fetchall()
        redrawn = records.iloc[5:].assign(record_key=records["record_key"].iloc[5:] + 1)
        with pytest.raises(RecordStoreError, match="would get another key"):
            write_run(conn, config, "run-kept", iter([records.iloc[:5], redrawn]))
        assert (
            conn.execute(
                "SELECT submission_id, record_key FROM private.signalements "
                "WHERE run_id = 'run-kept' ORDER BY 1"
            ).fetchall()
            == stored
        )


def test_facts_that_do_not_count_the_streamed_records_are_refused(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    facts = RecordFileFacts(records=11)  # the run's facts, counted over another set of records
    with made_up_runs(warehouse_dsn, config, "run-facts"):
        with pytest.raises(LoadError, match="facts count 11 records but the run has 10"):
            load_run(
                warehouse_dsn, config, "run-facts", _slices(_curated(range(10)), 5), {},
                records=_slices(_records(range(300, 310)), 5), records_to_date=0,
                record_file_facts=facts,
            )  # fmt: skip
        assert _rows(warehouse_dsn, config, "run-facts") == {"curated": [], "private": []}


def _load_until_killed(dsn: str, run_id: str, records_to_date: int, copied: Any) -> None:
    """A load whose third curated slice never comes: it says when two are copied, then waits
    (inside its open transaction) to be killed."""

    def curated_slices() -> Iterator[pd.DataFrame]:
        yield from _slices(_curated(range(12)), 4, 8)
        copied.set()
        time.sleep(600)

    config = load_all_sources()["signalements"]
    load_run(
        dsn, config, run_id, curated_slices(), {},
        records=_slices(_records(range(400, 412)), 6), records_to_date=records_to_date,
    )  # fmt: skip


def test_a_load_killed_midway_leaves_nothing_and_its_rerun_loads_everything(
    warehouse_dsn: str,
) -> None:
    """SIGKILL of the loading process after slices were copied: PostgreSQL drops its open
    transaction, nothing of the run is visible, the run is not marked loaded, and the same
    load run again stores every row once."""
    config = load_all_sources()["signalements"]
    spawn = multiprocessing.get_context("spawn")
    with made_up_runs(warehouse_dsn, config, "run-killed"):
        with psycopg.connect(warehouse_dsn) as conn:
            before = int(conn.execute("SELECT count(*) FROM private.signalements").fetchone()[0])
        copied = spawn.Event()
        loader = spawn.Process(
            target=_load_until_killed, args=(warehouse_dsn, "run-killed", before + 12, copied)
        )
        loader.start()
        try:
            assert copied.wait(120), "the load never copied its first slices"
            assert _rows(warehouse_dsn, config, "run-killed") == {"curated": [], "private": []}
        finally:
            os.kill(loader.pid, signal.SIGKILL)
            loader.join(30)
        assert loader.exitcode == -signal.SIGKILL
        assert _rows(warehouse_dsn, config, "run-killed") == {"curated": [], "private": []}
        assert _status(warehouse_dsn, config, "run-killed") == "ingested", "not marked loaded"
        rerun = load_run(
            warehouse_dsn, config, "run-killed", _slices(_curated(range(12)), 4, 8), {},
            records=_slices(_records(range(400, 412)), 6), records_to_date=before + 12,
        )  # fmt: skip
        assert (rerun.curated_rows, rerun.stored_records) == (12, 12)
        stored = _rows(warehouse_dsn, config, "run-killed")
        assert [len(stored["curated"]), len(stored["private"])] == [12, 12]
        assert _status(warehouse_dsn, config, "run-killed") == "loaded"
