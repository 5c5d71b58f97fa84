"""One source's pipeline at scale, through Airflow, stage by stage (`make bench-scale`).

    .venv/bin/python bench/pipeline_scale.py --rows 100000 [--daily 10000] [--source signalements]

Starts a platform of its own (embedded PostgreSQL and S3 server under a temporary
folder, so a checkout's demo data is left alone), writes `--rows` generated
submissions for one delivery day, runs the source's pipeline with `airflow dags
test` and prints, per stage: task instances, seconds (summed over a mapped stage's
instances), rows per second and the peak resident memory of the runner's process
tree while that stage ran, as PSS (shared pages split) and as the runner's own RSS
(`include/scale_benchmark.py` says how it is attributed).
With `--daily N`, N more submissions for the next day are then run on top of that
history: what a daily run costs once the platform holds the first run (`--days D`: D
such days, one after the other). `--keep` keeps the platform's folder; `--platform
FOLDER` runs the daily deliveries on such a kept platform again (`--rows 0`), after its
last delivery day: a daily run on a big history without generating it again.
`--use-executor` runs each task through the LocalExecutor, in a process of its own as
the scheduler runs it: a stage's peak is then its own, not what the runner kept of the
stages before it (glibc seldom gives a Python heap back).

Figures only, never pass or fail (issue #14 states the targets); the run's own state
is checked and the script exits 1 if the pipeline failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _isolate(folder: Path) -> None:
    # Before anything reads the settings: this run's state lives in `folder` only.
    os.environ["CIVIC_LOCAL_DIR"] = str(folder / "local")
    os.environ["CIVIC_EXPORTS_DIR"] = str(folder / "exports")


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f}"


def _last_delivery(settings: Any, source: str) -> date | None:
    """The last delivery day in a kept platform's raw zone (the next runs come after it)."""
    from include.core.connections import S3_CONN_ID, get_connection, s3_client
    from include.core.zones import list_objects, partition_date
    from include.services.stack import LocalPlatform

    client = s3_client(get_connection(S3_CONN_ID, LocalPlatform(settings).process_env()))
    objects = list_objects(client, settings.raw_bucket, source)
    days = [day for o in objects if (day := partition_date(o.key, source)) is not None]
    return max(days, default=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="first delivery (100000)")
    parser.add_argument("--daily", type=int, default=0, help="then a next-day delivery")
    parser.add_argument("--source", default="signalements")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--days", type=int, default=1, help="daily deliveries (1)")
    parser.add_argument("--keep", action="store_true", help="keep the platform's folder")
    parser.add_argument("--platform", type=Path, help="a folder --keep kept: run on it again")
    parser.add_argument(
        "--use-executor",
        action="store_true",
        help="each task in a process of its own (LocalExecutor), as a deployment runs them",
    )
    args = parser.parse_args()
    folder = args.platform or Path(tempfile.mkdtemp(prefix="civic-scale-"))
    # Reachable by PostgreSQL's service user (when run as root), as the test suite's folder
    # is: otherwise its data folder is relocated under /var/lib/civic-platform, which
    # deleting this folder would leave behind (about 430 MB per 200,000-row run).
    folder.chmod(0o755)
    keep = args.keep or args.platform is not None
    _isolate(folder)

    from include.cli.sample import today, write_sources
    from include.core.connections import WAREHOUSE_CONN_ID, get_connection
    from include.core.settings import load_settings
    from include.demo_runs import run_dag
    from include.scale_benchmark import (
        MemorySample,
        latest_run_id,
        sampled_memory,
        sampler_summary,
        scrub_time,
        stage_figures,
        task_intervals,
    )
    from include.services.stack import LocalPlatform

    console = Console()
    settings = load_settings()
    stack = LocalPlatform(settings)
    dag_id = f"civic_pipeline_{args.source}"
    failed = False
    try:
        with console.status("starting services") as spinner:
            stack.up(lambda message: spinner.update(message))
        env = stack.process_env()
        dsn = get_connection(WAREHOUSE_CONN_ID, env).postgres_dsn()
        if args.use_executor:  # the task processes report to the Execution API
            # `dags test` hands every ready task to the executor at once, where the scheduler
            # queues one scrub at a time (`scrub_share`): one slot keeps the scheduler's order,
            # and a task may wait in the executor's queue longer than the scheduler would let
            # it (the queued timeout also bounds the task's Execution API token: 10 minutes).
            env = {
                **env,
                "AIRFLOW__CORE__PARALLELISM": "1",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(24 * 3600),
            }
            with console.status("starting Airflow's API server"):
                stack.airflow().start(env, only=("api-server",))
        last = _last_delivery(settings, args.source) if args.platform else None
        day = today() if last is None else last + timedelta(days=1)
        deliveries = [(f"{args.rows:,} submissions", args.rows, day)] + [
            (f"{args.daily:,} more, day {n}", args.daily, day + timedelta(days=n))
            for n in range(1, args.days + 1)
        ]
        for label, rows, run_day in deliveries:
            if not rows:
                continue
            write_sources(settings, [args.source], rows, args.seed + run_day.toordinal(), run_day)
            samples: list[MemorySample] = []
            started = time.monotonic()
            with console.status(f"{dag_id}: {label}"):
                result = run_dag(
                    dag_id,
                    env,
                    run_day,
                    folder / "logs",
                    watch=lambda pid, samples=samples: sampled_memory(pid, samples),
                    use_executor=args.use_executor,
                )
            wall = time.monotonic() - started
            run_id = latest_run_id(env, dag_id)
            intervals = task_intervals(env, dag_id, run_id)
            table = Table(title=f"{dag_id}, {label}: {result.state}, {wall:.0f} s in all")
            columns = ("stage", "instances", "seconds", "rows/s", "peak PSS MiB", "runner RSS MiB")
            for column in columns:
                table.add_column(column, justify="left" if column == "stage" else "right")
            for figure in stage_figures(intervals, samples, rows):
                table.add_row(
                    figure.stage,
                    str(figure.instances),
                    f"{figure.seconds:.1f}",
                    f"{figure.rows_per_second:,.0f}",
                    _mib(figure.peak_pss_bytes),
                    _mib(figure.peak_runner_rss_bytes),
                )
            table.caption = (
                f"peak PSS {_mib(max((s.tree_pss for s in samples), default=None))} MiB, "
                f"runner's peak RSS {_mib(max((s.runner_rss for s in samples), default=None))} "
                f"MiB; log {result.log}; {sampler_summary(samples, wall)}"
            )
            console.print(table)
            scrubbed = scrub_time(dsn, run_id)
            tasks = [i for i in intervals if i.task_id == "scrub"]
            stage = sum(i.end - i.start for i in tasks)
            if scrubbed.chunks:
                console.print(
                    f"scrub: {scrubbed.chunks} chunk(s) in {len(tasks)} task(s), {stage:.1f} s "
                    f"in all; scrubber start-up "
                    f"{scrubbed.startup:.1f} s ({scrubbed.share_of(stage):.1%} of the stage), "
                    f"scrubbing {scrubbed.scrubbing:.1f} s "
                    f"({scrubbed.texts / max(scrubbed.scrubbing, 1e-9):,.0f} texts/s), the rest "
                    f"{stage - scrubbed.startup - scrubbed.scrubbing:.1f} s (task processes, "
                    "reading and writing the chunks)"
                )
            failed |= result.state != "success"
    finally:
        stack.down()
        if keep:
            console.print(f"platform folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
