"""The platform's metrics exporter (include/monitoring/) as a process of the checkout.

Started with the connections every platform process gets (`.local/env` and the
user's overrides), in its environment only, never on its command line. It is
restarted when those change (a `civic services up --vault` moves the ledger's key
into the vault, for one): a fingerprint of the environment it was started with is
kept beside its pid file, never the values.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from include.core.settings import PROJECT_DIR
from include.services.loopback_daemon import START_TIMEOUT, LoopbackDaemon
from include.services.processes import spawn, wait_until


def environment_fingerprint(env: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(env.items())).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class MetricsExporter(LoopbackDaemon):
    name = "exporter"
    url_path = "/metrics"

    refresh_seconds: float = 30.0

    @property
    def fingerprint_file(self) -> Path:
        return self.run_dir / f"{self.name}.env-sha256"

    def healthy(self) -> bool:
        """/metrics answers with the exporter's own series."""
        return self._answers(self.url_path, containing="civic_exporter_part_up", timeout=10)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "include.monitoring.exporter",
            "--port",
            str(self.port),
            "--refresh",
            str(self.refresh_seconds),
        ]

    def start(self, env: Mapping[str, str]) -> None:
        """Start the exporter with `env` (restart it if it runs with another); wait until
        /metrics answers."""
        fingerprint = environment_fingerprint({**env, "argv": " ".join(self.command())})
        kept = self.fingerprint_file.read_text() if self.fingerprint_file.exists() else None
        if self.running() is not None and kept == fingerprint and self.healthy():
            return
        self.stop()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        spawn(
            self.command(),
            pid_file=self.pid_file,
            log_file=self.log_file,
            env={**os.environ, **env},
            cwd=PROJECT_DIR,
        )
        self.fingerprint_file.write_text(fingerprint)
        wait_until(self.healthy, START_TIMEOUT, "metrics exporter", self.log_file)

    def stop(self) -> bool:
        self.fingerprint_file.unlink(missing_ok=True)
        return super().stop()
