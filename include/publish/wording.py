"""The French wording of published metadata that does not come from a source config.

Source configs describe their own fields in French; the columns the pipeline
adds (counts, suppression flags), the generalization levels and the licence
are described here once, so the data package, the Parquet metadata and the
README all say the same thing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from include.anonymization.cell_suppression import Reason
from include.anonymization.pii import entities
from include.core.french_collation import french_sorted
from include.core.source_config import FieldSpec, Grouping, HierarchyFile, NumericBands

LICENCE = {
    "name": "etalab-2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "title": "Licence Ouverte / Open Licence version 2.0",
}

REASON_LABELS = {
    Reason.PRIMARY.value: "effectif inférieur au seuil minimal",
    Reason.DOMINANCE.value: "une seule contribution domine la cellule",
    Reason.COMPLEMENTARY.value: (
        "masquée pour empêcher de recalculer par différence une autre cellule masquée"
    ),
    Reason.KNOWN.value: (
        "effectif inférieur au seuil mais publié : le fichier individuel de la même "
        "publication le donne déjà exactement"
    ),
}

# What each kind of personal data the scrubber detects is called in a README; the data
# itself shows the placeholder (`<PERSON>`), so both are given.
ENTITY_LABELS = {
    entities.PERSON: "Nom de personne",
    entities.EMAIL_ADDRESS: "Adresse électronique",
    entities.PHONE_NUMBER: "Numéro de téléphone",
    entities.IBAN_CODE: "IBAN (compte bancaire)",
    entities.FR_NIR: "Numéro de sécurité sociale (NIR)",
    entities.FR_SIREN: "Numéro SIREN",
    entities.FR_SIRET: "Numéro SIRET",
    entities.FR_LICENSE_PLATE: "Plaque d'immatriculation",
    entities.FR_ADDRESS: "Adresse postale",
    entities.DATE_OF_BIRTH: "Date de naissance",
    entities.CREDIT_CARD: "Numéro de carte bancaire",
    entities.IP_ADDRESS: "Adresse IP",
    entities.URL: "Adresse web (URL)",
    entities.MAC_ADDRESS: "Adresse MAC",
    entities.CRYPTO: "Adresse de portefeuille de cryptomonnaie",
    entities.FR_ID_CARD: "Numéro de carte d'identité",
    entities.FR_PASSPORT: "Numéro de passeport",
    entities.FR_TAX_ID: "Numéro fiscal",
    entities.FR_CAF_NUMBER: "Numéro d'allocataire CAF",
    entities.FR_DRIVING_LICENCE: "Numéro de permis de conduire",
    entities.SOCIAL_HANDLE: "Compte de réseau social",
    entities.GPS_COORDINATES: "Coordonnées GPS",
    entities.BE_NATIONAL_NUMBER: "Numéro de registre national belge",
    entities.CH_AVS_NUMBER: "Numéro AVS suisse",
}


def french_number(value: object) -> str:
    """French grouping of digits (narrow no-break space): 12 345."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", "\u202f")
    return str(value)


def _percent(rate: float, round_up: bool) -> str:
    """A rate as a percentage to 0.1, rounded towards the unfavourable side: down for a
    share that should be high (a recall of 0.9996 never reads 100 %), up with `round_up`
    for one that should be low (a share of texts damaged). Rounded to 9 digits first, so
    that 0.979 (978.9999… tenths in binary) is not floored to 97.8."""
    tenths = round(rate * 1000, 9)
    return f"{(math.ceil(tenths) if round_up else math.floor(tenths)) / 10:.1f}"


def french_percent(rate: float, *, round_up: bool = False) -> str:
    """0.9871 → « 98,7 % » (see `_percent` for the rounding)."""
    return _percent(rate, round_up).replace(".", ",") + "\u202f%"


def english_percent(rate: float, *, round_up: bool = False) -> str:
    """0.9871 → "98.7%" (see `_percent` for the rounding)."""
    return _percent(rate, round_up) + "%"


TOTAL_NOTE = " Une cellule vide dans cette colonne désigne le total de toutes ses valeurs."


def count_description(min_count: int) -> str:
    return (
        "Effectif : nombre d'enregistrements correspondant à la combinaison des autres "
        f"colonnes. Vide lorsque la cellule est masquée (secret statistique : effectifs "
        f"inférieurs à {min_count} et cellules masquées par complémentarité)."
    )


