"""Aggregates by the cell key method: key sums that add up, noise within ±D, nothing hidden,
the same cell reading the same in every table and whenever its records are unchanged."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from include.anonymization.cell_key import KEY_MODULUS, draw_record_keys
from include.core.source_config import SourceConfig, load_all_sources
from include.sample.generator import iter_rows
from include.warehouse.aggregates import (
    KEY_SUM,
    WEIGHT,
    ProtectedAggregate,
    add_groups,
    group_records,
    protect_all,
)
from include.warehouse.cell_key_aggregates import perturbation_table
from tests.cell_key_sources import cell_key_variant

MAX_NOISE = 2


@pytest.fixture(scope="module")
def committed() -> SourceConfig:
    return load_all_sources()["consultation"]


@pytest.fixture(scope="module")
def config(committed: SourceConfig) -> SourceConfig:
    return cell_key_variant(committed, max_noise=MAX_NOISE, variance=1.0)


def _records(config: SourceConfig, n: int, seed: int, keys: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(iter_rows(config, n, seed, date(2026, 11, 25)))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    if keys:
        frame["record_key"] = draw_record_keys(n)
    return frame


def _by_name(protected: list[ProtectedAggregate]) -> dict[str, ProtectedAggregate]:
    return {item.name: item for item in protected}


def _age_band(age: int) -> str:
    """The `age:20` label, written out here rather than taken from the hierarchy code."""
    low = age // 20 * 20
    return f"{low}-{low + 19}"


def _true_counts(records: pd.DataFrame, dims: list[str]) -> dict[tuple[Any, ...], int]:
    """Every cell and margin of a table, counted from the records by hand; a margin has None
    for its summed-over dimension."""
    values = {
        dim: records["age"].map(_age_band) if dim == "age_20" else records[dim] for dim in dims
    }
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for row in zip(*(values[dim] for dim in dims), strict=True):
        for kept in range(1 << len(dims)):  # every subset of the dimensions, kept or summed
            key = tuple(row[i] if kept >> i & 1 else None for i in range(len(dims)))
            counts[key] += 1
    return counts


def _published(item: ProtectedAggregate) -> dict[tuple[Any, ...], int]:
    cells = item.cells
    return {
        tuple(None if pd.isna(value) else value for value in row[:-1]): int(row[-1])
        for row in cells[[*item.columns, "count"]].itertuples(index=False, name=None)
    }


# -- key sums --------------------------------------------------------------------------------


def test_group_records_sums_the_keys_of_each_group_modulo_2_32(config: SourceConfig) -> None:
    records = _records(config, 400, 5)
    # Keys near the top of the range: any group of two or more wraps around 2**32.
    records["record_key"] = KEY_MODULUS - 1 - np.arange(len(records)) % 7
    aggregate = next(a for a in config.aggregates if a.name == "transports_par_genre")
    groups = group_records(records, config, aggregate)
    assert list(groups.columns) == ["gender", "q_transports", WEIGHT, KEY_SUM]
    expected: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for gender, answer, key in records[["gender", "q_transports", "record_key"]].itertuples(
        index=False
    ):
        expected[(gender, answer)][0] += 1
        expected[(gender, answer)][1] = (expected[(gender, answer)][1] + int(key)) % KEY_MODULUS
    found = {(g, q): [n, s] for g, q, n, s in groups.itertuples(index=False, name=None)}
    assert found == dict(expected)
    assert groups[KEY_SUM].dtype == np.int64


def test_records_without_keys_group_as_before(config: SourceConfig) -> None:
    records = _records(config, 200, 6, keys=False)
    for aggregate in config.aggregates:
        groups = group_records(records, config, aggregate)
        assert KEY_SUM not in groups.columns
        assert int(groups[WEIGHT].sum()) == 200


def test_groups_of_two_batches_add_up_to_the_groups_of_both(config: SourceConfig) -> None:
    old, new = _records(config, 500, 7), _records(config, 300, 8)
    for aggregate in config.aggregates:
        added = add_groups(
            group_records(old, config, aggregate), group_records(new, config, aggregate)
        )
        at_once = group_records(pd.concat([old, new], ignore_index=True), config, aggregate)
        keys = [c for c in at_once.columns if c not in (WEIGHT, KEY_SUM)]
        pd.testing.assert_frame_equal(
            added.sort_values(keys).reset_index(drop=True),
            at_once.sort_values(keys).reset_index(drop=True),
        )
        assert int(added[KEY_SUM].max()) < KEY_MODULUS


def test_keyed_and_unkeyed_groups_do_not_add(config: SourceConfig) -> None:
    aggregate = config.aggregates[0]
    keyed = group_records(_records(config, 50, 9), config, aggregate)
    unkeyed = group_records(_records(config, 50, 10, keys=False), config, aggregate)
    with pytest.raises(ValueError, match="different columns"):
        add_groups(keyed, unkeyed)


# -- the perturbed aggregate -----------------------------------------------------------------


def test_every_cell_and_total_is_published_within_max_noise(
    config: SourceConfig, committed: SourceConfig
) -> None:
    records = _records(config, 600, 11)
    suppressed = _by_name(protect_all(records, committed))
    for item in protect_all(records, config):
        cells = item.cells
        # The columns of a suppressed table (which the validation gate and the load take),
        # the count as nullable integers in both.
        other = suppressed[item.name].cells
        assert list(cells.columns) == list(other.columns)
        assert cells["count"].dtype == other["count"].dtype
        assert cells["count"].notna().all()
        assert not cells["suppressed"].any()
        assert cells["suppression_reason"].isna().all()
        truth = _true_counts(records, list(item.columns))
        published = _published(item)
        assert set(truth) <= set(published), "a cell with records is missing"
        for cell, count in published.items():
            assert abs(count - truth.get(cell, 0)) <= MAX_NOISE, (item.name, cell)
            assert count >= 0
        assert any(published[c] != truth.get(c, 0) for c in published), "nothing perturbed"


def test_true_zeros_of_declared_categories_are_listed_as_zero(config: SourceConfig) -> None:
    """A cell with records may be published as 0, so a true zero must be listed too: a 0
    that appears only where records are would give them away."""
    records = _records(config, 400, 12)
    records = records[(records["gender"] != "X") & (records["q_transports"] != 5)]
    item = _by_name(protect_all(records, config))["transports_par_genre"]
    published = _published(item)
    interior = {cell: n for cell, n in published.items() if None not in cell}
    assert set(interior) == {(g, q) for g in ["F", "M", "X"] for q in range(1, 6)}
    assert all(interior[("X", q)] == 0 for q in range(1, 6))
    assert all(interior[(g, 5)] == 0 for g in ["F", "M", "X"])
    assert published[("X", None)] == 0
    assert published[(None, 5)] == 0


def test_a_total_reads_the_same_in_every_table_that_has_it(config: SourceConfig) -> None:
    tables = _by_name(protect_all(_records(config, 800, 13), config))
    published = {name: _published(item) for name, item in tables.items()}
    by_answer = {
        name: {cell[1]: n for cell, n in cells.items() if cell[0] is None}
        for name, cells in published.items()
        if name.startswith("transports_")
    }
    first = by_answer["transports_par_age"]
    assert len(first) == 6  # answers 1..5 and the grand total
    assert all(other == first for other in by_answer.values())
    by_age = [
        {cell[0]: n for cell, n in published[name].items() if cell[1] is None}
        for name in ("transports_par_age", "velo_par_age")
    ]
    assert by_age[0] == by_age[1]


def test_cells_whose_records_are_unchanged_keep_their_value(config: SourceConfig) -> None:
    """A second release adds records that all share one set of values: every cell and
    total they do not fall in reads exactly as before."""
    before = _records(config, 700, 14)
    new = _records(config, 40, 15).assign(
        gender="M", q_transports=1, q_velo=3, occupation="cadre", age=30
    )
    after = pd.concat([before, new], ignore_index=True)
    values = {"gender": "M", "q_transports": 1, "q_velo": 3, "occupation": "cadre"}
    values["age_20"] = _age_band(30)
    first, second = _by_name(protect_all(before, config)), _by_name(protect_all(after, config))
    unchanged = 0
    for name, item in second.items():
        old = _published(first[name])
        for cell, count in _published(item).items():
            touched = all(
                v is None or v == values[d] for d, v in zip(item.columns, cell, strict=True)
            )
            if not touched:
                assert count == old[cell], (name, cell)
                unchanged += 1
    assert unchanged > 50


def test_the_order_of_the_records_does_not_matter(config: SourceConfig) -> None:
    records = _records(config, 300, 16)
    shuffled = records.sample(frac=1.0, random_state=3)
    for a, b in zip(protect_all(records, config), protect_all(shuffled, config), strict=True):
        assert _published(a) == _published(b)


def test_the_summary_names_the_ptable_and_the_loss(config: SourceConfig) -> None:
    for item in protect_all(_records(config, 500, 17), config):
        summary = item.summary
        assert summary["method"] == "cell_key"
        assert summary["ptable"] == perturbation_table(config.disclosure).fingerprint
        assert (summary["max_noise"], summary["variance"], summary["js"]) == (MAX_NOISE, 1.0, 0)
        assert summary["cells"] + summary["margins"] == len(item.cells)
        assert 0 < summary["cells_changed"] <= summary["cells"]
        assert summary["max_abs_deviation"] <= MAX_NOISE
        assert 0 < summary["mean_abs_deviation"] <= MAX_NOISE


def test_with_js_no_count_is_published_between_1_and_js(committed: SourceConfig) -> None:
    config = cell_key_variant(committed, max_noise=2, variance=1.5, js=1)
    published = pd.concat([item.cells for item in protect_all(_records(config, 150, 18), config)])
    assert not (published["count"] == 1).any()
    assert (published["count"] == 0).any()
    assert (published["count"] >= 2).any()


def test_a_cell_key_source_without_record_keys_is_refused(config: SourceConfig) -> None:
    records = _records(config, 100, 19)
    with pytest.raises(ValueError, match="record keys"):
        protect_all(records.drop(columns=["record_key"]), config)
