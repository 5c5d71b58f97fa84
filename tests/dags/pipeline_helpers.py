"""Helpers for the pipeline DAG tests: run a DAG through Airflow, then read what it left.

WHY a module of its own: the end-to-end tests assert on many places at once (the
public bucket, the local mirror, the warehouse's pipeline tables, the audit ledger)
and must read each of them the same way. Airflow is imported inside functions only,
after the session fixture `platform` has put the test services in the environment.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
import psycopg
import pyarrow.parquet as pq
from psycopg import sql

from include.core.settings import Settings
from include.core.source_config import SourceConfig
from include.core.zones import list_objects
from include.pipeline.context import safe_run_id
from include.publish.s3_release import pointer_key, release_prefix
from include.sample import generator
from include.sample.texts import LabelledText
from include.warehouse.aggregates import count_cells, group_records
from include.warehouse.platform_accounting import platform_accounting

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
# Shorter planted values (a first name such as "Léa", a house number) also occur in
# harmless text, so finding one would prove nothing.
MIN_PLANTED_LENGTH = 6
_GAP = "\x00"  # joins the pieces of a text around a removed span: it matches no value
# A backstop that owes nothing to the sample's labels (nor to the validation gate's
# patterns): shapes of identifiers that no public file may hold, whoever planted them.
# Separators are spaces, dots and dashes only, never a newline: a Parquet file's values
# are searched one per line, and a column of small counts must not read as a number.
BACKSTOP_PATTERNS = {
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"),
    "French phone": re.compile(r"(?<![\w+])(?:\+33|0033|0)[ .-]?[1-9](?:[ .-]?\d{2}){4}(?!\w)"),
    "French IBAN": re.compile(r"(?<!\w)FR\d{2}(?: ?[A-Z0-9]{4}){5} ?[A-Z0-9]{3}(?!\w)"),
}


def pipeline_dag(source: str, *, retries: int | None = None) -> Any:
    """The source's pipeline DAG as Airflow's DagBag parses it from `dags/`.

    `retries` overrides every task's retries, and their delay with none: a run that is
    meant to fail must not sit out the DAG's two-minute retry delays inside `dag.test()`,
    nor a run that is meant to retry.
    """
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(f"civic_pipeline_{source}")
    assert dag is not None, f"no DAG civic_pipeline_{source} in {DAGS_DIR}"
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
            task.retry_delay = timedelta(0)
    return dag


def run_pipeline(source: str, logical_date: datetime, *, retries: int | None = None) -> Any:
    """One DagRun of the source's pipeline by Airflow's own runner; returns the DagRun.

    `run_after` is pinned to the logical date, so the run id (`manual__<run_after>`) is a
    function of the date: calling this again with the same date clears that very run and
    runs it again under the same id, as an operator's "clear" does.
    """
    dag = pipeline_dag(source, retries=retries)
    return dag.test(logical_date=logical_date, run_after=logical_date)


def task_instances(run: Any) -> list[Any]:
    """The run's task instances as the metadata database holds them (one per mapped chunk)."""
    from airflow.models.dagrun import DagRun

    return list(DagRun.fetch_task_instances(dag_id=run.dag_id, run_id=run.run_id))


def task_states(run: Any) -> dict[str, list[str | None]]:
    """Task id → the states of its instances (a mapped task has one per map index)."""
    states: dict[str, list[str | None]] = {}
    for ti in task_instances(run):
        states.setdefault(ti.task_id, []).append(None if ti.state is None else str(ti.state))
    return states


def stage_run_id(run: Any) -> str:
    """The run id as the stages write it into keys, tables and the ledger."""
    return safe_run_id(run.run_id)


# -- planted personal data --------------------------------------------------------------------


@dataclass(frozen=True)
class PlantedRow:
    """One generated submission: its id, its direct identifiers, its labelled free text."""

    record_id: str
    identifiers: tuple[str, ...]
    texts: tuple[LabelledText, ...]

    def values(self, *, names: bool) -> set[str]:
        """The planted values long enough to search for: names only, or everything else.

        Names are the PERSON spans and the identifiers without a digit or an "@" (the
        reporter's name, as opposed to an e-mail or a phone number).
        """
        spans = {
            span.value
            for text in self.texts
            for span in text.spans
            if (span.entity_type == "PERSON") == names
        }
        typed = {value for value in self.identifiers if _is_name(value) == names}
        return {value for value in spans | typed if len(value) >= MIN_PLANTED_LENGTH}

    def harmless_text(self) -> str:
        """The row's free text without its labelled spans: what may be published as is."""
        pieces = []
        for text in self.texts:
            start = 0
            for span in sorted(text.spans, key=lambda item: item.start):
                pieces.append(text.text[start : span.start])
                start = span.end
            pieces.append(text.text[start:])
        return _GAP.join(pieces)


