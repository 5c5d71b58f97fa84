"""The monitoring contract the alert rules, the runbooks and the Grafana dashboards are held to.

WHY a list here: the rules (deploy/prometheus/rules/civic.yml), the dashboards
(deploy/grafana/dashboards/) and the exporter (include/monitoring/, job `civic`) are
written against one agreed set of metric names and labels. A name that drifts on one side
makes an alert that can never fire or a panel that is always empty, and nothing at run
time says so. The exporter builds its families at scrape time from what the ledger holds
(the baselines' names from a prefix and `_median`/`_mad`/`_runs`), so its names cannot be
read from its source without running it: this table is the reference the rules and the
dashboards are checked against (tests/unit/test_alert_rules.py,
tests/unit/test_compose_stack.py), and the exporter's tests can hold what it serves
against the same table.

All metrics are gauges. `source` is a configured source (sources/<source>.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# metric name -> its labels (besides the `job` and `instance` Prometheus adds to every series)
CONTRACT_METRICS: dict[str, frozenset[str]] = {
    # last run's rows; kind in read, quarantined, duplicates, suppressed, published
    "civic_run_rows": frozenset({"source", "kind"}),
    # last run: quarantined / read (0 when read = 0)
    "civic_run_quarantine_ratio": frozenset({"source"}),
    # last run: texts with at least one redaction / texts scrubbed
    "civic_run_redaction_ratio": frozenset({"source"}),
    # median, MAD and number of the (up to 30) runs before the last: quarantine ratio
    "civic_quarantine_ratio_baseline_median": frozenset({"source"}),
    "civic_quarantine_ratio_baseline_mad": frozenset({"source"}),
    "civic_quarantine_ratio_baseline_runs": frozenset({"source"}),
    # median, MAD and number of earlier runs on the last run's weekday (up to 8): rows read
    "civic_volume_same_weekday_median": frozenset({"source"}),
    "civic_volume_same_weekday_mad": frozenset({"source"}),
    "civic_volume_same_weekday_runs": frozenset({"source"}),
    # last run, per stage (ingest, scrub, anonymize, validate, load, publish, ...)
    "civic_stage_duration_seconds": frozenset({"source", "stage"}),
    # unix times: end of the last run, of the last run that published, of the newest release
    "civic_last_run_timestamp_seconds": frozenset({"source"}),
    "civic_last_success_timestamp_seconds": frozenset({"source"}),
    "civic_last_release_timestamp_seconds": frozenset({"source"}),
    # 1 when the last run's validation gate blocked residual personal data
    "civic_validation_residual_pii": frozenset({"source"}),
    # 1 when the whole ledger verifies, 0 broken; its number of entries
    "civic_ledger_verified": frozenset(),
    "civic_ledger_entries": frozenset(),
    # objects of the raw zone without server-side encryption
    "civic_raw_zone_unencrypted_objects": frozenset(),
    # Airflow's metadata: 1 when the newest finished run of the DAG failed; runs and task
    # instances by state
    "civic_airflow_dag_last_run_failed": frozenset({"dag_id"}),
    "civic_airflow_dag_runs": frozenset({"dag_id", "state"}),
    "civic_airflow_task_instances": frozenset({"dag_id", "state"}),
}

# Prometheus's own series for every scrape target.
PROMETHEUS_METRICS: dict[str, frozenset[str]] = {"up": frozenset()}

# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})

# The exporter's scrape job.
EXPORTER_JOB = "civic"

# alert -> (runbook page under docs/runbooks/, severity)
ALERTS: dict[str, tuple[str, str]] = {
    "CivicDagRunFailed": ("dag-run-failed.md", "critical"),
    "CivicReleaseStale": ("release-stale.md", "warning"),
    "CivicQuarantineRateAnomaly": ("quarantine-rate-anomaly.md", "warning"),
    "CivicSubmissionVolumeAnomaly": ("submission-volume-anomaly.md", "warning"),
    "CivicResidualPersonalData": ("residual-personal-data.md", "critical"),
    "CivicLedgerBroken": ("ledger-broken.md", "critical"),
    "CivicRawZoneUnencrypted": ("raw-zone-unencrypted.md", "critical"),
    "CivicExporterDown": ("exporter-down.md", "warning"),
}


# -- reading the series a PromQL expression selects ---------------------------------------

_KEYWORDS = frozenset(
    {"and", "or", "unless", "on", "ignoring", "group_left", "group_right", "by", "without"}
    | {"bool", "offset", "inf", "nan", "atan2"}
)
# Masked first: string literals, Grafana variables, range and subquery brackets.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]")
_RANGE = re.compile(r"\[[^\]]*\]")
# Label lists of grouping and vector matching: `by (source)`, `ignoring(kind)`.
_LABEL_LIST = re.compile(r"\b(?:on|ignoring|by|without|group_left|group_right)\s*\([^)]*\)")
_TOKEN = re.compile(
    r"(?P<ident>[A-Za-z_:][\w:]*)|(?P<matchers>\{[^}]*\})|(?P<number>\d[\w.]*)|.", re.S
)
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")


@dataclass(frozen=True)
class Selector:
    """One series selector of an expression: the metric and the labels its matchers name."""

    metric: str
    labels: frozenset[str]


def promql_selectors(expr: str) -> list[Selector]:
    """Every series selector in a PromQL expression (functions, keywords and label lists
    left out). Matchers are read before strings are masked, so their label names count;
    an expression selecting by `{__name__=...}` alone is reported with metric "".

    Not a full PromQL parser: enough for the project's rules, dashboards and the template
    queries of the alerts' annotations, and tested on both (tests/unit/test_alert_rules.py).
    """
    text = _VARIABLE.sub("0", expr)
    matchers: list[str] = []

    def keep(match: re.Match[str]) -> str:
        matchers.append(match.group(0))
        return f"{{#{len(matchers) - 1}}}"

    text = re.sub(r"\{[^{}]*\}", keep, text)
    text = _STRING.sub('""', text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub("", text)
    found: list[Selector] = []
    tokens = [m for m in _TOKEN.finditer(text) if not m.group(0).isspace()]
    for i, token in enumerate(tokens):
        following = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        if token.group("ident"):
            if token.group("ident") in _KEYWORDS or following == "(":
                continue
            labels: frozenset[str] = frozenset()
            if tokens[i + 1 : i + 2] and tokens[i + 1].group("matchers"):
                labels = _labels(matchers[int(tokens[i + 1].group(0)[2:-1])])
            found.append(Selector(token.group("ident"), labels))
        elif token.group("matchers") and not (
            i and tokens[i - 1].group("ident") and tokens[i - 1].group("ident") not in _KEYWORDS
        ):
            found.append(Selector("", _labels(matchers[int(token.group(0)[2:-1])])))
    return found


def _labels(matchers: str) -> frozenset[str]:
    return frozenset(_MATCHER.findall(_STRING.sub('""', matchers)))


def selector_problems(expr: str, where: str) -> list[str]:
    """Selectors of metrics outside the contract, or with labels the metric does not have."""
    known = {**CONTRACT_METRICS, **PROMETHEUS_METRICS}
    problems = []
    selectors = promql_selectors(expr)
    if not selectors:
        problems.append(f"{where}: selects no series: {expr!r}")
    for selector in selectors:
        if selector.metric not in known:
            problems.append(f"{where}: {selector.metric or '{...}'!r} is not a contract metric")
            continue
        extra = selector.labels - known[selector.metric] - TARGET_LABELS
        if extra:
            problems.append(f"{where}: {selector.metric} has no label {sorted(extra)}")
    return problems
