"""Loading into the real warehouse: typed tables from the config, reruns replace, no identifiers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import psycopg
import pytest

from include.core.source_config import SourceConfig, load_all_sources
from include.publish import record_batches
from include.publish.record_batches import unbatched_rows
from include.warehouse import pg_tables
from include.warehouse.aggregates import protect_all
from include.warehouse.load import LoadError, load_run
from include.warehouse.pg_tables import curated_columns
from include.warehouse.record_store import record_count
from tests.warehouse_runs import made_up_runs


def _curated(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": [f"id-{i}" for i in range(n)],
            "submitted_at": ["2026-T1"] * n,
            "category": ["voirie"] * n,
            "description": ["Nid-de-poule signalé par <PERSON>"] * n,
            "commune": [None] + ["Lyon"] * (n - 1),
            "postcode": ["69"] * n,
            "channel": ["web"] * n,
            "reporter_email_pseudonym": [f"k1.{i:026d}" for i in range(n)],
        }
    )


def _records(ids: range) -> pd.DataFrame:
    """Scrubbed records at full precision, as the private record store keeps them, with
    their record keys (a function of the id here, so that a rerun carries the same keys)."""
    n = len(ids)
    return _curated(n).assign(
        submission_id=[f"rec-{i}" for i in ids],
        submitted_at=[datetime(2026, 3, 1, tzinfo=UTC)] * n,
        postcode=["69001"] * n,
        record_key=[i * 2_654_435_761 % 2**32 for i in ids],
    )


def _stored(dsn: str, config: SourceConfig) -> int:
    with psycopg.connect(dsn) as conn:
        return record_count(conn, config)


def test_curated_columns_never_hold_direct_identifiers() -> None:
    config = load_all_sources()["signalements"]
    names = [name for name, _ in curated_columns(config)]
    assert "reporter_name" not in names
    assert "reporter_phone" not in names
    assert "reporter_email" not in names
    assert "reporter_email_pseudonym" in names


def test_load_then_rerun_replaces_the_run(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    records = pd.DataFrame(
        {
            "category": ["voirie"] * 30 + ["bruit"] * 12,
            "channel": ["web"] * 42,
            "postcode": ["69001"] * 42,
            "commune": ["Lyon"] * 42,
            "submitted_at": [datetime(2026, 3, 1, tzinfo=UTC)] * 42,
        }
    )
    aggregates = {agg.name: agg.cells for agg in protect_all(records, config)}
    with made_up_runs(warehouse_dsn, config, "run-a", "run-b"):
        before = _stored(warehouse_dsn, config)
        first = load_run(
            warehouse_dsn, config, "run-a", _curated(5), aggregates,
            records=_records(range(5)), records_to_date=before + 5,
        )  # fmt: skip
        again = load_run(
            warehouse_dsn, config, "run-a", _curated(5), aggregates,
            records=_records(range(5)), records_to_date=before + 5,
        )  # fmt: skip
        other = load_run(
            warehouse_dsn, config, "run-b", _curated(3), aggregates,
            records=_records(range(5, 8)), records_to_date=before + 8,
        )  # fmt: skip
        assert first == again
        assert (other.curated_rows, other.stored_records) == (3, 3)
        with psycopg.connect(warehouse_dsn) as conn:
            counts = dict(
                conn.execute(
                    "SELECT run_id, count(*) FROM curated.signalements "
                    "WHERE run_id IN ('run-a', 'run-b') GROUP BY run_id"
                ).fetchall()
            )
            assert counts == {"run-a": 5, "run-b": 3}
            assert conn.execute(
                "SELECT count(*) FROM curated.signalements "
                "WHERE commune IS NULL AND run_id IN ('run-a', 'run-b')"
            ).fetchone() == (2,)
            rows = conn.execute(
                "SELECT commune, count, suppressed, run_id "
                "FROM aggregates.signalements__par_commune"
            ).fetchall()
            assert rows == [("Lyon", 42, False, "run-b")], "aggregates: a snapshot of the last load"
            statuses = conn.execute(
                "SELECT run_id, status FROM pipeline.ingest_runs "
                "WHERE source = 'signalements' AND run_id IN ('run-a', 'run-b') ORDER BY run_id"
            ).fetchall()
            assert statuses == [("run-a", "loaded"), ("run-b", "loaded")]
    assert _stored(warehouse_dsn, config) == before


def test_rows_are_copied_in_slices_whole_and_with_their_missing_values(
    warehouse_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame longer than a copy slice arrives whole, in order, NaN/None as NULL."""
    monkeypatch.setattr(pg_tables, "COPY_SLICE_ROWS", 3)
    frame = pd.DataFrame(
        {
            "id": range(10),
            "label": ["a", None, "c", "d", float("nan"), "f", "g", "h", "i", None],
            "value": [1.5, None, 3.0, 4.0, 5.0, float("nan"), 7.0, 8.0, 9.0, 10.0],
        }
    )
    with psycopg.connect(warehouse_dsn) as conn, conn.transaction():
        conn.execute("CREATE TEMP TABLE copied (id int, label text, value float8)")
        copied = pg_tables.copy_frame(conn, "pg_temp", "copied", frame, ["id", "label", "value"])
        assert copied == 10
        rows = conn.execute("SELECT id, label, value FROM copied ORDER BY id").fetchall()
    expected = [
        (i, None if pd.isna(label) else label, None if pd.isna(value) else value)
        for i, label, value in frame.itertuples(index=False, name=None)
    ]
    assert rows == expected
    assert [r[0] for r in rows if r[1] is None] == [1, 4, 9]


