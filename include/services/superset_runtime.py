"""The project's Superset: its environment, its one-time set-up, its web server.

Superset runs from its own virtualenv (`.venv-superset`: its pins clash with
Airflow's), so the platform never imports it: it runs Superset's own commands
as subprocesses and talks to the server over HTTP. Its settings come from the
environment `civic services up` writes to `.local/env` (read by
superset/superset_config.py), so `make up` and a shell that sources that file
see the same Superset.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import subprocess
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from include.core.settings import PROJECT_DIR
from include.services.processes import (
    ServiceError,
    port_is_free,
    read_pid,
    spawn,
    stop_pid_file,
    wait_until,
)
from include.superset.assets import DATABASE_NAME

SUPERSET_VENV = PROJECT_DIR / ".venv-superset"
CONFIG_FILE = PROJECT_DIR / "superset" / "superset_config.py"
# Superset's security manager (roles, single sign-on), loaded by CONFIG_FILE.
SECURITY_FILE = PROJECT_DIR / "superset" / "civic_security.py"
ADMIN_USER = "admin"
METADATA_VAR = "CIVIC_SUPERSET_METADATA_URI"
SECRET_KEY_VAR = "SUPERSET_SECRET_KEY"  # noqa: S105 - a variable name, not a secret
HOME_VAR = "SUPERSET_HOME"
ANALYST_DATABASE_VAR = "CIVIC_SUPERSET_ANALYST_DATABASE"
START_TIMEOUT = 180.0

# Run by Superset's own interpreter, with the password in its environment rather than on
# its command line (where `ps` shows it to every local user). Unlike `superset fab
# create-admin`, which stops at "User already exists", it also brings an existing admin
# back to the platform's password, role and active state: the state file is the truth.
_ADMIN_SCRIPT = """
import os
from superset.app import create_app

app = create_app()
with app.app_context():
    from superset import security_manager as sm
    name = os.environ["CIVIC_SUPERSET_ADMIN_USER"]
    password = os.environ["CIVIC_SUPERSET_ADMIN_PASSWORD"]
    admin_role = sm.find_role(sm.auth_role_admin)
    user = sm.find_user(username=name)
    if user is None:
        if not sm.add_user(name, "Admin", "Civic", name + "@localhost", admin_role, password):
            raise SystemExit("could not create the Superset user " + name)
        print("created the Superset user", name)
    else:
        user.roles, user.active = [admin_role], True
        sm.update_user(user)
        sm.reset_password(user.id, password)
        print("reset the Superset user", name)
"""


def superset_environment(home: Path, metadata_uri: str, secret_key: str) -> dict[str, str]:
    """What Superset's processes need, as environment variables (see superset_config.py).

    No FLASK_APP: the `superset` command builds its own app and gunicorn is given it on
    the command line, while a FLASK_APP in .local/env would reach every Airflow process.
    """
    return {
        HOME_VAR: str(home),
        "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
        SECRET_KEY_VAR: secret_key,
        METADATA_VAR: metadata_uri,
        ANALYST_DATABASE_VAR: DATABASE_NAME,
    }


def superset_bin(tool: str = "superset") -> Path:
    path = SUPERSET_VENV / "bin" / tool
    if not path.exists():
        raise ServiceError(
            f"{path} is missing: Superset has its own virtualenv, built by `make setup` "
            "from superset/requirements.txt"
        )
    return path


def superset_version() -> str:
    """The installed apache-superset version, read from the other virtualenv's metadata."""
    site_packages = [str(p) for p in SUPERSET_VENV.glob("lib/python*/site-packages")]
    for dist in importlib.metadata.distributions(name="apache-superset", path=site_packages):
        return dist.version
    raise ServiceError(f"apache-superset is not installed in {SUPERSET_VENV}: run `make setup`")


def setup_marker(env: Mapping[str, str], admin_password: str) -> Path:
    """The file whose presence says this Superset version already set up this metadata
    database with this admin password and these role definitions (`superset init` builds
    the analysts' role from SECURITY_FILE); any change of the four runs the set-up again."""
    roles = hashlib.sha256(SECURITY_FILE.read_bytes()).hexdigest()
    digest = hashlib.sha256(
        "\n".join((env[METADATA_VAR], ADMIN_USER, admin_password, roles)).encode()
    ).hexdigest()[:12]
    return Path(env[HOME_VAR]) / f".set-up-{superset_version()}-{digest}"


