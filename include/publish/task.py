"""The publish stage's task: a new release of everything to date, fail closed.

Nothing is read from the work zone: records and aggregates come from PostgreSQL.
Before anything is published the platform's accounting is checked, every aggregate is
recomputed from scratch over the record store and compared with what was loaded, and
the audit ledger has been verified (`include.audit.task.verify_ledger`) against the
head the previous release recorded; any refusal's reason is in the ledger. The release
carries a signed checkpoint of that verified ledger, its run's entries with inclusion
proofs and the consistency proof from the previous release's checkpoint
(`include.publish.ledger_checkpoint.release_log`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from include.anonymization.pseudonyms import pseudonym_column
from include.audit.chain import Anchor
from include.audit.errors import LedgerError, PublicLogError
from include.audit.public_log import PreviousCheckpoint, ReleaseLog
from include.core.zones import sse_arguments
from include.pipeline.context import PipelineContext, pipeline_version
from include.pipeline.outcome import record, refuse, s3_failures
from include.publish import (
    AggregateInput,
    CheckResult,
    RunInfo,
    build_release,
    mirror_release,
    publish_release,
)
from include.publish.errors import PublicationBlockedError
from include.publish.ledger_checkpoint import release_log
from include.publish.manifest import ledger_anchor, ledger_log, scrubber_statement
from include.publish.record_batches import (
    RecordBatch,
    earlier_batches,
    forget_batches,
    lost_batches,
    record_batch,
    unbatched_slices,
    written_batch,
)
from include.publish.s3_release import committed_manifest, release_sizes
from include.publish.scrubber_statement import ScrubberStatement, current_statement
from include.scrubber_evaluations import REFERENCE_CORPORA
from include.warehouse.aggregates import ProtectedAggregate, protect_source
from include.warehouse.indicators import record_release
from include.warehouse.joint_protection import (
    backfill_record_file_facts,
    previous_release_cells,
    record_file_knowledge,
)
from include.warehouse.load import ensure_warehouse
from include.warehouse.pg_tables import (
    RUN_COLUMN,
    aggregate_columns,
    aggregate_table,
    curated_columns,
)
from include.warehouse.platform_accounting import platform_accounting
from include.warehouse.record_file_bounds import RecordFileFactsError
from include.warehouse.record_store import store_groups
from include.warehouse.release_history import mark_published

log = logging.getLogger(__name__)


def _earlier_batches(ctx: PipelineContext, release_id: str) -> list[RecordBatch]:
    """The earlier releases' batches, listed by checksum; those whose files the public
    bucket lost are forgotten (committed here), so that their rows go into this release."""
    source = ctx.config.name
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        earlier = earlier_batches(conn, source, release_id)
        with s3_failures(ctx, "publish", "listing the earlier releases' record files"):
            lost = lost_batches(earlier, release_sizes(ctx.s3, ctx.settings.public_bucket, source))
        if lost:
            log.warning(
                "%s: the public bucket lost the record files of releases %s: their rows go into "
                "release %s again",
                source,
                [batch.release_id for batch in lost],
                release_id,
            )
            forget_batches(conn, source, [batch.release_id for batch in lost])
    return [batch for batch in earlier if batch not in lost]


@dataclass
class _BatchRead:
    """How many rows the release's batch held, and which runs they came from: known once
    its slices have all been handed over."""

    rows: int = 0
    runs: set[str] = field(default_factory=set)


def _batch_slices(
    ctx: PipelineContext, release_id: str, read: _BatchRead
) -> Iterator[pd.DataFrame]:
    """The rows this release publishes (those no earlier release holds: the run's own, on
    a platform that published every run), a slice at a time, without the columns a
    release never carries (not even read), counted into `read` as they go.

    WHY read as the release is built rather than before: the release converts each slice
    to its published types as it comes, so only one slice is ever held as Python objects;
    read up front, the whole batch was, before the first slice was converted."""
    withheld = {pseudonym_column(spec.name) for spec in ctx.config.direct_identifiers}
    with psycopg.connect(ctx.dsn) as conn:
        for frame in unbatched_slices(
            conn, ctx.config, release_id, curated_columns(ctx.config), without=withheld
        ):
            read.runs.update(map(str, frame[RUN_COLUMN].unique()))
            read.rows += len(frame)
            yield frame.drop(columns=[RUN_COLUMN])


def _cell_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[str | int | bool | None, ...]]:
    """Cells (dimensions..., count, suppressed, reason) in one form, whoever computed them:
    dimensions as the warehouse stores them (text; None for a total's summed-over
    dimension), counts as Python ints, sorted."""
    cells = [
        (
            *(None if pd.isna(value) else str(value) for value in row[:-3]),
            None if pd.isna(row[-3]) else int(row[-3]),
            bool(row[-2]),
            None if pd.isna(row[-1]) else str(row[-1]),
        )
        for row in rows
    ]
    return sorted(cells, key=str)


def _aggregates_from_scratch(ctx: PipelineContext) -> list[ProtectedAggregate]:
    """Every aggregate recomputed from the whole record store, checked equal to the tables
    loaded (and validated); refuses to go on otherwise. Protected with what the record file
    tells as the stored runs' facts give it, the same facts the anonymize stage summed (the
    run's own were counted from its batch there and stored by its load)."""
    config = ctx.config
    loaded = {}
    backfill_record_file_facts(ctx.dsn, config)
    with psycopg.connect(ctx.dsn) as conn:
        groups = {a.name: store_groups(conn, config, a) for a in config.aggregates}
        try:
            known = record_file_knowledge(conn, config, groups)
        except RecordFileFactsError as exc:
            raise refuse(ctx, "publish", f"{exc}: not published") from None
        recomputed = protect_source(
            groups, config, known, previous_release_cells(conn, config, ctx.run_id)
        )
        for aggregate in config.aggregates:
            names = [name for name, _ in aggregate_columns(aggregate)][:-1]  # not the run
            loaded[aggregate.name] = conn.execute(
                sql.SQL("SELECT {} FROM {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, names)),
                    sql.Identifier("aggregates", aggregate_table(config, aggregate.name)),
                )
            ).fetchall()
    for protected in recomputed:
        columns = list(protected.columns)
        names = [*columns, "count", "suppressed", "suppression_reason"]
        expected = _cell_rows(protected.cells[names].itertuples(index=False, name=None))
        stored = _cell_rows(loaded[protected.name])
        if expected != stored:
            differ = [pair for pair in zip(stored, expected, strict=False) if pair[0] != pair[1]]
            first = differ[0] if differ else (len(stored), len(expected))
            raise refuse(
                ctx,
                "publish",
                f"{config.name}: aggregate {protected.name} in the warehouse differs from a "
                f"from-scratch computation over the record store ({len(stored)} cells stored, "
                f"{len(expected)} recomputed; first difference: {first[0]} vs {first[1]}): "
                "not published; rerun the run from its anonymize task",
            )
    return recomputed


