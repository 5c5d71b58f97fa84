"""Databases and least-privilege roles on the platform's PostgreSQL server.

Each consumer gets its own login role owning only its own database: Airflow's
metadata (`airflow`), Superset's (`superset`) and the warehouse (`civic`, owned
by `civic_pipeline`). No role but the owner may even connect to a database,
except the analysts' read-only role `civic_analyst`, which may read the
warehouse's published schemas and nothing else (include/sql/analyst_role.sql).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

ANALYST_ROLE = "civic_analyst"
ANALYST_ROLE_SQL = Path(__file__).resolve().parent.parent / "sql" / "analyst_role.sql"


@dataclass(frozen=True)
class DatabaseGrant:
    database: str
    owner: str
    password: str


def ensure_database(admin_dsn: str, grant: DatabaseGrant) -> bool:
    """Create (or re-key) the owner role and its database; True if the database is new."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        role = sql.Identifier(grant.owner)
        exists = conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (grant.owner,)
        ).fetchone()
        verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
        conn.execute(
            sql.SQL("{} ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                verb, role, sql.Literal(grant.password)
            )
        )
        created = not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (grant.database,)
        ).fetchone()
        if created:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(grant.database), role
                )
            )
        conn.execute(
            sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(grant.database))
        )
    with psycopg.connect(make_conninfo(admin_dsn, dbname=grant.database), autocommit=True) as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(grant.owner)))
    return created


def ensure_analyst_role(admin_dsn: str, database: str, password: str) -> None:
    """Create (or re-key) the analysts' read-only login and grant it the published schemas.

    Runs include/sql/analyst_role.sql, the same file a DBA runs on a PostgreSQL of their
    own, as the superuser in `database`; the schemas must exist
    (include.warehouse.load.ensure_tables).
    """
    with psycopg.connect(make_conninfo(admin_dsn, dbname=database), autocommit=True) as conn:
        conn.execute(ANALYST_ROLE_SQL.read_text())
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(ANALYST_ROLE), sql.Literal(password)
            )
        )
