"""Aggregates: counted at each dimension's own level, protected, suppressed cells never 0."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from include.core.source_config import SourceConfig, load_all_sources
from include.sample.generator import iter_rows
from include.warehouse.aggregates import (
    MISSING_LABEL,
    count_cells,
    group_records,
    protect_all,
)


@pytest.fixture(scope="module")
def sources() -> dict[str, SourceConfig]:
    return load_all_sources()


def _records(config: SourceConfig, n: int, seed: int = 3) -> pd.DataFrame:
    frame = pd.DataFrame(iter_rows(config, n, seed, date(2026, 11, 25)))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    return frame


def _cells(records: pd.DataFrame, config: SourceConfig, index: int) -> pd.DataFrame:
    aggregate = config.aggregates[index]
    return count_cells(group_records(records, config, aggregate), config, aggregate)


def test_dimensions_counted_at_their_level(sources: dict[str, SourceConfig]) -> None:
    config = sources["signalements"]
    records = _records(config, 500)
    cells = _cells(records, config, 1)  # category × postcode:departement
    assert list(cells.columns) == ["category", "postcode_departement", "count"]
    assert cells["count"].sum() == 500
    from include.core.geo_fr import DEPARTEMENTS

    assert set(cells["postcode_departement"]) <= set(DEPARTEMENTS)
    months = _cells(records, config, 0)["submitted_at_month"]
    assert all(len(m) == 7 and m[4] == "-" for m in months)


def test_missing_values_are_a_labelled_cell(sources: dict[str, SourceConfig]) -> None:
    config = sources["signalements"]
    records = _records(config, 300)
    records.loc[records.index[:40], "commune"] = None
    cells = _cells(records, config, 2)
    assert cells.loc[cells["commune"] == MISSING_LABEL, "count"].item() >= 40


def test_every_small_cell_suppressed_and_never_zero(sources: dict[str, SourceConfig]) -> None:
    for config in sources.values():
        records = _records(config, 2000)
        for aggregate in protect_all(records, config):
            cells = aggregate.cells
            published = cells[~cells["suppressed"]]
            assert ((published["count"] == 0) | (published["count"] >= config.min_cell_count)).all()
            assert cells.loc[cells["suppressed"], "count"].isna().all()
            assert aggregate.summary["audit_passed"] is True


def test_one_small_cell_forces_a_complement(sources: dict[str, SourceConfig]) -> None:
    config = sources["consultation"]
    records = _records(config, 1500)
    protected = next(a for a in protect_all(records, config) if a.name == "transports_par_genre")
    reasons = protected.cells["suppression_reason"].dropna()
    if (reasons == "primary").any():
        assert (reasons == "complementary").any() or (reasons == "primary").sum() >= 2
