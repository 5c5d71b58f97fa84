"""The import bundle: the committed assets zipped the way `POST /api/v1/assets/import/` wants.

Superset's format is a zip whose single root folder holds `metadata.yaml`
(`type: assets`) and the `databases/`, `datasets/`, `charts/`, `dashboards/` YAML
files. The committed database file only holds a placeholder URI: the real host,
port, login and database come from the read-only warehouse `Connection`, with the
password masked as Superset exports it (`XXXXXXXXXX`); the real password travels
beside the zip in the `passwords` map, keyed by the database file's path, so it is
never written into a file.

Pure: same folder and connection, same bytes (fixed zip timestamps, sorted entries).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from include.core.connections import Connection
from include.superset.assets import ASSETS_DIR, SUPERSET_MASK

BUNDLE_ROOT = "civic_superset_assets"
_ZIP_DATE = (2026, 1, 1, 0, 0, 0)


class BundleError(ValueError):
    """The assets folder or the connection cannot make a valid import bundle."""


@dataclass(frozen=True)
class Bundle:
    """The zip to upload, and the database passwords Superset needs beside it."""

    data: bytes = field(repr=False)
    passwords: dict[str, str] = field(repr=False)
    files: tuple[str, ...]  # paths inside the root folder

    def documents(self, prefix: str) -> dict[str, dict[str, Any]]:
        """The parsed YAML files under `prefix` (`charts/`...), by path."""
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            return {
                name: yaml.safe_load(archive.read(f"{BUNDLE_ROOT}/{name}"))
                for name in self.files
                if name.startswith(prefix)
            }


def masked_uri(connection: Connection) -> str:
    """The SQLAlchemy URI of the read-only warehouse role, its password masked."""
    if connection.conn_type not in ("postgres", "postgresql"):
        raise BundleError(
            f"the read-only warehouse connection must be a postgres connection,"
            f" got conn_type '{connection.conn_type}'"
        )
    if not connection.host or not connection.login or not connection.schema:
        raise BundleError(
            "the read-only warehouse connection needs a host, a login and a database (schema);"
            f" got host={connection.host!r} login={connection.login!r}"
            f" schema={connection.schema!r}"
        )
    auth = quote(connection.login, safe="")
    if connection.password:
        auth += ":" + SUPERSET_MASK
    port = f":{connection.port}" if connection.port else ""
    query = "&".join(
        f"{quote(str(key), safe='')}={quote(str(value), safe='')}"
        for key, value in sorted(connection.extra.items())
    )
    return f"postgresql://{auth}@{connection.host}{port}/{quote(connection.schema, safe='')}" + (
        f"?{query}" if query else ""
    )


def _read_assets(assets_dir: Path) -> dict[str, str]:
    if not (assets_dir / "metadata.yaml").is_file():
        raise BundleError(f"{assets_dir}: no metadata.yaml; is this Superset's assets folder?")
    return {
        path.relative_to(assets_dir).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(assets_dir.rglob("*.yaml"))
    }


def _check_metadata(text: str, assets_dir: Path) -> None:
    metadata = yaml.safe_load(text) or {}
    if metadata.get("type") != "assets":
        raise BundleError(
            f"{assets_dir}/metadata.yaml: type must be 'assets' for /api/v1/assets/import/,"
            f" got {metadata.get('type')!r}"
        )


def build_bundle(warehouse_readonly: Connection, assets_dir: Path = ASSETS_DIR) -> Bundle:
    """Zip the assets folder with the database pointed at the read-only warehouse role."""
    files = _read_assets(assets_dir)
    _check_metadata(files["metadata.yaml"], assets_dir)
    databases = [name for name in files if name.startswith("databases/")]
    if len(databases) != 1:
        raise BundleError(
            f"{assets_dir}: expected exactly one database file under databases/, got {databases}"
        )
    database_file = databases[0]
    database = yaml.safe_load(files[database_file])
    database["sqlalchemy_uri"] = masked_uri(warehouse_readonly)
    files[database_file] = yaml.safe_dump(database, sort_keys=False, allow_unicode=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{name}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    passwords = {database_file: warehouse_readonly.password} if warehouse_readonly.password else {}
    return Bundle(buffer.getvalue(), passwords, tuple(files))
