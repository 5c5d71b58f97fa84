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
from hypothesis import given, settings
from hypothesis import strategies as st

from include.anonymization.hierarchies import build_generalizer
from include.anonymization.kanonymity import anonymize
from include.core.source_config import Role, SourceConfig, load_all_sources
from include.publish.privacy_gates import check_suppressed_cells
from include.sample.generator import iter_rows
from include.warehouse.aggregates import count_cells, group_records, protect_all
from include.warehouse.record_file_bounds import (
    RecordFileFacts,
    RecordFileFactsError,
    assemble_bounds,
    count_record_file,
    record_file_bounds,
    table_cells,
)
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


# -- per-run facts (issue #14): what a release sums instead of re-reading the history -----------


@pytest.fixture(scope="module")
def history(consultation: SourceConfig) -> pd.DataFrame:
    return _records(consultation, 600, seed=17)


def _mixed_file(config: SourceConfig, records: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A record file that shows each quasi-identifier of each row at a level drawn at random
    (as collected, any band or group, or "*"), and leaves a random tenth of the records out:
    coarse labels whose true values spread over several cells, rows finer than the tables."""
    rng = np.random.default_rng(seed)
    kept = records[rng.random(len(records)) >= 0.1].reset_index(drop=True)
    published = kept.copy()
    fields = {d.field for a in config.aggregates for d in a.dimensions}
    for name in sorted(fields):
        spec = config.field(name)
        if spec.role is not Role.QUASI_IDENTIFIER or spec.hierarchy is None:
            continue
        encoded = build_generalizer(spec).encode_records(kept)
        levels = [kept[name].astype(str).to_numpy()]
        levels += [encoded.generalized(level).astype(str) for level in range(1, encoded.top + 1)]
        chosen = rng.integers(0, len(levels), len(kept))
        published[name] = np.choose(chosen, np.array(levels, dtype=object))
    return published


def _split(records: pd.DataFrame, runs: int, seed: int) -> list[np.ndarray]:
    """Each record in one of `runs` runs, at random (a run may be empty)."""
    run = np.random.default_rng(seed + 1).integers(0, runs, len(records))
    return [np.flatnonzero(run == index) for index in range(runs)]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), runs=st.integers(1, 5))
def test_facts_summed_over_any_split_into_runs_give_the_whole_file_bounds(
    consultation: SourceConfig, history: pd.DataFrame, seed: int, runs: int
) -> None:
    """Counted run by run (a run's stored records and its own rows of the file) and summed,
    the facts are the whole file's, count for count; assembled, they give exactly the
    intervals of one computation over every row, and every interval holds its true count.
    The option sets of coarse labels are kept as (level, label, code) counts, so a label's
    options are the union over runs, as the whole file has them: a run that alone holds one
    true value of a label does not make its rows certain."""
    published = _mixed_file(consultation, history, seed)
    ids = consultation.id_field
    summed = RecordFileFacts()
    for rows in _split(history, runs, seed):
        store = history.iloc[rows]
        summed = summed + count_record_file(
            consultation, store, published[published[ids].isin(store[ids])]
        )
    assert summed == count_record_file(consultation, history, published)
    assert RecordFileFacts.from_frame(summed.to_frame()) == summed  # as the work zone keeps them
    counted = {a.name: table_cells(consultation, a, history) for a in consultation.aggregates}
    assembled = _facts(assemble_bounds(consultation, summed, counted))
    assert assembled == _facts(record_file_bounds(consultation, history, published))
    left_out = len(history) - len(published)
    assert summed.left_out == left_out > 0
    for aggregate in consultation.aggregates:
        for key, value in _truth(history, consultation, aggregate.name).items():
            lower, upper = assembled[key]
            assert lower <= value <= upper, (dict(key), lower, value, upper)
    widened = [upper - lower for lower, upper in assembled.values()]
    assert max(widened) > left_out, "some row of the file should be coarser than the tables"


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_facts_by_the_published_rows_positions_are_the_facts_by_id(
    consultation: SourceConfig, history: pd.DataFrame, seed: int
) -> None:
    """Where the caller knows which records the file's rows are (the anonymize stage: its
    kept rows, in order), reading them by position gives what joining by id gives; a
    position that is not the row's record is refused."""
    published = _mixed_file(consultation, history, seed)
    ids = consultation.id_field
    rows = np.flatnonzero(history[ids].isin(published[ids]).to_numpy())
    by_id = count_record_file(consultation, history, published)
    assert count_record_file(consultation, history, published, published_rows=rows) == by_id
    shifted = np.roll(rows, 1)
    with pytest.raises(ValueError, match="not the records at the positions"):
        count_record_file(consultation, history, published, published_rows=shifted)
    with pytest.raises(ValueError, match="not the records at the positions"):
        count_record_file(consultation, history, published, published_rows=rows[:-1])


def test_facts_of_runs_whose_true_values_are_apart_add_up_cell_by_cell(
    consultation: SourceConfig, history: pd.DataFrame
) -> None:
    """Runs that each hold every true value of the labels they publish (here: split by
    gender, the file hiding gender): each run's interval of a gender cell is its own rows,
    and the sum over runs is the whole file's, cell by cell."""
    published = history.assign(gender="*")
    genders = sorted(history["gender"].dropna().unique())
    ids = consultation.id_field
    parts = []
    for gender in genders:
        store = history[history["gender"] == gender]
        parts.append(
            count_record_file(consultation, store, published[published[ids].isin(store[ids])])
        )
    assert sum(parts, RecordFileFacts()) == count_record_file(consultation, history, published)
    whole = _facts(record_file_bounds(consultation, history, published))
    answers = history["q_transports"].value_counts()
    for gender in genders:
        # gender hidden: anywhere from 0 to every row of its answer, in any run
        assert whole[frozenset({("gender", gender), ("q_transports", 1)})] == (0, answers[1])


def test_facts_that_name_a_code_no_table_counts_are_refused(
    consultation: SourceConfig, history: pd.DataFrame
) -> None:
    """Stored facts that do not describe the records the tables count (a run's records
    replaced, its facts not) are refused, not turned into bounds."""
    facts = count_record_file(consultation, history, history)
    fewer = history[history["q_transports"] != 1]
    counted = {a.name: table_cells(consultation, a, fewer) for a in consultation.aggregates}
    with pytest.raises(RecordFileFactsError, match="no table counts"):
        assemble_bounds(consultation, facts, counted)
