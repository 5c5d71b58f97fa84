"""Keyed pseudonyms for direct identifiers that must still be counted or de-duplicated.

A pseudonym is HMAC-SHA256(key, domain ‖ normalized value), truncated to 128
bits and base32-encoded, prefixed with the key's id: `k1.MFRGGZDFMZTWQ2LK…`.

Why each part:
- keyed (HMAC, not a plain hash): e-mails and phone numbers are a small,
  guessable space; without the key nobody can recompute or test a pseudonym;
- normalized first: "Jean.Dupont@Mail.fr " and "jean.dupont@mail.fr" are one
  respondent, as are "06 12 34 56 78" and "+33612345678";
- domain-separated by scope (the source name): the same person gets unrelated
  pseudonyms in two sources, so releases cannot be joined on them;
- the key id in the value: a rotated key yields visibly different pseudonyms,
  never silently colliding ones.

Key rotation: add a new key with a new id (`civic_pseudonym_key` connection:
password = key, extra `{"key_id": "k2"}`). Pseudonyms made under different keys
are not comparable, so de-duplication and distinct counts restart at the
rotation; the audit ledger records the key id in use, never the key.

With a `civic_pseudonym_key` connection of type `vault`, the key never leaves the
vault: its transit engine computes the HMACs (`vault_pseudonyms.py`), same message,
same format, key ids `v<version>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from include.core.connections import VAULT_CONN_TYPE, Connection

_MIN_KEY_BYTES = 32
PSEUDONYM_SUFFIX = "_pseudonym"


def pseudonym_column(field_name: str) -> str:
    """The curated column that stands in for a pseudonymized direct identifier."""
    return f"{field_name}{PSEUDONYM_SUFFIX}"


_KEY_ID = re.compile(r"^[a-z0-9]{1,8}$")


class PseudonymKeyError(ValueError):
    """The pseudonymization key is missing, too short or badly named."""


def normalize_email(value: str) -> str:
    return value.strip().lower()


def normalize_phone(value: str) -> str:
    """French numbers to E.164 digits: 06 12 34 56 78, +33 (0)6…, 0033 6… → 33612345678."""
    digits = re.sub(r"\(0\)", "", value)
    digits = re.sub(r"\D", "", digits)
    if digits.startswith("0033"):
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        digits = "33" + digits[1:]
    return digits


def normalize_text(value: str) -> str:
    """Names and free identifiers: case, accents and spacing do not make another person."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


NORMALIZERS = {"email": normalize_email, "phone": normalize_phone, "text": normalize_text}


class Pseudonyms(Protocol):
    """What the scrub stage needs of a pseudonymizer: the key id it records, and pseudonyms."""

    @property
    def key_id(self) -> str: ...

    def pseudonyms(
        self, values: Sequence[str | None], scope: str, kind: str = "text"
    ) -> list[str | None]: ...


def pseudonym_message(value: str | None, scope: str, kind: str) -> bytes | None:
    """What is HMAC'd for `value`: its normalized form, domain-separated by scope and kind;
    None for a missing or blank value (it gets no pseudonym)."""
    if value is None:
        return None
    normalized = NORMALIZERS[kind](value)
    if not normalized:
        return None
    return f"civic-pseudonym/v1\x1f{scope}\x1f{kind}\x1f{normalized}".encode()


def format_pseudonym(key_id: str, mac: bytes) -> str:
    """`<key id>.<first 128 bits of the HMAC, base32>`."""
    return f"{key_id}.{base64.b32encode(mac[:16]).decode().rstrip('=')}"


@dataclass(frozen=True)
class Pseudonymizer:
    """Turns identifiers into stable keyed pseudonyms; the key never appears in its repr."""

    key: bytes = field(repr=False)
    key_id: str = "k1"

    def __post_init__(self) -> None:
        if len(self.key) < _MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"the pseudonymization key must be at least {_MIN_KEY_BYTES} bytes "
                f"(got {len(self.key)}); generate one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`"
            )
        if not _KEY_ID.match(self.key_id):
            raise PseudonymKeyError(f"key id {self.key_id!r} must be 1-8 lower-case letters/digits")

    @classmethod
    def from_secret(cls, secret: str, key_id: str = "k1") -> Pseudonymizer:
        return cls(secret.encode("utf-8"), key_id)

    @classmethod
    def from_connection(cls, conn: Connection) -> Pseudonymizer:
        """From the `civic_pseudonym_key` connection: password = key, extra.key_id = its id."""
        if not conn.password:
            raise PseudonymKeyError("the civic_pseudonym_key connection has no password (the key)")
        return cls.from_secret(conn.password, str(conn.extra.get("key_id", "k1")))

    def pseudonym(self, value: str | None, scope: str, kind: str = "text") -> str | None:
        """The pseudonym of `value` within `scope` (a source name); None/blank stays None."""
        message = pseudonym_message(value, scope, kind)
        if message is None:
            return None
        return format_pseudonym(self.key_id, hmac.new(self.key, message, hashlib.sha256).digest())

    def pseudonyms(
        self, values: Sequence[str | None], scope: str, kind: str = "text"
    ) -> list[str | None]:
        return [self.pseudonym(value, scope, kind) for value in values]


def pseudonymizer_from_connection(conn: Connection) -> Pseudonyms:
    """The `civic_pseudonym_key` connection's pseudonymizer: the vault's transit engine for
    a connection of type `vault`, else the key in its password."""
    if conn.conn_type == VAULT_CONN_TYPE:
        from include.anonymization.vault_pseudonyms import VaultPseudonymizer

        return VaultPseudonymizer.from_connection(conn)
    return Pseudonymizer.from_connection(conn)
