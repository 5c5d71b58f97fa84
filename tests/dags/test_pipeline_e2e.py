"""The pipeline DAGs end to end, run by Airflow's own runner (`dag.test()`).

Against the test session's own PostgreSQL and S3 server: realistic French
submissions with planted personal data go into the encrypted raw zone, the DAG
runs, and the tests read what a citizen (the public bucket and the local mirror),
an auditor (the ledger, the accounting) and an operator (task states, quarantine)
would see.

The sources share the session's database and buckets with other tests, so every
scenario writes under a date partition and runs at a logical date of its own, and
asserts on its own run's numbers. The first release of each source is made once
per module (`first_release`) and reused by the scenarios that need a release to
exist already; what a test checks about that release was captured right after
its run, so the order in which the tests run does not matter.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pycanon import anonymity
from stdnum.fr import nir
from typer.testing import CliRunner

from include.anonymization.attacker_view import attacker_view
from include.audit import (
    AUDIT_KEY_CONN_ID,
    Breakage,
    LedgerBrokenError,
    key_from_connection,
    verify,
)
from include.cli.audit import audit_app
from include.core.connections import get_connection
from include.core.settings import PROJECT_DIR, Settings, load_settings
from include.core.source_config import SourceConfig, load_all_sources
from include.core.zones import sse_arguments
from include.publish import load_release, mirrored_latest, verify_release
from include.publish.manifest import MANIFEST_NAME
from include.publish.s3_release import release_prefix
from include.sample.generator import iter_rows
from include.sample.writer import SampleReport, write_sample
from include.services.stack import LocalPlatform
from include.warehouse.aggregates import count_cells
from include.warehouse.pg_tables import RUN_COLUMN
from include.warehouse.record_store import store_groups
from tests.dags import pipeline_helpers as helpers
from tests.presidio_oracle import presidio_findings
from tests.unit.anonymization import linked_attack

pytestmark = [pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

SOURCES = ("signalements", "consultation")
SAMPLE_ROWS = 1_500
TOTAL = "Total"  # the attacker's code for a margin
# One date partition, logical date and seed per scenario: nothing shared with another.
FIRST_RELEASE = {
    "signalements": (date(2026, 3, 2), 52_001),
    "consultation": (date(2026, 3, 3), 52_002),
}
FAILING_RUN = (date(2026, 3, 9), 52_003)
UNENCRYPTED_RUN = (date(2026, 3, 16), 52_004)
TYPED_COMMUNE_RUN = (date(2026, 3, 23), 52_005)
NEXT_DAY_RUN = (date(2026, 3, 30), 52_006)
PIPELINE_TASKS = {
    "ingest", "chunks", "scrub", "anonymize", "validate", "load", "publish", "verify_ledger",
    "accounting",
}  # fmt: skip
LEDGER_STEPS = {
    "ingest", "scrub", "anonymize", "validate", "load", "accounting", "verify_ledger", "publish",
}  # fmt: skip
SUCCESS = "success"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class FirstRelease:
    """A source's first successful run, and what the world looked like right after it."""

    config: SourceConfig
    sample: SampleReport
    logical_date: datetime
    run: Any  # the DagRun
    states: dict[str, list[str | None]]
    pointer: dict[str, Any] | None  # the public bucket's latest.json
    mirror_latest: str | None  # where exports/<source>/latest points
    ledger: list[tuple[int, str, dict[str, Any]]]  # the run's entries: seq, step, payload

    def payloads(self, step: str) -> list[dict[str, Any]]:
        return [payload for _, name, payload in self.ledger if name == step]

    @property
    def source(self) -> str:
        return self.config.name

    @property
    def run_id(self) -> str:
        return helpers.stage_run_id(self.run)

    def planted(self) -> list[helpers.PlantedRow]:
        """The personal data the sample planted, regenerated row by row from its seed."""
        return helpers.planted_rows(
            self.config, self.sample.rows, self.sample.seed, self.sample.day
        )

    @property
    def release_id(self) -> str:
        return str(self._pointer()["release_id"])

    @property
    def manifest_sha256(self) -> str:
        return str(self._pointer()["manifest_sha256"])

    def _pointer(self) -> dict[str, Any]:
        assert self.pointer is not None, f"{self.source}: no latest.json after the first run"
        return self.pointer


