"""The fault matrix: the platform broken on purpose, then run again through Airflow.

Each scenario kills or breaks something in the middle of a real run (the whole
`airflow dags test` process, one scrub worker process, PostgreSQL, the S3 server, the
audit ledger), runs the source (or the failed task) again, and then reads the platform
the way an auditor would:
- every submission the scenario wrote is in the private record store exactly once,
  with the values it was sent with, and was published (or suppressed) once;
- the release `latest` points to holds aggregates equal to a from-scratch
  computation over every stored record (pandas over the whole store, not the SQL
  grouping the pipeline uses);
- the platform's accounting balances with nothing left in flight,
or the run failed closed with its reason in the ledger and `latest` did not move.

Scenarios write under date partitions of their own (June 2026) and seeds of their own
(66_0xx: a seed gives the submission ids, which another test would see as duplicates),
so they share the session's services with the other tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import psutil
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from include.audit import AUDIT_KEY_CONN_ID, Breakage, key_from_connection, verify
from include.cli.audit import audit_app
from include.core.connections import S3_CONN_ID, env_var, get_connection
from include.core.connections import s3_client as make_s3_client
from include.core.settings import Settings
from include.core.source_config import SourceConfig, load_all_sources
from include.core.zones import ensure_buckets, list_objects, sse_arguments
from include.demo_runs import airflow_bin
from include.pipeline.context import safe_run_id
from include.publish import s3_release, verify_release
from include.publish.manifest import MANIFEST_NAME, ledger_anchor
from include.publish.s3_release import committed_manifest
from include.sample.generator import iter_rows
from include.services.processes import free_port, read_pid
from include.services.stack import LocalPlatform
from include.warehouse.load import ensure_warehouse
from include.warehouse.record_file_facts import FACTS_NAME, FACTS_SCHEMA, FACTS_TABLE
from include.warehouse.record_store import record_count
from tests.dags import pipeline_helpers as helpers

pytestmark = [pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

SOURCE = "signalements"
ROWS = 400


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


@pytest.fixture(scope="module")
def config() -> SourceConfig:
    return load_all_sources()[SOURCE]


def _put_rows(
    s3_client: Any,
    settings: Settings,
    config: SourceConfig,
    day: date,
    seed: int,
    count: int = ROWS,
) -> list[dict[str, Any]]:
    """`count` valid submissions as one encrypted JSON Lines object of the raw zone."""
    rows = list(iter_rows(config, count, seed, day))
    body = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    s3_client.put_object(
        Bucket=settings.raw_bucket,
        Key=f"{config.name}/{day:%Y-%m-%d}/recovery-{seed}.jsonl",
        Body=body.encode("utf-8"),
        **sse_arguments(settings),
    )
    return rows


def _wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _ledger_steps(dsn: str, run_id: str) -> list[str]:
    return [step for _, step, _ in helpers.ledger_entries(dsn, run_id)]


def _run_status(dsn: str, run_id: str) -> tuple[str, str | None]:
    return helpers.fetch_one(
        dsn,
        "SELECT status, superseded_by FROM pipeline.ingest_runs WHERE source = %s AND run_id = %s",
        SOURCE,
        run_id,
    )


def _stored_of(dsn: str, run_id: str) -> int:
    """How many records of `run_id` the private record store holds."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE run_id = %s").format(
                sql.Identifier("private", SOURCE)
            ),
            (run_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _next_run_supersedes(dsn: str, dead_run: str, day: date) -> Any:
    """The source's next run (at `day`): it succeeds and supersedes the dead or crashed run,
    whose ingested rows it takes over; returns the DagRun."""
    again = helpers.run_pipeline(SOURCE, _midnight(day), retries=0)
    assert again.state == "success", helpers.task_states(again)
    assert _run_status(dsn, dead_run) == ("superseded", helpers.stage_run_id(again))
    return again


# -- 1. the whole Airflow process killed in the middle of the scrub ------------------------------


@contextmanager
def _airflow_dags_test(dag_id: str, day: date, log: Any) -> Iterator[subprocess.Popen[bytes]]:
    """`airflow dags test` in a process group of its own, killed (-9) if still there at exit."""
    proc = subprocess.Popen(
        [str(airflow_bin()), "dags", "test", dag_id, day.isoformat()],
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)


def _task_started(log: Path, task_id: str) -> bool:
    return f"[DAG TEST] starting task_id={task_id} " in log.read_text(errors="replace")


def _killed_run(log: Path) -> str:
    """The run `airflow dags test` was running when it was killed, marked failed in Airflow as
    an operator does in the UI, its unfinished tasks with it; its id as the stages write it.

    WHY the tasks too: nothing heartbeats for `airflow dags test`, so no scheduler ever finds
    its dead task. A run left "running" keeps every later run queued (max_active_runs=1); a
    scrub task left "running" holds the source's one scrub slot under LocalExecutor
    (max_active_tis_per_dag=1) and no later scrub would ever be queued by a scheduler."""
    from airflow.api.common.mark_tasks import set_dag_run_state_to_failed
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session

    found = re.search(r"run_id='(manual__[^']+)'", log.read_text(errors="replace"))
    assert found is not None, f"no run id in {log}"
    with create_session() as session:
        dag = SerializedDagModel.get_dag(f"civic_pipeline_{SOURCE}", session=session)
        assert dag is not None, "the pipeline DAG was never serialized"
        set_dag_run_state_to_failed(dag=dag, run_id=found.group(1), commit=True, session=session)
    return safe_run_id(found.group(1))


def test_kill_9_mid_scrub_then_a_new_run_publishes_every_row_once(
    platform: LocalPlatform,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
    tmp_path: Any,
) -> None:
    day = date(2026, 6, 1)
    rows = _put_rows(s3_client, settings, config, day, 66_001)
    log_path = tmp_path / "airflow.log"
    with (
        log_path.open("wb") as log,
        _airflow_dags_test(f"civic_pipeline_{SOURCE}", day, log) as proc,
    ):
        _wait_for(lambda: _task_started(log_path, "scrub"), 240, "the scrub task")
        time.sleep(1)  # the scrub is loading its language model (5 s and more)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    dead_run = _killed_run(log_path)
    assert "scrub" not in _ledger_steps(warehouse_dsn, dead_run), "killed after the scrub"
    assert _run_status(warehouse_dsn, dead_run) == ("ingested", None)
    assert "load" not in _ledger_steps(warehouse_dsn, dead_run)

    again = _next_run_supersedes(warehouse_dsn, dead_run, date(2026, 6, 2))
    ingested = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(again))
        if step == "ingest"
    ]  # fmt: skip
    assert sum(ingested[0]["duplicates"].values()) == 0, "the dead run's rows taken for duplicates"
    helpers.assert_each_row_stored_once(warehouse_dsn, config, rows)
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)


