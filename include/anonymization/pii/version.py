"""The scrubber's version: one short id for everything that decides what it redacts.

WHY: a measured figure ("99 % of the names redacted") is true of one scrubber only.
A release states the figures of the last evaluation, so it must also be able to say
whether that evaluation measured the scrubber it runs, or another one. What decides
the scrubber's output:
- this package's code and word lists: every file of `include/anonymization/pii/`
  except the modules that only measure or name the scrubber (`MEASUREMENT_MODULES`;
  the scrubber never imports them, a unit test checks it). Inclusive by default: a
  new recognizer or word-list file changes the version without anyone listing it;
- the spaCy model package (name and installed version) and the installed versions
  of the libraries whose code takes part in a detection (`DETECTING_PACKAGES`);
- the settings (`ScrubSettings`: score threshold, entity types, model).

It is computed from files and package metadata only (a few milliseconds): no spaCy
or Presidio import, no model load, so a publish task can state it without paying the
scrubber's start-up (importing `scrubber.py` alone loads spaCy's French language).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from include.anonymization.pii.entities import DEFAULT_THRESHOLD, ENTITY_TYPES

PACKAGE_DIR = Path(__file__).resolve().parent
# Modules that score or name the scrubber and take no part in a detection.
MEASUREMENT_MODULES = frozenset(
    {
        "evaluation.py",
        "corpus_evaluation.py",
        "reference_corpora.py",
        "presidio_reference_set.py",
        "version.py",
    }
)
# Third-party code that takes part in a detection: Presidio (recognizers, context
# scoring), spaCy and thinc (the NER), phonenumbers, python-stdnum (checksums), schwifty
# (the IBAN registry), regex (the name rules' pattern engine), tldextract (the e-mail
# domain check), spacy-lookups-data (the English lexicon's word frequencies).
DETECTING_PACKAGES = (
    "presidio-analyzer",
    "spacy",
    "thinc",
    "phonenumbers",
    "python-stdnum",
    "schwifty",
    "regex",
    "tldextract",
    "spacy-lookups-data",
)
VERSION_PREFIX = "pii-"
# Where the default model's name is written (read from the source: importing nlp.py
# imports spaCy and Presidio, seconds).
_MODEL_DEFAULT = (PACKAGE_DIR / "nlp.py", "DEFAULT_MODEL")
NOT_INSTALLED = "not installed"


class SettingsLike(Protocol):
    """What `ScrubSettings` holds (duck-typed: importing it would load spaCy)."""

    @property
    def threshold(self) -> float: ...
    @property
    def entities(self) -> tuple[str, ...]: ...
    @property
    def model(self) -> str: ...


def _module_constant(path: Path, name: str) -> str:
    """The string assigned to `name` at the top of `path`, read without importing it."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise RuntimeError(
        f"{path} no longer assigns a string to {name}: the scrubber version reads the default "
        "spaCy model there; update include/anonymization/pii/version.py to where it went"
    )


@dataclass(frozen=True)
class DefaultSettings:
    """`ScrubSettings()` (what the pipeline's scrub task runs), without importing it;
    tests/unit/pii/test_version.py fails if the two ever differ."""

    threshold: float = DEFAULT_THRESHOLD
    entities: tuple[str, ...] = ENTITY_TYPES
    model: str = field(default_factory=lambda: _module_constant(*_MODEL_DEFAULT))


def code_files(package_dir: Path = PACKAGE_DIR) -> Iterator[Path]:
    """Every file that shapes a detection, in a fixed order (compiled caches and editors'
    files left out)."""
    for path in sorted(package_dir.rglob("*"), key=lambda p: p.relative_to(package_dir).as_posix()):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if path.name.startswith(".") or path.name.endswith("~"):  # editors' swap and backups
            continue
        if path.parent == package_dir and path.name in MEASUREMENT_MODULES:
            continue
        yield path


def code_sha256(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over (relative path, content) of every `code_files` file."""
    digest = hashlib.sha256()
    for path in code_files(package_dir):
        name = path.relative_to(package_dir).as_posix().encode()
        content = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(name), name, len(content)))
        digest.update(content)
    return digest.hexdigest()


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return NOT_INSTALLED


@dataclass(frozen=True)
class ScrubberVersion:
    """The scrubber's version id and what it was computed from."""

    id: str
    code_sha256: str
    model: str
    model_version: str
    packages: Mapping[str, str]
    threshold: float
    entities: tuple[str, ...]

    def components(self) -> dict[str, object]:
        """Everything but the id, as plain JSON values (what the id is a hash of)."""
        return {
            "code_sha256": self.code_sha256,
            "model": self.model,
            "model_version": self.model_version,
            "packages": dict(self.packages),
            "threshold": self.threshold,
            "entities": list(self.entities),
        }


def scrubber_version(
    settings: SettingsLike | None = None, package_dir: Path = PACKAGE_DIR
) -> ScrubberVersion:
    """The version of a scrubber built with `settings` (default: the pipeline's) from the
    code installed here. Same code, packages and settings, same id, on any host."""
    settings = settings or DefaultSettings()
    unnamed = ScrubberVersion(
        id="",
        code_sha256=code_sha256(package_dir),
        model=settings.model,
        model_version=_installed(settings.model),
        packages={name: _installed(name) for name in DETECTING_PACKAGES},
        threshold=float(settings.threshold),
        entities=tuple(settings.entities),
    )
    canonical = json.dumps(unnamed.components(), sort_keys=True, separators=(",", ":"))
    return replace(unnamed, id=VERSION_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:12])
