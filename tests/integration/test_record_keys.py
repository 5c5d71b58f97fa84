"""Record keys in the private store: drawn once, kept for good, summed exactly in SQL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from include.anonymization.cell_key import KEY_MODULUS, draw_record_keys
from include.core.source_config import SourceConfig, load_all_sources
from include.sample.generator import iter_rows
from include.warehouse.aggregates import KEY_SUM, RECORD_KEY, WEIGHT, group_records
from include.warehouse.pg_tables import copy_frame, ensure_table
from include.warehouse.record_store import (
    RecordStoreError,
    ensure_store,
    keys_for_records,
    store_columns,
    store_groups,
    write_run,
)


@pytest.fixture
def config(warehouse_dsn: str) -> Iterator[SourceConfig]:
    """The consultation source under a name of its own: its store holds this test's only."""
    committed = load_all_sources()["consultation"]
    own = committed.model_copy(update={"name": f"test_keys_{uuid.uuid4().hex[:8]}"})
    yield own
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("private", own.name)))


def _records(config: SourceConfig, n: int, seed: int) -> pd.DataFrame:
    """Records of `config` (a renamed consultation) as its store keeps them."""
    committed = config.model_copy(update={"name": "consultation"})  # the sample's generator
    frame = pd.DataFrame(iter_rows(committed, n, seed, date(2026, 5, 1)))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["respondent_email_pseudonym"] = None
    return frame.drop(columns=["respondent_email", "opinion"])


def _stored_keys(conn: psycopg.Connection, config: SourceConfig) -> dict[str, int]:
    query = sql.SQL("SELECT {}, {} FROM {}").format(
        sql.Identifier(config.id_field),
        sql.Identifier(RECORD_KEY),
        sql.Identifier("private", config.name),
    )
    return dict(conn.execute(query).fetchall())


def test_a_store_made_before_record_keys_gets_them_once(
    warehouse_dsn: str, config: SourceConfig, caplog: pytest.LogCaptureFixture
) -> None:
    records = _records(config, 300, 21)
    older = [(name, kind) for name, kind in store_columns(config) if name != RECORD_KEY]
    with psycopg.connect(warehouse_dsn) as conn:
        ensure_table(conn, "private", config.name, older, primary_key=config.id_field)
        copy_frame(conn, "private", config.name, records.assign(run_id="r1"), [n for n, _ in older])
    with (
        caplog.at_level(logging.WARNING, logger="include.warehouse.record_store"),
        psycopg.connect(warehouse_dsn) as conn,
    ):
        ensure_store(conn, config)
    assert f"{config.name}: the record store had no record_key column" in caplog.text
    assert "each of the 300 records" in caplog.text
    with psycopg.connect(warehouse_dsn) as conn:
        keys = _stored_keys(conn, config)
        nullable = conn.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'private' "
            "AND table_name = %s AND column_name = %s",
            (config.name, RECORD_KEY),
        ).fetchone()
    assert sorted(keys) == sorted(records[config.id_field])
    assert all(0 <= key < KEY_MODULUS for key in keys.values())
    assert len(set(keys.values())) > 290  # drawn, not a constant
    assert nullable == ("NO",)

    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="include.warehouse.record_store"),
        psycopg.connect(warehouse_dsn) as conn,
    ):
        ensure_store(conn, config)
        assert _stored_keys(conn, config) == keys, "a key was drawn again"
    assert "record_key" not in caplog.text


def test_keys_are_carried_over_and_a_redrawn_key_is_refused(
    warehouse_dsn: str, config: SourceConfig
) -> None:
    records = _records(config, 120, 22)
    with psycopg.connect(warehouse_dsn) as conn:
        ensure_store(conn, config)
        keys, carried = keys_for_records(conn, config, "run-k", records[config.id_field])
        assert carried == 0
        write_run(conn, config, "run-k", records.assign(**{RECORD_KEY: keys}))
        stored = _stored_keys(conn, config)

        # A rerun of the run: every key carried over; new ids drawn.
        more = pd.concat([records, _records(config, 30, 23)], ignore_index=True)
        again, carried = keys_for_records(conn, config, "run-k", more[config.id_field])
        assert carried == 120
        assert again.iloc[:120].tolist() == keys.tolist()
        write_run(conn, config, "run-k", records.assign(**{RECORD_KEY: keys}))
        assert _stored_keys(conn, config) == stored

        redrawn = records.assign(**{RECORD_KEY: draw_record_keys(len(records))})
        with pytest.raises(RecordStoreError, match="would get another key"):
            write_run(conn, config, "run-k", redrawn)
        with pytest.raises(RecordStoreError, match="carry no 'record_key' column"):
            write_run(conn, config, "run-k", records)
        out_of_range = records.assign(**{RECORD_KEY: keys + KEY_MODULUS})
        with pytest.raises(RecordStoreError, match="without a valid key"):
            write_run(conn, config, "run-k", out_of_range)
        assert _stored_keys(conn, config) == stored


def test_the_store_sums_keys_as_numpy_does(warehouse_dsn: str, config: SourceConfig) -> None:
    """`sum(record_key) % 2**32` in SQL equals the in-memory grouping, group for group,
    with keys that wrap around 2**32 in every group of two or more."""
    records = _records(config, 500, 24)
    records[RECORD_KEY] = KEY_MODULUS - 1 - np.arange(len(records)) % 11
    with psycopg.connect(warehouse_dsn) as conn:
        ensure_store(conn, config)
        write_run(conn, config, "run-s", records)
        stored = {a.name: store_groups(conn, config, a) for a in config.aggregates}
    for aggregate in config.aggregates:
        memory = group_records(records, config, aggregate)
        keys = [c for c in memory.columns if c not in (WEIGHT, KEY_SUM)]
        pd.testing.assert_frame_equal(
            stored[aggregate.name].sort_values(keys).reset_index(drop=True),
            memory.sort_values(keys).reset_index(drop=True),
            check_dtype=False,
        )
        assert stored[aggregate.name][KEY_SUM].dtype == np.int64
