"""The import bundle: Superset's zip layout, the read-only URI filled in, no password inside."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from include.core.connections import Connection
from include.superset.assets import ASSETS_DIR, DATABASE_FILE
from include.superset.bundle import BUNDLE_ROOT, BundleError, build_bundle, masked_uri

READONLY = Connection(
    "postgres", "db.example.org", 6543, "civic_analyst", "s3cr:t/p@ss", "civic", {}
)


def _entries(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_zip_has_one_root_folder_holding_every_asset() -> None:
    bundle = build_bundle(READONLY)
    entries = _entries(bundle.data)
    assert all(name.startswith(f"{BUNDLE_ROOT}/") for name in entries)
    committed = {p.relative_to(ASSETS_DIR).as_posix() for p in ASSETS_DIR.rglob("*.yaml")}
    assert {name.removeprefix(f"{BUNDLE_ROOT}/") for name in entries} == committed
    assert set(bundle.files) == committed
    metadata = yaml.safe_load(entries[f"{BUNDLE_ROOT}/metadata.yaml"])
    assert metadata["type"] == "assets"


def test_database_points_at_the_read_only_role_with_the_password_beside_the_zip() -> None:
    bundle = build_bundle(READONLY)
    database = yaml.safe_load(_entries(bundle.data)[f"{BUNDLE_ROOT}/{DATABASE_FILE}"])
    assert database["sqlalchemy_uri"] == (
        "postgresql://civic_analyst:XXXXXXXXXX@db.example.org:6543/civic"
    )
    assert bundle.passwords == {DATABASE_FILE: "s3cr:t/p@ss"}
    assert all("s3cr:t" not in text for text in _entries(bundle.data).values())
    # Everything else of the committed file is kept.
    committed = yaml.safe_load((ASSETS_DIR / DATABASE_FILE).read_text())
    assert {k: v for k, v in database.items() if k != "sqlalchemy_uri"} == {
        k: v for k, v in committed.items() if k != "sqlalchemy_uri"
    }


def test_same_inputs_same_bytes() -> None:
    assert build_bundle(READONLY).data == build_bundle(READONLY).data


def test_documents_reads_the_bundled_yaml() -> None:
    charts = build_bundle(READONLY).documents("charts/")
    assert charts
    assert all(path.startswith("charts/") and "slice_name" in doc for path, doc in charts.items())


def test_uri_quotes_the_login_and_carries_extra_parameters() -> None:
    conn = Connection(
        "postgres", "h", None, "analyste @1", "pw", "entrepôt", {"sslmode": "require"}
    )
    assert masked_uri(conn) == (
        "postgresql://analyste%20%401:XXXXXXXXXX@h/entrep%C3%B4t?sslmode=require"
    )


def test_a_role_without_password_gets_no_mask_and_no_passwords_entry() -> None:
    trusted = Connection("postgres", "127.0.0.1", 5432, "civic_analyst", None, "civic")
    bundle = build_bundle(trusted)
    assert bundle.passwords == {}
    database = yaml.safe_load(_entries(bundle.data)[f"{BUNDLE_ROOT}/{DATABASE_FILE}"])
    assert database["sqlalchemy_uri"] == "postgresql://civic_analyst@127.0.0.1:5432/civic"


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        (Connection("aws", "h", 1, "u", "p", "civic"), "must be a postgres connection"),
        (Connection("postgres", None, 1, "u", "p", "civic"), "needs a host, a login"),
        (Connection("postgres", "h", 1, None, "p", "civic"), "needs a host, a login"),
        (Connection("postgres", "h", 1, "u", "p", None), "needs a host, a login"),
    ],
)
def test_unusable_connections_are_refused(connection: Connection, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        build_bundle(connection)


def _copy_assets(tmp_path: Path) -> Path:
    target = tmp_path / "assets"
    shutil.copytree(ASSETS_DIR, target)
    return target


def test_a_folder_without_metadata_is_refused(tmp_path: Path) -> None:
    folder = _copy_assets(tmp_path)
    (folder / "metadata.yaml").unlink()
    with pytest.raises(BundleError, match=r"no metadata\.yaml"):
        build_bundle(READONLY, folder)


def test_metadata_of_another_type_is_refused(tmp_path: Path) -> None:
    folder = _copy_assets(tmp_path)
    (folder / "metadata.yaml").write_text("version: 1.0.0\ntype: Dashboard\n")
    with pytest.raises(BundleError, match="type must be 'assets'"):
        build_bundle(READONLY, folder)


def test_two_databases_are_refused(tmp_path: Path) -> None:
    folder = _copy_assets(tmp_path)
    shutil.copy(folder / DATABASE_FILE, folder / "databases" / "other.yaml")
    with pytest.raises(BundleError, match="exactly one database"):
        build_bundle(READONLY, folder)
