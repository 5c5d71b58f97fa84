"""What a published value may look like: generalization labels and pseudonyms, as regexes.

A quasi-identifier column of the curated table holds, for every row, the label of one
level of its hierarchy (`include.anonymization.hierarchies`): the value as collected
(level 0, when the search kept it), an intermediate label, or ``"*"``. The gate accepts
the labels of *any* level, because the level is chosen per run by the k-anonymity search;
what it refuses is a value no level of the hierarchy can produce (a full birth date in an
age column, a street address in a postcode column). Finite levels (groups, départements,
régions, allowed categories) are spelled out exactly; unbounded ones (numbers, dates)
are matched by shape.

Pseudonyms are checked against the exact format `include.anonymization.pseudonyms`
produces (`<key id>.<26 base32 characters>`): anything else in a pseudonym column is an
identifier that escaped the keyed hash.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from include.anonymization.hierarchies import TOP_LABEL
from include.core.geo_fr import DEPARTEMENTS
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

# Bounded integer fields have their every label spelled out, up to this many values.
MAX_ENUMERATED_VALUES = 1000
# HMAC-SHA256 truncated to 128 bits, base32 without padding: 26 characters.
PSEUDONYM_REGEX = r"^[a-z0-9]{1,8}\.[A-Z2-7]{26}$"

_NUMBER = r"-?\d+(?:\.\d+)?"
_DATE_LEVEL = {
    "month": r"\d{4}-(?:0[1-9]|1[0-2])",
    "quarter": r"\d{4}-T[1-4]",
    "year": r"\d{4}",
}
# A date or a timestamp as pandas or ISO 8601 writes it: "2026-03-14",
# "2026-03-14 10:22:00+00:00", "2026-03-14T10:22:00.123Z".
_EXACT_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?"


def _one_of(labels: Iterable[str]) -> str:
    """An alternation of literal labels, longest first (sorted, so the text is stable)."""
    return "|".join(re.escape(label) for label in sorted(set(labels), key=lambda s: (-len(s), s)))


def _anchored(*alternatives: str) -> str:
    return "^(?:" + "|".join(alternatives) + ")$"


def _level0(spec: FieldSpec) -> str:
    """The value as collected, when the search keeps a quasi-identifier ungeneralized."""
    if spec.allowed:
        return _one_of(spec.allowed)
    hierarchy = spec.hierarchy
    if isinstance(hierarchy, NumericBands):
        bounded = _bounded_integers(spec)
        return _NUMBER if bounded is None else _one_of(str(v) for v in range(*bounded))
    if isinstance(hierarchy, PostcodeFr):
        return r"\d{5}"
    if isinstance(hierarchy, DateLevels):
        return _EXACT_DATE
    # A commune's name (ingest checked it against the official list), or a free value
    # generalized in one step (Suppress on a string field).
    return r".+"


def _bounded_integers(spec: FieldSpec) -> tuple[int, int] | None:
    """[start, stop) of a bounded integer field small enough to spell out, else None."""
    if spec.type is not FieldType.INTEGER or spec.minimum is None or spec.maximum is None:
        return None
    low, high = math.ceil(spec.minimum), math.floor(spec.maximum)
    return (low, high + 1) if high - low <= MAX_ENUMERATED_VALUES else None


def _bands(spec: FieldSpec, width: int) -> str:
    """The labels of one band width: every aligned band of a bounded integer field, or a shape
    ("20-24", "-10--6" for integers, "[20, 25)" for decimals)."""
    bounded = _bounded_integers(spec)
    if bounded is None:
        return rf"-?\d+--?\d+|\[{_NUMBER}, {_NUMBER}\)"
    low, stop = bounded
    return _one_of(f"{a}-{a + width - 1}" for a in range(low // width * width, stop, width))


def _intermediate_levels(spec: FieldSpec) -> list[str]:
    """One alternation per level strictly between the value as collected and '*'."""
    hierarchy = spec.hierarchy
    if isinstance(hierarchy, NumericBands):
        return [_bands(spec, width) for width in hierarchy.widths]
    if isinstance(hierarchy, PostcodeFr | CommuneFr):
        regions = {departement.region.name for departement in DEPARTEMENTS.values()}
        return [_one_of(DEPARTEMENTS), _one_of(regions)]
    if isinstance(hierarchy, DateLevels):
        return [_DATE_LEVEL[level] for level in hierarchy.levels]
    if isinstance(hierarchy, Grouping):
        return [_one_of(level.values()) for level in hierarchy.levels]
    if isinstance(hierarchy, HierarchyFile):
        paths = hierarchy.table.paths.values()
        return [_one_of({path[j] for path in paths}) for j in range(hierarchy.table.n_intermediate)]
    if isinstance(hierarchy, Suppress):
        return []
    raise ValueError(
        f"field '{spec.name}' is not a quasi-identifier with a hierarchy; only those have "
        "generalization labels"
    )


def quasi_identifier_regex(spec: FieldSpec, level: int | None = None) -> str:
    """An anchored regex of the labels `spec`'s hierarchy publishes at `level` (1 = first
    coarsening, as `source_config.hierarchy_level` numbers them), or at any level (None)."""
    levels = [_level0(spec), *_intermediate_levels(spec), re.escape(TOP_LABEL)]
    if level is None:
        return _anchored(*levels)
    if not 1 <= level <= len(levels) - 2:
        raise ValueError(f"field '{spec.name}' has no generalization level {level}")
    return _anchored(levels[level])
