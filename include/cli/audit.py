"""`civic audit verify | show | public-key | verify-release | risk`: the ledger, and releases
checked by the public and seen by an attacker.

Exit codes of `verify`, for scripts and monitoring: 0 intact, 1 broken (the first
broken entry is named), 2 could not check (no connection, no key, no ledger).
`verify-release` reads a release's public files only, from a folder or over HTTP(S) (no
connection, no credentials): exit 0 when its files, its signed checkpoint of the ledger
and its proofs all verify, 1 when one does not (each failed check is named), 2 when it
is not a release or something could not be checked.
`risk` reads a published release folder only (no connection): exit 0 when every
record file keeps its k over declared and inferred quasi-identifiers, 1 otherwise,
2 when the folder is not a release.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import typer
from rich.markup import escape
from rich.table import Table

from include.audit import (
    AUDIT_KEY_CONN_ID,
    Anchor,
    AuditError,
    AuditKey,
    Ed25519Key,
    Entry,
    last_entries,
    load_key,
    verify,
)
from include.audit.keys import verify_only_connection
from include.cli.output import console, fail
from include.core.connections import (
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    ConnectionConfigError,
    env_var,
    get_connection,
    s3_client,
)
from include.core.settings import load_settings
from include.publish.manifest import MANIFEST_NAME
from include.services.stack import LocalPlatform

if TYPE_CHECKING:  # pandas and the risk measures load only for `civic audit risk`
    import pandas as pd

    from include.anonymization.attacker_view import AttackerView

audit_app = typer.Typer(
    help="Verify and inspect the tamper-evident audit ledger.", no_args_is_help=True
)

EXIT_BROKEN = 1
EXIT_UNCHECKED = 2


def _environment() -> dict[str, str]:
    """The platform's connections (.local/env and the user's overrides); an audit key set in
    the environment wins, so an auditor can bring their own verify-only key."""
    environ = LocalPlatform(load_settings()).process_env()
    key_var = env_var(AUDIT_KEY_CONN_ID)
    if os.environ.get(key_var):
        environ[key_var] = os.environ[key_var]
    return environ


def _warehouse_and_key() -> tuple[str, AuditKey]:
    environ = _environment()
    return get_connection(WAREHOUSE_CONN_ID, environ).postgres_dsn(), load_key(environ)


@contextmanager
def _unchecked_on_error() -> Iterator[None]:
    """Failures to reach or read the ledger: one red line, exit 2, never a traceback."""
    try:
        yield
    except (AuditError, ConnectionConfigError, psycopg.Error) as exc:
        fail(" ".join(str(exc).split()))
        raise typer.Exit(EXIT_UNCHECKED) from None


def _release_anchor(dsn: str, environ: dict[str, str]) -> tuple[Anchor, str] | None:
    """The newest ledger head a release recorded, over every source, and where it was read.

    Read from the public bucket when it answers, else from the local mirror."""
    from botocore.exceptions import BotoCoreError, ClientError

    from include.dag_helpers import source_names
    from include.publish.ledger_checkpoint import LedgerCheckpointError, newest_release_anchor

    settings = load_settings()
    try:
        client = s3_client(get_connection(S3_CONN_ID, environ))
        client.head_bucket(Bucket=settings.public_bucket)
    except (BotoCoreError, ClientError, ConnectionConfigError) as exc:
        console.print(f"[yellow]public bucket unreachable ({exc}); using the local mirror[/]")
        client = None
    try:
        return newest_release_anchor(
            client, settings.public_bucket, settings.exports_dir, dsn, source_names()
        )
    except (LedgerCheckpointError, ValueError) as exc:
        fail(" ".join(str(exc).split()))
        raise typer.Exit(EXIT_UNCHECKED) from None


def _parse_anchor(text: str | None) -> Anchor | None:
    if text is None:
        return None
    try:
        return Anchor.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@audit_app.command("verify")
def verify_command(
    anchor: str | None = typer.Option(
        None,
        "--anchor",
        metavar="SEQ:HASH",
        help="An entry recorded outside the database (e.g. the head printed by an earlier "
        "verify): it must still be there, unchanged. Catches entries cut from the end, which "
        "the chain alone cannot. Default: the newest head a release manifest recorded.",
    ),
    releases: bool = typer.Option(
        True,
        "--releases/--no-releases",
        help="Without --anchor, check the newest ledger head the releases' manifests recorded "
        "(public bucket, else the local mirror). --no-releases: the chain alone, e.g. for a "
        "ledger copied elsewhere.",
    ),
) -> None:
    """Recompute the hash chain and every signature, and check the head the newest release
    recorded is still there (or the --anchor given). Exit 0 if intact (prints the head),
    1 naming the first broken entry, 2 if the ledger could not be checked."""
    expected = _parse_anchor(anchor)
    with _unchecked_on_error():
        environ = _environment()
        dsn, key = get_connection(WAREHOUSE_CONN_ID, environ).postgres_dsn(), load_key(environ)
        if expected is None and releases:
            released = _release_anchor(dsn, environ)
            if released is not None:
                expected = released[0]
                console.print(f"checked against head {released[0]}, recorded in {released[1]}")
        result = verify(dsn, key, anchor=expected)
    if result.problem is None:
        head = f"head {result.head}" if result.head else "empty ledger"
        console.print(f"[green]ledger intact[/]: {result.count:,} entries; {head}")
        return
    console.print(
        f"[bold red]ledger BROKEN at entry {result.problem.seq}[/] "
        f"({escape(str(result.problem.kind))}): {escape(result.problem.detail)}",
        soft_wrap=True,
    )
    before = (
        "1 entry before it verifies"
        if result.count == 1
        else f"{result.count:,} entries before it verify"
    )
    console.print(f"{before} (last good: {result.head or 'none'})")
    raise typer.Exit(EXIT_BROKEN)


def entries_table(entries: list[Entry]) -> Table:
    table = Table(title="Audit ledger", title_justify="left")
    for column, justify in (
        ("seq", "right"),
        ("recorded at (UTC)", "left"),
        ("dag", "left"),
        ("run", "left"),
        ("step", "left"),
        ("key", "left"),
        ("hash", "left"),
        ("payload", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for entry in entries:
        table.add_row(
            str(entry.seq),
            entry.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            escape(entry.dag_id or "-"),
            escape(entry.run_id),
            escape(entry.step),
            escape(entry.key_id),
            entry.entry_hash[:16],
            escape(entry.payload_json[:120] + ("…" if len(entry.payload_json) > 120 else "")),
        )
    return table


@audit_app.command()
def show(
    last: int = typer.Option(10, "--last", "-n", min=1, help="How many of the newest entries."),
    run: str | None = typer.Option(None, "--run", help="Only the entries of this run id."),
) -> None:
    """List the newest entries, oldest first (read only; run `verify` to trust them)."""
    with _unchecked_on_error():
        dsn = get_connection(WAREHOUSE_CONN_ID, _environment()).postgres_dsn()
        entries = last_entries(dsn, last, run)
    if not entries:
        console.print("no entries" + (f" for run {escape(run)}" if run else ""))
        return
    console.print(entries_table(entries))


@audit_app.command("public-key")
def public_key() -> None:
    """Print a verify-only `civic_audit_key` connection for auditors (Ed25519 keys only):
    with it they can check the ledger but never write an entry that verifies; and the key's
    fingerprint, which every release's checkpoint states, for the platform to publish."""
    from include.audit.public_log import fingerprint, note_verifier_key

    with _unchecked_on_error():
        key = load_key(_environment())
    if not isinstance(key, Ed25519Key):
        fail(
            f"audit key '{key.key_id}' is {key.algorithm}: it has no public part, so every "
            "verifier needs the secret itself; use an ed25519 key to hand out verify-only keys"
        )
        raise typer.Exit(EXIT_UNCHECKED)
    # What releases state of the key (ledger_checkpoint.json), for the platform to publish
    # so that citizens can compare: `civic audit verify-release --public-key` reads this.
    typer.echo(f"# sha256 fingerprint: {fingerprint(key)}")
    typer.echo(f"# signed-note verifier key: {note_verifier_key(key)}")
    typer.echo(f"# {env_var(AUDIT_KEY_CONN_ID)} for verifiers (key {key.key_id}):")
    typer.echo(verify_only_connection(key).to_json())


