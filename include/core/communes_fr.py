"""The official list of French communes: a closed vocabulary for fields such as `commune`.

WHY: a free-form string published as it was typed is a channel for personal data
(a name, an e-mail, a phone number typed into "commune" reached public files). A
field declared `vocabulary: communes_fr` only admits the name of a commune that
exists; anything else is quarantined at ingest, so it never reaches a public file.

The list is Etalab's `@etalab/decoupage-administratif` (the French administration's
own package of the Code officiel géographique: current, delegated and associated
communes and municipal arrondissements, with their postcodes), taken from the npm
registry at a pinned version and checked against the registry's SHA-512 before use:
no Node.js needed, and nothing fetched is kept in the repository. `make communes`
(run by `make demo` and `make test`) puts it in `.local/reference/`; without it the
validation refuses to start, naming the command.

Names are compared without case, accents, hyphens or apostrophes ("Saint-Étienne",
"saint etienne" and "SAINT-ETIENNE" are the same commune); that much tolerance
admits the usual spellings of a real commune and nothing more.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from pathlib import Path

from include.core.pinned_download import DOWNLOADS_DIR, fetch_member, read_json

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
TARBALL_URL = (
    "https://registry.npmjs.org/@etalab/decoupage-administratif/-/"
    f"decoupage-administratif-{VERSION}.tgz"
)
# The registry's `dist.integrity` for that version: the download must hash to it.
INTEGRITY = (
    "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedv"
    "n/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="
)
MEMBER = "package/data/communes.json"
LIST_PATH = DOWNLOADS_DIR / f"communes-fr-{VERSION}.json"
_NOISE = re.compile(r"[\s'’\-]+")


class CommuneListError(RuntimeError):
    """The list of communes is missing or is not the pinned one."""


@functools.lru_cache(maxsize=1 << 16)
def normalize(name: str) -> str:
    """Case, accents, hyphens, apostrophes and spacing folded away: the comparison key.

    Cached: the ingest asks it twice per record (is it a commune, does it match the
    postcode) of a few thousand names that recur; it was an eighth of the ingest's time.
    """
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return _NOISE.sub(" ", plain).strip()


def fetch(target: Path = LIST_PATH) -> Path:
    """Download the pinned package, check it, keep its list of communes at `target`."""
    return fetch_member(TARBALL_URL, INTEGRITY, MEMBER, target, CommuneListError, json.loads)


@functools.cache
def commune_names(path: Path = LIST_PATH) -> frozenset[str]:
    """Every commune's name, normalized (see `normalize`)."""
    communes = read_json(
        path, CommuneListError, "the official list of French communes", "make communes",
        f"{PACKAGE}@{VERSION} from the npm registry",
    )  # fmt: skip
    return frozenset(normalize(commune["nom"]) for commune in communes)


def is_commune(name: str) -> bool:
    return normalize(name) in commune_names()


@functools.cache
def _whereabouts(path: Path = LIST_PATH) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Normalized name → (the départements, the postcodes) of every commune of that name.

    Names repeat (four "Saint-Denis": Aude, Gard, Seine-Saint-Denis, La Réunion), so a
    commune is placed by its name AND the postcode of the same record.
    """
    commune_names(path)  # the same clear error when the list is missing
    communes = json.loads(path.read_text(encoding="utf-8"))
    places: dict[str, tuple[set[str], set[str]]] = {}
    for commune in communes:
        departements, postcodes = places.setdefault(normalize(commune["nom"]), (set(), set()))
        departements.add(commune["departement"])
        postcodes.update(commune.get("codesPostaux", ()))
    return {name: (frozenset(d), frozenset(p)) for name, (d, p) in places.items()}


def commune_matches_postcode(name: str, postcode: str, departement: str | None) -> bool:
    """Whether a commune of that name has that postcode, or lies in the postcode's département.

    The postcode's département (`geo_fr.departement_code`, None when it has none) is what a
    commune quasi-identifier generalizes to; the postcode itself covers the border communes
    a neighbouring département's post office serves.
    """
    departements, postcodes = _whereabouts().get(normalize(name), (frozenset(), frozenset()))
    return postcode in postcodes or (departement is not None and departement in departements)


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python -m include.core.communes_fr fetch")
    print(f"communes: {fetch()} ({len(commune_names()):,} names)")
