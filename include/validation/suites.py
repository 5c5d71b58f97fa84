"""Expectation suites derived from a source configuration, as plain GX Core 1.x JSON.

Choices, and why:

- Suite files of our own under `expectations/`, run in an ephemeral GX context, rather
  than a GX file-context project: the gate needs no GX store, leaves no state on disk
  (nothing under `gx/uncommitted/`), and a validation costs no context start-up. The
  files use GX's own suite JSON (`{"type", "kwargs", "meta", "description"}` per
  expectation); at run time each becomes a `gx.ExpectationSuite`, which validates every
  expectation's arguments.
- Generated from the config, and committed: most of a suite restates the source config
  (column set, types, allowed values, k, l, the minimum cell size). Written by hand, the
  two would drift apart; templated at run time, nothing would be reviewable in git. So
  `python -m include.validation write` generates them from `sources/*.yaml`, a unit test
  asserts the committed files equal what the generator produces, and every suite carries
  the SHA-256 of the config it was made from, which the gate checks at run time (a
  config edited without regenerating its suites blocks the run instead of validating
  against stale rules).
- The generator does not import GX (5 s of import for a pure function of the config).

Every expectation has a stable `meta.check` name (used to order and cite results) and a
`meta.withhold_values` flag: true when a failing value could be personal data (any
check on a free-text or pseudonym column, every residual-PII pattern), in which case the
report gives counts and row positions only.

What the gate computes before validating (`meta.derived_columns`, see `frames`): the
size of each row's equivalence class over the quasi-identifiers, and for l-diversity
the number of distinct values (or the entropy-based effective number) of each sensitive
field within the class. "Every class has ≥ k rows" then becomes an ordinary column
check, whose failures point at the offending rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from include.anonymization.pseudonyms import pseudonym_column
from include.core.source_config import (
    Aggregate,
    CellKeyDisclosure,
    FieldSpec,
    FieldType,
    HierarchyFile,
    Role,
    SourceConfig,
    hierarchy_level,
)
from include.validation.labels import PSEUDONYM_REGEX, quasi_identifier_regex
from include.validation.pii_patterns import PII_PATTERNS

GENERATED_BY = "python -m include.validation write"
DERIVED_PREFIX = "_gate_"
CLASS_SIZE_COLUMN = f"{DERIVED_PREFIX}class_size"
COUNT, SUPPRESSED, REASON = "count", "suppressed", "suppression_reason"
CURATED = "curated"

# Types are checked value by value (each non-null value's Python type, on an object copy
# of the frame): GX 1.24 compares pandas dtypes by identity and recognises neither
# pandas 3's `str` dtype nor time-zone-aware datetimes, and a value check is what the
# database load cares about anyway.
_PYTHON_TYPES: dict[FieldType, list[str]] = {
    FieldType.STRING: ["str"],
    FieldType.CATEGORY: ["str"],
    FieldType.INTEGER: ["int"],
    FieldType.NUMBER: ["int", "float"],
    FieldType.BOOLEAN: ["bool"],
    FieldType.DATE: ["date"],
    FieldType.DATETIME: ["datetime"],
}
Expectation = dict[str, Any]


def config_fingerprint(config: SourceConfig) -> str:
    """SHA-256 of the config's content: equal for equal configs, whatever the YAML layout.

    A `file` hierarchy's rows count as content too: editing the file must mark the suites
    stale as editing the YAML does (configs without one hash as they always did)."""
    data = config.model_dump(mode="json", by_alias=True)
    files = {
        spec.name: spec.hierarchy.table.paths
        for spec in config.fields
        if isinstance(spec.hierarchy, HierarchyFile)
    }
    if files:
        data["hierarchy_files"] = files
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def aggregate_table(name: str) -> str:
    return f"aggregate:{name}"


def diversity_column(field_name: str) -> str:
    return f"{DERIVED_PREFIX}diversity_{field_name}"


def _expectation(
    kind: str, check: str, description: str, *, withhold: bool = False, **kwargs: Any
) -> Expectation:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"check": check, "withhold_values": withhold},
        "description": description,
    }


def _row_condition(column: str, operator: str, parameter: object) -> dict[str, Any]:
    """A GX row condition, as GX serializes a `ComparisonCondition`."""
    return {
        "type": "comparison",
        "column": {"name": column},
        "operator": operator,
        "parameter": parameter,
    }


def _flag_on_every_row() -> Expectation:
    return _expectation(
        "expect_column_values_to_not_be_null",
        f"{SUPPRESSED}.required",
        f"every row says whether it is {SUPPRESSED}",
        column=SUPPRESSED,
    )


def _when_suppressed(flag: bool) -> dict[str, Any]:
    return _row_condition(SUPPRESSED, "==", flag)


def _python_types(spec: FieldSpec) -> list[str]:
    types = _PYTHON_TYPES[spec.type]
    if spec.role is Role.QUASI_IDENTIFIER and "str" not in types:
        return ["str", *types]  # a generalized label, or the value as collected (level 0)
    return types


@dataclass(frozen=True)
class _Column:
    """One published column of a field, and how much of the field's domain it may show."""

    spec: FieldSpec
    name: str
    level: int | None = None  # a fixed hierarchy level (an aggregate's `field:level`), else any
    required: bool = False
    # A GX row condition limiting the value checks (an aggregate's "not answered" label).
    condition: dict[str, Any] | None = None

    def expect(
        self, kind: str, check: str, description: str, *, withhold: bool = False, **kwargs: Any
    ) -> Expectation:
        if self.condition is not None:
            kwargs["row_condition"] = self.condition
        return _expectation(
            kind,
            f"{self.name}.{check}",
            description,
            withhold=withhold or self.spec.role is Role.FREE_TEXT,
            column=self.name,
            **kwargs,
        )


