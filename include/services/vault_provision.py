"""What the vault holds for Airflow, and the least-privilege login Airflow reads it with.

Airflow's `VaultBackend` (apache-airflow-providers-hashicorp) looks a connection
up at `<mount>/<connections_path>/<conn_id>` in a KV version 2 engine; a secret
there holds the connection's fields (`conn_type`, `host`, `login`, `password`,
`extra`...), which the backend hands to Airflow as the connection's JSON form.

Airflow logs in with an AppRole whose policy reads connections and nothing else:
it cannot list them, write them, or touch any other path. The ledger's signer
logs in with another, which may sign with the ledger's transit key and read its
public keys, nothing else; the scrub stage with a third, which may compute HMACs
with the pseudonymization key and read its versions, nothing else. The root token
that provisions all this never reaches an Airflow process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import hvac

from include.anonymization.vault_pseudonyms import DEFAULT_TRANSIT_KEY as VAULT_PSEUDONYM_KEY
from include.audit.vault_transit_key import DEFAULT_TRANSIT_KEY
from include.core.connections import VAULT_CONN_TYPE, Connection
from include.core.vault_transit import DEFAULT_TRANSIT_MOUNT

KV_MOUNT = "airflow"
CONNECTIONS_PATH = "connections"
AIRFLOW_POLICY = "civic-airflow"
AIRFLOW_ROLE = "airflow"
# Read one named connection; no list, no write, nothing outside the connections path.
AIRFLOW_POLICY_HCL = f"""
path "{KV_MOUNT}/data/{CONNECTIONS_PATH}/*" {{
  capabilities = ["read"]
}}
"""
# The names the ledger's key reader defaults to: the connection may omit them.
TRANSIT_MOUNT = DEFAULT_TRANSIT_MOUNT
LEDGER_KEY = DEFAULT_TRANSIT_KEY
LEDGER_POLICY = "civic-ledger-signer"
LEDGER_ROLE = "ledger-signer"
# Sign with the ledger's key and read its public keys: no export, no rotation, no other key.
LEDGER_POLICY_HCL = f"""
path "{TRANSIT_MOUNT}/sign/{LEDGER_KEY}" {{
  capabilities = ["update"]
}}
path "{TRANSIT_MOUNT}/keys/{LEDGER_KEY}" {{
  capabilities = ["read"]
}}
"""
# The pseudonymization key (include/anonymization/vault_pseudonyms.py): compute HMACs with it
# and read its versions; no export, no rotation, no other key.
PSEUDONYM_KEY = VAULT_PSEUDONYM_KEY
PSEUDONYM_POLICY = "civic-pseudonymizer"
PSEUDONYM_ROLE = "pseudonymizer"
PSEUDONYM_POLICY_HCL = f"""
path "{TRANSIT_MOUNT}/hmac/{PSEUDONYM_KEY}/*" {{
  capabilities = ["update"]
}}
path "{TRANSIT_MOUNT}/keys/{PSEUDONYM_KEY}" {{
  capabilities = ["read"]
}}
"""
# An Airflow process logs in again when its token expires; a token lives an hour at most.
_LOGIN_LIFETIME = "1h"
BACKEND_CLASS = "airflow.providers.hashicorp.secrets.vault.VaultBackend"


@dataclass(frozen=True)
class AppRoleLogin:
    """The role id and secret id an Airflow process logs in with."""

    role_id: str
    secret_id: str = ""

    def __repr__(self) -> str:  # the secret id is a credential: never in a log line
        return f"AppRoleLogin(role_id={self.role_id!r}, secret_id=***)"


def provision(client: hvac.Client, connections: Mapping[str, Connection]) -> None:
    """Mount the KV engine and AppRole, write the Airflow policy and role, store `connections`.

    Idempotent: run at every `civic services up`, it rewrites the connections (a new
    password in the state reaches the vault) and leaves the rest as it is.
    """
    if f"{KV_MOUNT}/" not in client.sys.list_mounted_secrets_engines():
        client.sys.enable_secrets_engine("kv", path=KV_MOUNT, options={"version": "2"})
    _role_with_policy(client, AIRFLOW_ROLE, AIRFLOW_POLICY, AIRFLOW_POLICY_HCL)
    for conn_id, connection in connections.items():
        client.secrets.kv.v2.create_or_update_secret(
            path=f"{CONNECTIONS_PATH}/{conn_id}",
            secret=json.loads(connection.to_json()),
            mount_point=KV_MOUNT,
        )


def airflow_login(client: hvac.Client, known: AppRoleLogin | None) -> AppRoleLogin:
    """Airflow's AppRole login: `known` while it still logs in, else a new secret id."""
    return _login(client, AIRFLOW_ROLE, known)


