"""One protection over linked tables, known counts and successive releases, attacked from outside.

Every pattern is checked by `linked_attack`, an LP written apart from the engine that reads
only the published frames, how the dimensions add up and what a reader knows besides.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pytest

from include.anonymization.cell_suppression import DisclosureRule, protect_count_frame
from include.anonymization.linked_suppression import (
    Hierarchy,
    KnownCell,
    LinkedProtection,
    LinkedTable,
    protect_linked,
)
from tests.unit.anonymization.linked_attack import Key, Published, attack

MIN_COUNT = 11  # the project's default rule: fewer than 11 is hidden, with 11 of room above


def crossed(dims: tuple[str, str], rows: list[str], cols: list[str], counts: list[list[int]]):
    """A long-format count table from a grid (no totals: the engine adds them)."""
    return pd.DataFrame(
        [
            {dims[0]: r, dims[1]: c, "count": counts[i][j]}
            for i, r in enumerate(rows)
            for j, c in enumerate(cols)
        ]
    )


# genre x answer and genre x age, sharing the genre margin; genre X has 7 people in all
ANSWERS = crossed(
    ("genre", "answer"), ["F", "M", "X"], ["1", "2", "3", "4"],
    [[30, 25, 20, 40], [40, 35, 22, 21], [2, 3, 1, 1]],
)  # fmt: skip
AGES = crossed(
    ("genre", "age"), ["F", "M", "X"], ["jeune", "moyen", "senior"],
    [[50, 35, 30], [34, 45, 39], [4, 2, 1]],
)  # fmt: skip


def key(**codes: str) -> Key:
    return frozenset(codes.items())


def counted_in(*frames: pd.DataFrame) -> Callable[[Key], float]:
    """A cell's true count: the sum over the first frame that has all its dimensions."""

    def truth(cell: Key) -> float:
        for frame in frames:
            if all(dim in frame.columns for dim, _ in cell):
                match = np.ones(len(frame), dtype=bool)
                for dim, code in cell:
                    match &= (frame[dim] == code).to_numpy()
                return float(frame.loc[match, "count"].sum())
        raise KeyError(cell)

    return truth


def views(protection: LinkedProtection, dims: Mapping[str, tuple[str, ...]]) -> list[Published]:
    return [Published(protection.frame(name), d, "count") for name, d in dims.items()]


def assert_safe(
    protection: LinkedProtection,
    tables: list[Published],
    truth: Callable[[Key], float],
    parents: Mapping[str, Mapping[str, str]] | None = None,
    known: Mapping[Key, tuple[float, float]] | None = None,
) -> None:
    """No hidden cell pinned; every small count has `MIN_COUNT` of room above its value."""
    found = attack(tables, parents or {}, known=known)
    assert found.intervals, "nothing hidden: the case tests nothing"
    assert found.pinned(tolerance=1e-6) == []
    for cell, (_, upper) in found.intervals.items():
        value = truth(cell)
        if 0 < value < MIN_COUNT:
            assert upper - value >= MIN_COUNT - 1e-6, (cell, value, upper)
    assert protection.audit_passed


def test_tables_protected_one_by_one_leak_through_their_shared_margin() -> None:
    """Each table alone passes its own audit, yet together they give genre X's total away."""
    answers = protect_count_frame(ANSWERS, ["genre", "answer"])
    ages = protect_count_frame(AGES, ["genre", "age"])
    assert answers.summary().audit_passed
    assert ages.summary().audit_passed
    frames = []
    for result, dims in ((answers, ("genre", "answer")), (ages, ("genre", "age"))):
        view = pd.concat([result.cells, result.margins]).astype(dict.fromkeys(dims, object))
        frames.append(Published(view.fillna(dict.fromkeys(dims, "Total")), dims, "count"))
    found = attack(frames, {})
    assert key(genre="X") in found.pinned(tolerance=1e-6)
    assert found.intervals[key(genre="X")] == (7, 7)