def _interval(low: float | None, high: float | None) -> str:
    def bound(value: float | None, infinite: str) -> str:
        return infinite if value is None else f"{value:g}"

    return f"[{bound(low, '-∞')}, {bound(high, '+∞')}]"


def _domain_expectation(column: _Column) -> list[Expectation]:
    """Labels of the hierarchy, allowed values or the numeric range, whichever applies."""
    spec, name = column.spec, column.name
    if spec.hierarchy is not None:  # a quasi-identifier (the config model guarantees it)
        which = "any level" if column.level is None else f"level {column.level}"
        return [
            column.expect(
                "expect_column_values_to_match_regex",
                "generalization_label",
                f"'{name}' holds labels of the {spec.hierarchy.kind} hierarchy of "
                f"'{spec.name}' ({which})",
                regex=quasi_identifier_regex(spec, column.level),
            )
        ]
    if spec.allowed:
        return [
            column.expect(
                "expect_column_values_to_be_in_set",
                "allowed",
                f"'{name}' takes only its allowed values {spec.allowed}",
                value_set=list(spec.allowed),
            )
        ]
    if spec.minimum is not None or spec.maximum is not None:
        return [
            column.expect(
                "expect_column_values_to_be_between",
                "range",
                f"'{name}' lies within {_interval(spec.minimum, spec.maximum)}",
                min_value=spec.minimum,
                max_value=spec.maximum,
            )
        ]
    return []


def _column_expectations(column: _Column) -> list[Expectation]:
    """Type, presence, domain, length and residual-PII checks of one column."""
    spec, name = column.spec, column.name
    types = ["str"] if column.level is not None else _python_types(spec)
    out = [
        column.expect(
            "expect_column_values_to_be_in_type_list",
            "type",
            f"'{name}' holds {spec.type.value} values (Python {' or '.join(types)})",
            type_list=types,
        )
    ]
    if column.required:
        out.append(
            _Column(spec, name).expect(
                "expect_column_values_to_not_be_null",
                "required",
                f"'{name}' is required: no record may lack it",
            )
        )
    out.extend(_domain_expectation(column))
    if spec.max_length is not None:
        out.append(
            column.expect(
                "expect_column_value_lengths_to_be_between",
                "max_length",
                f"'{name}' is at most {spec.max_length} characters long",
                max_value=spec.max_length,
            )
        )
    if spec.type is FieldType.STRING:
        out.extend(
            column.expect(
                "expect_column_values_to_not_match_regex",
                f"no_pii.{pattern.name}",
                f"no value of '{name}' contains {pattern.label} (the PII scrubber missed it)",
                withhold=True,
                regex=pattern.regex,
            )
            for pattern in PII_PATTERNS
        )
    return out


