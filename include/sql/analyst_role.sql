-- The analysts' read-only role on the warehouse, `civic_analyst`: the login behind the
-- Airflow connection `civic_warehouse_readonly`, which Superset's database uses.
--
-- It may: connect to this database; read every table of the schemas `curated` and
-- `aggregates`, including the tables `civic_pipeline` creates there later.
-- It may not: read `audit`, `pipeline` or `public`; write, create or drop anything.
--
-- Idempotent. `civic services up` runs this very file on the embedded PostgreSQL
-- (include/services/provision.py), then sets the role's password. On a PostgreSQL of your
-- own (AIRFLOW_CONN_CIVIC_WAREHOUSE set), a DBA runs it as a superuser in the warehouse
-- database, once the pipeline role has created the schemas (its first load or
-- `include.warehouse.load.ensure_tables`), then gives the role a password:
--   psql "postgresql://ADMIN@HOST:PORT/WAREHOUSE_DB" -f include/sql/analyst_role.sql
--   psql "postgresql://ADMIN@HOST:PORT/WAREHOUSE_DB" -c '\password civic_analyst'
-- and sets AIRFLOW_CONN_CIVIC_WAREHOUSE_READONLY to a postgres connection with that login.

DO $$
BEGIN
    IF to_regrole('civic_analyst') IS NULL THEN
        CREATE ROLE civic_analyst LOGIN;
    END IF;
END
$$;
ALTER ROLE civic_analyst LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- Defence in depth, beside the missing privileges: every transaction starts read-only, and
-- no query of a dashboard or of SQL Lab may hold the warehouse longer than Superset's own
-- web time-out.
ALTER ROLE civic_analyst SET default_transaction_read_only = on;
ALTER ROLE civic_analyst SET statement_timeout = '60s';

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO civic_analyst', current_database());
END
$$;

GRANT USAGE ON SCHEMA curated, aggregates TO civic_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA curated, aggregates TO civic_analyst;
-- Tables the pipeline creates later (a new source, a new aggregate) are readable at once.
ALTER DEFAULT PRIVILEGES FOR ROLE civic_pipeline IN SCHEMA curated, aggregates
    GRANT SELECT ON TABLES TO civic_analyst;
