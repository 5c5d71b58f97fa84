"""The scale-out bench's own arithmetic and pinning (bench/celery_scale_out.py, issue #14)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import psutil
import pytest


def load_bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "celery_scale_out.py"
    spec = importlib.util.spec_from_file_location("celery_scale_out", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module's annotations
    spec.loader.exec_module(module)
    return module


bench = load_bench()

# A process with a second thread and a child process; once told (a line on stdin), it
# starts another process and prints that one's cores: what a platform process starts
# after it was pinned.
FAMILY = """
import os, subprocess, sys, threading, time
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
sys.stdin.readline()
late = [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"]
print(subprocess.run(late, capture_output=True, text=True).stdout.strip(), flush=True)
child.kill()
"""


def test_a_process_tree_is_pinned_whole_and_what_it_starts_later_stays_pinned() -> None:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two cores to tell a pinned process from an unpinned one")
    with subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as family:
        assert family.stdin is not None
        assert family.stdout is not None
        child = int(family.stdout.readline())
        threads = [t.id for p in (family.pid, child) for t in psutil.Process(p).threads()]
        assert len(threads) >= 3  # the family's two threads and its child's
        assert bench.pin_tree(family.pid, {cores[-1]}) == len(threads)
        assert {os.sched_getaffinity(tid) == {cores[-1]} for tid in threads} == {True}
        family.stdin.write("go\n")
        family.stdin.flush()
        assert family.stdout.readline().strip() == str([cores[-1]])
    assert os.sched_getaffinity(0) == set(cores)  # the caller is left alone
    assert bench.pin_tree(family.pid, {cores[-1]}) == 0  # gone: nothing to pin


def test_platform_pids_leave_the_workers_out(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name, text in {
        "airflow-scheduler.pid": "101\n",
        "airflow-celery-worker-1.pid": "201\n",
        "airflow-celery-worker-2.pid": "202\n",
        "redis.pid": "301\n",
        "s3.pid": "garbage",
    }.items():
        (run / name).write_text(text)
    postmaster = tmp_path / "postmaster.pid"
    postmaster.write_text("401\n/var/lib/data\n")
    assert bench.platform_pids(run, postmaster) == [101, 301, 401]
    assert bench.platform_pids(run, tmp_path / "missing.pid") == [101, 301]


def test_core_shares_come_from_the_samples_around_the_stage() -> None:
    samples = [(0.0, [0.0, 0.0]), (10.0, [5.0, 10.0]), (20.0, [15.0, 20.0]), (30.0, [15.5, 30])]
    assert bench.core_busy_shares(samples, 10.0, 20.0) == [1.0, 1.0]
    assert bench.core_busy_shares(samples, 12.0, 28.0) == [0.525, 1.0]  # 10 → 30
    assert bench.core_busy_shares(samples, 20.0, 30.0) == pytest.approx([0.05, 1.0])
    assert bench.core_busy_shares([], 0.0, 1.0) == []


def chunk(index: int, start: float, end: float, worker: str = "worker1@", **kw: object) -> object:
    fields = {"name": f"part-{index:05d}.parquet", "try_number": 1, "rows": 50_000, "cpu": None}
    fields.update(kw)
    return bench.Chunk(index, start=start, end=end, worker=worker, core="0", **fields)


def test_overlap_counts_only_the_time_two_chunks_ran_together() -> None:
    assert bench.at_once([chunk(0, 0, 100), chunk(1, 100, 200)]) == 0  # one after the other
    assert bench.at_once([chunk(0, 0, 100), chunk(1, 40, 150)]) == 60
    assert bench.at_once([chunk(0, 0, 100), chunk(1, 10, 20), chunk(2, 15, 90)]) == 80
    assert bench.at_once([chunk(0, 0, 100), chunk(1, 10, 20), chunk(2, 15, 90)], count=3) == 5


def test_the_report_shows_where_each_chunk_ran_and_the_cpu_it_got() -> None:
    lines = bench.stage_report(
        [
            chunk(1, 1000.0, 1230.0, "worker2@", cpu=115.0, rows=49_118),
            chunk(0, 1000.5, 1240.5, cpu=228.0, try_number=2),
        ],
        [0.98, 0.51],
    )
    assert lines[0] == (
        "  chunk 1 part-00001.parquet (49,118 rows): worker2@ on core 0, 0 → 230 s, "
        "CPU 115 s (50% of a core)"
    )
    assert "worker1@ on core 0, try 2, 0 → 240 s, CPU 228 s (95% of a core)" in lines[1]
    assert lines[2] == (
        "  stage 240 s; two or more chunks at once for 230 s; cores busy over the stage "
        "(every process): core 0 98%, core 1 51%"
    )
