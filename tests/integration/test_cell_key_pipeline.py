"""Two successive releases of a source using the cell key method, stage by stage, against
the session's PostgreSQL and S3 server (issue #12: successive releases cannot be
differenced).

The source is the committed consultation config with `disclosure: {method: cell_key}`,
under a name of its own (so nothing else in the session reads or writes its tables),
fed with the consultation sample's rows. Every stage is the pipeline's own, the PII
scrubber included; only the expectation suites come from a temporary folder, generated
for this config by the same generator as the committed ones.
"""

from __future__ import annotations

import io
import json
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg import sql

from include.anonymization.pii import Scrubber
from include.anonymization.task import anonymize_run, scrub_chunk
from include.audit import AUDIT_KEY_CONN_ID
from include.audit.task import verify_ledger
from include.core.connections import (
    PSEUDONYM_KEY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    get_connection,
)
from include.core.settings import Settings
from include.core.source_config import SourceConfig, load_all_sources
from include.core.zones import list_objects, sse_arguments
from include.ingest.task import account, ingest
from include.pipeline.context import PipelineContext
from include.pipeline.workzone import object_body, read_frame
from include.publish.s3_release import release_prefix
from include.publish.task import publish
from include.sample.generator import iter_rows
from include.services.stack import LocalPlatform
from include.validation import require_valid, validate_release
from include.validation.frames import ParquetSource
from include.validation.suite_files import write_files
from include.warehouse.aggregates import RECORD_KEY
from include.warehouse.cell_key_aggregates import perturbation_table
from include.warehouse.pg_tables import aggregate_table
from include.warehouse.task import load
from tests.cell_key_sources import cell_key_variant

pytestmark = pytest.mark.slow

MAX_NOISE = 2
COMMITTED = load_all_sources()["consultation"]
Cell = tuple[str | None, ...]


@pytest.fixture(scope="module")
def scrubber() -> Iterator[Scrubber]:
    with Scrubber(processes=1) as loaded:
        yield loaded


@pytest.fixture
def config(platform: LocalPlatform, s3_client: Any, warehouse_dsn: str) -> Iterator[SourceConfig]:
    variant = cell_key_variant(
        COMMITTED, name=f"ck_{uuid.uuid4().hex[:8]}", max_noise=MAX_NOISE, variance=1.0
    )
    yield variant
    _forget(variant, platform.settings, s3_client, warehouse_dsn)


@pytest.fixture
def suites(tmp_path: Path, config: SourceConfig) -> Path:
    root = tmp_path / "expectations"
    write_files([config], root)
    return root


def _forget(config: SourceConfig, settings: Settings, s3: Any, dsn: str) -> None:
    """Everything the source's runs left in the shared session (the ledger is append-only)."""
    name = config.name
    with psycopg.connect(dsn) as conn:
        for table in (
            "pipeline.raw_objects",
            "pipeline.ingested_ids",
            "pipeline.quarantine",
            "pipeline.run_accounting",
            "pipeline.ingest_runs",
            "aggregates.indicateurs_execution",
            "aggregates.quarantaine_par_motif",
        ):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE source = %s").format(sql.SQL(table)), (name,)
            )
        tables = [("curated", name), ("private", name)]
        tables += [("aggregates", aggregate_table(config, a.name)) for a in config.aggregates]
        for schema, table in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table)))
    for bucket in (settings.raw_bucket, settings.work_bucket, settings.public_bucket):
        for prefix in (f"{name}/", f"runs/{name}/", f"quarantine/{name}/"):
            for item in list(list_objects(s3, bucket, prefix)):
                s3.delete_object(Bucket=bucket, Key=item.key)
    shutil.rmtree(settings.exports_dir / name, ignore_errors=True)


def _context(platform: LocalPlatform, config: SourceConfig, run_id: str, day: date) -> Any:
    env = platform.process_env()
    return PipelineContext.from_connections(
        settings=platform.settings,
        config=config,
        run_id=run_id,
        run_date=datetime(day.year, day.month, day.day, 3, tzinfo=UTC),
        warehouse=get_connection(WAREHOUSE_CONN_ID, env),
        s3=get_connection(S3_CONN_ID, env),
        audit_key=get_connection(AUDIT_KEY_CONN_ID, env),
        pseudonym_key=get_connection(PSEUDONYM_KEY_CONN_ID, env),
    )