@pytest.fixture(scope="module")
def first_release(
    platform: LocalPlatform, s3_client: Any, settings: Settings, warehouse_dsn: str
) -> Callable[[str], FirstRelease]:
    """`first_release(source)`: a sample of SAMPLE_ROWS rows published by the source's DAG."""
    made: dict[str, FirstRelease] = {}

    def get(source: str) -> FirstRelease:
        if source not in made:
            config = load_all_sources()[source]
            day, seed = FIRST_RELEASE[source]
            sample = write_sample(
                s3_client, settings.raw_bucket, config, SAMPLE_ROWS, seed, day, settings.sse
            )
            run = helpers.run_pipeline(source, _midnight(day))
            made[source] = FirstRelease(
                config=config,
                sample=sample,
                logical_date=_midnight(day),
                run=run,
                states=helpers.task_states(run),
                pointer=helpers.latest_pointer(s3_client, settings.public_bucket, source),
                mirror_latest=mirrored_latest(settings.exports_dir, source),
                ledger=helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(run)),
            )
        return made[source]

    return get


@pytest.fixture(scope="module")
def audit_key(platform: LocalPlatform) -> Any:
    return key_from_connection(get_connection(AUDIT_KEY_CONN_ID))


def _release_file(s3_client: Any, settings: Settings, release: FirstRelease, name: str) -> bytes:
    key = release_prefix(release.source, release.release_id) + name
    return bytes(s3_client.get_object(Bucket=settings.public_bucket, Key=key)["Body"].read())


def _published_records(s3_client: Any, settings: Settings, release: FirstRelease) -> pd.DataFrame:
    """The record-level CSV of the release, every cell as the text a reader gets."""
    body = _release_file(s3_client, settings, release, f"{release.source}.csv")
    return pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)


# -- 1. the happy path ------------------------------------------------------------------------


def test_the_dag_writes_to_the_test_session_folders(
    platform: LocalPlatform, settings: Settings
) -> None:
    """The DAG's tasks read their settings from the environment: it must be this session's."""
    assert load_settings() == settings
    assert settings.exports_dir != PROJECT_DIR / "exports"


@pytest.mark.parametrize("source", SOURCES)
def test_a_run_publishes_a_verified_release(
    first_release: Callable[[str], FirstRelease], source: str, s3_client: Any, settings: Settings
) -> None:
    release = first_release(source)

    assert release.run.state == SUCCESS
    assert set(release.states) == PIPELINE_TASKS
    assert {
        task: states for task, states in release.states.items() if set(states) != {SUCCESS}
    } == {}
    # Dated by the run's logical date, never by the wall clock.
    assert release.release_id.startswith(f"{release.logical_date:%Y-%m-%dT%H%MZ}-")
    verified = verify_release(
        s3_client,
        settings.public_bucket,
        source,
        release.release_id,
        expected_manifest_sha256=release.manifest_sha256,
    )
    assert verified.files >= 2 * (1 + len(release.config.aggregates))  # CSV + Parquet per table
    assert release.mirror_latest == release.release_id
    mirrored = load_release(settings.exports_dir / source / release.release_id)
    assert mirrored.manifest_sha256 == verified.manifest_sha256
    assert not (PROJECT_DIR / "exports" / source / release.release_id).exists()
    # The release carries this run's submissions: all but the suppressed, quarantined and
    # duplicate rows (a few percent) of the sample.
    published = set(_published_records(s3_client, settings, release)[release.config.id_field])
    sample = {row.record_id for row in release.planted()}
    assert len(sample & published) >= 0.9 * len(sample)
    assert [(p["release_id"], p["manifest_sha256"]) for p in release.payloads("publish")] == [
        (release.release_id, verified.manifest_sha256)
    ]


@pytest.mark.parametrize("source", SOURCES)
def test_the_ledger_records_every_step_of_the_run_and_verifies(
    first_release: Callable[[str], FirstRelease], source: str, warehouse_dsn: str, audit_key: Any
) -> None:
    release = first_release(source)
    chunks = len(release.payloads("ingest")[0]["chunk_keys"])  # a scrub entry per chunk
    expected = sorted([*LEDGER_STEPS - {"scrub"}, *["scrub"] * chunks])

    assert sorted(step for _, step, _ in release.ledger) == expected
    result = verify(warehouse_dsn, audit_key)
    assert result.problem is None
    assert result.count >= max(seq for seq, _, _ in release.ledger)
    assert release.payloads("accounting")[0]["balanced"] is True


