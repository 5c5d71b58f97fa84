"""The scale benchmark's scrub time, read from what the scrub tasks wrote to the real ledger."""

from __future__ import annotations

import uuid

from include.audit import AUDIT_KEY_CONN_ID, append, key_from_connection
from include.core.connections import get_connection
from include.pipeline.context import safe_run_id
from include.scale_benchmark import ScrubTime, scrub_time
from include.services.stack import LocalPlatform


def test_scrub_time_sums_the_runs_scrub_entries_only(
    platform: LocalPlatform, warehouse_dsn: str
) -> None:
    key = key_from_connection(get_connection(AUDIT_KEY_CONN_ID, platform.process_env()))
    # Airflow's run id; the ledger holds its key-safe form (as a task's context gives it).
    airflow_run = f"manual__2026-12-03T07:37:11.331725+00:00-{uuid.uuid4().hex[:8]}"
    run, other = safe_run_id(airflow_run), f"bench-{uuid.uuid4().hex[:8]}"
    assert run != airflow_run
    timed = [(1.5, 20.0, 1_000), (0.5, 18.0, 900)]
    for startup, scrubbing, texts in timed:
        seconds = {"scrubber_startup": startup, "scrubbing": scrubbing}
        append(warehouse_dsn, run, "scrub", {"texts": texts, "seconds": seconds}, key)
    append(warehouse_dsn, run, "scrub", {"texts": 50}, key)  # a task from before the timings
    append(warehouse_dsn, run, "anonymize", {"texts": 7, "seconds": {}}, key)
    seconds = {"scrubber_startup": 9.0, "scrubbing": 9.0}
    append(warehouse_dsn, other, "scrub", {"texts": 5, "seconds": seconds}, key)

    measured = scrub_time(warehouse_dsn, airflow_run)
    assert measured == ScrubTime(chunks=2, startup=2.0, scrubbing=38.0, texts=1_900)
    assert measured.share_of(40.0) == 0.05
    assert scrub_time(warehouse_dsn, f"bench-{uuid.uuid4().hex[:8]}") == ScrubTime(0, 0.0, 0.0, 0)
