"""Published statistics: counts of records by one or two dimensions, disclosure-controlled.

Aggregates are counted from the scrubbed records before any generalization
(each dimension is coarsened only as far as its own `field:level` says), then
protected by primary and complementary cell suppression, which the LP audit in
`include.anonymization.cell_suppression` proves. A suppressed cell is published
as missing, never as 0.

WHY counting goes through "groups" (an aggregate's fields and a weight `n`): the
records to date live in PostgreSQL's private record store (`include.record_store`),
which returns them already grouped by SQL, and a run's own batch is grouped the same
way in memory; groups add up, so the statistics of all records to date never need
every record in memory. Timestamps under a dimension with a level are grouped by
their UTC day (the date hierarchy's finest level is the month, in UTC). Groups also
carry `key_sum`, the sum of their records' keys modulo 2**32 (the cell key method's
integer cell key, `include.anonymization.cell_key`), where the records have keys:
key sums add up modulo 2**32 as weights add up, and cell suppression ignores them.

A source whose config says `disclosure: {method: cell_key}` has its aggregates
perturbed instead of suppressed (`include.cell_key_aggregates`); `protect_source_groups`
is the one place that chooses between the two.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from include.anonymization.cell_key import KEY_MODULUS
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
WEIGHT = "n"  # the number of records a group stands for
RECORD_KEY = "record_key"  # a record's cell key method key, as the record store keeps it
KEY_SUM = "key_sum"  # the sum of a group's record keys modulo 2**32
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
        encoded = build_generalizer(spec).encode_records(records[present])
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


def group_fields(config: SourceConfig, aggregate: Aggregate) -> list[tuple[str, bool]]:
    """(field, by UTC day?) for each field the aggregate's dimensions read, in order."""
    fields: dict[str, bool] = {}
    for dim in aggregate.dimensions:
        by_day = dim.level is not None and config.field(dim.field).type is FieldType.DATETIME
        fields[dim.field] = fields.get(dim.field, True) and by_day
    return list(fields.items())


def group_records(
    records: pd.DataFrame, config: SourceConfig, aggregate: Aggregate
) -> pd.DataFrame:
    """The records as groups: the aggregate's fields and how many records share them, and
    the sum of their keys (`key_sum`) when the records carry a `record_key` column."""
    fields = group_fields(config, aggregate)
    keyed = RECORD_KEY in records.columns
    columns = {}
    for name, by_day in fields:
        column = records[name]
        if by_day and len(column):
            column = pd.to_datetime(column, utc=True).dt.date.astype(object)
        columns[name] = column.astype(object).where(column.notna(), None)
    frame = pd.DataFrame(columns, index=records.index)
    sums = [KEY_SUM] if keyed else []
    if frame.empty:
        return pd.DataFrame(
            {
                **{name: [] for name, _ in fields},
                **{column: pd.Series(dtype=np.int64) for column in [WEIGHT, *sums]},
            }
        )
    names = list(frame.columns)
    if not keyed:
        return frame.groupby(names, sort=False, dropna=False).size().reset_index(name=WEIGHT)
    frame[KEY_SUM] = records[RECORD_KEY].astype(np.int64)
    grouped = frame.groupby(names, sort=False, dropna=False)[KEY_SUM]
    result = grouped.agg(**{WEIGHT: "size", KEY_SUM: "sum"}).reset_index()
    result[KEY_SUM] %= KEY_MODULUS
    return result.astype({WEIGHT: np.int64, KEY_SUM: np.int64})


def add_groups(*parts: pd.DataFrame) -> pd.DataFrame:
    """Groups of several record sets as one (same fields; the weights of a group add up,
    and so do its key sums, modulo 2**32)."""
    present = [part for part in parts if len(part)]
    if not present:
        return parts[0]
    if len({frozenset(part.columns) for part in present}) > 1:
        raise ValueError(
            "groups to add have different columns (some with key sums, some without?): "
            f"{[list(part.columns) for part in present]}"
        )
    frame = pd.concat(present, ignore_index=True)
    sums = [column for column in (WEIGHT, KEY_SUM) if column in frame.columns]
    keys = [column for column in frame.columns if column not in sums]
    summed = frame.groupby(keys, sort=False, dropna=False)[sums].sum().reset_index()
    if KEY_SUM in summed.columns:
        summed[KEY_SUM] %= KEY_MODULUS
    return summed.astype(dict.fromkeys(sums, np.int64))


def count_cells(groups: pd.DataFrame, config: SourceConfig, aggregate: Aggregate) -> pd.DataFrame:
    """Long-format counts: one row per observed combination of the dimensions.

    `groups` is what `group_records` (or the record store) returns for the aggregate.
    """
    keys = [dimension_values(groups, config, dim) for dim in aggregate.dimensions]
    if groups.empty:
        return pd.DataFrame(
            {
                **{key.name: pd.Series(dtype=object) for key in keys},
                "count": pd.Series(dtype=np.int64),
            }
        )
    frame = pd.concat([*keys, groups[WEIGHT].rename("count")], axis=1)
    columns = [key.name for key in keys]
    summed = frame.groupby(columns, sort=True, dropna=False)["count"].sum()
    return summed.reset_index().astype({"count": np.int64})


def protect_groups(
    groups: pd.DataFrame, config: SourceConfig, aggregate: Aggregate
) -> ProtectedAggregate:
    """Count the groups at the aggregate's levels and suppress what must be."""
    if config.disclosure.method != "suppression":
        raise ValueError(
            f"source '{config.name}' protects its aggregates by {config.disclosure.method}, not "
            "cell suppression: protect them with protect_source_groups"
        )
    columns = tuple(dim.column for dim in aggregate.dimensions)
    counts = count_cells(groups, config, aggregate)
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


def protect_source_groups(
    groups: Mapping[str, pd.DataFrame], config: SourceConfig
) -> list[ProtectedAggregate]:
    """Every aggregate of the source, in config order, protected by the source's method:
    the one place that dispatches on `config.disclosure`.

    `groups` maps each aggregate's name to its groups (`group_records`, `store_groups`,
    `add_groups`); the cell key method needs their `key_sum`."""
    if config.disclosure.method == "cell_key":
        # Imported here: that module builds on this one (ProtectedAggregate, dimension labels).
        from include.cell_key_aggregates import perturb_source_groups

        return perturb_source_groups(groups, config)
    return [protect_groups(groups[a.name], config, a) for a in config.aggregates]


def protect_aggregate(
    records: pd.DataFrame, config: SourceConfig, aggregate: Aggregate
) -> ProtectedAggregate:
    return protect_groups(group_records(records, config, aggregate), config, aggregate)


def protect_all(records: pd.DataFrame, config: SourceConfig) -> list[ProtectedAggregate]:
    """Every aggregate of `records` (with a `record_key` column for the cell key method)."""
    groups = {a.name: group_records(records, config, a) for a in config.aggregates}
    return protect_source_groups(groups, config)