@pytest.mark.parametrize("source", SOURCES)
def test_every_row_read_is_published_suppressed_quarantined_or_a_duplicate(
    first_release: Callable[[str], FirstRelease], source: str, warehouse_dsn: str
) -> None:
    release = first_release(source)
    read, published, suppressed, quarantined, duplicates, balanced = helpers.fetch_one(
        warehouse_dsn,
        "SELECT rows_read, rows_published, rows_suppressed, rows_quarantined, rows_duplicate, "
        "balanced FROM pipeline.run_accounting WHERE source = %s AND run_id = %s",
        source,
        release.run_id,
    )
    assert balanced is True
    assert read == published + suppressed + quarantined + duplicates
    # Each term is the one its own stage recorded for this run.
    assert (read, quarantined, duplicates) == helpers.fetch_one(
        warehouse_dsn,
        "SELECT rows_read, rows_quarantined, rows_duplicate FROM pipeline.ingest_runs "
        "WHERE source = %s AND run_id = %s AND status = 'loaded'",
        source,
        release.run_id,
    )
    anonymized = release.payloads("anonymize")
    assert [(p["records_published"], p["records_suppressed"]) for p in anonymized] == [
        (published, suppressed)
    ]
    (loaded,) = helpers.fetch_one(
        warehouse_dsn,
        sql.SQL("SELECT count(*) FROM {} WHERE {} = %s")
        .format(sql.Identifier("curated", source), sql.Identifier(RUN_COLUMN))
        .as_string(),
        release.run_id,
    )
    assert loaded == published
    # Every row of this run's sample was read, from objects read in full.
    sample_keys = [obj.key for obj in release.sample.objects]
    objects = helpers.fetch_all(
        warehouse_dsn,
        "SELECT status, rows_read FROM pipeline.raw_objects "
        "WHERE source = %s AND run_id = %s AND key = ANY(%s)",
        source,
        release.run_id,
        sample_keys,
    )
    assert len(objects) == len(sample_keys)
    assert {status for status, _ in objects} == {"ingested"}
    assert sum(rows for _, rows in objects) == SAMPLE_ROWS <= read
    assert published > 0
    assert suppressed <= release.config.max_suppression * (published + suppressed)
    # The same balanced figures reach the analysts' indicator table, with the scrub
    # stage's text counts summed over the run's chunks.
    scrubbed = release.payloads("scrub")
    assert helpers.fetch_one(
        warehouse_dsn,
        "SELECT rows_read, rows_published, rows_suppressed, rows_quarantined, rows_duplicate, "
        "texts, texts_redacted FROM aggregates.indicateurs_execution "
        "WHERE source = %s AND run_id = %s",
        source,
        release.run_id,
    ) == (
        read,
        published,
        suppressed,
        quarantined,
        duplicates,
        sum(p["texts"] for p in scrubbed),
        sum(p["texts_redacted"] for p in scrubbed),
    )


@pytest.mark.parametrize("source", SOURCES)
def test_the_published_records_are_k_anonymous_and_l_diverse(
    first_release: Callable[[str], FirstRelease], source: str, s3_client: Any, settings: Settings
) -> None:
    """Measured by pycanon on the public CSV, independently of the pipeline's own gates."""
    release = first_release(source)
    config = release.config
    records = _published_records(s3_client, settings, release)
    qis = [spec.name for spec in config.quasi_identifiers]
    sensitive = [spec.name for spec in config.sensitive_fields]
    manifest = json.loads(_release_file(s3_client, settings, release, MANIFEST_NAME))
    (facts,) = [table for table in manifest["tables"] if table["name"] == source]

    k = anonymity.k_anonymity(records, qis)
    assert len(records) >= release.sample.rows * 0.9
    assert k >= config.k
    assert facts["k_achieved"] == k
    if sensitive:
        l_diversity = anonymity.l_diversity(records, qis, sensitive)
        assert l_diversity >= config.l_diversity
        assert facts["l_achieved"] == l_diversity
    else:  # no sensitive attribute: l-diversity is only defined, and required, as 1
        assert config.l_diversity == 1
    # As an attacker would: any published column that refines a quasi-identifier or holds a
    # place or a time is grouped on too (issue #12: the commune beside the postcode's
    # département gave k=1 while the manifest said k=5). None may be left undeclared.
    view = attacker_view(records, qis, excluded=[spec.name for spec in config.free_text_fields])
    assert view.inferred == (), view.inferred
    assert facts["attacker_view"]["k_with_inferred"] == k


