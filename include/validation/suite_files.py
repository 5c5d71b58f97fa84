"""The committed suite and checkpoint files under `expectations/`, and the command that writes them.

Layout, one folder per source::

    expectations/<source>/checkpoint.json              which suite validates which table
    expectations/<source>/curated.json                 the record-level table
    expectations/<source>/aggregate.<name>.json        one per published aggregate

`checkpoint.json` is the gate's list of work for a release: every table named there
must be validated and pass, and a table not named there cannot be published (it has
no suite). Regenerate after editing `sources/*.yaml`, review the diff, commit::

    python -m include.validation write    # (re)write expectations/
    python -m include.validation check    # exit 1 if a file is stale

Reading a suite at run time checks that it was generated from the config being used
(`meta.config_sha256`): a stale suite raises `SuiteFileError` instead of validating
with outdated rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from include.core.source_config import SourceConfig
from include.validation.suites import (
    CURATED,
    GENERATED_BY,
    aggregate_suite,
    aggregate_table,
    config_fingerprint,
    curated_suite,
)

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "expectations"
CHECKPOINT_FILE = "checkpoint.json"


class SuiteFileError(RuntimeError):
    """A suite or checkpoint file is missing, unreadable or out of date with its config."""


def _suite_file(table: str) -> str:
    return f"{CURATED}.json" if table == CURATED else f"aggregate.{table.split(':', 1)[1]}.json"


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_source(config: SourceConfig) -> dict[str, str]:
    """Every file of one source's folder: relative path → exact text."""
    suites = {CURATED: curated_suite(config)}
    for aggregate in config.aggregates:
        suites[aggregate_table(aggregate.name)] = aggregate_suite(config, aggregate)
    checkpoint = {
        "name": f"{config.name}.release",
        "source": config.name,
        "config_sha256": config_fingerprint(config),
        "generated_by": GENERATED_BY,
        "validations": [
            {"table": table, "suite": suite["name"], "file": _suite_file(table)}
            for table, suite in suites.items()
        ],
    }
    files = {f"{config.name}/{CHECKPOINT_FILE}": _dump(checkpoint)}
    for table, suite in suites.items():
        files[f"{config.name}/{_suite_file(table)}"] = _dump(suite)
    return files


def render_all(configs: Iterable[SourceConfig]) -> dict[str, str]:
    files: dict[str, str] = {}
    for config in configs:
        files.update(render_source(config))
    return files


def _existing(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.glob("*/*.json")}


def stale_files(configs: Iterable[SourceConfig], root: Path = EXPECTATIONS_DIR) -> list[str]:
    """Relative paths that differ from what the generator produces, are missing, or are extra."""
    wanted = render_all(configs)
    stale = [
        path
        for path, text in wanted.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
    return sorted([*stale, *(_existing(root) - set(wanted))])


def write_files(configs: Iterable[SourceConfig], root: Path = EXPECTATIONS_DIR) -> dict[str, str]:
    """Write every generated file and delete suite files no config produces.

    Returns what changed, relative path → "written" or "removed" (empty when up to date).
    """
    wanted = render_all(configs)
    changed = {}
    for path, text in wanted.items():
        target = root / path
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        changed[path] = "written"
    for path in sorted(_existing(root) - set(wanted)):
        (root / path).unlink()
        changed[path] = "removed"
    return changed


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteFileError(
            f"{path} does not exist; run `{GENERATED_BY}` and commit the result"
        ) from None
    except (OSError, ValueError) as exc:
        raise SuiteFileError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SuiteFileError(f"{path}: expected a JSON object at the top level")
    return data


def _check_fresh(path: Path, recorded: object, config: SourceConfig) -> None:
    if recorded != config_fingerprint(config):
        raise SuiteFileError(
            f"{path} was generated from another version of the '{config.name}' source "
            f"config; run `{GENERATED_BY}`, review the diff and commit it"
        )


def load_checkpoint(config: SourceConfig, root: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    """The source's checkpoint (its list of table → suite), checked against `config`."""
    path = root / config.name / CHECKPOINT_FILE
    checkpoint = _read_json(path)
    _check_fresh(path, checkpoint.get("config_sha256"), config)
    return checkpoint


def load_suite(config: SourceConfig, table: str, root: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    """The committed suite that validates `table` ("curated" or "aggregate:<name>")."""
    path = root / config.name / _suite_file(table)
    suite = _read_json(path)
    meta = suite.get("meta") or {}
    _check_fresh(path, meta.get("config_sha256"), config)
    if meta.get("table") != table:
        raise SuiteFileError(f"{path} validates '{meta.get('table')}', not '{table}'")
    return suite