def _release_ledger_head(
    committed: Mapping[str, Any] | None, run: RunInfo, verified: Mapping[str, Any]
) -> Anchor | None:
    """The head this release records: the one its manifest already carries if a first
    attempt committed it (a rerun rebuilds the same bytes), else the head just verified."""
    if committed is not None:
        return ledger_anchor(committed, f"release {run.release_id}")
    return Anchor.parse(str(verified["head"])) if verified.get("head") else None


def _release_public_log(
    ctx: PipelineContext,
    committed: Mapping[str, Any] | None,
    run: RunInfo,
    head: Anchor | None,
    verified: Mapping[str, Any],
) -> ReleaseLog | None:
    """The release's public log of the ledger (`include.audit.public_log`) up to the head
    it records, proven to extend the previous release's checkpoint (which `verify_ledger`
    read with that head). On a rerun, the checkpoints its committed manifest carries are
    reused (same bytes); a release committed before the public log existed stays without.
    A ledger that does not extend the previous checkpoint stops the publication."""
    if head is None:
        return None
    committed_checkpoint = None
    if committed is not None:
        signed = ledger_log(committed, f"release {run.release_id}")
        if signed is None:
            return None
        committed_checkpoint, previous = signed
    else:
        given = verified.get("previous_checkpoint")
        previous = None if given is None else PreviousCheckpoint.from_json(given, "verify_ledger")
    try:
        return release_log(
            ctx.dsn, ctx.audit_key, head, ctx.run_id, ctx.dag_id, previous, committed_checkpoint
        )
    except (PublicLogError, LedgerError) as exc:
        raise refuse(
            ctx, "publish", f"{ctx.config.name}: {exc}: not published; treat this as an incident"
        ) from None