def _deliver(ctx: PipelineContext, rows: int, seed: int, day: date) -> None:
    """One encrypted JSONL object of consultation replies in the source's raw zone."""
    lines = [
        json.dumps(row, ensure_ascii=False, default=str) + "\n"
        for row in iter_rows(COMMITTED, rows, seed, day)
    ]
    ctx.s3.put_object(
        Bucket=ctx.settings.raw_bucket,
        Key=f"{ctx.config.name}/{day:%Y-%m-%d}/delivery-{seed}.jsonl",
        Body="".join(lines).encode("utf-8"),
        **sse_arguments(ctx.settings),
    )


def _validated(ctx: PipelineContext, anonymized: Mapping[str, Any], suites: Path) -> dict:
    """The validate stage, against this config's suites (`validate` reads the
    committed ones)."""
    curated = ParquetSource(object_body(ctx, anonymized["curated_key"]))  # as `validate` reads it
    tables = {n: read_frame(ctx, a["key"]) for n, a in anonymized["aggregates"].items()}
    require_valid(validate_release(ctx.config, curated, tables, root=suites))
    return {"success": True}


def _run(ctx: PipelineContext, scrubber: Scrubber, suites: Path) -> tuple[dict, dict]:
    """Every stage of one run, in the DAG's order; its anonymize result and its release."""
    ingested = ingest(ctx)
    scrubbed = [scrub_chunk(ctx, key, scrubber) for key in ingested["chunk_keys"]]
    anonymized = anonymize_run(ctx, scrubbed)
    validated = _validated(ctx, anonymized, suites)
    load(ctx, anonymized)
    account(ctx, anonymized)
    published = publish(ctx, anonymized, validated, verify_ledger(ctx))
    return anonymized, published


def _stored(dsn: str, config: SourceConfig) -> pd.DataFrame:
    with psycopg.connect(dsn) as conn:
        cursor = conn.execute(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier("private", config.name))
        )
        names = [column.name for column in cursor.description or ()]
        return pd.DataFrame(cursor.fetchall(), columns=names)


def _label(value: Any) -> str | None:
    if pd.isna(value):
        return None
    return str(int(value)) if isinstance(value, float) else str(value)


def _age_band(age: int) -> str:
    low = age // 20 * 20
    return f"{low}-{low + 19}"


def _cells_of(records: pd.DataFrame, dims: list[str]) -> list[list[Cell]]:
    """For each record, every cell and total of a table it falls in, counted by hand."""
    columns = [records["age"].map(_age_band) if d == "age_20" else records[d] for d in dims]
    cells = []
    for row in zip(*columns, strict=True):
        labels = [_label(value) for value in row]
        cells.append(
            [
                tuple(labels[i] if kept >> i & 1 else None for i in range(len(dims)))
                for kept in range(1 << len(dims))
            ]
        )
    return cells


def _truth(records: pd.DataFrame, dims: list[str]) -> dict[Cell, int]:
    counts: dict[Cell, int] = defaultdict(int)
    for cells in _cells_of(records, dims):
        for cell in cells:
            counts[cell] += 1
    return counts


def _release(ctx: PipelineContext, published: Mapping[str, Any]) -> dict[str, Any]:
    """The published tables (cell → published row) and the manifest of a release."""
    prefix = release_prefix(ctx.config.name, published["release_id"])
    bucket = ctx.settings.public_bucket

    def read(key: str) -> bytes:
        return ctx.s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()

    tables = {}
    for aggregate in ctx.config.aggregates:
        frame = pq.read_table(io.BytesIO(read(f"{aggregate.name}.parquet"))).to_pandas()
        dims = [d.column for d in aggregate.dimensions]
        tables[aggregate.name] = {
            tuple(_label(v) for v in row[:-3]): row[-3:]
            for row in frame[[*dims, "count", "suppressed", "suppression_reason"]].itertuples(
                index=False, name=None
            )
        }
    return {"tables": tables, "manifest": json.loads(read("manifest.json"))}


