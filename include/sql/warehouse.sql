-- The warehouse's published-side schemas. Idempotent: run before every load.
--
-- curated     record-level rows: scrubbed, pseudonymized, k-anonymous (one table per source,
--             columns derived from sources/<source>.yaml by include/load.py)
-- aggregates  counts with small-cell and complementary suppression (one table per aggregate)
--
-- Neither holds a direct identifier. Read access for analysts and Superset is granted to a
-- read-only role by the provisioning step, never to PUBLIC.

CREATE SCHEMA IF NOT EXISTS curated;
CREATE SCHEMA IF NOT EXISTS aggregates;
REVOKE ALL ON SCHEMA curated FROM PUBLIC;
REVOKE ALL ON SCHEMA aggregates FROM PUBLIC;

COMMENT ON SCHEMA curated IS
    'Données individuelles expurgées, pseudonymisées et k-anonymes (une table par source)';
COMMENT ON SCHEMA aggregates IS
    'Statistiques agrégées avec secret statistique (cellules < seuil masquées, jamais 0)';

-- Runs whose tables reached the warehouse: the aggregates of a later run count the scrubbed
-- submissions of these runs (and its own). Maintained by include/pipeline/stages.py.
CREATE SCHEMA IF NOT EXISTS pipeline;
CREATE TABLE IF NOT EXISTS pipeline.loaded_runs (
    source    text        NOT NULL,
    run_id    text        NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, run_id)
);
