"""Per-stage figures of the scale benchmark: attribution of time and memory to stages."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from include.scale_benchmark import (
    SAMPLE_SECONDS,
    SAMPLER_CPU_SHARE,
    MemorySample,
    TaskInterval,
    next_wait,
    sampled_memory,
    sampler_summary,
    stage_figures,
)


def test_time_and_memory_go_to_the_stage_that_was_running() -> None:
    intervals = [
        TaskInterval("ingest", 10.0, 12.0),
        TaskInterval("scrub", 12.5, 14.0),  # two mapped instances
        TaskInterval("scrub", 14.0, 16.5),
        TaskInterval("publish", 17.0, 18.0),
    ]
    samples = [
        MemorySample(at, pss, rss)
        for at, pss, rss in [(11, 100, 90), (13, 400, 150), (15, 300, 160), (16.8, 999, 999),
                             (17.5, 200, 180)]
    ]  # fmt: skip
    figures = stage_figures(intervals, samples, rows=1_000)
    assert [f.stage for f in figures] == ["ingest", "scrub", "publish"]
    ingest, scrub, publish = figures
    assert (scrub.instances, scrub.seconds, scrub.peak_pss_bytes) == (2, 4.0, 400)
    assert scrub.peak_runner_rss_bytes == 160
    assert scrub.rows_per_second == pytest.approx(250)
    assert ingest.peak_pss_bytes == 100
    assert publish.peak_pss_bytes == 200  # 999 fell between two stages: nobody's
    assert stage_figures([TaskInterval("load", 1.0, 2.0)], [], 10)[0].peak_pss_bytes is None


def test_a_process_tree_memory_is_sampled_children_included() -> None:
    # A parent that starts a child holding 64 MiB: the tree's RSS must show it.
    script = (
        "import subprocess, sys, time;"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import time; block = bytearray(64 * 2**20); time.sleep(3)']);"
        "child.wait()"
    )
    samples: list[MemorySample] = []
    started = time.monotonic()
    with (
        subprocess.Popen([sys.executable, "-c", script]) as parent,
        sampled_memory(parent.pid, samples),
    ):
        deadline = time.monotonic() + 10
        while parent.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    wall = time.monotonic() - started
    assert parent.returncode == 0
    assert len(samples) >= 5
    # the sampler's own CPU is counted, and stays within its share of a core
    spent = [s.cpu_seconds for s in samples]
    assert all(cost > 0 for cost in spent)
    assert sum(spent) <= SAMPLER_CPU_SHARE * wall + max(spent)
    assert "of one core" in sampler_summary(samples, wall)
    # the child's 64 MiB are its own pages: in the tree's PSS, not in the parent's RSS
    assert max(s.tree_pss for s in samples) >= 64 * 2**20
    assert max(s.runner_rss for s in samples) < 64 * 2**20


def test_an_expensive_sample_waits_longer_so_the_sampler_keeps_to_its_share() -> None:
    assert next_wait(0.0) == SAMPLE_SECONDS
    assert next_wait(0.001) == SAMPLE_SECONDS  # 0.5 % of a core at the base pace
    # 65 ms a sample (a scrub task's tree): every 0.2 s would be a quarter of a core
    wait = next_wait(0.065)
    assert wait == pytest.approx(0.065 / SAMPLER_CPU_SHARE)
    assert 0.065 / (0.065 + wait) <= SAMPLER_CPU_SHARE


def test_the_sampler_summary_says_how_often_and_at_what_cost() -> None:
    samples = [MemorySample(float(at), 1, 1, 0.05) for at in range(10)]
    assert sampler_summary(samples, 20.0) == (
        "memory sampled 10 times (every 2.00 s on average), costing 0.5 s of CPU (2.5% of one core)"
    )
    assert sampler_summary([], 20.0) == "memory not sampled"