@pytest.mark.parametrize("source", SOURCES)
def test_no_hidden_cell_is_counted_from_the_record_file_and_the_tables(
    first_release: Callable[[str], FirstRelease],
    source: str,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
) -> None:
    """Issue #12: the release's own record file gave hidden cells back. Read as an attacker
    would, from the public CSVs only: the record file gives every cell an interval (rows
    that surely count there; rows whose value is coarser, and the records the file leaves
    out, may), every table adds its equations, margins shared across tables included. No
    hidden cell may come out pinned, nor a small one with less room than the rule asks
    (or than the record file itself leaves)."""
    release = first_release(source)
    config = release.config
    records = _published_records(s3_client, settings, release)
    with psycopg.connect(warehouse_dsn) as conn:  # the true total: the attacker's best case
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("private", source))
        ).fetchone()
    assert row is not None
    left_out = int(row[0]) - len(records)
    views, known, hidden = [], {}, {}
    for aggregate in config.aggregates:
        body = _release_file(s3_client, settings, release, f"{aggregate.name}.csv")
        table = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
        dims = tuple(dim.column for dim in aggregate.dimensions)
        shown = table.assign(count=pd.to_numeric(table["count"]).astype(float))
        views.append(
            linked_attack.Published(
                linked_attack.with_unknown_margins(shown[[*dims, "count"]], dims, "count", TOTAL),
                dims,
                "count",
            )
        )
        codes = {dim: set(table[dim]) for dim in dims}
        fields = {dim.column: dim.field for dim in aggregate.dimensions}
        known |= linked_attack.record_file_intervals(records, fields, codes, left_out)
        for cell in table[table["suppressed"] == "true"].itertuples(index=False):
            hidden[frozenset((d, getattr(cell, d)) for d in dims)] = aggregate.name
    if not hidden:
        pytest.skip(f"{source}: the release hides no cell")
    found = linked_attack.attack(views, {}, TOTAL, known)
    truth = _true_cells(warehouse_dsn, config)
    for key, table_name in hidden.items():
        lower, upper = found.intervals[key]
        assert upper - lower > 1e-6, f"{table_name} {dict(key)}: pinned to {lower}"
        value = truth[key]
        if value < config.min_cell_count:
            allowed = known.get(key, (0.0, float("inf")))[1] - value
            room = min(config.min_cell_count, allowed)
            assert upper - value >= room - 1e-6, f"{table_name} {dict(key)}: {lower}..{upper}"


def _true_cells(dsn: str, config: SourceConfig) -> dict[Any, float]:
    """The true count of every interior cell, from the private store (what the attacker
    tries to learn), with the codes as the CSVs write them."""
    truth: dict[Any, float] = {}
    with psycopg.connect(dsn) as conn:
        for aggregate in config.aggregates:
            groups = store_groups(conn, config, aggregate)
            cells = count_cells(groups, config, aggregate)
            dims = [dim.column for dim in aggregate.dimensions]
            for row in cells.itertuples(index=False):
                truth[frozenset(zip(dims, map(str, row[:-1]), strict=True))] = float(row[-1])
    return truth


def _published_planted_rows(
    release: FirstRelease, s3_client: Any, settings: Settings
) -> list[tuple[helpers.PlantedRow, str]]:
    """Each planted row the release publishes, with all its published cells as one text."""
    records = _published_records(s3_client, settings, release).astype(str)
    published = {
        row[release.config.id_field]: "\x00".join(row.values())
        for row in records.to_dict(orient="records")
    }
    return [
        (row, published[row.record_id]) for row in release.planted() if row.record_id in published
    ]


@pytest.mark.parametrize("source", SOURCES)
def test_no_planted_identifier_is_in_any_public_file(
    first_release: Callable[[str], FirstRelease], source: str, s3_client: Any, settings: Settings
) -> None:
    """E-mails, phones, IBANs, NIRs, SIREN/SIRETs, plates, addresses, birth dates.

    Every value the sample planted is searched for verbatim in every public file (CSV,
    Parquet, JSON, README, the pointer); then shapes of identifiers, whoever planted them.
    """
    release = first_release(source)
    values = set().union(*(row.values(names=False) for row in release.planted()))
    files = helpers.public_files(s3_client, settings.public_bucket, source, release.release_id)
    assert len(values) > 500, "the sample planted fewer identifiers than expected"
    assert {f.key.rsplit(".", 1)[-1] for f in files} >= {"csv", "parquet", "json", "md"}

    assert helpers.files_containing(files, values) == {}
    assert helpers.pattern_hits(files) == {}