def set_up(env: Mapping[str, str], admin_password: str, log_file: Path) -> bool:
    """`superset db upgrade`, `superset init` and the admin account, once.

    True if they ran; False when the marker says nothing changed since they last did: each
    step is a Superset process start-up, about 20 s together on 2 cores.
    """
    marker = setup_marker(env, admin_password)
    if marker.exists():
        return False
    marker.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    superset = str(superset_bin())
    _run_step("superset db upgrade", [superset, "db", "upgrade"], full_env, log_file)
    _run_step("superset init", [superset, "init"], full_env, log_file)
    _run_step(
        "the Superset admin account",
        [str(superset_bin("python")), "-c", _ADMIN_SCRIPT],
        {
            **full_env,
            "CIVIC_SUPERSET_ADMIN_USER": ADMIN_USER,
            "CIVIC_SUPERSET_ADMIN_PASSWORD": admin_password,
        },
        log_file,
    )
    marker.touch()
    return True


def _run_step(name: str, argv: Sequence[str], env: Mapping[str, str], log_file: Path) -> None:
    """Run one set-up command, its output appended to `log_file`; fail with its last lines."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        list(argv),
        env=dict(env),
        cwd=Path(env[HOME_VAR]),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    with log_file.open("a") as log:
        log.write(f"==> {name} (exit {result.returncode})\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-8:])
        raise ServiceError(f"{name} failed (exit {result.returncode}); see {log_file}:\n{tail}")


@dataclass(frozen=True)
class SupersetServer:
    """Superset's web server: gunicorn, one worker process with threads, on loopback.

    gunicorn rather than `superset run` (Flask's development server): it is Superset's
    production server, and costs nothing more here (measured on 2 cores: both healthy in
    about 8 s, about 310 MB resident, the same latency for 8 concurrent clients). One
    worker is enough for a handful of analysts, and keeps the in-process caches
    (superset_config.py) shared by every request.
    """

    run_dir: Path
    port: int
    host: str = "127.0.0.1"
    threads: int = 8

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "superset.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "superset.log"

    @property
    def setup_log_file(self) -> Path:
        return self.run_dir / "superset-setup.log"

    def running(self) -> int | None:
        return read_pid(self.pid_file)

    def healthy(self) -> bool:
        """Superset's own liveness answer: `GET /health` says "OK"."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=3) as resp:  # noqa: S310
                return resp.status == 200 and resp.read().strip() == b"OK"
        except OSError:
            return False

    def command(self) -> list[str]:
        return [
            str(superset_bin("gunicorn")),
            "--bind",
            f"{self.host}:{self.port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            # A chart query may take up to the analyst role's statement_timeout (60 s).
            "--timeout",
            "120",
            "--graceful-timeout",
            "10",
            # Dashboards' filter state travels in long URLs (Superset's own settings).
            "--limit-request-line",
            "0",
            "--limit-request-field_size",
            "0",
            # gunicorn 27 otherwise opens a control socket in ~/.gunicorn, shared by every
            # gunicorn of the user (a test session's and the demo's would collide).
            "--no-control-socket",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "superset.app:create_app()",
        ]

    def start(self, env: Mapping[str, str], timeout: float = START_TIMEOUT) -> None:
        """Start the server unless it runs, and wait until it answers `/health`."""
        if self.running() is None:
            Path(env[HOME_VAR]).mkdir(parents=True, exist_ok=True)
            if not port_is_free(self.port, self.host):
                raise ServiceError(
                    f"port {self.port} is taken by another program: Superset cannot listen "
                    f"there (stop that program, or pick another port in .local/state.json)"
                )
            spawn(
                self.command(),
                pid_file=self.pid_file,
                log_file=self.log_file,
                env={**os.environ, **env},
                cwd=Path(env[HOME_VAR]),
            )
        wait_until(self._ready, timeout, f"Superset on {self.url}", self.log_file)

    def _ready(self) -> bool:
        if self.running() is None:
            raise ServiceError(f"Superset's web server exited while starting; see {self.log_file}")
        return self.healthy()

    def stop(self) -> bool:
        """Stop the server's whole process group; True if it was running."""
        return stop_pid_file(self.pid_file)
