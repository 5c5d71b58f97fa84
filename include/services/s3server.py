"""The local S3 API server: moto's S3 API on loopback, its state kept in a sealed snapshot.

MinIO cannot be installed from the registries these machines reach, so the
embedded default is moto's S3 server, which keeps objects in memory. The
platform runs it through its own launcher (`s3_persistent_server`), which
restores the zones from `.local/s3/state` at start and saves them there after
changes and on stop, encrypted with a key from the platform's private state.
This module is the platform's side of it: start, stop, what the snapshot holds;
it never imports moto, so `civic services status` stays quick.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from include.core.settings import PROJECT_DIR
from include.services.processes import (
    ServiceError,
    read_pid,
    spawn,
    stop_pid_file,
    wait_until,
)
from include.services.sealed_file import SealedFileError, read_header

# The environment variable that hands the snapshot key to the server process.
SNAPSHOT_KEY_VAR = "CIVIC_S3_SNAPSHOT_KEY"
# `civic services down` waits this long for the last save before it kills the server.
STOP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot's plaintext header says about it."""

    saved_at: datetime
    buckets: int
    objects: int
    body_bytes: int
    file_bytes: int

    @classmethod
    def from_header(cls, header: dict[str, Any], file_bytes: int) -> SnapshotInfo:
        try:
            return cls(
                datetime.fromisoformat(header["saved_at"]),
                int(header["buckets"]),
                int(header["objects"]),
                int(header["body_bytes"]),
                file_bytes,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SealedFileError(f"snapshot header lacks {exc}") from None


Outcome = Literal["fresh", "restored", "refused", "set-aside"]


@dataclass(frozen=True)
class RestoreReport:
    """What the server found at start-up (written by it to `.local/s3/restore.json`)."""

    started_at: str
    outcome: Outcome
    saved_at: str | None = None
    objects: int | None = None
    problem: str | None = None
    set_aside_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self, snapshot: Path) -> str:
        if self.outcome == "restored":
            return f"restored {self.objects:,} objects from {snapshot} (saved {self.saved_at})"
        if self.outcome == "set-aside":
            return (
                f"the snapshot could not be restored ({self.problem}); moved to "
                f"{self.set_aside_to}, started with no buckets"
            )
        if self.outcome == "refused":
            return f"the snapshot {snapshot} could not be restored ({self.problem})"
        return f"no snapshot at {snapshot}: started with no buckets"

    def refusal(self, snapshot: Path) -> str:
        return (
            f"cannot restore the S3 snapshot {snapshot} ({self.problem}); the S3 server did not "
            "start and the file is kept. Put back the state.json (key) or the file it was "
            "saved with and run `civic services up` again, or run `civic services up --force` "
            "to move the file aside and start with empty zones"
        )


@dataclass(frozen=True)
class S3Server:
    port: int
    run_dir: Path
    data_dir: Path
    snapshot_key: str = field(repr=False)
    host: str = "127.0.0.1"
    save_interval_s: float = 2.0

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "s3.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "s3.log"

    @property
    def snapshot_path(self) -> Path:
        return self.data_dir / "state"

    @property
    def report_path(self) -> Path:
        return self.data_dir / "restore.json"

    def is_running(self) -> bool:
        if read_pid(self.pid_file) is None:
            return False
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):  # noqa: S310
                return True
        except OSError:
            return False

    def start(self, *, set_aside_unreadable: bool = False) -> RestoreReport | None:
        """Start the server unless it runs; what it restored, or None if it was running.

        Raises ServiceError with the server's own one-line reason if it exits at
        start-up (e.g. a snapshot it cannot restore).
        """
        if self.is_running():
            return None
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.report_path.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "include.services.s3_persistent_server",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--snapshot",
            str(self.snapshot_path),
            "--report",
            str(self.report_path),
            "--save-interval",
            str(self.save_interval_s),
        ]
        if set_aside_unreadable:
            argv.append("--set-aside-unreadable")
        spawn(
            argv,
            pid_file=self.pid_file,
            log_file=self.log_file,
            env={**os.environ, SNAPSHOT_KEY_VAR: self.snapshot_key},
            cwd=PROJECT_DIR,  # `-m include…` then runs this checkout's code
        )
        wait_until(self._ready, 60, "S3 server (moto)", self.log_file)
        return self.restore_report()

    def _ready(self) -> bool:
        if read_pid(self.pid_file) is None:
            raise ServiceError(f"S3 server exited at start-up: {self._last_log_line()}")
        return self.is_running()

    def _last_log_line(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        last = lines[-1] if lines else "no output"
        return f"{last.partition(' error: ')[2] or last} (log: {self.log_file})"

    def restore_report(self) -> RestoreReport | None:
        try:
            return RestoreReport(**json.loads(self.report_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def snapshot_info(self) -> SnapshotInfo | None:
        """The last save as the snapshot's header records it; None if nothing was saved."""
        if not self.snapshot_path.exists():
            return None
        return SnapshotInfo.from_header(
            read_header(self.snapshot_path), self.snapshot_path.stat().st_size
        )

    def persistence(self) -> str:
        """One line for `civic services status`: where the zones are kept, when last saved."""
        try:
            info = self.snapshot_info()
        except SealedFileError as exc:
            return f"moto, persisted to {self.snapshot_path} (unreadable: {exc})"
        saved = f"saved {info.saved_at:%Y-%m-%d %H:%M:%S} UTC" if info else "nothing saved yet"
        return f"moto, persisted to {self.snapshot_path} ({saved})"

    def stop(self) -> bool:
        """SIGTERM, then wait for the server's last save (up to STOP_TIMEOUT_S)."""
        return stop_pid_file(self.pid_file, timeout=STOP_TIMEOUT_S)
