"""The superuser's part: give the ledger an owner the pipeline is not.

`provision_audit(admin_dsn, database)` (idempotent, run where databases are
provisioned, after the warehouse database exists):

1. creates `civic_audit_owner`, a NOLOGIN role: nobody connects as it, so the
   only ways to switch the ledger's guards off are a superuser session or a
   deliberate GRANT of that role;
2. creates the `audit` schema owned by it, or hands an existing ledger over to
   it (one the pipeline created itself with `ensure_ledger` before a superuser
   was available), keeping every entry;
3. runs include/sql/audit.sql as that role;
4. grants the pipeline role USAGE on the schema and SELECT, INSERT on the
   table, and nothing else.

The pipeline owning the `civic` database does not let it drop or alter objects
another role owns, so after this the pipeline can append and read, and that is
all.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from include.audit.ledger import LEDGER_TABLE, ledger_ddl

AUDIT_OWNER_ROLE = "civic_audit_owner"
PIPELINE_ROLE = "civic_pipeline"
AUDIT_SCHEMA = "audit"
_OWNED_FUNCTIONS = ("audit.refuse_change()", "audit.check_link()")


def provision_audit(
    admin_dsn: str,
    database: str,
    *,
    pipeline_role: str = PIPELINE_ROLE,
    owner_role: str = AUDIT_OWNER_ROLE,
) -> None:
    """Create (or take over) the ledger in `database` as `owner_role`; let `pipeline_role`
    append and read. `admin_dsn` is a superuser's DSN to any database of the server."""
    owner, pipeline = sql.Identifier(owner_role), sql.Identifier(pipeline_role)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner_role,)).fetchone():
            conn.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(owner)
            )
    with psycopg.connect(make_conninfo(admin_dsn, dbname=database)) as conn:
        schema = sql.Identifier(AUDIT_SCHEMA)
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, owner)
        )
        conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
        if conn.execute("SELECT to_regclass(%s)", (LEDGER_TABLE,)).fetchone() != (None,):
            conn.execute(sql.SQL("ALTER TABLE audit.ledger OWNER TO {}").format(owner))
        for function in _OWNED_FUNCTIONS:
            if conn.execute("SELECT to_regprocedure(%s)", (function,)).fetchone() != (None,):
                conn.execute(
                    sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(function), owner)
                )
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(owner))
        conn.execute(ledger_ddl())
        conn.execute("RESET ROLE")
        conn.execute(sql.SQL("REVOKE ALL ON audit.ledger FROM {}").format(pipeline))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, pipeline))
        conn.execute(sql.SQL("GRANT SELECT, INSERT ON audit.ledger TO {}").format(pipeline))
