"""What a record file tells of each aggregate cell, and the joint protection that uses it.

The attacker here is `tests/unit/anonymization/linked_attack.py`: it reads only the
published frames (a missing count where hidden), the fact that margins exist (unknown,
they are not published), and what the record file gives as intervals; it owes nothing to
the engine it checks.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from include.aggregates import count_cells, group_records, protect_all
from include.anonymization.hierarchies import build_generalizer
from include.anonymization.kanonymity import anonymize
from include.publish.privacy_gates import check_suppressed_cells
from include.record_file_bounds import record_file_bounds
from include.sample.generator import iter_rows
from include.source_config import SourceConfig, load_all_sources
from tests.unit.anonymization.linked_attack import Key, Published, attack, with_unknown_margins

TOTAL = "Total"


@pytest.fixture(scope="module")
def consultation() -> SourceConfig:
    return load_all_sources()["consultation"]


def _records(config: SourceConfig, n: int, seed: int = 5) -> pd.DataFrame:
    frame = pd.DataFrame(iter_rows(config, n, seed, date(2026, 11, 25)))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    return frame


def _label(config: SourceConfig, records: pd.DataFrame, field: str, level: int) -> np.ndarray:
    encoded = build_generalizer(config.field(field)).encode_records(records)
    return encoded.generalized(level)


def _truth(records: pd.DataFrame, config: SourceConfig, name: str) -> dict[Key, float]:
    """Every cell, margin and total of one aggregate, counted from the records."""
    aggregate = next(a for a in config.aggregates if a.name == name)
    cells = count_cells(group_records(records, config, aggregate), config, aggregate)
    dims = [d.column for d in aggregate.dimensions]
    truth: dict[Key, float] = {}
    for row in cells.itertuples(index=False):
        codes = dict(zip(dims, row[:-1], strict=True))
        for kept in ({}, *({d: codes[d]} for d in dims), codes):
            key = frozenset(kept.items())
            truth[key] = truth.get(key, 0) + row[-1]
    return truth


def _facts(bounds: list) -> dict[Key, tuple[float, float]]:
    return {frozenset(f.cell.items()): (f.lower, f.upper) for f in bounds}


def test_a_file_at_the_tables_level_with_nothing_left_out_gives_every_cell(
    consultation: SourceConfig,
) -> None:
    records = _records(consultation, 400)
    published = records.assign(age=_label(consultation, records, "age", 1))  # 5-year bands
    facts = _facts(record_file_bounds(consultation, records, published))
    truth = _truth(records, consultation, "transports_par_genre")
    for key, value in truth.items():
        assert facts[key] == (value, value), dict(key)
    # ages in 5-year bands give the 20-year bands of `transports_par_age` exactly too
    for key, value in _truth(records, consultation, "transports_par_age").items():
        assert facts[key] == (value, value), dict(key)


def test_records_left_out_and_coarser_values_widen_the_intervals(
    consultation: SourceConfig,
) -> None:
    records = _records(consultation, 400)
    kept = records.iloc[7:].reset_index(drop=True)  # 7 records suppressed
    published = kept.assign(
        gender="*",  # the file hides gender entirely
        age=_label(consultation, kept, "age", 3),  # 40-year bands: coarser than the tables'
    )
    facts = _facts(record_file_bounds(consultation, records, published))
    for name in ("transports_par_genre", "transports_par_age"):
        for key, value in _truth(records, consultation, name).items():
            lower, upper = facts[key]
            assert lower <= value <= upper, (dict(key), lower, value, upper)
    # q_transports is published as collected: its margin is certain up to the 7 left out
    answers = kept["q_transports"].value_counts()
    for answer, count in answers.items():
        assert facts[frozenset({("q_transports", answer)})] == (count, count + 7)
    # gender hidden: a gender x answer cell is anywhere from 0 to its answer's margin + 7
    lower, upper = facts[frozenset({("gender", "F"), ("q_transports", 1)})]
    assert lower == 0
    assert upper == answers[1] + 7


def test_a_record_without_a_stored_record_is_refused(consultation: SourceConfig) -> None:
    records = _records(consultation, 50)
    published = records.assign(response_id=records["response_id"] + "-x")
    with pytest.raises(ValueError, match="no record in the store"):
        record_file_bounds(consultation, records, published)


def _published_view(protected: list) -> list[Published]:
    """The frames as released; margins exist but are not published."""
    return [
        Published(with_unknown_margins(t.cells, t.columns, "count", TOTAL), t.columns, "count")
        for t in protected
    ]


def test_linked_tables_and_the_record_file_leave_every_hidden_cell_protected(
    consultation: SourceConfig,
) -> None:
    """The four consultation tables share age bands and answers; with the record file the
    reader has intervals on every cell. No hidden cell may be pinned, and a small one must
    keep the room the rule asks for, or all the room the record file leaves."""
    records = _records(consultation, 1500)
    curated, _ = anonymize(consultation, records)
    known = record_file_bounds(consultation, records, curated)
    protected = protect_all(records, consultation, known)
    assert all(table.summary["audit_passed"] for table in protected)
    assert sum(int(t.cells["suppressed"].sum()) for t in protected) > 0, "nothing to test"
    found = attack(_published_view(protected), {}, TOTAL, _facts(known))
    truth: dict[Key, float] = {}
    for table in protected:
        truth |= _truth(records, consultation, table.name)
    facts = _facts(known)
    for key in _hidden(protected):
        lower, upper = found.intervals[key]
        assert upper - lower > 1e-6, f"{dict(key)} pinned to {lower}"
        value = truth[key]
        if value < consultation.min_cell_count:
            allowed = facts.get(key, (0, np.inf))[1] - value
            assert upper - value >= min(consultation.min_cell_count, allowed) - 1e-6, dict(key)


def _hidden(protected: list) -> set[Key]:
    hidden = set()
    for table in protected:
        dims = list(table.columns)
        for row in table.cells[table.cells["suppressed"]].itertuples(index=False):
            hidden.add(frozenset(zip(dims, row[: len(dims)], strict=True)))
    return hidden


def test_a_small_cell_the_record_file_gives_is_shown_with_its_reason(
    consultation: SourceConfig,
) -> None:
    """Hiding a count anyone can take from the record file protects nothing: it is shown,
    marked `known`, and the release gate accepts it."""
    records = _records(consultation, 600)
    published = records.assign(age=_label(consultation, records, "age", 1))
    known = record_file_bounds(consultation, records, published)
    protected = protect_all(records, consultation, known)
    genre = next(t for t in protected if t.name == "transports_par_genre").cells
    small = genre["count"].notna() & (genre["count"] < consultation.min_cell_count)
    assert small.any(), "the sample should hold a small cell"
    assert (genre.loc[small, "suppression_reason"] == "known").all()
    assert not genre["suppressed"].any()  # every cell is known: nothing left to hide
    check_suppressed_cells("transports_par_genre", genre, consultation.min_cell_count)