@pytest.mark.parametrize("source", SOURCES)
def test_presidio_finds_no_identifier_in_any_public_file(
    first_release: Callable[[str], FirstRelease], source: str, s3_client: Any, settings: Settings
) -> None:
    """As an attacker would, with a tool the project did not write: Presidio's own
    recognizers (cards, crypto wallets, e-mails, IBANs, IP and MAC addresses) and Google's
    libphonenumber read every public file of the release and find nothing, whoever wrote
    the value and however it is spelled."""
    release = first_release(source)
    files = helpers.public_files(s3_client, settings.public_bucket, source, release.release_id)
    found = {
        public.key: sorted(
            {(f.entity_type, f.value) for f in presidio_findings(public.reader_text())}
        )
        for public in files
    }
    assert {key: values for key, values in found.items() if values} == {}


@pytest.mark.parametrize("source", SOURCES)
def test_no_planted_name_is_in_the_published_records(
    first_release: Callable[[str], FirstRelease], source: str, s3_client: Any, settings: Settings
) -> None:
    """Names (in the text, or the reporter's) are searched record by record.

    Not file-wide: streets and communes are named after people ("rue Gérard", "Saint-
    Pierre"), so another record's street is not a leak of this record's author.
    """
    release = first_release(source)
    leaks = {
        row.record_id: helpers.record_leaks(published, row, names=True)
        for row, published in _published_planted_rows(release, s3_client, settings)
    }
    assert {record: found for record, found in leaks.items() if found} == {}


# -- 2. a rerun of the same run -----------------------------------------------------------------


def _footprint(
    release: FirstRelease, s3_client: Any, settings: Settings, warehouse_dsn: str
) -> dict[str, Any]:
    """Everything a run of the source leaves for others to read, as comparable values."""
    source, run_id = release.source, release.run_id
    pointer = helpers.latest_pointer(s3_client, settings.public_bucket, source)
    latest = mirrored_latest(settings.exports_dir, source)
    tables = [sql.Identifier("curated", source)] + [
        sql.Identifier("aggregates", f"{source}__{aggregate.name}")
        for aggregate in release.config.aggregates
    ]
    content = {
        str(table): helpers.fetch_one(
            warehouse_dsn,
            sql.SQL(
                "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "
                "FROM {} t WHERE {} = %s"
            )
            .format(table, sql.Identifier(RUN_COLUMN))
            .as_string(),
            run_id,
        )
        for table in tables
    }
    return {
        "pointer": pointer,
        "public objects": helpers.object_versions(s3_client, settings.public_bucket, f"{source}/"),
        "mirror": (
            latest,
            load_release(settings.exports_dir / source / str(latest)).manifest_sha256,
        ),
        "warehouse": content,
        "accounting": helpers.fetch_one(
            warehouse_dsn,
            "SELECT rows_read, rows_published, rows_suppressed, rows_quarantined, rows_duplicate, "
            "balanced FROM pipeline.run_accounting WHERE source = %s AND run_id = %s",
            source,
            run_id,
        ),
        "raw objects": helpers.fetch_all(
            warehouse_dsn,
            "SELECT key, etag, status, reason, rows_read FROM pipeline.raw_objects "
            "WHERE source = %s AND run_id = %s ORDER BY key",
            source,
            run_id,
        ),
    }


def test_a_rerun_of_the_same_run_changes_nothing(
    first_release: Callable[[str], FirstRelease],
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
) -> None:
    """The operator clears the DagRun and it runs again, under the same run id."""
    release = first_release("consultation")
    source, id_field = release.source, release.config.id_field
    before = _footprint(release, s3_client, settings, warehouse_dsn)

    rerun = helpers.run_pipeline(source, release.logical_date)

    assert rerun.run_id == release.run.run_id
    assert rerun.state == SUCCESS
    assert _footprint(release, s3_client, settings, warehouse_dsn) == before
    published = [
        p
        for _, step, p in helpers.ledger_entries(warehouse_dsn, release.run_id)
        if step == "publish"
    ]
    assert [(p["release_id"], p["manifest_sha256"]) for p in published] == 2 * [
        (release.release_id, release.manifest_sha256)
    ]
    assert published[-1]["uploaded"] == 0
    total, distinct = helpers.fetch_one(
        warehouse_dsn,
        sql.SQL("SELECT count(*), count(DISTINCT {}) FROM {}")
        .format(sql.Identifier(id_field), sql.Identifier("curated", source))
        .as_string(),
    )
    assert total == distinct


# -- 3. a failing expectation -------------------------------------------------------------------


