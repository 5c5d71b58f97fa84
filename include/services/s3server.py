"""The local S3 API server: moto's server on loopback.

MinIO cannot be installed from the registries these machines reach, so the
embedded default is moto's S3 server. It keeps objects in memory: stopping it
empties the zones (the README says so; point the platform at MinIO or AWS S3
for durable storage). The platform only speaks the S3 API to it.
"""

from __future__ import annotations

import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from include.services.processes import read_pid, spawn, stop_pid_file, wait_until


@dataclass(frozen=True)
class S3Server:
    port: int
    run_dir: Path
    host: str = "127.0.0.1"

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "s3.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "s3.log"

    def is_running(self) -> bool:
        if read_pid(self.pid_file) is None:
            return False
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):  # noqa: S310
                return True
        except OSError:
            return False

    def start(self) -> None:
        if self.is_running():
            return
        moto = Path(sys.executable).with_name("moto_server")
        spawn(
            [str(moto), "-H", self.host, "-p", str(self.port)],
            pid_file=self.pid_file,
            log_file=self.log_file,
        )
        wait_until(self.is_running, 30, "S3 server (moto)", self.log_file)

    def stop(self) -> bool:
        return stop_pid_file(self.pid_file)
