"""Benchmark of the optimal k-anonymity search on the issue's synthetic table.

Run: ``python bench/bench_kanonymity.py [--rows 100000 1000000] [--no-pycanon]``.
Prints a table of figures; it never passes or fails.

The table (seeded, so every run sees the same data):

- age: uniform 0–99, hierarchy exact → 5-year → 10-year → 20-year bands → "*";
- gender: M / F / X with 48 / 48 / 4 %, exact → "*";
- postcode: 300 French-style postcodes spread over the 96 metropolitan
  départements, → département → the 13 metropolitan régions → "*";
- occupation: 8 values → 3 groups → "*";
- month: 24 months (2025-01 to 2026-12, each as its first day) → quarter →
  year → "*" (the month is the collected value, so the lattice has the
  5 × 2 × 4 × 3 × 4 = 480 nodes of the issue's reference run);
- opinion: 5 values, uniform, the sensitive field.

Criteria: k = 5 with a 5 % record-suppression cap, without and with distinct
l = 2 on the opinion. Each case runs in a fresh subprocess so that its peak
resident memory (ru_maxrss, which includes generating the table) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from include.anonymization.kanonymity import (
    apply_generalization,
    build_search_inputs,
    find_optimal_generalization,
)
from include.core.geo_fr import DEPARTEMENTS
from include.core.source_config import SourceConfig

SEED = 20261125
OCCUPATION_GROUPS = {
    "agriculteur": "independants",
    "artisan_commercant": "independants",
    "cadre": "salaries",
    "profession_intermediaire": "salaries",
    "employe": "salaries",
    "ouvrier": "salaries",
    "retraite": "inactifs",
    "sans_emploi": "inactifs",
}
OPINIONS = ["tres_favorable", "favorable", "neutre", "defavorable", "tres_defavorable"]
QUASI_IDENTIFIERS = ["age", "gender", "postcode", "occupation", "month"]


def benchmark_config(l_diversity: int) -> SourceConfig:
    """The source config of the synthetic table, with k = 5, a 5 % cap and the given l."""
    return SourceConfig.model_validate(
        {
            "name": "bench",
            "title": "Synthetic benchmark table",
            "description": "Seeded synthetic records for timing the k-anonymity search.",
            "id_field": "record_id",
            "retention_days": 1,
            "k": 5,
            "l": l_diversity,
            "l_kind": "distinct",
            "max_suppression": 0.05,
            "fields": [
                {"name": "record_id", "type": "integer", "role": "other"},
                {
                    "name": "age",
                    "type": "integer",
                    "role": "quasi_identifier",
                    "hierarchy": {"kind": "numeric_bands", "widths": [5, 10, 20]},
                },
                {
                    "name": "gender",
                    "type": "category",
                    "role": "quasi_identifier",
                    "allowed": ["M", "F", "X"],
                    "hierarchy": {"kind": "suppress"},
                },
                {
                    "name": "postcode",
                    "type": "string",
                    "role": "quasi_identifier",
                    "hierarchy": {"kind": "postcode_fr"},
                },
                {
                    "name": "occupation",
                    "type": "category",
                    "role": "quasi_identifier",
                    "allowed": list(OCCUPATION_GROUPS),
                    "hierarchy": {"kind": "grouping", "levels": [OCCUPATION_GROUPS]},
                },
                {
                    "name": "month",
                    "type": "date",
                    "role": "quasi_identifier",
                    "hierarchy": {"kind": "date", "levels": ["quarter", "year"]},
                },
                {
                    "name": "opinion",
                    "type": "category",
                    "role": "sensitive",
                    "allowed": OPINIONS,
                },
            ],
        }
    )


def synthetic_postcodes(count: int = 300) -> list[str]:
    """`count` distinct postcodes cycling over the 96 metropolitan départements."""
    metropolitan = [d.code for d in DEPARTEMENTS.values() if not d.region.overseas]
    postcodes = []
    for index in range(count):
        code, rank = metropolitan[index % len(metropolitan)], index // len(metropolitan)
        if code == "2A":
            postcodes.append(f"{20000 + 40 * rank:05d}")
        elif code == "2B":
            postcodes.append(f"{20200 + 100 * rank:05d}")
        else:
            postcodes.append(f"{code}{100 * rank + 10:03d}")
    return postcodes


def synthetic_table(rows: int, seed: int = SEED) -> pd.DataFrame:
    """The benchmark table: the same rows for the same (rows, seed)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2025-01-01", periods=24, freq="MS")
    return pd.DataFrame(
        {
            "record_id": np.arange(rows),
            "age": rng.integers(0, 100, rows),
            "gender": rng.choice(np.array(["M", "F", "X"]), rows, p=[0.48, 0.48, 0.04]),
            "postcode": rng.choice(np.array(synthetic_postcodes()), rows),
            "occupation": rng.choice(np.array(list(OCCUPATION_GROUPS)), rows),
            "month": months[rng.integers(0, len(months), rows)],
            "opinion": rng.choice(np.array(OPINIONS), rows),
        }
    )


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run_case(rows: int, l_diversity: int, check_with_pycanon: bool) -> dict[str, Any]:
    """One measured case, in the current process."""
    data = synthetic_table(rows)
    config = benchmark_config(l_diversity)
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    inputs = build_search_inputs(config, data)
    encoded = time.perf_counter()
    result = find_optimal_generalization(inputs)
    searched = time.perf_counter()
    published = apply_generalization(data, inputs, result)
    applied = time.perf_counter()
    figures: dict[str, Any] = {
        "rows": rows,
        "l": l_diversity,
        "encode_s": encoded - started,
        "search_s": searched - encoded,
        "total_s": searched - started,
        "apply_s": applied - searched,
        "rss_before_mib": rss_before,
        "peak_rss_mib": _peak_rss_mib(),
        "nodes": f"{result.nodes_evaluated}/{result.lattice_size}",
        "levels": ",".join(str(result.levels[name]) for name in QUASI_IDENTIFIERS),
        "suppressed": result.n_suppressed,
        "loss": result.information_loss,
        "classes": result.n_classes,
    }
    if check_with_pycanon:
        from pycanon import anonymity

        started = time.perf_counter()
        k_found = anonymity.k_anonymity(published, QUASI_IDENTIFIERS)
        if l_diversity > 1:
            l_found = anonymity.l_diversity(published, QUASI_IDENTIFIERS, ["opinion"])
        figures["pycanon_s"] = time.perf_counter() - started
        figures["pycanon_k_l"] = f"{k_found}/{l_found if l_diversity > 1 else '-'}"
    return figures


