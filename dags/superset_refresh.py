"""
### Superset refresh — *Actualisation des tableaux de bord*

Runs after every release of any source (scheduled on the release Assets
`civic://releases/<source>` that `civic_pipeline_<source>` updates), so that the
analysts' dashboards show the new data and the new columns without anyone
clicking in Superset.

1. **import_and_refresh** — the assets of `superset/assets/` (database, datasets,
   charts, one dashboard per source, in Superset's import format) zipped and
   imported through the REST API: objects are upserted by UUID, so a re-import
   updates them in place; the database points at the read-only warehouse role.
   Then every dataset's columns are re-read from its table: a field added to
   `sources/<source>.yaml` appears as a column after the next release.
2. **check_charts** — every chart of the bundle runs its query through Superset;
   the run fails with the names of the charts that error, or that return no rows
   although their table has some. Charts of a source not released yet (empty
   tables) are listed as waiting, not failed.

Regenerate the assets after editing a source: `python -m include.superset write`.
Connections: `civic_superset` (http, admin login), `civic_warehouse_readonly`
(the analysts' read-only PostgreSQL role, which Superset's database uses).
"""

from __future__ import annotations

import operator
from datetime import datetime, timedelta
from functools import reduce

from airflow.sdk import Asset, dag, task
from airflow.sdk.exceptions import AirflowFailException

from include.dag_helpers import release_asset_uri, source_names

RELEASES = reduce(operator.or_, [Asset(release_asset_uri(source)) for source in source_names()])


@dag(
    dag_id="superset_refresh",
    schedule=RELEASES,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # Unlike the pipelines (an operator unpauses a source when it is ready), refreshing
    # dashboards is always wanted: a release must reach them without anyone clicking.
    is_paused_upon_creation=False,
    doc_md=__doc__,
    tags=["civic", "superset"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "owner": "civic-platform"},
)
def superset_refresh() -> None:
    @task
    def import_and_refresh() -> dict:
        from civic_hooks import civic_connection
        from superset_hook import SupersetHook

        from include.core.connections import WAREHOUSE_READONLY_CONN_ID
        from include.superset.sync import sync_assets

        with SupersetHook().get_client() as client:
            result = sync_assets(client, civic_connection(WAREHOUSE_READONLY_CONN_ID))
        return result.as_dict()

    @task
    def check_charts(synced: dict) -> dict:
        from superset_hook import SupersetHook

        from include.superset import sync

        with SupersetHook().get_client() as client:
            check = sync.check_charts(client)
        if check.failures:
            # A chart's query is deterministic: retrying would only repeat the error.
            details = "; ".join(f"{name}: {why}" for name, why in sorted(check.failures.items()))
            raise AirflowFailException(
                f"{len(check.failures)} of {synced['charts']} charts fail: {details}"
            )
        return check.as_dict()

    check_charts(import_and_refresh())


superset_refresh()