# -- 1b. the whole Airflow process killed half-way through the anonymize stage -------------------


def test_kill_9_mid_anonymize_then_a_new_run_publishes_every_row_once(
    platform: LocalPlatform,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
    tmp_path: Any,
) -> None:
    """The stage is caught after it wrote its curated file, record keys and record-file
    facts to the work zone, while it reads the stored facts to protect the tables (the
    facts table locked by the test), and the whole process group is killed (-9). The dead
    run's objects stay in the work zone; nothing of them may reach the store or a release."""
    day = date(2026, 6, 3)
    rows = _put_rows(s3_client, settings, config, day, 66_009)
    log_path = tmp_path / "airflow.log"
    admin = make_conninfo(platform.postgres().dsn(), dbname="civic")
    with psycopg.connect(warehouse_dsn) as conn:
        ensure_warehouse(conn)  # the facts table exists before any load of the session
    holder = psycopg.connect(admin)
    try:
        holder.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(FACTS_TABLE))
        with (
            log_path.open("wb") as log,
            _airflow_dags_test(f"civic_pipeline_{SOURCE}", day, log) as proc,
        ):
            _wait_for(
                lambda: _backend_waiting_on(admin, f"{FACTS_SCHEMA}.{FACTS_NAME}") is not None,
                300,
                "the anonymize stage to read the stored facts",
            )
            assert _task_started(log_path, "anonymize")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    finally:
        holder.close()
    dead_run = _killed_run(log_path)
    written = {
        item.key.rsplit(f"{dead_run}/", 1)[1]
        for item in list_objects(s3_client, settings.work_bucket, f"runs/{SOURCE}/{dead_run}/")
    }
    assert {"curated/part-00000.parquet", "record_keys.parquet"} <= written, written
    assert not any(key.startswith("aggregates/") for key in written), "killed after protecting"
    assert "anonymize" not in _ledger_steps(warehouse_dsn, dead_run)
    assert _run_status(warehouse_dsn, dead_run) == ("ingested", None)

    _next_run_supersedes(warehouse_dsn, dead_run, date(2026, 6, 4))
    assert _stored_of(warehouse_dsn, dead_run) == 0
    helpers.assert_each_row_stored_once(warehouse_dsn, config, rows)
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)