def _pseudonym_expectations(spec: FieldSpec) -> list[Expectation]:
    """A pseudonymized identifier: keyed pseudonyms only (values withheld: a failing one may
    be the identifier itself)."""
    column = _Column(spec, pseudonym_column(spec.name))
    out = [
        column.expect(
            "expect_column_values_to_match_regex",
            "format",
            f"'{column.name}' holds keyed pseudonyms ('<key id>.<26 base32 characters>'), "
            f"never the {spec.name} itself",
            withhold=True,
            regex=PSEUDONYM_REGEX,
        )
    ]
    if spec.required:
        out.append(
            column.expect(
                "expect_column_values_to_not_be_null",
                "required",
                f"'{column.name}' is required: no record may lack it",
                withhold=True,
            )
        )
    return out


def _columns_expectation(columns: list[str]) -> Expectation:
    return _expectation(
        "expect_table_columns_to_match_set",
        "table.columns",
        "the table has exactly the expected columns (no direct identifier, nothing missing)",
        column_set=columns,
        exact_match=True,
    )


def curated_columns(config: SourceConfig) -> list[str]:
    """The record-level columns: every field but direct identifiers, pseudonyms in their place."""
    columns = []
    for spec in config.fields:
        if spec.role is not Role.DIRECT_IDENTIFIER:
            columns.append(spec.name)
        elif spec.pseudonymize:
            columns.append(pseudonym_column(spec.name))
    clashes = sorted({c for c in columns if columns.count(c) > 1})
    if clashes:
        raise ValueError(
            f"source '{config.name}': curated columns {clashes} appear twice (a field is "
            "named like another field's pseudonym); rename the field"
        )
    return columns


def _metadata(config: SourceConfig, table: str, derived: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": config.name,
        "table": table,
        "config_sha256": config_fingerprint(config),
        "generated_by": GENERATED_BY,
        "forbidden_columns": [spec.name for spec in config.direct_identifiers],
        "derived_columns": derived,
    }


def _privacy_expectations(config: SourceConfig) -> tuple[dict[str, Any], list[Expectation]]:
    """k-anonymity and l-diversity as checks on per-row class statistics the gate derives."""
    qis = [spec.name for spec in config.quasi_identifiers]
    over = ", ".join(qis) or "(no quasi-identifier: the whole table)"
    derived: dict[str, Any] = {CLASS_SIZE_COLUMN: {"statistic": "class_size", "over": qis}}
    checks = [
        _expectation(
            "expect_column_values_to_be_between",
            "privacy.k_anonymity",
            f"every equivalence class over ({over}) has at least k={config.k} records",
            column=CLASS_SIZE_COLUMN,
            min_value=config.k,
        )
    ]
    if config.l_diversity > 1:
        for spec in config.sensitive_fields:
            column = diversity_column(spec.name)
            statistic = "distinct" if config.l_kind == "distinct" else "entropy"
            derived[column] = {"statistic": statistic, "of": spec.name, "over": qis}
            checks.append(
                _expectation(
                    "expect_column_values_to_be_between",
                    f"privacy.l_diversity.{spec.name}",
                    f"every equivalence class holds at least l={config.l_diversity} "
                    f"{'distinct' if statistic == 'distinct' else 'entropy-effective'} "
                    f"values of '{spec.name}'",
                    column=column,
                    # e^H of a class spread evenly over l values is l up to rounding.
                    min_value=config.l_diversity - (0 if statistic == "distinct" else 1e-9),
                )
            )
    return derived, checks


