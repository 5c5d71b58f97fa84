"""Published statistics: counts of records by one or two dimensions, disclosure-controlled.

Aggregates are counted from the scrubbed records before any generalization
(each dimension is coarsened only as far as its own `field:level` says), then
protected by primary and complementary cell suppression, which the LP audit in
`include.anonymization.cell_suppression` proves. A suppressed cell is published
as missing, never as 0.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from include.anonymization.cell_suppression import DisclosureRule, protect_count_frame
from include.anonymization.hierarchies import build_generalizer
from include.source_config import (
    Aggregate,
    Dimension,
    FieldType,
    SourceConfig,
    hierarchy_level,
)

MISSING_LABEL = "(non renseigné)"
_MAX_ENUMERATED_RANGE = 20  # integer fields with a range this small list their zero cells too


@dataclass(frozen=True)
class ProtectedAggregate:
    """One aggregate, ready to validate, load and publish."""

    name: str
    title: str
    columns: tuple[str, ...]  # the dimension columns, in order
    cells: pd.DataFrame  # dimension columns + count (Int64, NA if suppressed) + flags
    margins: pd.DataFrame
    summary: dict[str, Any]


def dimension_values(records: pd.DataFrame, config: SourceConfig, dim: Dimension) -> pd.Series:
    """The dimension's value per record, coarsened to its level; missing values labelled."""
    column = records[dim.field]
    present = column.notna().to_numpy()
    values = pd.Series(MISSING_LABEL, index=records.index, dtype=object, name=dim.column)
    if dim.level is None:
        values[present] = column[present].astype(object)
    elif present.any():
        spec = config.field(dim.field)
        encoded = build_generalizer(spec).encode(column[present].reset_index(drop=True))
        values[present] = encoded.generalized(hierarchy_level(spec, dim.level))
    return values


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


def count_cells(records: pd.DataFrame, config: SourceConfig, aggregate: Aggregate) -> pd.DataFrame:
    """Long-format counts: one row per observed combination of the dimensions."""
    keys = [dimension_values(records, config, dim) for dim in aggregate.dimensions]
    if records.empty:
        return pd.DataFrame(
            {
                **{key.name: pd.Series(dtype=object) for key in keys},
                "count": pd.Series(dtype=np.int64),
            }
        )
    frame = pd.concat(keys, axis=1)
    return (
        frame.groupby(list(frame.columns), sort=True, dropna=False).size().reset_index(name="count")
    )


def protect_aggregate(
    records: pd.DataFrame, config: SourceConfig, aggregate: Aggregate
) -> ProtectedAggregate:
    columns = tuple(dim.column for dim in aggregate.dimensions)
    counts = count_cells(records, config, aggregate)
    categories: dict[str, Sequence[Hashable]] = {}
    for dim in aggregate.dimensions:
        declared = _declared_levels(config, dim)
        if declared is not None:
            observed = [v for v in counts[dim.column].unique() if v not in set(declared)]
            categories[dim.column] = [*declared, *observed]
    protected = protect_count_frame(
        counts,
        list(columns),
        rule=DisclosureRule.from_source(config),
        categories=categories or None,
    )
    return ProtectedAggregate(
        name=aggregate.name,
        title=aggregate.title,
        columns=columns,
        cells=protected.cells,
        margins=protected.margins,
        summary=protected.summary().as_dict(),
    )


def protect_all(records: pd.DataFrame, config: SourceConfig) -> list[ProtectedAggregate]:
    return [protect_aggregate(records, config, aggregate) for aggregate in config.aggregates]
