"""Running a suite file with Great Expectations (GX Core 1.x), and reading its results safely.

- GX is imported inside functions: the import costs ~5 s, which DAG parsing and every
  command that never validates must not pay.
- One ephemeral context per process (cached): no on-disk state, nothing under
  `gx/uncommitted/`; the suites come from the committed files, not from a GX store.
- Progress bars are switched off in the context (GX draws one per validation on stderr,
  which floods task logs).
- GX results carry sample values; they are converted to `CheckResult` right here, and
  for checks flagged `withhold_values` only counts and row positions are kept.
- The residual-PII checks read only the rows a vectorised first pass leaves them
  (`pii_prefilter`), with the same outcome, counts and rows as on every row; those rows
  are gathered over slices, up to a slice's worth, for one GX run.
- A table is validated in slices of `SLICE_ROWS` rows (see `frames`): memory follows the
  slice, not the run. A check whose outcome on a row depends only on that row (and on the
  derived statistics, computed over the whole table) runs on every slice and its results
  are combined; any other check (uniqueness, and whatever type is not known to be
  row-wise) runs once over the whole table, reduced to the columns it names.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.validation.frames import FrameSource, TableSource, as_source, validation_slices
from include.validation.pii_patterns import mask_pii
from include.validation.pii_prefilter import narrowable, narrowed_checks, narrowed_frame
from include.validation.report import SHOWN_ROWS, CheckResult, shown_value

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

_TYPE_CHECKS = {"expect_column_values_to_be_in_type_list"}
_MAX_ERROR_CHARS = 300
SLICE_ROWS = 100_000
# Checks a slice answers for its own rows: per-row value checks, and the column set (the
# same in every slice). Any other type runs over the whole table: fail-safe for a type
# added to a suite later.
_SLICEABLE = frozenset(
    {
        "expect_column_values_to_be_in_type_list",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_value_lengths_to_be_between",
        "expect_table_columns_to_match_set",
    }
)
_COLUMN_ARGUMENTS = ("column", "column_A", "column_B")


@functools.cache
def _batch_definition() -> BatchDefinition:
    """A whole-dataframe batch definition in a quiet ephemeral context, built once."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every batch under HASH_THRESHOLD bytes by hashing all its values, for
    # batch markers the gate never reads: 3 s of 17 at 200,000 rows. 0 turns it off (GX
    # reads the module's value at each batch).
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("civic_validation").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_table")


def _error(exception_info: Mapping[str, Any] | None) -> str | None:
    """GX's error message, whether given flat or per metric; masked and shortened."""
    if not exception_info:
        return None
    infos = [exception_info] if "raised_exception" in exception_info else exception_info.values()
    messages = [
        str(info.get("exception_message") or "unknown error")
        for info in infos
        if isinstance(info, Mapping) and info.get("raised_exception")
    ]
    if not messages:
        return None
    return mask_pii("; ".join(dict.fromkeys(messages)))[:_MAX_ERROR_CHARS]


def _sample(kind: str, values: list[Any]) -> tuple[str, ...]:
    if kind in _TYPE_CHECKS:  # say which types were found, not which values
        return tuple(dict.fromkeys(type(value).__name__ for value in values))
    return tuple(shown_value(value) for value in values)


def _observed(result: Mapping[str, Any]) -> dict[str, Any] | None:
    mismatched = (result.get("details") or {}).get("mismatched")
    if not mismatched:
        return None
    return {
        f"{key} columns": [shown_value(column) for column in columns]
        for key, columns in mismatched.items()
        if columns
    }


def _rows(index_list: list[Any]) -> tuple[int, ...]:
    """Row positions GX reports (the frame has a fresh RangeIndex, so labels are positions)."""
    return tuple(int(i) for i in index_list[:SHOWN_ROWS] if isinstance(i, numbers.Integral))


def _convert(outcome: ExpectationValidationResult, expectation: Mapping[str, Any]) -> CheckResult:
    kind = expectation["type"]
    meta = expectation["meta"]
    withhold = bool(meta["withhold_values"])
    result: Mapping[str, Any] = outcome.result or {}
    count = result.get("unexpected_count")
    return CheckResult(
        check=meta["check"],
        expectation=kind,
        description=expectation["description"],
        success=bool(outcome.success),
        column=expectation["kwargs"].get("column"),
        unexpected_count=None if count is None else int(count),
        element_count=None if count is None else int(result.get("element_count") or 0),
        rows=_rows(result.get("partial_unexpected_index_list") or []),
        sample=() if withhold else _sample(kind, result.get("partial_unexpected_list") or []),
        values_withheld=withhold,
        observed=None if withhold else _observed(result),
        error=_error(outcome.exception_info),
    )


def _run(
    name: str,
    expectations: Sequence[Mapping[str, Any]],
    frame: pd.DataFrame,
    *,
    as_run: Sequence[Mapping[str, Any]] | None = None,
) -> list[CheckResult]:
    """Validate one frame against some of a suite's expectations; results in their order.

    `as_run`: the same checks as GX is to run them (pointed at other columns of `frame`,
    `pii_prefilter`); the results still name the suite's own.
    """
    import great_expectations as gx

    run = expectations if as_run is None else as_run
    gx_suite = gx.ExpectationSuite(name=name, expectations=copy.deepcopy(list(run)))
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(
        gx_suite,
        # No index query: a list of every failing row as a string, which the gate never
        # reads and GX builds for each check (1.1 s of 26 at a million rows).
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SHOWN_ROWS,
            "return_unexpected_index_query": False,
        },
    )
    by_check = {outcome.expectation_config.meta["check"]: outcome for outcome in validation.results}
    return [_convert(by_check[e["meta"]["check"]], e) for e in expectations]