# -- 1c. a scrub worker killed (-9) after the first of its task's chunks -------------------------


def _scrubbed_keys(s3_client: Any, settings: Settings) -> set[str]:
    return {
        item.key
        for item in list_objects(s3_client, settings.work_bucket, f"runs/{SOURCE}/")
        if "/scrubbed/" in item.key
    }


def _cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _kill_a_scrub_worker_after_a_first_chunk(
    s3_client: Any, settings: Settings, killed: list[int]
) -> None:
    """Once a new chunk is scrubbed, SIGKILL one of the scrubber's worker processes (the
    children this process forked since) after it spent 0.3 s of CPU on the next chunk."""
    before_keys = _scrubbed_keys(s3_client, settings)
    before_children = set(multiprocessing.active_children())
    _wait_for(lambda: _scrubbed_keys(s3_client, settings) > before_keys, 300, "a scrubbed chunk")
    workers = [p for p in multiprocessing.active_children() if p not in before_children]
    assert workers, "no scrubber worker process runs: the chunk was scrubbed in one process"
    busy_from = _cpu_seconds(workers[0].pid) + 0.3
    _wait_for(lambda: _cpu_seconds(workers[0].pid) >= busy_from, 60, "the next chunk")
    os.kill(workers[0].pid, signal.SIGKILL)
    killed.append(workers[0].pid)


