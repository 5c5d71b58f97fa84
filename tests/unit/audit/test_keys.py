"""Signing keys: both algorithms, verify-only keys, and keys read from connections."""

from __future__ import annotations

import pytest

from include.audit.errors import AuditKeyError
from include.audit.keys import (
    AUDIT_KEY_CONN_ID,
    ED25519,
    HMAC_SHA256,
    AuditKey,
    Ed25519Key,
    HmacKey,
    audit_key_connection,
    generate_secret,
    key_from_connection,
    keyring,
    load_key,
    verify_only_connection,
)
from include.core.connections import Connection, env_var

MESSAGE = b"civic-audit-ledger/v1/signature\x00" + bytes(32)


@pytest.fixture(params=[ED25519, HMAC_SHA256])
def key(request: pytest.FixtureRequest) -> AuditKey:
    return key_from_connection(
        audit_key_connection(generate_secret(request.param), "k7", request.param)
    )


def test_signs_and_verifies(key: AuditKey) -> None:
    signature = key.sign(MESSAGE)
    assert key.verify(MESSAGE, signature)
    assert not key.verify(MESSAGE + b"!", signature)
    assert not key.verify(MESSAGE, "00" * (len(signature) // 2))
    assert not key.verify(MESSAGE, "not hex")


def test_another_key_of_the_same_kind_does_not_verify(key: AuditKey) -> None:
    other = key_from_connection(
        audit_key_connection(generate_secret(key.algorithm), "k7", key.algorithm)
    )
    assert not other.verify(MESSAGE, key.sign(MESSAGE))


def test_key_material_never_in_repr(key: AuditKey) -> None:
    conn = audit_key_connection(secret := generate_secret(key.algorithm), "k7", key.algorithm)
    assert secret not in repr(key_from_connection(conn))
    assert secret not in repr(conn)


def test_verify_only_key_verifies_but_cannot_sign() -> None:
    signer = Ed25519Key.from_seed("a1", generate_secret(ED25519))
    auditor = key_from_connection(verify_only_connection(signer))
    assert not auditor.can_sign
    assert auditor.verify(MESSAGE, signer.sign(MESSAGE))
    with pytest.raises(AuditKeyError, match="verify-only"):
        auditor.sign(MESSAGE)


def test_ed25519_signatures_are_deterministic() -> None:
    seed = generate_secret(ED25519)
    assert Ed25519Key.from_seed("a1", seed).sign(MESSAGE) == Ed25519Key.from_seed("a1", seed).sign(
        MESSAGE
    )


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        (Connection("generic", password="short", extra={"algorithm": HMAC_SHA256}), "at least 32"),
        (Connection("generic", extra={"algorithm": HMAC_SHA256}), "no password"),
        (Connection("generic", password="Zm9v", extra={"algorithm": ED25519}), "must be 32 bytes"),
        (Connection("generic", password="!!!", extra={"algorithm": ED25519}), "must be 32 bytes"),
        (Connection("generic"), "neither a password"),
        (Connection("generic", password="x" * 40, extra={"algorithm": "rsa"}), "'rsa'"),
        (
            Connection(
                "generic", password="x" * 40, extra={"key_id": "K 1", "algorithm": HMAC_SHA256}
            ),
            "key id",
        ),
    ],
)
def test_bad_connections_say_what_is_wrong(conn: Connection, message: str) -> None:
    with pytest.raises(AuditKeyError, match=message):
        key_from_connection(conn)


def test_load_key_reads_the_connection_from_the_environment() -> None:
    secret = generate_secret(ED25519)
    environ = {env_var(AUDIT_KEY_CONN_ID): audit_key_connection(secret, "b2").to_json()}
    loaded = load_key(environ)
    assert (loaded.key_id, loaded.algorithm) == ("b2", ED25519)
    assert loaded.verify(MESSAGE, Ed25519Key.from_seed("b2", secret).sign(MESSAGE))


def test_keyring_refuses_duplicate_ids() -> None:
    one, two = (HmacKey("a1", generate_secret(HMAC_SHA256).encode()) for _ in range(2))
    assert set(keyring([one, HmacKey("a2", two.secret)])) == {"a1", "a2"}
    with pytest.raises(AuditKeyError, match="share the id 'a1'"):
        keyring([one, two])