def _is_name(value: str) -> bool:
    return "@" not in value and not any(char.isdigit() for char in value)


@contextmanager
def _recording_texts() -> Iterator[list[LabelledText]]:
    """Capture every labelled text the row generator writes (rows keep the text only).

    The wrappers call the real functions with the same arguments, so the random draws,
    and therefore the rows, are exactly those `write_sample` wrote.
    """
    captured: list[LabelledText] = []

    def recorder(real: Any) -> Any:
        def record(*args: Any, **kwargs: Any) -> LabelledText:
            text = real(*args, **kwargs)
            captured.append(text)
            return text

        return record

    with (
        mock.patch.object(generator, "signalement_text", recorder(generator.signalement_text)),
        mock.patch.object(generator, "opinion_text", recorder(generator.opinion_text)),
    ):
        yield captured


def planted_rows(config: SourceConfig, rows: int, seed: int, day: date) -> list[PlantedRow]:
    """What `write_sample(config, rows, seed, day)` planted, row by row."""
    identifiers = [spec.name for spec in config.direct_identifiers]
    planted = []
    with _recording_texts() as texts:
        seen = 0
        for row in generator.iter_rows(config, rows, seed, day):
            # The row's texts were written while the generator built it, before the yield.
            own = tuple(texts[seen:])
            seen = len(texts)
            written = [row[spec.name] for spec in config.free_text_fields if row[spec.name]]
            assert [text.text for text in own] == written, "texts and rows out of step"
            planted.append(
                PlantedRow(
                    record_id=str(row[config.id_field]),
                    identifiers=tuple(str(row[name]) for name in identifiers if row[name]),
                    texts=own,
                )
            )
    return planted


def record_leaks(published: str, planted: PlantedRow, *, names: bool) -> list[str]:
    """The row's planted values (names, or everything else) found in its published text.

    A value that the row's own text also holds outside its labelled spans ("rue Gérard"
    beside the author "Gérard") may be published as it stands, so it is not a leak.
    """
    harmless = planted.harmless_text()
    return sorted(
        value
        for value in planted.values(names=names)
        if value in published and value not in harmless
    )


# -- the public release -----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicFile:
    key: str
    body: bytes

    def text(self) -> str:
        """The file as searchable text; a Parquet file's cell values, one per line."""
        if self.key.endswith(".parquet"):
            table = pq.read_table(io.BytesIO(self.body))
            return "\n".join(str(value) for column in table.columns for value in column.to_pylist())
        return self.body.decode("utf-8")

    def reader_text(self) -> str:
        """What a reader of the file meets: `text()`, but for an HTML page its text and the
        attribute values that carry words, without the drawing of its charts (an SVG's
        coordinates, "rotate(-0.0 299.8 1396.3)", read as telephone numbers)."""
        if not self.key.endswith(".html"):
            return self.text()
        page = _ReaderText()
        page.feed(self.body.decode("utf-8"))
        page.close()
        return "\n".join(page.pieces)


# SVG and CSS attributes that hold a drawing's numbers, never words.
_DRAWING_ATTRIBUTES = frozenset({
    "d", "points", "transform", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry",
    "dx", "dy", "width", "height", "viewbox", "style", "offset", "stroke-width",
    "stroke-dasharray", "stroke-miterlimit", "font-size", "opacity",
})  # fmt: skip


