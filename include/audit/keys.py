"""Signing keys for the ledger: Ed25519 (default) or HMAC-SHA256, from an Airflow connection.

The key lives in the `civic_audit_key` connection (an `AIRFLOW_CONN_CIVIC_AUDIT_KEY`
variable or a secrets backend), never in the database: whoever can write the
database but not read the key can change rows, but cannot make them verify.

Connection fields:
- password: the key material. Ed25519: the 32-byte private seed, base64url.
  HMAC: a secret of at least 32 bytes.
- extra.key_id: the key's name, recorded in every entry (default `a1`).
- extra.algorithm: `ed25519` (default) or `hmac-sha256`.
- extra.public_key (Ed25519 only, with no password): a verify-only key, for an
  auditor who must be able to check the ledger but never write a valid entry.
  `civic audit public-key` prints this connection.
A connection of type `vault` names an Ed25519 key that the vault's transit engine
holds and signs with instead (`vault_transit_key`).

Why Ed25519 by default: verification needs only the public key, so the ledger can
be checked by people who could not forge it. HMAC verifies several times faster
(on a busy 2-core machine: about 25,000 entries/s against 4,000 for Ed25519), but
every verifier then holds the signing secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from include.audit.errors import AuditKeyError
from include.core.connections import VAULT_CONN_TYPE, Connection, get_connection

AUDIT_KEY_CONN_ID = "civic_audit_key"  # password = key material, extra = key_id, algorithm

Algorithm = Literal["ed25519", "hmac-sha256"]
ED25519: Algorithm = "ed25519"
HMAC_SHA256: Algorithm = "hmac-sha256"
DEFAULT_KEY_ID = "a1"

_MIN_HMAC_BYTES = 32
_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


class AuditKey(ABC):
    """A named key that signs ledger entries (if it holds the secret part) and checks them."""

    key_id: str
    algorithm: ClassVar[Algorithm]

    @property
    @abstractmethod
    def can_sign(self) -> bool: ...

    @abstractmethod
    def sign(self, message: bytes) -> str:
        """The signature of `message`, hex-encoded."""

    @abstractmethod
    def verify(self, message: bytes, signature: str) -> bool:
        """True if `signature` (hex) is this key's signature of `message`."""

    def verifying_keys(self) -> list[AuditKey]:
        """The keys that check entries its holder meets: itself; a vault's key, every version."""
        return [self]

    def public_key(self) -> Ed25519Key | None:
        """The verify-only key anyone may hold to check this key's signatures (the public
        audit log publishes it), or None when verifying needs the secret (HMAC)."""
        return None


def _check_key_id(key_id: str) -> None:
    if not _KEY_ID.match(key_id):
        raise AuditKeyError(
            f"audit key id {key_id!r} must be 1-32 characters: lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )


def _hex_bytes(signature: str) -> bytes | None:
    try:
        return bytes.fromhex(signature)
    except ValueError:
        return None


@dataclass(frozen=True)
class HmacKey(AuditKey):
    """HMAC-SHA256 with a shared secret; the secret never appears in repr or logs."""

    key_id: str
    secret: bytes = field(repr=False)
    algorithm: ClassVar[Algorithm] = HMAC_SHA256

    def __post_init__(self) -> None:
        _check_key_id(self.key_id)
        if len(self.secret) < _MIN_HMAC_BYTES:
            raise AuditKeyError(
                f"the HMAC audit key '{self.key_id}' must be at least {_MIN_HMAC_BYTES} bytes "
                f"(got {len(self.secret)}); generate one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`"
            )

    @property
    def can_sign(self) -> bool:
        return True

    def sign(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message), signature)


