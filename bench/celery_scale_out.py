"""What a second Celery worker host gives, measured on one machine by pinning workers to cores.

    .venv/bin/python bench/celery_scale_out.py --rows 100000

For 1 and then 2 Celery workers, each worker pinned to a core of its own (as the
platform starts them: each behaves as a one-core host, and a scrub task sizes its
processes to that core), a platform of its
own is started with the CeleryExecutor (`civic services up --executor celery`), `--rows`
submissions are written, the source's pipeline is triggered, and the scrub stage's wall
time (first scrub start to last scrub end, over its mapped chunks) is read from
Airflow's task instances. Prints both and their ratio (issue #14's target: ≥ 1.7×).
Needs `make redis`. Figures only, never pass or fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def scrub_wall_seconds(workers: int, rows: int, source: str) -> float:
    from include.core.connections import S3_CONN_ID, get_connection, s3_client
    from include.core.settings import Settings
    from include.core.source_config import load_all_sources
    from include.demo_runs import airflow_json
    from include.sample.writer import write_sample
    from include.scale_benchmark import task_intervals
    from include.services.airflow_runtime import airflow_bin
    from include.services.processes import free_port
    from include.services.stack import LocalPlatform, LocalState

    folder = Path(tempfile.mkdtemp(prefix="civic-celery-bench-"))
    folder.chmod(0o755)
    names = ("postgres", "s3", "airflow", "superset", "redis")
    LocalState(
        ports={name: free_port() for name in names}, executor="celery", celery_workers=workers
    ).save(folder / "state.json")
    stack = LocalPlatform(Settings(local_dir=folder, exports_dir=folder / "exports"), environ={})
    dag_id = f"civic_pipeline_{source}"
    try:
        stack.up()
        stack.start_airflow()  # each worker pinned to a core of its own (AirflowServices)
        env = stack.process_env()
        settings = stack.settings
        write_sample(
            s3_client(get_connection(S3_CONN_ID, env)),
            settings.raw_bucket,
            load_all_sources()[source],
            rows=rows,
            seed=11,
            day=datetime.now(UTC).date(),
            sse=settings.sse,
            kms_key_id=settings.kms_key_id,
        )
        full_env = {**os.environ, **env}
        airflow_json(env, "dags", "reserialize")
        for command in (["dags", "unpause", dag_id], ["dags", "trigger", dag_id]):
            subprocess.run(
                [str(airflow_bin()), *command], env=full_env, check=True, capture_output=True
            )
        while True:
            runs = airflow_json(env, "dags", "list-runs", dag_id, "--output", "json")
            if runs and all(r["state"] in ("success", "failed") for r in runs):
                break
            time.sleep(10)
        walls = []
        for run in runs:
            scrubs = [i for i in task_intervals(env, dag_id, run["run_id"]) if i.task_id == "scrub"]
            if scrubs:
                walls.append(max(i.end for i in scrubs) - min(i.start for i in scrubs))
        print(f"{workers} worker(s): runs {[r['state'] for r in runs]}, scrub wall {walls}")
        return max(walls)
    finally:
        stack.down()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--source", default="signalements")
    args = parser.parse_args()
    one = scrub_wall_seconds(1, args.rows, args.source)
    two = scrub_wall_seconds(2, args.rows, args.source)
    print(
        f"scrub stage of {args.rows:,} rows: 1 pinned worker {one:.0f} s, 2 pinned workers "
        f"{two:.0f} s: {one / two:.2f}×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
