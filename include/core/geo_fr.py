"""French postcodes → départements → régions, for generalizing where people live.

Why a table of its own: the postcode is the finest quasi-identifier most forms
collect, and the natural way to coarsen it is the administrative tree
(département, then région). That tree is small and stable (101 départements,
18 régions since 2016), so it ships as code: no download, no data file to keep
in sync.

The mapping follows the postcode, not the commune: a postcode belongs to the
département its first digits name (La Poste's own rule), so the few border
communes served by a neighbouring département's post office are counted there.
That keeps the generalization a deterministic tree, which is all k-anonymity
needs.

Postcodes that belong to no département raise `PostcodeError` rather than being
forced into a made-up group:

- Corsica shares the prefix 20: 20000–20199 → Corse-du-Sud (2A), 20200–20999 →
  Haute-Corse (2B).
- Overseas départements use three digits: 971 Guadeloupe, 972 Martinique,
  973 Guyane, 974 La Réunion, 976 Mayotte.
- 975xx (Saint-Pierre-et-Miquelon), 97133 (Saint-Barthélemy), 97150
  (Saint-Martin) and 986xx–988xx (Wallis-et-Futuna, French Polynesia, New
  Caledonia) are overseas collectivities, not départements: an error.
- 98000 (Monaco) is a foreign state that La Poste serves: an error, not a fake
  département "98", since it belongs to no French région and a one-off group
  would single its residents out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class PostcodeError(ValueError):
    """A value is not the postcode of a French département."""


@dataclass(frozen=True)
class Region:
    """One of the 18 régions (13 metropolitan, 5 overseas), with its INSEE code."""

    code: str
    name: str
    overseas: bool


@dataclass(frozen=True)
class Departement:
    """One of the 101 départements, with its INSEE code (``"2A"``, ``"971"``...)."""

    code: str
    name: str
    region: Region


_REGIONS: tuple[Region, ...] = (
    Region("01", "Guadeloupe", True),
    Region("02", "Martinique", True),
    Region("03", "Guyane", True),
    Region("04", "La Réunion", True),
    Region("06", "Mayotte", True),
    Region("11", "Île-de-France", False),
    Region("24", "Centre-Val de Loire", False),
    Region("27", "Bourgogne-Franche-Comté", False),
    Region("28", "Normandie", False),
    Region("32", "Hauts-de-France", False),
    Region("44", "Grand Est", False),
    Region("52", "Pays de la Loire", False),
    Region("53", "Bretagne", False),
    Region("75", "Nouvelle-Aquitaine", False),
    Region("76", "Occitanie", False),
    Region("84", "Auvergne-Rhône-Alpes", False),
    Region("93", "Provence-Alpes-Côte d'Azur", False),
    Region("94", "Corse", False),
)

REGIONS: dict[str, Region] = {r.code: r for r in _REGIONS}

# (département code, official name, région code), in INSEE order.
_DEPARTEMENT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("01", "Ain", "84"),
    ("02", "Aisne", "32"),
    ("03", "Allier", "84"),
    ("04", "Alpes-de-Haute-Provence", "93"),
    ("05", "Hautes-Alpes", "93"),
    ("06", "Alpes-Maritimes", "93"),
    ("07", "Ardèche", "84"),
    ("08", "Ardennes", "44"),
    ("09", "Ariège", "76"),
    ("10", "Aube", "44"),
    ("11", "Aude", "76"),
    ("12", "Aveyron", "76"),
    ("13", "Bouches-du-Rhône", "93"),
    ("14", "Calvados", "28"),
    ("15", "Cantal", "84"),
    ("16", "Charente", "75"),
    ("17", "Charente-Maritime", "75"),
    ("18", "Cher", "24"),
    ("19", "Corrèze", "75"),
    ("2A", "Corse-du-Sud", "94"),
    ("2B", "Haute-Corse", "94"),
    ("21", "Côte-d'Or", "27"),
    ("22", "Côtes-d'Armor", "53"),
    ("23", "Creuse", "75"),
    ("24", "Dordogne", "75"),
    ("25", "Doubs", "27"),
    ("26", "Drôme", "84"),
    ("27", "Eure", "28"),
    ("28", "Eure-et-Loir", "24"),
    ("29", "Finistère", "53"),
    ("30", "Gard", "76"),
    ("31", "Haute-Garonne", "76"),
    ("32", "Gers", "76"),
    ("33", "Gironde", "75"),
    ("34", "Hérault", "76"),
    ("35", "Ille-et-Vilaine", "53"),
    ("36", "Indre", "24"),
    ("37", "Indre-et-Loire", "24"),
    ("38", "Isère", "84"),
    ("39", "Jura", "27"),
    ("40", "Landes", "75"),
    ("41", "Loir-et-Cher", "24"),
    ("42", "Loire", "84"),
    ("43", "Haute-Loire", "84"),
    ("44", "Loire-Atlantique", "52"),
    ("45", "Loiret", "24"),
    ("46", "Lot", "76"),
    ("47", "Lot-et-Garonne", "75"),
    ("48", "Lozère", "76"),
    ("49", "Maine-et-Loire", "52"),
    ("50", "Manche", "28"),
    ("51", "Marne", "44"),
    ("52", "Haute-Marne", "44"),
    ("53", "Mayenne", "52"),
    ("54", "Meurthe-et-Moselle", "44"),
    ("55", "Meuse", "44"),
    ("56", "Morbihan", "53"),
    ("57", "Moselle", "44"),
    ("58", "Nièvre", "27"),
    ("59", "Nord", "32"),
    ("60", "Oise", "32"),
    ("61", "Orne", "28"),
    ("62", "Pas-de-Calais", "32"),
    ("63", "Puy-de-Dôme", "84"),
    ("64", "Pyrénées-Atlantiques", "75"),
    ("65", "Hautes-Pyrénées", "76"),
    ("66", "Pyrénées-Orientales", "76"),
    ("67", "Bas-Rhin", "44"),
    ("68", "Haut-Rhin", "44"),
    ("69", "Rhône", "84"),
    ("70", "Haute-Saône", "27"),
    ("71", "Saône-et-Loire", "27"),
    ("72", "Sarthe", "52"),
    ("73", "Savoie", "84"),
    ("74", "Haute-Savoie", "84"),
    ("75", "Paris", "11"),
    ("76", "Seine-Maritime", "28"),
    ("77", "Seine-et-Marne", "11"),
    ("78", "Yvelines", "11"),
    ("79", "Deux-Sèvres", "75"),
    ("80", "Somme", "32"),
    ("81", "Tarn", "76"),
    ("82", "Tarn-et-Garonne", "76"),
    ("83", "Var", "93"),
    ("84", "Vaucluse", "93"),
    ("85", "Vendée", "52"),
    ("86", "Vienne", "75"),
    ("87", "Haute-Vienne", "75"),
    ("88", "Vosges", "44"),
    ("89", "Yonne", "27"),
    ("90", "Territoire de Belfort", "27"),
    ("91", "Essonne", "11"),
    ("92", "Hauts-de-Seine", "11"),
    ("93", "Seine-Saint-Denis", "11"),
    ("94", "Val-de-Marne", "11"),
    ("95", "Val-d'Oise", "11"),
    ("971", "Guadeloupe", "01"),
    ("972", "Martinique", "02"),
    ("973", "Guyane", "03"),
    ("974", "La Réunion", "04"),
    ("976", "Mayotte", "06"),
)

DEPARTEMENTS: dict[str, Departement] = {
    code: Departement(code, name, REGIONS[region]) for code, name, region in _DEPARTEMENT_ROWS
}

_POSTCODE = re.compile(r"\d{5}")

# Postcodes of places that are not in a département, with what they are.
_NOT_A_DEPARTEMENT: dict[str, str] = {
    "975": "Saint-Pierre-et-Miquelon, an overseas collectivity",
    "977": "Saint-Barthélemy, an overseas collectivity",
    "978": "Saint-Martin, an overseas collectivity",
    "980": "Monaco, a foreign state served by La Poste",
    "986": "Wallis-et-Futuna, an overseas collectivity",
    "987": "French Polynesia, an overseas collectivity",
    "988": "New Caledonia, a sui generis collectivity",
}
# Saint-Barthélemy and Saint-Martin kept Guadeloupe's 971 prefix when they left it in 2007.
_COLLECTIVITY_POSTCODES = {"97133": "977", "97150": "978"}


def _normalize(postcode: object) -> str:
    """A postcode as five digits; ints are zero-padded (CSV readers drop the leading zero)."""
    if isinstance(postcode, bool):
        raise PostcodeError(f"{postcode!r} is not a postcode")
    if isinstance(postcode, int) and 1000 <= postcode <= 99999:
        return f"{postcode:05d}"
    if isinstance(postcode, str) and _POSTCODE.fullmatch(postcode.strip()):
        return postcode.strip()
    raise PostcodeError(f"{postcode!r} is not a French postcode (expected five digits)")


def departement_code(postcode: object) -> str:
    """The INSEE code of the département a postcode belongs to (``"75"``, ``"2A"``, ``"974"``).

    Raises `PostcodeError` naming the value when it is malformed or belongs to no département.
    """
    text = _normalize(postcode)
    prefix = text[:3]
    if text in _COLLECTIVITY_POSTCODES:
        prefix = _COLLECTIVITY_POSTCODES[text]
    if prefix in _NOT_A_DEPARTEMENT:
        raise PostcodeError(
            f"{text!r} is the postcode of {_NOT_A_DEPARTEMENT[prefix]}, not of a French département"
        )
    if prefix in DEPARTEMENTS:
        return prefix
    if text[:2] == "20":
        return "2A" if int(text) < 20200 else "2B"
    if text[:2] in DEPARTEMENTS:
        return text[:2]
    raise PostcodeError(f"{text!r} is not the postcode of any French département")


def departement_of_postcode(postcode: object) -> Departement:
    """The département a postcode belongs to."""
    return DEPARTEMENTS[departement_code(postcode)]


def region_of_postcode(postcode: object) -> Region:
    """The région a postcode belongs to."""
    return departement_of_postcode(postcode).region
