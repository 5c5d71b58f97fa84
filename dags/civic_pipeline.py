"""
### Civic pipeline — *Chaîne de publication d'une source*

One DAG per source configured in `sources/<source>.yaml` (`civic_pipeline_<source>`):
from the encrypted raw zone to a verified public release, every step on the
audit ledger.

1. **ingest** — new raw objects only (a processed-objects table, never the clock);
   unencrypted objects refused unread; bad rows quarantined with a reason;
   duplicates dropped; typed Parquet chunks in the private work zone.
2. **scrub** — mapped tasks over the chunks (a few chunks each in turn on one
   host, one chunk each under Celery): free text redacted (Presidio, French
   first), direct identifiers dropped, keyed pseudonyms where configured.
3. **anonymize** — the run's records made k-anonymous and l-diverse (optimal
   generalization under a suppression cap); every aggregate recomputed over all
   submissions to date with small-cell and complementary suppression.
4. **validate** — Great Expectations suites from `expectations/`; any failure
   stops the run here (fail closed) and is recorded in the ledger.
5. **load** — the private record store, `curated` and `aggregates`, one
   transaction; the run is marked loaded (a run that never loads gives its raw
   objects to the next run).
6. **accounting** — rows read = published + suppressed + quarantined +
   duplicates, or the run stops before publication; the run's figures go to the
   analysts' indicator tables.
7. **verify_ledger** — the ledger's chain and signatures recomputed, and its
   head checked against the one the previous release recorded: before publishing.
8. **publish** — the platform's accounting checked and every aggregate
   recomputed from the record store (fail closed); CSV + Parquet + datapackage +
   README + manifest (with the verified ledger head), uploaded, verified, then
   `latest` switched; mirrored to `exports/<source>/`; updates the Asset
   `civic://releases/<source>` (the Superset refresh runs on it).

Params: `dry_run` (stop after validation: nothing loaded or published, and the
next run takes the raw objects over);
`from_date` / `to_date` (take only raw objects delivered in those date
partitions, bounds included: a backfill of a period).
Connections: `civic_warehouse`, `civic_s3`, `civic_audit_key`, `civic_pseudonym_key`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, conf, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from include.dag_helpers import release_asset_uri, source_names
from include.pipeline.scrub_share import scrub_groups, scrub_tasks_cap


def _context(source: str) -> Any:
    from civic_hooks import pipeline_context

    return pipeline_context(source, get_current_context())


def _skip_if_dry_run() -> None:
    if get_current_context()["params"].get("dry_run"):
        raise AirflowSkipException("dry run: validated, nothing loaded or published")


def build_pipeline(source: str) -> None:
    @dag(
        dag_id=f"civic_pipeline_{source}",
        schedule="@daily",
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        doc_md=__doc__,
        tags=["civic", "pipeline", source],
        default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "owner": "civic-platform"},
        params={
            "dry_run": Param(
                False, type="boolean", description="Validate only: no load, no release."
            ),
            "from_date": Param(
                None, type=["null", "string"], format="date", description="First delivery date."
            ),
            "to_date": Param(
                None, type=["null", "string"], format="date", description="Last delivery date."
            ),
        },
    )
    def pipeline() -> None:
        @task
        def ingest() -> dict:
            from include.ingest import DateRange
            from include.ingest import task as stage

            params = get_current_context()["params"]
            first, last = params.get("from_date"), params.get("to_date")
            date_range = (
                DateRange(
                    date.fromisoformat(first) if first else None,
                    date.fromisoformat(last) if last else None,
                )
                if first or last
                else None
            )
            return stage.ingest(_context(source), date_range)

        @task
        def chunks(ingested: dict) -> list[list[str]]:
            return scrub_groups(ingested["chunk_keys"], conf.get("core", "executor"))

        # One task at a time per host with every core, or one per Celery worker.
        @task(
            map_index_template="{{ chunk_names }}",
            max_active_tis_per_dag=scrub_tasks_cap(conf.get("core", "executor")),
        )
        def scrub(chunk_keys: list[str]) -> list[dict]:
            from civic_hooks import scrub_processes_here

            from include.anonymization import task as stage
            from include.anonymization.pii import Scrubber

            names = [key.rsplit("/", 1)[-1] for key in chunk_keys]
            get_current_context()["chunk_names"] = " … ".join(dict.fromkeys((names[0], names[-1])))  # type: ignore[typeddict-unknown-key]
            with Scrubber(processes=scrub_processes_here()) as scrubber:
                return [stage.scrub_chunk(_context(source), key, scrubber) for key in chunk_keys]

        @task(trigger_rule="none_failed")
        def anonymize(scrubbed: list[list[dict]] | None) -> dict:
            from include.anonymization import task as stage

            chunk_summaries = [summary for group in scrubbed or [] for summary in group]
            return stage.anonymize_run(_context(source), chunk_summaries)

        @task
        def validate(anonymized: dict) -> dict:
            from include.validation import task as stage

            return stage.validate(_context(source), anonymized)

        @task
        def load(anonymized: dict, validated: dict) -> dict:
            from include.warehouse import task as stage

            _skip_if_dry_run()
            return stage.load(_context(source), anonymized)

        @task
        def verify_ledger(accounted: dict) -> dict:
            from include.audit import task as stage

            return stage.verify_ledger(_context(source))

        @task(outlets=[Asset(release_asset_uri(source))])
        def publish(anonymized: dict, validated: dict, verified: dict) -> dict:
            from include.publish import task as stage

            _skip_if_dry_run()
            return stage.publish(_context(source), anonymized, validated, verified)

        @task
        def accounting(anonymized: dict, loaded: dict) -> dict:
            from include.ingest import task as stage

            return stage.account(_context(source), anonymized)

        ingested = ingest()
        anonymized = anonymize(scrub.expand(chunk_keys=chunks(ingested)))
        validated = validate(anonymized)
        loaded = load(anonymized, validated)
        # A run is released only once every row it read is accounted for; the release
        # Asset then tells the Superset refresh that the run's figures are all in.
        accounted = accounting(anonymized, loaded)
        # The ledger is checked before anything is published, never after.
        publish(anonymized, validated, verify_ledger(accounted))

    pipeline()


for _source in source_names():
    build_pipeline(_source)
