"""What the monitoring's daemons (the metrics exporter, Prometheus, Alertmanager) share.

`LoopbackDaemon`: one process per checkout on a loopback port, its pid and log files
in the run folder under its name. `CheckedConfigDaemon` adds what Prometheus and
Alertmanager (Debian's packages, one vendor's flags) share: one YAML configuration
that the vendor's own checker (promtool, amtool) must accept before it replaces the
live file, refused with the checker's message, and a restart on the new file.

Why one piece: the three were written as copies of each other, and a fix to one (a
time-out, the file mode of a configuration that holds a token) would otherwise have
to be made in each.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import requests

from include.services.processes import ServiceError, read_pid, spawn, stop_pid_file, wait_until

INSTALL_HINT = (
    "install Debian's prometheus and prometheus-alertmanager: `make monitoring` "
    "(apt-get, as root or with sudo)"
)
START_TIMEOUT = 30.0  # seconds a daemon has to answer after it is spawned


@dataclass(frozen=True, kw_only=True)
class LoopbackDaemon:
    """A daemon of the checkout on 127.0.0.1:`port`, its files `run_dir`/`name`.*.

    Keyword-only: the subclasses add fields of their own, and a positional call would
    silently put a path where a port goes if the order ever changed."""

    name: ClassVar[str]  # the stem of its files; `civic services` calls it so too
    url_path: ClassVar[str] = ""  # what `url` points at below the daemon's root

    run_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.url_path}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def running(self) -> int | None:
        return read_pid(self.pid_file)

    def _answers(self, path: str, *, containing: str | None = None, timeout: float = 2) -> bool:
        """GET `path` (below the daemon's root) answers 200, with `containing` in its body
        if given; unreachable is a no, not an error (status asks a stopped daemon too)."""
        try:
            response = requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=timeout)
        except requests.RequestException:
            return False
        return response.status_code == 200 and (containing is None or containing in response.text)

    def healthy(self) -> bool:
        return self._answers("/-/healthy")

    def stop(self) -> bool:
        return stop_pid_file(self.pid_file)


@dataclass(frozen=True, kw_only=True)
class CheckedConfigDaemon(LoopbackDaemon):
    """Prometheus or Alertmanager: `config_text()` goes live only once the vendor's
    checker accepts it; the data in `data_dir`."""

    title: ClassVar[str]  # as messages name it
    program: ClassVar[str]  # the daemon's executable
    checker: ClassVar[tuple[str, ...]]  # the checker and its sub-command; the file is appended
    private: ClassVar[bool] = False  # the file may hold a secret: mode 0600 from the start

    data_dir: Path

    @property
    def config_file(self) -> Path:
        return self.run_dir / f"{self.name}.yml"

    def config_text(self) -> str:
        raise NotImplementedError

    def executables(self) -> tuple[str, str]:
        """The daemon's and the checker's paths; either missing says how to install them."""
        binary, checker = shutil.which(self.program), shutil.which(self.checker[0])
        if binary is None or checker is None:
            raise ServiceError(f"monitoring needs {self.title}; {INSTALL_HINT}")
        return binary, checker

    def live_config(self) -> str | None:
        """The configuration it was last started with (None: never started here)."""
        return self.config_file.read_text() if self.config_file.exists() else None

    def checked_candidate(self, checker: str, text: str) -> Path:
        """`text` written beside the live file (as `<name>.yml.new`) and accepted by the
        checker; the caller then restarts on it or discards it. Refused: the candidate is
        removed, the checker's own message raised, and the live file is left as it was."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        candidate = self.config_file.with_suffix(self.config_file.suffix + ".new")
        if self.private:
            candidate.touch(mode=0o600)
            candidate.chmod(0o600)  # touch keeps the mode of a file an earlier attempt left
        candidate.write_text(text)
        result = subprocess.run(
            [checker, *self.checker[1:], str(candidate)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            candidate.unlink()
            message = "\n".join(
                part.strip() for part in (result.stdout, result.stderr) if part.strip()
            )
            raise ServiceError(
                f"{self.title}'s configuration is refused by {self.checker[0]}:\n{message}"
            )
        return candidate

    def restart_on(
        self, binary: str, candidate: Path, flags: Sequence[str], ready: Callable[[], bool]
    ) -> None:
        """Stop it, make `candidate` the live file, start `binary` with the family's common
        flags and its own `flags`, and wait until `ready`."""
        self.stop()
        candidate.replace(self.config_file)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        spawn(
            [
                binary,
                f"--config.file={self.config_file}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--web.external-url={self.url}",
                *flags,
            ],
            pid_file=self.pid_file,
            log_file=self.log_file,
        )
        wait_until(ready, START_TIMEOUT, self.title, self.log_file)
