"""`datapackage.json`: the release described as a Frictionless Data Package (v1).

Each table is two resources: the CSV (a tabular data resource with its CSV
dialect, so any Frictionless tool reads it with the right types) and the
Parquet file (a plain data resource carrying the same Table Schema). Every field
has its French description; `missingValues: [""]` says that an empty cell is a
missing value (a suppressed count is missing, never 0). Hashes are
`sha256:<hex>`, as the specification writes non-MD5 hashes.

The package is `profile: data-package` rather than `tabular-data-package`
because the Parquet resources are not CSV-tabular in the v1 sense.
"""

from __future__ import annotations

from collections.abc import Sequence

from include.core.source_config import SourceConfig
from include.publish.columns import Column
from include.publish.jsonfile import JSON
from include.publish.manifest import ManifestEntry
from include.publish.run import RunInfo
from include.publish.tables import WrittenTable
from include.publish.tabular_files import CSV_DIALECT
from include.publish.wording import LICENCE, french_number

DATAPACKAGE_NAME = "datapackage.json"


def field_descriptor(column: Column) -> dict[str, JSON]:
    field: dict[str, JSON] = {
        "name": column.name,
        "type": column.type,
        "description": column.description,
    }
    if column.enum is not None:
        field["constraints"] = {"enum": list(column.enum)}
    return field


def table_schema(columns: Sequence[Column]) -> dict[str, JSON]:
    return {"fields": [field_descriptor(c) for c in columns], "missingValues": [""]}


def _file_properties(entry: ManifestEntry) -> dict[str, JSON]:
    return {"path": entry.path, "bytes": entry.bytes, "hash": f"sha256:{entry.sha256}"}


def _resources(written: WrittenTable) -> list[dict[str, JSON]]:
    table = written.table
    schema = table_schema(table.columns)
    description = table.description
    if table.earlier_batches:
        description += (
            f" Ce fichier ne contient que les enregistrements de cette version ; les "
            f"{french_number(table.rows_to_date - table.data.num_rows)} précédents sont dans "
            "les fichiers des versions précédentes listés par manifest.json (earlier_batches)."
        )
    csv_resource: dict[str, JSON] = {
        "profile": "tabular-data-resource",
        "name": table.name,
        **_file_properties(written.csv),
        "title": table.title,
        "description": description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": dict(CSV_DIALECT),
        "schema": schema,
    }
    parquet_resource: dict[str, JSON] = {
        "profile": "data-resource",
        "name": f"{table.name}-parquet",
        **_file_properties(written.parquet),
        "title": f"{table.title} (Parquet)",
        "description": description,
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "schema": schema,
    }
    return [csv_resource, parquet_resource]


def build_datapackage(
    config: SourceConfig, run: RunInfo, written: Sequence[WrittenTable]
) -> dict[str, JSON]:
    return {
        "profile": "data-package",
        "name": config.name,
        "title": config.title,
        "description": config.description,
        "version": run.release_id,
        "created": f"{run.run_date_utc:%Y-%m-%dT%H:%M:%SZ}",
        "licenses": [dict(LICENCE)],
        "resources": [resource for table in written for resource in _resources(table)],
    }