class _ReaderText(HTMLParser):
    """A page's text and its attribute values, less `_DRAWING_ATTRIBUTES`, one per line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pieces += [v for k, v in attrs if v and k.lower() not in _DRAWING_ATTRIBUTES]

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)


def latest_pointer(client: Any, bucket: str, source: str) -> dict[str, Any] | None:
    """`<source>/latest.json` of the public bucket, or None before the first release."""
    try:
        body = client.get_object(Bucket=bucket, Key=pointer_key(source))["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return dict(json.loads(body))


def public_files(client: Any, bucket: str, source: str, release_id: str) -> list[PublicFile]:
    """Every file of the release as stored in the public bucket, and the `latest` pointer."""
    keys = [obj.key for obj in list_objects(client, bucket, release_prefix(source, release_id))]
    keys.append(pointer_key(source))
    return [
        PublicFile(key, client.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys
    ]


def object_versions(client: Any, bucket: str, prefix: str) -> dict[str, tuple[str, Any]]:
    """Key → (ETag, LastModified) of everything under `prefix`: a rewrite changes the second."""
    return {
        obj.key: (client.head_object(Bucket=bucket, Key=obj.key)["ETag"], obj.last_modified)
        for obj in list_objects(client, bucket, prefix)
    }


def files_containing(files: Iterable[PublicFile], values: set[str]) -> dict[str, list[str]]:
    """File key → the values found in it verbatim; empty when none is anywhere."""
    found = {}
    for public in files:
        text = public.text()
        hits = sorted(value for value in values if value in text)
        if hits:
            found[public.key] = hits
    return found


def pattern_hits(files: Iterable[PublicFile]) -> dict[str, list[str]]:
    """File key → the names of the backstop patterns found in it."""
    hits = {}
    for public in files:
        text = public.text()
        found = [name for name, pattern in BACKSTOP_PATTERNS.items() if pattern.search(text)]
        if found:
            hits[public.key] = found
    return hits


# -- the warehouse and the ledger -------------------------------------------------------------


def fetch_all(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def fetch_one(dsn: str, query: str, *params: Any) -> tuple[Any, ...]:
    rows = fetch_all(dsn, query, *params)
    assert len(rows) == 1, f"expected one row from {query!r} {params}, got {rows}"
    return rows[0]


def ledger_entries(dsn: str, run_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(seq, step, payload) of a run's ledger entries, oldest first."""
    rows = fetch_all(
        dsn, "SELECT seq, step, payload FROM audit.ledger WHERE run_id = %s ORDER BY seq", run_id
    )
    return [(seq, step, payload) for seq, step, payload in rows]


# -- what an auditor checks after a fault --------------------------------------------------------


def _stored_records(dsn: str, config: SourceConfig) -> pd.DataFrame:
    with psycopg.connect(dsn) as conn:
        table = sql.Identifier("private", config.name)
        cursor = conn.execute(sql.SQL("SELECT * FROM {}").format(table))
        names = [column.name for column in cursor.description or ()]
        return pd.DataFrame(cursor.fetchall(), columns=names)


def assert_each_row_stored_once(dsn: str, config: SourceConfig, rows: list[dict[str, Any]]) -> None:
    """Every submission is in the store once, by a loaded run, with the values it was sent
    with in every field an aggregate counts; and published at most once."""
    ids = [str(row[config.id_field]) for row in rows]
    counted = sorted({dim.field for agg in config.aggregates for dim in agg.dimensions})
    key, store = sql.Identifier(config.id_field), sql.Identifier("private", config.name)
    query = sql.SQL(
        "SELECT i.status, s.{key}, {fields} FROM {store} s JOIN pipeline.ingest_runs i "
        "ON i.source = %s AND i.run_id = s.run_id WHERE s.{key} = ANY(%s)"
    ).format(key=key, store=store, fields=sql.SQL(", ").join(sql.Identifier(f) for f in counted))
    published_query = sql.SQL(
        "SELECT {key}, count(*) FROM {curated} WHERE {key} = ANY(%s) GROUP BY 1"
    ).format(key=key, curated=sql.Identifier("curated", config.name))
    with psycopg.connect(dsn) as conn:
        stored = conn.execute(query, (config.name, ids)).fetchall()
        published = conn.execute(published_query, (ids,)).fetchall()
    assert len(stored) == len(ids), f"{len(ids) - len(stored)} submissions lost"
    assert {row[0] for row in stored} == {"loaded"}
    by_id = {row[1]: row[2:] for row in stored}
    for row in rows:
        sent = [
            datetime.fromisoformat(str(row[f])) if isinstance(by_id_value, datetime) else row[f]
            for f, by_id_value in zip(counted, by_id[str(row[config.id_field])], strict=True)
        ]
        assert list(by_id[str(row[config.id_field])]) == sent, row[config.id_field]
    assert all(count == 1 for _, count in published), "a submission published twice"
    assert len(published) >= len(ids) * (1 - config.max_suppression) - 1


