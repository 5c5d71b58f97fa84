"""Shared console, error rendering and progress bars for the `civic` commands."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from include.anonymization.pii import ModelNotInstalledError
from include.audit import AuditError
from include.core.connections import ConnectionConfigError
from include.core.settings import SettingsError
from include.core.source_config import ConfigError
from include.services.processes import ServiceError
from include.superset.bundle import BundleError
from include.superset.client import SupersetError
from include.superset.sync import SyncError

# Piped output (CI logs, `| less`) is not cut at 80 columns: keys and paths stay whole.
console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

# Failures a user can act on from the message alone: printed as one line, exit 1.
KNOWN_ERRORS: tuple[type[Exception], ...] = (
    AuditError,
    ModelNotInstalledError,
    ConfigError,
    ConnectionConfigError,
    ServiceError,
    SettingsError,
    BundleError,
    SupersetError,
    SyncError,
)


def fail(message: str) -> None:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    )