@dataclass(frozen=True)
class Ed25519Key(AuditKey):
    """Ed25519: the private key signs, the public key alone verifies."""

    key_id: str
    public: Ed25519PublicKey = field(repr=False)
    private: Ed25519PrivateKey | None = field(default=None, repr=False)
    algorithm: ClassVar[Algorithm] = ED25519

    def __post_init__(self) -> None:
        _check_key_id(self.key_id)

    @classmethod
    def from_seed(cls, key_id: str, seed_b64: str) -> Ed25519Key:
        private = Ed25519PrivateKey.from_private_bytes(_decode_32(seed_b64, key_id, "private seed"))
        return cls(key_id, private.public_key(), private)

    @classmethod
    def from_public(cls, key_id: str, public_b64: str) -> Ed25519Key:
        return cls(
            key_id, Ed25519PublicKey.from_public_bytes(_decode_32(public_b64, key_id, "public key"))
        )

    @property
    def can_sign(self) -> bool:
        return self.private is not None

    def public_b64(self) -> str:
        return base64.urlsafe_b64encode(self.public_raw()).decode().rstrip("=")

    def public_raw(self) -> bytes:
        """The 32 bytes of the public key (RFC 8032 encoding)."""
        return self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def public_key(self) -> Ed25519Key:
        return Ed25519Key(self.key_id, self.public)

    def sign(self, message: bytes) -> str:
        if self.private is None:
            raise AuditKeyError(
                f"audit key '{self.key_id}' is verify-only (a public key): it cannot sign; "
                f"give the private seed as the {AUDIT_KEY_CONN_ID} connection's password"
            )
        return self.private.sign(message).hex()

    def verify(self, message: bytes, signature: str) -> bool:
        raw = _hex_bytes(signature)
        if raw is None:
            return False
        try:
            self.public.verify(raw, message)
        except InvalidSignature:
            return False
        return True


def _decode_32(text: str, key_id: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise AuditKeyError(
            f"the Ed25519 {what} of audit key '{key_id}' must be 32 bytes in base64url "
            f"(43 characters); generate a key with `python -c 'from include.audit.keys import "
            "generate_secret; print(generate_secret())'`"
        )
    return raw


def generate_secret(algorithm: Algorithm = ED25519) -> str:
    """Fresh key material in the form the connection's password takes."""
    if algorithm == ED25519:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return secrets.token_urlsafe(48)


def audit_key_connection(
    secret: str, key_id: str = DEFAULT_KEY_ID, algorithm: Algorithm = ED25519
) -> Connection:
    """The `civic_audit_key` connection holding `secret` (validated before it is returned)."""
    conn = Connection("generic", password=secret, extra={"key_id": key_id, "algorithm": algorithm})
    key_from_connection(conn)
    return conn


def verify_only_connection(key: Ed25519Key) -> Connection:
    """A connection that lets its holder verify the ledger but not sign entries."""
    return Connection(
        "generic",
        extra={"key_id": key.key_id, "algorithm": ED25519, "public_key": key.public_b64()},
    )


def key_from_connection(conn: Connection) -> AuditKey:
    if conn.conn_type == VAULT_CONN_TYPE:
        from include.audit.vault_transit_key import signing_key  # hvac: only for this form

        return signing_key(conn)
    extra = conn.extra
    key_id = str(extra.get("key_id", DEFAULT_KEY_ID))
    algorithm = str(extra.get("algorithm", ED25519))
    if algorithm == HMAC_SHA256:
        if not conn.password:
            raise AuditKeyError(
                f"the {AUDIT_KEY_CONN_ID} connection has no password (the HMAC secret)"
            )
        return HmacKey(key_id, conn.password.encode("utf-8"))
    if algorithm == ED25519:
        if conn.password:
            return Ed25519Key.from_seed(key_id, conn.password)
        if extra.get("public_key"):
            return Ed25519Key.from_public(key_id, str(extra["public_key"]))
        raise AuditKeyError(
            f"the {AUDIT_KEY_CONN_ID} connection has neither a password (the Ed25519 private "
            "seed) nor extra.public_key (a verify-only key)"
        )
    raise AuditKeyError(
        f"the {AUDIT_KEY_CONN_ID} connection names algorithm {algorithm!r}; "
        f"use {ED25519!r} or {HMAC_SHA256!r}"
    )


def load_key(environ: Mapping[str, str] | None = None) -> AuditKey:
    """The key of the `civic_audit_key` connection in `environ` (default: os.environ)."""
    return key_from_connection(get_connection(AUDIT_KEY_CONN_ID, environ))


def keyring(keys: AuditKey | Iterable[AuditKey]) -> dict[str, AuditKey]:
    """Keys by id, for verifying a ledger signed under several (rotated) keys."""
    ring: dict[str, AuditKey] = {}
    given = [keys] if isinstance(keys, AuditKey) else keys
    for key in (verifying for one in given for verifying in one.verifying_keys()):
        if key.key_id in ring:
            raise AuditKeyError(f"two verifying keys share the id '{key.key_id}'")
        ring[key.key_id] = key
    return ring