@pytest.mark.timeout(900, method="thread")  # a scrub that waits for its dead worker waits forever
def test_a_scrub_worker_killed_after_the_first_chunk_then_the_retry_publishes_every_row_once(
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The OOM killer's case, in a scrub task that takes three chunks in turn: one of its
    worker processes dies in the second chunk, after the first chunk's output and ledger
    entry were written. The task must fail (not wait forever for the lost work), and its
    retry must scrub all three chunks again, so that every row is published once."""
    monkeypatch.setenv("CIVIC_CHUNK_ROWS", "2000")
    day = date(2026, 6, 5)
    rows = _put_rows(s3_client, settings, config, day, 66_010, count=6_000)
    killed: list[int] = []
    killer = threading.Thread(
        target=_kill_a_scrub_worker_after_a_first_chunk,
        args=(s3_client, settings, killed),
        daemon=True,
    )
    killer.start()
    run = helpers.run_pipeline(SOURCE, _midnight(day), retries=1)
    killer.join(timeout=10)
    assert killed, "no scrub worker was killed"
    assert run.state == "success", helpers.task_states(run)

    [scrub] = [ti for ti in helpers.task_instances(run) if ti.task_id == "scrub"]
    assert scrub.try_number == 2, "the scrub task was not retried"
    entries = helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(run))
    [chunks] = [payload["chunk_keys"] for _, step, payload in entries if step == "ingest"]
    assert len(chunks) == 3
    scrubbed = [payload["input"] for _, step, payload in entries if step == "scrub"]
    assert scrubbed == [chunks[0], *chunks], "the first try did not die after its first chunk"
    helpers.assert_each_row_stored_once(warehouse_dsn, config, rows)
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)


# -- 2. PostgreSQL crashes in the middle of the load ----------------------------------------------


def _backend_waiting_on(dsn: str, table: str) -> int | None:
    """The pid of a backend blocked on a lock of `table` (the load's COPY/DELETE), if any."""
    row = helpers.fetch_all(
        dsn,
        "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE NOT l.granted AND l.relation = %s::regclass",
        table,
    )
    return int(row[0][0]) if row else None


def test_postgres_crash_mid_load_then_a_new_run_publishes_every_row_once(
    platform: LocalPlatform,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
    tmp_path: Any,
) -> None:
    """The load is caught half-way (the run's records already written in its open
    transaction, `curated` locked by the test) and its backend is killed with -9: the
    postmaster restarts every backend and rolls the load back."""
    day = date(2026, 6, 8)
    rows = _put_rows(s3_client, settings, config, day, 66_002)
    log_path = tmp_path / "airflow.log"
    admin = make_conninfo(platform.postgres().dsn(), dbname="civic")
    holder = psycopg.connect(admin)
    try:
        holder.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
            sql.Identifier("curated", SOURCE)))  # fmt: skip
        with log_path.open("wb") as log, _airflow_dags_test(f"civic_pipeline_{SOURCE}", day, log):
            _wait_for(
                lambda: _backend_waiting_on(admin, f"curated.{SOURCE}") is not None,
                300,
                "the load to reach curated",
            )
            pid = _backend_waiting_on(admin, f"curated.{SOURCE}")
            assert pid is not None
            os.kill(pid, signal.SIGKILL)  # a crash: PostgreSQL resets every connection
            _wait_for(lambda: _server_answers(warehouse_dsn), 60, "PostgreSQL to recover")
    finally:
        holder.close()
    from airflow import settings as airflow_settings
    from sqlalchemy.exc import OperationalError

    # The crash closed this process's connections to Airflow's metadata database too: the
    # session's own is invalidated as it fails to roll back, the pool is emptied.
    with contextlib.suppress(OperationalError):
        airflow_settings.Session.remove()
    airflow_settings.engine.dispose()
    crashed_run = _killed_run(log_path)
    assert _run_status(warehouse_dsn, crashed_run)[0] == "ingested", "the load was rolled back"
    assert _stored_of(warehouse_dsn, crashed_run) == 0

    _next_run_supersedes(warehouse_dsn, crashed_run, date(2026, 6, 9))
    helpers.assert_each_row_stored_once(warehouse_dsn, config, rows)
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)


def _server_answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


# -- 3. the newest ledger entries deleted ---------------------------------------------------------


def test_ledger_cut_below_the_released_head_stops_the_next_release(
    platform: LocalPlatform,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
) -> None:
    day = date(2026, 6, 15)
    _put_rows(s3_client, settings, config, day, 66_003)
    first = helpers.run_pipeline(SOURCE, _midnight(day), retries=0)
    assert first.state == "success", helpers.task_states(first)
    pointer = helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)
    manifest = committed_manifest(s3_client, settings.public_bucket, SOURCE, pointer["release_id"])
    assert manifest is not None
    anchor = ledger_anchor(manifest, MANIFEST_NAME)
    assert anchor is not None
    key = key_from_connection(get_connection(AUDIT_KEY_CONN_ID))
    assert verify(warehouse_dsn, key, anchor=anchor).intact

    admin = make_conninfo(platform.postgres().dsn(), dbname="civic")
    with _entries_cut_from(admin, anchor.seq):
        assert verify(warehouse_dsn, key).intact, "the chain alone cannot see the cut"
        assert verify(warehouse_dsn, key, anchor=anchor).problem.kind is Breakage.TRUNCATED
        # An auditor's `civic audit verify` checks the head the release recorded by default.
        cli = CliRunner().invoke(audit_app, ["verify"], env={"COLUMNS": "200"})
        assert cli.exit_code == 1, cli.output
        assert f"checked against head {anchor}" in cli.output
        assert "(truncated)" in cli.output
        later = date(2026, 6, 16)
        _put_rows(s3_client, settings, config, later, 66_004)
        blocked = helpers.run_pipeline(SOURCE, _midnight(later), retries=0)
        states = helpers.task_states(blocked)
        assert blocked.state == "failed"
        assert states["verify_ledger"] == ["failed"]
        assert states["publish"] == ["upstream_failed"]
        assert helpers.latest_pointer(s3_client, settings.public_bucket, SOURCE) == pointer
        refusal = [
            p for _, step, p in helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(blocked))
            if step == "verify_ledger"
        ]  # fmt: skip
        # The blocked run's own entries took the cut ones' places: the anchored entry is
        # there again, but it is not the one the release recorded.
        assert f"broken at entry {anchor.seq}: anchor mismatch" in refusal[0]["refused"]
        assert MANIFEST_NAME in refusal[0]["refused"]


