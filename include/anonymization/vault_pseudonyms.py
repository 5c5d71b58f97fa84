"""Keyed pseudonyms whose key never leaves the vault: HMACs computed by its transit engine.

With the `civic_pseudonym_key` connection of type `vault`, the scrub stage sends the
normalized, domain-separated values (`pseudonym_message`) to the transit engine's
`hmac` endpoint in batches and formats the answers exactly as the local
`Pseudonymizer` does: `<key id>.<128 bits, base32>`, the key id being `v<version>`
of the transit key. The key is generated inside the vault and is not exportable; the
login's policy may compute HMACs with it and read its versions, nothing else
(include/services/vault_provision.py).

Connection fields: host = the vault's URL; login = an AppRole role id, password = its
secret id; extra.transit_key (default `civic-pseudonym`), extra.transit_mount
(default `transit`).

Rotation: `bao write -f transit/keys/civic-pseudonym/rotate` makes version n+1; the
next run's pseudonyms carry `v<n+1>` and are unrelated to earlier ones, so distinct
counts across the rotation restart (as with a local key). The older versions stay in
the vault: `VaultPseudonymizer.at_version(n)` still computes a value's earlier
pseudonym, which is what lets an operator find a person's records made before the
rotation (an access or erasure request) while they are retained, without any key ever
being exported. Trimming versions (`min_decryption_version`) ends that.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import hvac

from include.anonymization.pseudonyms import (
    PseudonymKeyError,
    format_pseudonym,
    pseudonym_message,
)
from include.core.connections import Connection
from include.core.vault_transit import DEFAULT_TRANSIT_MOUNT, TransitKeyError, read_transit_key

DEFAULT_TRANSIT_KEY = "civic-pseudonym"
# Values per request: OpenBao refuses a JSON body of more than 1,000 strings by default
# (`max_request_json_strings`), and each value is two ("input" and itself).
BATCH_SIZE = 400
_HMAC_PREFIX = "vault:v"


@dataclass(frozen=True)
class VaultPseudonymizer:
    """Pseudonyms from one version of a transit key (the latest when built from a connection)."""

    client: hvac.Client = field(repr=False)
    transit_key: str
    version: int
    mount: str = DEFAULT_TRANSIT_MOUNT

    @property
    def key_id(self) -> str:
        return f"v{self.version}"

    @classmethod
    def from_connection(cls, conn: Connection) -> VaultPseudonymizer:
        try:
            key = read_transit_key(
                conn, DEFAULT_TRANSIT_KEY, "a vault civic_pseudonym_key connection"
            )
        except TransitKeyError as exc:
            raise PseudonymKeyError(str(exc)) from None
        return cls(key.client, key.name, int(key.description["latest_version"]), key.mount)

    def at_version(self, version: int) -> VaultPseudonymizer:
        """The same key at an earlier version (still in the vault): earlier pseudonyms."""
        return replace(self, version=version)

    def pseudonym(self, value: str | None, scope: str, kind: str = "text") -> str | None:
        return self.pseudonyms([value], scope, kind)[0]

    def pseudonyms(
        self, values: Sequence[str | None], scope: str, kind: str = "text"
    ) -> list[str | None]:
        """One pseudonym per value (None for a missing or blank one), in order."""
        pending = [
            (i, message)
            for i, message in enumerate(pseudonym_message(v, scope, kind) for v in values)
            if message is not None
        ]
        result: list[str | None] = [None] * len(values)
        for start in range(0, len(pending), BATCH_SIZE):
            batch = pending[start : start + BATCH_SIZE]
            macs = self._hmacs([message for _, message in batch])
            for (i, _), mac in zip(batch, macs, strict=True):
                result[i] = format_pseudonym(self.key_id, mac)
        return result

    def _hmacs(self, messages: list[bytes]) -> list[bytes]:
        """HMAC-SHA256 of each message under this version, computed by the vault."""
        response = self.client.adapter.post(
            f"/v1/{self.mount}/hmac/{self.transit_key}/sha2-256",
            json={
                "key_version": self.version,
                "batch_input": [{"input": base64.b64encode(m).decode()} for m in messages],
            },
        )
        results = response["data"]["batch_results"]
        prefix = f"{_HMAC_PREFIX}{self.version}:"
        macs = []
        for item in results:
            if item.get("error") or not str(item.get("hmac", "")).startswith(prefix):
                raise PseudonymKeyError(
                    f"the vault's transit key {self.transit_key} v{self.version} refused an "
                    f"HMAC: {item.get('error') or item.get('hmac', '')[:12]}"
                )
            macs.append(base64.b64decode(item["hmac"].removeprefix(prefix)))
        if len(macs) != len(messages):
            raise PseudonymKeyError(
                f"the vault answered {len(macs)} HMACs for {len(messages)} values"
            )
        return macs
