"""Small, cheap helpers DAG files may call at parse time (no heavy imports here)."""

from __future__ import annotations

from include.core.source_config import SOURCES_DIR


def source_names() -> list[str]:
    """Configured sources, from the file names alone (parse time must stay cheap)."""
    return sorted(path.stem for path in SOURCES_DIR.glob("*.yaml"))


def release_asset_uri(source: str) -> str:
    """The Airflow Asset a source's release updates (downstream DAGs schedule on it)."""
    return f"civic://releases/{source}"
