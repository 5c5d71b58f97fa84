"""The pipeline's stages for one source and one run, each a rerunnable step.

Every stage reads its inputs from the private work zone (keys handed over by the
previous stage), writes its outputs under the run's own prefix (so a rerun
overwrites exactly what it wrote before) and appends one entry to the audit
ledger. What a stage returns is small and JSON-serializable: keys, counts and
summaries, never rows; it is what Airflow carries in XCom.

Record-level data is anonymized per run (each run's new submissions form one
k-anonymous, l-diverse batch that is never republished under another
generalization); aggregates are recomputed over all scrubbed submissions to date
(the private record store in PostgreSQL, grouped in SQL, plus the run's own batch)
and protected by cell suppression, or perturbed by the cell key method where the
source's config says so (with each record's key, drawn once when the run is first
anonymized, kept in the work zone until the load stores it with the record). What the
record file tells a reader of each cell comes from each run's record-file facts, counted
when the run is anonymized and stored by its load (`include.warehouse.record_file_facts`): no stage
re-reads the history's records and rows to protect the tables.

WHY the work zone is never trusted for history: it holds a run's transient chunks
only. A chunk that is missing stops the stage with its key named (rerun the run:
its raw objects are read again); the published figures come from PostgreSQL, and
before anything is published they are recomputed from scratch from the record
store, the platform's accounting is checked, and the audit ledger is verified
against the head the previous release recorded (fail closed, reason in the ledger).
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError
from psycopg import sql

from include.anonymization.kanonymity import InfeasibleGeneralizationError, anonymize
from include.anonymization.linked_suppression import KnownCell
from include.anonymization.pseudonyms import pseudonym_column
from include.audit import append, verify
from include.audit.chain import Anchor
from include.core.source_config import SourceConfig
from include.core.zones import sse_arguments
from include.ingest import AccountingError, DateRange, check_accounting, ingest_run
from include.ingest.chunks import parquet_bytes
from include.ingest.store import S3Sink
from include.pipeline.context import PipelineContext, pipeline_version
from include.publish import (
    AggregateInput,
    CheckResult,
    RunInfo,
    build_release,
    mirror_release,
    publish_release,
    summarize_anonymization,
)
from include.publish.errors import PublicationBlockedError
from include.publish.ledger_checkpoint import LedgerCheckpointError, previous_checkpoint
from include.publish.manifest import ledger_anchor, scrubber_statement
from include.publish.record_batches import (
    RecordBatch,
    earlier_batches,
    forget_batches,
    lost_batches,
    record_batch,
    unbatched_rows,
    written_batch,
)
from include.publish.s3_release import committed_manifest, release_sizes
from include.publish.scrubber_statement import ScrubberStatement, current_statement
from include.scrubber_evaluations import REFERENCE_CORPORA
from include.validation import require_valid, validate_release
from include.warehouse.aggregates import (
    RECORD_KEY,
    ProtectedAggregate,
    add_groups,
    group_records,
    protect_source,
)
from include.warehouse.indicators import TextCounts, record_run_indicators
from include.warehouse.load import (
    RUN_COLUMN,
    LoadError,
    aggregate_columns,
    aggregate_table,
    curated_columns,
    ensure_warehouse,
    load_run,
)
from include.warehouse.pg_tables import ensure_table
from include.warehouse.platform_accounting import platform_accounting
from include.warehouse.record_file_bounds import (
    RecordFileFacts,
    RecordFileFactsError,
    assemble_bounds,
    count_record_file,
    table_cells,
)
from include.warehouse.record_file_facts import backfill, needs_facts, stored_facts
from include.warehouse.record_store import (
    ensure_store,
    keys_for_records,
    record_count,
    store_groups,
)
from include.warehouse.release_history import mark_published, previous_release

if TYPE_CHECKING:  # the scrubber loads spaCy and Presidio: only the scrub task pays for it
    from include.anonymization.pii import Scrubber

log = logging.getLogger(__name__)
PARQUET = "application/vnd.apache.parquet"


class StageRefusedError(RuntimeError):
    """A stage refused to go on (fail closed); the reason is also in the audit ledger."""


# -- work zone ------------------------------------------------------------------------------


def read_frame(ctx: PipelineContext, key: str) -> pd.DataFrame:
    """A chunk of the run's work zone; a missing one stops the stage, named."""
    try:
        body = ctx.s3.get_object(Bucket=ctx.settings.work_bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in ("NoSuchKey", "404"):
            raise
        reason = (
            f"work-zone object s3://{ctx.settings.work_bucket}/{key} is missing (the S3 server "
            "lost it, or retention deleted it): nothing of this run is loaded or published; "
            "clear the whole run to read its raw objects again, or trigger a new run"
        )
        raise _refuse(ctx, "work_zone", reason) from None
    return pq.read_table(io.BytesIO(body)).to_pandas()


def write_frame(ctx: PipelineContext, key: str, frame: pd.DataFrame) -> str:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    S3Sink(ctx.s3, ctx.settings).put(key, parquet_bytes(table), PARQUET)
    return key


def read_frames(ctx: PipelineContext, keys: Sequence[str]) -> pd.DataFrame:
    """The chunks as one frame; no chunk gives an empty frame with the scrubbed columns."""
    frames = [read_frame(ctx, key) for key in keys]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({name: [] for name, _ in curated_columns(ctx.config)[:-1]})


def _values(column: pd.Series) -> list[Any]:
    """A column as Python values with None for missing (pandas gives NaN for absent text)."""
    return column.astype(object).where(column.notna(), None).tolist()


def record(ctx: PipelineContext, step: str, payload: Mapping[str, Any]) -> None:
    append(ctx.dsn, ctx.run_id, step, payload, ctx.audit_key, dag_id=ctx.dag_id)


def _refuse(ctx: PipelineContext, step: str, reason: str) -> StageRefusedError:
    """Record why a stage stops (fail closed) and give the error to raise."""
    record(ctx, step, {"refused": reason})
    return StageRefusedError(reason)


@contextmanager
def _s3_failures(ctx: PipelineContext, step: str, what: str) -> Iterator[None]:
    """An S3 server that stops answering (or loses an object) mid-stage: one line, in the
    log and the ledger, instead of a client library's traceback."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise _refuse(
            ctx,
            step,
            f"{ctx.config.name}: {what} failed ({exc}); `latest` moves only once a release is "
            "complete and verified: rerun the task once the S3 server answers",
        ) from None


# -- 1. ingest ------------------------------------------------------------------------------


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


# -- 2. scrub (one chunk; fanned out by the DAG) ---------------------------------------------


def scrub_chunk(ctx: PipelineContext, chunk_key: str, scrubber: Scrubber) -> dict[str, Any]:
    """Redact free text, drop direct identifiers (pseudonyms where configured)."""
    frame = read_frame(ctx, chunk_key)
    entities: dict[str, int] = {}
    texts = redacted = 0
    for spec in ctx.config.free_text_fields:
        results = scrubber.scrub_texts(_values(frame[spec.name]))
        frame[spec.name] = [result.text for result in results]
        for result in results:
            if result.text:
                texts += 1
                redacted += bool(result.entities)
            for entity in result.entities:
                entities[entity.type] = entities.get(entity.type, 0) + 1
    for spec in ctx.config.direct_identifiers:
        if spec.pseudonymize:
            frame[pseudonym_column(spec.name)] = [
                ctx.pseudonymizer.pseudonym(value, ctx.config.name, spec.normalize)
                for value in _values(frame[spec.name])
            ]
        frame = frame.drop(columns=spec.name)
    key = chunk_key.replace("/ingested/", "/scrubbed/")
    write_frame(ctx, key, frame)
    summary = {
        "input": chunk_key,
        "output": key,
        "rows": len(frame),
        "texts": texts,
        "texts_redacted": redacted,
        "entities": dict(sorted(entities.items())),
        "pseudonym_key_id": ctx.pseudonymizer.key_id,
    }
    record(ctx, "scrub", summary)
    return summary


# -- 3. anonymize ---------------------------------------------------------------------------


def _backfill_record_file_facts(ctx: PipelineContext, exclude_run: str | None = None) -> None:
    """Facts for the loaded runs that have none (loaded before facts were kept), counted
    once from their stored records and rows: on a connection of its own, committed before
    the stage reads (the stage's connection holds what `ensure_*` locked)."""
    if not needs_facts(ctx.config):
        return
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        ensure_store(conn, ctx.config)
        ensure_table(conn, "curated", ctx.config.name, curated_columns(ctx.config))
        conn.commit()
        backfill(conn, ctx.config, exclude_run)


def _record_file_knowledge(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    groups: Mapping[str, pd.DataFrame],
    exclude_run: str | None = None,
    batch: RecordFileFacts | None = None,
) -> list[KnownCell]:
    """What the release's record file tells a reader of each aggregate cell: the stored
    runs' facts (but `exclude_run`'s), summed in SQL, plus the run's own `batch` facts when
    it is not loaded yet; `groups` are the groups the tables are counted from (their cells
    are the cells the knowledge is about). Nothing when the source publishes no record
    file. No record or row of the history is read here (`include.warehouse.record_file_facts`)."""
    if not needs_facts(config):
        return []
    facts = stored_facts(conn, config, exclude_run)
    if batch is not None:
        facts = facts + batch
    counted = {a.name: table_cells(config, a, groups[a.name]) for a in config.aggregates}
    return assemble_bounds(config, facts, counted)


def _batch_facts(
    config: SourceConfig, batch: pd.DataFrame, curated: pd.DataFrame
) -> RecordFileFacts | None:
    """The run's own record-file facts: its records and its record-level rows (None when the
    source needs none)."""
    return count_record_file(config, batch, curated) if needs_facts(config) else None


def _protect_to_date(
    ctx: PipelineContext, batch: pd.DataFrame, facts: RecordFileFacts | None
) -> tuple[list[ProtectedAggregate], int]:
    """Every aggregate over the stored records of the other runs plus `batch` (the run's
    own records, which its load will store), protected jointly with what the record file
    will tell (the other runs' stored facts plus the run's own `facts`), and how many
    records that is."""
    config = ctx.config
    _backfill_record_file_facts(ctx, exclude_run=ctx.run_id)
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        ensure_store(conn, config)
        groups = {
            aggregate.name: add_groups(
                store_groups(conn, config, aggregate, exclude_run=ctx.run_id),
                group_records(batch, config, aggregate),
            )
            for aggregate in config.aggregates
        }
        stored = record_count(conn, config, exclude_run=ctx.run_id)
        try:
            known = _record_file_knowledge(conn, config, groups, ctx.run_id, facts)
        except RecordFileFactsError as exc:
            raise _refuse(ctx, "anonymize", f"{exc}: nothing of this run is written") from None
        previous = _previous_release(conn, config, ctx.run_id)
    return protect_source(groups, config, known, previous), stored + len(batch)


def _previous_release(
    conn: psycopg.Connection[Any], config: SourceConfig, run_id: str
) -> dict[str, pd.DataFrame]:
    """The cells of the last release before this run's, to protect against jointly (none
    for the cell key method: the same records read the same in every release)."""
    if config.disclosure.method == "cell_key":
        return {}
    dimensions = {a.name: tuple(d.column for d in a.dimensions) for a in config.aggregates}
    run, cells = previous_release(conn, config.name, dimensions, exclude_run=run_id)
    if run is not None:
        log.info("%s: tables protected jointly with the release of run %s", config.name, run)
    return cells


def _record_keys(ctx: PipelineContext, batch: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The batch's record keys (id + key, in the batch's order), written to the run's work
    zone for the load, and what the ledger says of them.

    A record the store already holds keeps its key (a rerun of a run its first attempt
    loaded); the others get one from the CSPRNG, here and only here."""
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        ensure_store(conn, ctx.config)
        keys, carried = keys_for_records(conn, ctx.config, batch[ctx.config.id_field])
    frame = pd.DataFrame({ctx.config.id_field: batch[ctx.config.id_field], RECORD_KEY: keys})
    key = write_frame(ctx, f"{ctx.run_prefix}record_keys.parquet", frame.reset_index(drop=True))
    return frame, {"key": key, "carried_over": carried, "drawn": len(frame) - carried}


def anonymize_run(ctx: PipelineContext, scrubbed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """k-anonymize this run's records; protect every aggregate over all records to date.

    `scrubbed` is what the scrub tasks returned (one summary per chunk); their text
    counts travel on to the accounting stage, which publishes them as indicators.
    """
    scrubbed_keys = sorted(item["output"] for item in scrubbed)
    batch = read_frames(ctx, scrubbed_keys)
    summary: dict[str, Any] = {
        "records_in": len(batch),
        "scrubbed_keys": scrubbed_keys,
        "texts": sum(int(item["texts"]) for item in scrubbed),
        "texts_redacted": sum(int(item["texts_redacted"]) for item in scrubbed),
    }
    if len(batch):
        try:
            curated, result = anonymize(ctx.config, batch)
        except InfeasibleGeneralizationError as exc:
            record(ctx, "anonymize", {"failed": str(exc), "records_in": len(batch)})
            raise StageRefusedError(f"{ctx.config.name}: no release this run: {exc}") from exc
        summary["curated_key"] = write_frame(
            ctx, f"{ctx.run_prefix}curated/part-00000.parquet", curated
        )
        summary["anonymization"] = summarize_anonymization(result)
        summary["records_published"] = len(curated)
        summary["records_suppressed"] = int(result.n_suppressed)
    else:
        # Nothing new: an empty batch still goes through validation and load (no rows),
        # and publication is skipped, so `latest` stays on the last real release.
        curated = batch
        summary["curated_key"] = write_frame(
            ctx, f"{ctx.run_prefix}curated/part-00000.parquet", batch
        )
        summary.update(records_published=0, records_suppressed=0, anonymization=None)
    keys, summary["record_keys"] = _record_keys(ctx, batch)
    facts = _batch_facts(ctx.config, batch, curated)
    summary["record_file_facts"] = None
    if facts is not None:
        key = write_frame(ctx, f"{ctx.run_prefix}record_file_facts.parquet", facts.to_frame())
        summary["record_file_facts"] = {
            "key": key,
            "records": facts.records,
            "left_out": facts.left_out,
        }
    protected, to_date = _protect_to_date(
        ctx, batch.assign(**{RECORD_KEY: keys[RECORD_KEY]}), facts
    )
    aggregates = {}
    for item in protected:
        key = write_frame(ctx, f"{ctx.run_prefix}aggregates/{item.name}.parquet", item.cells)
        aggregates[item.name] = {"key": key, "summary": item.summary}
    summary["aggregates"] = aggregates
    summary["records_to_date"] = to_date
    record(ctx, "anonymize", summary)
    return summary


# -- 4. validate (fail closed) ----------------------------------------------------------------


def _aggregates(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    return {name: read_frame(ctx, item["key"]) for name, item in anonymized["aggregates"].items()}


def validate(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> dict[str, Any]:
    curated = read_frame(ctx, anonymized["curated_key"])
    report = validate_release(ctx.config, curated, _aggregates(ctx, anonymized))
    record(ctx, "validate", report.as_dict())
    require_valid(report)
    return {"success": True, "checks": len(report.reports)}


# -- 5. load --------------------------------------------------------------------------------


def _keyed_records(ctx: PipelineContext, anonymized: Mapping[str, Any]) -> pd.DataFrame:
    """The run's scrubbed records, each with the key its aggregates were computed with."""
    records = read_frames(ctx, anonymized["scrubbed_keys"])
    written = anonymized.get("record_keys")
    if written is None:
        raise _refuse(
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
        raise _refuse(
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
            _aggregates(ctx, anonymized),
            records=records,
            records_to_date=int(anonymized["records_to_date"]),
            record_file_facts=facts,
        )
    except LoadError as exc:
        raise _refuse(ctx, "load", str(exc)) from None
    record(ctx, "load", result.as_dict())
    return result.as_dict()


# -- 6. publish -----------------------------------------------------------------------------


def _record_batch(
    ctx: PipelineContext, release_id: str
) -> tuple[pd.DataFrame, list[str], list[RecordBatch]]:
    """The rows this release publishes (those no earlier release holds: the run's own, on
    a platform that published every run), without the columns a release never carries;
    the runs they come from; and the earlier releases' batches, listed by checksum."""
    withheld = {pseudonym_column(spec.name) for spec in ctx.config.direct_identifiers}
    source = ctx.config.name
    with psycopg.connect(ctx.dsn) as conn:
        ensure_warehouse(conn)
        earlier = earlier_batches(conn, source, release_id)
        with _s3_failures(ctx, "publish", "listing the earlier releases' record files"):
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
            earlier = [batch for batch in earlier if batch not in lost]
        frame = unbatched_rows(conn, ctx.config, release_id, curated_columns(ctx.config))
    runs = sorted(map(str, frame[RUN_COLUMN].unique()))
    rows = frame.drop(columns=[c for c in frame.columns if c in withheld or c == RUN_COLUMN])
    return rows, runs, earlier


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
    _backfill_record_file_facts(ctx)
    with psycopg.connect(ctx.dsn) as conn:
        groups = {a.name: store_groups(conn, config, a) for a in config.aggregates}
        try:
            known = _record_file_knowledge(conn, config, groups)
        except RecordFileFactsError as exc:
            raise _refuse(ctx, "publish", f"{exc}: not published") from None
        recomputed = protect_source(
            groups, config, known, _previous_release(conn, config, ctx.run_id)
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
            raise _refuse(
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
        raise _refuse(ctx, "publish", f"not published: {accounting.summary()}")
    aggregates = _aggregates_from_scratch(ctx)
    run = RunInfo(ctx.run_id, pipeline_version(), ctx.run_date)
    records, batch_runs, earlier = (
        _record_batch(ctx, run.release_id) if config.publish_record_level else (None, [], [])
    )
    with (
        tempfile.TemporaryDirectory(prefix="civic-release-") as staging,
        _s3_failures(ctx, "publish", f"publishing release {run.release_id}"),
    ):
        committed = committed_manifest(
            ctx.s3, ctx.settings.public_bucket, config.name, run.release_id
        )
        scrubber = _release_scrubber(ctx, committed, run)
        try:
            files = build_release(
                config,
                run,
                Path(staging),
                records=records,
                anonymization=anonymized.get("anonymization") if records is not None else None,
                aggregates=[AggregateInput(a.name, a.cells, a.summary) for a in aggregates],
                earlier_batches=earlier,
                checks=[CheckResult("great_expectations", bool(validated.get("success")))],
                scrubber=scrubber,
                ledger=_release_ledger_head(committed, run, verified),
            )
        except PublicationBlockedError as exc:  # a privacy gate: the reason goes to the ledger
            raise _refuse(ctx, "publish", str(exc)) from None
        published = publish_release(
            ctx.s3, ctx.settings.public_bucket, files, sse_arguments(ctx.settings)
        )
        with psycopg.connect(ctx.dsn) as conn:  # public now: the next release protects against it
            mark_published(conn, config.name, ctx.run_id)
            if records is not None:  # and its batch is the next release's earlier file
                batch = written_batch(files, config.name, len(records))
                record_batch(conn, config.name, batch, batch_runs)
        mirrored = mirror_release(files, ctx.settings.exports_dir)
    summary = {
        "release_id": files.release_id,
        "manifest_sha256": files.manifest_sha256,
        "bucket": published.bucket,
        "prefix": published.prefix,
        "uploaded": len(published.uploaded),
        "previous_latest": published.previous_latest,
        "mirror": str(mirrored.directory),
        "records": 0 if records is None else len(records),
        "earlier_batches": len(earlier),
        "rows_received_to_date": accounting.rows_received,
        "scrubber": scrubber.ledger_facts(),
    }
    record(ctx, "publish", summary)
    return summary


# -- 7. ledger and accounting -----------------------------------------------------------------


def verify_ledger(ctx: PipelineContext) -> dict[str, Any]:
    """The whole ledger, against the head the previous release recorded: before publishing.

    A broken chain, a bad signature or entries cut from the end stop the run here."""
    try:
        with _s3_failures(ctx, "verify_ledger", "reading the previous release's manifest"):
            checkpoint = previous_checkpoint(
                ctx.s3,
                ctx.settings.public_bucket,
                ctx.settings.exports_dir,
                ctx.dsn,
                ctx.config.name,
            )
    except (LedgerCheckpointError, ValueError) as exc:
        raise _refuse(ctx, "verify_ledger", str(exc)) from None
    result = verify(ctx.dsn, ctx.audit_key, anchor=checkpoint.anchor)
    if not result.intact:
        reason = (
            f"audit ledger broken at {result.problem} (checked against {checkpoint.where}): "
            "not published; treat this as an incident"
        )
        raise _refuse(ctx, "verify_ledger", reason)
    payload = {
        "entries": result.count,
        "head": str(result.head) if result.head else None,
        "anchor": str(checkpoint.anchor) if checkpoint.anchor else None,
        "anchor_from": checkpoint.where,
    }
    record(ctx, "verify_ledger", payload)
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