def test_every_kind_of_value_arrives_as_it_was(warehouse_dsn: str) -> None:
    """Text that CSV must quote (quotes, commas, line breaks, a lone CR, a backslash, what
    reads as NULL elsewhere), empty text apart from NULL, and every column type the
    tables use, with its missing markers, read back equal."""
    texts = ['il a dit "non", puis', "ligne\nsuivante", "retour\rseul", "a\\b", "\\N",
             "", None, "NULL", " espaces ", "Évry–Courcouronnes ✓", '"', ","]  # fmt: skip
    n = len(texts)
    moments = pd.to_datetime(["2026-03-25T09:00:00.123456+01:00"] * (n - 1) + [None], utc=True)
    frame = pd.DataFrame(
        {
            "id": range(n),
            "label": texts,
            "amount": pd.array([2**63 - 1, -(2**63)] + [None] * (n - 2), dtype="Int64"),
            "ratio": [0.1, float("nan"), -1e-300] + [2.5] * (n - 3),
            "flag": [True, False, None] + [True] * (n - 3),
            "day": [date(2026, 2, 28), None] + [date(2000, 1, 1)] * (n - 2),
            "at": moments.astype("datetime64[ns, UTC]"),
            "kind": pd.Categorical(["a", None] + ["b"] * (n - 2)),
        }
    )
    names = list(frame.columns)
    with psycopg.connect(warehouse_dsn) as conn, conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE kinds (id int, label text, amount bigint, ratio float8, "
            "flag boolean, day date, at timestamptz, kind text)"
        )
        assert pg_tables.copy_frame(conn, "pg_temp", "kinds", frame, names) == n
        rows = conn.execute("SELECT * FROM kinds ORDER BY id").fetchall()
    expected = [
        tuple(None if pd.isna(value) else value for value in row)
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]
    assert rows == [
        (*row[:6], None if row[6] is None else row[6].to_pydatetime(), row[7]) for row in expected
    ]
    assert (rows[5][1], rows[6][1]) == ("", None)  # empty text is not NULL


