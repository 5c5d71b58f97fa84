"""`datapackage.json` is a valid Frictionless Data Package and its schemas fit the files.

Two independent checks. The project's own (`package_problems`) follows the Data
Package v1, Table Schema and CSV Dialect specifications for the properties this
release uses: sizes and hashes of every file, every CSV cell against its field's
type, every Parquet column's name and Arrow type against its field. Then the
`frictionless` validator (a dev requirement) checks the whole descriptor and
reads the CSV resources.

Why frictionless reads only the CSV resources: frictionless 5.21 cannot validate
a Parquet resource faithfully. Its Parquet parser opens the file with pyarrow
instead of its byte loader, so the resource's byte count and hash are never
measured (`byte-count: expected is "N" and actual is "None"` for a correct
`bytes`, and the `hash` goes silently unchecked); and it converts through
`Table.to_pandas()`, which turns an int64 column with nulls (a suppressed count)
into float NaN that its pandas reader then reports as a `type-error` for an
`integer` field. Both are reader limits, not faults of the files: the Parquet
counts are int64 with real nulls, and the same values pass as CSV.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.publish import ReleaseFiles
from include.warehouse.aggregates import MISSING_LABEL
from tests.unit.publish.inputs import source

Build = Callable[..., ReleaseFiles]
NAME = re.compile(r"^[-a-z0-9._/]+$")
PARQUET_TYPE_FITS: dict[str, Callable[[pa.DataType], bool]] = {
    "string": lambda kind: pa.types.is_string(kind) or pa.types.is_large_string(kind),
    "integer": pa.types.is_integer,
    "number": pa.types.is_floating,
    "boolean": pa.types.is_boolean,
    "date": pa.types.is_date,
    "datetime": lambda kind: pa.types.is_timestamp(kind) and kind.tz == "UTC",
}
FIELD_TYPES = set(PARQUET_TYPE_FITS)


def _cell_fits(value: str, field: dict[str, Any]) -> bool:
    kind = field["type"]
    if kind == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if kind == "number":
        try:
            return not math.isnan(float(value)) or value == "NaN"
        except ValueError:
            return False
    if kind == "boolean":
        return value in ("true", "false")
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    if kind == "datetime":
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value) is not None
    return True


def _parquet_problems(name: str, path: Path, fields: list[dict[str, Any]]) -> list[str]:
    arrow = pq.read_schema(path)
    if arrow.names != [field.get("name") for field in fields]:
        return [f"{name}: Parquet columns differ from the schema"]
    return [
        f"{name}: Parquet column '{column.name}' is {column.type} but declared {field['type']}"
        for column, field in zip(arrow, fields, strict=True)
        if not PARQUET_TYPE_FITS.get(field.get("type"), lambda _: False)(column.type)
    ]


def _resource_problems(resource: dict[str, Any], directory: Path) -> list[str]:
    name = resource.get("name", "?")
    problems = [f"{name}: {key} missing" for key in ("name", "path") if key not in resource]
    path = directory / resource.get("path", "")
    if not path.is_file():
        return [*problems, f"{name}: {path.name} does not exist"]
    data = path.read_bytes()
    if resource.get("bytes") != len(data):
        problems.append(f"{name}: bytes {resource.get('bytes')} != {len(data)}")
    if resource.get("hash") != "sha256:" + hashlib.sha256(data).hexdigest():
        problems.append(f"{name}: hash does not match the file")
    schema = resource.get("schema", {})
    fields = schema.get("fields", [])
    if schema.get("missingValues") != [""]:
        problems.append(f'{name}: missingValues must be [""]')
    for field in fields:
        if field.get("type") not in FIELD_TYPES:
            problems.append(f"{name}.{field.get('name')}: bad type {field.get('type')}")
        if not str(field.get("description", "")).strip():
            problems.append(f"{name}.{field.get('name')}: no description")
    names = [field.get("name") for field in fields]
    if resource.get("format") == "parquet":
        return [*problems, *_parquet_problems(name, path, fields)]
    if resource.get("profile") != "tabular-data-resource" or resource.get("encoding") != "utf-8":
        problems.append(f"{name}: not a UTF-8 tabular data resource")
    dialect = resource.get("dialect", {})
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream, delimiter=dialect.get("delimiter", ","), quotechar='"'))
    if rows[0] != names:
        return [*problems, f"{name}: header {rows[0]} != schema {names}"]
    for number, row in enumerate(rows[1:], start=2):
        for value, field in zip(row, fields, strict=True):
            enum = field.get("constraints", {}).get("enum")
            if value == "":
                continue
            if not _cell_fits(value, field) or (enum is not None and value not in enum):
                problems.append(f"{name} line {number}: {value!r} is not a {field['type']}")
    return problems


def package_problems(package: dict[str, Any], directory: Path) -> list[str]:
    """Everything that makes `package` an invalid Data Package for the files in `directory`."""
    problems = []
    if not NAME.match(str(package.get("name", ""))):
        problems.append("package name missing or not lower-case")
    licenses = package.get("licenses") or []
    if not licenses or not all("name" in lic or "path" in lic for lic in licenses):
        problems.append("licenses must name or link each licence")
    resources = package.get("resources") or []
    if not resources:
        problems.append("no resources")
    names = [resource.get("name", "") for resource in resources]
    if len(set(names)) != len(names) or not all(NAME.match(n) for n in names):
        problems.append(f"resource names must be unique and lower-case: {names}")
    for resource in resources:
        problems += _resource_problems(resource, directory)
    return problems


@pytest.fixture(params=["consultation", "signalements"])
def release(
    request: pytest.FixtureRequest, build: Build, inputs_of: Callable[[str], dict]
) -> tuple[ReleaseFiles, dict]:
    files = build(inputs_of(request.param), name=request.param)
    return files, json.loads(files.path("datapackage.json").read_text("utf-8"))


def test_package_is_valid_and_matches_its_files(release: tuple) -> None:
    files, package = release
    assert package_problems(package, files.directory) == []


def test_package_metadata_licence_and_french_descriptions(release: tuple) -> None:
    files, package = release
    assert package["licenses"][0]["name"] == "etalab-2.0"
    assert "Licence Ouverte" in package["licenses"][0]["title"]
    assert package["version"] == files.release_id
    records = next(r for r in package["resources"] if r["name"] == files.source)
    descriptions = {f["name"]: f["description"] for f in records["schema"]["fields"]}
    assert descriptions["postcode"].startswith("Code postal")
    aggregate = next(
        r for r in package["resources"] if r["path"].endswith(".csv") and r is not records
    )
    fields = {f["name"]: f for f in aggregate["schema"]["fields"]}
    assert fields["count"]["type"] == "integer"
    assert "masquée" in fields["count"]["description"]
    assert fields["suppressed"]["type"] == "boolean"
    assert fields["suppression_reason"]["constraints"]["enum"] == [
        "primary", "dominance", "complementary", "known",
    ]  # fmt: skip


def test_every_table_has_a_csv_and_a_parquet_resource(release: tuple) -> None:
    files, package = release
    paths = sorted(resource["path"] for resource in package["resources"])
    data_files = sorted(e.path for e in files.files if e.path.endswith((".csv", ".parquet")))
    assert paths == data_files


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda p: p["resources"][0]["schema"]["fields"][0].pop("description"), "no description"),
        (lambda p: p["resources"][0].update(bytes=1), "bytes 1"),
        (lambda p: p["resources"][0]["schema"]["fields"][1].update(type="integer"), "line 2"),
        (lambda p: p["resources"][0]["schema"]["fields"].pop(), "header"),
        (lambda p: p["resources"][1]["schema"]["fields"][0].update(type="integer"), "Parquet"),
        (lambda p: p.update(licenses=[]), "licenses"),
    ],
)
def test_the_structure_check_catches_broken_packages(
    release: tuple, damage: Callable[[dict], object], problem: str
) -> None:
    files, package = release
    damage(package)
    assert any(problem in message for message in package_problems(package, files.directory))


def _csv_resources_only(package: dict[str, Any]) -> dict[str, Any]:
    """The package without its Parquet resources (see the module docstring for why)."""
    csv_resources = [r for r in package["resources"] if r.get("format") == "csv"]
    return {**package, "resources": csv_resources}


def _frictionless_report(package: dict[str, Any], directory: Path) -> Any:
    frictionless = pytest.importorskip("frictionless")
    return frictionless.Package(package, basepath=str(directory)).validate()


def test_frictionless_validates_the_package_when_installed(release: tuple) -> None:
    frictionless = pytest.importorskip("frictionless")
    files, package = release
    descriptor = frictionless.Package.validate_descriptor(package)
    assert descriptor.valid, descriptor.flatten(["type", "note"])
    csv_only = _csv_resources_only(package)
    report = _frictionless_report(csv_only, files.directory)
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    assert report.stats["tasks"] == len(csv_only["resources"]) == len(package["resources"]) // 2


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda r: r.update(hash="sha256:" + "0" * 64), "hash-count"),
        (lambda r: r.update(bytes=r["bytes"] + 1), "byte-count"),
        (lambda r: r["schema"].update(missingValues=["NA"]), "type-error"),
    ],
)
def test_frictionless_catches_a_misdeclared_csv_resource(
    release: tuple, damage: Callable[[dict], object], error: str
) -> None:
    """The frictionless check can fail: a wrong size or hash, or empty (suppressed) counts no
    longer declared missing, on an aggregate CSV, each make it report the error."""
    files, package = release
    csv_only = _csv_resources_only(package)
    damage(next(r for r in csv_only["resources"] if r["name"] != files.source))
    report = _frictionless_report(csv_only, files.directory)
    assert error in {row[0] for row in report.flatten(["type"])}


CODE_LABEL = re.compile(r"« ([^»]+) » : ([^;]+?)(?: ;|\.$)")


def test_coded_columns_keep_their_codes_and_say_what_they_mean(release: tuple) -> None:
    """The data keeps the stable codes; each coded field's description gives their French
    labels (from the source config), so a reader needs no codebook."""
    files, package = release
    config = source(files.source)
    fields = {spec.name: spec for spec in config.fields}
    fields |= {
        dimension.column: config.field(dimension.field)
        for aggregate in config.aggregates
        for dimension in aggregate.dimensions
    }
    described = set()
    for resource in package["resources"]:
        if resource["format"] != "csv":
            continue
        with files.path(resource["path"]).open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream))
        for field in resource["schema"]["fields"]:
            listed = dict(CODE_LABEL.findall(field["description"]))
            if field["name"] not in fields or not listed:
                continue
            spec = fields[field["name"]]
            assert listed in [spec.labels_at(level) for level in range(3)], field["name"]
            values = {row[field["name"]] for row in rows} - {"", "*", MISSING_LABEL}
            assert values <= set(listed), f"{field['name']} publishes {values - set(listed)}"
            described.add(spec.name)
    assert described == {spec.name for spec in config.fields if spec.labels}
