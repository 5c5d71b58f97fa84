"""Two successive releases cannot be subtracted: the LP attack over both, with the record
files (issue #12's done-when: 0 recoverable cells across two releases).

The attacker (`tests/unit/anonymization/linked_attack.py`) holds both releases' tables
(interior cells, a missing count where hidden; margins exist but are unknown), both record
files as intervals, and the relation every reader knows: a cell of the second release is
the same cell in the first plus the new records. Without the history the engine leaves
small groups of new submissions readable by difference; with it, none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
import pytest

from include.anonymization.kanonymity import anonymize
from include.anonymization.linked_suppression import KnownCell, LinkedTable
from include.core.source_config import SourceConfig, load_all_sources
from include.sample.generator import iter_rows
from include.warehouse.aggregates import (
    ProtectedAggregate,
    count_cells,
    group_records,
    protect_source,
)
from include.warehouse.record_file_bounds import record_file_bounds
from include.warehouse.release_history import NEW, PREVIOUS, RELEASE, history_tables
from tests.unit.anonymization.linked_attack import (
    Attack,
    Key,
    Published,
    attack,
    with_unknown_margins,
)

TOTAL = "Total"


@pytest.fixture(scope="module")
def consultation() -> SourceConfig:
    return load_all_sources()["consultation"]


def _records(config: SourceConfig, n: int, seed: int, day: date, tag: str) -> pd.DataFrame:
    frame = pd.DataFrame(iter_rows(config, n, seed, day))
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["response_id"] = frame["response_id"] + tag
    return frame


def _groups(records: pd.DataFrame, config: SourceConfig) -> dict[str, pd.DataFrame]:
    return {a.name: group_records(records, config, a) for a in config.aggregates}


def _previous(
    records: pd.DataFrame, config: SourceConfig, released: Sequence[ProtectedAggregate]
) -> dict[str, pd.DataFrame]:
    """What `release_history.previous_release` reads back: true and shown counts."""
    frames = {}
    for aggregate, table in zip(config.aggregates, released, strict=True):
        dims = list(table.columns)
        truth = count_cells(group_records(records, config, aggregate), config, aggregate)
        shown = table.cells[[*dims, "count"]].rename(columns={"count": "shown_count"})
        frames[aggregate.name] = (
            truth.rename(columns={"count": "true_count"}).merge(shown, on=dims).astype(object)
        )
    return frames


def _attack(
    first: Sequence[ProtectedAggregate],
    second: Sequence[ProtectedAggregate],
    known: dict[Key, tuple[float, float]],
) -> Attack:
    views = []
    for one, two in zip(first, second, strict=True):
        dims = tuple(two.columns)
        for table, fixed in ((one, {RELEASE: PREVIOUS}), (two, {})):
            frame = with_unknown_margins(table.cells[[*dims, "count"]], dims, "count", TOTAL)
            views.append(Published(frame, dims, "count", fixed=fixed))
        codes = pd.concat([one.cells[list(dims)], two.cells[list(dims)]]).drop_duplicates()
        relation = pd.concat([codes.assign(**{RELEASE: r}) for r in (PREVIOUS, NEW)])
        relation = with_unknown_margins(
            relation.assign(count=np.nan), (*dims, RELEASE), "count", TOTAL
        )
        views.append(Published(relation, (*dims, RELEASE), "count"))
    return attack(views, {}, TOTAL, known)


def _as_intervals(facts: Sequence[KnownCell], extra: dict[str, str] | None = None) -> dict:
    return {frozenset({**f.cell, **(extra or {})}.items()): (f.lower, f.upper) for f in facts}


def test_two_successive_releases_cannot_be_subtracted(consultation: SourceConfig) -> None:
    config = consultation
    earlier = _records(config, 1200, 1, date(2026, 11, 2), "-a")
    new = _records(config, 150, 2, date(2026, 11, 25), "-b")
    both = pd.concat([earlier, new], ignore_index=True)
    # Each run's records are anonymized on their own; the record file is every run's rows.
    file_1, _ = anonymize(config, earlier)
    file_2 = pd.concat([file_1, anonymize(config, new)[0]], ignore_index=True)
    known_1 = record_file_bounds(config, earlier, file_1)
    known_2 = record_file_bounds(config, both, file_2)
    first = protect_source(_groups(earlier, config), config, known_1)
    previous = _previous(earlier, config, first)
    reader = _as_intervals(known_2) | _as_intervals(known_1, {RELEASE: PREVIOUS})

    def small_new_cells_pinned(second: Sequence[ProtectedAggregate]) -> list[dict]:
        found = _attack(first, second, reader)
        pinned = []
        for aggregate, table in zip(config.aggregates, second, strict=True):
            dims = list(table.columns)
            for row in table.cells[table.cells["suppressed"]].itertuples(index=False):
                lower, upper = found.intervals[frozenset(zip(dims, row[: len(dims)], strict=True))]
                assert upper - lower > 1e-6, f"{aggregate.name}: hidden cell {row} pinned"
            added = count_cells(group_records(new, config, aggregate), config, aggregate)
            for row in added.itertuples(index=False):
                key = frozenset({**dict(zip(dims, row[:-1], strict=True)), RELEASE: NEW}.items())
                lower, upper = found.intervals.get(key, (0.0, np.inf))
                if 0 < row[-1] < config.min_cell_count and upper - lower <= 1e-6:
                    pinned.append(dict(key))
        return pinned

    alone = protect_source(_groups(both, config), config, known_2)
    assert small_new_cells_pinned(alone), "without the history, differencing should work"
    second = protect_source(_groups(both, config), config, known_2, previous)
    assert all(table.summary["audit_passed"] for table in second)
    assert small_new_cells_pinned(second) == []
    assert all(table.summary["previous_release_cells"] > 0 for table in second)


def test_counts_that_fell_since_the_previous_release_are_refused() -> None:
    now = pd.DataFrame({"canal": ["web", "app"], "count": [30, 12]})
    before = pd.DataFrame(
        {"canal": ["web", "app"], "true_count": [31, 10], "shown_count": [31, None]}, dtype=object
    )
    with pytest.raises(ValueError, match="fewer records than in the previous release"):
        history_tables({"t": LinkedTable(now, ("canal",))}, {"t": before})


def test_the_history_knows_the_shown_counts_and_the_unlisted_zeros() -> None:
    now = pd.DataFrame({"canal": ["web", "app", "guichet"], "count": [40, 12, 3]})
    before = pd.DataFrame(
        {"canal": ["web", "app"], "true_count": [31, 10], "shown_count": [31, None]}, dtype=object
    )
    file = [KnownCell({"canal": "web"}, 38.0, 41.0, "record file")]
    added, facts = history_tables({"t": LinkedTable(now, ("canal",))}, {"t": before}, file)
    (table,) = added.values()
    assert not table.published
    split = table.frame.set_index(["canal", RELEASE])["count"].to_dict()
    assert split[("web", NEW)] == 9
    assert split[("guichet", PREVIOUS)] == 0
    by_cell = {tuple(sorted(f.cell.items())): (f.lower, f.upper) for f in facts}
    assert by_cell[(("RELEASE", PREVIOUS), ("canal", "web"))] == (31.0, 31.0)
    assert by_cell[(("RELEASE", PREVIOUS), ("canal", "guichet"))] == (0.0, 0.0)  # not listed
    assert (("RELEASE", PREVIOUS), ("canal", "app")) not in by_cell  # hidden then
    assert by_cell[(("RELEASE", NEW), ("canal", "web"))] == (7.0, 10.0)  # file minus shown


def test_cells_read_back_from_the_database_match_whatever_their_codes() -> None:
    """Codes come back from JSON (dates as text, booleans and numbers as they are): the
    same cells counted again must meet them, or the releases could not be related."""
    days = [date(2026, 11, 2), date(2026, 11, 3)]
    now = pd.DataFrame({"jour": days, "urgent": [True, False], "count": [20, 14]})
    before = pd.DataFrame(
        {"jour": ["2026-11-02", "2026-11-03"], "urgent": [True, False], "true_count": [18, 14],
         "shown_count": [18, 14]},
        dtype=object,
    )  # fmt: skip
    added, facts = history_tables({"t": LinkedTable(now, ("jour", "urgent"))}, {"t": before})
    (table,) = added.values()
    split = table.frame.set_index(["jour", "urgent", RELEASE])["count"].to_dict()
    assert split[(days[0], True, NEW)] == 2
    assert split[(days[1], False, NEW)] == 0
    assert {f.cell["jour"] for f in facts} == set(days)  # the current codes, not their text