@contextmanager
def _entries_cut_from(admin_dsn: str, seq: int) -> Iterator[None]:
    """What an intruder with superuser rights does: delete every entry from `seq` on. The
    session's ledger is shared, so the rows are put back afterwards, exactly as they were;
    entries appended meanwhile (the blocked run's) are removed first."""
    saved = sql.Identifier("public", f"ledger_cut_{seq}")
    with psycopg.connect(admin_dsn) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} AS SELECT * FROM audit.ledger WHERE seq >= %s").format(saved),
            (seq,),
        )
        conn.execute("ALTER TABLE audit.ledger DISABLE TRIGGER ledger_append_only")
        conn.execute("DELETE FROM audit.ledger WHERE seq >= %s", (seq,))
        conn.execute("ALTER TABLE audit.ledger ENABLE ALWAYS TRIGGER ledger_append_only")
    try:
        yield
    finally:
        with psycopg.connect(admin_dsn) as conn:
            conn.execute("ALTER TABLE audit.ledger DISABLE TRIGGER ledger_append_only")
            conn.execute("ALTER TABLE audit.ledger DISABLE TRIGGER ledger_extends_chain")
            conn.execute("DELETE FROM audit.ledger WHERE seq >= %s", (seq,))
            conn.execute(sql.SQL("INSERT INTO audit.ledger SELECT * FROM {}").format(saved))
            conn.execute(sql.SQL("DROP TABLE {}").format(saved))
            conn.execute("ALTER TABLE audit.ledger ENABLE TRIGGER ledger_extends_chain")
            conn.execute("ALTER TABLE audit.ledger ENABLE ALWAYS TRIGGER ledger_append_only")


# -- 4. the S3 server killed between two runs, or emptied ----------------------------------------


def test_s3_server_killed_between_two_runs_keeps_the_zones_and_the_next_release_is_right(
    platform: LocalPlatform,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
) -> None:
    first_day, second_day = date(2026, 6, 22), date(2026, 6, 23)
    first_rows = _put_rows(s3_client, settings, config, first_day, 66_005)
    first = helpers.run_pipeline(SOURCE, _midnight(first_day), retries=0)
    assert first.state == "success", helpers.task_states(first)
    released = helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)
    server = platform.s3_server()
    time.sleep(server.save_interval_s * 3)  # the server's background save catches up
    pid = read_pid(server.pid_file)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait_for(lambda: not server.is_running(), 30, "the S3 server to die")
    server.start()

    assert verify_release(s3_client, settings.public_bucket, SOURCE, released["release_id"])
    second_rows = _put_rows(s3_client, settings, config, second_day, 66_006)
    second = helpers.run_pipeline(SOURCE, _midnight(second_day), retries=0)

    assert second.state == "success", helpers.task_states(second)
    helpers.assert_each_row_stored_once(warehouse_dsn, config, first_rows + second_rows)
    latest = helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)
    assert latest["release_id"] != released["release_id"]


