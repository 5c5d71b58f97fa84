"""Per-stage cost of one pipeline run through Airflow: wall time, rows/s, peak memory.

`bench/pipeline_scale.py` (`make bench-scale`) generates N submissions, runs a
source's pipeline with `airflow dags test` (Airflow's own runner, the demo's path)
and reports each stage from what Airflow recorded and what the process used.

How memory is attributed: `airflow dags test` runs the tasks of a run one after
another in its own process (the scrubber's workers are its children), so the
memory of that process tree, sampled every fraction of a second, belongs to the
task whose recorded start/end interval holds the sample. The tree's memory is its
proportional set size (PSS: a page shared by n processes counts 1/n in each, so
the scrubber's workers, forked with the model loaded, are not counted three
times); the runner's own resident size (RSS, what `/usr/bin/time` reports) is
kept beside it. With `--use-executor` the tasks run in the executor's processes,
children of the runner: the tree still holds them, the runner's RSS no longer does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psutil
import psycopg

from include.demo_runs import airflow_json
from include.pipeline.context import safe_run_id

SAMPLE_SECONDS = 0.2
# At most this share of one core goes to the sampler. A process's PSS comes from its
# /proc/<pid>/smaps_rollup, which the kernel computes by walking the process's page
# tables: 33 ms a sample on average over a 100k-row run (a scrub task's tree holds two
# ~600 MB workers). Every 0.2 s, that took 12.6 % of a core (30.8 s of CPU in 245 s)
# from the two cores the scrub runs on, so the benchmark slowed what it measured; the
# same run with this share: 4.6 %, and the scrub stage 168 s instead of 178 s. The wait
# between samples therefore grows with what a sample costs.
SAMPLER_CPU_SHARE = 0.05


@dataclass(frozen=True)
class TaskInterval:
    """One task instance (a mapped task has one per group of chunks) as Airflow recorded it."""

    task_id: str
    start: float
    end: float


@dataclass(frozen=True)
class StageFigure:
    stage: str
    instances: int
    seconds: float
    rows_per_second: float
    peak_pss_bytes: int | None
    peak_runner_rss_bytes: int | None


@dataclass(frozen=True)
class MemorySample:
    at: float  # epoch seconds
    tree_pss: int  # bytes, the runner and its children
    runner_rss: int  # bytes, the runner alone
    cpu_seconds: float = 0.0  # what taking this sample cost the sampler (kernel time included)


def sampler_summary(samples: Sequence[MemorySample], wall_seconds: float) -> str:
    """How often memory was sampled and what the sampling cost, for the report."""
    if not samples or wall_seconds <= 0:
        return "memory not sampled"
    cpu = sum(s.cpu_seconds for s in samples)
    return (
        f"memory sampled {len(samples):,} times (every {wall_seconds / len(samples):.2f} s "
        f"on average), costing {cpu:.1f} s of CPU ({cpu / wall_seconds:.1%} of one core)"
    )


def tree_pss(process: psutil.Process) -> int:
    """Proportional set size of a process and its children (gone children are skipped)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_full_info().pss
        except psutil.Error:
            continue
    return total


def next_wait(sample_cpu_seconds: float) -> float:
    """Seconds until the next sample: `SAMPLE_SECONDS`, or longer when a sample costs more
    than `SAMPLER_CPU_SHARE` of a core at that pace."""
    return max(SAMPLE_SECONDS, sample_cpu_seconds / SAMPLER_CPU_SHARE)


@contextmanager
def sampled_memory(pid: int, samples: list[MemorySample]) -> Iterator[None]:
    """Append a `MemorySample` of `pid` to `samples` until the block ends."""
    process = psutil.Process(pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            started, at = time.thread_time(), time.time()
            try:
                pss, rss = tree_pss(process), process.memory_info().rss
            except psutil.Error:
                return
            spent = time.thread_time() - started
            samples.append(MemorySample(at, pss, rss, spent))
            stop.wait(next_wait(spent))

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def task_intervals(env: Mapping[str, str], dag_id: str, run_id: str) -> list[TaskInterval]:
    """Every finished task instance of a run, from Airflow's metadata database."""
    rows = airflow_json(env, "tasks", "states-for-dag-run", dag_id, run_id, "--output", "json")
    return [
        TaskInterval(row["task_id"], _epoch(row["start_date"]), _epoch(row["end_date"]))
        for row in rows
        if row.get("start_date") and row.get("end_date")
    ]


def latest_run_id(env: Mapping[str, str], dag_id: str) -> str:
    runs = airflow_json(env, "dags", "list-runs", dag_id, "--output", "json")
    if not runs:
        raise ValueError(f"DAG {dag_id} has no run to measure")
    return max(runs, key=lambda run: run.get("start_date") or "")["run_id"]


@dataclass(frozen=True)
class ScrubTime:
    """The scrub stage's time as its tasks recorded it in the ledger (`scrub_chunk`, an
    entry per chunk)."""

    chunks: int
    startup: float  # analyzer built, warmed up, workers forked: summed over the chunks
    scrubbing: float  # inside the scrubber, summed over the chunks
    texts: int

    def share_of(self, stage_seconds: float) -> float:
        """The start-up's share of the stage's task time (Airflow's start-to-end)."""
        return self.startup / stage_seconds if stage_seconds > 0 else 0.0


def scrub_records(dsn: str, run_id: str, field: str) -> list[dict[str, Any]]:
    """The ledger's `scrub` entries of Airflow's run `run_id` that hold `field` (tasks of
    an older version recorded fewer fields); the ledger knows the run by its key-safe id."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT payload::jsonb FROM audit.ledger WHERE run_id = %s AND step = 'scrub' "
            "AND payload::jsonb ? %s",
            (safe_run_id(run_id), field),
        ).fetchall()
    return [row[0] for row in rows]


def scrub_time(dsn: str, run_id: str) -> ScrubTime:
    """What the scrub tasks of Airflow's run `run_id` recorded of their time."""
    payloads = scrub_records(dsn, run_id, "seconds")
    return ScrubTime(
        chunks=len(payloads),
        startup=sum(float(p["seconds"]["scrubber_startup"]) for p in payloads),
        scrubbing=sum(float(p["seconds"]["scrubbing"]) for p in payloads),
        texts=sum(int(p["texts"]) for p in payloads),
    )


def stage_figures(
    intervals: Sequence[TaskInterval], samples: Sequence[MemorySample], rows: int
) -> list[StageFigure]:
    """Per task id, in the order the stages started: summed seconds and peak memory."""
    figures = []
    stages = sorted({i.task_id for i in intervals}, key=lambda t: min(
        i.start for i in intervals if i.task_id == t))  # fmt: skip
    for stage in stages:
        own = [i for i in intervals if i.task_id == stage]
        seconds = sum(i.end - i.start for i in own)
        inside = [s for s in samples if any(i.start <= s.at <= i.end for i in own)]
        figures.append(
            StageFigure(
                stage=stage,
                instances=len(own),
                seconds=seconds,
                rows_per_second=rows / seconds if seconds > 0 else float("inf"),
                peak_pss_bytes=max((s.tree_pss for s in inside), default=None),
                peak_runner_rss_bytes=max((s.runner_rss for s in inside), default=None),
            )
        )
    return figures