class _NarrowedChecks:
    """The residual-PII checks, run by GX on the candidate rows (`pii_prefilter`) of
    several slices at once; each result counts the rows of those slices, as GX reading
    every row counts them.

    WHY gathered: GX costs per check and per call whatever the rows (about 9 ms), and a
    slice's candidate rows are few: fifty checks on each 100,000-row slice took 4.3 s of
    a million-row gate. The candidates wait until they fill a slice, so memory stays a
    slice's.
    """

    def __init__(
        self, name: str, expectations: Sequence[Mapping[str, Any]], slice_rows: int
    ) -> None:
        self.name = name
        self.expectations = expectations
        self.slice_rows = slice_rows
        self.pending: list[pd.DataFrame] = []
        self.as_run = narrowed_checks(expectations)
        self.waiting = 0  # candidate rows pending
        self.covered = 0  # rows of the slices they come from

    def add(self, frame: pd.DataFrame) -> list[CheckResult]:
        """Take a slice's candidates; the results of a GX run once they fill a slice."""
        candidates = narrowed_frame(frame, self.expectations)
        self.pending.append(candidates)
        self.waiting += len(candidates)
        self.covered += len(frame)
        return self.flush() if self.waiting >= self.slice_rows else []

    def flush(self) -> list[CheckResult]:
        """GX on the pending candidates (none: no results)."""
        if not self.pending:
            return []
        candidates = pd.concat(self.pending) if len(self.pending) > 1 else self.pending[0]
        results = [
            result
            if result.element_count is None
            else dataclasses.replace(result, element_count=self.covered)
            for result in _run(self.name, self.expectations, candidates, as_run=self.as_run)
        ]
        self.pending, self.waiting, self.covered = [], 0, 0
        return results


def _combined(parts: Sequence[CheckResult]) -> CheckResult:
    """One check's results on every slice as one result on the whole table."""
    first = parts[0]
    if len(parts) == 1:
        return first
    counted = [part for part in parts if part.unexpected_count is not None]
    sample = tuple(value for part in parts for value in part.sample)
    if first.expectation in _TYPE_CHECKS:
        sample = tuple(dict.fromkeys(sample))
    errors = "; ".join(dict.fromkeys(part.error for part in parts if part.error))
    return dataclasses.replace(
        first,
        success=all(part.success for part in parts),
        unexpected_count=sum(p.unexpected_count or 0 for p in counted) if counted else None,
        element_count=sum(p.element_count or 0 for p in counted) if counted else None,
        rows=tuple(row for part in parts for row in part.rows)[:SHOWN_ROWS],
        sample=sample[:SHOWN_ROWS],
        observed=next((part.observed for part in parts if part.observed is not None), None),
        error=errors[:_MAX_ERROR_CHARS] or None,
    )


def _whole_table(
    source: TableSource, derived: Mapping[str, Any], expectations: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """The one frame the whole-table checks read: only the columns they name, unless one
    names none or a derived statistic (then every column, with the statistics)."""
    named: set[str] = set()
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        named.update(str(kwargs[key]) for key in _COLUMN_ARGUMENTS if key in kwargs)
        named.update(str(column) for column in kwargs.get("column_list", ()))
    if not named or named & set(derived):
        table, statistics = source, derived
    else:
        columns = [column for column in source.columns if column in named]
        table, statistics = FrameSource(source.read(columns)), {}
    (frame,) = validation_slices(table, statistics, max(len(source), 1))
    return frame


def run_suite(
    suite: Mapping[str, Any],
    table: pd.DataFrame | TableSource,
    *,
    slice_rows: int = SLICE_ROWS,
) -> list[CheckResult]:
    """Validate `table` (with the derived statistics its suite names) against a suite file's
    content, slice by slice where a check allows it; results in the suite's order."""
    source = as_source(table)
    expectations = suite["expectations"]
    derived = suite["meta"]["derived_columns"]
    narrowed = [e for e in expectations if narrowable(e)]
    sliced = [e for e in expectations if e["type"] in _SLICEABLE and not narrowable(e)]
    whole = [e for e in expectations if e["type"] not in _SLICEABLE]
    outcomes: dict[str, list[CheckResult]] = {}
    narrowing = _NarrowedChecks(suite["name"], narrowed, slice_rows)
    if sliced or narrowed:
        for frame in validation_slices(source, derived, slice_rows):
            results = _run(suite["name"], sliced, frame) if sliced else []
            if narrowed:
                results += narrowing.add(frame)
            for result in results:
                outcomes.setdefault(result.check, []).append(result)
        for result in narrowing.flush():
            outcomes.setdefault(result.check, []).append(result)
    if whole:
        for result in _run(suite["name"], whole, _whole_table(source, derived, whole)):
            outcomes[result.check] = [result]
    return [_combined(outcomes[e["meta"]["check"]]) for e in expectations]
