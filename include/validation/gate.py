"""The validation gate: fail closed before anything is loaded or published.

Typical use in a DAG task::

    tables = {agg.name: agg.cells for agg in protect_all(records, config)}
    report = validate_release(config, curated, tables)
    ledger.append(..., step="validate", payload=report.as_dict())   # pass or fail
    require_valid(report)   # raises ValidationFailed listing every failed check

`validate_curated` and `validate_aggregate` validate one table each. Besides the GX
suite, the gate runs one check of its own on every table: no column whose name contains
a direct identifier's name (any case or separator: "Reporter-Email", "raw_reporter_email")
unless the suite expects it (the pseudonym columns). The suite's exact column-set check
already rejects such a column; this one says *why* it matters, and does not depend on the
suite file being right.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from include.core.source_config import SourceConfig
from include.validation.frames import TableSource, as_source
from include.validation.gx_runner import run_suite
from include.validation.report import CheckpointReport, CheckResult, ValidationReport, shown_value
from include.validation.suite_files import EXPECTATIONS_DIR, load_checkpoint, load_suite
from include.validation.suites import CURATED, aggregate_table


def _normalized(name: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def _identifier_columns(source: TableSource, suite: Mapping[str, Any]) -> CheckResult:
    columns_check = next(e for e in suite["expectations"] if e["meta"]["check"] == "table.columns")
    expected = set(columns_check["kwargs"]["column_set"])
    forbidden = {_normalized(name): name for name in suite["meta"]["forbidden_columns"]}
    found = sorted(
        str(column)
        for column in source.columns
        if column not in expected and any(key in _normalized(column) for key in forbidden)
    )
    return CheckResult(
        check="table.no_direct_identifier",
        expectation="gate:no_direct_identifier_column",
        description=(
            "no column carries a direct identifier "
            f"({', '.join(sorted(forbidden.values())) or 'none declared'})"
        ),
        success=not found,
        observed={"direct identifier columns": [shown_value(c) for c in found]} if found else None,
    )


def _validate(
    table_data: pd.DataFrame | TableSource, config: SourceConfig, table: str, root: Path
) -> ValidationReport:
    suite = load_suite(config, table, root)
    source = as_source(table_data)
    results = [_identifier_columns(source, suite), *run_suite(suite, source)]
    return ValidationReport(
        source=config.name,
        table=table,
        suite=suite["name"],
        config_sha256=suite["meta"]["config_sha256"],
        row_count=len(source),
        results=tuple(results),
    )


def validate_curated(
    df: pd.DataFrame | TableSource, config: SourceConfig, *, root: Path = EXPECTATIONS_DIR
) -> ValidationReport:
    """Validate the record-level curated table (scrubbed, pseudonymized, generalized): a
    frame, or a source read a piece at a time (`frames.ParquetSource`)."""
    return _validate(df, config, CURATED, root)


def validate_aggregate(
    df: pd.DataFrame, config: SourceConfig, aggregate_name: str, *, root: Path = EXPECTATIONS_DIR
) -> ValidationReport:
    """Validate one long-format aggregate (dimensions, count, suppressed, suppression_reason)."""
    known = [aggregate.name for aggregate in config.aggregates]
    if aggregate_name not in known:
        raise KeyError(
            f"source '{config.name}' declares no aggregate '{aggregate_name}' (it declares "
            f"{known}); add it to sources/{config.name}.yaml and regenerate the suites"
        )
    return _validate(df, config, aggregate_table(aggregate_name), root)


def _absent(config: SourceConfig, table: str, suite: str, why: str) -> ValidationReport:
    """A failed report for a table that cannot be validated at all."""
    check = CheckResult(
        check="table.validated",
        expectation="gate:table_validated",
        description=why,
        success=False,
    )
    return ValidationReport(config.name, table, suite, "", 0, (check,))


def validate_release(
    config: SourceConfig,
    curated: pd.DataFrame | TableSource,
    aggregates: Mapping[str, pd.DataFrame],
    *,
    root: Path = EXPECTATIONS_DIR,
) -> CheckpointReport:
    """Run the source's checkpoint: every table it names, and nothing it does not name.

    A table the checkpoint names but the caller does not provide fails (a release would
    be incomplete), and so does a provided aggregate without a suite (it would be
    published unvalidated).
    """
    checkpoint = load_checkpoint(config, root)
    tables = {CURATED: curated} | {aggregate_table(n): df for n, df in aggregates.items()}
    reports = []
    for validation in checkpoint["validations"]:
        table = validation["table"]
        if table not in tables:
            reports.append(
                _absent(config, table, validation["suite"], f"the release lacks table '{table}'")
            )
        elif table == CURATED:
            reports.append(validate_curated(tables[table], config, root=root))
        else:
            name = table.split(":", 1)[1]
            reports.append(validate_aggregate(tables[table], config, name, root=root))
    named = {validation["table"] for validation in checkpoint["validations"]}
    reports.extend(
        _absent(config, table, "(none)", f"table '{table}' has no suite in {checkpoint['name']}")
        for table in sorted(set(tables) - named)
    )
    return CheckpointReport(checkpoint["name"], config.name, tuple(reports))
