"""Loading into the real warehouse: typed tables from the config, reruns replace, no identifiers."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import psycopg
import pytest

from include.aggregates import protect_all
from include.load import LoadError, curated_columns, load_run
from include.source_config import load_all_sources


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
            "postcode": ["69001"] * 42,
            "commune": ["Lyon"] * 42,
            "submitted_at": [datetime(2026, 3, 1, tzinfo=UTC)] * 42,
        }
    )
    aggregates = {agg.name: agg.cells for agg in protect_all(records, config)}
    first = load_run(warehouse_dsn, config, "run-a", _curated(5), aggregates)
    again = load_run(warehouse_dsn, config, "run-a", _curated(5), aggregates)
    other = load_run(warehouse_dsn, config, "run-b", _curated(3), aggregates)
    assert first == again
    assert other.curated_rows == 3
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
            "SELECT commune, count, suppressed, run_id FROM aggregates.signalements__par_commune"
        ).fetchall()
        assert rows == [("Lyon", 42, False, "run-b")], "aggregates are a snapshot of the last load"


def test_refuses_undeclared_aggregate(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    with pytest.raises(LoadError, match=r"aggregates \['par_age'\] are not in the source config"):
        load_run(warehouse_dsn, config, "run-x", None, {"par_age": pd.DataFrame()})


def test_refuses_direct_identifiers(warehouse_dsn: str) -> None:
    config = load_all_sources()["signalements"]
    leaking = _curated(2).assign(reporter_phone=["06 12 34 56 78", None])
    with pytest.raises(
        LoadError, match=r"refusing to load direct identifier column\(s\) \['reporter_phone'\]"
    ):
        load_run(warehouse_dsn, config, "run-x", leaking, {})
