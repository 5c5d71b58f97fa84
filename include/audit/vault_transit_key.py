"""A ledger signing key that never leaves the vault: Ed25519 signatures made by its transit engine.

With the `civic_audit_key` connection of type `vault`, the ledger's entries are
signed by Vault's or OpenBao's transit engine (`transit/sign/<key>`); the private
key is generated inside the vault and cannot be exported. Verification needs only
the public key, which the transit engine hands out (`transit/keys/<key>`), and an
entry signed this way is an ordinary Ed25519 signature: `civic audit verify` and an
outside auditor check it exactly as one signed with a local seed.

Connection fields: host = the vault's URL; login = an AppRole role id and password
= its secret id, whose policy allows `update` on `transit/sign/<key>` and `read`
on `transit/keys/<key>`; extra.transit_key = the key's name (default
`civic-ledger`), extra.transit_mount (default `transit`), and
extra.earlier_public_keys (`{key_id: Ed25519 public key, base64url}`): the keys
that signed the ledger before it moved into the vault, to verify those entries.

Rotation: `bao write -f transit/keys/<key>/rotate` makes a new version. Each
version is a key of its own in the ledger (`<key>.v<n>`): new entries are signed
with the latest, older entries keep verifying with the public key of the version
that signed them (`verifying_keys`, which `keyring` asks every key for).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, ClassVar

import hvac

from include.audit.errors import AuditKeyError
from include.audit.keys import ED25519, Algorithm, AuditKey, Ed25519Key
from include.core.connections import Connection
from include.core.vault_transit import DEFAULT_TRANSIT_MOUNT, TransitKeyError, read_transit_key

DEFAULT_TRANSIT_KEY = "civic-ledger"
_VAULT_SIGNATURE_PREFIX = "vault:v"


def key_id_of(transit_key: str, version: int) -> str:
    """The ledger's name for one version of a transit key."""
    return f"{transit_key}.v{version}"


@dataclass(frozen=True)
class VaultTransitKey(AuditKey):
    """The latest version of an Ed25519 transit key: the vault signs, public keys verify."""

    key_id: str
    client: hvac.Client = field(repr=False)
    transit_key: str
    version: int
    public: Ed25519Key = field(repr=False)
    older: tuple[Ed25519Key, ...] = field(default=(), repr=False)
    mount: str = DEFAULT_TRANSIT_MOUNT
    algorithm: ClassVar[Algorithm] = ED25519

    @property
    def can_sign(self) -> bool:
        return True

    def sign(self, message: bytes) -> str:
        response = self.client.secrets.transit.sign_data(
            self.transit_key,
            base64.b64encode(message).decode(),
            key_version=self.version,
            mount_point=self.mount,
        )
        signature: str = response["data"]["signature"]  # "vault:v<version>:<base64>"
        prefix = f"{_VAULT_SIGNATURE_PREFIX}{self.version}:"
        if not signature.startswith(prefix):
            raise AuditKeyError(f"the vault signed with another key version: {signature[:12]}…")
        return base64.b64decode(signature.removeprefix(prefix)).hex()

    def verify(self, message: bytes, signature: str) -> bool:
        return self.public.verify(message, signature)

    def verifying_keys(self) -> list[AuditKey]:
        """Every version's public key: entries signed before a rotation keep verifying."""
        return [*self.older, self]

    def public_key(self) -> Ed25519Key:
        """The latest version's public key: what checks what this key signs now."""
        return self.public


def signing_key(conn: Connection) -> VaultTransitKey:
    """The latest version of the connection's transit key, with the older versions' public keys."""
    try:
        key = read_transit_key(conn, DEFAULT_TRANSIT_KEY, "a vault audit key connection")
    except TransitKeyError as exc:
        raise AuditKeyError(str(exc)) from None
    client, transit_key, mount, data = key.client, key.name, key.mount, key.description
    if data.get("type") != ED25519:
        raise AuditKeyError(f"transit key {transit_key} is {data.get('type')!r}, not ed25519")
    versions = sorted(int(version) for version in data["keys"])
    publics = [_public(transit_key, version, data["keys"]) for version in versions]
    earlier = [
        Ed25519Key.from_public(key_id, public)
        for key_id, public in dict(conn.extra.get("earlier_public_keys", {})).items()
    ]
    return VaultTransitKey(
        publics[-1].key_id,
        client,
        transit_key,
        versions[-1],
        publics[-1],
        (*earlier, *publics[:-1]),
        mount,
    )


def _public(transit_key: str, version: int, keys: dict[str, Any]) -> Ed25519Key:
    raw = base64.b64decode(keys[str(version)]["public_key"])
    b64url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return Ed25519Key.from_public(key_id_of(transit_key, version), b64url)
