"""What the pipeline's stages share, for one source and one run; each stage is a rerunnable step.

Every stage reads its inputs from the private work zone (keys handed over by the
previous stage), writes its outputs under the run's own prefix (so a rerun
overwrites exactly what it wrote before) and appends one entry to the audit ledger.
What a stage returns is small and JSON-serializable: keys, counts and summaries,
never rows; it is what Airflow carries in XCom.

Each stage's task lives in the package that owns the stage: `include.ingest.task`
(ingest, accounting), `include.anonymization.task` (scrub, anonymize),
`include.validation.task`, `include.warehouse.task` (load), `include.audit.task`
(verify_ledger), `include.publish.task`. This package holds only what they all use:
the run's context (`context`), the work zone's frames (`workzone`), and how a stage
ends, in the ledger or refused (`outcome`). A stage uses another stage's package only
through its public names, never its task.
"""
