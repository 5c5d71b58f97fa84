"""Keep Superset in step with the warehouse: import the bundle, refresh every dataset.

Run after each release (dags/superset_refresh.py). The import upserts the
committed assets by UUID, which also puts back the French names and the calculated
columns; the refresh then re-reads every dataset's columns from its table, so a
column the pipeline added since (a new field in `sources/<source>.yaml`) appears in
Superset without anyone clicking. Refreshing after the import matters: an import
with overwrite drops the columns its YAML does not list.

`check_charts` runs every chart of the bundle through Superset's own query path.
An empty chart is a failure only when its table (with the chart's filters) has rows:
a source that has not been released yet leaves its charts empty, and that is not
a broken chart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from include.core.connections import Connection
from include.superset.assets import ASSETS_DIR
from include.superset.bundle import Bundle, build_bundle
from include.superset.charts import map_annotation_sources
from include.superset.client import SupersetClient, SupersetError


class SyncError(RuntimeError):
    """Superset does not hold what the bundle says it should after an import."""


@dataclass(frozen=True)
class SyncResult:
    """What one sync did, for logs and XCom."""

    datasets: int
    charts: int
    dashboards: int
    refreshed: int
    import_seconds: float
    refresh_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets,
            "charts": self.charts,
            "dashboards": self.dashboards,
            "refreshed": self.refreshed,
            "import_seconds": round(self.import_seconds, 2),
            "refresh_seconds": round(self.refresh_seconds, 2),
        }


def _ids_by_uuid(objects: list[dict[str, Any]]) -> dict[str, int]:
    return {str(item["uuid"]): int(item["id"]) for item in objects}


def _bundle_uuids(bundle: Bundle, prefix: str) -> dict[str, str]:
    """UUID → the file that declares it, for one kind of object in the bundle."""
    return {str(doc["uuid"]): path for path, doc in bundle.documents(prefix).items()}


def _resolve(bundle_uuids: dict[str, str], present: dict[str, int], kind: str) -> dict[str, int]:
    missing = sorted(path for uuid, path in bundle_uuids.items() if uuid not in present)
    if missing:
        raise SyncError(
            f"after the import, Superset has no {kind} for {missing}: the import did not"
            " take them (see Superset's log)"
        )
    return {path: present[uuid] for uuid, path in bundle_uuids.items()}


def sync_assets(
    client: SupersetClient, warehouse_readonly: Connection, assets_dir: Path = ASSETS_DIR
) -> SyncResult:
    """Import the bundle, then refresh the columns of every dataset it holds."""
    bundle = build_bundle(warehouse_readonly, assets_dir)
    started = time.monotonic()
    client.import_assets(bundle.data, bundle.passwords)
    imported = time.monotonic()
    datasets = _resolve(
        _bundle_uuids(bundle, "datasets/"), _ids_by_uuid(client.datasets()), "dataset"
    )
    charts = _resolve(_bundle_uuids(bundle, "charts/"), _ids_by_uuid(client.charts()), "chart")
    dashboards = _resolve(
        _bundle_uuids(bundle, "dashboards/"), _ids_by_uuid(client.dashboards()), "dashboard"
    )
    _annotation_sources_to_ids(client, bundle, _ids_by_uuid(client.charts()))
    for path, dataset_id in sorted(datasets.items()):
        try:
            client.refresh_dataset(dataset_id)
        except SupersetError as exc:
            raise SyncError(
                f"refreshing the dataset of {path} failed: {exc}. Does its table exist in the"
                " warehouse, and may the read-only role read it?"
            ) from exc
    return SyncResult(
        datasets=len(datasets),
        charts=len(charts),
        dashboards=len(dashboards),
        refreshed=len(datasets),
        import_seconds=imported - started,
        refresh_seconds=time.monotonic() - imported,
    )


def _annotation_sources_to_ids(
    client: SupersetClient, bundle: Bundle, chart_ids: dict[str, int]
) -> None:
    """Point every annotation layer drawn from a chart at that chart's id: the bundle names
    it by UUID, the import keeps the UUID, and Superset looks annotation charts up by id."""

    def to_id(value: Any) -> Any:
        if str(value) not in chart_ids:
            raise SyncError(f"an annotation layer's source chart {value} is not in Superset")
        return chart_ids[str(value)]

    for doc in bundle.documents("charts/").values():
        layers = (doc.get("params") or {}).get("annotation_layers", [])
        if not any(layer.get("sourceType") == "table" for layer in layers):
            continue
        # What the import saved (it filled the datasource in), not the bundle's documents.
        chart_id = chart_ids[str(doc["uuid"])]
        client.update_chart(
            chart_id,
            map_annotation_sources(client.chart_params(chart_id), to_id),
            map_annotation_sources(client.chart_query_context(chart_id), to_id),
        )


@dataclass(frozen=True)
class ChartCheck:
    """Every chart of the bundle run once: rows returned, and what went wrong where."""

    rows: dict[str, int] = field(default_factory=dict)  # chart name → rows returned
    failures: dict[str, str] = field(default_factory=dict)  # chart name → why
    waiting: list[str] = field(default_factory=list)  # empty charts over empty tables

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "failures": self.failures, "waiting": self.waiting}


def _table_rows(client: SupersetClient, chart_id: int) -> int:
    """Rows of the chart's dataset under the chart's own filters."""
    context = client.chart_query_context(chart_id)
    filters = context["queries"][0].get("filters", [])
    count = {"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "rows"}
    rows = client.query(
        {
            "datasource": context["datasource"],
            "queries": [{"metrics": [count], "filters": filters, "columns": []}],
            "result_format": "json",
            "result_type": "full",
        }
    )
    return int(rows[0]["rows"]) if rows else 0


def check_charts(client: SupersetClient, assets_dir: Path = ASSETS_DIR) -> ChartCheck:
    """Run every chart of the committed assets; a failure names the chart and the reason."""
    names = {
        str(doc["uuid"]): str(doc["slice_name"])
        for doc in _documents(assets_dir / "charts").values()
    }
    present = _ids_by_uuid(client.charts())
    check = ChartCheck()
    for uuid, name in sorted(names.items(), key=lambda item: item[1]):
        chart_id = present.get(uuid)
        if chart_id is None:
            check.failures[name] = "not in Superset: import the bundle first"
            continue
        try:
            rows = len(client.chart_data(chart_id))
            if rows == 0 and _table_rows(client, chart_id) == 0:
                check.waiting.append(name)
            elif rows == 0:
                check.failures[name] = "no rows, although its table has some"
        except SupersetError as exc:
            if exc.status is None:
                raise  # Superset unreachable: not the chart's fault, worth a retry
            check.failures[name] = str(exc)
            continue
        check.rows[name] = rows
    return check


def _documents(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.yaml"))
    }