def curated_suite(config: SourceConfig) -> dict[str, Any]:
    """The suite for the record-level curated table of `config`."""
    derived, privacy = _privacy_expectations(config)
    expectations = [_columns_expectation([*curated_columns(config), *derived])]
    for spec in config.fields:
        if spec.role is Role.DIRECT_IDENTIFIER:
            if spec.pseudonymize:
                expectations.extend(_pseudonym_expectations(spec))
            continue
        expectations.extend(_column_expectations(_Column(spec, spec.name, required=spec.required)))
        if spec.name == config.id_field:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_unique",
                    f"{spec.name}.unique",
                    f"'{spec.name}' identifies one record: no value appears twice",
                    column=spec.name,
                )
            )
    expectations.extend(privacy)
    return {
        "name": f"{config.name}.{CURATED}",
        "expectations": expectations,
        "meta": _metadata(config, CURATED, derived),
    }


def _cell_expectations(config: SourceConfig, dimensions: list[str]) -> list[Expectation]:
    """Disclosure control of a long-format count table (see `cell_suppression`)."""
    minimum = config.min_cell_count
    uniqueness = (
        _expectation(
            "expect_column_values_to_be_unique",
            "cells.unique",
            f"each value of '{dimensions[0]}' has one row",
            column=dimensions[0],
        )
        if len(dimensions) == 1
        else _expectation(
            "expect_compound_columns_to_be_unique",
            "cells.unique",
            f"each combination of {dimensions} has one row",
            column_list=dimensions,
        )
    )
    # Imported here: cell_suppression pulls in scipy, which the gate's run time never needs.
    from include.anonymization.cell_suppression import HIDING_REASONS, Reason

    reasons = [reason.value for reason in Reason]
    small = (
        [
            _expectation(
                "expect_column_values_to_not_be_in_set",
                f"{COUNT}.min_cell_count",
                f"no published count lies between 1 and {minimum - 1} "
                f"(min_cell_count={minimum}; true zeros may be published, and so may a "
                f"count the record-level file gives exactly: reason '{Reason.KNOWN.value}')",
                column=COUNT,
                value_set=list(range(1, minimum)),
                row_condition=_row_condition(REASON, "!=", Reason.KNOWN.value),
            )
        ]
        if minimum > 1
        else []
    )
    return [
        uniqueness,
        _expectation(
            "expect_column_values_to_be_in_type_list",
            f"{COUNT}.type",
            f"'{COUNT}' holds whole numbers",
            column=COUNT,
            type_list=["int"],
        ),
        _expectation(
            "expect_column_values_to_be_between",
            f"{COUNT}.non_negative",
            "no count is negative",
            column=COUNT,
            min_value=0,
        ),
        *small,
        _expectation(
            "expect_column_values_to_not_be_null",
            f"{COUNT}.published",
            "every cell that is not suppressed shows its count",
            column=COUNT,
            row_condition=_when_suppressed(False),
        ),
        _expectation(
            "expect_column_values_to_be_null",
            f"{COUNT}.suppressed_is_missing",
            "every suppressed cell has no count (missing: neither 0 nor its true value)",
            column=COUNT,
            row_condition=_when_suppressed(True),
        ),
        _expectation(
            "expect_column_values_to_be_in_type_list",
            f"{SUPPRESSED}.type",
            f"'{SUPPRESSED}' is a boolean flag",
            column=SUPPRESSED,
            type_list=["bool"],
        ),
        _flag_on_every_row(),
        _expectation(
            "expect_column_values_to_be_in_set",
            f"{REASON}.allowed",
            f"'{REASON}' is one of {reasons}",
            column=REASON,
            value_set=reasons,
        ),
        _expectation(
            "expect_column_values_to_not_be_null",
            f"{REASON}.when_suppressed",
            "every suppressed cell says why",
            column=REASON,
            row_condition=_when_suppressed(True),
        ),
        _expectation(
            "expect_column_values_to_be_in_set",
            f"{REASON}.why_hidden",
            f"a suppressed cell's reason is one of {[r.value for r in HIDING_REASONS]}",
            column=REASON,
            value_set=[reason.value for reason in HIDING_REASONS],
            row_condition=_when_suppressed(True),
        ),
        _expectation(
            "expect_column_values_to_be_in_set",
            f"{REASON}.when_published",
            f"a published cell has no reason, or '{Reason.KNOWN.value}' (a small count the "
            "record-level file gives exactly)",
            column=REASON,
            value_set=[Reason.KNOWN.value],
            row_condition=_when_suppressed(False),
        ),
    ]


