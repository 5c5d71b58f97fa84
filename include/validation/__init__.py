"""The validation gate ("Validate, fail closed"): Great Expectations suites kept as files.

Every table the pipeline loads or publishes (the record-level curated table, each
aggregate) is validated against a GX Core 1.x suite committed under `expectations/`,
generated from its source config (`suites`, `suite_files`). A failure blocks load and
publication: `require_valid` raises `ValidationFailed` listing each failed check, and
`as_dict()` of the report is what the audit ledger records. Neither ever contains a
value that may be personal data.

Importing this package does not import GX (about 5 s): that happens on the first
validation, so DAG parsing never pays for it. Suites: `python -m include.validation
write|check` (see `suite_files`).
"""

from include.validation.gate import validate_aggregate, validate_curated, validate_release
from include.validation.report import (
    CheckpointReport,
    CheckResult,
    ValidationFailed,
    ValidationReport,
    require_valid,
)
from include.validation.suite_files import SuiteFileError

__all__ = [
    "CheckResult",
    "CheckpointReport",
    "SuiteFileError",
    "ValidationFailed",
    "ValidationReport",
    "require_valid",
    "validate_aggregate",
    "validate_curated",
    "validate_release",
]
