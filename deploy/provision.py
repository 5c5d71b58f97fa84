"""Provision the compose stack's PostgreSQL and S3 server: the `airflow-init` service runs this.

`civic services up` provisions the embedded PostgreSQL and S3 server of one checkout
(include/services/stack.py); in docker-compose.airflow.yml those servers are services of
their own, given to the platform as connections in the environment, and `civic services up`
leaves the databases and roles of such a PostgreSQL to its operator. This script is that
operator's step, made of the same calls `civic services up` makes, in the same order:

1. one login role owning one database for each consumer: Airflow's and Superset's metadata
   (from their SQLAlchemy URIs), Keycloak's, and the warehouse (from `civic_warehouse`);
2. the audit ledger, every source's tables, the analysts' read-only role (its password from
   `civic_warehouse_readonly`), as `LocalPlatform._provision_warehouse` does;
3. the zone buckets with default encryption (`ensure_buckets`, as `civic services up` does).

Unlike `civic services up`, which writes the embedded Airflow's admin password file, this
makes no Airflow account: the compose stack's Airflow signs people in through Keycloak.

Every value comes from the environment the compose file gives the service; nothing is
generated here, so a rerun changes nothing but re-keys roles whose password the env changed.
Airflow's own `airflow db migrate` runs after it (see the compose file).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from include.audit import provision_audit
from include.core.connections import (
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
    WAREHOUSE_READONLY_CONN_ID,
    Connection,
    get_connection,
    s3_client,
)
from include.core.settings import load_settings
from include.core.source_config import load_all_sources
from include.core.zones import ensure_buckets
from include.services.provision import (
    ANALYST_ROLE,
    DatabaseGrant,
    ensure_analyst_role,
    ensure_database,
)
from include.services.stack import METADATA_VAR, SUPERSET_METADATA_VAR
from include.warehouse.load import ensure_tables

ADMIN_DSN_VAR = "CIVIC_POSTGRES_ADMIN_DSN"
KEYCLOAK_DB_PASSWORD_VAR = "KEYCLOAK_DB_PASSWORD"  # noqa: S105 - a variable name


class ProvisionError(RuntimeError):
    """The environment lacks a value, or holds one that contradicts another."""


def required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ProvisionError(f"{name} is not set: docker-compose.airflow.yml passes it from .env")
    return value


def grant_from_uri(uri: str, var: str) -> DatabaseGrant:
    """The database, owner and password a metadata URI names (postgresql+driver://u:p@h/db)."""
    parts = urlsplit(uri)
    database = parts.path.lstrip("/")
    if not (parts.username and parts.password and database):
        raise ProvisionError(f"{var} must name a user, a password and a database")
    return DatabaseGrant(unquote(database), unquote(parts.username), unquote(parts.password))


def warehouse_grant(warehouse: Connection) -> DatabaseGrant:
    if not (warehouse.schema and warehouse.login and warehouse.password):
        raise ProvisionError(
            f"connection {WAREHOUSE_CONN_ID} must name a database (schema), login and password"
        )
    return DatabaseGrant(warehouse.schema, warehouse.login, warehouse.password)


def provision(env: Mapping[str, str]) -> None:
    admin = required(env, ADMIN_DSN_VAR)
    grants = [
        grant_from_uri(required(env, METADATA_VAR), METADATA_VAR),
        grant_from_uri(required(env, SUPERSET_METADATA_VAR), SUPERSET_METADATA_VAR),
        DatabaseGrant("keycloak", "keycloak", required(env, KEYCLOAK_DB_PASSWORD_VAR)),
    ]
    warehouse = get_connection(WAREHOUSE_CONN_ID, env)
    grants.append(warehouse_grant(warehouse))
    for grant in grants:
        created = ensure_database(admin, grant)
        print(
            f"database {grant.database} (owner {grant.owner}): {'created' if created else 'kept'}"
        )
    provision_audit(admin, grants[-1].database, pipeline_role=grants[-1].owner)
    ensure_tables(warehouse.postgres_dsn(), load_all_sources().values())
    readonly = get_connection(WAREHOUSE_READONLY_CONN_ID, env)
    if readonly.login != ANALYST_ROLE or not readonly.password:
        raise ProvisionError(
            f"connection {WAREHOUSE_READONLY_CONN_ID} must log in as {ANALYST_ROLE} with a password"
        )
    ensure_analyst_role(admin, grants[-1].database, readonly.password)
    print(f"warehouse {grants[-1].database}: audit ledger, source tables, role {ANALYST_ROLE}")
    settings = load_settings(env)
    for bucket in ensure_buckets(s3_client(get_connection(S3_CONN_ID, env)), settings):
        print(f"bucket {bucket.name} ({bucket.zone}): default encryption {bucket.encryption}")


def main() -> None:
    try:
        provision(os.environ)
    except ProvisionError as exc:
        sys.exit(f"provision: {exc}")


if __name__ == "__main__":
    main()
