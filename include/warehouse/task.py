"""The load stage's task: the run's records, rows and tables into PostgreSQL.

Reads the run's scrubbed records, each with the key its aggregates were computed with,
and what the anonymize stage wrote to the work zone, and loads them in one transaction
(`include.warehouse.load`); a refusal of the load is recorded in the audit ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from include.pipeline.context import PipelineContext
from include.pipeline.outcome import record, refuse
from include.pipeline.workzone import aggregate_frames, read_frame, read_frames
from include.warehouse.aggregates import RECORD_KEY
from include.warehouse.load import LoadError, load_run
from include.warehouse.record_file_bounds import RecordFileFacts


def _keyed_records(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> pd.DataFrame:
    """The run's scrubbed records, each with the key its aggregates were computed with."""
    records = read_frames(ctx, anonymized["scrubbed_keys"])
    written = anonymized.get("record_keys")
    if written is None:
        raise refuse(
            ctx,
            "load",
            f"{ctx.config.name}: the anonymize result names no record keys (it predates them): "
            "nothing loaded; re-run the run from its anonymize task",
        )
    keys = read_frame(ctx, written["key"])
    id_field = ctx.config.id_field
    by_id = dict(zip(keys[id_field], keys[RECORD_KEY], strict=True))
    matched = records[id_field].map(by_id)
    if len(keys) != len(records) or matched.isna().any():
        raise refuse(
            ctx,
            "load",
            f"{ctx.config.name}: the run's {len(records)} records and its {len(keys)} record keys "
            "do not match id for id: nothing loaded; re-run the run from its anonymize task",
        )
    return records.assign(**{RECORD_KEY: matched.astype("int64")})


def load(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    curated = read_frame(ctx, anonymized["curated_key"])
    records = _keyed_records(ctx, anonymized)
    written = anonymized.get("record_file_facts")  # absent: an anonymize result before them
    facts = None
    if written is not None:
        facts = RecordFileFacts.from_frame(read_frame(ctx, written["key"]))
    try:
        result = load_run(
            ctx.dsn,
            ctx.config,
            ctx.run_id,
            curated,
            aggregate_frames(ctx, anonymized),
            records=records,
            records_to_date=int(anonymized["records_to_date"]),
            record_file_facts=facts,
        )
    except LoadError as exc:
        raise refuse(ctx, "load", str(exc)) from None
    record(ctx, "load", result.as_dict())
    return result.as_dict()