def test_linked_tables_protected_together_give_nothing_away() -> None:
    tables = {
        "answers": LinkedTable(ANSWERS, ("genre", "answer")),
        "ages": LinkedTable(AGES, ("genre", "age")),
    }
    protection = protect_linked(tables)
    frames = views(protection, {"answers": ("genre", "answer"), "ages": ("genre", "age")})
    assert_safe(protection, frames, counted_in(ANSWERS, AGES))
    for frame in (protection.frame("answers"), protection.frame("ages")):
        x_total = frame[(frame["genre"] == "X") & (frame.iloc[:, 1] == "Total")]
        assert x_total["suppressed"].tolist() == [True]  # one status in both tables
    summary = protection.summary()
    assert summary.recoverable == summary.unprotected == 0
    assert summary.worst_protection_ratio is not None
    assert summary.worst_protection_ratio >= 1


def test_frames_show_hidden_counts_as_missing_and_add_the_totals() -> None:
    protection = protect_linked({"answers": LinkedTable(ANSWERS, ("genre", "answer"))})
    frame = protection.frame("answers")
    assert len(frame) == len(ANSWERS) + 3 + 4 + 1  # the cells, then the totals added
    assert frame.iloc[: len(ANSWERS)][["genre", "answer"]].equals(ANSWERS[["genre", "answer"]])
    assert str(frame["count"].dtype) == "Int64"
    hidden = frame["suppressed"]
    assert frame.loc[hidden, "count"].isna().all()
    assert frame.loc[~hidden, "count"].notna().all()
    assert frame.loc[hidden, "suppression_reason"].notna().all()
    assert frame.loc[~hidden, "suppression_reason"].isna().all()
    x1 = frame[(frame["genre"] == "X") & (frame["answer"] == "1")]
    assert x1["suppression_reason"].tolist() == ["primary"]
    loss = protection.summary().tables[0]
    assert loss.cells == len(frame)
    assert loss.cells_suppressed["primary"] == (frame["suppression_reason"] == "primary").sum()
    # X's four cells (2, 3, 1, 1) and its total (7) are under 11
    assert loss.value_suppressed["primary"] == 2 + 3 + 1 + 1 + 7
    json.dumps(protection.summary().as_dict())


def test_a_count_the_record_file_gives_is_reported_exposed_not_protected() -> None:
    """Issue #12's consultation release: the record file gave gender X x answer 1 directly."""
    record_file = [KnownCell.exact({"genre": "X", "answer": "1"}, 2, "consultation.parquet")]
    protection = protect_linked(
        {"answers": LinkedTable(ANSWERS, ("genre", "answer"))}, known=record_file
    )
    summary = protection.summary()
    assert summary.exposed == ("genre=X x answer=1",)
    assert not summary.audit_passed
    assert summary.known_cells == 1
    assert summary.as_dict()["exposed"] == ["genre=X x answer=1"]


def test_known_counts_are_not_taken_as_cover() -> None:
    """Alone, 15 covers 3 (as in protect_counts' own test); the record file gives 15 away."""
    frame = pd.DataFrame({"canal": ["web", "app", "guichet", "courrier"], "count": [3, 20, 40, 15]})
    table = {"canal": LinkedTable(frame, ("canal",))}
    alone = protect_linked(table).frame("canal")
    assert alone["suppressed"].tolist() == [True, False, False, True, False]
    known = [KnownCell.exact({"canal": "courrier"}, 15, "record file")]
    protection = protect_linked(table, known=known)
    shown = protection.frame("canal")
    assert shown["suppressed"].tolist() == [True, True, False, False, False]
    assert_safe(
        protection,
        [Published(shown, ("canal",), "count")],
        counted_in(frame),
        known={key(canal="courrier"): (15.0, 15.0)},
    )


