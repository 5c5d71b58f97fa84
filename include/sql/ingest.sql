-- State of the ingest stage (include/ingest/): which raw objects each run took, which
-- record ids are already ingested, and what each run quarantined.
--
-- Idempotent: `include.ingest.state.ensure_schema` runs it before every ingest, under an
-- advisory lock so that concurrent first runs do not race on CREATE. Once the objects
-- exist it takes no table lock: CREATE TABLE IF NOT EXISTS only looks at the catalog, and
-- indexes are created in DO blocks because CREATE INDEX IF NOT EXISTS would first take a
-- SHARE lock on its table, and so wait for every other source's ingest in progress.
--
-- Why a table of objects and not a watermark: objects do not land in key or time order
-- (a late upload for yesterday, a re-encrypted object), so "everything after T" misses
-- some and "now()" depends on the clock. A version of an object (key, ETag, LastModified)
-- is taken by exactly one run; a rerun of that run reads exactly the same versions.
-- No personal data here: keys, record ids (random UUIDs in both sources), counts, and
-- 16-byte BLAKE2b fingerprints of whole validated rows (free text included), which tell
-- whether two copies are identical but do not reveal their content.

CREATE SCHEMA IF NOT EXISTS pipeline;

-- One row per (source, run): created when the run claims its objects. Its status is the
-- run's life: claimed → ingested (its ingest committed) → loaded (its records reached the
-- private record store, `curated` and `aggregates`, in the load transaction). A run that
-- never loaded does not keep its objects: the next new run of the source takes them over
-- and the old run becomes `superseded` (its ids and quarantine counts are dropped, its
-- objects read again). The CHECK is the accounting identity of the ingest stage.
CREATE TABLE IF NOT EXISTS pipeline.ingest_runs (
    source              text        NOT NULL,
    run_id              text        NOT NULL,
    bucket              text        NOT NULL,
    status              text        NOT NULL DEFAULT 'claimed',
    claimed_at          timestamptz NOT NULL DEFAULT now(),
    ingested_at         timestamptz,
    objects_claimed     integer,
    objects_read        integer,
    objects_quarantined integer,
    rows_read           bigint,
    rows_valid          bigint,
    rows_quarantined    bigint,
    rows_duplicate      bigint,
    chunk_keys          text[],
    loaded_at           timestamptz,
    superseded_by       text,
    CONSTRAINT ingest_runs_pkey PRIMARY KEY (source, run_id),
    CONSTRAINT ingest_runs_status
        CHECK (status IN ('claimed', 'ingested', 'loaded', 'superseded')),
    CONSTRAINT ingest_runs_accounting
        CHECK (rows_read = rows_valid + rows_quarantined + rows_duplicate),
    CONSTRAINT ingest_runs_complete CHECK (
        status IN ('claimed', 'superseded') OR (rows_read IS NOT NULL AND rows_valid IS NOT NULL
            AND rows_quarantined IS NOT NULL AND rows_duplicate IS NOT NULL)
    )
);

-- Warehouses created before runs could be loaded or superseded (session 2): the two new
-- columns, the wider status CHECKs, and `pipeline.loaded_runs` folded into the status.
-- Each step runs only when needed, so a current schema takes no table lock here.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attname = 'superseded_by'
                   AND attrelid = 'pipeline.ingest_runs'::regclass AND NOT attisdropped) THEN
        ALTER TABLE pipeline.ingest_runs ADD COLUMN IF NOT EXISTS loaded_at timestamptz;
        ALTER TABLE pipeline.ingest_runs ADD COLUMN IF NOT EXISTS superseded_by text;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ingest_runs_status'
                   AND conrelid = 'pipeline.ingest_runs'::regclass
                   AND pg_get_constraintdef(oid) LIKE '%superseded%') THEN
        ALTER TABLE pipeline.ingest_runs DROP CONSTRAINT ingest_runs_status;
        ALTER TABLE pipeline.ingest_runs ADD CONSTRAINT ingest_runs_status
            CHECK (status IN ('claimed', 'ingested', 'loaded', 'superseded'));
        ALTER TABLE pipeline.ingest_runs DROP CONSTRAINT ingest_runs_complete;
        ALTER TABLE pipeline.ingest_runs ADD CONSTRAINT ingest_runs_complete CHECK (
            status IN ('claimed', 'superseded') OR (rows_read IS NOT NULL
                AND rows_valid IS NOT NULL AND rows_quarantined IS NOT NULL
                AND rows_duplicate IS NOT NULL));
    END IF;
    IF to_regclass('pipeline.loaded_runs') IS NOT NULL THEN
        UPDATE pipeline.ingest_runs i SET status = 'loaded', loaded_at = l.loaded_at
            FROM pipeline.loaded_runs l WHERE l.source = i.source AND l.run_id = i.run_id;
        DROP TABLE pipeline.loaded_runs;
    END IF;
