"""The layout of `include/` shows the architecture, and these checks keep it so.

Read from the modules' imports (their syntax trees, every import, top-level or local):

- the ground floor (`include/core/`) uses no other package of the project, so every
  package can use it without a cycle;
- no module imports a private name (`_x`) from another package: what a package offers
  the others is its public names;
- each stage's task is in its own package's `task.py`, `include/pipeline/` keeps only
  what the stages share, and no module of `include/` imports another package's task:
  only the DAG wires the stages together, so no module is the hub of every stage.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "include"
STAGE_PACKAGES = ("ingest", "anonymization", "validation", "warehouse", "audit", "publish")


@dataclass(frozen=True)
class Import:
    """One imported module (and the name taken from it, if any), where it is imported."""

    importer: str  # dotted name of the importing module
    line: int
    module: str  # dotted name of the imported module
    name: str | None  # `from module import name`; None for `import module`


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, importer: str, is_package: bool = False) -> list[Import]:
    """Every project import in `source`, absolute or relative, at any depth."""
    package = importer.split(".") if importer else []
    if is_package:  # an __init__: its own name is the package relative imports start from
        package = [*package, "__init__"]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(importer, node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolved against the importer's package
                base = package[: len(package) - node.level]
                module = ".".join([*base, module] if module else base)
            found += [Import(importer, node.lineno, module, alias.name) for alias in node.names]
    return [item for item in found if item.module.split(".")[0] == "include"]


def package_of(module: str) -> str:
    """The package of `include` a module belongs to (`include.x.y` → `x`; a top-level
    module `include.x` is its own)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def project_imports() -> list[Import]:
    found = []
    for path in sorted(INCLUDE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        found += imports_of(source, module_name(path), path.name == "__init__.py")
    return found


def core_violations(imports: list[Import]) -> list[Import]:
    """Imports by the ground floor of any other package of the project."""
    return [
        item
        for item in imports
        if package_of(item.importer) == "core"
        and not (item.module == "include.core" or item.module.startswith("include.core."))
        and not (item.module == "include" and item.name == "core")
    ]


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_violations(imports: list[Import]) -> list[Import]:
    """Private names (a name or a module) taken from another package."""
    return [
        item
        for item in imports
        if package_of(item.module) != package_of(item.importer)
        and (
            any(is_private(part) for part in item.module.split("."))
            or (item.name is not None and is_private(item.name))
        )
    ]


def task_of(item: Import) -> str | None:
    """The package whose stage task `item` imports, if it imports one."""
    parts = item.module.split(".")
    if len(parts) == 3 and parts[2] == "task":
        return parts[1]
    if len(parts) == 2 and item.name == "task":
        return parts[1]
    return None


def hub_violations(imports: list[Import]) -> list[Import]:
    """Imports of a stage's task from outside its package (only the DAG wires them)."""
    return [
        item
        for item in imports
        if (owner := task_of(item)) is not None and package_of(item.importer) != owner
    ]


def _shown(items: list[Import]) -> list[str]:
    return [f"{i.importer}:{i.line} imports {i.module} {i.name or ''}".strip() for i in items]


def test_the_ground_floor_uses_no_other_package() -> None:
    assert _shown(core_violations(project_imports())) == []


def test_no_module_takes_a_private_name_from_another_package() -> None:
    assert _shown(private_violations(project_imports())) == []


def test_stages_are_wired_by_the_dag_only() -> None:
    assert not (INCLUDE / "pipeline" / "stages.py").exists()
    assert _shown(hub_violations(project_imports())) == []
    missing = [name for name in STAGE_PACKAGES if not (INCLUDE / name / "task.py").is_file()]
    assert missing == []
    dag = ROOT / "dags" / "civic_pipeline.py"
    wired = {task_of(item) for item in imports_of(dag.read_text(encoding="utf-8"), "")}
    assert wired >= set(STAGE_PACKAGES)


@pytest.mark.parametrize(
    ("importer", "source", "check"),
    [
        ("include.core.zones", "from include.warehouse.load import ensure_warehouse", "core"),
        ("include.core.zones", "import include.ingest.keys", "core"),
        ("include.core.settings", "from include import audit", "core"),
        ("include.core.zones", "from ..audit import verify", "core"),
        ("include.publish.task", "from include.warehouse.load import _fence", "private"),
        ("include.publish.task", "from include.anonymization._lattice import Lattice", "private"),
        ("include.anonymization.task", "from include.pipeline.outcome import _refuse", "private"),
        ("include.pipeline.workzone", "from include.ingest.task import ingest", "hub"),
        ("include.pipeline.stages", "from include.publish import task", "hub"),
        ("include.demo_runs", "from include.warehouse import task as stage", "hub"),
    ],
)
def test_the_checks_catch_what_they_forbid(importer: str, source: str, check: str) -> None:
    """Each rule, given one import that breaks it, reports that import (and nothing more)."""
    found = {
        "core": core_violations,
        "private": private_violations,
        "hub": hub_violations,
    }[check](imports_of(source, importer))
    assert [item.importer for item in found] == [importer]


@pytest.mark.parametrize(
    ("importer", "source"),
    [
        ("include.core.source_config", "from include.core.metric_spec import MetricSpec"),
        ("include.core.zones", "from .settings import Settings"),
        ("include.warehouse.task", "from include.warehouse.load import LoadError, load_run"),
        ("include.warehouse.task", "from include.warehouse.record_store import _key_array"),
        ("include.publish.task", "from include.audit.chain import Anchor"),
        ("include.validation.task", "from include.validation import require_valid"),
    ],
)
def test_the_checks_let_the_layout_s_own_imports_through(importer: str, source: str) -> None:
    imports = imports_of(source, importer)
    assert core_violations(imports) + private_violations(imports) + hub_violations(imports) == []
