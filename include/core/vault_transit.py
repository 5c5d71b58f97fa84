"""A key held by a vault's transit engine, reached through a connection of type `vault`.

The ledger's signing key (audit/vault_transit_key.py) and the pseudonymization key
(anonymization/vault_pseudonyms.py) are both such keys: the connection carries the
vault's URL (host), an AppRole login (login = role id, password = secret id) whose
policy allows what that key is used for, and optionally extra.transit_key and
extra.transit_mount. This module logs in and reads the key's description once;
each caller turns a failure into its own error type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import hvac

from include.core.connections import Connection

DEFAULT_TRANSIT_MOUNT = "transit"


class TransitKeyError(ValueError):
    """The connection cannot reach its transit key; the message says why."""


@dataclass(frozen=True)
class TransitKey:
    """A logged-in client and the key's description (`transit/keys/<name>`: type, versions)."""

    client: hvac.Client = field(repr=False)
    name: str
    mount: str
    description: dict[str, Any] = field(repr=False)


def read_transit_key(conn: Connection, default_key: str, what: str) -> TransitKey:
    """Log in with the connection's AppRole and read its transit key (`what` names the
    connection in errors, e.g. "a vault audit key connection")."""
    if not (conn.host and conn.login and conn.password):
        raise TransitKeyError(
            f"{what} needs host (the vault's URL), login (an AppRole role id) and password "
            "(its secret id)"
        )
    client = hvac.Client(url=conn.host, timeout=30)
    name = str(conn.extra.get("transit_key", default_key))
    mount = str(conn.extra.get("transit_mount", DEFAULT_TRANSIT_MOUNT))
    try:
        client.auth.approle.login(conn.login, conn.password)
        description = client.secrets.transit.read_key(name, mount_point=mount)["data"]
    except hvac.exceptions.VaultError as exc:
        raise TransitKeyError(f"the vault at {conn.host}: transit key {name}: {exc}") from None
    return TransitKey(client, name, mount, description)
