"""Published columns: their Table Schema type, their French description, their values.

One `Column` describes a column the same way for all three consumers: the
`datapackage.json` field (type, description, enum), the Parquet field (Arrow type
plus the description as field metadata) and the CSV cells. Converting the
pipeline's pandas frame to Arrow with an explicit schema (rather than letting
pandas infer one) is what makes the CSV and the Parquet file agree on types and
what makes a stray value fail loudly here, naming the column, instead of
silently turning an integer column into text.

Conventions: empty text is published as missing (both are an empty CSV cell);
timestamps are published in UTC at one-second resolution (finer precision adds
re-identification risk and no statistical value); a naive timestamp is refused
because its time zone would be a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from include.core.source_config import FieldSpec, FieldType

TableSchemaType = Literal["string", "integer", "number", "boolean", "date", "datetime"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("ms", tz="UTC"),  # Parquet's coarsest unit; values are whole seconds
}

_CONFIG_TYPES: dict[FieldType, TableSchemaType] = {
    FieldType.STRING: "string",
    FieldType.CATEGORY: "string",
    FieldType.INTEGER: "integer",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
}


@dataclass(frozen=True)
class Column:
    """One published column."""

    name: str
    type: TableSchemaType
    description: str
    enum: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.type not in ARROW_TYPES:
            raise ValueError(f"column '{self.name}': unknown Table Schema type '{self.type}'")
        if not self.description.strip():
            raise ValueError(f"column '{self.name}' needs a (French) description")

    @property
    def arrow_field(self) -> pa.Field:
        return pa.field(
            self.name, ARROW_TYPES[self.type], metadata={"description": self.description}
        )


def schema_type_of_field(spec: FieldSpec) -> TableSchemaType:
    """The Table Schema type of a configured field published as collected."""
    return _CONFIG_TYPES[spec.type]


def schema_type_of_series(series: pd.Series) -> TableSchemaType:
    """The Table Schema type of a computed column (aggregate dimensions), from its dtype."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return "datetime"
    return "string"


def to_arrow(frame: pd.DataFrame, columns: tuple[Column, ...], table: str) -> pa.Table:
    """The frame's columns, in the given order, converted to their declared types."""
    arrays = [_convert(frame[column.name], column, table) for column in columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema([c.arrow_field for c in columns]))


def _check_enum(text: pa.Array, column: Column) -> None:
    """Refuse values outside the column's declared categories (the schema would lie)."""
    if column.enum is None:
        return
    allowed = pa.array(column.enum, type=pa.string())
    outside = pc.and_(pc.invert(pc.is_in(text, value_set=allowed)), pc.is_valid(text))
    if pc.any(outside).as_py():
        found = sorted(set(pc.filter(text, outside).to_pylist()))[:5]
        raise ValueError(f"values {found} are not among the declared {list(column.enum)}")


def _convert(series: pd.Series, column: Column, table: str) -> pa.Array:
    where = f"table '{table}', column '{column.name}'"
    try:
        if column.type == "string":
            text = pa.array(series.astype("string"), type=pa.string(), from_pandas=True)
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
            _check_enum(text, column)
            return text
        if column.type == "integer":
            return pa.array(series.astype("Int64"), type=pa.int64(), from_pandas=True)
        if column.type == "number":
            numbers = series.astype("Float64")
            infinite = int(np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan)).sum())
            if infinite:
                raise ValueError(f"{infinite} infinite value(s); publish them as missing instead")
            return pa.array(numbers, type=pa.float64(), from_pandas=True)
        if column.type == "boolean":
            return pa.array(series.astype("boolean"), type=pa.bool_(), from_pandas=True)
        if column.type == "date":
            days = pd.to_datetime(series, errors="raise").dt.date
            return pa.array(days, type=pa.date32(), from_pandas=True)
        moments = pd.to_datetime(series, errors="raise", format="ISO8601")
        if moments.dt.tz is None and moments.notna().any():
            raise ValueError(
                "timestamps have no time zone; localize them (e.g. tz_localize('UTC')) first"
            )
        seconds = moments.dt.tz_convert("UTC").dt.floor("s")
        return pa.array(seconds, from_pandas=True).cast(ARROW_TYPES["datetime"])
    except (ValueError, TypeError, pa.ArrowException) as exc:
        raise ValueError(f"{where}: cannot publish as {column.type}: {exc}") from None
