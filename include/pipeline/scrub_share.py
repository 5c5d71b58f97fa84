"""How many scrub tasks run at once on a host, and how many processes each one starts.

WHY: the scrub stage is CPU-bound (spaCy and Presidio), and a scrub task that starts
more worker processes than its share of the host's cores only adds start-up, memory
and context switches. Each mapped scrub task therefore takes the host's usable cores
(its CPU affinity, so a worker pinned with `taskset` or a container's cpuset counts
as what it is) divided by the scrub tasks that may run beside it on that host:

- LocalExecutor: every task runs on this host, so a source's scrub tasks run one at
  a time (`max_active_tis_per_dag`), each with every core. The scrubber's start-up is
  paid once per task and its worker processes share the model's pages (forked).
- CeleryExecutor: a worker runs `worker_concurrency` tasks at once (1 on this
  platform: a worker is sized to its host or its core), and more hosts mean more
  workers, so the tasks are not capped: each takes its worker's cores.

A scrub task also takes several chunks in turn on a single host (`scrub_groups`):
tasks run there one after the other, so each one more costs its whole overhead
(a task process, the scrubber's start-up, the scheduler's hand-over) with one core
idle, about 4 s a task, 80 s of a million rows in 50,000-row chunks. One chunk at a
time in a task keeps its memory a chunk's. Under Celery every chunk stays a task of
its own, so that the workers share them out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

LOCAL_SCRUB_TASKS_AT_ONCE = 1
# Chunks a scrub task takes in turn on a single host: 200,000 rows, about four minutes.
LOCAL_CHUNKS_PER_SCRUB_TASK = 4


def is_celery(executor: str) -> bool:
    """Whether Airflow's `[core] executor` setting names the CeleryExecutor."""
    return executor.rsplit(".", 1)[-1].strip() == "CeleryExecutor"


def scrub_tasks_cap(executor: str) -> int | None:
    """The cap on one source's concurrent scrub tasks (`max_active_tis_per_dag`): one at a
    time on a single host, none when workers on other hosts take them."""
    return None if is_celery(executor) else LOCAL_SCRUB_TASKS_AT_ONCE


def scrub_groups(chunk_keys: Sequence[str], executor: str) -> list[list[str]]:
    """The chunks of a run as the scrub tasks take them: consecutive chunks, in their
    order, `LOCAL_CHUNKS_PER_SCRUB_TASK` to a task on a single host, one under Celery."""
    size = 1 if is_celery(executor) else LOCAL_CHUNKS_PER_SCRUB_TASK
    return [list(chunk_keys[start : start + size]) for start in range(0, len(chunk_keys), size)]


def tasks_at_once_here(executor: str, worker_concurrency: int) -> int:
    """Scrub tasks this host may run at the same time as the calling one."""
    if is_celery(executor):
        if worker_concurrency < 1:
            raise ValueError(f"worker_concurrency must be at least 1, got {worker_concurrency}")
        return worker_concurrency
    return LOCAL_SCRUB_TASKS_AT_ONCE


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not the machine's count."""
    return len(os.sched_getaffinity(0))


def scrub_processes(cores: int, tasks_at_once: int) -> int:
    """Processes for one scrub task: its share of `cores`, at least one."""
    if cores < 1 or tasks_at_once < 1:
        raise ValueError(
            f"cores and tasks_at_once must be at least 1, got {cores}, {tasks_at_once}"
        )
    return max(1, cores // tasks_at_once)