def provision_ledger_signer(
    client: hvac.Client,
    known: AppRoleLogin | None,
    earlier_public_keys: Mapping[str, str] | None = None,
) -> Connection:
    """The transit engine, the ledger's Ed25519 key inside it (created once, never exported)
    and a login that may sign with it and read its public keys, nothing else; returns the
    `civic_audit_key` connection of type `vault` (`include/audit/vault_transit_key.py`),
    carrying `earlier_public_keys`: the keys that signed the ledger before the vault did."""
    login = _transit_key_user(
        client, LEDGER_KEY, "ed25519", LEDGER_ROLE, LEDGER_POLICY, LEDGER_POLICY_HCL, known
    )
    return _transit_connection(
        client, login, LEDGER_KEY, earlier_public_keys=dict(earlier_public_keys or {})
    )


def provision_pseudonymizer(client: hvac.Client, known: AppRoleLogin | None) -> Connection:
    """The pseudonymization key inside the transit engine (created once, never exported) and
    a login that may compute HMACs with it and read its versions, nothing else; returns the
    `civic_pseudonym_key` connection of type `vault` (vault_pseudonyms.py)."""
    login = _transit_key_user(
        client,
        PSEUDONYM_KEY,
        "aes256-gcm96",  # any type: transit keeps an HMAC key beside each named key
        PSEUDONYM_ROLE,
        PSEUDONYM_POLICY,
        PSEUDONYM_POLICY_HCL,
        known,
    )
    return _transit_connection(client, login, PSEUDONYM_KEY)


def _transit_key_user(
    client: hvac.Client,
    key: str,
    key_type: str,
    role: str,
    policy: str,
    rules: str,
    known: AppRoleLogin | None,
) -> AppRoleLogin:
    """The transit engine, its non-exportable key `key` (created once), and the AppRole
    login whose policy is `rules`."""
    if f"{TRANSIT_MOUNT}/" not in client.sys.list_mounted_secrets_engines():
        client.sys.enable_secrets_engine("transit", path=TRANSIT_MOUNT)
    try:
        client.secrets.transit.read_key(key, mount_point=TRANSIT_MOUNT)
    except hvac.exceptions.InvalidPath:
        client.secrets.transit.create_key(
            key, key_type=key_type, exportable=False, mount_point=TRANSIT_MOUNT
        )
    _role_with_policy(client, role, policy, rules)
    return _login(client, role, known)


def _transit_connection(
    client: hvac.Client, login: AppRoleLogin, key: str, **extra: object
) -> Connection:
    """A connection of type `vault` naming a transit key, with the login that may use it."""
    return Connection(
        VAULT_CONN_TYPE,
        host=client.url,
        login=login.role_id,
        password=login.secret_id,
        extra={"transit_key": key, "transit_mount": TRANSIT_MOUNT, **extra},
    )


def _role_with_policy(client: hvac.Client, role: str, policy: str, rules: str) -> None:
    """An AppRole whose tokens carry `policy` (its `rules`) alone and live an hour."""
    if "approle/" not in client.sys.list_auth_methods():
        client.sys.enable_auth_method("approle")
    client.sys.create_or_update_policy(policy, rules)
    client.auth.approle.create_or_update_approle(
        role, token_policies=[policy], token_ttl=_LOGIN_LIFETIME, token_max_ttl=_LOGIN_LIFETIME
    )


def _login(client: hvac.Client, role: str, known: AppRoleLogin | None) -> AppRoleLogin:
    role_id = client.auth.approle.read_role_id(role)["data"]["role_id"]
    if known is not None and known.role_id == role_id and _logs_in(client.url, known):
        return known
    secret_id = client.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    return AppRoleLogin(role_id, secret_id)


def _logs_in(url: str, login: AppRoleLogin) -> bool:
    try:
        hvac.Client(url=url, timeout=10).auth.approle.login(login.role_id, login.secret_id)
    except hvac.exceptions.VaultError:
        return False
    return True


def airflow_secrets_environment(url: str, login: AppRoleLogin) -> dict[str, str]:
    """The settings that make every Airflow component read connections from the vault."""
    kwargs = {
        "url": url,
        "auth_type": "approle",
        "role_id": login.role_id,
        "secret_id": login.secret_id,
        "mount_point": KV_MOUNT,
        "connections_path": CONNECTIONS_PATH,
        "variables_path": None,  # variables and config stay Airflow's own: no lookups
        "config_path": None,
        "kv_engine_version": 2,
    }
    return {
        "AIRFLOW__SECRETS__BACKEND": BACKEND_CLASS,
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(kwargs),
    }
