"""Generalization hierarchies: how far each quasi-identifier can be coarsened.

Each quasi-identifier of a source has a hierarchy in its config (`NumericBands`,
`PostcodeFr`, `DateLevels`, `Grouping`, `Suppress`, or `HierarchyFile`: a value-mapping
file in ARX's format, see `hierarchy_from_csv`). Level 0 is the value as
collected, the top level is ``"*"`` (nothing left), and every level in between
is a coarser partition of the one below; e.g. age: exact → "20-24" → "20-29" →
"20-39" → "*".

Why integer codes: the k-anonymity search looks at hundreds of combinations of
levels over up to millions of rows. Encoding a column once into integer codes,
with for each level an array mapping a level-0 code to that level's code,
turns "generalize this column to level j" into one array lookup and lets the
search group small integer tables instead of strings. Labels are built only
once per distinct value (a million distinct timestamps still cost a few
vectorised operations, not a million string formats).

A value the hierarchy cannot place (an unknown postcode, an age outside the
field's bounds, a missing value) raises `HierarchyError` naming the field and
the value: silently generalizing it to "*" would hide a data-quality problem,
and publishing it as-is would break the protection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from include.core.geo_fr import DEPARTEMENTS, PostcodeError, departement_code
from include.core.hierarchy_file import ValueMappingTable, read_value_mapping, value_key
from include.core.source_config import (
    CommuneFr,
    DateLevels,
    FieldSpec,
    FieldType,
    Grouping,
    HierarchyFile,
    NumericBands,
    PostcodeFr,
    Suppress,
)

TOP_LABEL = "*"


class HierarchyError(ValueError):
    """A value cannot be placed in its field's generalization hierarchy."""


@dataclass(frozen=True, eq=False)
class EncodedColumn:
    """One quasi-identifier column as integer codes, with every level of its hierarchy.

    ``codes[r]`` is row r's level-0 code; ``maps[j][c]`` is the level-j code of level-0
    code c (``maps[0]`` is the identity, ``maps[-1]`` is all zeros: ``"*"``);
    ``labels[j][code]`` is what level j publishes for that code.
    """

    field: str
    level_names: tuple[str, ...]
    codes: np.ndarray
    maps: tuple[np.ndarray, ...]
    labels: tuple[pd.Index, ...]
    # For each level, how many values of the hierarchy's whole domain each code covers,
    # when the hierarchy enumerates its domain (a value-mapping file does; bands and
    # postcodes do not). ARX's Loss measures shares of that domain.
    domain_leaves: tuple[np.ndarray, ...] | None = None
    _level_maps: dict[tuple[int, int], np.ndarray] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def top(self) -> int:
        """Index of the ``"*"`` level (the number of generalization steps)."""
        return len(self.maps) - 1

    @property
    def n_rows(self) -> int:
        return len(self.codes)

    def n_codes(self, level: int) -> int:
        """Number of distinct labels at a level (among the values present)."""
        return len(self.labels[level])

    def level_map(self, finer: int, coarser: int) -> np.ndarray:
        """Array mapping a code at level `finer` to its code at level `coarser`.

        Well defined because each level is a coarsening of the one below (a tree).
        """
        if not 0 <= finer <= coarser <= self.top:
            raise ValueError(f"{self.field}: no map from level {finer} to level {coarser}")
        key = (finer, coarser)
        if key not in self._level_maps:
            mapping = np.empty(self.n_codes(finer), dtype=np.int32)
            mapping[self.maps[finer]] = self.maps[coarser]
            self._level_maps[key] = mapping
        return self._level_maps[key]

    def leaf_counts(self, level: int) -> np.ndarray:
        """For each code at `level`, how many distinct level-0 values it covers."""
        return np.bincount(self.maps[level], minlength=self.n_codes(level))

    def domain_counts(self, level: int) -> np.ndarray:
        """For each code at `level`, how many values of the domain it covers.

        The hierarchy's own domain when it enumerates one (`domain_leaves`), else the
        values present in the data (`leaf_counts`).
        """
        if self.domain_leaves is None:
            return self.leaf_counts(level)
        return self.domain_leaves[level]

    @property
    def domain_size(self) -> int:
        return int(self.domain_counts(self.top)[0])

    def generalized(self, level: int) -> np.ndarray:
        """Every row's label at `level` (level 0 gives back the original values)."""
        return self.labels[level].take(self.maps[level][self.codes]).to_numpy()


