"""`civic sample`: realistic French submissions, encrypted, into the raw zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer
from rich.table import Table

from include.cli.output import console, progress_bar
from include.core.connections import S3_CONN_ID, get_connection, s3_client
from include.core.settings import Settings, load_settings
from include.core.source_config import load_all_sources
from include.sample.writer import SampleReport, write_sample
from include.services.stack import LocalPlatform


def today() -> date:
    return datetime.now(UTC).date()


def write_sources(
    settings: Settings, sources: list[str], rows: int, seed: int, day: date
) -> dict[str, SampleReport]:
    """Write `rows` submissions per source to the raw zone, with a progress bar each."""
    configs = load_all_sources()
    unknown = sorted(set(sources) - set(configs))
    if unknown:
        raise typer.BadParameter(f"unknown source(s) {unknown}; known: {sorted(configs)}")
    environ = LocalPlatform(settings).process_env()
    client = s3_client(get_connection(S3_CONN_ID, environ))
    reports = {}
    with progress_bar() as bar:
        for offset, name in enumerate(sources):
            task = bar.add_task(f"{name} → s3://{settings.raw_bucket}", total=rows)
            reports[name] = write_sample(
                client,
                settings.raw_bucket,
                configs[name],
                rows=rows,
                seed=seed + offset,
                day=day,
                sse=settings.sse,
                kms_key_id=settings.kms_key_id,
                progress=lambda done, task=task: bar.update(task, completed=done),
            )
    return reports


def objects_table(bucket: str, reports: dict[str, SampleReport]) -> Table:
    table = Table(title=f"Objects written to the raw zone (s3://{bucket})", title_justify="left")
    for column, justify in (
        ("key", "left"),
        ("rows", "right"),
        ("bytes", "right"),
        ("encryption", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for report in reports.values():
        for obj in report.objects:
            table.add_row(obj.key, f"{obj.rows:,}", f"{obj.bytes:,}", obj.sse)
    return table


def sample(
    source: list[str] = typer.Option(
        ..., "--source", "-s", help="Source name (repeatable), e.g. signalements, consultation."
    ),
    rows: int = typer.Option(1000, "--rows", "-n", min=1, help="Submissions per source."),
    seed: int = typer.Option(42, "--seed", help="Same seed, same bytes."),
    day: datetime = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="Delivery date partition (default: today, UTC)."
    ),
) -> None:
    """Write realistic French civic submissions (about 1% malformed) to the encrypted raw zone."""
    settings = load_settings()
    reports = write_sources(settings, source, rows, seed, day.date() if day else today())
    console.print(objects_table(settings.raw_bucket, reports))
    for name, report in reports.items():
        malformed = ", ".join(f"{kind} {n}" for kind, n in sorted(report.malformed.items()))
        console.print(f"{name}: {rows:,} rows; malformed on purpose: {malformed or 'none'}")
