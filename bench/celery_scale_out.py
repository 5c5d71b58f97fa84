"""What a second Celery worker host gives, measured on one machine by pinning workers to cores.

    .venv/bin/python bench/celery_scale_out.py --rows 100000 [--keep] [--platform-anywhere]

Issue #14: the scrub stage of `--rows` submissions with 1 and then 2 Celery workers, each
worker pinned to a core of its own as the platform starts them (`AirflowServices`: each
behaves as a one-core host, and a scrub task sizes its processes to that core). For each,
a platform of its own is started with the CeleryExecutor (`civic services up --executor
celery`), the submissions are written, the source's pipeline runs once, and the scrub
stage's wall time (first chunk's start to last chunk's end, from Airflow's task
instances) is compared (target: ≥ 1.7×).

One core stands for one host, so the rest of the platform (scheduler, API server, DAG
processor, triggerer, PostgreSQL, the S3 server, Redis, with every process they start
later) and this script are pinned to the first worker's core: host 1 runs the platform
and a worker in both measurements, and the second measurement adds a host that runs a
worker and nothing else. WHY: left where the kernel puts them, those processes take the
idle second core in the 1-worker measurement for free and share the workers' cores in
the 2-worker one: the baseline had two cores (the first figure of issue #14, 1.09×, was
measured that way; `--platform-anywhere` still does, for comparison).

Per scrub chunk it prints the worker and core that ran it, its try, its start and end
from the stage's start, its rows, and the CPU time its task process got (sampled from
/proc): a chunk that got much less than its core shared the core with something; the
cores' busy share over the stage shows how much. Another session's load cannot be
pinned away: on a shared machine trust the structure (which worker, overlap, CPU share)
more than the seconds. Needs `make redis`. Figures only, never pass or fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from include.services.airflow_rest import request

RUN_TIMEOUT = 4 * 3600.0  # seconds; 100k rows on one core take about 10 min
# Runs of this DAG are triggered by releases; the bench's platform has no Superset, so they
# only fail and retry on the workers, and may still run when the platform is stopped.
REFRESH_DAG = "superset_refresh"


# -- pinning ---------------------------------------------------------------------------------


def pin_tree(pid: int, cores: set[int]) -> int:
    """Pin every thread of `pid` and of all its descendants to `cores`; the threads pinned.

    `sched_setaffinity` applies to one thread, and a thread or process started later
    inherits the mask of the thread that starts it: so every existing thread is pinned,
    and what the process starts afterwards stays on `cores`. A process that ends
    meanwhile is skipped."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    pinned = 0
    for process in processes:
        try:
            threads = [thread.id for thread in process.threads()]
        except psutil.NoSuchProcess:
            continue
        for tid in threads:
            try:
                os.sched_setaffinity(tid, cores)
            except (ProcessLookupError, PermissionError):
                continue  # ended meanwhile, or another user's (not ours to move)
            pinned += 1
    return pinned


