"""Primary and complementary cell suppression of count and magnitude tables, and the pandas view."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from include.anonymization import cell_suppression
from include.anonymization.cell_suppression import (
    DisclosureRule,
    MagnitudeTable,
    Reason,
    audit_suppression,
    protect_count_frame,
    protect_counts,
    protect_magnitudes,
)
from include.core.source_config import SOURCES_DIR, load_source_config

P, D, C = Reason.PRIMARY, Reason.DOMINANCE, Reason.COMPLEMENTARY


def hidden_cells(table: cell_suppression.ProtectedTable) -> set[tuple[int, ...]]:
    """Hidden interior cells (margins excluded)."""
    interior = table.suppressed[tuple(slice(0, n) for n in table.layout.shape)]
    return {tuple(int(i) for i in p) for p in np.argwhere(interior)}


# --- count tables ------------------------------------------------------------------------


def test_1d_one_small_cell_hides_the_cheapest_partner_that_can_cover_it() -> None:
    protected = protect_counts([3, 20, 40, 15])
    # 15 is the smallest cell able to absorb 11 more in cell 0 (the total stays published).
    assert protected.reasons.tolist() == [P, None, None, C, None]
    np.testing.assert_array_equal(protected.published, [np.nan, 20, 40, np.nan, 78])
    assert [(iv.lower, iv.upper) for iv in protected.intervals] == [(0, 18), (0, 18)]
    assert protected.audit_passed


def test_1d_partner_too_small_to_cover_means_more_cells_or_the_total() -> None:
    protected = protect_counts([3, 5, 9, 40])
    # 5 + 9 cannot give cell 0 eleven more; 40 alone can, and costs less than 5 + 9 + total.
    assert protected.reasons.tolist() == [P, P, P, C, None]
    assert protected.audit_passed


def test_2d_one_small_cell_hides_a_rectangle() -> None:
    table = np.array([[3, 20, 40], [30, 25, 18], [22, 14, 50]])
    protected = protect_counts(table)
    cells = hidden_cells(protected)
    rows, cols = {r for r, _ in cells}, {c for _, c in cells}
    assert len(cells) >= 4
    assert cells == {(r, c) for r in rows for c in cols}  # a rectangle (or a union of them)
    assert (0, 0) in cells
    assert protected.reasons[0, 0] is P
    assert not protected.suppressed[:, -1].any()  # margins all published
    assert not protected.suppressed[-1, :].any()
    assert protected.audit_passed


def test_2d_every_line_with_a_hidden_cell_has_at_least_two() -> None:
    rng = np.random.default_rng(7)
    table = rng.integers(0, 60, size=(12, 6))
    protected = protect_counts(table)
    hidden = protected.suppressed
    for line in [*hidden, *hidden.T]:
        assert line.sum() != 1
    assert protected.audit_passed


def test_margins_under_the_threshold_are_hidden_as_primary() -> None:
    one_d = protect_counts([4, 5])
    assert one_d.reasons.tolist() == [P, P, P]  # total 9 < 11
    assert one_d.audit_passed

    table = np.array([[2, 3, 1], [30, 40, 50], [25, 35, 45]])
    protected = protect_counts(table)
    assert protected.reasons[0, 3] is P  # row total 6
    assert np.isnan(protected.published[0, 3])
    assert protected.summary().margins_suppressed["primary"] == 1
    assert protected.audit_passed
    for interval in protected.intervals:
        assert interval.upper - interval.value >= interval.required


def test_a_table_entirely_below_the_threshold_is_hidden_entirely() -> None:
    protected = protect_counts(np.array([[1, 2], [3, 1]]))
    assert protected.suppressed.all()
    summary = protected.summary()
    assert summary.worst_interval_width == np.inf
    assert summary.as_dict()["worst_interval_width"] is None  # JSON has no infinity


def test_zeros_are_published_and_never_used_as_complements() -> None:
    assert not protect_counts([0, 20, 30]).suppressed.any()

    protected = protect_counts([3, 0, 40, 15])
    assert protected.reasons.tolist() == [P, None, None, C, None]
    assert protected.published[1] == 0

    table = np.array([[3, 0, 40], [0, 25, 18], [22, 14, 50]])
    protected = protect_counts(table)
    assert not protected.suppressed[:3, :3][table == 0].any()
    assert protected.audit_passed


def test_summary_counts_reasons_records_and_the_audit() -> None:
    table = np.array([[3, 20, 40], [30, 25, 18], [22, 14, 50]])
    protected = protect_counts(table)
    summary = protected.summary()
    hidden = protected.suppressed[:3, :3]
    assert summary.shape == (3, 3)
    assert summary.cells == 9
    assert summary.cells_suppressed == {"primary": 1, "dominance": 0, "complementary": 3}
    assert summary.margins_suppressed == {"primary": 0, "dominance": 0, "complementary": 0}
    assert summary.records == table.sum()
    assert summary.records_in_suppressed_cells == table[hidden].sum()
    assert summary.audit_passed
    assert summary.recoverable == summary.unprotected == 0
    widths = [iv.upper - iv.lower for iv in protected.intervals]
    assert summary.worst_interval_width == min(widths)
    assert summary.worst_protection_ratio is not None
    assert summary.worst_protection_ratio >= 1
    json.dumps(summary.as_dict())


def test_protection_width_is_configurable() -> None:
    wide = protect_counts([3, 20, 40, 15], DisclosureRule(protection=30))
    # 20 + 15 can absorb 30 and hide fewer records than 40
    assert wide.reasons.tolist() == [P, C, None, C, None]
    assert wide.intervals[0].upper == 3 + 35


def test_standalone_audit_agrees_with_the_one_recorded() -> None:
    rng = np.random.default_rng(11)
    table = rng.integers(0, 40, size=(6, 5))
    protected = protect_counts(table)
    again = audit_suppression(table, protected.suppressed)
    assert [iv.label for iv in again] == [iv.label for iv in protected.intervals]
    assert [(iv.lower, iv.upper) for iv in again] == [
        (pytest.approx(iv.lower), pytest.approx(iv.upper)) for iv in protected.intervals
    ]


def test_the_audit_repairs_what_the_selection_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    """If complementary selection found nothing, the audit loop must still end safe."""
    monkeypatch.setattr(
        cell_suppression, "_cheapest_cover", lambda problem, *_: np.zeros_like(problem.values)
    )
    table = np.array([[3, 20, 40], [30, 25, 18], [22, 14, 50]])
    protected = protect_counts(table)
    assert protected.audit_passed
    assert protected.reasons[0, 0] is P
    # the whole row and column of the failing cell were hidden
    assert protected.suppressed[0, :].all()
    assert protected.suppressed[:, 0].all()


def test_count_tables_reject_what_they_cannot_protect() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        protect_counts([1.5, 20])
    with pytest.raises(ValueError, match=">= 0"):
        protect_counts([-1, 20])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        protect_counts(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        protect_counts([])


def test_rule_validation_and_source_configuration() -> None:
    with pytest.raises(ValueError, match="min_count"):
        DisclosureRule(min_count=0)
    with pytest.raises(ValueError, match="dominance_share"):
        DisclosureRule(dominance_share=1.2)
    consultation = load_source_config(SOURCES_DIR / "consultation.yaml")
    assert DisclosureRule.from_source(consultation).min_count == consultation.min_cell_count
    assert DisclosureRule().count_protection == 11
    assert DisclosureRule(min_count=5).count_protection == 5


# --- magnitude tables --------------------------------------------------------------------


def magnitude_2d() -> MagnitudeTable:
    """Turnover (k€) by activity x commune; one row per contribution."""
    cells = [
        (0, 0), (0, 0), (0, 0),  # balanced: 40, 35, 30
        (0, 1), (0, 1), (0, 1),  # dominated: 95 of 105
        (1, 0), (1, 0), (1, 0), (1, 0),  # balanced
        (1, 1), (1, 1), (1, 1), (1, 1),  # two establishments of "a": 50 + 40 of 105
        (2, 0), (2, 0),  # two contributors only
        (2, 1), (2, 1), (2, 1),  # balanced
    ]  # fmt: skip
    amounts = [40, 35, 30, 95, 5, 5, 30, 30, 20, 25, 50, 40, 10, 5, 60, 50, 45, 50, 55]
    who = list("bcdefghijkaalrmnopq")
    return MagnitudeTable.from_contributions((3, 2), cells, amounts, who)


def test_contributions_are_summed_per_contributor_for_cells_and_margins() -> None:
    table = magnitude_2d()
    totals = table.totals.reshape(4, 3)
    assert totals[:3, :2].tolist() == [[105, 105], [105, 105], [110, 150]]
    assert totals[3, 2] == sum(totals[:3, :2].ravel())
    assert table.contributors.reshape(4, 3)[1, 1] == 3  # "a" counted once
    assert table.largest.reshape(4, 3)[1, 1] == 90
    assert table.contributors.reshape(4, 3)[3, 2] == 18


def test_dominance_and_frequency_rules_on_a_magnitude_table() -> None:
    protected = protect_magnitudes(magnitude_2d(), DisclosureRule(min_count=3))
    reasons = protected.reasons
    assert reasons[0, 1] is D  # 95 / 105
    assert reasons[1, 1] is D  # 90 / 105 once "a"'s two establishments are added up
    assert reasons[2, 0] is P  # two contributors < 3
    assert reasons[0, 0] is None or reasons[0, 0] is C
    assert protected.audit_passed
    needs = {iv.position: iv.required for iv in protected.intervals}
    # the upper estimate must reach the total at which 95 is no longer > 85 %
    assert needs[(0, 1)] == pytest.approx(max(0.3 * 105, 95 / 0.85 - 105))
    assert needs[(2, 0)] == pytest.approx(0.3 * 110)


def test_without_contributor_ids_split_establishments_escape_dominance() -> None:
    cells = [(0,), (0,), (0,), (1,), (1,), (1,)]
    amounts = [50, 40, 10, 30, 30, 40]
    assert protect_magnitudes(
        MagnitudeTable.from_contributions((2,), cells, amounts), DisclosureRule(min_count=3)
    ).reasons.tolist() == [None, None, None]
    merged = protect_magnitudes(
        MagnitudeTable.from_contributions((2,), cells, amounts, ["a", "a", "b", "c", "d", "e"]),
        DisclosureRule(min_count=2),
    )
    assert merged.reasons[0] is D


def test_contributions_are_validated() -> None:
    with pytest.raises(ValueError, match="outside a table"):
        MagnitudeTable.from_contributions((2, 2), [(0, 2)], [10])
    with pytest.raises(ValueError, match="one amount per contribution"):
        MagnitudeTable.from_contributions((2,), [0, 1], [10])
    with pytest.raises(ValueError, match=">= 0"):
        MagnitudeTable.from_contributions((2,), [0, 1], [10, -1])


# --- pandas adapter ----------------------------------------------------------------------


def reports_frame() -> pd.DataFrame:
    """Signalements by category and month, as the aggregate SQL produces them (no zero rows)."""
    rows = [
        ("voirie", "2026-09", 48), ("voirie", "2026-10", 52), ("voirie", "2026-11", 61),
        ("proprete", "2026-09", 3), ("proprete", "2026-10", 29), ("proprete", "2026-11", 35),
        ("eclairage", "2026-09", 21), ("eclairage", "2026-10", 18), ("eclairage", "2026-11", 25),
        ("bruit", "2026-10", 14), ("bruit", "2026-11", 16),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["category", "month", "count"])


def test_frame_keeps_rows_and_hides_counts_as_missing_never_zero() -> None:
    frame = reports_frame()
    result = protect_count_frame(frame, ["category", "month"])
    cells = result.cells
    assert list(cells.index) == list(frame.index)
    assert cells[["category", "month"]].equals(frame[["category", "month"]])
    assert str(cells["count"].dtype) == "Int64"
    hidden = cells["suppressed"]
    assert cells.loc[hidden, "count"].isna().all()
    assert (cells.loc[~hidden, "count"] == frame.loc[~hidden, "count"]).all()
    small = (frame["category"] == "proprete") & (frame["month"] == "2026-09")
    assert cells.loc[small, "suppression_reason"].tolist() == ["primary"]
    assert set(cells.loc[hidden & ~small, "suppression_reason"]) == {"complementary"}
    assert cells.loc[~hidden, "suppression_reason"].isna().all()
    assert hidden.sum() >= 4
    assert result.summary().audit_passed


def test_frame_margins_have_the_summed_dimension_missing() -> None:
    result = protect_count_frame(reports_frame(), ["category", "month"])
    margins = result.margins
    assert len(margins) == 4 + 3 + 1
    grand = margins[margins["category"].isna() & margins["month"].isna()]
    assert grand["count"].tolist() == [reports_frame()["count"].sum()]
    voirie = margins[(margins["category"] == "voirie") & margins["month"].isna()]
    assert voirie["count"].tolist() == [161]
    bruit_sept = result.table.values[3, 0]  # a missing combination is a published zero
    assert bruit_sept == 0
    assert not result.table.suppressed[3, 0]


def test_frame_1d_and_declared_categories() -> None:
    frame = pd.DataFrame({"canal": ["web", "application", "guichet"], "n": [120, 45, 4]})
    result = protect_count_frame(
        frame,
        ["canal"],
        count="n",
        categories={"canal": ["web", "application", "telephone", "guichet"]},
    )
    assert result.table.layout.shape == (4,)
    assert result.cells["suppression_reason"].tolist()[2] == "primary"
    assert result.cells["suppressed"].sum() == 2
    assert result.margins["n"].tolist() == [169]
    assert result.margins["canal"].isna().all()


def test_frame_with_integer_dimension_gets_nullable_margins() -> None:
    frame = pd.DataFrame(
        {
            "note": [1, 2, 3, 4, 5] * 2,
            "genre": ["F"] * 5 + ["M"] * 5,
            "count": [30, 25, 40, 35, 20, 28, 2, 33, 41, 26],
        }
    )
    margins = protect_count_frame(frame, ["note", "genre"]).margins
    assert str(margins["note"].dtype) == "Int64"
    assert margins["note"].isna().sum() == 3  # two column totals and the grand total


def test_frame_input_errors_say_what_to_fix() -> None:
    frame = reports_frame()
    with pytest.raises(ValueError, match="appears twice"):
        protect_count_frame(pd.concat([frame, frame.head(1)]), ["category", "month"])
    with pytest.raises(ValueError, match="missing"):
        protect_count_frame(frame, ["category", "commune"])
    with pytest.raises(ValueError, match="declared"):
        protect_count_frame(frame, ["category", "month"], categories={"category": ["voirie"]})
    with_gaps = frame["count"].astype("Int64").where(frame["count"] > 20)
    with pytest.raises(ValueError, match="missing counts"):
        protect_count_frame(frame.assign(count=with_gaps), ["category", "month"])
    unlabelled = frame["month"].where(frame["count"] > 20)
    with pytest.raises(ValueError, match="missing values"):
        protect_count_frame(frame.assign(month=unlabelled), ["category", "month"])
