-- The warehouse's published-side schemas. Idempotent: run before every load.
--
-- curated     record-level rows: scrubbed, pseudonymized, k-anonymous (one table per source,
--             columns derived from sources/<source>.yaml by include/warehouse/load.py)
-- aggregates  counts with small-cell and complementary suppression (one table per aggregate)
-- private     the record store the aggregates are computed from (never granted to analysts)
--
-- None holds a direct identifier. Read access for analysts and Superset is granted to a
-- read-only role by the provisioning step, never to PUBLIC.

CREATE SCHEMA IF NOT EXISTS curated;
CREATE SCHEMA IF NOT EXISTS aggregates;
REVOKE ALL ON SCHEMA curated FROM PUBLIC;
REVOKE ALL ON SCHEMA aggregates FROM PUBLIC;

COMMENT ON SCHEMA curated IS
    'Données individuelles expurgées, pseudonymisées et k-anonymes (une table par source)';
COMMENT ON SCHEMA aggregates IS
    'Statistiques agrégées avec secret statistique (cellules < seuil masquées, jamais 0)';

-- The private record store: scrubbed, pseudonymized records at full precision, one table
-- per source (columns derived from sources/<source>.yaml by include/warehouse/record_store.py), what
-- every aggregate is computed from. Written in each run's load transaction. No analyst
-- role, no Superset and no export reads it: only the pipeline's role, its owner.
CREATE SCHEMA IF NOT EXISTS private;
REVOKE ALL ON SCHEMA private FROM PUBLIC;
COMMENT ON SCHEMA private IS
    'Enregistrements expurgés et pseudonymisés à pleine précision : source des agrégats, '
    'jamais lus par les analystes ni publiés';

-- Run-level figures for the analysts' quality dashboards: what each run received, refused
-- and published, and how many free texts had personal data redacted. Counts of rows per
-- run and per technical reason only: nothing here describes a person. Written by the
-- accounting stage once the run balances; a rerun replaces its run's rows.
CREATE TABLE IF NOT EXISTS aggregates.indicateurs_execution (
    source           text   NOT NULL,
    run_id           text   NOT NULL,
    run_date         date   NOT NULL,
    rows_read        bigint NOT NULL,
    rows_quarantined bigint NOT NULL,
    rows_duplicate   bigint NOT NULL,
    rows_published   bigint NOT NULL,
    rows_suppressed  bigint NOT NULL,
    texts            bigint NOT NULL,
    texts_redacted   bigint NOT NULL,
    PRIMARY KEY (source, run_id),
    CHECK (texts_redacted <= texts)
);
COMMENT ON TABLE aggregates.indicateurs_execution IS
    'Indicateurs par exécution : lignes reçues, mises en quarantaine, doublons, publiées, '
    'supprimées (k-anonymat), textes libres et textes où des données personnelles ont été masquées';

CREATE TABLE IF NOT EXISTS aggregates.quarantaine_par_motif (
    source   text    NOT NULL,
    run_id   text    NOT NULL,
    run_date date    NOT NULL,
    reason   text    NOT NULL,
    rows     bigint  NOT NULL,
    objects  integer NOT NULL,
    PRIMARY KEY (source, run_id, reason)
);
COMMENT ON TABLE aggregates.quarantaine_par_motif IS
    'Lignes (et fichiers entiers) mis en quarantaine par motif technique, par exécution';

-- Every release a run published, with the date of the data it holds (the run's logical
-- date, « données au ») and when it went public: the analysts' weekly view marks the
-- releases on its time axis. Release ids and dates are public (the bucket's latest.json
-- and each release's manifest say them); nothing here describes a person.
CREATE TABLE IF NOT EXISTS aggregates.versions_publiees (
    source       text        NOT NULL,
    release_id   text        NOT NULL,
    run_id       text        NOT NULL,
    run_date     date        NOT NULL,
    published_at timestamptz NOT NULL,
    PRIMARY KEY (source, release_id)
);
COMMENT ON TABLE aggregates.versions_publiees IS
    'Versions publiées par source : identifiant, date des données, date de publication';

-- What each release published of each aggregate cell, and its true count then: the next
-- release protects its cells jointly with the previous one's, so that subtracting two
-- releases cannot expose a small group of new submissions (include/warehouse/release_history.py).
-- True counts of hidden cells are confidential: private schema, pipeline role only.
CREATE TABLE IF NOT EXISTS private.released_cells (
    source       text        NOT NULL,
    run_id       text        NOT NULL,
    aggregate    text        NOT NULL,
    cell         jsonb       NOT NULL,  -- the dimension codes, in the aggregate's order
    true_count   bigint      NOT NULL,
    shown_count  bigint,                -- NULL where the release hid the cell
    loaded_at    timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,           -- set once the release is public
    PRIMARY KEY (source, run_id, aggregate, cell)
);

-- What each loaded run's record-level rows tell of the aggregate cells, as counts that add
-- up over runs (include/warehouse/record_file_facts.py): a release sums them instead of re-reading
-- every record and row of the history. Written in the run's load transaction; a run loaded
-- before the table existed is counted once from its stored records and rows (backfill).
-- kind: 'records' (key: what the counts depend on, a digest), 'left_out' (records the file
-- leaves out), 'reading' (name: aggregate; key: JSON readings per dimension), 'option'
-- (name: dimension column; key: JSON [level, label, code]). Counts of records at full
-- precision: private schema, pipeline role only.
CREATE TABLE IF NOT EXISTS private.record_file_facts (
    source  text   NOT NULL,
    run_id  text   NOT NULL,
    kind    text   NOT NULL CHECK (kind IN ('records', 'left_out', 'reading', 'option')),
    name    text   NOT NULL,
    key     text   NOT NULL,
    count   bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (source, run_id, kind, name, key)
);

-- Which release's record file holds each loaded run's rows (include/publish/record_batches.py):
-- a release publishes the rows no earlier release holds and lists the earlier files by
-- checksum, so a daily release writes its day, never every row to date again.
CREATE TABLE IF NOT EXISTS private.record_batches (
    source       text        NOT NULL,
    release_id   text        NOT NULL,
    runs         text[]      NOT NULL,  -- the loaded runs whose rows the batch holds
    rows         bigint      NOT NULL,
    files        jsonb       NOT NULL,  -- [{path, bytes, sha256}]: the release's own file names
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, release_id)
);
