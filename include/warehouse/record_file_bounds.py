"""What a release's record-level file tells a reader about each cell of its aggregates.

A source that publishes its records and tables of counts over the same records gives a
reader two views of one population. Cell suppression that ignores the record file hides
what the file lets anyone count. `record_file_bounds` computes, for every cell of every
aggregate (margins and grand total included), the interval a reader gets from the file
alone; `include.warehouse.aggregates.protect_source` hands those intervals to the linked-table
engine as known cells, so a suppression pattern passes only if no hidden cell is narrowed
below its protection by the tables and the file together.

How a reader reads a row, for one dimension (a field at an aggregate level):
- its published value is at the aggregate's level or finer (the exact value, or a label at
  a finer level of the same hierarchy): the row certainly counts in one cell;
- its value is coarser (a label at a coarser level, or "*"): the row may count in any cell
  whose values share that label.
Records the file leaves out (k-anonymity suppressed them) may count anywhere. So a cell's
lower bound is the rows certainly in it, its upper bound adds the rows possibly in it and
the records left out. A row's level is the finest level whose label equals the published
value, which is how a reader knowing the hierarchy would read it; the labels are computed
from the true values of the rows (the private record store), the same values the tables
count, so bounds and counts cannot disagree.

The intervals are a relaxation of what the file says (a reader could also use that the
rows of one coarse label sum to a known number): they never claim more knowledge than the
file gives. The joint facts are strongest where they matter most: when the file shows
every dimension at the tables' levels and nothing was suppressed, every cell is exact.

WHY the knowledge is made of per-run facts (issue #14): the record file of a release is
every run's rows, and reading all of them (and every stored record) at each release costs
tens of seconds once the history reaches a million records. What the intervals need is
additive over runs, so each run's rows are counted once (`count_record_file`, when the run
is anonymized; stored by its load, `include.warehouse.record_file_facts`) and a release sums them
(`assemble_bounds`). A run's facts (`RecordFileFacts`) are:
- per aggregate, how many rows read as each combination of per-dimension readings (a
  certain code, or a coarse label at a level of the hierarchy);
- per dimension, how many rows carry each (level, label, code) triple: the option set of a
  coarse label is every code of a file row (of any run) carrying that label, as in one
  computation over the whole file;
- the records stored and how many of them the file leaves out.
Summed over runs these are exactly the counts one pass over the whole file gives, so the
intervals are the same as `record_file_bounds` over all the rows at once, whatever the
split. WHY not per-cell (lower, possible) counts per run: a run's "possible" cells would be
those of the true values sharing a coarse label within that run, which gives bounds at
least as tight that still hold the truth (harmless for a hidden cell: the auditor only gets
more conservative), but a cell they made exact is one `protect_source` publishes as `known`
even if small, while a reader of the file alone cannot pin it (the runs' coarse rows look
alike in the file). Keeping the (level, label, code) counts instead makes every option set
the union over runs, as the whole file has it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from include.anonymization.cell_system import KnownCell
from include.anonymization.hierarchies import EncodedColumn, build_generalizer
from include.core.source_config import (
    Aggregate,
    Dimension,
    FieldType,
    Role,
    SourceConfig,
    hierarchy_level,
)
from include.warehouse.aggregates import dimension_values

RECORD_FILE = "record-level file"


class RecordFileFactsError(ValueError):
    """Facts that do not describe the records the tables count (stale, or incomplete)."""


Cell = tuple[Hashable, ...]  # a cell's code per dimension, `...` where summed over
FACT_COLUMNS = ("kind", "name", "key", "count")  # `RecordFileFacts` as rows
_CERTAIN, _COARSE = "=", "~"


def code_text(code: Hashable) -> str:
    """A dimension code as JSON text, the form facts are kept and summed in: numbers,
    booleans and strings keep their type (1 and "1" stay apart), anything else (a date, a
    timestamp) is its text, `...` (a dimension summed over) is null."""
    if code is ...:
        return "null"
    if isinstance(code, np.generic):
        code = code.item()
    plain = code if isinstance(code, bool | int | float | str) else str(code)
    return json.dumps(plain, ensure_ascii=False)


def _json_list(*items: str) -> str:
    """A JSON array of items already in JSON text (one spelling, so texts can be summed)."""
    return "[" + ", ".join(items) + "]"


def _add_counts(total: dict[tuple[str, str], int], part: Mapping[tuple[str, str], int]) -> None:
    for key, rows in part.items():
        total[key] = total.get(key, 0) + int(rows)


@dataclass
class RecordFileFacts:
    """What one set of the record file's rows says, as counts that add up over runs (see
    the module docstring): a run's own facts, or the sum of several runs'."""

    records: int = 0  # records stored: what the tables count
    left_out: int = 0  # of those, the records the file leaves out
    # (aggregate, JSON [reading per dimension]) -> file rows read so; a reading is
    # ["=", code] (the row certainly counts in that code) or ["~", level, label]
    readings: dict[tuple[str, str], int] = field(default_factory=dict)
    # (dimension column, JSON [level, label, code]) -> file rows whose true value has that
    # code and carries that label at that level (the option sets of coarse labels)
    options: dict[tuple[str, str], int] = field(default_factory=dict)

    def __add__(self, other: RecordFileFacts) -> RecordFileFacts:
        readings, options = dict(self.readings), dict(self.options)
        _add_counts(readings, other.readings)
        _add_counts(options, other.options)
        return RecordFileFacts(
            self.records + other.records, self.left_out + other.left_out, readings, options
        )

    def rows(self) -> list[tuple[str, str, str, int]]:
        """The facts as (kind, name, key, count) rows: how they are written and stored."""
        return [
            ("records", "", "", self.records),
            ("left_out", "", "", self.left_out),
            *(("reading", name, key, n) for (name, key), n in sorted(self.readings.items())),
            *(("option", name, key, n) for (name, key), n in sorted(self.options.items())),
        ]

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows(), columns=list(FACT_COLUMNS))
        return frame.astype({"count": np.int64})

    @classmethod
    def from_rows(cls, rows: Iterable[Iterable[object]]) -> RecordFileFacts:
        """Facts from (kind, name, key, count) rows; rows of the same kind and key (several
        runs' facts) add up."""
        facts = cls()
        for kind, name, key, count in (tuple(row) for row in rows):
            n = int(count)  # type: ignore[call-overload]
            if kind == "records":
                facts.records += n
            elif kind == "left_out":
                facts.left_out += n
            elif kind in ("reading", "option"):
                bucket = facts.readings if kind == "reading" else facts.options
                pair = (str(name), str(key))
                bucket[pair] = bucket.get(pair, 0) + n
            else:
                raise ValueError(f"unknown kind of record file fact {kind!r}")
        return facts

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RecordFileFacts:
        missing = sorted(set(FACT_COLUMNS) - set(frame.columns))
        if missing:
            raise ValueError(f"record file facts lack column(s) {missing}")
        return cls.from_rows(frame[list(FACT_COLUMNS)].itertuples(index=False, name=None))


@dataclass(frozen=True)
class _DimensionReading:
    """How the file's rows read on one dimension: each row points at one reading (a certain
    code, or a coarse label at a level); `options` counts the rows per (level, label, code)
    for every level coarser than the dimension's."""

    rows: np.ndarray  # per file row: the index of its reading
    readings: tuple[str, ...]  # JSON ["=", code] or ["~", level, label]
    options: dict[str, int]  # JSON [level, label, code] -> rows


@dataclass(frozen=True)
class _ShownLevels:
    """How each row's shown value reads against the hierarchy's levels >= 1.

    WHY in integer codes: comparing each level's label of a million rows as strings costs
    a string array per level (hundreds of MB at 1M rows); the levels' few labels and the
    file's few shown values are compared once, and the rows by their codes."""

    level: np.ndarray  # per row: the finest level >= 1 whose label is shown, 0 if none
    shown: np.ndarray  # per row: its shown value's index in `shown_values` (-1: missing)
    shown_values: Sequence[str]
    row_labels: list[np.ndarray]  # per level >= 1: each row's label index at that level
    label_texts: list[np.ndarray]  # per level >= 1: its labels as text


def _shown_levels(encoded: EncodedColumn, shown: pd.Series) -> _ShownLevels:
    shown_codes, shown_values = pd.factorize(shown.astype(str))
    values = np.asarray(shown_values, dtype=object).astype(str)
    level = np.zeros(len(shown_codes), dtype=np.int64)
    unresolved = np.ones(len(shown_codes), dtype=bool)
    row_labels, label_texts = [], []
    for index in range(1, encoded.top + 1):
        texts = np.asarray(encoded.labels[index], dtype=object).astype(str)
        # One code per distinct text, labels and shown values alike; missing shows no label.
        union, _ = pd.factorize(np.concatenate([texts, values]).astype(object))
        shown_as = np.append(union[len(texts) :], -1)[shown_codes]
        rows = encoded.maps[index][encoded.codes]
        match = unresolved & (union[: len(texts)][rows] == shown_as)
        level[match] = index
        unresolved &= ~match
        row_labels.append(rows)
        label_texts.append(texts)
    return _ShownLevels(level, shown_codes, list(values), row_labels, label_texts)


def _read_dimension(
    config: SourceConfig, dim: Dimension, truth: pd.DataFrame, shown: pd.Series
) -> _DimensionReading:
    """`truth`: the file's rows at full precision (store values); `shown`: what the file
    publishes for the dimension's field, row for row."""
    codes = dimension_values(truth, config, dim).to_numpy(dtype=object)
    coarse = np.zeros(len(truth), dtype=bool)
    groups = np.zeros(len(truth), dtype=np.int64)
    wide_readings: list[str] = []
    options: dict[str, int] = {}
    spec = config.field(dim.field)
    # A value missing in the store stays certain: the file shows it as missing.
    present = np.flatnonzero(truth[dim.field].notna().to_numpy())
    if spec.role is Role.QUASI_IDENTIFIER and spec.hierarchy is not None and len(present):
        target = 0 if dim.level is None else hierarchy_level(spec, dim.level)
        encoded = build_generalizer(spec).encode_records(truth.iloc[present])
        read = _shown_levels(encoded, shown.iloc[present])
        wide = read.level > target
        ids, distinct = pd.factorize(
            pd.MultiIndex.from_arrays([read.level[wide], read.shown[wide]]), sort=False
        )
        coarse[present[wide]] = True
        groups[present[wide]] = ids
        wide_readings = [
            _json_list(
                json.dumps(_COARSE),
                str(int(lvl)),
                json.dumps(read.shown_values[value], ensure_ascii=False),
            )
            for lvl, value in distinct
        ]
        code_ids, distinct_codes = pd.factorize(pd.Series(codes[present], dtype=object))
        texts = [code_text(code) for code in distinct_codes]
        for lvl in range(target + 1, encoded.top + 1):
            # every code of a true value carrying a label at a coarser level than the table's
            pairs = pd.DataFrame({"label": read.row_labels[lvl - 1], "code": code_ids})
            label_texts = read.label_texts[lvl - 1]
            for (label, code), rows in pairs.value_counts(sort=False).items():
                label_text = json.dumps(str(label_texts[label]), ensure_ascii=False)
                key = _json_list(str(lvl), label_text, texts[code])
                options[key] = options.get(key, 0) + int(rows)
    certain_ids, certain_codes = pd.factorize(pd.Series(codes[~coarse], dtype=object))
    rows = np.empty(len(truth), dtype=np.int64)
    rows[~coarse] = certain_ids
    rows[coarse] = len(certain_codes) + groups[coarse]
    readings = tuple(_json_list(json.dumps(_CERTAIN), code_text(code)) for code in certain_codes)
    return _DimensionReading(rows, (*readings, *wide_readings), options)


def _utc_timestamps(config: SourceConfig, store: pd.DataFrame) -> pd.DataFrame:
    """Records from SQL and from a batch may carry other offsets: one form, in UTC."""
    store = store.copy()
    for spec in config.fields:
        if spec.type is FieldType.DATETIME and spec.name in store.columns:
            store[spec.name] = pd.to_datetime(store[spec.name], utc=True)
    return store


def _not_in(values: pd.Series, among: pd.Series) -> np.ndarray:
    """Which of `values` are not among `among`.

    WHY pyarrow: pandas' `isin` on its Arrow-backed strings builds one Arrow scalar per
    value of the set (most of the anonymize stage's time at a million rows); this is one
    hash lookup per value. An empty side has no Arrow type of its own."""
    looked_up = pa.array(values, from_pandas=True)
    known = pa.array(among, from_pandas=True)
    if len(known) == 0 or pa.types.is_null(looked_up.type):
        return np.ones(len(values), dtype=bool)
    found = pc.is_in(looked_up, value_set=known.cast(looked_up.type))
    return ~found.to_numpy(zero_copy_only=False)


def _same_ids(left: pd.Series, right: pd.Series) -> bool:
    """Equal id for id, in one Arrow comparison (no Python string per id)."""
    equal = pc.equal(
        pa.array(left, from_pandas=True).cast(pa.large_string()),
        pa.array(right, from_pandas=True).cast(pa.large_string()),
    )
    return equal.null_count == 0 and pc.all(equal).as_py() is not False


def _truth(
    config: SourceConfig,
    store: pd.DataFrame,
    published: pd.DataFrame,
    published_rows: np.ndarray | None,
) -> pd.DataFrame:
    """The published rows' records at full precision, row for row, by id; or, when the
    caller knows which records they are (`published_rows`: their positions in `store`),
    by position, each id checked equal (no join of a million ids)."""
    ids = config.id_field
    fields = list(dict.fromkeys([ids, *(d.field for a in config.aggregates for d in a.dimensions)]))
    if published_rows is not None:
        truth = _utc_timestamps(config, store[fields].iloc[published_rows]).reset_index(drop=True)
        if len(truth) != len(published) or not _same_ids(truth[ids], published[ids]):
            raise ValueError(
                f"{config.name}: the record file's rows are not the records at the positions "
                "given: the file and the tables must describe the same records"
            )
        return truth
    unknown = pd.Series(_not_in(published[ids], store[ids]), index=published.index)
    if unknown.any():
        raise ValueError(
            f"{config.name}: {int(unknown.sum())} row(s) of the record file have no record in "
            f"the store (first id {published.loc[unknown, ids].iloc[0]!r}); the file and the "
            "tables must describe the same records"
        )
    store = _utc_timestamps(config, store[fields])
    return published[[ids]].merge(store, on=ids, how="left", validate="one_to_one")


def count_record_file(
    config: SourceConfig,
    store: pd.DataFrame,
    published: pd.DataFrame,
    *,
    published_rows: np.ndarray | None = None,
) -> RecordFileFacts:
    """The facts of one set of rows: `store`, the records the tables count (full precision,
    with the id field); `published`, the record file's rows of those records (labels, with
    the id field). A run's facts are its stored records and its loaded rows.
    `published_rows`: the positions in `store` of the published rows, in order, where the
    caller knows them (the anonymize stage: its kept rows)."""
    truth = _truth(config, store, published, published_rows)
    facts = RecordFileFacts(records=len(store), left_out=len(store) - len(published))
    dimensions: dict[str, _DimensionReading] = {}
    for aggregate in config.aggregates:
        readings = []
        for dim in aggregate.dimensions:
            if dim.column not in dimensions:
                reading = _read_dimension(config, dim, truth, published[dim.field])
                dimensions[dim.column] = reading
                _add_counts(facts.options, {(dim.column, k): n for k, n in reading.options.items()})
            readings.append(dimensions[dim.column])
        combos = pd.DataFrame(dict(enumerate(r.rows for r in readings))).value_counts(sort=False)
        for combo, rows in combos.items():
            chosen = combo if isinstance(combo, tuple) else (combo,)
            key = _json_list(*(r.readings[i] for r, i in zip(readings, chosen, strict=True)))
            pair = (aggregate.name, key)
            facts.readings[pair] = facts.readings.get(pair, 0) + int(rows)
    return facts


def table_cells(config: SourceConfig, aggregate: Aggregate, records: pd.DataFrame) -> set[Cell]:
    """Every cell the aggregate counts over `records` (records, or their groups as
    `include.warehouse.aggregates.group_records` and the record store give them), with its margins
    and total."""
    codes = pd.DataFrame(
        {dim.column: dimension_values(records, config, dim) for dim in aggregate.dimensions}
    ).drop_duplicates()
    masks = list(_kept_dimensions(len(aggregate.dimensions)))
    return {
        tuple(code if keep else ... for code, keep in zip(row, kept, strict=True))
        for row in codes.itertuples(index=False, name=None)
        for kept in masks
    }


def _kept_dimensions(dims: int) -> Iterator[tuple[bool, ...]]:
    """Which dimensions a partial cell keeps: every subset, so a cell comes with its margins
    and the grand total (a dimension summed over is written `...`)."""
    return itertools.product((False, True), repeat=dims)


class _Decoder:
    """Facts name codes in their JSON text; the known cells must name the tables' codes."""

    def __init__(
        self, config: SourceConfig, facts: RecordFileFacts, counted: Mapping[str, set[Cell]]
    ):
        self.source = config.name
        self.codes: dict[str, dict[str, Hashable]] = {}
        for aggregate in config.aggregates:
            columns = [dim.column for dim in aggregate.dimensions]
            for cell in counted.get(aggregate.name, ()):
                for column, code in zip(columns, cell, strict=True):
                    if code is not ...:
                        self.codes.setdefault(column, {}).setdefault(code_text(code), code)
        options: dict[tuple[str, int, str], list[str]] = {}
        for (column, key), _rows in facts.options.items():
            level, label, code = json.loads(key)
            options.setdefault((column, int(level), str(label)), []).append(
                json.dumps(code, ensure_ascii=False)
            )
        self.options = {
            key: tuple(self.code(key[0], text) for text in sorted(texts))
            for key, texts in options.items()
        }

    def code(self, column: str, text: str) -> Hashable:
        try:
            return self.codes[column][text]
        except KeyError:
            raise RecordFileFactsError(
                f"{self.source}: the record file's facts name {column} = {text}, which no table "
                "counts: the facts and the record store disagree (a run's facts are stale?); "
                "nothing is protected with them"
            ) from None

    def reading(self, column: str, reading: list[object]) -> tuple[Hashable, ...]:
        """The cells a row read so may count in, on one dimension."""
        if reading[0] == _CERTAIN:
            return (self.code(column, json.dumps(reading[1], ensure_ascii=False)),)
        key = (column, int(reading[1]), str(reading[2]))  # type: ignore[call-overload]
        if key not in self.options:
            raise RecordFileFactsError(
                f"{self.source}: the record file's facts read {column} as {reading[2]!r} (level "
                f"{reading[1]}) but give no code under it: the facts are incomplete"
            )
        return self.options[key]


def assemble_bounds(
    config: SourceConfig, facts: RecordFileFacts, counted: Mapping[str, set[Cell]]
) -> list[KnownCell]:
    """Known cells of every aggregate (margins and grand total included) from the facts of
    every row the record file holds (summed over runs).

    `counted[name]`: every cell (margins included, `...` for a dimension at its total)
    aggregate `name` has (`table_cells`), so that a cell no row of the file can be in is
    known to hold at most the records left out; the facts' codes must be among them. One
    fact per cell: where two aggregates share a cell (a margin over a shared dimension),
    both give the same interval.
    """
    decoder = _Decoder(config, facts, counted)
    seen: dict[tuple[tuple[str, Hashable], ...], KnownCell] = {}
    for aggregate in config.aggregates:
        columns = [dim.column for dim in aggregate.dimensions]
        lower: dict[Cell, int] = {}
        possible: dict[Cell, int] = {}
        for (name, key), rows in facts.readings.items():
            if name != aggregate.name:
                continue
            per_dim = [
                decoder.reading(column, reading)
                for column, reading in zip(columns, json.loads(key), strict=True)
            ]
            for kept in _kept_dimensions(len(columns)):
                options = [per_dim[d] if keep else (...,) for d, keep in enumerate(kept)]
                sure = all(len(per_dim[d]) == 1 for d, keep in enumerate(kept) if keep)
                bucket = lower if sure else possible
                for cell in itertools.product(*options):
                    bucket[cell] = bucket.get(cell, 0) + rows
        cells = set(lower) | set(possible) | set(counted.get(aggregate.name, ()))
        for cell in sorted(cells, key=str):
            low = lower.get(cell, 0)
            high = low + possible.get(cell, 0) + facts.left_out
            codes = {col: code for col, code in zip(columns, cell, strict=True) if code is not ...}
            fact = KnownCell(codes, float(low), float(high), RECORD_FILE)
            seen.setdefault(tuple(sorted(fact.cell.items(), key=str)), fact)
    return list(seen.values())


def record_file_bounds(
    config: SourceConfig, store: pd.DataFrame, published: pd.DataFrame
) -> list[KnownCell]:
    """Known cells of every aggregate of the source, from the record file about to be
    published, in one pass over all of it. `store`: every record the tables count, at full
    precision, with the id field; `published`: the record file's rows (labels), with the
    id field. The same as summing the facts of any split of the rows into runs."""
    facts = count_record_file(config, store, published)
    records = _utc_timestamps(config, store)
    counted = {a.name: table_cells(config, a, records) for a in config.aggregates}
    return assemble_bounds(config, facts, counted)


__all__ = [
    "FACT_COLUMNS",
    "RECORD_FILE",
    "RecordFileFacts",
    "RecordFileFactsError",
    "assemble_bounds",
    "code_text",
    "count_record_file",
    "record_file_bounds",
    "table_cells",
]
