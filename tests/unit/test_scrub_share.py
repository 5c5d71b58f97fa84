"""Scrub tasks at once per host and processes per task, for each executor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from include.pipeline.scrub_share import (
    LOCAL_CHUNKS_PER_SCRUB_TASK,
    is_celery,
    scrub_groups,
    scrub_processes,
    scrub_tasks_cap,
    tasks_at_once_here,
    usable_cores,
)
from include.services.airflow_runtime import AirflowServices

CELERY = "airflow.providers.celery.executors.celery_executor.CeleryExecutor"


@pytest.mark.parametrize(
    ("executor", "celery"),
    [("CeleryExecutor", True), (CELERY, True), ("LocalExecutor", False), ("", False)],
)
def test_is_celery(executor: str, celery: bool) -> None:
    assert is_celery(executor) is celery


def test_local_executor_runs_one_scrub_task_with_every_core() -> None:
    assert scrub_tasks_cap("LocalExecutor") == 1
    assert tasks_at_once_here("LocalExecutor", worker_concurrency=16) == 1
    assert scrub_processes(cores=8, tasks_at_once=1) == 8


def test_celery_workers_share_their_host_by_concurrency() -> None:
    assert scrub_tasks_cap(CELERY) is None  # workers on other hosts take the other chunks
    assert tasks_at_once_here(CELERY, worker_concurrency=1) == 1
    assert scrub_processes(cores=8, tasks_at_once=tasks_at_once_here(CELERY, 3)) == 2
    # more tasks than cores: one process each, never zero
    assert scrub_processes(cores=2, tasks_at_once=tasks_at_once_here(CELERY, 4)) == 1


@pytest.mark.parametrize(("cores", "at_once"), [(0, 1), (2, 0)])
def test_nonsense_is_refused(cores: int, at_once: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        scrub_processes(cores, at_once)
    with pytest.raises(ValueError, match="worker_concurrency"):
        tasks_at_once_here(CELERY, 0)


def test_usable_cores_follow_the_affinity() -> None:
    """A process pinned to one core (as an embedded Celery worker is) sees one core."""
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})
        assert usable_cores() == 1
    finally:
        os.sched_setaffinity(0, before)
    assert usable_cores() == len(before)


def test_embedded_workers_are_pinned_round_robin(tmp_path: Path) -> None:
    cores = sorted(os.sched_getaffinity(0))
    services = AirflowServices(tmp_path, api_port=1, workers=len(cores) + 1)
    pinned = [services.command(f"celery-worker-{n}")[:3] for n in range(1, services.workers + 1)]
    assert [argv[:2] for argv in pinned] == [["taskset", "--cpu-list"]] * services.workers
    assert [int(argv[2]) for argv in pinned] == [*cores, cores[0]]
    assert services.command("scheduler")[1:] == ["scheduler"]


def test_one_host_scrubs_consecutive_chunks_in_turn_and_celery_one_per_task() -> None:
    keys = [f"part-{n:05d}.parquet" for n in range(1, 11)]
    local = scrub_groups(keys, "LocalExecutor")
    assert LOCAL_CHUNKS_PER_SCRUB_TASK == 4
    assert local == [keys[0:4], keys[4:8], keys[8:10]]  # every chunk once, in order
    assert scrub_groups(keys, CELERY) == [[key] for key in keys]
    assert scrub_groups([], "LocalExecutor") == []
