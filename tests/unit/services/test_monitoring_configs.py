"""Prometheus's and Alertmanager's generated configurations, checked by their own tools
(promtool and amtool from Debian's packages, `make monitoring`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from include.core.settings import Settings, load_settings
from include.services.alertmanager_server import (
    NULL_RECEIVER,
    ROUTES_FILE,
    WEBHOOK_RECEIVER,
    AlertmanagerServer,
    render_config,
    shown_url,
)
from include.services.processes import ServiceError
from include.services.prometheus_server import EXPORTER_JOB, RULES_GLOB, PrometheusServer

HOOK = "https://tickets.example.org/hooks/civic?token=s3cr3t-t0ken"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run `make monitoring`")
    return path


def _receivers(route: dict) -> set[str]:
    found = {route["receiver"]} if "receiver" in route else set()
    for child in route.get("routes", []):
        found |= _receivers(child)
    return found


def _amtool_accepts(tmp_path: Path, server: AlertmanagerServer) -> str:
    path = tmp_path / "alertmanager.yml"
    path.write_text(server.config_text())
    check = subprocess.run(
        [_tool("amtool"), "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    return path.read_text()


def test_the_webhook_url_goes_into_the_webhook_receiver(tmp_path: Path) -> None:
    server = AlertmanagerServer(
        run_dir=tmp_path, port=1, data_dir=tmp_path / "data", webhook_url=HOOK
    )
    config = yaml.safe_load(_amtool_accepts(tmp_path, server))
    (webhook,) = [r for r in config["receivers"] if r["name"] == WEBHOOK_RECEIVER]
    assert [w["url"] for w in webhook["webhook_configs"]] == [HOOK]
    assert webhook["webhook_configs"][0]["send_resolved"] is True
    assert _receivers(config["route"]) == {WEBHOOK_RECEIVER}
    assert config["route"]["group_by"][:2] == ["alertname", "source"]
    severities = [r["matchers"] for r in config["route"]["routes"]]
    assert severities == [['severity="critical"'], ['severity="warning"']]
    assert "s3cr3t" not in repr(server)


def test_without_a_webhook_every_route_goes_to_the_null_receiver(tmp_path: Path) -> None:
    server = AlertmanagerServer(
        run_dir=tmp_path, port=1, data_dir=tmp_path / "data", webhook_url=None
    )
    config = yaml.safe_load(_amtool_accepts(tmp_path, server))
    assert [r["name"] for r in config["receivers"]] == [NULL_RECEIVER]
    assert _receivers(config["route"]) == {NULL_RECEIVER}
    assert "set-CIVIC_ALERT_WEBHOOK_URL" not in server.config_text()


def test_a_refused_configuration_leaves_the_live_one_and_says_the_tool_s_words(
    tmp_path: Path,
) -> None:
    server = PrometheusServer(
        run_dir=tmp_path, port=1, data_dir=tmp_path / "data", exporter_port=2, alertmanager_port=3
    )
    server.config_file.write_text("live\n")
    twice = "scrape_configs: [{job_name: a}, {job_name: a}]\n"
    with pytest.raises(ServiceError) as refused:
        server.checked_candidate(_tool("promtool"), twice)
    heading, message = str(refused.value).split("\n", 1)
    assert heading == "Prometheus's configuration is refused by promtool:"
    assert 'found multiple scrape configs with job name "a"' in message
    assert server.live_config() == "live\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prometheus.yml"]


def test_alertmanager_s_candidate_is_0600_even_over_a_stale_one(tmp_path: Path) -> None:
    """Its rendered file may hold the webhook's token: the candidate (which then becomes
    the live file) is 0600 before the token is written, whatever an interrupted earlier
    attempt left."""
    server = AlertmanagerServer(
        run_dir=tmp_path, port=1, data_dir=tmp_path / "data", webhook_url=HOOK
    )
    stale = tmp_path / "alertmanager.yml.new"
    stale.write_text("stale")
    stale.chmod(0o644)
    candidate = server.checked_candidate(_tool("amtool"), server.config_text())
    assert candidate == stale
    assert candidate.stat().st_mode & 0o777 == 0o600
    assert HOOK in candidate.read_text()
    assert server.live_config() is None  # replacing it is the caller's, after a stop


def test_the_repository_routes_file_itself_is_valid() -> None:
    check = subprocess.run(
        [_tool("amtool"), "check-config", str(ROUTES_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_routes_file_without_the_expected_receivers_is_refused() -> None:
    with pytest.raises(ServiceError, match="civic-webhook"):
        render_config({"route": {"receiver": "x"}, "receivers": [{"name": "x"}]}, HOOK)


def test_a_webhook_url_is_shown_without_its_path_or_token() -> None:
    assert shown_url(HOOK) == "https://tickets.example.org/…"
    assert shown_url("http://127.0.0.1:8025/alerts") == "http://127.0.0.1:8025/…"
    assert shown_url(None) == ""


def test_the_webhook_setting_round_trips_and_stays_out_of_repr(tmp_path: Path) -> None:
    settings = Settings(local_dir=tmp_path, alert_webhook_url=HOOK)
    assert load_settings(settings.as_environment()) == settings
    assert "s3cr3t" not in repr(settings)
    assert Settings(local_dir=tmp_path).alert_webhook_url is None


@pytest.mark.parametrize("rules", ["missing", "repository"])
def test_prometheus_config_passes_promtool(tmp_path: Path, rules: str) -> None:
    """Scrapes the exporter (job `civic`), itself and Alertmanager, sends alerts to
    Alertmanager; a rules folder that does not exist (yet) is accepted."""
    glob = tmp_path / "no-such-folder" / "*.yml" if rules == "missing" else RULES_GLOB
    server = PrometheusServer(
        run_dir=tmp_path,
        port=19090,
        data_dir=tmp_path / "data",
        exporter_port=19464,
        alertmanager_port=19093,
        scrape_interval="5s",
        rules=glob,
    )
    path = tmp_path / "prometheus.yml"
    path.write_text(server.config_text())
    check = subprocess.run(
        [_tool("promtool"), "check", "config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    config = yaml.safe_load(path.read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets == {
        EXPORTER_JOB: ["127.0.0.1:19464"],
        "prometheus": ["127.0.0.1:19090"],
        "alertmanager": ["127.0.0.1:19093"],
    }
    assert config["rule_files"] == [str(glob)]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:19093"
    ]
    assert config["global"]["scrape_interval"] == "5s"
