"""Debian's redis-server as the Celery executor's broker, one per checkout.

Why a broker of its own: Airflow's CeleryExecutor hands task workloads to Celery
workers through a message broker; Redis is the one Airflow's own compose file
uses. It listens on the loopback only, asks for a password (written to its
config file, mode 0600, never on a command line that `ps` shows) and keeps
nothing on disk: a queued workload that a restart loses is queued again by the
scheduler, which owns the task states.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis

from include.services.processes import (
    ServiceError,
    read_pid,
    spawn,
    stop_pid_file,
    wait_until,
)

INSTALL_HINT = "install Debian's redis-server: `make redis` (apt-get, as root or with sudo)"


@dataclass(frozen=True)
class RedisServer:
    run_dir: Path
    port: int
    password: str

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "redis.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "redis.log"

    @property
    def url(self) -> str:
        """The broker URL Celery reads (database 0)."""
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/0"

    def is_running(self) -> bool:
        return read_pid(self.pid_file) is not None

    def responds(self) -> bool:
        try:
            with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        if self.is_running() and self.responds():
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError(f"the Celery executor needs a Redis broker; {INSTALL_HINT}")
        data_dir = self.run_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / "redis.conf"
        config.touch(mode=0o600)
        config.chmod(0o600)
        config.write_text(
            "\n".join(
                [
                    f"port {self.port}",
                    "bind 127.0.0.1",
                    "protected-mode yes",
                    f'requirepass "{self.password}"',
                    'save ""',
                    "appendonly no",
                    f"dir {data_dir}",
                    "daemonize no",
                    "",
                ]
            )
        )
        spawn([binary, str(config)], pid_file=self.pid_file, log_file=self.log_file)
        wait_until(self.responds, 30, "Redis broker", self.log_file)

    def stop(self) -> bool:
        return stop_pid_file(self.pid_file)