def _perturbed_cell_expectations(
    config: SourceConfig, dimensions: list[str], js: int
) -> list[Expectation]:
    """A long-format count table perturbed by the cell key method (`cell_key_aggregates`):
    every count shown, whole and >= 0, none in 1..js; nothing flagged as suppressed. No
    minimum cell size: small counts are published, perturbed."""
    cells = _cell_expectations(config, dimensions)
    kept = {"cells.unique", f"{COUNT}.type", f"{COUNT}.non_negative", f"{SUPPRESSED}.type"}
    small = (
        [
            _expectation(
                "expect_column_values_to_not_be_in_set",
                f"{COUNT}.js",
                f"no published count lies between 1 and {js} (cell key js={js})",
                column=COUNT,
                value_set=list(range(1, js + 1)),
            )
        ]
        if js
        else []
    )
    return [
        *(e for e in cells if e["meta"]["check"] in kept),
        *small,
        _expectation(
            "expect_column_values_to_not_be_null",
            f"{COUNT}.published",
            "every cell shows its count (the cell key method hides nothing)",
            column=COUNT,
        ),
        _expectation(
            "expect_column_values_to_be_in_set",
            f"{SUPPRESSED}.never",
            f"'{SUPPRESSED}' is false on every row (the cell key method hides nothing)",
            column=SUPPRESSED,
            value_set=[False],
        ),
        _flag_on_every_row(),
        _expectation(
            "expect_column_values_to_be_null",
            f"{REASON}.never",
            "no cell has a suppression reason (the cell key method hides nothing)",
            column=REASON,
        ),
    ]


def aggregate_suite(config: SourceConfig, aggregate: Aggregate) -> dict[str, Any]:
    """The suite for one published aggregate: dimensions + count + suppression flags
    (for a source using the cell key method: counts perturbed, nothing hidden).

    Dimension values are those `include.warehouse.aggregates` publishes: the field's value as
    collected, or its label at the dimension's level; "not answered" as its own label
    (`MISSING_LABEL`, exempt from the value checks); missing in the margins, which leave
    the summed-over dimension empty (so dimensions are not required).
    """
    # Imported here: include.warehouse.aggregates pulls in scipy, which the gate's run time
    # never needs.
    from include.warehouse.aggregates import MISSING_LABEL

    columns = []
    for dimension in aggregate.dimensions:
        spec = config.field(dimension.field)
        level = None if dimension.level is None else hierarchy_level(spec, dimension.level)
        answered = _row_condition(dimension.column, "!=", MISSING_LABEL)
        columns.append(_Column(spec, dimension.column, level=level, condition=answered))
    names = [column.name for column in columns]
    expectations = [_columns_expectation([*names, COUNT, SUPPRESSED, REASON])]
    for column in columns:
        expectations.extend(_column_expectations(column))
    if isinstance(config.disclosure, CellKeyDisclosure):
        expectations.extend(_perturbed_cell_expectations(config, names, config.disclosure.js))
    else:
        expectations.extend(_cell_expectations(config, names))
    return {
        "name": f"{config.name}.aggregate.{aggregate.name}",
        "expectations": expectations,
        "meta": _metadata(config, aggregate_table(aggregate.name), {}),
    }
