"""The official list of French communes: pinned, hash-checked, compared without accents."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.core import communes_fr
from include.core.communes_fr import CommuneListError, commune_names, is_commune, normalize
from include.core.pinned_download import check_integrity


def test_names_compare_without_case_accents_hyphens_or_apostrophes() -> None:
    assert normalize("Saint-Étienne") == normalize("SAINT ETIENNE") == "saint etienne"
    assert normalize("L'Haÿ-les-Roses") == "l hay les roses"


def test_the_pinned_list_holds_every_current_commune() -> None:
    names = commune_names()
    # Etalab's 6.0.0: 34,969 current communes, plus delegated and associated ones and
    # municipal arrondissements, under fewer distinct names (homonyms share one).
    assert len(names) > 30_000
    assert all(is_commune(name) for name in ("Paris", "Lyon", "Ajaccio", "Saint-Denis"))
    assert not is_commune("Jean Dupont")


def test_a_download_that_is_not_the_pinned_package_is_refused() -> None:
    with pytest.raises(CommuneListError, match="does not hash to the pinned sha512"):
        check_integrity(
            b"not the package", communes_fr.INTEGRITY, communes_fr.TARBALL_URL, CommuneListError
        )


def test_a_missing_list_names_its_fix(tmp_path: Path) -> None:
    with pytest.raises(CommuneListError, match="run `make communes`"):
        commune_names(tmp_path / "absent.json")
