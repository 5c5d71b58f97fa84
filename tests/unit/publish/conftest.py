"""Fixtures shared by the release tests: seeded inputs and built releases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from include.publish import ReleaseFiles, RunInfo, build_release
from tests.unit.publish.inputs import RUN_A, release_inputs, source


@pytest.fixture(scope="session")
def inputs_of() -> Callable[[str], dict[str, Any]]:
    """A source's release inputs, made once per session (the anonymization search runs once);
    tests copy them before changing anything."""
    made: dict[str, dict[str, Any]] = {}

    def _inputs(name: str) -> dict[str, Any]:
        if name not in made:
            made[name] = release_inputs(name)
        return made[name]

    return _inputs


@pytest.fixture
def consultation_inputs(inputs_of: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return inputs_of("consultation")


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., ReleaseFiles]:
    """Build a consultation release (or another source's) into a fresh staging folder."""
    counter = iter(range(1_000))

    def _build(
        inputs: dict[str, Any], *, name: str = "consultation", run: RunInfo = RUN_A, **extra: Any
    ) -> ReleaseFiles:
        staging = tmp_path / f"staging-{next(counter)}"
        return build_release(source(name), run, staging, **inputs, **extra)

    return _build


@pytest.fixture(params=["consultation", "signalements"])
def release_of_each_source(
    request: pytest.FixtureRequest,
    build: Callable[..., ReleaseFiles],
    inputs_of: Callable[[str], dict[str, Any]],
) -> tuple[ReleaseFiles, str, dict[str, Any]]:
    """A release of each source: its files, its README's text and its parsed manifest."""
    files = build(inputs_of(request.param), name=request.param)
    manifest = json.loads(files.path("manifest.json").read_text("utf-8"))
    return files, files.path("README.md").read_text("utf-8"), manifest
