"""Build a release in a local staging folder: data files, data package, README, manifest.

The order matters: the data files are written first (their hashes go into the
data package and the manifest), then `datapackage.json`, the public audit log's
`ledger_checkpoint.json` and `ledger_proofs.json` (when given one), `README.md`, the
public page `index.html` (which lists the files before it, and reuses the README's text),
and the manifest last, since it lists the others. Every gate runs before the first byte
is written: a failed expectation, k or l not met on the published rows, a small
count left visible, a suppression audit that did not pass. A blocked release
therefore leaves nothing behind that could be published by mistake.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from include.audit.chain import Anchor
from include.audit.checksums import checksum_file
from include.audit.public_log import CHECKPOINT_NAME, PROOFS_NAME, ReleaseLog
from include.core.source_config import SourceConfig
from include.publish.datapackage import DATAPACKAGE_NAME, build_datapackage
from include.publish.errors import PublicationBlockedError
from include.publish.jsonfile import JSON, json_bytes
from include.publish.manifest import MANIFEST_NAME, CheckResult, ManifestEntry, build_manifest
from include.publish.public_page import PAGE_NAME, render_public_page
from include.publish.readme import README_NAME, render_readme
from include.publish.record_batches import RecordBatch
from include.publish.release_files import ReleaseFiles, media_type
from include.publish.risk_report import build_risk_report
from include.publish.run import RunInfo
from include.publish.scrubber_statement import ScrubberStatement
from include.publish.tables import (
    AggregateInput,
    PublishedTable,
    WrittenTable,
    aggregate_table,
    records_table,
)
from include.publish.tabular_files import write_csv, write_parquet


def _require_checks_passed(source: str, checks: Sequence[CheckResult]) -> None:
    failed = [check for check in checks if not check.passed]
    if failed:
        listed = "; ".join(f"{c.name}: {c.detail or 'failed'}" for c in failed)
        raise PublicationBlockedError(
            f"source '{source}': {len(failed)} check(s) failed, so nothing is published and "
            f"the previous release stays current: {listed}"
        )


def _tables(
    config: SourceConfig,
    records: pd.DataFrame | Iterable[pd.DataFrame] | None,
    anonymization: Mapping[str, Any] | None,
    aggregates: Sequence[AggregateInput],
    earlier_batches: Sequence[RecordBatch],
) -> list[PublishedTable]:
    """Every table of the release, in a fixed order: records, then aggregates as configured."""
    configured = [aggregate.name for aggregate in config.aggregates]
    if config.name in configured:
        raise ValueError(f"source '{config.name}': an aggregate may not share the source's name")
    tables = []
    if config.publish_record_level:
        if records is None or anonymization is None:
            raise ValueError(
                f"source '{config.name}' publishes record-level data: pass the records and "
                "their anonymization summary"
            )
        tables.append(records_table(config, records, anonymization, tuple(earlier_batches)))
    elif records is not None or earlier_batches:
        raise ValueError(
            f"source '{config.name}' does not publish record-level data "
            "(publish_record_level is false); pass only its aggregates"
        )
    given = [aggregate.name for aggregate in aggregates]
    if sorted(given) != sorted(configured):
        raise ValueError(
            f"source '{config.name}' configures the aggregates {configured}; got {given}. A "
            "release carries every configured aggregate exactly once"
        )
    by_name = {aggregate.name: aggregate for aggregate in aggregates}
    tables += [aggregate_table(config, by_name[name]) for name in configured]
    if not tables:
        raise ValueError(f"source '{config.name}' has nothing to publish")
    return tables


def _entry(path: Path) -> ManifestEntry:
    """Size and SHA-256 of a written file, streamed (data files can be large)."""
    checksum = checksum_file(path)
    return ManifestEntry(path.name, checksum.size, checksum.sha256)


def _write(path: Path, payload: bytes) -> ManifestEntry:
    path.write_bytes(payload)
    return ManifestEntry(path.name, len(payload), hashlib.sha256(payload).hexdigest())


def _write_table(table: PublishedTable, directory: Path) -> WrittenTable:
    csv_path = directory / f"{table.name}.csv"
    stats = write_csv(table.data, csv_path)
    parquet_path = directory / f"{table.name}.parquet"
    write_parquet(table.data, parquet_path)
    return WrittenTable(table, _entry(csv_path), _entry(parquet_path), stats.neutralised_cells)


def _data_file(entry: ManifestEntry, written: WrittenTable, fmt: str) -> dict[str, JSON]:
    item: dict[str, JSON] = {
        "path": entry.path,
        "table": written.table.name,
        "format": fmt,
        "media_type": media_type(entry.path),
        "rows": written.table.data.num_rows,
        "bytes": entry.bytes,
        "sha256": entry.sha256,
        "schema": {column.name: column.type for column in written.table.columns},
    }
    if fmt == "csv":
        item["neutralised_cells"] = written.neutralised_cells
    return item


def _batches(table: PublishedTable) -> dict[str, JSON]:
    """A record table's place among the batches: its rows and the earlier files to date."""
    if table.kind != "records":
        return {}
    return {
        "rows_to_date": table.rows_to_date,
        "earlier_batches": [batch.manifest_item() for batch in table.earlier_batches],
    }


