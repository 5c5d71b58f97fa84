"""Benchmark of linked-table suppression on INSEE's turnover tables, beside τ-ARGUS's figures.

Run: ``python bench/bench_linked_suppression.py [--json]``. Prints figures; never passes or
fails. Needs the public reference data beside the project (`../shared/reference/rtauargus/`,
see its README); without it, says so and exits 0.

Cases, all under the rules of rtauargus's vignettes (frequency: fewer than 3 companies;
dominance: the largest above 85 % of the turnover; 10 % protection interval), with the
project's engine (`include.anonymization.linked_suppression.protect_linked`):

- the worked example (12 cells): τ-ARGUS hides 2 secondary cells;
- act_size alone: τ-ARGUS's optimal method hides 64;
- each table alone, then the four tables protected together: τ-ARGUS's modular method,
  linked through rtauargus's `tab_multi_manager`, hides 83, 88, 82 and 101;
- the four tables together without the pruning pass (`prune=False`);
- act_size alone and the four tables under τ-ARGUS's criterion (`audit_complements=False`).

The criteria differ, so the cell counts compare answers to close questions. The project
requires every hidden cell, secondary ones included, to be not derivable (issue #12: 0
recoverable cells); τ-ARGUS only protects the primary cells, a secondary cell may be
computable. That difference alone accounts for the gap: under τ-ARGUS's criterion this
engine hides about as many cells as τ-ARGUS. Other differences: τ-ARGUS protects each
primary cell by 10 % of its value on both sides, and rtauargus gives it no cost variable
(τ-ARGUS's default cost applies); this engine asks for room above only, up to where the
largest company would no longer dominate (up to 17.6 % of the value), and minimizes the
turnover hidden. Hence the hidden turnover is printed too; τ-ARGUS's is not published.

Each case is audited by the engine's own LP over all tables at once (every hidden cell's
interval from everything published); `audit` says whether it found 0 cells recoverable or
short of their protection (primary cells only, under τ-ARGUS's criterion).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any

from include.anonymization.cell_suppression import DisclosureRule
from include.anonymization.linked_suppression import LinkedProtection, protect_linked
from include.anonymization.reference_tables import (
    ReferenceTablesMissingError,
    read_hierarchies,
    read_linked_tables,
    read_worked_example,
)

RULE = DisclosureRule(min_count=3, dominance_share=0.85, relative_protection=0.1)
TAU_ARGUS_LINKED = {"act_size": 83, "act_cj": 88, "nuts_size": 82, "nuts_cj": 101}
TAU_ARGUS_ALONE = {"act_size": 64, "example": 2}  # optimal method; the worked example


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def figures(case: str, protection: LinkedProtection, seconds: float, tau: dict[str, int]) -> list:
    """One row per table of the case."""
    summary = protection.summary()
    rows = []
    for table in summary.tables:
        hidden = table.cells_suppressed
        value = table.value_suppressed
        rows.append(
            {
                "case": case,
                "table": table.name,
                "cells": table.cells,
                "A": hidden["primary"],
                "B": hidden["dominance"],
                "D": hidden["complementary"],
                "D_tau_argus": tau.get(table.name),
                "D_value_m": value["complementary"] / 1e6,
                "hidden_value_pct": 100 * sum(value.values()) / table.value,
                "seconds": seconds,
                "audit": "0 found" if summary.audit_passed else "FAILED",
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    hierarchies = read_hierarchies()
    tables = read_linked_tables()
    results: list[dict[str, Any]] = []

    def timed(case: str, tau: dict[str, int], **kwargs: Any) -> None:
        started = time.perf_counter()
        protection = protect_linked(rule=RULE, **kwargs)
        results.extend(figures(case, protection, time.perf_counter() - started, tau))

    example, _ = read_worked_example()
    timed("worked example", TAU_ARGUS_ALONE, tables={"example": example})
    for name, table in tables.items():
        used = {d: h for d, h in hierarchies.items() if d in table.dimensions}
        timed("alone", TAU_ARGUS_ALONE, tables={name: table}, hierarchies=used)
    timed("4 linked", TAU_ARGUS_LINKED, tables=tables, hierarchies=hierarchies)
    timed(
        "4 linked, no pruning",
        TAU_ARGUS_LINKED,
        tables=tables,
        hierarchies=hierarchies,
        prune=False,
    )
    only, activity = {"act_size": tables["act_size"]}, {"ACTIVITY": hierarchies["ACTIVITY"]}
    timed(
        "τ-ARGUS's criterion",
        TAU_ARGUS_ALONE,
        tables=only,
        hierarchies=activity,
        audit_complements=False,
    )
    timed(
        "4 linked, τ criterion",
        TAU_ARGUS_LINKED,
        tables=tables,
        hierarchies=hierarchies,
        audit_complements=False,
    )
    return results


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'case':<21} {'table':<10} {'cells':>5} {'A':>4} {'B':>4} {'D':>4} {'τ-ARGUS D':>9} "
        f"{'D value M':>10} {'hidden %':>8} {'seconds':>8}  audit"
    )
    print(header)
    print("-" * len(header))
    for row in results:
        tau = "" if row["D_tau_argus"] is None else row["D_tau_argus"]
        print(
            f"{row['case']:<21} {row['table']:<10} {row['cells']:>5} {row['A']:>4} {row['B']:>4} "
            f"{row['D']:>4} {tau:>9} {row['D_value_m']:>10.1f} {row['hidden_value_pct']:>8.1f} "
            f"{row['seconds']:>8.1f}  {row['audit']}"
        )
    print()
    for case in ("4 linked", "4 linked, τ criterion"):
        linked = [r for r in results if r["case"] == case]
        print(
            f"{case}: {sum(r['D'] for r in linked)} secondary cells over the four tables "
            f"(τ-ARGUS {sum(TAU_ARGUS_LINKED.values())})"
        )
    print(f"peak RSS {_peak_rss_mib():.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    try:
        results = run()
    except ReferenceTablesMissingError as missing:
        print(f"skipped: {missing}")
        return 0
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
