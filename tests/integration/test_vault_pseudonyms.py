"""Pseudonyms computed by the vault's transit engine (OpenBao started for real): the key never
leaves it, the scrub stage's login can do nothing else with it, and a rotation is visible
in the pseudonyms while older versions stay computable."""

from __future__ import annotations

import re

import hvac
import pytest

from include.anonymization.pseudonyms import (
    Pseudonymizer,
    PseudonymKeyError,
    pseudonymizer_from_connection,
)
from include.anonymization.vault_pseudonyms import BATCH_SIZE, VaultPseudonymizer
from include.core.connections import Connection
from include.services.vault_provision import PSEUDONYM_KEY, TRANSIT_MOUNT, provision_pseudonymizer
from include.services.vault_server import VaultServer
from include.validation.labels import PSEUDONYM_REGEX

pytestmark = pytest.mark.integration


@pytest.fixture
def root_and_connection(vault: VaultServer) -> tuple[hvac.Client, Connection]:
    keys = vault.start(None)
    root = vault.client(keys.root_token)
    return root, provision_pseudonymizer(root, None)


def test_pseudonyms_from_the_vault_behave_as_the_local_ones(
    root_and_connection: tuple[hvac.Client, Connection],
) -> None:
    _, connection = root_and_connection
    vault = pseudonymizer_from_connection(connection)
    assert isinstance(vault, VaultPseudonymizer)
    assert vault.key_id == "v1"
    assert connection.password not in repr(vault)

    values = ["Jean.Dupont@Mail.fr ", None, "jean.dupont@mail.fr", "  ", "paul@ville.fr"]
    made = vault.pseudonyms(values, "signalements", "email")
    assert made[1] is None
    assert made[3] is None
    assert made[0] == made[2] != made[4]  # one person across notations, another apart
    assert all(re.fullmatch(PSEUDONYM_REGEX, p) for p in made if p is not None)
    assert made[0] == vault.pseudonym("jean.dupont@mail.fr", "signalements", "email")
    # Domain-separated as the local ones are: another source, another pseudonym.
    assert vault.pseudonym("jean.dupont@mail.fr", "consultation", "email") != made[0]
    # The key is the vault's own: no local key of the same id gives the same pseudonyms.
    local = Pseudonymizer.from_secret("k" * 48, key_id="v1")
    assert local.pseudonym("jean.dupont@mail.fr", "signalements", "email") != made[0]


def test_a_chunk_larger_than_a_batch_keeps_its_order(
    root_and_connection: tuple[hvac.Client, Connection],
) -> None:
    vault = pseudonymizer_from_connection(root_and_connection[1])
    values = [f"personne{i}@ville.fr" if i % 7 else None for i in range(BATCH_SIZE * 2 + 5)]
    batched = vault.pseudonyms(values, "s", "email")
    assert len(batched) == len(values)
    for i in (1, BATCH_SIZE - 1, BATCH_SIZE + 1, 2 * BATCH_SIZE + 4):
        assert batched[i] == vault.pseudonym(values[i], "s", "email")
    assert [p is None for p in batched] == [v is None for v in values]
    assert len({p for p in batched if p}) == sum(v is not None for v in values)


def test_the_scrub_login_computes_hmacs_and_nothing_else(
    root_and_connection: tuple[hvac.Client, Connection],
) -> None:
    root, connection = root_and_connection
    login = hvac.Client(url=connection.host)
    login.auth.approle.login(connection.login, connection.password)
    transit = login.secrets.transit
    with pytest.raises(hvac.exceptions.Forbidden):
        transit.export_key(PSEUDONYM_KEY, "hmac-key", mount_point=TRANSIT_MOUNT)
    with pytest.raises(hvac.exceptions.Forbidden):
        transit.rotate_key(PSEUDONYM_KEY, mount_point=TRANSIT_MOUNT)
    root.secrets.transit.create_key("other", mount_point=TRANSIT_MOUNT)
    with pytest.raises(hvac.exceptions.Forbidden):
        transit.generate_hmac("other", "eA==", algorithm="sha2-256", mount_point=TRANSIT_MOUNT)
    with pytest.raises(hvac.exceptions.Forbidden):
        login.sys.list_mounted_secrets_engines()
    # Created once: provisioning again keeps the key (and the pseudonyms) it made.
    before = pseudonymizer_from_connection(connection).pseudonym("a@b.fr", "s", "email")
    again = provision_pseudonymizer(root, None)
    assert pseudonymizer_from_connection(again).pseudonym("a@b.fr", "s", "email") == before


def test_a_rotation_shows_in_the_pseudonyms_and_keeps_the_older_version_computable(
    root_and_connection: tuple[hvac.Client, Connection],
) -> None:
    root, connection = root_and_connection
    before = pseudonymizer_from_connection(connection).pseudonym("a@b.fr", "s", "email")
    root.secrets.transit.rotate_key(PSEUDONYM_KEY, mount_point=TRANSIT_MOUNT)

    rotated = pseudonymizer_from_connection(connection)
    assert isinstance(rotated, VaultPseudonymizer)
    after = rotated.pseudonym("a@b.fr", "s", "email")
    assert rotated.key_id == "v2"
    assert after is not None
    assert after.startswith("v2.")
    assert before is not None
    assert before.startswith("v1.")
    assert after.split(".")[1] != before.split(".")[1]
    # The earlier version is still in the vault: a person's earlier pseudonym is found.
    assert rotated.at_version(1).pseudonym("a@b.fr", "s", "email") == before


def test_a_connection_without_its_login_is_refused() -> None:
    with pytest.raises(PseudonymKeyError, match="needs host"):
        pseudonymizer_from_connection(Connection("vault", host="http://127.0.0.1:1"))
