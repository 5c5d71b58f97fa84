"""The exporter process: `python -m include.monitoring.exporter --port PORT`.

Reads its connections the way the platform's other processes do: the Airflow
connections `civic_warehouse`, `civic_s3` and `civic_audit_key` and Airflow's
`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` from the environment (`civic services up`
starts it with `.local/env`), the `CIVIC_*` settings for the raw bucket. It
listens on the loopback only: the metrics name sources and runs, nothing
personal, but nobody outside the host needs them (Prometheus runs beside it).
Connection strings and keys are never logged; a part that cannot be read is
logged once, by the kind of error, and shown by `civic_exporter_part_up`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.process_collector import ProcessCollector

from include.audit import Anchor, load_key
from include.core.connections import (
    AIRFLOW_METADATA_VAR,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    get_connection,
    s3_client,
)
from include.core.settings import Settings, load_settings
from include.dag_helpers import source_names
from include.monitoring.airflow_db import AirflowMetadata
from include.monitoring.collector import CivicCollector, ExporterParts
from include.monitoring.readers import (
    LedgerReader,
    RawZoneScanner,
    Refreshed,
    ledger_verification,
)
from include.publish.ledger_checkpoint import newest_release_anchor

log = logging.getLogger("include.monitoring.exporter")

DEFAULT_REFRESH = 30.0  # seconds between two ledger verifications / raw-zone listings


def build_parts(
    environ: Mapping[str, str], settings: Settings, refresh: float = DEFAULT_REFRESH
) -> ExporterParts:
    """What the collector reads, from the connections in `environ`."""
    dsn = get_connection(WAREHOUSE_CONN_ID, environ).postgres_dsn()
    client = s3_client(get_connection(S3_CONN_ID, environ))
    scanner = RawZoneScanner(client, settings.raw_bucket)
    metadata = environ.get(AIRFLOW_METADATA_VAR)
    sources = tuple(source_names())

    def released_head() -> Anchor | None:
        found = newest_release_anchor(
            client, settings.public_bucket, settings.exports_dir, dsn, sources
        )
        return None if found is None else found[0]

    return ExporterParts(
        sources=sources,
        ledger=LedgerReader(dsn, sources),
        verification=ledger_verification(dsn, lambda: load_key(environ), refresh, released_head),
        raw_zone=Refreshed(scanner.scan, refresh, "raw-zone"),
        airflow=AirflowMetadata(metadata) if metadata else None,
    )


def registry_for(parts: ExporterParts) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(CivicCollector(parts))
    ProcessCollector(registry=registry)  # the exporter's own memory and CPU
    return registry


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--refresh",
        type=float,
        default=DEFAULT_REFRESH,
        help="seconds between the end of a ledger verification (or raw-zone listing) and "
        "the start of the next, both in the background",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    parts = build_parts(os.environ, load_settings(), args.refresh)
    server, thread = start_http_server(args.port, addr=args.host, registry=registry_for(parts))
    log.info(
        "serving http://%s:%d/metrics (sources: %s; Airflow states: %s; refresh %.0f s)",
        args.host,
        args.port,
        ", ".join(parts.sources),
        "yes" if parts.airflow else f"no ({AIRFLOW_METADATA_VAR} not set)",
        args.refresh,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.shutdown()
    thread.join(timeout=5)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
