"""Adaptive baselines for the alert rules: median and median absolute deviation of past runs.

WHY in Python and not in PromQL: a baseline here is over *runs*, not over time.
A source runs once a day (or on demand, or twice after a clear), so
`quantile_over_time` over a time window would weigh a run by how long its value
stayed exposed, count a rerun twice and skip a day the exporter was down. The
exporter knows each run from the audit ledger, so it computes the statistics
over the runs themselves and exposes them as gauges beside the last run's
value; a rule then compares the two (e.g. ratio > median + 3 × MAD).

Why median and MAD rather than mean and standard deviation: one bad day (a
malformed delivery quarantined whole) would inflate a standard deviation for
the next 30 runs and hide the next anomaly; the median and the MAD ignore up to
half the window being outliers. The MAD is the raw median of absolute
deviations (no 1.4826 consistency factor): a rule that wants a
standard-deviation-like scale multiplies it itself. With identical past values
the MAD is 0, so a rule should give it a floor.

- Quarantine ratio: the runs *before* the last one (in the order they ran, the
  newest `QUARANTINE_WINDOW`), leaving out runs that read no row (their ratio is
  0 by convention and says nothing about data quality).
- Submission volume: rows read by earlier runs whose logical date falls on the
  same weekday as the last run's (Monday's deliveries are not Sunday's), the
  newest `WEEKDAY_WINDOW` of them by logical date; runs that read nothing count
  (an empty Monday is history too).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

QUARANTINE_WINDOW = 30
WEEKDAY_WINDOW = 8


@dataclass(frozen=True)
class RunPoint:
    """What the baselines need of one pipeline run of one source.

    `order` ranks runs by when they last did something (the seq of their newest
    ledger entry); `logical_date` is the date the run is for."""

    order: int
    logical_date: date
    rows_read: int
    rows_quarantined: int

    @property
    def quarantine_ratio(self) -> float:
        """Quarantined / read; 0 when the run read nothing."""
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


@dataclass(frozen=True)
class Baseline:
    """Median and MAD of `runs` values; both NaN when there is no value."""

    median: float
    mad: float
    runs: int

    @property
    def empty(self) -> bool:
        return self.runs == 0


def median_and_mad(values: Iterable[float]) -> Baseline:
    """The median of `values` and the median of their absolute deviations from it."""
    data = [float(value) for value in values]
    if not data:
        return Baseline(math.nan, math.nan, 0)
    middle = statistics.median(data)
    return Baseline(middle, statistics.median(abs(value - middle) for value in data), len(data))


def quarantine_baseline(
    last: RunPoint, runs: Sequence[RunPoint], window: int = QUARANTINE_WINDOW
) -> Baseline:
    """Quarantine ratios of the newest `window` runs that ran before `last` and read rows."""
    earlier = sorted(
        (run for run in runs if run.order < last.order and run.rows_read > 0),
        key=lambda run: run.order,
    )
    return median_and_mad(run.quarantine_ratio for run in earlier[-window:] if window > 0)


def same_weekday_baseline(
    last: RunPoint, runs: Sequence[RunPoint], window: int = WEEKDAY_WINDOW
) -> Baseline:
    """Rows read by the newest `window` runs for an earlier date on `last`'s weekday."""
    weekday = last.logical_date.weekday()
    earlier = sorted(
        (
            run
            for run in runs
            if run.logical_date < last.logical_date and run.logical_date.weekday() == weekday
        ),
        key=lambda run: (run.logical_date, run.order),
    )
    return median_and_mad(run.rows_read for run in earlier[-window:] if window > 0)
