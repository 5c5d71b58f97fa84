"""The adaptive baselines: median and MAD over the right runs, and only those."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from include.monitoring.baselines import (
    QUARANTINE_WINDOW,
    WEEKDAY_WINDOW,
    RunPoint,
    median_and_mad,
    quarantine_baseline,
    same_weekday_baseline,
)

MONDAY = date(2026, 11, 30)


def _run(order: int, day: date, read: int, quarantined: int = 0) -> RunPoint:
    return RunPoint(order, day, read, quarantined)


def test_median_and_mad_of_known_values() -> None:
    # median 3; deviations 2, 1, 0, 1, 97 → MAD 1: one outlier moves neither.
    baseline = median_and_mad([1, 2, 3, 4, 100])
    assert (baseline.median, baseline.mad, baseline.runs) == (3, 1, 5)
    even = median_and_mad([0.1, 0.2, 0.3, 0.5])
    assert even.median == pytest.approx(0.25)
    assert even.mad == pytest.approx(0.1)  # deviations .15 .05 .05 .25 → median .1


def test_no_value_gives_an_empty_baseline() -> None:
    baseline = median_and_mad([])
    assert baseline.empty
    assert baseline.runs == 0
    assert math.isnan(baseline.median)
    assert math.isnan(baseline.mad)


def test_identical_values_have_zero_mad() -> None:
    assert median_and_mad([0.02] * 7).mad == 0


def test_quarantine_baseline_uses_only_runs_before_the_last_that_read_rows() -> None:
    runs = [
        _run(1, MONDAY, 100, 10),  # 0.10
        _run(2, MONDAY, 0, 0),  # read nothing: left out
        _run(3, MONDAY, 200, 10),  # 0.05
        _run(4, MONDAY, 100, 20),  # 0.20
        _run(6, MONDAY, 100, 90),  # ran after the last one: left out
    ]
    last = _run(5, MONDAY, 100, 50)
    baseline = quarantine_baseline(last, [*runs, last])
    assert baseline.runs == 3
    assert baseline.median == pytest.approx(0.10)
    assert baseline.mad == pytest.approx(0.05)


def test_quarantine_baseline_keeps_the_newest_thirty_runs() -> None:
    # 40 earlier runs: the oldest ten at ratio 0.9, the newest thirty at 0.01.
    runs = [_run(i, MONDAY, 100, 90 if i < 10 else 1) for i in range(40)]
    last = _run(40, MONDAY, 100, 1)
    baseline = quarantine_baseline(last, [*runs, last])
    assert baseline.runs == QUARANTINE_WINDOW == 30
    assert baseline.median == pytest.approx(0.01)
    assert baseline.mad == 0


def test_same_weekday_baseline_takes_earlier_dates_on_the_same_weekday() -> None:
    last = _run(100, MONDAY, 500)
    runs = [
        _run(1, MONDAY - timedelta(weeks=1), 400),
        _run(2, MONDAY - timedelta(weeks=2), 420),
        _run(3, MONDAY - timedelta(weeks=3), 0),  # an empty Monday counts
        _run(4, MONDAY - timedelta(days=1), 9000),  # a Sunday: other weekday
        _run(5, MONDAY + timedelta(weeks=1), 9000),  # a later Monday (a backfill's future)
        last,
    ]
    baseline = same_weekday_baseline(last, runs)
    assert baseline.runs == 3
    assert baseline.median == 400
    assert baseline.mad == 20


def test_same_weekday_baseline_keeps_the_newest_eight_dates() -> None:
    runs = [_run(i, MONDAY - timedelta(weeks=i), 1000 if i > 8 else 100) for i in range(1, 13)]
    last = _run(99, MONDAY, 100)
    baseline = same_weekday_baseline(last, [*runs, last])
    assert baseline.runs == WEEKDAY_WINDOW == 8
    assert baseline.median == 100


def test_quarantine_ratio_of_a_run_that_read_nothing_is_zero() -> None:
    assert _run(1, MONDAY, 0, 0).quarantine_ratio == 0
    assert _run(1, MONDAY, 8, 2).quarantine_ratio == 0.25
