"""Turn the pipeline's frames into the tables of a release, refusing anything unsafe.

Record-level table: the source's fields minus its direct identifiers, in config
order. Direct identifiers are withheld even when pseudonymized: a stable public
pseudonym would let anyone link one person's records across releases, which
k-anonymity of each release alone does not protect against. A column the
config does not declare is refused (it could hold anything). Quasi-identifiers
published at a generalized level are text labels ("20-29", "2026-T1", "*");
at the exact level they keep their configured type.

Aggregate tables: the configured dimensions, then `count`, `suppressed`,
`suppression_reason`, checked by `privacy_gates.check_suppressed_cells`; for a source
using the cell key method, the same columns with every count perturbed and none hidden,
totals included as rows whose summed-over dimension is empty, checked by
`privacy_gates.check_perturbed_cells`.

Rows are sorted by every column, left to right: the output then does not
depend on the order in which upstream tasks delivered the rows (a rerun is
byte-identical), and the row order cannot leak the order of submission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from include.anonymization.attacker_view import attacker_view
from include.core.source_config import (
    Aggregate,
    CellKeyDisclosure,
    FieldSpec,
    FieldType,
    Role,
    SourceConfig,
)
from include.publish.columns import (
    Column,
    schema_type_of_field,
    schema_type_of_series,
    to_arrow,
)
from include.publish.jsonfile import JSON
from include.publish.manifest import ManifestEntry
from include.publish.privacy_gates import (
    REASONS,
    SUPPRESSION_COLUMNS,
    check_perturbed_cells,
    check_suppressed_cells,
    measure_privacy,
    require_attacker_k,
    require_privacy,
    require_sample_uniques,
)
from include.publish.record_batches import RecordBatch
from include.publish.summaries import (
    check_anonymization_summary,
    check_cell_key_summary,
    check_suppression_summary,
)
from include.publish.wording import (
    PERTURBED_REASON_DESCRIPTION,
    PERTURBED_SUPPRESSED_DESCRIPTION,
    SUPPRESSED_DESCRIPTION,
    TOTAL_NOTE,
    count_description,
    dimension_description,
    generalized_description,
    perturbed_count_description,
    reason_description,
    record_labels,
    with_labels,
)


@dataclass(frozen=True)
class AggregateInput:
    """One protected aggregate as the pipeline hands it over.

    `data`: long format, one column per configured dimension, named as the config's
    `Dimension.column` says (`age_20`, `postcode_departement`, `gender`), + `count`
    (nullable Int64, missing where suppressed) + `suppressed` (bool) +
    `suppression_reason`; rows for margins may hold a missing dimension (= total);
    `summary`: `ProtectedFrame.summary().as_dict()`, or `CellKeySummary.as_dict()` for a
    source using the cell key method.
    """

    name: str
    data: pd.DataFrame
    summary: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class PublishedTable:
    """A table ready to be written: typed data, column descriptions, privacy facts."""

    name: str
    kind: Literal["records", "aggregate"]
    title: str
    description: str
    columns: tuple[Column, ...]
    data: pa.Table
    privacy: dict[str, JSON]
    # A record table: the batches earlier releases published (`record_batches`); this
    # table holds the rows no earlier release holds.
    earlier_batches: tuple[RecordBatch, ...] = ()

    @property
    def rows_to_date(self) -> int:
        return self.data.num_rows + sum(batch.rows for batch in self.earlier_batches)


def _sorted(table: pa.Table) -> pa.Table:
    """The rows in order of every column, as `Table.sort_by` gives them.

    WHY column by column: `sort_by` takes every column at once, so the batch is held twice
    until it returns. Here each column is let go of as soon as its sorted copy exists:
    the unsorted table (the caller passes it and keeps no reference) is held once, plus one
    column, the free text at most. At 300k rows, publish peaked at 779 MiB against 866
    with `sort_by` (`make bench-scale`, PSS of the task)."""
    keys = [(name, "ascending", "at_end") for name in table.column_names]
    order = pc.sort_indices(table, options=pc.SortOptions(sort_keys=keys))
    schema, columns = table.schema, table.columns
    del table
    for position in range(len(columns)):
        columns[position] = columns[position].take(order)
    return pa.Table.from_arrays(columns, schema=schema)


def _configured_column(spec: FieldSpec, level: str | None) -> Column:
    """A published source field; `level` is its generalization level for a quasi-identifier."""
    enum = tuple(spec.allowed) if spec.type is FieldType.CATEGORY and spec.allowed else None
    if not spec.description.strip():
        raise ValueError(
            f"field '{spec.name}' has no description; add a French 'description' to it in its "
            "source file (it is published with the data)"
        )
    labels = record_labels(spec, level)
    if level is None:
        return Column(
            spec.name, schema_type_of_field(spec), with_labels(spec.description, labels), enum
        )
    description = with_labels(generalized_description(spec.description, level), labels)
    if level == "exact":
        return Column(spec.name, schema_type_of_field(spec), description, enum)
    return Column(spec.name, "string", description)


def _checked_columns(config: SourceConfig, records: pd.DataFrame) -> None:
    declared = {spec.name for spec in config.fields}
    unknown = sorted(set(map(str, records.columns)) - declared)
    if unknown:
        raise ValueError(
            f"source '{config.name}': the records hold columns {unknown} that the source "
            "config does not declare; drop them before publishing"
        )
    published = [spec for spec in config.fields if spec.role is not Role.DIRECT_IDENTIFIER]
    absent = [spec.name for spec in published if spec.name not in records.columns]
    if absent:
        raise ValueError(f"source '{config.name}': the records lack the columns {absent}")


def _converted(
    config: SourceConfig,
    records: pd.DataFrame | Iterable[pd.DataFrame],
    columns: tuple[Column, ...],
) -> pa.Table:
    """The records in their published types, a frame (slice) at a time: each slice is
    checked and converted as it comes, and only its Arrow form is kept (the slices are
    concatenated without a copy). A column missing throughout a slice is published as
    missing, as the whole frame's conversion gives it (converting such a slice alone would
    see no value to type it by)."""
    schema = pa.schema([column.arrow_field for column in columns])
    parts = []
    for frame in [records] if isinstance(records, pd.DataFrame) else records:
        _checked_columns(config, frame)
        present = tuple(column for column in columns if frame[column.name].notna().any())
        converted = to_arrow(frame, present, config.name)
        parts.append(
            pa.Table.from_arrays(
                [
                    converted.column(column.name)
                    if column in present
                    else pa.nulls(len(frame), column.arrow_field.type)
                    for column in columns
                ],
                schema=schema,
            )
        )
    return pa.concat_tables(parts) if parts else schema.empty_table()


def records_table(
    config: SourceConfig,
    records: pd.DataFrame | Iterable[pd.DataFrame],
    anonymization: Mapping[str, Any],
    earlier_batches: tuple[RecordBatch, ...] = (),
) -> PublishedTable:
    """The record-level table of the rows no earlier release published (all rows, on a
    first release), after checking its columns, k and l on those rows: each earlier batch
    passed the same gates when it was published, and the union keeps them
    (`record_batches`). `records`: one frame, or slices (`_converted`)."""
    summary = check_anonymization_summary(config, anonymization)
    published = [spec for spec in config.fields if spec.role is not Role.DIRECT_IDENTIFIER]
    columns = tuple(_configured_column(spec, summary.levels.get(spec.name)) for spec in published)
    data = _sorted(_converted(config, records, columns))
    qis = [spec.name for spec in config.quasi_identifiers]
    sensitive = [spec.name for spec in config.sensitive_fields]
    # Measured on the converted rows, exactly as they are written to the files.
    measured = measure_privacy(
        data.select(qis + sensitive).to_pandas(), qis, sensitive, config.l_kind
    )
    require_privacy(config.name, measured, config.k, config.l_diversity, config.l_kind)
    # And as an attacker sees the file: whatever it holds, not what the config declares.
    # The scrubbed free text is no grouping key: it is left out before the copy to pandas.
    free_text = [spec.name for spec in config.free_text_fields]
    attacker = attacker_view(
        data.drop_columns(free_text).to_pandas(), declared=qis, k_thresholds=(config.k,)
    )
    require_attacker_k(config.name, attacker, config.k)
    require_sample_uniques(config.name, attacker, config.max_sample_unique_share)
    return PublishedTable(
        name=config.name,
        kind="records",
        title=config.title,
        description=config.description,
        columns=columns,
        data=data,
        privacy={
            "quasi_identifiers": list(qis),
            "generalization": dict(summary.levels),
            "sensitive_fields": list(sensitive),
            "scrubbed_free_text_fields": [spec.name for spec in config.free_text_fields],
            "withheld_fields": [spec.name for spec in config.direct_identifiers],
            "k_required": config.k,
            "k_achieved": measured.k,
            "l_kind": config.l_kind,
            "l_required": config.l_diversity,
            "l_achieved": measured.l_diversity,
            "suppressed_records": summary.suppressed_records,
            "attacker_view": attacker.as_dict(),
            "max_sample_unique_share": config.max_sample_unique_share,
            "anonymization": summary.data,
        },
        earlier_batches=earlier_batches,
    )


def _dimension_columns(
    config: SourceConfig, spec: Aggregate, frame: pd.DataFrame
) -> tuple[Column, ...]:
    return tuple(
        Column(
            dimension.column,
            schema_type_of_series(frame[dimension.column]),
            with_labels(
                dimension_description(config.field(dimension.field), dimension.level),
                config.dimension_labels(dimension),
            )
            + (TOTAL_NOTE if frame[dimension.column].isna().any() else ""),
        )
        for dimension in spec.dimensions
    )


def _perturbed_table(
    config: SourceConfig,
    spec: Aggregate,
    aggregate: AggregateInput,
    disclosure: CellKeyDisclosure,
) -> PublishedTable:
    """A cell-key aggregate: its perturbation checked against the source's ptable, no
    count hidden, none in 1..js; its privacy facts say how it was perturbed."""
    frame = aggregate.data
    perturbation = check_cell_key_summary(spec.name, aggregate.summary, disclosure)
    check_perturbed_cells(spec.name, frame, disclosure.js)
    dimension_columns = [dimension.column for dimension in spec.dimensions]
    columns = (
        *_dimension_columns(config, spec, frame),
        Column(
            "count", "integer", perturbed_count_description(disclosure.max_noise, disclosure.js)
        ),
        Column("suppressed", "boolean", PERTURBED_SUPPRESSED_DESCRIPTION),
        Column("suppression_reason", "string", PERTURBED_REASON_DESCRIPTION, REASONS),
    )
    totals = int(frame[dimension_columns].isna().any(axis=1).sum())
    return _aggregate(
        spec,
        columns,
        frame,
        description=(
            f"{spec.title}. Effectifs par {', '.join(dimension_columns)}, totaux compris (lignes "
            f"dont une dimension est vide) ; chaque effectif est perturbé d'au plus "
            f"{disclosure.max_noise} en plus ou en moins (méthode de la clé de cellule), aucun "
            "n'est masqué."
        ),
        privacy={
            "dimensions": dimension_columns,
            "disclosure": "cell_key",
            "cells": len(frame) - totals,
            "totals": totals,
            "cells_suppressed": 0,
            "suppressed_by_reason": {},
            "cell_key": perturbation,
        },
    )


def _aggregate(
    spec: Aggregate,
    columns: tuple[Column, ...],
    frame: pd.DataFrame,
    *,
    description: str,
    privacy: dict[str, JSON],
) -> PublishedTable:
    return PublishedTable(
        name=spec.name,
        kind="aggregate",
        title=spec.title,
        description=description,
        columns=columns,
        data=_sorted(to_arrow(frame, columns, spec.name)),
        privacy=privacy,
    )


def aggregate_table(config: SourceConfig, aggregate: AggregateInput) -> PublishedTable:
    """One aggregate table, after checking that every small count is hidden (or, for a
    source using the cell key method, that every count is perturbed as it should be)."""
    spec = next((a for a in config.aggregates if a.name == aggregate.name), None)
    if spec is None:
        raise ValueError(
            f"source '{config.name}' configures no aggregate '{aggregate.name}' (configured: "
            f"{[a.name for a in config.aggregates]})"
        )
    frame = aggregate.data
    dimension_columns = [dimension.column for dimension in spec.dimensions]
    expected = [*dimension_columns, *SUPPRESSION_COLUMNS]
    if sorted(map(str, frame.columns)) != sorted(expected):
        raise ValueError(
            f"aggregate '{spec.name}' must have exactly the columns {expected}, got "
            f"{list(frame.columns)}"
        )
    if isinstance(config.disclosure, CellKeyDisclosure):
        return _perturbed_table(config, spec, aggregate, config.disclosure)
    summary = check_suppression_summary(spec.name, aggregate.summary)
    by_reason = check_suppressed_cells(spec.name, frame, config.min_cell_count)
    columns = (
        *_dimension_columns(config, spec, frame),
        Column("count", "integer", count_description(config.min_cell_count)),
        Column("suppressed", "boolean", SUPPRESSED_DESCRIPTION),
        Column("suppression_reason", "string", reason_description(), REASONS),
    )
    return _aggregate(
        spec,
        columns,
        frame,
        description=(
            f"{spec.title}. Effectifs par {', '.join(dimension_columns)} ; les effectifs "
            f"inférieurs à {config.min_cell_count} sont masqués (cellule vide), ainsi que les "
            "cellules qui permettraient de les recalculer."
        ),
        privacy={
            "dimensions": dimension_columns,
            "min_cell_count": config.min_cell_count,
            "cells": len(frame),
            "cells_suppressed": sum(by_reason.values()),
            "suppressed_by_reason": dict(by_reason),
            "suppression": summary,
        },
    )


@dataclass(frozen=True, eq=False)
class WrittenTable:
    """A table once written: its CSV and Parquet files as the manifest lists them."""

    table: PublishedTable
    csv: ManifestEntry
    parquet: ManifestEntry
    neutralised_cells: int