def _nir_with_a_wrong_key() -> str:
    """A social security number whose check digits do not verify, spaced as people type it.

    The scrubber only redacts NIRs whose key verifies (a long number is not always a NIR);
    the validation gate blocks the shape itself. This one passes the first and must be
    stopped by the second, for real, in Great Expectations.
    """
    body = "1850578006084"
    wrong_key = (97 - int(body) % 97) % 97 + 1
    assert not nir.is_valid(f"{body}{wrong_key:02d}")
    return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:]} {wrong_key:02d}"


def _put_jsonl(
    client: Any, bucket: str, key: str, rows: list[dict[str, Any]], **extra: str
) -> None:
    body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
    client.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def test_a_failing_expectation_blocks_publication(
    first_release: Callable[[str], FirstRelease],
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
) -> None:
    previous = first_release("signalements")
    config, source = previous.config, previous.source
    day, seed = FAILING_RUN
    invalid = _nir_with_a_wrong_key()
    rows = [
        dict(row, description=f"{row['description']} Mon numéro de sécu : {invalid}")
        for row in iter_rows(config, 300, seed, day)
    ]
    bad_key = f"{source}/{day:%Y-%m-%d}/nir-{seed}.jsonl"
    _put_jsonl(s3_client, settings.raw_bucket, bad_key, rows, **sse_arguments(settings))
    pointer = helpers.latest_pointer(s3_client, settings.public_bucket, source)
    mirror = mirrored_latest(settings.exports_dir, source)
    assert pointer is not None
    assert mirror is not None

    run = helpers.run_pipeline(source, _midnight(day), retries=0)

    run_id = helpers.stage_run_id(run)
    states = helpers.task_states(run)
    assert run.state == "failed"
    assert {task: states[task] for task in ("ingest", "scrub", "anonymize", "validate")} == {
        "ingest": [SUCCESS], "scrub": [SUCCESS], "anonymize": [SUCCESS], "validate": ["failed"]
    }  # fmt: skip
    assert states["load"] == states["publish"] == ["upstream_failed"]
    assert helpers.latest_pointer(s3_client, settings.public_bucket, source) == pointer
    assert mirrored_latest(settings.exports_dir, source) == mirror
    entries = helpers.ledger_entries(warehouse_dsn, run_id)
    assert [step for _, step, _ in entries if step in ("validate", "load", "publish")] == [
        "validate"
    ]
    (validated,) = [payload for _, step, payload in entries if step == "validate"]
    assert validated["success"] is False
    failed = {check["check"] for table in validated["tables"] for check in table["failed"]}
    assert "description.no_pii.nir" in failed
    assert invalid not in json.dumps(validated, ensure_ascii=False), "the ledger shows the value"
    assert (
        helpers.fetch_all(
            warehouse_dsn,
            "SELECT run_id FROM pipeline.ingest_runs "
            "WHERE source = %s AND run_id = %s AND status = 'loaded'",
            source,
            run_id,
        )
        == []
    )

    # The operator follows the message: the object carrying the bad numbers is removed and
    # its rows are sent again without them. The next run takes over the failed run's
    # objects (the removed one is quarantined as gone), and the rows sent again are
    # published once: the failed run saw their ids, but they are no duplicates.
    s3_client.delete_object(Bucket=settings.raw_bucket, Key=bad_key)
    fixed = list(iter_rows(config, 300, seed, day))
    _put_jsonl(
        s3_client,
        settings.raw_bucket,
        f"{source}/{day:%Y-%m-%d}/nir-{seed}-fixed.jsonl",
        fixed,
        **sse_arguments(settings),
    )
    later = date(2026, 3, 10)
    again = helpers.run_pipeline(source, _midnight(later), retries=0)
    assert again.state == SUCCESS, helpers.task_states(again)
    assert helpers.fetch_one(
        warehouse_dsn,
        "SELECT status, superseded_by FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
        source,
        run_id,
    ) == ("superseded", helpers.stage_run_id(again))
    (ingested,) = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(again))
        if step == "ingest"
    ]  # fmt: skip
    assert [bad_key, "object_changed"] in ingested["quarantined_objects"]
    assert sum(ingested["duplicates"].values()) == 0
    helpers.assert_each_row_stored_once(warehouse_dsn, config, fixed)
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)


# -- 4. an unencrypted raw object ---------------------------------------------------------------


@contextmanager
def _without_default_encryption(client: Any, bucket: str) -> Iterator[None]:
    """The bucket's default encryption removed for the block, then restored as it was."""
    saved = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    client.delete_bucket_encryption(Bucket=bucket)
    try:
        yield
    finally:
        client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=saved)