def platform_pids(run_dir: Path, postmaster_pid: Path) -> list[int]:
    """The platform's long-running processes other than its Celery workers (pid files)."""
    files = [p for p in run_dir.glob("*.pid") if not p.name.startswith("airflow-celery-worker-")]
    pids = []
    for path in [*sorted(files), postmaster_pid]:
        try:
            pids.append(int(path.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue
    return pids


# -- what the cores did ----------------------------------------------------------------------


def _busy(times: Any) -> float:
    return float(times.user + times.nice + times.system + times.irq + times.softirq)


@dataclass
class CpuSampler:
    """Samples, every `every` seconds until stopped: each core's cumulative busy time, and
    the CPU time of each process a worker started (a task process with its own children)."""

    workers: Mapping[str, int]  # worker name -> pid
    every: float = 1.0
    cores: list[tuple[float, list[float]]] = field(default_factory=list)
    tasks: dict[int, tuple[str, float]] = field(default_factory=dict)  # pid -> worker, CPU s
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        self.cores.append((time.time(), [_busy(t) for t in psutil.cpu_times(percpu=True)]))
        for name, worker_pid in self.workers.items():
            try:
                started = psutil.Process(worker_pid).children()
            except psutil.NoSuchProcess:
                continue
            for task in started:
                try:
                    tree = [task, *task.children(recursive=True)]
                    cpu = sum(sum(p.cpu_times()[:4]) for p in tree)  # user, system, children's
                except psutil.NoSuchProcess:
                    continue
                seen = self.tasks.get(task.pid, (name, 0.0))[1]
                self.tasks[task.pid] = (name, max(seen, cpu))

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(self.every)

        self._thread = threading.Thread(target=loop, name="cpu-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


def core_busy_shares(
    samples: Sequence[tuple[float, Sequence[float]]], start: float, end: float
) -> list[float]:
    """Each core's busy share between `start` and `end`, from cumulative samples: between
    the last sample at or before `start` (else the first) and the first at or after `end`
    (else the last)."""
    if not samples:
        return []
    before = [s for s in samples if s[0] <= start] or [samples[0]]
    after = [s for s in samples if s[0] >= end] or [samples[-1]]
    (t0, busy0), (t1, busy1) = before[-1], after[0]
    if t1 <= t0:
        return [0.0 for _ in busy0]
    return [max(0.0, min(1.0, (b1 - b0) / (t1 - t0))) for b0, b1 in zip(busy0, busy1, strict=True)]


# -- the scrub stage's chunks ----------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One mapped scrub task instance as Airflow recorded it, with where it ran."""

    map_index: int
    name: str
    try_number: int
    start: float  # epoch seconds
    end: float
    worker: str
    core: str
    rows: int | None
    cpu: float | None  # CPU seconds of its task process (and children), sampled

    @property
    def seconds(self) -> float:
        return self.end - self.start


def at_once(chunks: Iterable[Chunk], count: int = 2) -> float:
    """Seconds during which at least `count` chunks were running."""
    edges = sorted(e for c in chunks for e in ((c.start, 1), (c.end, -1)))
    running, since, total = 0, 0.0, 0.0
    for moment, step in edges:
        if running >= count:
            total += moment - since
        running += step
        since = moment
    return total


def stage_report(chunks: Sequence[Chunk], shares: Sequence[float]) -> list[str]:
    """Lines that show how the stage spread: per chunk, then overlap and the cores' load."""
    first = min(c.start for c in chunks)
    wall = max(c.end for c in chunks) - first
    lines = []
    for c in sorted(chunks, key=lambda c: (c.start, c.map_index)):
        rows = f"{c.rows:,} rows" if c.rows is not None else "rows ?"
        cpu = (
            f"CPU {c.cpu:.0f} s ({c.cpu / c.seconds:.0%} of a core)"
            if c.cpu is not None and c.seconds > 0
            else "CPU ?"
        )
        retried = f", try {c.try_number}" if c.try_number != 1 else ""
        lines.append(
            f"  chunk {c.map_index} {c.name} ({rows}): {c.worker} on core {c.core}{retried}, "
            f"{c.start - first:.0f} → {c.end - first:.0f} s, {cpu}"
        )
    lines.append(
        f"  stage {wall:.0f} s; two or more chunks at once for {at_once(chunks):.0f} s; cores "
        "busy over the stage (every process): "
        + ", ".join(f"core {n} {share:.0%}" for n, share in enumerate(shares))
    )
    return lines


# -- Airflow's REST API ----------------------------------------------------------------------


@dataclass
class AirflowApi:
    """The platform's Airflow REST API (v2) as the UI's admin: cheap to poll, unlike the
    `airflow` CLI, which costs seconds of CPU per call on the cores being measured."""

    base: str
    token: str = field(repr=False)

    @classmethod
    def login(cls, base: str, user: str, password: str) -> AirflowApi:
        token = request(f"{base}/auth/token", {"username": user, "password": password}, timeout=30)
        return cls(base, token["access_token"])

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return request(f"{self.base}{path}{query}", body, self.token, method, timeout=30)

    def poll(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """`call`, with an answer that is late (a busy 2-core machine) meaning "not yet"."""
        try:
            return self.call(method, path, body, **params)
        except (TimeoutError, urllib.error.URLError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                raise
            return None


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def wait_for_dag(api: AirflowApi, dag_id: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.poll("GET", f"/api/v2/dags/{dag_id}"):
                return
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        time.sleep(2)
    raise RuntimeError(f"the DAG processor did not parse {dag_id} within {timeout:.0f} s")


def run_pipeline(api: AirflowApi, dag_id: str) -> list[dict[str, Any]]:
    """Unpause `dag_id` and wait until its runs have finished; return them.

    Unpausing makes the scheduler create the run of the latest daily interval (catchup is
    off), which takes every submission written; a run is triggered only if none appears
    (a DAG without a schedule). Triggering one beside it, as this bench did, only added a
    run that found nothing new to ingest (its scrub mapped over no chunk)."""
    api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    runs_path = f"/api/v2/dags/{dag_id}/dagRuns"
    deadline = time.monotonic() + 60
    while not (api.poll("GET", runs_path) or {}).get("dag_runs"):
        if time.monotonic() > deadline:
            api.call("POST", runs_path, {"logical_date": None})
            break
        time.sleep(2)
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        runs = (api.poll("GET", runs_path) or {}).get("dag_runs") or []
        if runs and all(r["state"] in ("success", "failed") for r in runs):
            return list(runs)
        time.sleep(5)
    raise RuntimeError(f"{dag_id} did not finish within {RUN_TIMEOUT:.0f} s")


def scrub_instances(api: AirflowApi, dag_id: str, runs: Sequence[dict[str, Any]]) -> list[dict]:
    """The scrub chunks (mapped task instances) of the one run that scrubbed any."""
    scrubbed = {}
    for run in runs:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances"
        found = api.call("GET", path, task_id="scrub", limit=1000)["task_instances"]
        chunks = [ti for ti in found if ti["task_id"] == "scrub" and ti["map_index"] >= 0]
        if chunks:
            scrubbed[run["dag_run_id"]] = chunks
    summary = ", ".join(f"{r['dag_run_id']} {r['state']}" for r in runs)
    if len(scrubbed) != 1:
        raise RuntimeError(f"expected one run with scrub chunks, got {len(scrubbed)} ({summary})")
    chunks = next(iter(scrubbed.values()))
    unfinished = [ti for ti in chunks if not (ti.get("start_date") and ti.get("end_date"))]
    if unfinished:
        raise RuntimeError(f"scrub chunks never ran: {[ti['map_index'] for ti in unfinished]}")
    return chunks


def chunk_rows(dsn: str, run_id: str) -> dict[str, int]:
    """Rows of each scrubbed chunk (by its input key), from the audit ledger."""
    from include.scale_benchmark import scrub_records

    return {str(p["input"]): int(p["rows"]) for p in scrub_records(dsn, run_id, "rows")}


# -- one measurement -------------------------------------------------------------------------


def scrub_wall_seconds(
    workers: int, rows: int, source: str, *, keep: bool = False, pin_platform: bool = True
) -> float:
    from include.core.connections import (
        S3_CONN_ID,
        WAREHOUSE_CONN_ID,
        get_connection,
        s3_client,
    )
    from include.core.settings import Settings
    from include.core.source_config import load_all_sources
    from include.sample.writer import write_sample
    from include.services.airflow_runtime import ADMIN_USER
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
    own_cores = os.sched_getaffinity(0)
    sampler: CpuSampler | None = None
    try:
        stack.up()
        stack.start_airflow()  # each worker pinned to a core of its own (AirflowServices)
        running = stack.airflow().running()
        worker_pids = {f"worker{n}@": running[f"celery-worker-{n}"] for n in range(1, workers + 1)}
        if None in worker_pids.values():
            raise RuntimeError(f"a Celery worker did not start: see {stack.run_dir}")
        pids = {name: int(pid) for name, pid in worker_pids.items() if pid is not None}
        worker_cores = {name: sorted(os.sched_getaffinity(pid)) for name, pid in pids.items()}
        host1 = set(worker_cores["worker1@"])
        if pin_platform:
            # This script, then everything else of the platform, on host 1's core; the
            # workers (started with their own core) and what they start stay where they are.
            os.sched_setaffinity(0, host1)
            for pid in platform_pids(stack.run_dir, stack.postgres().data_dir / "postmaster.pid"):
                pin_tree(pid, host1)
        where = "on worker1's core" if pin_platform else "anywhere"
        print(
            f"{workers} worker(s): "
            + ", ".join(f"{n} core {','.join(map(str, c))}" for n, c in worker_cores.items())
            + f"; the rest of the platform {where}; folder {folder}",
            flush=True,
        )
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
        api = AirflowApi.login(
            f"http://127.0.0.1:{stack.airflow().api_port}",
            ADMIN_USER,
            stack.state.secret("airflow_admin_password"),
        )
        wait_for_dag(api, dag_id)
        wait_for_dag(api, REFRESH_DAG)
        api.call("PATCH", f"/api/v2/dags/{REFRESH_DAG}", {"is_paused": True})
        sampler = CpuSampler(pids)
        sampler.start()
        runs = run_pipeline(api, dag_id)
        sampler.stop()
        instances = scrub_instances(api, dag_id, runs)
        run_id = instances[0]["dag_run_id"]
        sizes = chunk_rows(get_connection(WAREHOUSE_CONN_ID, env).postgres_dsn(), run_id)
        chunks = []
        for ti in instances:
            key = ti["rendered_fields"]["op_kwargs"]["chunk_key"]
            worker, cpu = sampler.tasks.get(ti["pid"], ("?", None))
            chunks.append(
                Chunk(
                    map_index=ti["map_index"],
                    name=key.rsplit("/", 1)[-1],
                    try_number=ti["try_number"],
                    start=_epoch(ti["start_date"]),
                    end=_epoch(ti["end_date"]),
                    worker=worker,
                    core=",".join(map(str, worker_cores.get(worker, []))) or "?",
                    rows=sizes.get(key),
                    cpu=cpu,
                )
            )
        start, end = min(c.start for c in chunks), max(c.end for c in chunks)
        print(
            f"{workers} worker(s): runs "
            + ", ".join(f"{r['dag_run_id']} {r['state']}" for r in runs)
            + f"; scrub chunks of {run_id}:"
        )
        print("\n".join(stage_report(chunks, core_busy_shares(sampler.cores, start, end))))
        return end - start
    finally:
        if sampler is not None:
            sampler.stop()
        os.sched_setaffinity(0, own_cores)  # the next platform's workers take their cores here
        stack.down()
        if keep:
            print(f"kept {folder} (service logs in run/, task logs in airflow/logs/)")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--source", default="signalements")
    parser.add_argument(
        "--keep", action="store_true", help="keep each platform's folder (logs) after the run"
    )
    parser.add_argument(
        "--platform-anywhere",
        action="store_true",
        help="leave the platform's other processes unpinned (the baseline then has a 2nd core)",
    )
    args = parser.parse_args()
    pin = not args.platform_anywhere
    one = scrub_wall_seconds(1, args.rows, args.source, keep=args.keep, pin_platform=pin)
    two = scrub_wall_seconds(2, args.rows, args.source, keep=args.keep, pin_platform=pin)
    print(
        f"scrub stage of {args.rows:,} rows: 1 pinned worker {one:.0f} s, 2 pinned workers "
        f"{two:.0f} s: {one / two:.2f}×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
