"""Debian's Prometheus, one per checkout: scrapes the platform's exporter, itself and
Alertmanager, evaluates the repository's alert rules, sends alerts to Alertmanager.

Why Debian's package: Prometheus is a single Go binary that Debian 12 ships
(`prometheus` 2.42, with `promtool`), so no image or download is needed; `make
monitoring` installs it. The Debian package also enables a system-wide service on
port 9090; this one is the checkout's own, on a port of its own, with its
configuration generated into `.local/run/prometheus.yml` and its data in
`.local/prometheus/` (15 days kept).

The rules are read from the repository (`deploy/prometheus/rules/*.yml`) in place, so
the files reviewed in git are the ones evaluated; an empty or missing folder is a
glob that matches nothing, which Prometheus accepts. The configuration is checked
with `promtool check config` (rule files included) before Prometheus is (re)started,
so a broken rule file is refused with promtool's own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from include.core.settings import PROJECT_DIR
from include.services.loopback_daemon import CheckedConfigDaemon
from include.services.processes import ServiceError

RULES_GLOB = PROJECT_DIR / "deploy" / "prometheus" / "rules" / "*.yml"
EXPORTER_JOB = "civic"  # the job name the alert rules and dashboards select on
RETENTION = "15d"


def render_config(
    *,
    port: int,
    exporter_port: int,
    alertmanager_port: int | None,
    rules: Path = RULES_GLOB,
    scrape_interval: str = "15s",
) -> dict[str, Any]:
    """Prometheus's configuration: what it scrapes, which rules, where alerts go."""

    def job(name: str, port_: int, **extra: Any) -> dict[str, Any]:
        return {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{port_}"]}], **extra}

    config: dict[str, Any] = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "rule_files": [str(rules)],
        "scrape_configs": [job(EXPORTER_JOB, exporter_port), job("prometheus", port)],
    }
    if alertmanager_port is not None:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]
        }
        config["scrape_configs"].append(job("alertmanager", alertmanager_port))
    return config


@dataclass(frozen=True, kw_only=True)
class PrometheusServer(CheckedConfigDaemon):
    name = "prometheus"
    title = "Prometheus"
    program = "prometheus"
    checker = ("promtool", "check", "config")

    exporter_port: int
    alertmanager_port: int | None
    scrape_interval: str = "15s"
    rules: Path = RULES_GLOB

    def config_text(self) -> str:
        config = render_config(
            port=self.port,
            exporter_port=self.exporter_port,
            alertmanager_port=self.alertmanager_port,
            rules=self.rules,
            scrape_interval=self.scrape_interval,
        )
        return "# Written by `civic services up --monitoring`; edits are lost.\n" + yaml.safe_dump(
            config, sort_keys=False
        )

    def ready(self) -> bool:
        """Ready to serve queries (its storage opened): /-/ready answers 200."""
        return self._answers("/-/ready")

    def start(self) -> None:
        """Start Prometheus, or restart it if its configuration changed; wait until ready."""
        binary, promtool = self.executables()
        text = self.config_text()
        # Checked even when unchanged: promtool checks the rule files it names too.
        candidate = self.checked_candidate(promtool, text)
        if self.running() is not None and self.live_config() == text and self.ready():
            candidate.unlink()
            self._reload()  # same configuration: the rule files may have changed
            return
        flags = [
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
            # POST /-/reload re-reads the rule files (loopback only, like the rest).
            "--web.enable-lifecycle",
        ]
        self.restart_on(binary, candidate, flags, self.ready)

    def _reload(self) -> None:
        try:
            response = requests.post(f"{self.url}/-/reload", timeout=10)
        except requests.RequestException as exc:
            raise ServiceError(f"Prometheus did not reload its rules: {exc}") from None
        if response.status_code != 200:
            raise ServiceError(
                f"Prometheus did not reload its rules ({response.status_code}): "
                f"{response.text.strip()}; see {self.log_file}"
            )
