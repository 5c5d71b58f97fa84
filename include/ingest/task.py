"""The ingest stage's tasks: the run's raw objects into the work zone, and the run's books.

`ingest` takes the raw objects no run has taken and writes typed chunks to the work
zone (`include.ingest.run`); `account`, once the run's records are published or
suppressed, checks that every row read is accounted for (`include.ingest.accounting`)
and hands a balanced run's figures to the analysts' indicator tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from include.ingest import AccountingError, DateRange, check_accounting, ingest_run
from include.pipeline.context import PipelineContext
from include.pipeline.outcome import record
from include.warehouse.indicators import TextCounts, record_run_indicators


def ingest(ctx: PipelineContext, date_range: DateRange | None = None) -> dict[str, Any]:
    """New raw objects (within `date_range`'s delivery partitions, if given) → work zone."""
    result = ingest_run(
        ctx.s3, ctx.dsn, ctx.settings, ctx.config, ctx.run_id, date_range=date_range
    )
    payload = result.to_xcom()
    if date_range is not None:
        payload["date_range"] = [str(date_range.first), str(date_range.last)]
    record(ctx, "ingest", payload)
    return payload


def account(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    """rows ingested = published + suppressed + quarantined + duplicates, or the run fails.

    A balanced run's figures then go to the analysts' indicator tables.
    """
    published, suppressed = (
        int(anonymized["records_published"]),
        int(anonymized["records_suppressed"]),
    )
    try:
        accounting = check_accounting(ctx.dsn, ctx.config.name, ctx.run_id, published, suppressed)
    except AccountingError as exc:
        record(ctx, "accounting", {"balanced": False, "error": str(exc)})
        raise
    payload = {**asdict(accounting), "balanced": accounting.balanced}
    record(ctx, "accounting", payload)
    record_run_indicators(
        ctx.dsn,
        accounting,
        ctx.run_date.date(),
        TextCounts(int(anonymized["texts"]), int(anonymized["texts_redacted"])),
    )
    return payload