def test_a_release_reads_its_batch_in_slices_as_one_frame(
    warehouse_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch read a few rows at a time is the batch read at once: same rows, same types."""
    config = load_all_sources()["signalements"]
    records = pd.DataFrame(
        {
            "category": ["voirie"] * 20,
            "channel": ["web"] * 20,
            "postcode": ["69001"] * 20,
            "commune": ["Lyon"] * 20,
            "submitted_at": [datetime(2026, 3, 1, tzinfo=UTC)] * 20,
        }
    )
    aggregates = {agg.name: agg.cells for agg in protect_all(records, config)}
    columns = curated_columns(config)
    with made_up_runs(warehouse_dsn, config, "run-s"):
        load_run(
            warehouse_dsn, config, "run-s", _curated(7), aggregates,
            records=_records(range(7)), records_to_date=_stored(warehouse_dsn, config) + 7,
        )  # fmt: skip
        with psycopg.connect(warehouse_dsn) as conn:
            whole = unbatched_rows(conn, config, "2026-11-25T0300Z-1a2b3c4d", columns)
            monkeypatch.setattr(record_batches, "FETCH_ROWS", 2)
            sliced = unbatched_rows(conn, config, "2026-11-25T0300Z-1a2b3c4d", columns)
    pd.testing.assert_frame_equal(sliced, whole)
    ours = sliced[sliced["run_id"] == "run-s"]
    assert sorted(ours["submission_id"]) == sorted(f"id-{i}" for i in range(7))
    assert ours["commune"].isna().sum() == 1


def test_a_record_is_stored_once(warehouse_dsn: str) -> None:
    """The record id is the store's key: a second run cannot store (publish) it again."""
    config = load_all_sources()["signalements"]
    with made_up_runs(warehouse_dsn, config, "run-once-a", "run-once-b"):
        before = _stored(warehouse_dsn, config)
        load_run(
            warehouse_dsn, config, "run-once-a", _curated(2), {},
            records=_records(range(100, 102)), records_to_date=before + 2,
        )  # fmt: skip
        with pytest.raises(LoadError, match=r"already stored by another run .*rec-101"):
            load_run(
                warehouse_dsn, config, "run-once-b", _curated(1), {},
                records=_records(range(101, 102)), records_to_date=before + 3,
            )  # fmt: skip
        assert _stored(warehouse_dsn, config) == before + 2, "the refused load left nothing"


def test_stale_aggregates_are_not_loaded(warehouse_dsn: str) -> None:
    """Aggregates computed over fewer records than the store holds are refused, whole."""
    config = load_all_sources()["signalements"]
    with made_up_runs(warehouse_dsn, config, "run-stale"):
        before = _stored(warehouse_dsn, config)
        with pytest.raises(LoadError, match=r"computed over .*another run loaded in between"):
            load_run(
                warehouse_dsn, config, "run-stale", _curated(2), {},
                records=_records(range(200, 202)), records_to_date=before + 1,
            )  # fmt: skip
        assert _stored(warehouse_dsn, config) == before


def test_a_run_without_ingest_or_superseded_cannot_load(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    with pytest.raises(LoadError, match="no completed ingest"):
        load_run(
            warehouse_dsn, config, "run-never-ingested", _curated(1), {},
            records=_records(range(300, 301)), records_to_date=0,
        )  # fmt: skip
    with made_up_runs(warehouse_dsn, config, "run-old"):
        with psycopg.connect(warehouse_dsn) as conn:
            conn.execute(
                "UPDATE pipeline.ingest_runs SET status = 'superseded', superseded_by = 'run-new' "
                "WHERE source = 'signalements' AND run_id = 'run-old'"
            )
        with pytest.raises(LoadError, match="superseded by run run-new"):
            load_run(
                warehouse_dsn, config, "run-old", _curated(1), {},
                records=_records(range(300, 301)), records_to_date=0,
            )  # fmt: skip


def test_refuses_undeclared_aggregate(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    with pytest.raises(LoadError, match=r"aggregates \['par_age'\] are not in the source config"):
        load_run(
            warehouse_dsn, config, "run-x", None, {"par_age": pd.DataFrame()},
            records=_records(range(1)), records_to_date=0,
        )  # fmt: skip


def test_refuses_direct_identifiers(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    leaking = _curated(2).assign(reporter_phone=["06 12 34 56 78", None])
    with pytest.raises(
        LoadError, match=r"refusing to load direct identifier column\(s\) \['reporter_phone'\]"
    ):
        load_run(
            warehouse_dsn, config, "run-x", leaking, {},
            records=_records(range(1)), records_to_date=0,
        )  # fmt: skip
