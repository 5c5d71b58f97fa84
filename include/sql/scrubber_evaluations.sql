-- The PII scrubber's measured figures, one row per `civic eval scrub` run
-- (include/scrubber_evaluations.py). The publish stage reads the latest row of each kind
-- and states it in every release's README and manifest.
--
-- WHY in the warehouse: `civic eval scrub` runs on an operator's machine, the publish
-- task on an Airflow worker of another host; PostgreSQL is what both reach.
-- Idempotent and safe to run concurrently (an advisory lock serialises the first CREATE);
-- a DBA may run it by hand on a warehouse of their own. No personal data here: figures,
-- corpus names and sizes, version ids; never a redacted or missed string.
--
-- kind                 'generator' (the platform's labelled synthetic corpus) or
--                      'reference_corpora' (public French NER sentences and real citizen texts)
-- scrubber_version     the id of what was measured (include/anonymization/pii/version.py)
-- scrubber             what that id was computed from (code hash, model, packages, settings)
-- corpus, figures      which texts, and what was measured on them (keys by kind)
--
-- json, not jsonb: the rows are written once and read whole, and json keeps the keys in
-- the order they were written (per-type figures in the scrubber's order of types).
-- No index: one row per evaluation run, a few a day at most.

SELECT pg_advisory_xact_lock(hashtext('civic/scrubber_evaluations/ddl'));

CREATE SCHEMA IF NOT EXISTS pipeline;

CREATE TABLE IF NOT EXISTS pipeline.scrubber_evaluations (
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    kind             text        NOT NULL,
    scrubber_version text        NOT NULL,
    scrubber         json        NOT NULL,
    corpus           json        NOT NULL,
    figures          json        NOT NULL,
    evaluated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scrubber_evaluations_pkey PRIMARY KEY (id),
    CONSTRAINT scrubber_evaluations_kind CHECK (kind IN ('generator', 'reference_corpora')),
    CONSTRAINT scrubber_evaluations_objects CHECK (
        json_typeof(scrubber) = 'object' AND json_typeof(corpus) = 'object'
        AND json_typeof(figures) = 'object'
    )
);
