"""The validate stage's task: the run's tables against their suites, fail closed.

Any failed check stops the run here: nothing of it is loaded or published, and the
report (never a value that may be personal data) is in the audit ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from include.pipeline.context import PipelineContext
from include.pipeline.outcome import record
from include.pipeline.workzone import aggregate_frames, object_body
from include.validation import require_valid, validate_release
from include.validation.frames import ParquetSource


def validate(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    # Read a row group at a time by the gate, never converted whole (`ParquetSource`).
    curated = ParquetSource(object_body(ctx, anonymized["curated_key"]))
    report = validate_release(ctx.config, curated, aggregate_frames(ctx, anonymized))
    record(ctx, "validate", report.as_dict())
    require_valid(report)
    return {"success": True, "checks": len(report.reports)}