def _check_release(release: dict[str, Any], records: pd.DataFrame, config: SourceConfig) -> None:
    """(a) nothing hidden; every cell and total within ±D of the true count; (c) a total
    reads the same in every table that has it."""
    for aggregate in config.aggregates:
        published = release["tables"][aggregate.name]
        truth = _truth(records, [d.column for d in aggregate.dimensions])
        assert set(truth) <= set(published), f"{aggregate.name}: a cell with records is missing"
        for cell, (count, suppressed, reason) in published.items():
            assert not suppressed
            assert pd.isna(reason)
            assert count >= 0
            assert abs(int(count) - truth.get(cell, 0)) <= MAX_NOISE, (aggregate.name, cell)
    tables = release["tables"]
    by_answer = [
        {cell[1]: row[0] for cell, row in tables[name].items() if cell[0] is None}
        for name in ("transports_par_age", "transports_par_genre", "transports_par_profession")
    ]
    assert len(by_answer[0]) == 6  # answers 1..5 and the grand total
    assert by_answer[1] == by_answer[0]
    assert by_answer[2] == by_answer[0]
    by_age = [
        {cell[0]: row[0] for cell, row in tables[name].items() if cell[1] is None}
        for name in ("transports_par_age", "velo_par_age")
    ]
    assert by_age[0] == by_age[1]
    fingerprint = perturbation_table(config.disclosure).fingerprint
    for table in release["manifest"]["tables"]:
        if table["kind"] == "aggregate":
            assert table["disclosure"] == "cell_key"
            assert table["cell_key"]["ptable"] == fingerprint
            assert table["cells_suppressed"] == 0


def _keys(dsn: str, config: SourceConfig) -> dict[str, int]:
    stored = _stored(dsn, config)
    return dict(zip(stored[config.id_field], stored[RECORD_KEY], strict=True))


def test_two_releases_by_the_cell_key_method(
    platform: LocalPlatform,
    warehouse_dsn: str,
    config: SourceConfig,
    scrubber: Scrubber,
    suites: Path,
) -> None:
    first_day, second_day = date(2026, 11, 24), date(2026, 11, 25)
    first = _context(platform, config, "ck-run-1", first_day)
    _deliver(first, 300, 31, first_day)
    anonymized, published = _run(first, scrubber, suites)
    assert anonymized["record_keys"]["drawn"] == anonymized["records_in"] > 250
    before = _release(first, published)
    records_before = _stored(warehouse_dsn, config)
    _check_release(before, records_before, config)

    second = _context(platform, config, "ck-run-2", second_day)
    _deliver(second, 25, 32, second_day)
    anonymized, published = _run(second, scrubber, suites)
    after = _release(second, published)
    records_after = _stored(warehouse_dsn, config)
    assert len(records_after) == len(records_before) + anonymized["records_in"]
    _check_release(after, records_after, config)

    # (b) A cell none of the new records falls in reads the same in both releases.
    new = records_after[records_after["run_id"] == second.run_id]
    unchanged = 0
    for aggregate in config.aggregates:
        dims = [d.column for d in aggregate.dimensions]
        touched = {cell for cells in _cells_of(new, dims) for cell in cells}
        old_truth = _truth(records_before, dims)
        for cell, row in after["tables"][aggregate.name].items():
            if cell not in touched and cell in before["tables"][aggregate.name]:
                assert row[0] == before["tables"][aggregate.name][cell][0], (aggregate.name, cell)
                unchanged += old_truth.get(cell, 0) > 0
    assert unchanged >= 10, "too few cells with records left unchanged to show anything"

    # (d) A rerun of the second run carries every key over and rebuilds the same release.
    keys = _keys(warehouse_dsn, config)
    scrubbed = [
        {"output": key, "texts": 0, "texts_redacted": 0} for key in anonymized["scrubbed_keys"]
    ]
    again = anonymize_run(second, scrubbed)
    assert again["record_keys"]["carried_over"] == again["records_in"]
    assert again["record_keys"]["drawn"] == 0
    assert again["aggregates"] == anonymized["aggregates"]
    load(second, again)
    assert _keys(warehouse_dsn, config) == keys
    republished = publish(second, again, _validated(second, again, suites), verify_ledger(second))
    assert republished["manifest_sha256"] == published["manifest_sha256"]