END
$$;

-- The processed-objects table. "Not yet processed" = this exact version is not here.
-- status: claimed (taken by a run not yet committed), ingested (read), quarantined
-- (refused unread, e.g. unencrypted, or unusable part-way): `reason` says which,
-- `detail` what exactly (for the operator).
-- A quarantined object is not retried while it stays the same version; re-encrypting it
-- in place (copy onto itself with SSE) gives it a new LastModified, so the next run
-- takes it: ids already ingested from it then count as duplicates.
CREATE TABLE IF NOT EXISTS pipeline.raw_objects (
    source        text        NOT NULL,
    bucket        text        NOT NULL,
    key           text        NOT NULL,
    etag          text        NOT NULL,
    last_modified timestamptz NOT NULL,
    size          bigint      NOT NULL,
    run_id        text        NOT NULL,
    status        text        NOT NULL DEFAULT 'claimed',
    reason        text,
    detail        text,
    sse           text,
    rows_read     bigint,
    CONSTRAINT raw_objects_pkey PRIMARY KEY (source, bucket, key, etag, last_modified),
    CONSTRAINT raw_objects_run FOREIGN KEY (source, run_id)
        REFERENCES pipeline.ingest_runs (source, run_id),
    CONSTRAINT raw_objects_status CHECK (status IN ('claimed', 'ingested', 'quarantined')),
    CONSTRAINT raw_objects_reason CHECK ((status = 'quarantined') = (reason IS NOT NULL)),
    CONSTRAINT raw_objects_detail CHECK (detail IS NULL OR reason IS NOT NULL)
);
DO $$
BEGIN
    IF to_regclass('pipeline.raw_objects_by_run') IS NULL THEN
        CREATE INDEX raw_objects_by_run ON pipeline.raw_objects (source, run_id);
    END IF;
END
$$;

-- Every record id ever kept, per source, with the run that kept it: the memory of the
-- duplicate check across runs. A rerun first deletes its own run's ids; a superseded
-- run's ids are deleted with it (a row that was never loaded is not a duplicate).
CREATE TABLE IF NOT EXISTS pipeline.ingested_ids (
    source    text  NOT NULL,
    record_id text  NOT NULL,
    row_hash  bytea NOT NULL,
    run_id    text  NOT NULL,
    CONSTRAINT ingested_ids_pkey PRIMARY KEY (source, record_id),
    CONSTRAINT ingested_ids_hash CHECK (octet_length(row_hash) = 16)
);
DO $$
BEGIN
    IF to_regclass('pipeline.ingested_ids_by_run') IS NULL THEN
        CREATE INDEX ingested_ids_by_run ON pipeline.ingested_ids (source, run_id);
    END IF;
END
$$;

-- Quarantine counts by reason, per run (a rerun replaces its run's rows).
-- Row-level reasons count rows (objects = 0); object-level reasons (unencrypted_object...)
-- count whole objects, whose rows were never read or not all read (rows = 0).
CREATE TABLE IF NOT EXISTS pipeline.quarantine (
    run_id  text    NOT NULL,
    source  text    NOT NULL,
    reason  text    NOT NULL,
    rows    bigint  NOT NULL CHECK (rows >= 0),
    objects integer NOT NULL CHECK (objects >= 0),
    CONSTRAINT quarantine_pkey PRIMARY KEY (run_id, source, reason)
);

-- The end-to-end accounting of a run, checked once the later stages know how many rows
-- they published and suppressed: rows read = published + suppressed + quarantined +
-- duplicates. Unbalanced runs are recorded too (balanced = false) before failing.
CREATE TABLE IF NOT EXISTS pipeline.run_accounting (
    source           text        NOT NULL,
    run_id           text        NOT NULL,
    rows_read        bigint      NOT NULL,
    rows_published   bigint      NOT NULL,
    rows_suppressed  bigint      NOT NULL,
    rows_quarantined bigint      NOT NULL,
    rows_duplicate   bigint      NOT NULL,
    balanced         boolean     NOT NULL,
    checked_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT run_accounting_pkey PRIMARY KEY (source, run_id),
    CONSTRAINT run_accounting_run FOREIGN KEY (source, run_id)
        REFERENCES pipeline.ingest_runs (source, run_id),
    CONSTRAINT run_accounting_balanced CHECK (
        balanced = (rows_read = rows_published + rows_suppressed + rows_quarantined
            + rows_duplicate)
    )
);
