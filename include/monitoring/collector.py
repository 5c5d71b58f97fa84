"""The `civic_*` metrics, computed on each scrape by a custom prometheus-client Collector.

WHY a custom Collector (and no gauges set by the pipeline): the pipeline's tasks are
short-lived processes, possibly on other hosts, and a figure set in one of them is
gone when it exits. The ledger already holds every figure, signed; reading it when
Prometheus asks makes the exporter stateless (restart it any time) and its figures
exactly the ledger's.

The metric names and labels are a contract with the alert rules
(deploy/prometheus/rules/), the runbooks and the Grafana dashboards: change them
together. Every value is a gauge. Besides the contract, `civic_exporter_part_up`
and `civic_exporter_part_seconds` say, per part (ledger, ledger_verification,
raw_zone, airflow), whether it could be read on this scrape and how long that took,
and `civic_exporter_part_age_seconds` how old the background result of the
verification and of the raw-zone listing is: a part that failed leaves its series
out rather than reporting a made-up value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from include.audit import VerifyResult
from include.monitoring.airflow_db import (
    DAG_RUN_STATES,
    TASK_STATES,
    AirflowMetadata,
    AirflowStates,
)
from include.monitoring.baselines import Baseline, quarantine_baseline, same_weekday_baseline
from include.monitoring.ledger_runs import (
    DAG_PREFIX,
    LedgerRuns,
    SourceView,
    ledger_stage_durations,
)
from include.monitoring.readers import LedgerReader, RawZoneState, Refreshed

log = logging.getLogger(__name__)
T = TypeVar("T")

PARTS = ("ledger", "ledger_verification", "raw_zone", "airflow")


@dataclass(frozen=True)
class ExporterParts:
    """Where the collector reads; `airflow` None when no metadata database is configured."""

    sources: tuple[str, ...]
    ledger: LedgerReader
    verification: Refreshed[VerifyResult]
    raw_zone: Refreshed[RawZoneState]
    airflow: AirflowMetadata | None


class _Families:
    """The metric families of one scrape, created on first use."""

    def __init__(self) -> None:
        self.families: dict[str, GaugeMetricFamily] = {}

    def add(self, name: str, doc: str, value: float, **labels: str) -> None:
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = GaugeMetricFamily(name, doc, labels=list(labels))
        family.add_metric(list(labels.values()), float(value))


class CivicCollector(Collector):
    """Reads every part on each scrape (the slow ones are computed in the background)."""

    def __init__(self, parts: ExporterParts) -> None:
        self.parts = parts
        self._lock = threading.Lock()  # the HTTP server answers scrapes on several threads
        self._failing: dict[str, str] = {}

    def describe(self) -> Iterator[Metric]:
        return iter(())  # nothing to register up front: the series depend on the ledger

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            out = _Families()
            runs = self._part(out, "ledger", self.parts.ledger.refresh)
            airflow = self._part(out, "airflow", self._airflow_states)
            if runs is not None:
                self._ledger_metrics(out, runs)
            result = self._part(out, "ledger_verification", self.parts.verification.get)
            self._age(out, "ledger_verification", self.parts.verification)
            if result is not None:
                out.add(
                    "civic_ledger_verified",
                    "1 when the whole audit ledger verifies (chain and signatures), 0 broken",
                    1 if result.intact else 0,
                )
            raw = self._part(out, "raw_zone", self.parts.raw_zone.get)
            self._age(out, "raw_zone", self.parts.raw_zone)
            if raw is not None:
                out.add(
                    "civic_raw_zone_unencrypted_objects",
                    "Objects in the raw zone stored without server-side encryption",
                    raw.unencrypted,
                )
            if airflow is not None:
                self._airflow_metrics(out, airflow)
            return iter(list(out.families.values()))

    # -- parts -----------------------------------------------------------------------------

    def _part(self, out: _Families, name: str, read: Callable[[], T]) -> T | None:
        """Run one part's read; record whether it worked and how long it took."""
        started = time.perf_counter()
        value: T | None = None
        try:
            value = read()
        except Exception as exc:  # a part that fails must not fail the scrape
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            if self._failing.get(name) != reason:
                log.warning("%s unavailable: %s", name, reason)
            self._failing[name] = reason
        else:
            if name in self._failing:
                log.info("%s available again", name)
                self._failing.pop(name)
        out.add(
            "civic_exporter_part_up",
            "1 when the exporter could read this part on this scrape",
            0 if name in self._failing else 1,
            part=name,
        )
        out.add(
            "civic_exporter_part_seconds",
            "Seconds this scrape spent reading the part",
            time.perf_counter() - started,
            part=name,
        )
        return value

    @staticmethod
    def _age(out: _Families, name: str, part: Refreshed[Any]) -> None:
        age = part.age()
        if age is not None:
            out.add(
                "civic_exporter_part_age_seconds",
                "Seconds since the part's background computation last finished",
                age,
                part=name,
            )

    def _airflow_states(self) -> AirflowStates:
        if self.parts.airflow is None:
            raise RuntimeError("no Airflow metadata database configured")
        return self.parts.airflow.states()

    # -- the ledger's figures --------------------------------------------------------------

    def _ledger_metrics(self, out: _Families, runs: LedgerRuns) -> None:
        out.add("civic_ledger_entries", "Entries in the audit ledger", self.parts.ledger.entries)
        for source in self.parts.sources:
            view = runs.view(source)
            if view is not None:
                self._source_metrics(out, source, view)

    def _source_metrics(self, out: _Families, source: str, view: SourceView) -> None:
        last = view.last
        for kind, rows in last.rows().items():
            out.add("civic_run_rows", "Last run's rows by kind", rows, source=source, kind=kind)
        ratio = last.quarantine_ratio()
        if ratio is not None:
            out.add(
                "civic_run_quarantine_ratio",
                "Last run: rows quarantined / rows read (0 when none read)",
                ratio,
                source=source,
            )
        redaction = last.redaction_ratio()
        if redaction is not None:
            out.add(
                "civic_run_redaction_ratio",
                "Last run: texts with at least one redaction / texts scrubbed",
                redaction,
                source=source,
            )
        point = last.point()
        if point is not None:
            quarantine = quarantine_baseline(point, view.points)
            volume = same_weekday_baseline(point, view.points)
            self._baseline(
                out,
                "civic_quarantine_ratio_baseline",
                quarantine,
                source,
                "quarantine ratio over the runs before the last (up to 30)",
            )
            self._baseline(
                out,
                "civic_volume_same_weekday",
                volume,
                source,
                "rows read by earlier runs on the last run's weekday (up to 8)",
            )
        for stage, seconds in self._durations(source, view).items():
            out.add(
                "civic_stage_duration_seconds",
                "Last run: seconds per stage (Airflow's task times, else the ledger's)",
                seconds,
                source=source,
                stage=stage,
            )
        out.add(
            "civic_last_run_timestamp_seconds",
            "End of the last run (its newest ledger entry), unix time",
            last.ended_at.timestamp(),
            source=source,
        )
        if view.last_success is not None and view.last_success.release is not None:
            out.add(
                "civic_last_success_timestamp_seconds",
                "End of the last run that published a release, unix time",
                view.last_success.ended_at.timestamp(),
                source=source,
            )
            out.add(
                "civic_last_release_timestamp_seconds",
                "Time of the newest release (its publish entry), unix time",
                view.last_success.release[1].timestamp(),
                source=source,
            )
        out.add(
            "civic_validation_residual_pii",
            "1 when the last run's validation gate blocked residual personal data",
            1 if last.residual_pii_blocked() else 0,
            source=source,
        )

    @staticmethod
    def _baseline(out: _Families, prefix: str, baseline: Baseline, source: str, what: str) -> None:
        out.add(
            f"{prefix}_runs",
            f"How many runs the baseline uses: {what}",
            baseline.runs,
            source=source,
        )
        if not baseline.empty:
            out.add(f"{prefix}_median", f"Median of the {what}", baseline.median, source=source)
            out.add(
                f"{prefix}_mad",
                f"Median absolute deviation of the {what}",
                baseline.mad,
                source=source,
            )

    def _durations(self, source: str, view: SourceView) -> dict[str, float]:
        """Airflow's task times for the run when Airflow knows it (each stage's own time),
        else what the ledger's timestamps show (see `ledger_stage_durations`)."""
        last = view.last
        if self.parts.airflow is not None and "airflow" not in self._failing:
            dag_id = last.dag_id or f"{DAG_PREFIX}{source}"
            try:
                found = self.parts.airflow.task_durations(dag_id, last.run_id)
            except Exception as exc:  # fall back to the ledger's own times
                log.debug("task durations of %s unavailable: %s", dag_id, exc)
                found = None
            if found:
                return found
        return ledger_stage_durations(last.events)

    # -- Airflow ---------------------------------------------------------------------------

    @staticmethod
    def _airflow_metrics(out: _Families, states: AirflowStates) -> None:
        # (family, help, counts by (DAG, state), the states Airflow defines)
        by_state = (
            (
                "civic_airflow_dag_runs",
                "DAG runs by state (Airflow's metadata database)",
                states.dag_runs,
                DAG_RUN_STATES,
            ),
            (
                "civic_airflow_task_instances",
                "Task instances by state (Airflow's metadata database)",
                states.task_instances,
                TASK_STATES,
            ),
        )
        for dag_id in states.dags:
            for name, doc, counts, known_states in by_state:
                for state in known_states:
                    count = counts.get((dag_id, state), 0)
                    out.add(name, doc, count, dag_id=dag_id, state=state)
            if dag_id in states.last_finished:
                out.add(
                    "civic_airflow_dag_last_run_failed",
                    "1 when the newest finished run of the DAG failed, else 0",
                    1 if states.last_finished[dag_id] == "failed" else 0,
                    dag_id=dag_id,
                )
        # A state a later Airflow adds still shows, rather than vanishing.
        known = set(states.dags)
        for name, doc, counts, known_states in by_state:
            for (dag_id, state), count in counts.items():
                if state not in known_states and dag_id in known:
                    out.add(name, doc, count, dag_id=dag_id, state=state)