def test_an_earlier_release_and_the_new_records_form_one_system() -> None:
    """Cumulative counts: the new records between two releases are the difference of the two
    publications unless the second hides what the first one pins."""
    categories = ["voirie", "bruit", "proprete", "eclairage"]
    earlier = pd.DataFrame({"category": categories, "count": [40, 25, 31, 18]})
    new = pd.DataFrame({"category": categories, "count": [1, 14, 12, 16]})  # 1 new on voirie
    current = earlier.assign(count=earlier["count"] + new["count"])
    first = protect_linked({"reports": LinkedTable(earlier, ("category",))}).frame("reports")
    assert not first["suppressed"].any()
    first_view = Published(first, ("category",), "count", fixed={"RELEASE": "previous"})
    # what a reader knows of the relation: current = earlier + new, new unpublished
    relation = pd.DataFrame(
        [(c, r) for r in ("previous", "new") for c in [*categories, "Total"]],
        columns=["category", "RELEASE"],
    ).assign(count=np.nan)
    structure = Published(relation, ("category", "RELEASE"), "count")
    voirie_new = key(category="voirie", RELEASE="new")

    alone = protect_linked({"reports": LinkedTable(current, ("category",))}).frame("reports")
    leak = attack([first_view, Published(alone, ("category",), "count"), structure], {})
    assert leak.intervals[voirie_new] == (1, 1)

    history = pd.concat([earlier.assign(RELEASE="previous"), new.assign(RELEASE="new")])
    joint = protect_linked(
        {
            "reports": LinkedTable(current, ("category",)),
            "history": LinkedTable(history, ("category", "RELEASE"), published=False),
        },
        known=[
            KnownCell.exact({"category": c, "RELEASE": "previous"}, n, "release 1")
            for c, n in zip(first["category"], first["count"], strict=True)
        ],
    )
    second = joint.frame("reports")
    assert second.loc[second["category"] == "voirie", "suppressed"].all()
    found = attack([first_view, Published(second, ("category",), "count"), structure], {})
    # Pinned: only counts of new records that no rule protects (12 new on proprete is
    # today's published count minus the earlier one, and describes no one).
    new_counts = dict(zip(categories, new["count"], strict=True)) | {"Total": new["count"].sum()}
    for cell in found.pinned(tolerance=1e-6):
        codes = dict(cell)
        assert codes["RELEASE"] == "new", codes
        assert new_counts[codes.get("category", "Total")] >= MIN_COUNT, codes
    assert found.intervals[voirie_new][1] - 1 >= MIN_COUNT
    assert joint.audit_passed
    assert [t.name for t in joint.summary().tables] == ["reports"]  # history is not published


def test_hierarchical_count_tables_linked_through_their_subtotals() -> None:
    """Communes add up to départements; a département x month table shares those subtotals."""
    rng = np.random.default_rng(12)
    departement = {
        "Lyon": "69", "Bron": "69", "Vaulx": "69", "Bourg": "01", "Oyonnax": "01", "Vienne": "38",
    }  # fmt: skip
    records = pd.DataFrame(
        {
            "commune": rng.choice(list(departement), size=600, p=[0.4, 0.1, 0.15, 0.2, 0.05, 0.1]),
            "category": rng.choice(["voirie", "bruit", "proprete"], size=600, p=[0.6, 0.3, 0.1]),
            "month": rng.choice(["2026-09", "2026-10"], size=600),
        }
    )
    records["departement"] = records["commune"].map(departement)
    by_commune = records.groupby(["commune", "category"]).size().reset_index(name="count")
    by_month = records.groupby(["departement", "month"]).size().reset_index(name="count")
    protection = protect_linked(
        {
            "communes": LinkedTable(
                by_commune.rename(columns={"commune": "geo"}), ("geo", "category")
            ),
            "months": LinkedTable(
                by_month.rename(columns={"departement": "geo"}), ("geo", "month")
            ),
        },
        hierarchies={"geo": Hierarchy("geo", departement)},
    )
    assert protection.summary().cells_suppressed["primary"] > 0

    def truth(cell: Key) -> float:
        match = np.ones(len(records), dtype=bool)
        for dim, code in cell:
            column = (
                records[dim]
                if dim != "geo"
                else records["commune"].where(records["commune"] == code, records["departement"])
            )
            match &= (column == code).to_numpy()
        return float(match.sum())

    frames = views(protection, {"communes": ("geo", "category"), "months": ("geo", "month")})
    assert_safe(protection, frames, truth, parents={"geo": departement})


def test_rules_and_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one table"):
        protect_linked({})
    with pytest.raises(ValueError, match=r"hierarchies given for \['NUTS'\]"):
        protect_linked(
            {"answers": LinkedTable(ANSWERS, ("genre", "answer"))},
            hierarchies={"NUTS": Hierarchy.flat("NUTS", ["FR10"])},
        )
    strict = protect_linked(
        {"answers": LinkedTable(ANSWERS, ("genre", "answer"))}, DisclosureRule(min_count=3)
    )
    assert strict.summary().cells_suppressed["primary"] == 3  # X x 1 = 2, X x 3 = X x 4 = 1