def test_an_unencrypted_raw_object_is_quarantined_unread(
    first_release: Callable[[str], FirstRelease],
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
) -> None:
    previous = first_release("consultation")
    config, source = previous.config, previous.source
    day, seed = UNENCRYPTED_RUN
    key = f"{source}/{day:%Y-%m-%d}/clear-{seed}.jsonl"
    rows = list(iter_rows(config, 50, seed, day))
    with _without_default_encryption(s3_client, settings.raw_bucket):
        _put_jsonl(s3_client, settings.raw_bucket, key, rows)
    assert "ServerSideEncryption" not in s3_client.head_object(Bucket=settings.raw_bucket, Key=key)
    pointer = helpers.latest_pointer(s3_client, settings.public_bucket, source)

    run = helpers.run_pipeline(source, _midnight(day), retries=0)

    run_id = helpers.stage_run_id(run)
    assert run.state == SUCCESS, "bad input must not stop the line"
    assert helpers.fetch_all(
        warehouse_dsn,
        "SELECT run_id, status, reason, rows_read FROM pipeline.raw_objects "
        "WHERE source = %s AND key = %s",
        source,
        key,
    ) == [(run_id, "quarantined", "unencrypted_object", None)]
    assert helpers.fetch_all(
        warehouse_dsn,
        "SELECT reason, rows, objects FROM pipeline.quarantine WHERE source = %s AND run_id = %s "
        "AND reason = 'unencrypted_object'",
        source,
        run_id,
    ) == [("unencrypted_object", 0, 1)]
    ids = [str(row[config.id_field]) for row in rows]
    assert (
        helpers.fetch_all(
            warehouse_dsn,
            "SELECT record_id FROM pipeline.ingested_ids WHERE source = %s AND record_id = ANY(%s)",
            source,
            ids,
        )
        == []
    )
    (ingested,) = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, run_id) if step == "ingest"
    ]
    assert [key, "unencrypted_object"] in ingested["quarantined_objects"]
    assert helpers.latest_pointer(s3_client, settings.public_bucket, source) == pointer


def test_what_a_person_types_into_commune_never_reaches_a_public_file(
    first_release: Callable[[str], FirstRelease],
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
) -> None:
    """Read as an attacker would: the published files of the next release hold none of the
    names, e-mails or phone numbers typed into `commune`; their rows were quarantined."""
    config = first_release("signalements").config
    source = config.name
    day, seed = TYPED_COMMUNE_RUN
    typed = ["Jean-Baptiste Lemoine", "jb.lemoine@example.fr", "06 71 82 93 04", "chez Mme Roux"]
    rows = list(iter_rows(config, 200, seed, day))
    for row, value in zip(rows, typed, strict=False):
        row["commune"] = value
    _put_jsonl(
        s3_client,
        settings.raw_bucket,
        f"{source}/{day:%Y-%m-%d}/communes-{seed}.jsonl",
        rows,
        **sse_arguments(settings),
    )

    run = helpers.run_pipeline(source, _midnight(day), retries=0)

    assert run.state == SUCCESS, helpers.task_states(run)
    (ingested,) = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(run))
        if step == "ingest"
    ]  # fmt: skip
    assert ingested["quarantined"].get("not_allowed:commune") == len(typed)
    pointer = helpers.latest_pointer(s3_client, settings.public_bucket, source)
    assert pointer is not None
    files = helpers.public_files(s3_client, settings.public_bucket, source, pointer["release_id"])
    assert helpers.files_containing(files, set(typed)) == {}
    published = helpers.files_containing(files, {str(rows[-1]["commune"])})
    assert published or rows[-1]["commune"] is None, "a real commune is published as before"


# -- 4b. a daily release adds its day's batch --------------------------------------------------


def _manifest(s3_client: Any, settings: Settings, source: str, release_id: str) -> dict:
    key = release_prefix(source, release_id) + "manifest.json"
    return json.loads(s3_client.get_object(Bucket=settings.public_bucket, Key=key)["Body"].read())


def _records_table(manifest: dict) -> dict:
    (table,) = [t for t in manifest["tables"] if t["kind"] == "records"]
    return table


