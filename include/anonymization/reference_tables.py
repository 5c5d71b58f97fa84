"""INSEE's linked business tables (rtauargus), read into the linked-suppression structures.

WHY here and not in the tests: the benchmark (`bench/bench_linked_suppression.py`) and the
tests measure the engine against τ-ARGUS on the same tables, read the same way.

The data lives beside the project, never inside it: `../shared/reference/rtauargus/` from
the project's root (see `../shared/reference/README.md`), converted from rtauargus 1.3.5's
R data. Four tables of company turnover, two dimensions each, totals included as rows
coded `Total`: `N_OBS` companies, `TOT` turnover, `MAX` the largest company's turnover.
ACTIVITY is hierarchical (A10 -> A21 -> A88, `activity_corr_table.csv`), NUTS too (NUTS2
-> NUTS3, `nuts23_fr_corr_table.csv`); SIZE and CJ (legal form) are flat.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from include.anonymization.cell_system import Hierarchy, LinkedTable
from include.anonymization.pii.reference_corpora import REFERENCE_DIR

RTAUARGUS_DIR = REFERENCE_DIR / "rtauargus"
# name in rtauargus's vignette -> (file, dimensions)
LINKED_TABLES = {
    "act_size": ("turnover_act_size.csv", ("ACTIVITY", "SIZE")),
    "act_cj": ("turnover_act_cj.csv", ("ACTIVITY", "CJ")),
    "nuts_size": ("turnover_nuts_size.csv", ("NUTS", "SIZE")),
    "nuts_cj": ("turnover_nuts_cj.csv", ("NUTS", "CJ")),
}
HIERARCHY_FILES = {"ACTIVITY": "activity_corr_table.csv", "NUTS": "nuts23_fr_corr_table.csv"}
WORKED_EXAMPLE = "act_size_example1.csv"


class ReferenceTablesMissingError(FileNotFoundError):
    """The rtauargus reference data is not beside the project (a user's clone has none)."""


def _read_csv(path: Path, codes: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise ReferenceTablesMissingError(
            f"reference table {path} is absent: the comparison with τ-ARGUS needs the public "
            "reference data beside the project (see ../shared/reference/README.md)"
        )
    frame = pd.read_csv(path, dtype=dict.fromkeys(codes, str), keep_default_na=False)
    missing = [c for c in codes if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} are missing; found {list(frame.columns)}")
    return frame


def read_hierarchies(directory: Path = RTAUARGUS_DIR) -> dict[str, Hierarchy]:
    """ACTIVITY and NUTS from their correspondence tables (coarsest level first)."""
    hierarchies = {}
    for name, file in HIERARCHY_FILES.items():
        path = directory / file
        levels = _read_csv(path, ())
        hierarchies[name] = Hierarchy.from_levels(name, levels.astype(str))
    return hierarchies


def read_table(path: Path, dimensions: tuple[str, ...]) -> LinkedTable:
    """One turnover table: `TOT` summed over `N_OBS` companies, the largest being `MAX`."""
    return LinkedTable(
        frame=_read_csv(path, dimensions),
        dimensions=dimensions,
        value="TOT",
        contributors="N_OBS",
        largest="MAX",
    )


def read_linked_tables(
    names: tuple[str, ...] = tuple(LINKED_TABLES), directory: Path = RTAUARGUS_DIR
) -> dict[str, LinkedTable]:
    """The tables of rtauargus's "protect several linked tables" vignette, by name."""
    unknown = [n for n in names if n not in LINKED_TABLES]
    if unknown:
        raise ValueError(f"unknown tables {unknown}; the reference has {list(LINKED_TABLES)}")
    return {
        name: read_table(directory / LINKED_TABLES[name][0], LINKED_TABLES[name][1])
        for name in names
    }


def read_worked_example(directory: Path = RTAUARGUS_DIR) -> tuple[LinkedTable, pd.Series]:
    """The 12-cell ACTIVITY x SIZE example of rtauargus's first vignette, and the status
    τ-ARGUS gave each row (A frequency, B dominance, D secondary, V valid)."""
    frame = _read_csv(directory / WORKED_EXAMPLE, ("ACTIVITY", "SIZE", "Status"))
    table = LinkedTable(
        frame=frame.drop(columns="Status"),
        dimensions=("ACTIVITY", "SIZE"),
        value="VAL",
        contributors="N_OBS",
        largest="MAX",
    )
    return table, frame["Status"]
