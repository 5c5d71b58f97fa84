"""The project's Airflow: its environment, its metadata migration, its long-running services.

Airflow reads all of its configuration from `AIRFLOW__*` variables written to
`.local/env`, so the same settings serve `make up`, `make demo` and any shell
that sources that file; no airflow.cfg is edited by hand.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from include.core.connections import AIRFLOW_METADATA_VAR, CONNECTION_PREFIX
from include.core.settings import PROJECT_DIR
from include.services.processes import ServiceError, read_pid, spawn, stop_pid_file, wait_until

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"


def airflow_environment(
    home: Path,
    metadata_url: str,
    api_port: int,
    secrets: Mapping[str, str],
    broker_url: str | None = None,
) -> dict[str, str]:
    """Every AIRFLOW__* setting the project needs, as environment variables.

    With a `broker_url`, tasks go through the CeleryExecutor (`celery_environment`);
    without, the LocalExecutor runs them beside the scheduler.
    """
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__FERNET_KEY": secrets["fernet_key"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        AIRFLOW_METADATA_VAR: metadata_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets["api_secret_key"],
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets["jwt_secret"],
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    if broker_url:
        env.update(celery_environment(broker_url, metadata_url))
    return env


def celery_environment(broker_url: str, metadata_url: str) -> dict[str, str]:
    """The CeleryExecutor: workloads through the broker, task results in the metadata DB.

    One task at a time per worker: a worker is sized to a core, and more cores (or
    hosts) mean more workers, so the DAGs never change with the machine.
    """
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        # Celery's database backend speaks SQLAlchemy: the metadata database's own URL.
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_url}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        # Not prefork: a prefork child is a daemonic process, and a daemonic process may not
        # start the scrubber's worker processes ("daemonic processes are not allowed to have
        # children"); nor threads: Airflow's task supervisor sets signal handlers, which only
        # the main thread may. "solo" runs the one workload at a time in the worker's own
        # main thread, which is what a concurrency of 1 asks anyway.
        "AIRFLOW__CELERY__POOL": "solo",
        # A workload the broker hands out is redelivered if not acknowledged within this
        # time: longer than the longest task (a 1M-row scrub chunk takes minutes).
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
    }


def write_admin_password(home: Path, password: str) -> None:
    """Pin the UI admin's password (the simple auth manager would otherwise invent one)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "passwords.json"
    path.write_text(json.dumps({ADMIN_USER: password}))
    path.chmod(0o600)


def airflow_bin() -> Path:
    return Path(sys.executable).with_name("airflow")


def migrate(env: Mapping[str, str]) -> None:
    """`airflow db migrate`, skipped when this Airflow version already migrated this database."""
    home = Path(env["AIRFLOW_HOME"])
    # The version from the package metadata: importing airflow here would configure it
    # for whatever AIRFLOW_HOME this process happens to have.
    version = importlib.metadata.version("apache-airflow")
    marker = home / f".migrated-{version}-{_digest(env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'])}"
    if marker.exists():
        return
    result = subprocess.run(
        [str(airflow_bin()), "db", "migrate"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise ServiceError(f"airflow db migrate failed:\n{tail}")
    marker.touch()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class AirflowServices:
    """The four long-running Airflow 3 components, each a detached process with a pid file,
    and with the CeleryExecutor `workers` Celery workers (`celery-worker-1`, …)."""

    run_dir: Path
    api_port: int
    workers: int = 0

    @property
    def components(self) -> tuple[str, ...]:
        return COMPONENTS + tuple(f"celery-worker-{n}" for n in range(1, self.workers + 1))

    def command(self, component: str) -> list[str]:
        """The argv that starts `component`."""
        if not component.startswith("celery-worker-"):
            return [str(airflow_bin()), component]
        number = int(component.rsplit("-", 1)[1])
        # Each worker its own Celery name; logs are read from the shared AIRFLOW_HOME, so
        # two workers on one host do not compete for the log-serving port. Each is pinned
        # to a core of its own, round robin (`taskset` sets it before the worker starts, so
        # every task process inherits it): the workers on this host then behave as one-core
        # hosts, and a scrub task sizes its processes to that core (`scrub_share`).
        cores = sorted(os.sched_getaffinity(0))
        return [
            "taskset", "--cpu-list", str(cores[(number - 1) % len(cores)]),
            str(airflow_bin()), "celery", "worker", "--concurrency", "1",
            "--celery-hostname", f"worker{number}@%h", "--skip-serve-logs",
        ]  # fmt: skip

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"airflow-{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.run_dir / f"airflow-{component}.log"

    def running(self) -> dict[str, int | None]:
        return {c: read_pid(self.pid_file(c)) for c in self.components}

    def health(self) -> dict[str, str]:
        """Airflow's own view, from /api/v2/monitor/health; empty if the API is down."""
        url = f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health"
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                body = json.load(resp)
        except (OSError, ValueError):
            return {}
        return {
            name: str(part.get("status")) for name, part in body.items() if isinstance(part, dict)
        }

    def start(
        self,
        env: Mapping[str, str],
        only: Sequence[str] | None = None,
        *,
        connections_in_environment: bool = True,
    ) -> None:
        """Start the components not running yet: all of them, or `only` those named (the
        scale benchmark's `dags test --use-executor` needs the API server alone, whose
        Execution API its task processes report to). With `connections_in_environment`
        False, no `AIRFLOW_CONN_*` reaches them, not even one this process inherited: their
        secrets backend is the only source of connections."""
        full_env = {**os.environ, **env}
        if not connections_in_environment:
            full_env = {k: v for k, v in full_env.items() if not k.startswith(CONNECTION_PREFIX)}
        for component in self.components if only is None else only:
            if read_pid(self.pid_file(component)) is None:
                spawn(
                    self.command(component),
                    pid_file=self.pid_file(component),
                    log_file=self.log_file(component),
                    env=full_env,
                    cwd=PROJECT_DIR,
                )
        wait_until(
            lambda: self.health().get("metadatabase") == "healthy",
            120,
            "Airflow API server",
            self.log_file("api-server"),
        )

    def stop(self) -> list[str]:
        """Stop every component, workers included, whatever the executor now configured."""
        started = {
            path.name.removeprefix("airflow-").removesuffix(".pid")
            for path in self.run_dir.glob("airflow-*.pid")
        }
        every = [*self.components, *sorted(started - set(self.components))]
        return [c for c in every if stop_pid_file(self.pid_file(c))]