def _print_table(results: list[dict[str, Any]]) -> None:
    columns = [
        ("rows", "{:,}"),
        ("l", "{}"),
        ("encode_s", "{:.2f}"),
        ("search_s", "{:.2f}"),
        ("total_s", "{:.2f}"),
        ("apply_s", "{:.2f}"),
        ("rss_before_mib", "{:.0f}"),
        ("peak_rss_mib", "{:.0f}"),
        ("nodes", "{}"),
        ("levels", "{}"),
        ("suppressed", "{:,}"),
        ("classes", "{:,}"),
        ("loss", "{:.4f}"),
        ("pycanon_s", "{:.2f}"),
        ("pycanon_k_l", "{}"),
    ]
    cells = [[name for name, _ in columns]]
    for result in results:
        cells.append([fmt.format(result[name]) if name in result else "-" for name, fmt in columns])
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        "\nlevels are age,gender,postcode,occupation,month (0 = as collected); total_s = "
        "encode + search; peak RSS includes generating the table."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--l", type=int, nargs="+", default=[1, 2], dest="l_values")
    parser.add_argument("--no-pycanon", action="store_true", help="skip pycanon's check")
    parser.add_argument("--case", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1], not args.no_pycanon)))
        return
    results = []
    for rows in args.rows:
        for l_diversity in args.l_values:
            command = [sys.executable, __file__, "--case", str(rows), str(l_diversity)]
            if args.no_pycanon:
                command.append("--no-pycanon")
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
    _print_table(results)


if __name__ == "__main__":
    main()