def _release_scrubber(
    ctx: PipelineContext, committed: Mapping[str, Any] | None, run: RunInfo
) -> ScrubberStatement:
    """What this release states of the PII scrubber: what its manifest already states if a
    first attempt committed it (same bytes on a rerun), else this scrubber's version and
    the latest evaluations on record. Never blocks: a missing or outdated evaluation is
    said in the release (see `scrubber_statement`), logged, and recorded in the ledger."""
    stated = None
    if committed is not None:
        stated = scrubber_statement(committed, f"release {run.release_id}")
    statement = stated or current_statement(ctx.dsn)
    for kind, status in statement.ledger_facts()["evaluations"].items():
        if status != "current":
            log.warning(
                "%s: release %s states scrubber %s, whose %s evaluation is %s: the release says "
                "so; run `%s` to record one",
                ctx.config.name,
                run.release_id,
                statement.version,
                kind,
                "missing" if status == "none" else "of another version",
                "civic eval scrub --corpus" if kind == REFERENCE_CORPORA else "civic eval scrub",
            )
    return statement


def publish(
    ctx: PipelineContext,
    anonymized: Mapping[str, Any],
    validated: Mapping[str, Any],
    verified: Mapping[str, Any],
) -> dict[str, Any]:
    """A new release of everything to date; skipped when the run brought no new records.

    `verified` is what `verify_ledger` returned: the ledger's head, checked just before.
    Nothing is read from the work zone: records and aggregates come from PostgreSQL.
    """
    if not anonymized["records_in"]:
        summary = {"skipped": "no new submissions in this run; latest release unchanged"}
        record(ctx, "publish", summary)
        return summary
    config = ctx.config
    accounting = platform_accounting(ctx.dsn, config)
    if not accounting.balanced:
        raise refuse(ctx, "publish", f"not published: {accounting.summary()}")
    aggregates = _aggregates_from_scratch(ctx)
    run = RunInfo(ctx.run_id, pipeline_version(), ctx.run_date)
    records = config.publish_record_level
    earlier = _earlier_batches(ctx, run.release_id) if records else []
    read = _BatchRead()
    with (
        tempfile.TemporaryDirectory(prefix="civic-release-") as staging,
        s3_failures(ctx, "publish", f"publishing release {run.release_id}"),
        closing(_batch_slices(ctx, run.release_id, read)) as slices,
    ):
        committed = committed_manifest(
            ctx.s3, ctx.settings.public_bucket, config.name, run.release_id
        )
        scrubber = _release_scrubber(ctx, committed, run)
        head = _release_ledger_head(committed, run, verified)
        log = _release_public_log(ctx, committed, run, head, verified)
        try:
            files = build_release(
                config,
                run,
                Path(staging),
                records=slices if records else None,
                anonymization=anonymized.get("anonymization") if records else None,
                aggregates=[AggregateInput(a.name, a.cells, a.summary) for a in aggregates],
                earlier_batches=earlier,
                checks=[CheckResult("great_expectations", bool(validated.get("success")))],
                scrubber=scrubber,
                ledger=head,
                log=log,
            )
        except PublicationBlockedError as exc:  # a privacy gate: the reason goes to the ledger
            raise refuse(ctx, "publish", str(exc)) from None
        published = publish_release(
            ctx.s3, ctx.settings.public_bucket, files, sse_arguments(ctx.settings)
        )
        with psycopg.connect(ctx.dsn) as conn:  # public now: the next release protects against it
            mark_published(conn, config.name, ctx.run_id)
            record_release(conn, config.name, ctx.run_id, files.release_id, ctx.run_date.date())
            if records:  # and its batch is the next release's earlier file
                batch = written_batch(files, config.name, read.rows)
                record_batch(conn, config.name, batch, sorted(read.runs))
        mirrored = mirror_release(files, ctx.settings.exports_dir)
    summary = {
        "release_id": files.release_id,
        "manifest_sha256": files.manifest_sha256,
        "bucket": published.bucket,
        "prefix": published.prefix,
        "uploaded": len(published.uploaded),
        "previous_latest": published.previous_latest,
        "mirror": str(mirrored.directory),
        "records": read.rows,
        "earlier_batches": len(earlier),
        "rows_received_to_date": accounting.rows_received,
        "scrubber": scrubber.ledger_facts(),
        "checkpoint": None
        if log is None
        else {
            "tree_size": log.checkpoint.head.size,
            "root_hash": log.checkpoint.head.root.hex(),
            "previous_release": None if log.previous is None else log.previous.release_id,
        },
    }
    record(ctx, "publish", summary)
    return summary