def test_a_daily_release_writes_its_days_rows_and_lists_the_earlier_files(
    first_release: Callable[[str], FirstRelease],
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
) -> None:
    """The next day's release holds only the rows no earlier release published; it lists
    every earlier batch by path and checksum as their own releases published them, and the
    files to date, read from the bucket, hold every loaded row once. `civic audit risk`
    measures the mirrored release over all of them."""
    config = first_release("signalements").config
    source = config.name
    before = helpers.latest_pointer(s3_client, settings.public_bucket, source)
    assert before is not None
    previous = _manifest(s3_client, settings, source, before["release_id"])
    day, seed = NEXT_DAY_RUN
    write_sample(s3_client, settings.raw_bucket, config, 300, seed, day, settings.sse)

    run = helpers.run_pipeline(source, _midnight(day), retries=0)

    assert run.state == SUCCESS, helpers.task_states(run)
    pointer = helpers.latest_pointer(s3_client, settings.public_bucket, source)
    assert pointer is not None
    assert pointer["release_id"] != before["release_id"]
    manifest = _manifest(s3_client, settings, source, pointer["release_id"])
    table, earlier = _records_table(manifest), _records_table(previous)
    (anonymized,) = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(run))
        if step == "anonymize"
    ]  # fmt: skip
    assert table["rows"] == anonymized["records_published"] > 0  # the day's rows, no more
    own_files = {f["path"]: f for f in previous["files"]}
    assert table["earlier_batches"] == [
        *earlier["earlier_batches"],
        {
            "release_id": before["release_id"],
            "rows": earlier["rows"],
            "files": [
                {**{k: own_files[name][k] for k in ("bytes", "sha256")},
                 "path": f"../{before['release_id']}/{name}"}
                for name in earlier["files"]
            ],
        },
    ]  # fmt: skip
    with psycopg.connect(warehouse_dsn) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("curated", source))
        (stored,) = conn.execute(query).fetchone() or (None,)
    assert table["rows_to_date"] == stored == earlier["rows_to_date"] + table["rows"]
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)

    mirrored = settings.exports_dir / source / "latest"
    cli = CliRunner().invoke(audit_app, ["risk", str(mirrored), "--json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)[source]["records"] == stored

    # The public audit log, from the mirrored public files and the ledger's public key
    # alone: this release's checkpoint extends the one the release before it signed.
    public = key_from_connection(get_connection(AUDIT_KEY_CONN_ID)).public_key()
    assert public is not None
    cli = CliRunner().invoke(
        audit_app,
        [
            "verify-release", str(settings.exports_dir / source / pointer["release_id"]),
            "--public-key", public.public_b64(),
            "--previous", str(settings.exports_dir / source / before["release_id"]),
        ],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert "verified" in cli.output
    assert manifest["ledger"]["previous_checkpoint"]["release_id"] == before["release_id"]


# -- 5. a tampered ledger -----------------------------------------------------------------------


def _rewrite_payload(admin_dsn: str, seq: int, payload: str) -> None:
    """What an intruder with superuser rights can do: switch the guard off, rewrite, switch on."""
    with psycopg.connect(admin_dsn) as conn:
        conn.execute("ALTER TABLE audit.ledger DISABLE TRIGGER ledger_append_only")
        conn.execute("UPDATE audit.ledger SET payload = %s::json WHERE seq = %s", (payload, seq))
        conn.execute("ALTER TABLE audit.ledger ENABLE ALWAYS TRIGGER ledger_append_only")


def test_tampering_with_one_ledger_row_makes_verify_fail_and_name_it(
    first_release: Callable[[str], FirstRelease],
    platform: LocalPlatform,
    warehouse_dsn: str,
    audit_key: Any,
) -> None:
    """The session's ledger is shared: the row is put back exactly as it was, whatever happens."""
    release = first_release("signalements")
    assert verify(warehouse_dsn, audit_key).intact
    ((seq, _, published),) = [entry for entry in release.ledger if entry[1] == "publish"]
    (original,) = helpers.fetch_one(
        warehouse_dsn, "SELECT payload::text FROM audit.ledger WHERE seq = %s", seq
    )
    admin = make_conninfo(platform.postgres().dsn(), dbname="civic")
    # Someone swaps the published release and hides it: the manifest hash is rewritten.
    _rewrite_payload(admin, seq, original.replace(published["manifest_sha256"], "0" * 64))
    try:
        result = verify(warehouse_dsn, audit_key)
    finally:
        _rewrite_payload(admin, seq, original)

    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (seq, Breakage.HASH_MISMATCH)
    assert result.count == seq - 1
    with pytest.raises(LedgerBrokenError, match=rf"broken at entry {seq}: hash mismatch"):
        result.raise_if_broken()
    assert verify(warehouse_dsn, audit_key).intact