class Generalizer(ABC):
    """Builds the levels of one hierarchy from a column's distinct values."""

    def __init__(self, field_name: str, intermediate_names: tuple[str, ...]) -> None:
        self.field = field_name
        self.level_names: tuple[str, ...] = ("exact", *intermediate_names, TOP_LABEL)

    @abstractmethod
    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        """For each level between the original value and "*", a key per distinct value.

        Values with equal keys share that level's label. Raises `HierarchyError`
        for a value the hierarchy cannot place.
        """

    def _label(self, level: int, key: Any) -> str:
        """The published label of one key at an intermediate level (1-based)."""
        return str(key)

    def _exact_labels(self, uniques: pd.Index) -> pd.Index:
        """What level 0 publishes for each distinct value: the value itself."""
        return uniques

    def encode_records(self, records: pd.DataFrame) -> EncodedColumn:
        """Encode this field's column of `records` (a hierarchy may read another column too)."""
        return self.encode(records[self.field].reset_index(drop=True))

    def _error(self, value: object, why: str) -> HierarchyError:
        if isinstance(value, np.generic):
            value = value.item()
        return HierarchyError(
            f"field '{self.field}': value {value!r} {why}; correct or quarantine the "
            f"records holding it before anonymization"
        )

    def encode(self, values: pd.Series | pd.Index | np.ndarray | list[Any]) -> EncodedColumn:
        """Encode a column once: level-0 codes per row plus every level's map and labels."""
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        missing = np.flatnonzero(codes < 0)
        if missing.size:
            raise HierarchyError(
                f"field '{self.field}': {missing.size} record(s) have no value (first at "
                f"position {missing[0]}); a quasi-identifier must be present in every "
                f"record, so quarantine or complete them before anonymization"
            )
        uniques = pd.Index(uniques, tupleize_cols=False)
        maps: list[np.ndarray] = [np.arange(len(uniques), dtype=np.int32)]
        labels: list[pd.Index] = [self._exact_labels(uniques)]
        for level, keys in enumerate(self._intermediate_keys(uniques), start=1):
            level_codes, distinct = pd.factorize(keys)
            maps.append(level_codes.astype(np.int32))
            labels.append(pd.Index([self._label(level, key) for key in distinct], dtype=object))
        maps.append(np.zeros(len(uniques), dtype=np.int32))
        labels.append(pd.Index([TOP_LABEL], dtype=object))
        return EncodedColumn(
            field=self.field,
            level_names=self.level_names,
            codes=codes.astype(np.int32),
            maps=tuple(maps),
            labels=tuple(labels),
        )


class NumericBandsGeneralizer(Generalizer):
    """Numbers → bands aligned on multiples of each width ("20-24", then "20-29"...) → "*".

    Bands are aligned on multiples of the width, so a width that divides the next
    gives nested bands (20-24 and 25-29 both fall in 20-29).
    """

    def __init__(
        self,
        field_name: str,
        widths: list[int],
        *,
        integer: bool = True,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> None:
        super().__init__(field_name, tuple(f"bands of {w}" for w in widths))
        self.widths = list(widths)
        self.integer = integer
        self.minimum = minimum
        self.maximum = maximum

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        for bad, why in (
            (~np.isfinite(numbers), "is not a finite number"),
            (
                numbers < (-np.inf if self.minimum is None else self.minimum),
                f"is below the field's minimum {self.minimum}",
            ),
            (
                numbers > (np.inf if self.maximum is None else self.maximum),
                f"is above the field's maximum {self.maximum}",
            ),
        ):
            if bad.any():
                raise self._error(uniques[int(np.argmax(bad))], why)
        return [np.floor(numbers / width).astype(np.int64) for width in self.widths]

    def _label(self, level: int, key: Any) -> str:
        width = self.widths[level - 1]
        low = int(key) * width
        return f"{low}-{low + width - 1}" if self.integer else f"[{low}, {low + width})"


class PostcodeGeneralizer(Generalizer):
    """French postcode → département code ("75", "2A", "974") → région name → "*"."""

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name, ("département", "région"))

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        departements = []
        for value in uniques:
            try:
                departements.append(departement_code(value))
            except PostcodeError as exc:
                raise HierarchyError(
                    f"field '{self.field}': {exc}; correct or quarantine the records "
                    f"holding it before anonymization"
                ) from None
        regions = [DEPARTEMENTS[code].region.name for code in departements]
        return [np.array(departements, dtype=object), np.array(regions, dtype=object)]


