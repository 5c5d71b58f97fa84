"""`civic services up | down | status`: the embedded PostgreSQL, S3 server, Airflow, Superset,
and the monitoring (metrics exporter, Prometheus, Alertmanager)."""

from __future__ import annotations

import psycopg
import typer
from rich.table import Table

from include.cli.output import console
from include.core.connections import WAREHOUSE_CONN_ID, ConnectionConfigError, get_connection
from include.core.settings import load_settings
from include.core.source_config import load_all_sources
from include.services.stack import LocalPlatform, ServiceStatus
from include.services.superset_runtime import ADMIN_USER

services_app = typer.Typer(help="Start, stop and inspect the local services.", no_args_is_help=True)


def platform() -> LocalPlatform:
    return LocalPlatform(load_settings())


def status_table(rows: list[ServiceStatus]) -> Table:
    table = Table(title="Services", title_justify="left")
    for column in ("service", "address", "state", "detail"):
        table.add_column(column)
    colours = {"running": "green", "healthy": "green", "external": "cyan"}
    for row in rows:
        colour = colours.get(row.state, "red")
        table.add_row(row.name, row.address, f"[{colour}]{row.state}[/]", row.detail)
    return table


@services_app.command()
def up(
    airflow: bool = typer.Option(
        False,
        "--airflow",
        help="Also start Airflow's api-server, scheduler, dag-processor, triggerer.",
    ),
    superset: bool = typer.Option(
        False,
        "--superset",
        help="Also start Superset (set up on first start) and import its dashboards.",
    ),
    executor: str | None = typer.Option(
        None,
        "--executor",
        help="Airflow's executor: 'local' (tasks beside the scheduler) or 'celery' (Redis "
        "broker and Celery workers; add workers on other hosts with the same image and "
        ".local/env). Kept for later starts; default: the one recorded, else local.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Celery workers on this host (default 2, kept)."
    ),
    vault: bool | None = typer.Option(
        None,
        "--vault/--no-vault",
        help="Start the embedded vault (OpenBao) and keep Airflow's connections there: its "
        "processes read them through Airflow's VaultBackend, none in their environment. "
        "Kept for later starts.",
    ),
    monitoring: bool | None = typer.Option(
        None,
        "--monitoring/--no-monitoring",
        help="Start the metrics exporter, Prometheus and Alertmanager (Debian's packages: "
        "`make monitoring`); alerts go to CIVIC_ALERT_WEBHOOK_URL if set. Kept for later "
        "starts; --no-monitoring stops them.",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Start with empty zones when the embedded S3 server lost zones that held data "
        "(its snapshot deleted or unreadable; an unreadable one is moved aside). Recorded "
        "in .local/state.json.",
    ),
) -> None:
    """Start PostgreSQL and the S3 server (unless pointed elsewhere), create buckets and
    databases, migrate Airflow's metadata, and write .local/env.

    Refuses when zone buckets that held data are gone from the embedded S3 server."""
    stack = platform()
    with console.status("starting services") as spinner:
        buckets = stack.up(
            lambda msg: spinner.update(msg),
            force=force,
            executor=executor,
            celery_workers=workers,
            vault=vault,
            monitoring=monitoring,
        )
        if airflow:
            spinner.update(f"Airflow services, {stack.state.executor} executor (about 30 s)")
            stack.start_airflow()
        if superset:
            spinner.update("Superset (about 10 s; about 30 s more on the first start)")
            stack.start_superset()
            spinner.update("Superset dashboards, charts and datasets")
            synced = stack.sync_superset_assets()
    console.print(status_table(stack.status()))
    if stack.zone_reset:
        console.print(
            f"[bold yellow]started with empty zones[/]: {', '.join(stack.zone_reset['lost'])} "
            f"lost ({stack.zone_reset['reason']}); recorded in {stack.state_path}",
            soft_wrap=True,
        )
    for bucket in buckets:
        console.print(
            f"bucket [bold]{bucket.name}[/] ({bucket.zone} zone): default encryption "
            f"{bucket.encryption or '[red]none[/]'}"
            + (" [dim](created)[/]" if bucket.created else "")
        )
    console.print(f"connections and settings: [bold]{stack.settings.env_file}[/]")
    if airflow:
        password = stack.state.secret("airflow_admin_password")
        console.print(
            f"Airflow UI: [bold]http://127.0.0.1:{stack.airflow().api_port}[/]  "
            f"login [bold]admin[/] / [bold]{password}[/]  (stored in .local/state.json)"
        )
    if stack.state.monitoring:
        console.print(
            f"Prometheus: [bold]{stack.prometheus().url}[/] (alerts: /alerts, targets: "
            f"/targets)  Alertmanager: [bold]{stack.alertmanager().url}[/]  metrics: "
            f"[bold]{stack.exporter().url}[/]"
        )
    if superset:
        console.print(
            f"Superset assets imported: {synced.dashboards} dashboards, {synced.charts} charts, "
            f"{synced.datasets} datasets (columns refreshed)"
        )
        password = stack.state.secret("superset_admin_password")
        console.print(
            f"Superset: [bold]{stack.superset().url}[/]  "
            f"login [bold]{ADMIN_USER}[/] / [bold]{password}[/]  (stored in .local/state.json)"
        )


@services_app.command()
def down() -> None:
    """Stop every process this checkout started (data in .local/ is kept, the S3 zones
    saved to .local/s3/state first)."""
    stopped = platform().down()
    console.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command()
def status() -> None:
    """Each service, its address and its health; then, once the warehouse answers, every
    row each source received and where it is now (published, suppressed, quarantined,
    duplicate, or in flight, named by raw object)."""
    stack = platform()
    rows = stack.status()
    console.print(status_table(rows))
    if not any(row.name == "postgres" and row.state in ("running", "external") for row in rows):
        return
    from include.demo_summary import print_platform_accounting  # pandas: only here

    try:
        dsn = get_connection(WAREHOUSE_CONN_ID, stack.process_env()).postgres_dsn()
        console.print("[bold]Rows received to date[/]")
        print_platform_accounting(dsn, load_all_sources(), console)
    except (ConnectionConfigError, psycopg.Error) as exc:
        console.print(f"[yellow]accounting unavailable: {' '.join(str(exc).split())}[/]")
