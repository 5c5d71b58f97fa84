"""Published cells and information loss of every aggregate: cell suppression vs the cell key method.

Run: ``python bench/bench_cell_key.py [--rows 3000] [--day 2026-12-02] [--draws 20] [--json]``.
Prints figures; it never passes or fails (issue #12 asks for them, per source, on the demo data).

The data are what `civic demo` loads: `--rows` generated submissions per source with the
demo's seeds (42 for the first source in name order, 43 for the next), minus the rows the
sample writer breaks (the ingest quarantines them), each validated and typed by the ingest's
own `RowValidator`. The demo dates its sample on the day it runs: pass its `--day` to see
its figures (the default is today, UTC).

- Suppression: `include.warehouse.aggregates.protect_all` with the record file's bounds, as a first
  release does (primary cells below `min_cell_count`, complementary cells decided jointly
  over the source's tables, LP audit over all of them and the record file).
- Cell key: `include.anonymization.cell_key.perturb_counts` on the same records with
  `--max-noise/--variance/--js`, record keys drawn from the CSPRNG as production would.
  Its figures depend on the keys, so they are given as the mean (min-max) over `--draws`
  independent draws of all record keys.

Information loss: for suppression, the cells hidden and the records they hold; for the
cell key method, the share of occupied cells changed and the mean absolute deviation over
occupied cells (d1 of sdcTools' `ck_cnt_measures`), and the same for the margins. "Exact"
is the share of occupied cells published at their true value, under both.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from include.anonymization.cell_key import (
    PerturbationTable,
    PerturbedFrame,
    draw_record_keys,
    perturb_counts,
)
from include.anonymization.kanonymity import anonymize
from include.core.source_config import Aggregate, SourceConfig, load_all_sources
from include.dag_helpers import source_names
from include.ingest.validation import RowValidator
from include.sample.generator import iter_rows
from include.sample.malformed import MalformedInjector
from include.warehouse.aggregates import dimension_values, protect_all
from include.warehouse.record_file_bounds import record_file_bounds

DEMO_SEED = 42  # `civic demo`: seed + the source's position in name order


def demo_records(config: SourceConfig, rows: int, seed: int, day: date) -> pd.DataFrame:
    """The records the demo loads for a source: generated, broken rows left out, typed."""
    validator = RowValidator(config)
    rows_kept = [
        validator.validate(record.row)
        for record in MalformedInjector(config, seed).apply(iter_rows(config, rows, seed, day))
        if record.malformed is None
    ]
    return pd.DataFrame(rows_kept, columns=validator.columns)


def suppression_figures(records: pd.DataFrame, config: SourceConfig) -> dict[str, dict]:
    """Per aggregate, what joint suppression hides, with what the source's record file (the
    same records, k-anonymized as a release does) tells a reader."""
    curated, _ = anonymize(config, records)
    known = record_file_bounds(config, records, curated)
    figures = {}
    for table in protect_all(records, config, known):
        summary = table.summary
        hidden = sum(summary["cells_suppressed"].values())
        figures[table.name] = {
            "cells": summary["cells"],
            "records": summary["records"],
            "hidden": hidden,
            "published": summary["cells"] - hidden,
            "shown_as_known": summary["small_cells_given_by_record_file"],
            "records_hidden": summary["records_in_suppressed_cells"],
        }
    return figures


def cell_key_frame(
    records: pd.DataFrame,
    config: SourceConfig,
    agg: Aggregate,
    keys: np.ndarray,
    table: PerturbationTable,
) -> PerturbedFrame:
    """The aggregate by the cell key method, each record a group of one with its key."""
    columns = [dimension_values(records, config, dim) for dim in agg.dimensions]
    groups = pd.concat(columns, axis=1).assign(count=1, key_sum=keys)
    return perturb_counts(groups, [column.name for column in columns], table)


def spread(values: list[float], form: Callable[[float], str]) -> str:
    """mean (min-max) of one figure over the key draws."""
    if min(values) == max(values):
        return form(values[0])
    return f"{form(float(np.mean(values)))} ({form(min(values))}-{form(max(values))})"


def measure(
    config: SourceConfig, records: pd.DataFrame, table: PerturbationTable, draws: int
) -> list[dict[str, Any]]:
    results = []
    key_draws = [draw_record_keys(len(records)) for _ in range(draws)]
    suppressed = suppression_figures(records, config)
    for agg in config.aggregates:
        suppression = suppressed[agg.name]
        runs = [cell_key_frame(records, config, agg, keys, table) for keys in key_draws]
        occupied = len(runs[0].cells)
        if (suppression["records"], occupied) != (
            int(runs[0].original_cells.sum()),
            int((runs[0].original_cells > 0).sum()),
        ):
            raise RuntimeError(
                f"{config.name}.{agg.name}: the two methods did not count the same cells; the "
                "comparison would be meaningless"
            )
        summaries = [run.summary() for run in runs]
        results.append(
            {
                "source": config.name,
                "aggregate": agg.name,
                "cells": suppression["cells"],
                "occupied": occupied,
                "records": suppression["records"],
                "suppression": {
                    **suppression,
                    "exact_share": (occupied - suppression["hidden"]) / occupied,
                },
                "cell_key": {
                    "published": suppression["cells"],
                    "hidden": int(sum(run.cells["count"].isna().sum() for run in runs)),
                    "changed_share": [s.cells_changed / occupied for s in summaries],
                    "exact_share": [1 - s.cells_changed / occupied for s in summaries],
                    "mean_abs_deviation": [s.mean_abs_deviation for s in summaries],
                    "max_abs_deviation": [s.max_abs_deviation for s in summaries],
                    "cells_to_zero": [s.cells_to_zero for s in summaries],
                    "margins": summaries[0].margins,
                    "margins_changed_share": [s.margins_changed / s.margins for s in summaries],
                    "margins_mean_abs_deviation": [s.margins_mean_abs_deviation for s in summaries],
                },
            }
        )
    return results


def print_report(results: list[dict[str, Any]], table: PerturbationTable, draws: int) -> None:
    pct = "{:.1%}".format
    dec = "{:.2f}".format
    print(
        f"cell key: max_noise {table.max_noise}, variance {table.variance:g}, js {table.js}, "
        f"ptable {table.fingerprint[:12]}; figures: mean (min-max) over {draws} key draws"
    )
    for row in results:
        s, c = row["suppression"], row["cell_key"]
        print(
            f"\n{row['source']}.{row['aggregate']}: {row['cells']} cells "
            f"({row['occupied']} with records), {row['records']} records"
        )
        print(
            f"  suppression  published {s['published']}/{row['cells']}, hidden {s['hidden']} "
            f"cells ({pct(s['hidden'] / row['occupied'])} of occupied) holding "
            f"{s['records_hidden']} records ({pct(s['records_hidden'] / row['records'])}), "
            f"shown as known {s['shown_as_known']}; exact {pct(s['exact_share'])}"
        )
        print(
            f"  cell key     published {c['published']}/{row['cells']}, hidden {c['hidden']}; "
            f"changed {spread(c['changed_share'], pct)}, mean |dev| "
            f"{spread(c['mean_abs_deviation'], dec)}, max |dev| "
            f"{spread([float(v) for v in c['max_abs_deviation']], '{:.0f}'.format)}, "
            f"to 0 {spread([float(v) for v in c['cells_to_zero']], dec)}; exact "
            f"{spread(c['exact_share'], pct)}; margins ({c['margins']}) changed "
            f"{spread(c['margins_changed_share'], pct)}, mean |dev| "
            f"{spread(c['margins_mean_abs_deviation'], dec)}"
        )


def print_totals(results: list[dict[str, Any]], draws: int) -> None:
    """Every aggregate of every source together: cells hidden, and the mean deviation."""
    occupied = sum(row["occupied"] for row in results)
    cells = sum(row["cells"] for row in results)
    hidden = sum(row["suppression"]["hidden"] for row in results)
    deviation = [
        sum(row["cell_key"]["mean_abs_deviation"][d] * row["occupied"] for row in results)
        / occupied
        for d in range(draws)
    ]
    changed = [
        sum(row["cell_key"]["changed_share"][d] * row["occupied"] for row in results) / occupied
        for d in range(draws)
    ]
    print(
        f"\nall {len(results)} aggregates: {cells} cells ({occupied} with records); suppression "
        f"hides {hidden} ({hidden / occupied:.1%} of occupied), cell key hides 0 and changes "
        f"{spread(changed, '{:.1%}'.format)} by a mean |dev| of "
        f"{spread(deviation, '{:.2f}'.format)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="submissions per source")
    parser.add_argument("--day", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--draws", type=int, default=20, help="independent draws of the keys")
    parser.add_argument("--max-noise", type=int, default=2)
    parser.add_argument("--variance", type=float, default=1.0)
    parser.add_argument("--js", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    table = PerturbationTable.build(args.max_noise, args.variance, args.js)
    configs = load_all_sources()
    results = []
    for offset, name in enumerate(source_names()):
        records = demo_records(configs[name], args.rows, DEMO_SEED + offset, args.day)
        print(f"{name}: {len(records)} records (day {args.day})", file=sys.stderr, flush=True)
        results.extend(measure(configs[name], records, table, args.draws))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results, table, args.draws)
        print_totals(results, args.draws)


if __name__ == "__main__":
    main()