class CommuneGeneralizer(Generalizer):
    """Commune → the département of its record's postcode → région → "*".

    Names repeat across départements ("Saint-Denis"), so a commune's level-0 value is
    the pair (name, département of the record's postcode): two communes of one name
    stay two classes, and both publish their name. Ingest has checked that the
    postcode serves the commune or lies in its département. A record without a
    commune is still placed by its postcode (its level-0 label is empty).
    """

    def __init__(self, field_name: str, postcode_field: str) -> None:
        super().__init__(field_name, ("département", "région"))
        self.postcode = PostcodeGeneralizer(postcode_field)

    def encode_records(self, records: pd.DataFrame) -> EncodedColumn:
        """The (name, département) pairs encoded once each, then given to every record.

        WHY not a tuple per record: a million Python tuples, hashed one by one, cost the
        anonymize stage ~300 MB and seconds; a record's pair is two integer codes, and the
        distinct pairs are few. Same codes, maps and labels as encoding the tuples.
        """
        postcodes = self.postcode.encode(records[self.postcode.field].reset_index(drop=True))
        places = postcodes.maps[1][postcodes.codes].astype(np.int64)
        communes = records[self.field].reset_index(drop=True)
        names, _ = pd.factorize(communes)  # -1: no commune
        pair_codes, _ = pd.factorize((names + 1) * max(postcodes.n_codes(1), 1) + places)
        first = np.unique(pair_codes, return_index=True)[1]  # each pair's first record
        pairs = [
            (None if names[row] < 0 else communes.iloc[row], postcodes.labels[1][places[row]])
            for row in first
        ]
        encoded = self.encode(pd.Series(pairs, dtype=object))
        return replace(encoded, codes=encoded.codes[pair_codes])

    def _exact_labels(self, uniques: pd.Index) -> pd.Index:
        return pd.Index([name for name, _ in uniques], dtype=object)

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        departements = [departement for _, departement in uniques]
        regions = [DEPARTEMENTS[code].region.name for code in departements]
        return [np.array(departements, dtype=object), np.array(regions, dtype=object)]


class DateGeneralizer(Generalizer):
    """Date or timestamp → month "2026-03" → quarter "2026-T1" → year "2026" → "*".

    Timezone-aware values are generalized in their own (wall-clock) time zone.
    """

    def __init__(self, field_name: str, levels: list[str]) -> None:
        super().__init__(field_name, tuple(levels))
        self.levels = list(levels)

    def _to_datetimes(self, uniques: pd.Index) -> pd.DatetimeIndex:
        try:
            return pd.DatetimeIndex(pd.to_datetime(uniques, errors="raise", format="ISO8601"))
        except (ValueError, TypeError) as exc:
            for value in uniques:
                try:
                    pd.to_datetime(value, format="ISO8601")
                except (ValueError, TypeError):
                    raise self._error(value, "is not a date or timestamp") from None
            raise HierarchyError(
                f"field '{self.field}': its values cannot be read as one datetime column "
                f"({exc}); convert them to a single time zone first"
            ) from None

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        moments = self._to_datetimes(uniques)
        years = moments.year.to_numpy(dtype=np.int64)
        months = moments.month.to_numpy(dtype=np.int64) - 1
        by_level = {
            "month": years * 12 + months,
            "quarter": years * 4 + months // 3,
            "year": years,
        }
        return [by_level[level] for level in self.levels]

    def _label(self, level: int, key: Any) -> str:
        key = int(key)
        kind = self.levels[level - 1]
        if kind == "month":
            return f"{key // 12:04d}-{key % 12 + 1:02d}"
        if kind == "quarter":
            return f"{key // 4:04d}-T{key % 4 + 1}"
        return f"{key:04d}"


