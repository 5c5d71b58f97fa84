"""`civic demo`: the whole platform on sample data, through Airflow itself."""

from __future__ import annotations

import time

import typer

from include.cli.output import console
from include.cli.sample import objects_table, today, write_sources
from include.cli.services import status_table
from include.core.settings import load_settings
from include.dag_helpers import source_names
from include.demo_runs import measure_scrubber, run_all_dags
from include.demo_summary import print_summary
from include.services.stack import LocalPlatform


def demo(
    rows: int = typer.Option(3000, "--rows", "-n", min=10, help="Sample submissions per source."),
    seed: int = typer.Option(42, "--seed", help="Seed of the sample data."),
) -> None:
    """Start the services, write sample data for every source, run every DAG, print a summary."""
    settings = load_settings()
    stack = LocalPlatform(settings)
    with console.status("starting services") as spinner:
        stack.up(lambda msg: spinner.update(msg))
    console.print(status_table(stack.status()))
    day = today()
    reports = write_sources(settings, source_names(), rows, seed, day)
    console.print(objects_table(settings.raw_bucket, reports))
    started = time.monotonic()
    # Before the DAGs, so that their releases state the scrubber's measured figures.
    measured = measure_scrubber(stack.process_env(), console)
    # The refresh DAG needs a running Superset; `make up` starts one (and imports the
    # dashboards over this data), so without it the demo leaves that DAG out.
    skip = (
        {}
        if stack.superset().healthy()
        else {"superset_refresh": "Superset not running: make up starts it, then refreshes"}
    )
    runs = run_all_dags(stack.process_env(), day, console, skip)
    failed = [run for run in runs if run.state != "success"]
    healthy = print_summary(settings, stack.process_env(), source_names(), console)
    console.print(f"DAG runs took {time.monotonic() - started:.0f} s")
    objects = sum(len(r.objects) for r in reports.values())
    console.print(f"\nraw zone: s3://{settings.raw_bucket} ({objects} objects)")
    console.print(f"connections and settings: {settings.env_file}")
    console.print(f"Airflow task logs: {settings.airflow_home / 'logs'}")
    console.print(
        "Airflow UI and Superset dashboards on the same data: [bold]make up[/] then "
        f"http://127.0.0.1:{stack.airflow().api_port} and {stack.superset().url}"
    )
    if failed or not healthy or not measured:
        raise typer.Exit(code=1)
