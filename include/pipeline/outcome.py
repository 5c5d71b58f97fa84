"""How a stage ends: one entry in the audit ledger, or a refusal whose reason is in it.

Every stage appends one entry to the audit ledger (`record`). A stage that stops on
purpose (fail closed) records why before raising (`refuse`); an S3 server that stops
answering mid-stage is one such refusal (`s3_failures`), one line in the log and the
ledger instead of a client library's traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from include.audit import append
from include.pipeline.context import PipelineContext


class StageRefusedError(RuntimeError):
    """A stage refused to go on (fail closed); the reason is also in the audit ledger."""


def record(ctx: PipelineContext, step: str, payload: Mapping[str, Any]) -> None:
    append(ctx.dsn, ctx.run_id, step, payload, ctx.audit_key, dag_id=ctx.dag_id)


def refuse(ctx: PipelineContext, step: str, reason: str) -> StageRefusedError:
    """Record why a stage stops (fail closed) and give the error to raise."""
    record(ctx, step, {"refused": reason})
    return StageRefusedError(reason)


@contextmanager
def s3_failures(ctx: PipelineContext, step: str, what: str) -> Iterator[None]:
    """An S3 server that stops answering (or loses an object) mid-stage: one line, in the
    log and the ledger, instead of a client library's traceback."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise refuse(
            ctx,
            step,
            f"{ctx.config.name}: {what} failed ({exc}); `latest` moves only once a release is "
            "complete and verified: rerun the task once the S3 server answers",
        ) from None
