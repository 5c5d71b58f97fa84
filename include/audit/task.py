"""The verify_ledger stage's task: the whole audit ledger checked before anything is published.

The chain and its signatures are recomputed, and the head is checked against the head
the previous release recorded in its manifest (`include.publish.ledger_checkpoint`), so
entries cut from the end are caught too. Fail closed: a broken ledger stops the run.
The previous release's signed checkpoint, read from the same manifest, is handed on to
the publish stage, which proves the new release's ledger extends it.
"""

from __future__ import annotations

from typing import Any

from include.audit import verify
from include.pipeline.context import PipelineContext
from include.pipeline.outcome import record, refuse, s3_failures
from include.publish.ledger_checkpoint import LedgerCheckpointError, previous_checkpoint


def verify_ledger(ctx: PipelineContext) -> dict[str, Any]:
    """The whole ledger, against the head the previous release recorded: before publishing.

    A broken chain, a bad signature or entries cut from the end stop the run here."""
    try:
        with s3_failures(ctx, "verify_ledger", "reading the previous release's manifest"):
            checkpoint = previous_checkpoint(
                ctx.s3,
                ctx.settings.public_bucket,
                ctx.settings.exports_dir,
                ctx.dsn,
                ctx.config.name,
            )
    except (LedgerCheckpointError, ValueError) as exc:
        raise refuse(ctx, "verify_ledger", str(exc)) from None
    result = verify(ctx.dsn, ctx.audit_key, anchor=checkpoint.anchor)
    if not result.intact:
        reason = (
            f"audit ledger broken at {result.problem} (checked against {checkpoint.where}): "
            "not published; treat this as an incident"
        )
        raise refuse(ctx, "verify_ledger", reason)
    payload = {
        "entries": result.count,
        "head": str(result.head) if result.head else None,
        "anchor": str(checkpoint.anchor) if checkpoint.anchor else None,
        "anchor_from": checkpoint.where,
        "previous_checkpoint": None if checkpoint.log is None else checkpoint.log.to_json(),
    }
    record(ctx, "verify_ledger", payload)
    return payload
