"""Value-mapping hierarchy files, as ARX ships them: one row per value, its coarsenings beside.

ARX (the reference k-anonymity tool) and its public benchmarks describe a categorical
or banded quasi-identifier by a text file, one row per original value, no header::

    39;35-39;30-39;20-39;*
    Bachelors;Undergraduate;Higher education;*

column 0 is the value as collected, column j its label at generalization level j. This
module reads such a file and checks that it is a tree before anything is generalized
with it, because a file that is not one would publish a level that is not a coarsening
of the level below (one class split between two parents: a reader who sees both
levels in two releases recombines them).

The rules, and why:

- every row has the same number of columns: a short row is a value whose coarsest
  levels were forgotten, not a shallower branch (ARX itself requires equal lengths);
- every label at level j has one parent at level j + 1, whatever row it appears on;
  rows may repeat (ARX's `sex` and `salary-class` files list each value twice), but a
  value or group given two different parents is refused, naming both lines;
- the top is one root. ARX's files all end with a `*` column; a file whose last column
  holds more than one label gets a `*` level added above it. Either way the top level
  publishes `*`, whatever the file names its root, as every other hierarchy does;
- no empty cell, and at least two columns (the value and one level).

Values are text, as in the files; `value_key` says how a number in the data is matched.
Cells are read with Python's csv module: a cell may be quoted with `"` (to hold the
separator), nothing is trimmed, blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class HierarchyFileError(ValueError):
    """A hierarchy file is missing, unreadable, or does not describe a tree."""


def value_key(value: Any) -> str:
    """The text a data value is looked up by in a hierarchy file.

    Strings as they are; integers (Python or numpy) by their decimal digits; a float
    holding a whole number as that integer (``39.0`` → ``"39"``: a column read with a
    missing value becomes float), any other float by its shortest text (``2.5``).
    Anything else (booleans, dates) by ``str``. So the data's 39, 39.0 and "39" all
    match the row ``39;…``, while "039" does not.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ValueMappingTable:
    """A validated hierarchy file: each value's labels at the levels between it and ``*``.

    ``paths[value]`` holds the value's label at levels 1 .. ``n_intermediate`` (the
    file's columns after the value, its root column left out); ``line_of[value]`` is the
    first line the value appears on, for messages.
    """

    source: str
    paths: dict[str, tuple[str, ...]]
    line_of: dict[str, int]
    n_intermediate: int

    @property
    def n_levels(self) -> int:
        """Levels including the value itself and ``*`` (ARX's hierarchy height)."""
        return self.n_intermediate + 2


def _check_separator(separator: str) -> None:
    if len(separator) != 1 or separator in '\r\n"':
        raise HierarchyFileError(
            f"a hierarchy file separator must be one character other than a quote or a line "
            f"break, got {separator!r}"
        )


def parse_value_mapping(
    lines: Iterable[str], source: str, separator: str = ";"
) -> ValueMappingTable:
    """Validate the lines of a hierarchy file (see the module's rules); `source` names it."""
    _check_separator(separator)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(lines, delimiter=separator, quotechar='"', strict=True)
    try:
        for row in reader:
            if row:
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise HierarchyFileError(f"{source}: line {reader.line_num}: {exc}") from None
    if not rows:
        raise HierarchyFileError(f"{source}: the hierarchy file has no rows")
    first_line, first = rows[0]
    width = len(first)
    if width < 2:
        raise HierarchyFileError(
            f"{source}: line {first_line}: a row needs the value and at least one coarser "
            f"level, found {width} column (is the separator {separator!r} right?)"
        )
    # parent[j][label] = (label at level j + 1, line it was first given on)
    parent: list[dict[str, tuple[str, int]]] = [{} for _ in range(width - 1)]
    for line, row in rows:
        if len(row) != width:
            raise HierarchyFileError(
                f"{source}: line {line} has {len(row)} columns, line {first_line} has "
                f"{width}: every value needs a label at every level"
            )
        if "" in row:
            raise HierarchyFileError(f"{source}: line {line}: column {row.index('') + 1} is empty")
        for level in range(width - 1):
            label, up = row[level], row[level + 1]
            known = parent[level].setdefault(label, (up, line))
            if known[0] != up:
                raise HierarchyFileError(
                    f"{source}: {label!r} (level {level}) has two parents: {known[0]!r} on "
                    f"line {known[1]} and {up!r} on line {line}; a hierarchy must be a tree"
                )
    root_given = len({row[-1] for _, row in rows}) == 1
    kept = width - 1 if root_given else width
    paths: dict[str, tuple[str, ...]] = {}
    line_of: dict[str, int] = {}
    for line, row in rows:
        if row[0] not in paths:
            paths[row[0]] = tuple(row[1:kept])
            line_of[row[0]] = line
    return ValueMappingTable(source=source, paths=paths, line_of=line_of, n_intermediate=kept - 1)


def read_value_mapping(path: Path, separator: str = ";") -> ValueMappingTable:
    """Read and validate a hierarchy file (UTF-8; ARX's are ASCII)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HierarchyFileError(
            f"{path}: cannot read the hierarchy file: {exc.strerror}"
        ) from None
    except UnicodeDecodeError as exc:
        raise HierarchyFileError(f"{path}: the hierarchy file is not UTF-8 text: {exc}") from None
    return parse_value_mapping(io.StringIO(text, newline=""), str(path), separator)
