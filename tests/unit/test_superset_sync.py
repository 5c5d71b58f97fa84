"""sync_assets and check_charts against an in-memory stand-in for Superset's API."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from include.core.connections import Connection
from include.superset.assets import ASSETS_DIR, DATABASE_FILE
from include.superset.client import SupersetClient, SupersetError
from include.superset.sync import SyncError, check_charts, sync_assets

READONLY = Connection("postgres", "127.0.0.1", 5432, "civic_analyst", "pw", "civic")


def _uuids(folder: str) -> list[str]:
    return [
        str(yaml.safe_load(path.read_text())["uuid"])
        for path in sorted((ASSETS_DIR / folder).rglob("*.yaml"))
    ]


def _names() -> dict[str, str]:
    return {
        str(doc["uuid"]): doc["slice_name"]
        for doc in (yaml.safe_load(p.read_text()) for p in (ASSETS_DIR / "charts").glob("*.yaml"))
    }


class FakeSuperset(SupersetClient):
    """Holds what an import put in; answers the listing, refresh and data calls."""

    def __init__(self) -> None:
        super().__init__("http://superset.invalid", "admin", "pw")
        self.imported: list[tuple[bytes, dict[str, str]]] = []
        self.refreshed: list[int] = []
        self.objects: dict[str, list[dict[str, Any]]] = {
            "dataset": [],
            "chart": [],
            "dashboard": [],
        }
        self.rows: dict[int, int | SupersetError] = {}
        self.table_rows = 0  # what COUNT(*) over a chart's table answers
        self.refresh_error: SupersetError | None = None
        self.updated: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    def import_assets(self, bundle: bytes, passwords: Mapping[str, str]) -> None:
        self.imported.append((bundle, dict(passwords)))
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            names = archive.namelist()
        assert all(name.split("/")[0] == names[0].split("/")[0] for name in names)
        for kind, folder in (
            ("dataset", "datasets"),
            ("chart", "charts"),
            ("dashboard", "dashboards"),
        ):
            self.objects[kind] = [
                {"id": 100 + i, "uuid": uuid} for i, uuid in enumerate(_uuids(folder))
            ]

    def datasets(self) -> list[dict[str, Any]]:
        return self.objects["dataset"]

    def charts(self) -> list[dict[str, Any]]:
        return self.objects["chart"]

    def dashboards(self) -> list[dict[str, Any]]:
        return self.objects["dashboard"]

    def _chart_document(self, chart_id: int) -> dict[str, Any]:
        uuid = next(item["uuid"] for item in self.objects["chart"] if item["id"] == chart_id)
        return next(
            doc
            for doc in (yaml.safe_load(p.read_text()) for p in (ASSETS_DIR / "charts").glob("*"))
            if doc["uuid"] == uuid
        )

    def chart_params(self, chart_id: int) -> dict[str, Any]:
        return dict(self._chart_document(chart_id)["params"])

    def update_chart(
        self, chart_id: int, params: Mapping[str, Any], query_context: Mapping[str, Any]
    ) -> None:
        self.updated[chart_id] = (dict(params), dict(query_context))

    def refresh_dataset(self, dataset_id: int) -> None:
        if self.refresh_error is not None:
            raise self.refresh_error
        self.refreshed.append(dataset_id)

    def chart_data(self, chart_id: int) -> list[dict[str, Any]]:
        rows = self.rows.get(chart_id, 3)
        if isinstance(rows, SupersetError):
            raise rows
        return [{"n": i} for i in range(rows)]

    def chart_query_context(self, chart_id: int) -> dict[str, Any]:
        return {
            "datasource": {"id": 1, "type": "table"},
            "queries": [{"filters": [{"col": "source", "op": "==", "val": "x"}]}],
        }

    def query(self, query_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        assert query_context["queries"][0]["filters"] == [{"col": "source", "op": "==", "val": "x"}]
        return [{"rows": self.table_rows}]


def test_sync_imports_then_refreshes_every_dataset_of_the_bundle() -> None:
    superset = FakeSuperset()
    result = sync_assets(superset, READONLY)
    ((_, passwords),) = superset.imported
    assert passwords == {DATABASE_FILE: "pw"}
    datasets = len(_uuids("datasets"))
    assert sorted(superset.refreshed) == [100 + i for i in range(datasets)]
    assert (result.datasets, result.refreshed) == (datasets, datasets)
    assert result.charts == len(_uuids("charts"))
    assert result.dashboards == len(_uuids("dashboards")) == 2
    assert set(result.as_dict()) == {
        "datasets", "charts", "dashboards", "refreshed", "import_seconds", "refresh_seconds"
    }  # fmt: skip


def test_annotation_layers_point_at_their_source_charts_id_once_imported() -> None:
    """The bundle names an annotation's source chart by UUID; Superset wants its id. The
    sync rewrites what the import saved (its query context has the datasource filled in)."""

    class Saved(FakeSuperset):
        def chart_query_context(self, chart_id: int) -> dict[str, Any]:
            saved = json.loads(self._chart_document(chart_id)["query_context"])
            return {**saved, "datasource": {"id": 7, "type": "table"}}

    superset = Saved()
    sync_assets(superset, READONLY)
    ids = {item["uuid"]: item["id"] for item in superset.charts()}
    names = {ids[uuid]: name for uuid, name in _names().items()}
    assert sorted(names[chart] for chart in superset.updated) == [
        "Semaine après semaine (consultation)", "Semaine après semaine (signalements)",
    ]  # fmt: skip
    for chart, (params, query_context) in superset.updated.items():
        source = names[chart].split("(")[1].rstrip(")")
        releases = next(i for i, name in names.items() if name == f"Versions publiées ({source})")
        layers = [params["annotation_layers"]] + [
            q["annotation_layers"] for q in query_context["queries"]
        ]
        assert [layer["value"] for group in layers for layer in group] == [releases] * 3
        assert query_context["form_data"] == params
        assert query_context["datasource"] == {"id": 7, "type": "table"}


def test_an_object_missing_after_the_import_is_an_error() -> None:
    class Forgetful(FakeSuperset):
        def charts(self) -> list[dict[str, Any]]:
            return self.objects["chart"][1:]

    with pytest.raises(SyncError, match=r"no chart for \['charts/"):
        sync_assets(Forgetful(), READONLY)


def test_a_failed_refresh_names_the_dataset_and_what_to_check() -> None:
    superset = FakeSuperset()
    superset.refresh_error = SupersetError("PUT", "/api/v1/dataset/100/refresh", 422, "no table")
    with pytest.raises(SyncError, match=r"datasets/.*yaml failed: .*no table.*read-only role"):
        sync_assets(superset, READONLY)


def _imported() -> tuple[FakeSuperset, dict[str, int]]:
    superset = FakeSuperset()
    sync_assets(superset, READONLY)
    ids = {item["uuid"]: item["id"] for item in superset.charts()}
    return superset, {name: ids[uuid] for uuid, name in _names().items()}


def test_every_chart_with_rows_passes() -> None:
    superset, ids = _imported()
    check = check_charts(superset)
    assert check.failures == {}
    assert check.waiting == []
    assert check.rows == dict.fromkeys(ids, 3)


def test_an_empty_chart_fails_only_when_its_table_has_rows() -> None:
    superset, ids = _imported()
    name = sorted(ids)[0]
    superset.rows[ids[name]] = 0
    assert check_charts(superset).waiting == [name]
    superset.table_rows = 12
    check = check_charts(superset)
    assert check.failures == {name: "no rows, although its table has some"}


def test_a_chart_whose_query_errors_fails_with_superset_s_message() -> None:
    superset, ids = _imported()
    name = sorted(ids)[-1]
    superset.rows[ids[name]] = SupersetError("GET", "/api/v1/chart/1/data/", 400, "bad column")
    check = check_charts(superset)
    assert list(check.failures) == [name]
    assert "bad column" in check.failures[name]
    assert name not in check.rows


def test_an_unreachable_superset_is_raised_not_blamed_on_a_chart() -> None:
    superset, ids = _imported()
    superset.rows[ids[sorted(ids)[0]]] = SupersetError("GET", "/x", None, "connection refused")
    with pytest.raises(SupersetError, match="connection refused"):
        check_charts(superset)


def test_a_chart_not_in_superset_fails() -> None:
    superset = FakeSuperset()
    check = check_charts(superset)
    assert set(check.failures) == set(_names().values())
    assert all("import the bundle first" in why for why in check.failures.values())
