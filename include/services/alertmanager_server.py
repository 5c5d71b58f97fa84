"""Debian's Alertmanager, one per checkout: groups the alerts Prometheus sends and posts
them to a ticketing system's webhook.

The routes are the repository's `deploy/alertmanager/alertmanager.yml`, rendered into
`.local/run/alertmanager.yml` (mode 0600) with the webhook URL of the setting
`CIVIC_ALERT_WEBHOOK_URL` (`Settings.alert_webhook_url`). Without one, every route
goes to the `null` receiver: Alertmanager still runs, groups and shows alerts (its
UI and API), and `civic services status` says that nothing is sent. The URL may
carry a token, so it is shown by scheme and host only. Clustering is switched off
(`--cluster.listen-address=`): one Alertmanager per checkout, nothing to gossip with.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from include.core.settings import PROJECT_DIR
from include.services.loopback_daemon import CheckedConfigDaemon
from include.services.processes import ServiceError

ROUTES_FILE = PROJECT_DIR / "deploy" / "alertmanager" / "alertmanager.yml"
WEBHOOK_RECEIVER = "civic-webhook"
NULL_RECEIVER = "null"


def render_config(template: dict[str, Any], webhook_url: str | None) -> dict[str, Any]:
    """The routes of `template` with the webhook receiver pointed at `webhook_url`, or, with
    none, every route sent to the null receiver and the webhook receiver left out."""
    config = copy.deepcopy(template)
    receivers = config.get("receivers", [])
    names = {receiver.get("name") for receiver in receivers}
    if WEBHOOK_RECEIVER not in names or NULL_RECEIVER not in names:
        raise ServiceError(
            f"{ROUTES_FILE} must declare the receivers '{WEBHOOK_RECEIVER}' and "
            f"'{NULL_RECEIVER}' (found {sorted(str(n) for n in names)})"
        )
    if webhook_url:
        for receiver in receivers:
            if receiver.get("name") == WEBHOOK_RECEIVER:
                for webhook in receiver.get("webhook_configs", []):
                    webhook["url"] = webhook_url
        return config
    config["receivers"] = [r for r in receivers if r.get("name") != WEBHOOK_RECEIVER]
    _route_to(config.get("route", {}), NULL_RECEIVER)
    return config


def _route_to(route: dict[str, Any], receiver: str) -> None:
    if "receiver" in route:
        route["receiver"] = receiver
    for child in route.get("routes", []) or []:
        _route_to(child, receiver)


def shown_url(url: str | None) -> str:
    """A webhook URL as status may print it: scheme and host, never its path or token."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "") + "/…"


@dataclass(frozen=True, kw_only=True)
class AlertmanagerServer(CheckedConfigDaemon):
    name = "alertmanager"
    title = "Alertmanager"
    program = "prometheus-alertmanager"
    checker = ("amtool", "check-config")
    private = True  # the webhook URL may carry a token

    webhook_url: str | None = field(default=None, repr=False)
    routes_file: Path = ROUTES_FILE

    def config_text(self) -> str:
        template = yaml.safe_load(self.routes_file.read_text(encoding="utf-8"))
        config = render_config(template, self.webhook_url)
        header = f"# Rendered from {self.routes_file} by `civic services up --monitoring`.\n"
        return header + yaml.safe_dump(config, sort_keys=False)

    def webhook_in_use(self) -> str | None:
        """The webhook URL the running configuration posts to (None: the null receiver)."""
        try:
            config = yaml.safe_load(self.config_file.read_text())
        except (OSError, yaml.YAMLError):
            return None
        for receiver in config.get("receivers", []) or []:
            if receiver.get("name") == WEBHOOK_RECEIVER:
                for webhook in receiver.get("webhook_configs", []) or []:
                    return str(webhook.get("url"))
        return None

    def start(self) -> None:
        """Start Alertmanager, or restart it if its rendered configuration changed."""
        binary, amtool = self.executables()
        text = self.config_text()
        if self.running() is not None and self.live_config() == text and self.healthy():
            return
        candidate = self.checked_candidate(amtool, text)
        flags = [f"--storage.path={self.data_dir}", "--cluster.listen-address="]
        self.restart_on(binary, candidate, flags, self.healthy)
