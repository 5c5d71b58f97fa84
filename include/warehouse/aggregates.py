"""Published statistics: counts of records by one or two dimensions, disclosure-controlled.

Aggregates are counted from the scrubbed records before any generalization
(each dimension is coarsened only as far as its own `field:level` says), then
protected by primary and complementary cell suppression decided once over all of a
source's tables (`protect_source`): tables sharing a dimension share its cells, so a
cell hidden in one is hidden in all, and the LP audit runs over the whole system
(`include.anonymization.linked_suppression`), with what the release's record-level file
lets a reader count as known bounds (`include.warehouse.record_file_bounds`). A suppressed cell is
published as missing, never as 0; a small cell the record file gives exactly is
published (hiding it would be a pretence) with the reason `known`.

WHY counting goes through "groups" (an aggregate's fields and a weight `n`): the
records to date live in PostgreSQL's private record store (`include.warehouse.record_store`),
which returns them already grouped by SQL, and a run's own batch is grouped the same
way in memory; groups add up, so the statistics of all records to date never need
every record in memory. Timestamps under a dimension with a level are grouped by
their UTC day (the date hierarchy's finest level is the month, in UTC). Groups also
carry `key_sum`, the sum of their records' keys modulo 2**32 (the cell key method's
integer cell key, `include.anonymization.cell_key`), where the records have keys:
key sums add up modulo 2**32 as weights add up, and cell suppression ignores them.

A source whose config says `disclosure: {method: cell_key}` has its aggregates
perturbed instead of suppressed (`include.warehouse.cell_key_aggregates`); `protect_source` is the
one place that chooses between the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from include.anonymization.cell_key import KEY_MODULUS
from include.anonymization.cell_suppression import HIDING_REASONS, DisclosureRule, Reason
from include.anonymization.hierarchies import build_generalizer
from include.anonymization.linked_suppression import KnownCell, LinkedTable, protect_linked
from include.core.source_config import (
    Aggregate,
    Dimension,
    FieldType,
    SourceConfig,
    hierarchy_level,
)
from include.warehouse.release_history import history_tables

MISSING_LABEL = "(non renseigné)"
WEIGHT = "n"  # the number of records a group stands for
RECORD_KEY = "record_key"  # a record's cell key method key, as the record store keeps it
KEY_SUM = "key_sum"  # the sum of a group's record keys modulo 2**32


@dataclass(frozen=True)
class ProtectedAggregate:
    """One aggregate, ready to validate, load and publish."""

    name: str
    title: str
    columns: tuple[str, ...]  # the dimension columns, in order
    cells: pd.DataFrame  # dimension columns + count (Int64, NA if suppressed) + flags
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


def protect_source(
    groups: Mapping[str, pd.DataFrame],
    config: SourceConfig,
    known: Sequence[KnownCell] = (),
    previous: Mapping[str, pd.DataFrame] | None = None,
) -> list[ProtectedAggregate]:
    """Count every aggregate of the source from its groups and protect them jointly.

    `groups[name]` is what `group_records` (or the record store) returns for aggregate
    `name`. `known`: what a reader knows of the cells from elsewhere (the record-level file
    of the same release, `include.warehouse.record_file_bounds`); a cell known exactly is published
    even if small, one narrowed is protected as far as the bounds leave room. `previous`:
    the previous release's cells (`include.warehouse.release_history.previous_release`), protected
    against with the current tables as one system, so that the two cannot be subtracted.

    The one place that dispatches on `config.disclosure`: a cell key source's aggregates
    are perturbed instead (`include.warehouse.cell_key_aggregates`; its groups need their
    `key_sum`), and need neither `known` nor `previous` (the same records always read the
    same, in any table and any release, and nothing is hidden).
    """
    if config.disclosure.method == "cell_key":
        # Imported here: that module builds on this one (ProtectedAggregate, dimension labels).
        from include.warehouse.cell_key_aggregates import perturb_source_groups

        return perturb_source_groups(groups, config)
    tables = {
        aggregate.name: LinkedTable(
            count_cells(groups[aggregate.name], config, aggregate),
            tuple(dim.column for dim in aggregate.dimensions),
        )
        for aggregate in config.aggregates
    }
    context, history = history_tables(tables, previous or {}, known)
    protection = protect_linked(
        {**tables, **context},
        DisclosureRule.from_source(config),
        known=[*known, *history],
        known_cells="publish",
        # Publishing again the complements found unnecessary costs LPs in proportion to the
        # system: with the previous release in it, 125 s instead of 11 s for the demo's
        # signalements (157 complementary cells instead of 170), so only without it.
        prune=not context,
    )
    joint = protection.summary()
    shared = {
        name: sorted(
            other
            for other, table in tables.items()
            if other != name and set(table.dimensions) & set(tables[name].dimensions)
        )
        for name in tables
    }
    protected = []
    for aggregate in config.aggregates:
        cells = protection.frame(aggregate.name, totals=False)
        counts = tables[aggregate.name].frame["count"]
        hidden = cells["suppressed"].to_numpy(dtype=bool)
        reasons = cells["suppression_reason"][hidden].value_counts()
        summary = {
            "method": "linked_cell_suppression",
            "min_count": config.min_cell_count,
            "cells": len(cells),
            "records": int(counts.sum()),
            "cells_suppressed": {r.value: int(reasons.get(r.value, 0)) for r in HIDING_REASONS},
            "records_in_suppressed_cells": int(counts[hidden].sum()),
            "small_cells_given_by_record_file": int(
                (cells["suppression_reason"] == Reason.KNOWN.value).sum()
            ),
            "linked_with": shared[aggregate.name],
            "previous_release_cells": 0
            if previous is None
            else len(previous.get(aggregate.name, ())),
            # The audit is one, over every table of the source and what is known:
            "audit_passed": joint.audit_passed,
            "recoverable": joint.recoverable,
            "unprotected": joint.unprotected,
            "known_cells": joint.known_cells,
            "limited_by_record_file": len(joint.limited),
            "worst_protection_ratio": joint.as_dict()["worst_protection_ratio"],
        }
        protected.append(
            ProtectedAggregate(
                name=aggregate.name,
                title=aggregate.title,
                columns=tables[aggregate.name].dimensions,
                cells=cells,
                summary=summary,
            )
        )
    return protected


def protect_all(
    records: pd.DataFrame, config: SourceConfig, known: Sequence[KnownCell] = ()
) -> list[ProtectedAggregate]:
    """Every aggregate of a frame of records (with a `record_key` column for the cell key
    method), protected jointly."""
    return protect_source(
        {a.name: group_records(records, config, a) for a in config.aggregates}, config, known
    )
