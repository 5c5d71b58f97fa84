"""The README says what the data is, how it was protected, under which licence; no clock."""

from __future__ import annotations

import re
from collections.abc import Callable

from include.publish import ReleaseFiles
from tests.unit.publish.inputs import EVALUATED_AT, RUN_A, source

Build = Callable[..., ReleaseFiles]


def test_readme_states_k_achieved_and_required(release_of_each_source: tuple) -> None:
    files, readme, manifest = release_of_each_source
    records = next(t for t in manifest["tables"] if t["kind"] == "records")
    assert f"**k-anonymat (k = {records['k_achieved']})**" in readme
    assert f"k ≥ {source(files.source).k}" in readme
    for name in records["quasi_identifiers"]:
        assert f"`{name}`" in readme


def test_readme_states_the_licence_and_how_to_cite(release_of_each_source: tuple) -> None:
    files, readme, _ = release_of_each_source
    assert "Licence Ouverte / Open Licence version 2.0" in readme
    assert "etalab-2.0" in readme
    assert "https://www.etalab.gouv.fr/licence-ouverte-open-licence/" in readme
    assert "## Citer ce jeu de données" in readme
    assert f"version {files.release_id}" in readme


def test_readme_explains_suppression_and_withheld_identifiers(
    release_of_each_source: tuple,
) -> None:
    files, readme, manifest = release_of_each_source
    config = source(files.source)
    assert f"tout effectif inférieur à {config.min_cell_count} est masqué" in readme
    for spec in config.direct_identifiers:
        assert f"`{spec.name}`" in readme
    for table in (t for t in manifest["tables"] if t["kind"] == "aggregate"):
        assert f"`{table['name']}` : {table['cells_suppressed']} cellule(s)" in readme
    assert "sans BOM" in readme
    assert "apostrophe" in readme


def test_consultation_readme_states_l_diversity(build: Build, consultation_inputs: dict) -> None:
    readme = build(consultation_inputs).path("README.md").read_text("utf-8")
    assert "**l-diversité distincte (l = " in readme
    assert "l ≥ 2" in readme


def test_every_date_in_the_release_documents_is_the_run_date(release_of_each_source: tuple) -> None:
    """Or the date of a scrubber evaluation the release states: an input, never the clock."""
    files, readme, manifest = release_of_each_source
    documents = readme + files.path("datapackage.json").read_text("utf-8")
    documents += files.path("manifest.json").read_text("utf-8")
    dates = set(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", documents))
    evaluated = {e["evaluated_at"][:10] for e in manifest["scrubber"]["evaluations"].values()}
    assert evaluated == {f"{EVALUATED_AT:%Y-%m-%d}"}
    assert dates == {f"{RUN_A.run_date:%Y-%m-%d}", *evaluated}
