"""INSEE's linked business tables (rtauargus 1.3.5) under the project's rules, against τ-ARGUS.

Facts from `../shared/reference/README.md` (rtauargus's vignettes, τ-ARGUS 4.2.3): primary
cells by frequency (0 < N_OBS < 3, "A") and by dominance (MAX > 85 % of TOT, "B"); the
secondary cells ("D") τ-ARGUS chose protecting the four tables together (modular method,
a 10 % interval on both sides) and act_size alone (optimal method); the worked example's
statuses. τ-ARGUS's secondary counts are a reference, not a target: its criterion differs
(see `bench/bench_linked_suppression.py`, which prints both side by side).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from include.anonymization.cell_suppression import DisclosureRule, primary_suppression
from include.anonymization.cell_system import CellSystem
from include.anonymization.linked_suppression import LinkedProtection, protect_linked
from include.anonymization.reference_tables import (
    HIERARCHY_FILES,
    LINKED_TABLES,
    RTAUARGUS_DIR,
    WORKED_EXAMPLE,
    ReferenceTablesMissingError,
    read_hierarchies,
    read_linked_tables,
    read_worked_example,
)
from tests.unit.anonymization.linked_attack import Published, attack, parents_from_levels

_FILES = [f for f, _ in LINKED_TABLES.values()] + [*HIERARCHY_FILES.values(), WORKED_EXAMPLE]
needs_reference = pytest.mark.skipif(
    not all((RTAUARGUS_DIR / f).is_file() for f in _FILES),
    reason=f"rtauargus reference tables absent: {RTAUARGUS_DIR} (../shared/reference)",
)
# the vignettes' rules: FREQ(3) | NK(1, 85), a 10 % protection interval (MAN(10))
RULE = DisclosureRule(min_count=3, dominance_share=0.85, relative_protection=0.1)
PRIMARY = {"act_size": (52, 25), "act_cj": (35, 25), "nuts_size": (55, 17), "nuts_cj": (45, 20)}
STATUS = {"primary": "A", "dominance": "B", "complementary": "D"}


@pytest.fixture(scope="module")
def joint() -> LinkedProtection:
    """The four tables protected together, as in rtauargus's linked-tables vignette."""
    return protect_linked(read_linked_tables(), RULE, hierarchies=read_hierarchies())


def the_attack(protection: LinkedProtection, names: list[str]) -> dict:
    """What a reader derives from the published tables and the correspondence tables."""
    parents = {
        dim: parents_from_levels(pd.read_csv(RTAUARGUS_DIR / file, dtype=str))
        for dim, file in HIERARCHY_FILES.items()
    }
    frames = [Published(protection.frame(n), LINKED_TABLES[n][1], "TOT") for n in names]
    return attack(frames, parents).intervals


def assert_no_cell_narrowed(
    protection: LinkedProtection, names: list[str], *, primary_only: bool = False
) -> None:
    """No hidden cell pinned (with `primary_only`, no primary one); each primary cell can be
    at least its protection higher: 10 % of its turnover, or as much as its largest company
    needs to fall under 85 %."""
    intervals = the_attack(protection, names)
    assert intervals
    truth: dict[frozenset, tuple[float, float]] = {}
    for name in names:
        table = read_linked_tables((name,))[name]
        for row in table.frame.itertuples(index=False):
            record = row._asdict()
            cell = frozenset((d, record[d]) for d in table.dimensions if record[d] != "Total")
            small = 0 < record["N_OBS"] < 3 or record["MAX"] > 0.85 * record["TOT"] > 0
            needed = max(0.1 * record["TOT"], record["MAX"] / 0.85 - record["TOT"])
            truth[cell] = (record["TOT"], needed if small else 0.0)
    tolerance = 1e-4  # euros; the LPs meet their equations to 3e-8 on these amounts
    primary = 0
    for cell, (lower, upper) in intervals.items():
        value, needed = truth[cell]
        if primary_only and not needed:
            continue
        primary += bool(needed)
        assert upper - lower > tolerance, f"{sorted(cell)} pinned at {value}"
        assert upper - value >= needed - tolerance, f"{sorted(cell)}: {upper} < {value} + {needed}"
    assert primary, "no primary cell was attacked"


@needs_reference
@pytest.mark.parametrize("name", list(LINKED_TABLES))
def test_primary_cells_are_the_ones_insee_published(name: str) -> None:
    tables = read_linked_tables((name,))
    hierarchies = {d: h for d, h in read_hierarchies().items() if d in tables[name].dimensions}
    system = CellSystem.build(tables, hierarchies)
    reasons, required = primary_suppression(system.values, system.records, system.largest, RULE)
    rows = reasons[system.row_entries(name)]
    assert (int((rows == "primary").sum()), int((rows == "dominance").sum())) == PRIMARY[name]
    assert np.all(required[np.not_equal(reasons, None)] >= 0)


