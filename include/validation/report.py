"""What the validation gate found, in a form safe to log and to record in the audit ledger.

Nothing here holds a raw value from a column that may contain personal data: results
are converted from GX's (which carry sample values) as they arrive, and for any check
flagged `withhold_values` (residual-PII patterns, free-text and pseudonym columns) only
counts and row positions survive. Values that are shown (a category outside its set, a
class size) are still passed through `mask_pii` and truncated, in case a value that
should never be there (an e-mail in a category column) is what failed. `as_dict()`,
meant for the append-only ledger, holds no values at all: counts, positions, column
names and check names only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from include.validation.pii_patterns import mask_pii

SHOWN_ROWS = 5
SHOWN_VALUE_CHARS = 40


def shown_value(value: object) -> str:
    """A value as an error message may print it: masked for PII shapes and truncated."""
    text = mask_pii(str(value))
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[: SHOWN_VALUE_CHARS - 1] + "…"
    return text


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation (or one of the gate's own checks) on one table."""

    check: str  # stable name from the suite, e.g. "opinion.no_pii.email"
    expectation: str  # the GX expectation type, or "gate:<check>" for the gate's own
    description: str
    success: bool
    column: str | None = None
    unexpected_count: int | None = None
    element_count: int | None = None
    rows: tuple[int, ...] = ()  # positions of the first failing rows in the caller's frame
    sample: tuple[str, ...] = ()  # shown values (empty when withheld); never in as_dict()
    values_withheld: bool = False
    observed: dict[str, Any] | None = None  # table-level findings (e.g. unexpected columns)
    error: str | None = None  # the check could not run (e.g. its column is missing)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check": self.check,
            "expectation": self.expectation,
            "column": self.column,
            "success": self.success,
        }
        if self.unexpected_count is not None:
            data["unexpected_count"] = self.unexpected_count
            data["element_count"] = self.element_count
            data["rows"] = list(self.rows)
        if self.observed is not None:
            data["observed"] = self.observed
        if self.error is not None:
            data["error"] = self.error
        return data

    def describe(self) -> str:
        """One line for a log or an exception message."""
        line = f"{self.check} [{self.expectation}]: {self.description}"
        if self.error is not None:
            return f"{line}; the check could not run: {self.error}"
        if self.unexpected_count is not None:
            line += f"; {self.unexpected_count} of {self.element_count} values fail"
            if self.rows:
                more = ", …" if self.unexpected_count > len(self.rows) else ""
                line += f" (rows {', '.join(map(str, self.rows))}{more})"
            if self.values_withheld:
                line += "; values withheld (they may be personal data)"
            elif self.sample:
                line += f"; e.g. {', '.join(self.sample)}"
        if self.observed:
            line += "; " + "; ".join(f"{key}: {value}" for key, value in self.observed.items())
        return line


@dataclass(frozen=True)
class ValidationReport:
    """One suite run against one table (the curated records or one aggregate)."""

    source: str
    table: str  # "curated" or "aggregate:<name>"
    suite: str
    config_sha256: str  # the config the suite was generated from: which rules applied
    row_count: int
    results: tuple[CheckResult, ...]

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.success)

    def summary(self) -> str:
        verdict = "passed" if self.success else f"{len(self.failures)} failed"
        return (
            f"[{self.source} / {self.table}] suite {self.suite}, {self.row_count} rows: "
            f"{len(self.results)} checks, {verdict}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "table": self.table,
            "suite": self.suite,
            "config_sha256": self.config_sha256,
            "row_count": self.row_count,
            "success": self.success,
            "checks": len(self.results),
            "failed": [result.as_dict() for result in self.failures],
        }


@dataclass(frozen=True)
class CheckpointReport:
    """Every table of one release, each validated by the suite its checkpoint names."""

    checkpoint: str
    source: str
    reports: tuple[ValidationReport, ...]

    @property
    def success(self) -> bool:
        return all(report.success for report in self.reports)

    def summary(self) -> str:
        return "\n".join(report.summary() for report in self.reports)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "source": self.source,
            "success": self.success,
            "tables": [report.as_dict() for report in self.reports],
        }


class ValidationFailed(RuntimeError):  # noqa: N818 (the name the pipeline issue uses)
    """Validation failed: nothing may be loaded or published. Lists every failed check."""

    def __init__(self, reports: Sequence[ValidationReport]) -> None:
        self.reports = tuple(reports)
        lines = ["Validation failed: loading and publication are blocked."]
        for report in self.reports:
            if report.success:
                continue
            lines.append(report.summary())
            lines.extend(f"  - {failure.describe()}" for failure in report.failures)
        lines.append(
            "What to do: fix the step that produced these rows (PII scrubbing, anonymization, "
            "aggregation), or remove or replace the raw objects that carry them, then run the "
            "source again: the next run takes over this run's raw objects and reads them again "
            "(nothing is lost, nothing counts as a duplicate); the previous release stays "
            "published."
        )
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type[ValidationFailed], tuple[tuple[ValidationReport, ...]]]:
        # Rebuilt from its reports, not from the message (executors pickle task exceptions).
        return (type(self), (self.reports,))


def require_valid(report: ValidationReport | CheckpointReport) -> None:
    """Raise `ValidationFailed` (listing each failed check) unless everything passed."""
    reports = report.reports if isinstance(report, CheckpointReport) else (report,)
    if not report.success:
        raise ValidationFailed(reports)