def _public_keys(values: list[str]) -> list[Ed25519Key]:
    """Each --public-key: a file holding a key, or the key itself (hex, base64url, PEM...)."""
    from include.audit.public_log import parse_public_key

    keys = []
    for index, value in enumerate(values):
        path = Path(value)
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else value
            keys.append(parse_public_key(text, f"given-{index + 1}"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise typer.BadParameter(f"{value!r}: {exc}", param_hint="--public-key") from None
    return keys


_VERDICT_STYLE = {"ok": "green", "FAILED": "bold red", "unchecked": "yellow", "note": "cyan"}


@audit_app.command("verify-release")
def verify_release_command(
    release: str = typer.Argument(
        ...,
        metavar="RELEASE",
        help="A release folder (holding manifest.json; e.g. exports/<source>/latest) or its "
        "URL in the public bucket (https://…/<source>/releases/<release id>/).",
    ),
    public_key: list[str] | None = typer.Option(
        None,
        "--public-key",
        metavar="KEY",
        help="The ledger's Ed25519 public key, obtained from the platform rather than from "
        "the release: a file or the key itself (64 hex digits, base64url, PEM, a signed-note "
        "verifier key, or what `civic audit public-key` prints). Repeat it for rotated keys. "
        "Default: the key the release carries (weaker: whoever rewrites the release can "
        "replace it).",
    ),
    previous: str | None = typer.Option(
        None,
        "--previous",
        metavar="RELEASE",
        help="The previous release (folder or URL), to read its checkpoint from itself. "
        "Default: the release beside this one (../<release id>/) if there, else the copy this "
        "release carries (weaker).",
    ),
) -> None:
    """Check a published release from its public files alone: every file's SHA-256, the
    signed checkpoint of the audit ledger, each entry's inclusion proof and the consistency
    proof from the previous release's checkpoint. Exit 0 verified, 1 tampered (each failed
    check named), 2 not a release or not checkable."""
    from include.publish.public_verification import (
        ReleaseUnreadableError,
        release_location,
        verify_public_release,
    )

    keys = _public_keys(public_key or [])
    try:
        report = verify_public_release(
            release_location(release),
            keys,
            None if previous is None else release_location(previous),
        )
    except (ReleaseUnreadableError, ValueError) as exc:
        fail(" ".join(str(exc).split()))
        raise typer.Exit(EXIT_UNCHECKED) from None
    console.print(f"release {escape(report.release_id)} ({escape(report.where)})")
    for finding in report.findings:
        style = _VERDICT_STYLE[str(finding.verdict)]
        console.print(
            f"  [{style}]{finding.verdict}[/] {escape(finding.check)}: {escape(finding.detail)}",
            soft_wrap=True,
        )
    if report.exit_code == 0:
        console.print("[green]verified[/]: files, checkpoint signature and proofs all check")
    elif report.exit_code == EXIT_BROKEN:
        names = ", ".join(dict.fromkeys(f.check for f in report.failed))
        console.print(f"[bold red]TAMPERED[/]: {len(report.failed)} check(s) failed ({names})")
    else:
        console.print("[yellow]not fully checked[/]: see the unchecked lines above")
    raise typer.Exit(report.exit_code)


def _record_files(release: Path, table: dict) -> list[Path]:
    """A record table's Parquet files to date: this release's and, checked against the
    size and SHA-256 the manifest lists, the earlier releases' batches beside it."""
    from include.audit.checksums import checksum_file
    from include.publish.manifest import ManifestEntry

    parquet = next((f for f in table.get("files", []) if f.endswith(".parquet")), None)
    if parquet is None:
        fail(f"{release}: table {table.get('name')!r} lists no Parquet file")
        raise typer.Exit(EXIT_UNCHECKED)
    paths = [release / parquet]
    for batch in table.get("earlier_batches", []):
        for item in batch["files"]:
            if not str(item["path"]).endswith(".parquet"):
                continue
            path = release / str(item["path"])
            entry = ManifestEntry(str(item["path"]), int(item["bytes"]), str(item["sha256"]))
            problem = (
                f"{path} is missing" if not path.is_file() else entry.mismatch(checksum_file(path))
            )
            if problem:
                fail(
                    f"{release}: an earlier batch of {table.get('name')!r} cannot be read as "
                    f"published: {problem}; fetch release {batch['release_id']} beside it"
                )
                raise typer.Exit(EXIT_UNCHECKED)
            paths.append(path)
    return paths


def _record_tables(release: Path) -> list[tuple[str, pd.DataFrame, dict]]:
    """(name, rows to date, manifest table entry) of each record-level table of a release
    folder: its own batch and the earlier batches it lists, read as an attacker holding
    every release would read them together."""
    import pandas as pd

    manifest_path = release / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{release} is not a release folder: cannot read {MANIFEST_NAME} ({exc})")
        raise typer.Exit(EXIT_UNCHECKED) from exc
    tables = []
    for table in manifest.get("tables", []):
        if table.get("kind") != "records":
            continue
        batches = []
        for path in _record_files(release, table):
            try:
                batches.append(pd.read_parquet(path))
            except (OSError, ValueError) as exc:
                shown = path.relative_to(release) if path.parent == release else path
                fail(f"{release}: cannot read {shown} ({exc}); check it with `civic audit verify`")
                raise typer.Exit(EXIT_UNCHECKED) from exc
        tables.append((str(table["name"]), pd.concat(batches, ignore_index=True), table))
    return tables


def _risk_table(name: str, view: AttackerView, k_required: int) -> Table:
    table = Table(title=f"{name}: what an attacker can do with the published records")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("declared quasi-identifiers", ", ".join(view.declared) or "—")
    for inferred in view.inferred:
        table.add_row(f"inferred: {escape(inferred.column)}", escape(inferred.reason))
    table.add_row("k over declared", str(view.k_declared))
    verdict = "ok" if (view.k_with_inferred or k_required) >= k_required else "BELOW"
    table.add_row(
        f"k over declared + inferred (required {k_required})", f"{view.k_with_inferred} {verdict}"
    )
    table.add_row(f"classes below k={k_required}", str(view.classes_below.get(k_required, 0)))
    uniques = view.sample_uniques
    table.add_row(
        "records unique on ≤ 3 columns",
        f"{uniques.unique_records:,} / {uniques.records:,} ({uniques.share:.1%})",
    )
    for columns, count in uniques.worst:
        table.add_row(f"  unique on {' × '.join(columns)}", f"{count:,}")
    return table


@audit_app.command("risk")
def risk(
    release: Path = typer.Argument(..., help="A release folder (holds manifest.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Measure a release's record files as an attacker would: from the files, not the config;
    every record to date (the release's own batch and the earlier ones it lists, beside it)."""
    from include.anonymization.attacker_view import attacker_view

    results = {}
    below = []
    for name, records, entry in _record_tables(release):
        k_required = int(entry.get("k_required") or 1)
        view = attacker_view(
            records,
            declared=[str(q) for q in entry.get("quasi_identifiers", [])],
            excluded=[str(f) for f in entry.get("scrubbed_free_text_fields", [])],
            k_thresholds=(k_required,),
        )
        results[name] = {"k_required": k_required, "records": len(records), **view.as_dict()}
        if view.k_with_inferred is not None and view.k_with_inferred < k_required:
            below.append(name)
        if not as_json:
            console.print(_risk_table(name, view, k_required))
    if as_json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
    elif not results:
        console.print(f"{release}: no record-level file, only aggregates: nobody to single out")
    if below:
        raise typer.Exit(EXIT_BROKEN)
