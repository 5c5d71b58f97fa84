"""French wording of the analysts' datasets: column names, descriptions, the secret label.

Analysts read Superset in French. Every label is derived from the source
configuration's field descriptions where one exists, so that renaming a field's
description in `sources/<source>.yaml` renames it in Superset at the next
`python -m include.superset write`, with no second place to edit.
"""

from __future__ import annotations

from include.core.source_config import (
    DateLevels,
    Dimension,
    FieldSpec,
    Grouping,
    HierarchyFile,
    NumericBands,
    PostcodeFr,
    Role,
    SourceConfig,
)
from include.warehouse.pg_tables import RUN_COLUMN

# What a suppressed cell shows instead of a number: never 0, never an empty cell.
SUPPRESSED_LABEL = "secret statistique"

_DATE_LEVELS = {"month": "mois", "quarter": "trimestre", "year": "année"}
_POSTCODE_LEVELS = {"departement": "département", "region": "région"}


def short_label(description: str) -> str:
    """A column title: the description without its parenthesised details."""
    return description.split(" (", 1)[0].strip()


def level_wording(spec: FieldSpec, level: str) -> str:
    """How a hierarchy level reads in French: `mois`, `département`, `tranches de 20`."""
    hierarchy = spec.hierarchy
    if isinstance(hierarchy, DateLevels):
        return _DATE_LEVELS[level]
    if isinstance(hierarchy, PostcodeFr):
        return _POSTCODE_LEVELS[level]
    if isinstance(hierarchy, NumericBands):
        return f"tranches de {level}"
    if isinstance(hierarchy, Grouping | HierarchyFile):
        return f"regroupement de niveau {level}"
    raise ValueError(f"field '{spec.name}' has no hierarchy level '{level}'")


def dimension_label(config: SourceConfig, dimension: Dimension) -> tuple[str, str]:
    """(verbose name, description) of an aggregate's dimension column."""
    spec = config.field(dimension.field)
    title = short_label(spec.description) or spec.name
    if dimension.level is None:
        return title, spec.description or title
    wording = level_wording(spec, dimension.level)
    return f"{title} ({wording})", f"{spec.description or title}, par {wording}"


def coded_label(title: str, description: str) -> tuple[str, str]:
    """(verbose name, description) of a column of codes shown beside its French labels.

    The labelled column takes the plain title, so that charts and pivot headers read it;
    the codes keep theirs with « (code) », for filters written against the open data.
    """
    return (
        f"{title} (code)",
        f"{description} ; code tel que publié dans les données ouvertes"
        f" (libellé en clair : colonne « {title} »)",
    )


def curated_label(config: SourceConfig, spec: FieldSpec) -> tuple[str, str]:
    """(verbose name, description) of a record-level column, with what protects it."""
    title = short_label(spec.description) or spec.name
    description = spec.description or title
    if spec.role is Role.QUASI_IDENTIFIER:
        description += (
            f" ; généralisé jusqu'à ce que chaque combinaison publiée concerne au moins"
            f" {config.k} personnes (« * » : valeur masquée)"
        )
    elif spec.role is Role.FREE_TEXT:
        description += " ; texte expurgé de toute donnée personnelle"
    elif spec.role is Role.SENSITIVE:
        description += f" ; au moins {config.l_diversity} valeurs distinctes par groupe"
    return title, description


def pseudonym_label(spec: FieldSpec) -> tuple[str, str]:
    """(verbose name, description) of the column that stands in for a direct identifier."""
    title = short_label(spec.description) or spec.name
    return (
        f"Pseudonyme – {title}",
        f"{spec.description or title} ; remplacé par un pseudonyme à clé (HMAC) :"
        " la valeur d'origine ne quitte jamais la zone brute",
    )


def cell_labels(config: SourceConfig) -> dict[str, tuple[str, str]]:
    """(verbose name, description) of the columns every aggregate table ends with."""
    return {
        "count": (
            "Effectif",
            "Nombre d'enregistrements dans la cellule ; vide quand la cellule est couverte"
            f" par le secret statistique (moins de {config.min_cell_count}, ou masquage"
            " complémentaire), jamais 0",
        ),
        "suppressed": (
            "Secret statistique",
            "Vrai quand l'effectif de la cellule est masqué",
        ),
        "suppression_reason": (
            "Motif du secret",
            f"primary : moins de {config.min_cell_count} ; complementary : masquée pour"
            " qu'aucune cellule primaire ne puisse être déduite des totaux",
        ),
        RUN_COLUMN: ("Exécution", "Exécution du pipeline qui a publié cette table"),
    }
