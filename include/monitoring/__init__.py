"""The platform's Prometheus metrics: pipeline runs from the audit ledger, the ledger's
verification, the raw zone's encryption, Airflow's DAG and task states.

`python -m include.monitoring.exporter --port PORT` serves them on the loopback
(`civic services up --monitoring` starts it, with Prometheus and Alertmanager
from Debian's packages: include/services/). The metric names are a contract with
the alert rules, runbooks and dashboards (see `collector`).

Why Airflow's own metrics are not used (measured on this platform's Airflow
3.3.2, Debian 12, December 2026):

- Airflow 3.3 emits metrics only by pushing them: `[metrics] statsd_on` (StatsD
  over UDP; the `statsd` package it needs is not even in the pinned runtime) or
  `otel_on` (OTLP). Prometheus pulls. StatsD needs Prometheus's
  statsd_exporter in between: Debian 12 has no `prometheus-statsd-exporter`
  package, and PyPI's `statsd-exporter` 3.2.1 is a StatsD *client* fork, not
  the server. OTLP needs a receiver: the Debian `prometheus` 2.42's
  `--enable-feature` list has no OTLP receiver (it came in 2.47), and no
  OpenTelemetry Collector binary comes from the registries reachable here.
- PyPI `airflow-exporter` 2.1.0 (MIT, Airflow >= 3) was read, not installed: it is
  a FastAPI app mounted in Airflow's api-server (`/admin/metrics`) that runs
  group-by queries over `dag_run` and `task_instance` through Airflow's ORM on
  every scrape, inside the api-server process. Its figures exist only while the
  api-server runs (not for `dag.test()` runs, nor when the api-server is what
  broke), on the UI's port. The same few queries run here on a read-only
  connection to the metadata database (`airflow_db`), next to the ledger's
  figures, in one exporter Prometheus scrapes as job `civic`.
"""