@pytest.fixture
def empty_s3_server(platform: LocalPlatform, tmp_path: Any, monkeypatch: Any) -> Iterator[Any]:
    """The pipeline pointed at a fresh, empty S3 server, as after losing every zone and
    `civic services up --force`: the session's own server is left untouched."""
    own = platform.s3_server()
    server = dataclasses.replace(
        own, port=free_port(), run_dir=tmp_path / "run", data_dir=tmp_path / "s3"
    )
    server.run_dir.mkdir()
    server.start()
    connection = get_connection(S3_CONN_ID)
    moved = dataclasses.replace(
        connection, extra={**connection.extra, "endpoint_url": server.endpoint_url}
    )
    monkeypatch.setenv(env_var(S3_CONN_ID), moved.to_json())
    client = make_s3_client(moved)
    ensure_buckets(client, platform.settings)
    try:
        yield client
    finally:
        server.stop()


def test_a_release_after_the_s3_zones_were_lost_counts_every_stored_submission(
    empty_s3_server: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
) -> None:
    """Earlier runs' chunks and releases are gone with the S3 server: the new release still
    counts every submission to date (the record store), and the ledger is checked against
    the head the local mirror of the last release recorded."""
    client = empty_s3_server
    day = date(2026, 6, 29)
    with psycopg.connect(warehouse_dsn) as conn:
        stored_before = record_count(conn, config)
    assert stored_before > 0, "earlier runs of the session stored submissions"
    rows = _put_rows(client, settings, config, day, 66_007)

    run = helpers.run_pipeline(SOURCE, _midnight(day), retries=0)

    assert run.state == "success", helpers.task_states(run)
    helpers.assert_each_row_stored_once(warehouse_dsn, config, rows)
    helpers.assert_latest_release_is_right(client, settings, warehouse_dsn, config)
    with psycopg.connect(warehouse_dsn) as conn:
        assert record_count(conn, config) == stored_before + len(rows)
    (checked,) = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, helpers.stage_run_id(run))
        if step == "verify_ledger"
    ]  # fmt: skip
    assert checked["anchor_from"].startswith(str(settings.exports_dir)), checked


# -- 5. the S3 server killed in the middle of a publication ---------------------------------------


def test_s3_server_killed_mid_publish_fails_closed_then_the_rerun_publishes_right(
    platform: LocalPlatform,
    s3_client: Any,
    settings: Settings,
    warehouse_dsn: str,
    config: SourceConfig,
) -> None:
    day = date(2026, 7, 6)
    rows = _put_rows(s3_client, settings, config, day, 66_008)
    before = helpers.latest_pointer(s3_client, settings.public_bucket, SOURCE)
    server = platform.s3_server()
    real_put = s3_release._put
    puts = []

    def put_then_die(*args: Any, **kwargs: Any) -> Any:
        puts.append(args[2])
        if len(puts) == 3:  # two data files are up, the rest of the release is not
            time.sleep(server.save_interval_s * 3)  # the raw zone is saved long before
            os.kill(read_pid(server.pid_file) or 0, signal.SIGKILL)
        return real_put(*args, **kwargs)

    with mock.patch.object(s3_release, "_put", put_then_die):
        broken = helpers.run_pipeline(SOURCE, _midnight(day), retries=0)

    run_id = helpers.stage_run_id(broken)
    assert broken.state == "failed"
    assert helpers.task_states(broken)["publish"] == ["failed"]
    (refused,) = [
        p for _, step, p in helpers.ledger_entries(warehouse_dsn, run_id) if step == "publish"
    ]
    assert refused["refused"].startswith(f"{SOURCE}: publishing release")
    assert "\n" not in refused["refused"]
    _wait_for(lambda: not server.is_running(), 30, "the S3 server to die")
    server.start()
    assert helpers.latest_pointer(s3_client, settings.public_bucket, SOURCE) == before

    again = helpers.run_pipeline(SOURCE, _midnight(day), retries=0)  # the same run, cleared

    assert again.state == "success", helpers.task_states(again)
    assert helpers.stage_run_id(again) == run_id
    helpers.assert_each_row_stored_once(warehouse_dsn, config, rows)
    helpers.assert_latest_release_is_right(s3_client, settings, warehouse_dsn, config)