@needs_reference
def test_the_worked_example_gets_tau_argus_s_statuses_cell_by_cell() -> None:
    table, tau_argus = read_worked_example()
    protection = protect_linked({"example": table}, RULE)
    statuses = protection.frame("example")["suppression_reason"].map(STATUS).fillna("V")
    assert statuses.tolist() == tau_argus.tolist()  # 1 A, 1 B, 2 D (02 x tr2, 06 x tr1)
    assert protection.audit_passed


@needs_reference
def test_act_size_alone() -> None:
    """τ-ARGUS's optimal method hides 64 secondary cells (10 % on both sides); the optimum of
    this project's criterion (upward protection, least value hidden), solved exactly as a
    MILP for the record, is 73 cells; the heuristic stays close."""
    tables = read_linked_tables(("act_size",))
    protection = protect_linked(
        tables, RULE, hierarchies={"ACTIVITY": read_hierarchies()["ACTIVITY"]}
    )
    loss = protection.summary().tables[0]
    assert (loss.cells_suppressed["primary"], loss.cells_suppressed["dominance"]) == (52, 25)
    assert loss.cells_suppressed["complementary"] <= 90  # measured: 85
    assert loss.value_suppressed["complementary"] <= 1.1 * 49.62e6  # the optimum: 49.62 M
    assert protection.audit_passed
    assert_no_cell_narrowed(protection, ["act_size"])


@needs_reference
@pytest.mark.slow
def test_four_linked_tables_protected_together(joint: LinkedProtection) -> None:
    summary = joint.summary()
    assert summary.audit_passed
    assert summary.recoverable == summary.unprotected == 0
    by_table = {t.name: t for t in summary.tables}
    for name, (frequency, dominance) in PRIMARY.items():
        hidden = by_table[name].cells_suppressed
        assert (hidden["primary"], hidden["dominance"]) == (frequency, dominance)
    # τ-ARGUS 4.2.3: 83, 88, 82, 101; measured here: 95, 154, 91, 108 (act_cj needs 147
    # even in the best solution a MILP found in 5 minutes for act_cj alone)
    secondary = {name: t.cells_suppressed["complementary"] for name, t in by_table.items()}
    assert secondary["act_size"] <= 100
    assert secondary["act_cj"] <= 162
    assert secondary["nuts_size"] <= 96
    assert secondary["nuts_cj"] <= 114
    # one status per cell: a cell the tables share is hidden in all of them or in none
    shared = joint.system.entry({"ACTIVITY": "C"})
    assert shared in joint.system.row_entries("act_size")
    assert shared in joint.system.row_entries("act_cj")


@needs_reference
@pytest.mark.slow
def test_the_attack_on_all_four_published_tables_finds_nothing(joint: LinkedProtection) -> None:
    assert_no_cell_narrowed(joint, list(LINKED_TABLES))


@needs_reference
@pytest.mark.slow
def test_under_tau_argus_s_criterion_the_counts_are_tau_argus_s() -> None:
    """Only primary cells protected, a secondary cell may be derivable: τ-ARGUS's question.
    τ-ARGUS: 83, 88, 82, 101 (354); measured here: 81, 89, 87, 97 (354)."""
    protection = protect_linked(
        read_linked_tables(), RULE, hierarchies=read_hierarchies(), audit_complements=False
    )
    summary = protection.summary()
    assert summary.audit_passed
    assert not summary.complements_audited
    secondary = [t.cells_suppressed["complementary"] for t in summary.tables]
    assert sum(secondary) <= 1.05 * (83 + 88 + 82 + 101)
    assert_no_cell_narrowed(protection, list(LINKED_TABLES), primary_only=True)


def test_absent_or_malformed_reference_data_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ReferenceTablesMissingError, match=r"turnover_act_size\.csv is absent"):
        read_linked_tables(("act_size",), directory=tmp_path)
    (tmp_path / "turnover_act_size.csv").write_text("ACTIVITY,N_OBS,TOT,MAX\n01,1,2.0,2.0\n")
    with pytest.raises(ValueError, match=r"columns \['SIZE'\] are missing"):
        read_linked_tables(("act_size",), directory=tmp_path)
    with pytest.raises(ValueError, match="unknown tables"):
        read_linked_tables(("act_nuts",), directory=tmp_path)