def _document(entry: ManifestEntry) -> dict[str, JSON]:
    return {
        "path": entry.path,
        "media_type": media_type(entry.path),
        "bytes": entry.bytes,
        "sha256": entry.sha256,
    }


def build_release(
    config: SourceConfig,
    run: RunInfo,
    staging_dir: Path,
    *,
    records: pd.DataFrame | Iterable[pd.DataFrame] | None = None,
    anonymization: Mapping[str, Any] | None = None,
    aggregates: Sequence[AggregateInput] = (),
    earlier_batches: Sequence[RecordBatch] = (),
    scrubber: ScrubberStatement,
    checks: Sequence[CheckResult] = (),
    ledger: Anchor | None = None,
    log: ReleaseLog | None = None,
) -> ReleaseFiles:
    """Write the release of one source into `staging_dir/<source>/<release id>/`.

    `records` (only when the source publishes record-level data) are the scrubbed,
    pseudonymized, generalized rows no earlier release published (one frame, or slices
    converted one at a time: `records_table`), with their
    `anonymization` summary (see `summaries`); `earlier_batches` are the record files
    earlier releases published, listed by checksum (`record_batches`); `aggregates` are
    every configured aggregate, protected; `checks` are the gates the pipeline ran
    (expectation suites...): one that failed blocks the release; `scrubber` is the PII
    scrubber's version and last evaluations, which the README and the manifest state (a
    missing evaluation is said, never blocking); `ledger` is the audit ledger's head as
    verified before publishing, and `log` the public log over it (a signed checkpoint and
    proofs, `include.audit.public_log`), written as two JSON files. Raises
    `PublicationBlockedError` when a gate fails, ValueError when the inputs do not match
    the source config. Same inputs → byte-identical files.
    """
    _require_checks_passed(config.name, checks)
    if log is not None and log.head != ledger:
        raise ValueError(
            f"the public log ends at ledger entry {log.head}, not at the head {ledger} the "
            "release records; build both from the same verified ledger"
        )
    tables = _tables(config, records, anonymization, aggregates, earlier_batches)
    directory = staging_dir / config.name / run.release_id
    if directory.exists():
        shutil.rmtree(directory)  # a staging leftover of an interrupted build
    directory.mkdir(parents=True)
    written = [_write_table(table, directory) for table in tables]
    datapackage = _write(
        directory / DATAPACKAGE_NAME, json_bytes(build_datapackage(config, run, written))
    )
    log_files = (
        []
        if log is None
        else [
            _write(
                directory / CHECKPOINT_NAME,
                json_bytes(log.checkpoint_document(config.name, run.release_id)),
            ),
            _write(
                directory / PROOFS_NAME,
                json_bytes(log.proofs_document(config.name, run.release_id)),
            ),
        ]
    )
    readme_text = render_readme(config, run, written, scrubber, log)
    readme = _write(directory / README_NAME, readme_text.encode("utf-8"))
    before_page = [
        *(entry for table in written for entry in (table.csv, table.parquet)),
        datapackage,
        *log_files,
        readme,
    ]
    page = _write(
        directory / PAGE_NAME,
        render_public_page(config, run, written, before_page, readme_text).encode("utf-8"),
    )
    files = [
        *(
            _data_file(entry, table, fmt)
            for table in written
            for entry, fmt in ((table.csv, "csv"), (table.parquet, "parquet"))
        ),
        _document(datapackage),
        *map(_document, log_files),
        _document(readme),
        _document(page),
    ]
    manifest_tables = [
        {
            "name": table.table.name,
            "kind": table.table.kind,
            "title": table.table.title,
            "rows": table.table.data.num_rows,
            "files": [table.csv.path, table.parquet.path],
            **_batches(table.table),
            **table.table.privacy,
        }
        for table in written
    ]
    manifest = build_manifest(
        config,
        run,
        risk_report=build_risk_report(written),
        tables=manifest_tables,
        files=files,
        checks=checks,
        scrubber=scrubber,
        ledger=ledger,
        log=log,
    )
    manifest_entry = _write(directory / MANIFEST_NAME, json_bytes(manifest))
    return ReleaseFiles(
        source=config.name,
        release_id=run.release_id,
        directory=directory,
        files=(*before_page, page),
        manifest_sha256=manifest_entry.sha256,
        manifest_bytes=manifest_entry.bytes,
    )
