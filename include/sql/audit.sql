-- The audit ledger: one append-only, hash-chained, signed table (include/audit/).
--
-- Idempotent. Run it as the role that is to own the ledger:
--   * `include.audit.provision_audit(admin_dsn, database)` runs it as the superuser under
--     SET ROLE civic_audit_owner (a NOLOGIN role), then grants the pipeline role only
--     USAGE on the schema and SELECT, INSERT on the table;
--   * without a superuser (an external PostgreSQL), `include.audit.ensure_ledger(dsn)` runs
--     it as the pipeline role, which then owns the ledger.
--
-- What protects the ledger, and from what:
--   * the hash chain and signatures, checked by `civic audit verify` with a key the
--     database never sees, make any change, deletion or forged entry DETECTABLE, whoever
--     made it (even a superuser);
--   * the trigger and the revoked privileges below PREVENT accidents (a stray UPDATE, a
--     cleanup script's DELETE or TRUNCATE). They do not stop the table's owner or a
--     superuser, who can disable a trigger and grant themselves privileges back. That is
--     why the ledger should belong to civic_audit_owner, a role nobody logs in as, and
--     not to the pipeline role.
--
-- Why `seq` is assigned by the appender and is not an identity column: entry hashes
-- cover seq, and a sequence leaves holes when a transaction rolls back; a hole is how
-- `verify` recognises deleted entries, so seq must be exactly the previous seq + 1.
-- Why `payload` is `json`, not `jsonb`: json keeps the text exactly as written, and the
-- hash covers that text; jsonb re-formats numbers (1e+20 comes back as 100000000000000000000),
-- which would break the hash of an untouched entry.

-- Not CREATE SCHEMA IF NOT EXISTS: that checks the right to create schemas in the database
-- even when the schema exists, and the ledger's owner has no such right (nor needs it).
DO $$
BEGIN
    IF to_regnamespace('audit') IS NULL THEN
        CREATE SCHEMA audit;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS audit.ledger (
    seq         bigint      NOT NULL,
    recorded_at timestamptz NOT NULL,
    run_id      text        NOT NULL,
    dag_id      text,
    step        text        NOT NULL,
    payload     json        NOT NULL,
    prev_hash   text        NOT NULL,
    entry_hash  text        NOT NULL,
    signature   text        NOT NULL,
    key_id      text        NOT NULL,
    CONSTRAINT ledger_pkey PRIMARY KEY (seq),
    -- One successor per entry: two appenders racing on the same head cannot fork the chain.
    CONSTRAINT ledger_one_successor UNIQUE (prev_hash),
    CONSTRAINT ledger_seq_positive CHECK (seq > 0),
    CONSTRAINT ledger_run_id_given CHECK (run_id <> ''),
    CONSTRAINT ledger_step_given CHECK (step <> ''),
    CONSTRAINT ledger_payload_object CHECK (json_typeof(payload) = 'object'),
    CONSTRAINT ledger_prev_hash_hex CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ledger_entry_hash_hex CHECK (entry_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ledger_signature_hex CHECK (signature ~ '^[0-9a-f]+$'),
    CONSTRAINT ledger_key_id_given CHECK (key_id <> '')
);

COMMENT ON TABLE audit.ledger IS
    'Append-only, hash-chained, signed record of pipeline runs, checks and releases. '
    'Verify with `civic audit verify`; never UPDATE or DELETE.';

CREATE INDEX IF NOT EXISTS ledger_run_id_idx ON audit.ledger (run_id);

-- Entries are never changed or removed; a correction is a new entry.
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit.ledger is append-only: % refused', TG_OP
        USING HINT = 'Entries are never changed or removed; append a correcting entry instead.';
END
$$;

-- A new entry must extend the head: the next seq, linked to the head's hash. The appender
-- takes the ledger's advisory lock first, so this only fails for a buggy or hostile writer.
CREATE OR REPLACE FUNCTION audit.check_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head_seq  bigint := 0;
    head_hash text := repeat('0', 64);
BEGIN
    SELECT seq, entry_hash INTO head_seq, head_hash
    FROM audit.ledger ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'audit.ledger entry % does not extend the chain (head is entry % with hash %)',
            NEW.seq, head_seq, head_hash
            USING HINT = 'Append with include.audit.append, which takes the ledger lock.';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER ledger_append_only
    BEFORE UPDATE OR DELETE ON audit.ledger
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER ledger_no_truncate
    BEFORE TRUNCATE ON audit.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER ledger_extends_chain
    BEFORE INSERT ON audit.ledger
    FOR EACH ROW EXECUTE FUNCTION audit.check_link();

-- ALWAYS: the guards fire even under session_replication_role = replica, a setting that
-- non-superusers can be granted (PostgreSQL 15+) and that silences ordinary triggers.
ALTER TABLE audit.ledger ENABLE ALWAYS TRIGGER ledger_append_only;
ALTER TABLE audit.ledger ENABLE ALWAYS TRIGGER ledger_no_truncate;

REVOKE ALL ON audit.ledger FROM PUBLIC;
-- Even the owner gives these up: an accident needs a deliberate GRANT first.
REVOKE UPDATE, DELETE, TRUNCATE ON audit.ledger FROM CURRENT_USER;
