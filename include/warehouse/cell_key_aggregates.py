"""A source's aggregates by the cell key method: every count perturbed, nothing hidden.

`include.warehouse.aggregates.protect_source` comes here for a source whose config says
`disclosure: {method: cell_key, max_noise: D, variance: V, js: J}`. The groups are the
same as cell suppression's (`group_records`, `store_groups`, `add_groups`), with their
`key_sum`; the noise is `include.anonymization.cell_key.perturb_counts`', so a cell
made of the same records reads the same in every table and every release.

What a cell-key aggregate publishes, and why in this shape:

- The columns of a suppressed aggregate (dimensions, `count`, `suppressed`,
  `suppression_reason`), so the load, the validation gate and the warehouse's readers
  take it as they are: `count` is never missing, `suppressed` always false, the reason
  always empty.
- Every cell of the grid, true zeros included: the levels of each dimension are its
  declared categories (as cell suppression's grid has them) plus the values observed.
  A cell with records may be published as 0; were true zeros left out, a listed 0
  would say "someone is here". A true zero is never perturbed.
- The margins (totals by one dimension, grand total) as rows of the table whose
  summed-over dimension is empty. Under this method a total is a cell of its own, with
  its own noise: it reads the same in every table that has it (the totals by
  `q_transports` of three consultation tables are one set of records) and is what a
  reader should use, not the sum of the published cells, which adds up every cell's
  noise. Tables are therefore not additive, by design (see the cell_key module).

The summary (`CellKeySummary.as_dict()`: method, ptable parameters and fingerprint,
cells changed, mean and max |deviation|) goes to the audit ledger with the anonymize
stage; what the release states publicly is chosen by `include.publish.tables`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from include.anonymization.cell_key import PerturbationTable, perturb_counts
from include.core.source_config import (
    Aggregate,
    CellKeyDisclosure,
    Dimension,
    FieldType,
    SourceConfig,
)
from include.warehouse.aggregates import KEY_SUM, WEIGHT, ProtectedAggregate, dimension_values

COUNT = "count"
_MAX_ENUMERATED_RANGE = 20  # integer fields with a range this small list their zero cells too


def _declared_levels(config: SourceConfig, dim: Dimension) -> list[Hashable] | None:
    """Every value a dimension may take, so that true zeros appear as cells too."""
    if dim.level is not None:
        return None
    spec = config.field(dim.field)
    if spec.type is FieldType.CATEGORY and spec.allowed:
        return list(spec.allowed)
    if (
        spec.type is FieldType.INTEGER
        and spec.minimum is not None
        and spec.maximum is not None
        and spec.maximum - spec.minimum < _MAX_ENUMERATED_RANGE
    ):
        return list(range(int(spec.minimum), int(spec.maximum) + 1))
    return None


@lru_cache(maxsize=16)
def _solved_table(max_noise: int, variance: float, js: int) -> PerturbationTable:
    return PerturbationTable.build(max_noise, variance, js)


def perturbation_table(disclosure: CellKeyDisclosure) -> PerturbationTable:
    """The source's ptable, solved once per process and parameters (the solver is the
    slow part, and every aggregate of every run of the source uses the same table)."""
    return _solved_table(disclosure.max_noise, disclosure.variance, disclosure.js)


def _with_grid(labelled: pd.DataFrame, config: SourceConfig, aggregate: Aggregate) -> pd.DataFrame:
    """The labelled groups plus a zero row for every combination of the grid's levels."""
    levels = []
    for dim in aggregate.dimensions:
        observed = list(pd.unique(labelled[dim.column]))
        declared = _declared_levels(config, dim)
        if declared is None:
            levels.append(observed)
        else:
            known = set(declared)
            levels.append([*declared, *(value for value in observed if value not in known)])
    names = [dim.column for dim in aggregate.dimensions]
    grid = pd.MultiIndex.from_product(levels, names=names).to_frame(index=False)
    zeros = grid.astype(object).assign(**{COUNT: 0, KEY_SUM: 0})
    return pd.concat([labelled, zeros], ignore_index=True).astype(
        {COUNT: np.int64, KEY_SUM: np.int64}
    )


def _flagged(frame: pd.DataFrame) -> pd.DataFrame:
    """The suppression columns of a table where nothing is hidden."""
    return frame.assign(
        **{
            COUNT: pd.array(frame[COUNT].to_numpy(np.int64), dtype="Int64"),
            "suppressed": np.zeros(len(frame), dtype=bool),
            "suppression_reason": pd.array([None] * len(frame), dtype="string"),
        }
    )


def _dimension_dtypes(cells: pd.DataFrame, margins: pd.DataFrame, dims: list[str]) -> None:
    """Give a dimension the same type in cells and margins, missing allowed (a total):
    integers as Int64, text as the cells' string type; in place."""
    for dim in dims:
        dtype = cells[dim].dtype
        if pd.api.types.is_integer_dtype(dtype):
            cells[dim] = cells[dim].astype("Int64")
            margins[dim] = margins[dim].astype("Int64")
        elif pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            margins[dim] = margins[dim].astype(dtype)


def perturb_groups(
    groups: pd.DataFrame, config: SourceConfig, aggregate: Aggregate, table: PerturbationTable
) -> ProtectedAggregate:
    """One aggregate by the cell key method: grid cells and margins, all published."""
    if KEY_SUM not in groups.columns:
        raise ValueError(
            f"aggregate '{aggregate.name}' of source '{config.name}': its groups carry no "
            f"'{KEY_SUM}' (records grouped without their record keys); the cell key method "
            "needs the keys the record store keeps"
        )
    dims = [dim.column for dim in aggregate.dimensions]
    labelled = pd.concat(
        [
            *(dimension_values(groups, config, dim) for dim in aggregate.dimensions),
            groups[WEIGHT].rename(COUNT),
            groups[KEY_SUM],
        ],
        axis=1,
    )
    perturbed = perturb_counts(
        _with_grid(labelled, config, aggregate), dims, table, count=COUNT, key_sum=KEY_SUM
    )
    cells, margins = _flagged(perturbed.cells), _flagged(perturbed.margins)
    _dimension_dtypes(cells, margins, dims)
    return ProtectedAggregate(
        name=aggregate.name,
        title=aggregate.title,
        columns=tuple(dims),
        cells=pd.concat([cells, margins], ignore_index=True),
        summary=perturbed.summary().as_dict(),
    )


def perturb_source_groups(
    groups: Mapping[str, pd.DataFrame], config: SourceConfig
) -> list[ProtectedAggregate]:
    """Every aggregate of a cell key source, in config order, from its groups by name."""
    disclosure = config.disclosure
    if not isinstance(disclosure, CellKeyDisclosure):
        raise ValueError(f"source '{config.name}' does not use the cell key method")
    table = perturbation_table(disclosure)
    return [perturb_groups(groups[a.name], config, a, table) for a in config.aggregates]
