"""The end-of-demo report: what each source's last run did, from the platform's own records.

Everything printed here is read back from where the pipeline recorded it (the
`pipeline.*` tables, the mirrored release's manifest, the audit ledger), not
from what the demo believes it asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from include.audit import load_key, verify
from include.core.connections import WAREHOUSE_CONN_ID, get_connection
from include.core.settings import Settings
from include.core.source_config import SourceConfig, load_all_sources
from include.publish.public_page import PAGE_NAME
from include.warehouse.platform_accounting import platform_accounting

IN_FLIGHT_SHOWN = 5  # objects named per source; the rest are counted


def _last_run(conn: psycopg.Connection, source: str) -> dict[str, Any] | None:
    cursor = conn.execute(
        "SELECT a.run_id, a.rows_read, a.rows_published, a.rows_suppressed, a.rows_quarantined, "
        "a.rows_duplicate, a.balanced, i.objects_read, i.objects_quarantined "
        "FROM pipeline.run_accounting a JOIN pipeline.ingest_runs i USING (source, run_id) "
        "WHERE a.source = %s ORDER BY a.checked_at DESC LIMIT 1",
        (source,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    names = [column.name for column in cursor.description or ()]
    return dict(zip(names, row, strict=True))


def _quarantine(conn: psycopg.Connection, source: str, run_id: str) -> str:
    rows = conn.execute(
        "SELECT reason, rows, objects FROM pipeline.quarantine "
        "WHERE source = %s AND run_id = %s ORDER BY rows DESC, reason",
        (source, run_id),
    ).fetchall()
    return ", ".join(
        f"{reason} {n}" + (f" ({objects} objects)" if objects else "")
        for reason, n, objects in rows
    )


def _release(exports_dir: Path, source: str) -> dict[str, Any] | None:
    manifest = exports_dir / source / "latest" / "manifest.json"
    return json.loads(manifest.read_text("utf-8")) if manifest.exists() else None


def _privacy(records: Mapping[str, Any]) -> str:
    text = f"k={records['k_achieved']} (required {records['k_required']})"
    if records["l_required"] > 1:
        text += (
            f", {records['l_kind']} l={records['l_achieved']} (required {records['l_required']})"
        )
    return text


def print_platform_accounting(
    dsn: str, configs: Mapping[str, SourceConfig], console: Console
) -> bool:
    """Every row each source ever received, and where it is now; False if one does not add up.

    Objects in flight (claimed by a run that has not loaded and been accounted for) are
    named: the next run of the source takes them over."""
    ok = True
    for config in configs.values():
        accounting = platform_accounting(dsn, config)
        colour = "green" if accounting.balanced else "red"
        console.print(f"[{colour}]{accounting.summary()}[/]", soft_wrap=True)
        ok &= accounting.balanced
        for item in accounting.in_flight[:IN_FLIGHT_SHOWN]:
            rows = "not read yet" if item.rows is None else f"{item.rows:,} rows"
            where = f"s3://{item.bucket}/{item.key}"
            console.print(f"  in flight: {where} ({rows}; run {item.run_id}, {item.run_status})")
        hidden = len(accounting.in_flight) - IN_FLIGHT_SHOWN
        if hidden > 0:
            console.print(f"  in flight: {hidden} more objects")
    return ok


def print_summary(
    settings: Settings, environ: Mapping[str, str], sources: list[str], console: Console
) -> bool:
    """Print the per-source table, releases and ledger state; False if anything is off."""
    dsn = get_connection(WAREHOUSE_CONN_ID, environ).postgres_dsn()
    ok = True
    table = Table(title="Rows per stage (last run of each source)", title_justify="left")
    for column in (
        "source",
        "read",
        "quarantined",
        "duplicates",
        "suppressed (k/l)",
        "published",
        "balanced",
    ):
        table.add_column(column, justify="left" if column == "source" else "right")
    notes: list[str] = []
    with psycopg.connect(dsn) as conn:
        for source in sources:
            run = _last_run(conn, source)
            if run is None:
                table.add_row(source, "-", "-", "-", "-", "-", "[red]no run[/]")
                ok = False
                continue
            ok &= bool(run["balanced"])
            table.add_row(
                source,
                f"{run['rows_read']:,}",
                f"{run['rows_quarantined']:,}",
                f"{run['rows_duplicate']:,}",
                f"{run['rows_suppressed']:,}",
                f"{run['rows_published']:,}",
                "[green]yes[/]" if run["balanced"] else "[red]NO[/]",
            )
            reasons = _quarantine(conn, source, run["run_id"]) or "none"
            notes.append(f"{source}: quarantine reasons: {reasons}")
    console.print(table)
    for note in notes:
        console.print(note)
    console.print("Every row received to date (all runs):")
    configs = load_all_sources()
    ok &= print_platform_accounting(dsn, {name: configs[name] for name in sources}, console)
    for source in sources:
        manifest = _release(settings.exports_dir, source)
        if manifest is None:
            console.print(
                f"[red]{source}: no release under {settings.exports_dir / source / 'latest'}[/]"
            )
            ok = False
            continue
        records = [t for t in manifest["tables"] if t["kind"] == "records"]
        aggregates = [t for t in manifest["tables"] if t["kind"] == "aggregate"]
        privacy = _privacy(records[0]) if records else "no record-level file"
        cells = sum(t["cells"] for t in aggregates)
        hidden = sum(t["cells_suppressed"] for t in aggregates)
        console.print(
            f"[bold]{source}[/] release {manifest['release_id']}: {privacy}; "
            f"aggregates {hidden}/{cells} cells suppressed\n"
            f"  public: s3://{settings.public_bucket}/{source}/releases/{manifest['release_id']}/\n"
            f"  local:  {settings.exports_dir / source / 'latest'}/\n"
            f"  page:   {(settings.exports_dir / source / 'latest' / PAGE_NAME).resolve().as_uri()}"
        )
    result = verify(dsn, load_key(environ))
    if result.intact:
        console.print(f"audit ledger: [green]intact[/], {result.count} entries, head {result.head}")
    else:
        console.print(f"audit ledger: [red]BROKEN[/] at {result.problem}")
        ok = False
    return ok
