"""Hierarchies and linked tables as one additive system: shared cells, lines, checked figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from include.anonymization.cell_system import CellSystem, Hierarchy, KnownCell, LinkedTable

# A10 -> A21 -> A88, like INSEE's activity_corr_table (a repeated code is not broken down).
LEVELS = pd.DataFrame(
    [("AZ", "A", "01"), ("AZ", "A", "02"), ("AZ", "X", "X"), ("BE", "B", "06"), ("BE", "C", "10")],
    columns=["A10", "A21", "A88"],
)


def counts(rows: list[tuple[str, str, int]], dims: tuple[str, str]) -> LinkedTable:
    return LinkedTable(pd.DataFrame(rows, columns=[*dims, "n"]), dims, value="n")


def test_a_correspondence_table_gives_each_code_its_parent() -> None:
    activity = Hierarchy.from_levels("ACTIVITY", LEVELS)
    assert activity.parents["01"] == "A"
    assert activity.parents["A"] == "AZ"
    assert activity.parents["AZ"] == "Total"
    assert activity.parents["X"] == "AZ"  # "AZ, X, X": X is not its own parent
    assert activity.children["A"] == ("01", "02")
    assert activity.children["Total"] == ("AZ", "BE")
    assert activity.ancestors("10") == ["C", "BE", "Total"]
    assert activity.codes[0] == "Total"
    assert activity.codes.index("A") < activity.codes.index("01")


def test_a_table_keeps_the_codes_it_has_and_their_ancestors() -> None:
    activity = Hierarchy.from_levels("ACTIVITY", LEVELS)
    table = activity.restricted(["01", "02", "C", "Total"])
    assert set(table.codes) == {"Total", "AZ", "A", "01", "02", "BE", "C"}
    assert table.children["AZ"] == ("A",)  # X has no row: AZ = A
    assert activity.restricted(["10"]).parents == {"BE": "Total", "C": "BE", "10": "C"}


def test_a_subtotal_a_table_left_out_is_added_so_that_its_relation_holds() -> None:
    """Counts given only by commune still relate to a table by département."""
    geo = Hierarchy("geo", {"Lyon": "69", "Bron": "69", "Bourg": "01"})
    by_commune = counts([("Lyon", "a", 5), ("Bron", "a", 2), ("Bourg", "a", 9)], ("geo", "cat"))
    by_dept = counts([("69", "m1", 4), ("69", "m2", 3), ("01", "m1", 9)], ("geo", "month"))
    system = CellSystem.build({"c": by_commune, "d": by_dept}, {"geo": geo})
    shared = system.entry({"geo": "69"})
    assert shared in system.table_entries("c")
    assert shared in system.table_entries("d")
    assert system.values[shared] == 7


def test_hierarchies_refuse_what_cannot_add_up() -> None:
    clash = pd.DataFrame([("AZ", "A", "01"), ("BE", "A", "06")], columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"row 3: code 'A' is under 'BE' here but under 'AZ'"):
        Hierarchy.from_levels("ACTIVITY", clash)
    with pytest.raises(ValueError, match="cycle"):
        Hierarchy("D", {"a": "b", "b": "a"})
    with pytest.raises(ValueError, match="the total 'Total' has a parent"):
        Hierarchy("D", {"Total": "a"})
    assert Hierarchy("geo", {"Lyon": "69"}).parents == {"Lyon": "69", "69": "Total"}
    with pytest.raises(ValueError, match=r"codes \['99'\] missing from its hierarchy"):
        Hierarchy.from_levels("ACTIVITY", LEVELS).restricted(["01", "99"])


def test_linked_tables_share_the_cells_they_have_in_common() -> None:
    by_size = counts(
        [("a", "s1", 5), ("a", "s2", 7), ("b", "s1", 3), ("b", "s2", 9)], ("ACT", "SIZE")
    )
    by_form = counts(
        [("a", "f1", 10), ("a", "f2", 2), ("b", "f1", 12), ("b", "f2", 0)], ("ACT", "FORM")
    )
    system = CellSystem.build({"size": by_size, "form": by_form})
    # 3 x 3 + 3 x 3 entries, minus the ACT margin and the grand total (3 entries) shared
    assert system.size == 9 + 9 - 3
    assert system.dimensions == ("ACT", "SIZE", "FORM")
    shared = system.entry({"ACT": "a"})
    assert shared in system.table_entries("size")
    assert shared in system.table_entries("form")
    assert system.values[shared] == 12
    assert system.values[system.entry({})] == 24
    assert system.describe(system.entry({"ACT": "b", "FORM": "f2"})) == "ACT=b x FORM=f2"
    assert system.describe(system.entry({})) == "grand total"
    np.testing.assert_allclose(system.equations @ system.values, 0)
    assert system.is_count
    np.testing.assert_array_equal(system.records, system.values)
    # every line is "parts, then their total"; the ACT line at the total is shared, once
    assert len(system.lines) == len({tuple(line) for line in system.lines}) == 3 + 3 + 3 + 2


def test_hierarchical_tables_have_one_line_per_parent_and_column() -> None:
    activity = Hierarchy.from_levels("ACTIVITY", LEVELS)
    table = counts(
        [("01", "s1", 4), ("01", "s2", 1), ("02", "s1", 6), ("06", "s1", 3), ("10", "s2", 8)],
        ("ACTIVITY", "SIZE"),
    )
    system = CellSystem.build({"t": table}, {"ACTIVITY": activity})
    # codes: Total, AZ, A, 01, 02, BE, B, 06, C, 10 (X has no row); SIZE: Total, s1, s2
    assert system.size == 10 * 3
    assert system.values[system.entry({"ACTIVITY": "A", "SIZE": "s1"})] == 10
    assert system.values[system.entry({"ACTIVITY": "BE"})] == 11
    assert system.values[system.entry({})] == 22
    np.testing.assert_allclose(system.equations @ system.values, 0)
    # parents Total, AZ, A, BE, B, C: one line each per SIZE code; one SIZE line per code
    assert len(system.lines) == 6 * 3 + 10
    assert system.margin_mask[system.entry({"ACTIVITY": "A", "SIZE": "s1"})]
    assert not system.margin_mask[system.entry({"ACTIVITY": "01", "SIZE": "s1"})]


def test_given_totals_must_be_the_sums_of_their_cells() -> None:
    table = counts([("a", "s1", 5), ("a", "s2", 7), ("a", "Total", 13)], ("ACT", "SIZE"))
    with pytest.raises(ValueError, match=r"table 't': ACT=a is 13 but the cells below it add up"):
        CellSystem.build({"t": table})


def test_shared_cells_must_hold_the_same_figures() -> None:
    by_size = counts([("a", "s1", 5), ("a", "s2", 7), ("b", "s1", 5)], ("ACT", "SIZE"))
    by_form = counts([("a", "f1", 10), ("a", "f2", 3), ("b", "f1", 4)], ("ACT", "FORM"))
    with pytest.raises(ValueError, match=r"ACT=a is in tables 'size' and 'form' .* \(12.0"):
        CellSystem.build({"size": by_size, "form": by_form})


def test_magnitude_tables_must_give_their_totals() -> None:
    frame = pd.DataFrame(
        {"ACT": ["a", "b"], "TOT": [100.0, 50.0], "N": [3, 4], "MAX": [60.0, 20.0]}
    )
    table = LinkedTable(frame, ("ACT",), value="TOT", contributors="N", largest="MAX")
    with pytest.raises(ValueError, match="has no row for grand total"):
        CellSystem.build({"t": table})
    with_total = pd.concat(
        [frame, pd.DataFrame({"ACT": ["Total"], "TOT": [150.0], "N": [7], "MAX": [60.0]})]
    )
    system = CellSystem.build({"t": LinkedTable(with_total, ("ACT",), "TOT", "N", "MAX")})
    assert system.largest is not None
    assert system.largest[system.entry({})] == 60
    assert system.records[system.entry({})] == 7
    assert not system.is_count


def test_bad_tables_are_refused_with_the_reason() -> None:
    good = counts([("a", "s1", 5)], ("ACT", "SIZE"))
    magnitude = LinkedTable(
        pd.DataFrame({"ACT": ["a", "Total"], "TOT": [1.0, 1.0], "N": [1, 1]}),
        ("ACT",),
        value="TOT",
        contributors="N",
    )
    with pytest.raises(ValueError, match="mix counts and magnitudes"):
        CellSystem.build({"c": good, "m": magnitude})
    with pytest.raises(ValueError, match="appears twice"):
        CellSystem.build({"t": counts([("a", "s1", 5), ("a", "s1", 2)], ("ACT", "SIZE"))})
    with pytest.raises(ValueError, match=r"column 'n' must hold finite numbers >= 0"):
        CellSystem.build({"t": counts([("a", "s1", -1)], ("ACT", "SIZE"))})
    with pytest.raises(ValueError, match="counts, so must be whole"):
        CellSystem.build({"t": counts([("a", "s1", 1.5)], ("ACT", "SIZE"))})  # type: ignore[list-item]
    with pytest.raises(ValueError, match="missing"):
        CellSystem.build({"t": LinkedTable(good.frame, ("ACT", "AGE"), value="n")})
    with pytest.raises(ValueError, match="largest contribution above its total"):
        CellSystem.build(
            {
                "t": LinkedTable(
                    pd.DataFrame({"ACT": ["Total"], "TOT": [1.0], "N": [1], "MAX": [2.0]}),
                    ("ACT",),
                    "TOT",
                    "N",
                    "MAX",
                )
            }
        )


def test_known_cells_become_bounds_and_must_name_a_cell() -> None:
    system = CellSystem.build({"t": counts([("a", "s1", 5), ("b", "s1", 7)], ("ACT", "SIZE"))})
    bounds = system.known_bounds(
        [
            KnownCell.exact({"ACT": "a", "SIZE": "s1"}, 5, "record file"),
            KnownCell({"ACT": "b"}, lower=4, source="release 1"),
            KnownCell({"ACT": "b"}, lower=6, upper=9, source="release 2"),
        ]
    )
    a, b = system.entry({"ACT": "a", "SIZE": "s1"}), system.entry({"ACT": "b"})
    assert bounds.exact[a]
    assert (bounds.lower[b], bounds.upper[b]) == (6, 9)
    assert bounds.exact.sum() == 1
    with pytest.raises(ValueError, match="is in none of the tables"):
        system.known_bounds([KnownCell.exact({"ACT": "c"}, 1)])
    with pytest.raises(ValueError, match=r"names dimensions \['AGE'\]"):
        system.known_bounds([KnownCell.exact({"AGE": "c"}, 1)])
    with pytest.raises(ValueError, match="contradict each other"):
        system.known_bounds([KnownCell.exact({"ACT": "b"}, 7), KnownCell.exact({"ACT": "b"}, 8)])