def _true_counts(records: pd.DataFrame, config: SourceConfig, aggregate: Any) -> dict:
    cells = count_cells(group_records(records, config, aggregate), config, aggregate)
    dims = [dim.column for dim in aggregate.dimensions]
    return {tuple(str(row[d]) for d in dims): int(row["count"]) for _, row in cells.iterrows()}


def published_record_ids(
    s3_client: Any, bucket: str, config: SourceConfig, release_id: str
) -> list[str]:
    """The ids of every record-level row to date, read as a reader of the public bucket
    reads them: the release's own Parquet file and each earlier batch its manifest lists,
    each checked against the size and SHA-256 the manifest gives."""
    prefix = release_prefix(config.name, release_id)
    manifest = json.loads(
        s3_client.get_object(Bucket=bucket, Key=f"{prefix}manifest.json")["Body"].read()
    )
    (table,) = [t for t in manifest["tables"] if t["kind"] == "records"]
    own = {f["path"]: f for f in manifest["files"]}[f"{config.name}.parquet"]
    files = [own] + [
        f for batch in table["earlier_batches"] for f in batch["files"]
        if f["path"].endswith(".parquet")
    ]  # fmt: skip
    ids: list[str] = []
    for item in files:
        key = posixpath.normpath(prefix + item["path"])
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert (len(body), hashlib.sha256(body).hexdigest()) == (item["bytes"], item["sha256"]), key
        ids += pq.read_table(io.BytesIO(body)).column(config.id_field).to_pylist()
    assert len(ids) == table["rows_to_date"], (len(ids), table["rows_to_date"])
    return [str(i) for i in ids]


def assert_latest_release_is_right(
    s3_client: Any, settings: Settings, dsn: str, config: SourceConfig
) -> dict[str, Any]:
    """`latest`'s aggregates hold every cell of a from-scratch count over every stored
    record, each shown at its true value or hidden (which cells are hidden depends on the
    record file and the previous release; the publish stage checks the pattern itself);
    its record files to date (its own batch and the earlier ones it lists, read from the
    bucket) hold every loaded row exactly once; and every row the platform ever received
    is accounted for, none in flight."""
    pointer = latest_pointer(s3_client, settings.public_bucket, config.name)
    assert pointer is not None
    prefix = release_prefix(config.name, pointer["release_id"])
    stored = _stored_records(dsn, config)
    if config.publish_record_level:
        ids = published_record_ids(s3_client, settings.public_bucket, config, pointer["release_id"])
        with psycopg.connect(dsn) as conn:
            curated = conn.execute(
                sql.SQL("SELECT {} FROM {}").format(
                    sql.Identifier(config.id_field), sql.Identifier("curated", config.name)
                )
            ).fetchall()
        assert len(ids) == len(set(ids)), "a row published in two batches"
        assert sorted(ids) == sorted(str(row[0]) for row in curated)
    for aggregate in config.aggregates:
        key = f"{prefix}{aggregate.name}.parquet"
        body = s3_client.get_object(Bucket=settings.public_bucket, Key=key)["Body"].read()
        published = pq.read_table(io.BytesIO(body)).to_pandas()
        dims = [dim.column for dim in aggregate.dimensions]
        truth = _true_counts(stored, config, aggregate)
        shown = {}
        for _, row in published.astype(object).where(published.notna(), None).iterrows():
            cell = tuple(str(row[d]) for d in dims)
            assert bool(row["suppressed"]) == (row["count"] is None), (key, cell)
            shown[cell] = row["count"]
        assert set(shown) == set(truth), key
        wrong = {
            cell: (n, truth[cell]) for cell, n in shown.items() if n not in (None, truth[cell])
        }
        assert wrong == {}, (key, wrong)
    accounting = platform_accounting(dsn, config)
    assert accounting.balanced, accounting.summary()
    stuck = [item for item in accounting.in_flight if item.bucket == settings.raw_bucket]
    assert stuck == [], accounting.summary()
    return pointer