class GroupingGeneralizer(Generalizer):
    """Category → the group each level's mapping names → "*"."""

    def __init__(self, field_name: str, levels: list[dict[str, str]]) -> None:
        super().__init__(field_name, tuple(f"groups {i}" for i in range(1, len(levels) + 1)))
        self.levels = [dict(mapping) for mapping in levels]

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        first = self.levels[0]
        unknown = [value for value in uniques if value not in first]
        if unknown:
            raise self._error(unknown[0], f"is not in the grouping (known: {sorted(first)})")
        keys = [[first[value] for value in uniques]]
        for mapping in self.levels[1:]:
            keys.append([mapping[group] for group in keys[-1]])
        return [np.array(level_keys, dtype=object) for level_keys in keys]


class SuppressGeneralizer(Generalizer):
    """Value → "*" in one step: fields too coarse to band (gender)."""

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name, ())

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        return []


class ValueMappingGeneralizer(Generalizer):
    """Value → the labels its row of a value-mapping file gives (ARX's format) → "*".

    The table is a validated tree (`include.core.hierarchy_file`); a value is
    looked up by its text (`value_key`: 39, 39.0 and "39" match the row "39"), and
    level 0 still publishes the value as the data holds it. A value without a row
    raises `HierarchyError`: the file, not the data, would have to change.
    """

    def __init__(self, field_name: str, table: ValueMappingTable) -> None:
        super().__init__(
            field_name, tuple(f"level {i}" for i in range(1, table.n_intermediate + 1))
        )
        self.table = table

    def _intermediate_keys(self, uniques: pd.Index) -> list[np.ndarray]:
        paths = []
        for value in uniques:
            path = self.table.paths.get(value_key(value))
            if path is None:
                raise self._error(
                    value,
                    f"has no row in the hierarchy file {self.table.source} "
                    f"({len(self.table.paths)} values)",
                )
            paths.append(path)
        return [
            np.array([path[level] for path in paths], dtype=object)
            for level in range(self.table.n_intermediate)
        ]

    def encode(self, values: pd.Series | pd.Index | np.ndarray | list[Any]) -> EncodedColumn:
        """Encode as any hierarchy does, and record how much of the file each label covers."""
        column = super().encode(values)
        domain = [np.ones(column.n_codes(0), dtype=np.int64)]
        for level in range(1, column.top):
            covered = Counter(path[level - 1] for path in self.table.paths.values())
            domain.append(np.array([covered[label] for label in column.labels[level]]))
        domain.append(np.array([len(self.table.paths)], dtype=np.int64))
        return replace(column, domain_leaves=tuple(domain))


def hierarchy_from_csv(
    path: str | Path, field_name: str, separator: str = ";"
) -> ValueMappingGeneralizer:
    """The generalizer of `field_name` described by an ARX-style value-mapping CSV file.

    One row per value, ``value;level1;…;*``, no header; the file is checked to be a
    tree first (`HierarchyFileError`, a `ValueError`, names the file and the lines).
    """
    return ValueMappingGeneralizer(field_name, read_value_mapping(Path(path), separator))


def build_generalizer(spec: FieldSpec) -> Generalizer:
    """The generalizer a field's config asks for."""
    hierarchy = spec.hierarchy
    if isinstance(hierarchy, NumericBands):
        return NumericBandsGeneralizer(
            spec.name,
            hierarchy.widths,
            integer=spec.type is FieldType.INTEGER,
            minimum=spec.minimum,
            maximum=spec.maximum,
        )
    if isinstance(hierarchy, PostcodeFr):
        return PostcodeGeneralizer(spec.name)
    if isinstance(hierarchy, CommuneFr):
        return CommuneGeneralizer(spec.name, hierarchy.postcode_field)
    if isinstance(hierarchy, DateLevels):
        return DateGeneralizer(spec.name, list(hierarchy.levels))
    if isinstance(hierarchy, Grouping):
        return GroupingGeneralizer(spec.name, hierarchy.levels)
    if isinstance(hierarchy, Suppress):
        return SuppressGeneralizer(spec.name)
    if isinstance(hierarchy, HierarchyFile):
        return ValueMappingGeneralizer(spec.name, hierarchy.table)
    raise HierarchyError(
        f"field '{spec.name}' has no generalization hierarchy; give it one in the source "
        f"config or change its role"
    )
