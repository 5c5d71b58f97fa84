"""Keyed pseudonyms: stable, normalized, scoped, keyed, never leaking the key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.anonymization.pseudonyms import (
    Pseudonymizer,
    PseudonymKeyError,
    normalize_phone,
    normalize_text,
    pseudonymizer_from_connection,
)
from include.core.connections import Connection

KEY = "k" * 48


@pytest.fixture
def pz() -> Pseudonymizer:
    return Pseudonymizer.from_secret(KEY)


def test_same_person_same_pseudonym_across_notations(pz: Pseudonymizer) -> None:
    a = pz.pseudonym("Jean.Dupont@Mail.fr ", "consultation", "email")
    assert a == pz.pseudonym("jean.dupont@mail.fr", "consultation", "email")
    assert a is not None
    assert a.startswith("k1.")
    assert len(a) == 3 + 26
    phones = [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "0612345678",
    ]
    assert len({pz.pseudonym(p, "signalements", "phone") for p in phones}) == 1
    assert pz.pseudonym("Hélène  MARTIN", "s", "text") == pz.pseudonym("helene martin", "s", "text")


def test_scope_key_and_kind_separate(pz: Pseudonymizer) -> None:
    base = pz.pseudonym("a@b.fr", "consultation", "email")
    assert base != pz.pseudonym("a@b.fr", "signalements", "email")
    assert base != pz.pseudonym("a@b.fr", "consultation", "text")
    rotated = Pseudonymizer.from_secret("z" * 48, key_id="k2").pseudonym(
        "a@b.fr", "consultation", "email"
    )
    assert rotated is not None
    assert rotated.startswith("k2.")
    assert rotated[3:] != base[3:]


def test_blank_stays_missing(pz: Pseudonymizer) -> None:
    assert pz.pseudonym(None, "s") is None
    assert pz.pseudonym("   ", "s", "email") is None


def test_key_rules() -> None:
    with pytest.raises(PseudonymKeyError, match="at least 32 bytes"):
        Pseudonymizer.from_secret("short")
    with pytest.raises(PseudonymKeyError, match="key id"):
        Pseudonymizer.from_secret(KEY, key_id="Not Valid")
    assert KEY not in repr(Pseudonymizer.from_secret(KEY))


def test_normalize_phone() -> None:
    assert normalize_phone("+33 (0)1 23 45 67 89") == "33123456789"
    assert normalize_phone("01-23-45-67-89") == "33123456789"


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_pseudonyms_equal_exactly_when_normalized_values_are(a: str, b: str) -> None:
    pz = Pseudonymizer.from_secret(KEY)
    pa, pb = pz.pseudonym(a, "s"), pz.pseudonym(b, "s")
    if pa is None or pb is None:
        assert not normalize_text(a) or not normalize_text(b)
    else:
        assert (pa == pb) == (normalize_text(a) == normalize_text(b))


def test_from_connection() -> None:
    conn = Connection("generic", password=KEY, extra={"key_id": "k7"})
    value = Pseudonymizer.from_connection(conn).pseudonym("x@y.fr", "s", "email")
    assert value is not None
    assert value.startswith("k7.")
    with pytest.raises(PseudonymKeyError, match="no password"):
        Pseudonymizer.from_connection(Connection("generic"))


def test_a_key_connection_gives_the_local_pseudonymizer_unless_it_names_a_vault() -> None:
    conn = Connection("generic", password=KEY, extra={"key_id": "k2"})
    local = pseudonymizer_from_connection(conn)
    assert isinstance(local, Pseudonymizer)
    assert local.key_id == "k2"
    values = ["a@b.fr", None, " ", "A@B.fr"]
    assert local.pseudonyms(values, "s", "email") == [
        local.pseudonym(value, "s", "email") for value in values
    ]
    # A vault connection is never read as a local key: without its login it is refused.
    with pytest.raises(PseudonymKeyError, match="vault"):
        pseudonymizer_from_connection(Connection("vault", password=KEY))
