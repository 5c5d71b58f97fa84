"""Running a suite file with Great Expectations (GX Core 1.x), and reading its results safely.

- GX is imported inside functions: the import costs ~5 s, which DAG parsing and every
  command that never validates must not pay.
- One ephemeral context per process (cached): no on-disk state, nothing under
  `gx/uncommitted/`; the suites come from the committed files, not from a GX store.
- Progress bars are switched off in the context (GX draws one per validation on stderr,
  which floods task logs).
- GX results carry sample values; they are converted to `CheckResult` right here, and
  for checks flagged `withhold_values` only counts and row positions are kept.
"""

from __future__ import annotations

import copy
import functools
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.validation.pii_patterns import mask_pii
from include.validation.report import SHOWN_ROWS, CheckResult, shown_value

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

_TYPE_CHECKS = {"expect_column_values_to_be_in_type_list"}
_MAX_ERROR_CHARS = 300


@functools.cache
def _batch_definition() -> BatchDefinition:
    """A whole-dataframe batch definition in a quiet ephemeral context, built once."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

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


def run_suite(suite: Mapping[str, Any], frame: pd.DataFrame) -> list[CheckResult]:
    """Validate `frame` against a suite file's content; results in the suite's order."""
    import great_expectations as gx

    expectations = suite["expectations"]
    gx_suite = gx.ExpectationSuite(name=suite["name"], expectations=copy.deepcopy(expectations))
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(
        gx_suite,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SHOWN_ROWS},
    )
    by_check = {outcome.expectation_config.meta["check"]: outcome for outcome in validation.results}
    return [_convert(by_check[e["meta"]["check"]], e) for e in expectations]