def perturbed_count_description(max_noise: int, js: int) -> str:
    """`count` of an aggregate protected by the cell key method (nothing hidden)."""
    small = f" Aucun effectif publié n'est compris entre 1 et {js}." if js else ""
    return (
        "Effectif : nombre d'enregistrements correspondant à la combinaison des autres "
        f"colonnes, perturbé d'au plus {max_noise} en plus ou en moins (méthode de la clé de "
        "cellule) pour protéger les personnes concernées ; jamais masqué. Les mêmes "
        "enregistrements donnent toujours le même effectif publié, dans tous les tableaux et "
        "toutes les versions. Un total (une autre colonne vide) est perturbé comme une "
        f"cellule : il n'est pas la somme des effectifs publiés.{small}"
    )


PERTURBED_SUPPRESSED_DESCRIPTION = (
    "Toujours faux (false) : avec la méthode de la clé de cellule, aucun effectif n'est "
    "masqué (chacun est perturbé)."
)
PERTURBED_REASON_DESCRIPTION = "Toujours vide : aucun effectif n'est masqué."


SUPPRESSED_DESCRIPTION = (
    "Vrai (true) lorsque l'effectif de la cellule est masqué pour protéger les personnes "
    "concernées ; faux (false) sinon."
)


def reason_description() -> str:
    reasons = " ; ".join(f"« {code} » : {label}" for code, label in REASON_LABELS.items())
    return (
        f"Motif du masquage de l'effectif ({reasons}). Vide si l'effectif est publié "
        f"(sauf « {Reason.KNOWN.value} »)."
    )


_LEVELS = {
    "exact": "valeur exacte",
    "*": "entièrement masquée (« * »)",
    "département": "département",
    "departement": "département",
    "région": "région",
    "region": "région",
    "month": "mois (AAAA-MM)",
    "quarter": "trimestre (AAAA-T1 à AAAA-T4)",
    "year": "année (AAAA)",
}


_GROUPS_LEVEL = re.compile(r"groups (\d+)")


def describe_level(level: str) -> str:
    """French name of a generalization level ("bands of 10" → "tranches de 10")."""
    if level in _LEVELS:
        return _LEVELS[level]
    if match := re.fullmatch(r"bands of (\d+)", level):
        return f"tranches de {match.group(1)}"
    if match := _GROUPS_LEVEL.fullmatch(level):
        return f"regroupement de niveau {match.group(1)}"
    return level


def with_labels(description: str, labels: Mapping[str, str]) -> str:
    """A coded column's description, completed with what its codes mean: the data keeps
    the stable codes, the reader finds their French labels in the data package, listed
    in the French alphabetical order of the labels."""
    if not labels:
        return description
    ordered = french_sorted(labels.items(), lambda pair: pair[1])
    pairs = " ; ".join(f"« {code} » : {label}" for code, label in ordered)
    return f"{description.rstrip().rstrip('.')}. Codes : {pairs}."


def record_labels(spec: FieldSpec, level: str | None) -> dict[str, str]:
    """Labels of the codes a record-level column holds, at the level it is published at
    (`None` or `"exact"`: as collected; `"groups N"`: the groups of level N)."""
    if level is None or level == "exact":
        return spec.labels_at(0)
    if match := _GROUPS_LEVEL.fullmatch(level):
        return spec.labels_at(int(match.group(1)))
    return {}


def generalized_description(description: str, level: str) -> str:
    """A quasi-identifier's description, completed with the level it is published at."""
    if level == "exact":
        return f"{description} (valeur exacte)."
    if level == "*":
        return f"{description} — masquée dans cette version : toutes les valeurs valent « * »."
    return f"{description} — valeur généralisée : {describe_level(level)}."


def dimension_description(spec: FieldSpec, level: str | None) -> str:
    """An aggregate dimension's description; `level` as the source config writes it
    (`"20"` for bands of 20, `"departement"`, `"month"`, `"1"` for the first grouping)."""
    if level is None:
        return spec.description
    if isinstance(spec.hierarchy, NumericBands):
        coarseness = f"tranches de {level}"
    elif isinstance(spec.hierarchy, Grouping | HierarchyFile):
        coarseness = f"regroupement de niveau {level}"
    else:
        coarseness = describe_level(level)
    return f"{spec.description} — regroupé par {coarseness}."
