"""The analysts' datasets: one physical Superset dataset per warehouse table they may read.

Tables and columns come from the same definitions the loader uses
(`include.warehouse.pg_tables.curated_columns` / `aggregate_columns`) and, for the two run-level
quality tables, from `include/sql/warehouse.sql` (mirrored in `RUN_TABLES`; a unit
test compares both), so a dataset cannot drift from its table unnoticed.
What a chart needs beyond the stored columns is a *calculated column* or a *saved
metric* on the physical dataset (an SQL expression Superset keeps across column
refreshes), never a virtual dataset: a refresh then only has the table to follow.
Coded values (categories, quarantine reasons) get a calculated column of French labels
(`<column>_libelle`, `motif`, see `include.superset.sql_labels`), and charts group by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from include.anonymization.pseudonyms import pseudonym_column
from include.core.source_config import (
    Aggregate,
    CommuneFr,
    Dimension,
    FieldSpec,
    Grouping,
    PostcodeFr,
    SourceConfig,
)
from include.superset.labels import (
    SUPPRESSED_LABEL,
    cell_labels,
    coded_label,
    curated_label,
    dimension_label,
    pseudonym_label,
)
from include.superset.sql_labels import label_case, reason_case
from include.warehouse.pg_tables import (
    RUN_COLUMN,
    aggregate_columns,
    aggregate_table,
    curated_columns,
)

CURATED_SCHEMA = "curated"
AGGREGATES_SCHEMA = "aggregates"
RUN_INDICATORS = "indicateurs_execution"
QUARANTINE_REASONS = "quarantaine_par_motif"
RELEASES = "versions_publiees"

# Calculated columns and saved metrics that charts refer to by name.
DISPLAYED_COUNT = "effectif_affiche"
PUBLISHED_NUMBER = "effectif_publie"
ISO_SUFFIX = "_iso"
PUBLISHED_COUNT = "effectif"
CELL_LABEL = "effectif_ou_secret"
# What a group of cells adds up to, written so that it reads right whatever the grouping
# (one cell, a département's communes...): see `_GROUPED_EXPRESSION`.
GROUPED_LABEL = "effectif_des_cellules"
# Superset adds a metric `count` (COUNT(*)) to every dataset it refreshes; declaring it
# keeps import and refresh in agreement and gives it a French name saying what it counts.
ROW_COUNT = "count"
QUARANTINE_RATE = "taux_quarantaine"
REDACTED_SHARE = "part_textes_expurges"
QUARANTINED_ROWS = "lignes_en_quarantaine"
ROWS_RECEIVED = "lignes_recues"
# The French labels of a coded column, beside it: `category` → `category_libelle`.
LABEL_SUFFIX = "_libelle"
# The quarantine reason in French, beside the `reason` code.
REASON_LABEL = "motif"

# A cell's count as text, or the secret label: what the cell tables show. Digits are
# grouped by threes with a no-break space, as the charts' French number format does.
_DISPLAYED_EXPRESSION = (
    f"CASE WHEN \"suppressed\" THEN '{SUPPRESSED_LABEL}'"
    " ELSE replace(to_char(\"count\", 'FM999,999,999,999,990'), ',', chr(160)) END"
)
# A group of cells as text, right at any grouping (CELL_LABEL's MAX is right for one cell
# only): a group whose every cell is suppressed reads the secret label; otherwise the sum of
# its published cells, followed by how many cells are suppressed when some are. Suppressed
# cells never enter the sum (their count is NULL anyway; the CASE says so twice), so a drill
# from a département to its communes shows each commune exactly as the release publishes it
# and the département as the sum of what is published: never a figure below a published cell.
_HIDDEN_CELLS = 'SUM(CASE WHEN "suppressed" THEN 1 ELSE 0 END)'
_PUBLISHED_SUM = (
    'replace(to_char(SUM(CASE WHEN "suppressed" THEN NULL ELSE "count" END),'
    " 'FM999,999,999,999,990'), ',', chr(160))"
)
_GROUPED_EXPRESSION = (
    f"CASE WHEN {_HIDDEN_CELLS} = COUNT(*) THEN '{SUPPRESSED_LABEL}'"
    f" WHEN {_HIDDEN_CELLS} = 0 THEN {_PUBLISHED_SUM}"
    f" ELSE {_PUBLISHED_SUM} || ' (hors ' || {_HIDDEN_CELLS}"
    f" || CASE WHEN {_HIDDEN_CELLS} = 1 THEN ' cellule' ELSE ' cellules' END"
    f" || ' au {SUPPRESSED_LABEL})' END"
)
# Superset names PostgreSQL types the way the dialect compiles them, upper case.
_SUPERSET_TYPES = {"timestamptz": "TIMESTAMP WITH TIME ZONE"}
_TEMPORAL = ("date", "timestamptz")
# Overseas départements: INSEE code → the ISO 3166-2 code of Superset's France map.
_OVERSEAS_ISO = {"971": "FR-GP", "972": "FR-MQ", "973": "FR-GF", "974": "FR-RE", "976": "FR-YT"}


def superset_type(pg_type: str) -> str:
    return _SUPERSET_TYPES.get(pg_type, pg_type.upper())


@dataclass(frozen=True)
class Column:
    """A dataset column; with an `expression` it is a calculated column (SQL on the table)."""

    name: str
    type: str  # as Superset names it: TEXT, BIGINT...
    verbose_name: str
    description: str
    expression: str | None = None
    is_dttm: bool = False


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    verbose_name: str
    description: str
    d3format: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A physical dataset: one warehouse table, its columns, calculated columns and metrics."""

    schema: str
    table: str
    description: str
    columns: tuple[Column, ...]
    metrics: tuple[Metric, ...]

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        clashes = sorted({name for name in names if names.count(name) > 1})
        if clashes:
            raise ValueError(
                f"dataset {self.key}: columns {clashes} are declared twice; a calculated column"
                f" (suffix '{LABEL_SUFFIX}', '{REASON_LABEL}') clashes with a stored one:"
                " rename the field in its source file"
            )

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.table}"


# The run-level quality tables (DDL in include/sql/warehouse.sql): name, PostgreSQL type,
# French title, description.
# Columns every run-level table starts with.
_SOURCE = ("source", "text", "Source", "Nom de la source (fichier sources/<source>.yaml)")
_RUN = [
    ("run_id", "text", "Exécution", "Identifiant de l'exécution du pipeline"),
    ("run_date", "date", "Date de l'exécution", "Date logique de l'exécution"),
]
RUN_TABLES: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    RUN_INDICATORS: (
        "Indicateurs de qualité par exécution du pipeline et par source : lignes reçues, mises"
        " en quarantaine, doublons, publiées, supprimées par le k-anonymat, textes libres et"
        " textes où des données personnelles ont été masquées.",
        [
            _SOURCE,
            *_RUN,
            ("rows_read", "bigint", "Lignes reçues", "Lignes lues dans la zone brute"),
            ("rows_quarantined", "bigint", "Lignes en quarantaine",
             "Lignes refusées (format, type, valeur non autorisée) et conservées à part"),
            ("rows_duplicate", "bigint", "Doublons", "Lignes déjà reçues, écartées"),
            ("rows_published", "bigint", "Lignes publiées",
             "Enregistrements publiés dans les données individuelles"),
            ("rows_suppressed", "bigint", "Lignes supprimées",
             "Enregistrements retirés pour garantir le k-anonymat"),
            ("texts", "bigint", "Textes libres", "Textes libres non vides examinés"),
            ("texts_redacted", "bigint", "Textes expurgés",
             "Textes libres où au moins une donnée personnelle a été masquée"),
        ],
    ),
    QUARANTINE_REASONS: (
        "Lignes (et fichiers entiers) mises en quarantaine par motif technique, par exécution"
        " du pipeline et par source.",
        [
            _SOURCE,
            *_RUN,
            ("reason", "text", "Motif (code)",
             "Code technique du refus (code:champ) ; en clair : colonne « Motif »"),
            ("rows", "bigint", "Lignes", "Lignes mises en quarantaine pour ce motif"),
            ("objects", "integer", "Fichiers", "Fichiers entiers mis en quarantaine"),
        ],
    ),
    RELEASES: (
        "Versions publiées par source : identifiant, date des données qu'elles contiennent et"
        " date de leur publication.",
        [
            _SOURCE,
            ("release_id", "text", "Version", "Identifiant de la version publiée"),
            ("run_id", "text", "Exécution", "Identifiant de l'exécution qui l'a publiée"),
            ("run_date", "date", "Données au", "Date des données que la version contient"),
            ("published_at", "timestamptz", "Publiée le", "Date et heure de la publication"),
        ],
    ),
}  # fmt: skip


def _sum(column: str) -> str:
    return f'SUM("{column}")'


# What the `effectif` metric sums: the published counts (a suppressed cell's is NULL).
PUBLISHED_SUM_SQL = _sum("count")


def _cells_metric() -> Metric:
    return Metric(
        ROW_COUNT,
        "COUNT(*)",
        "Nombre de cellules",
        "Lignes de la table, c'est-à-dire des cellules : l'effectif est la métrique « effectif »",
        ",d",
    )


def _ratio(numerator: str, denominator: str) -> str:
    return f"CAST({_sum(numerator)} AS DOUBLE PRECISION) / NULLIF({_sum(denominator)}, 0)"


def label_column(column: str) -> str:
    """The calculated column that shows `column`'s codes as French labels."""
    return column + LABEL_SUFFIX


def display_column(config: SourceConfig, dimension: Dimension) -> str:
    """What charts group an aggregate by: the French labels when the codes have any."""
    if config.dimension_labels(dimension):
        return label_column(dimension.column)
    return dimension.column


def _with_labels(
    columns: list[Column], titles: dict[str, tuple[str, str]], labels: dict[str, dict[str, str]]
) -> list[Column]:
    """`columns`, then a calculated column of French labels for each coded one in `labels`;
    the labels take the column's title, the codes are retitled « (code) »."""
    labelled = []
    for name, mapping in labels.items():
        title, description = titles[name]
        labelled.append(
            Column(
                label_column(name), "TEXT", title, description, expression=label_case(name, mapping)
            )
        )
    coded = []
    for column in columns:
        if column.name in labels:
            verbose_name, description = coded_label(*titles[column.name])
            column = replace(column, verbose_name=verbose_name, description=description)
        coded.append(column)
    return coded + labelled


def _record_labels(spec: FieldSpec) -> dict[str, str]:
    """Labels of every value a record-level column may hold: the field's codes, then the
    groups its k-anonymization may have generalized them to (a group that is also a code
    keeps the code's label)."""
    levels = len(spec.hierarchy.levels) if isinstance(spec.hierarchy, Grouping) else 0
    merged: dict[str, str] = {}
    for level in range(levels + 1):
        for code, label in spec.labels_at(level).items():
            merged.setdefault(code, label)
    return merged


def curated_dataset(config: SourceConfig) -> Dataset:
    """The record-level table: scrubbed, pseudonymized, k-anonymous rows."""
    titles = {RUN_COLUMN: cell_labels(config)[RUN_COLUMN]}
    value_labels: dict[str, dict[str, str]] = {}
    for spec in config.fields:
        if spec.pseudonymize:
            titles[pseudonym_column(spec.name)] = pseudonym_label(spec)
        else:
            titles[spec.name] = curated_label(config, spec)
            if labels := _record_labels(spec):
                value_labels[spec.name] = labels
    stored = [
        Column(name, superset_type(pg_type), *titles[name])
        for name, pg_type in curated_columns(config)
    ]
    columns = tuple(_with_labels(stored, titles, value_labels))
    return Dataset(
        schema=CURATED_SCHEMA,
        table=config.name,
        description=(
            f"{config.title} : données individuelles publiées (k = {config.k}). "
            + config.description
        ),
        columns=columns,
        metrics=(
            Metric(ROW_COUNT, "COUNT(*)", "Enregistrements", "Nombre d'enregistrements", ",d"),
        ),
    )


def _iso_expression(column: str) -> str:
    overseas = " ".join(f"WHEN '{code}' THEN '{iso}'" for code, iso in _OVERSEAS_ISO.items())
    return f'CASE "{column}" {overseas} ELSE \'FR-\' || "{column}" END'


def departement_dimension(config: SourceConfig, aggregate: Aggregate) -> str | None:
    """The aggregate's column of départements, if it has one (the map's regions)."""
    for dimension in aggregate.dimensions:
        spec = config.field(dimension.field)
        if isinstance(spec.hierarchy, PostcodeFr) and dimension.level == "departement":
            return dimension.column
    return None


def commune_drill(config: SourceConfig, aggregate: Aggregate) -> tuple[Dimension, Dimension] | None:
    """(département, commune) when the aggregate publishes communes within their
    départements: the analysts drill from one to the other in the same table, whose cells
    are the release's (never a finer grouping than it publishes)."""
    departement = departement_dimension(config, aggregate)
    by_departement = next((d for d in aggregate.dimensions if d.column == departement), None)
    if by_departement is None:
        return None
    for dimension in aggregate.dimensions:
        hierarchy = config.field(dimension.field).hierarchy
        # The commune placed by the same postcode the département comes from: nested.
        if (
            isinstance(hierarchy, CommuneFr)
            and dimension.level is None
            and hierarchy.postcode_field == by_departement.field
        ):
            return by_departement, dimension
    return None


def aggregate_dataset(config: SourceConfig, aggregate: Aggregate) -> Dataset:
    """A published statistic: one row per cell, suppressed cells with an empty count."""
    titles = cell_labels(config)
    value_labels: dict[str, dict[str, str]] = {}
    for dimension in aggregate.dimensions:
        titles[dimension.column] = dimension_label(config, dimension)
        if labels := config.dimension_labels(dimension):
            value_labels[dimension.column] = labels
    stored = [
        Column(name, superset_type(pg_type), *titles[name])
        for name, pg_type in aggregate_columns(aggregate)
    ]
    columns = _with_labels(stored, titles, value_labels)
    columns += [
        Column(
            DISPLAYED_COUNT,
            "TEXT",
            "Effectif affiché",
            f"L'effectif, ou « {SUPPRESSED_LABEL} » quand la cellule est masquée (jamais 0)",
            expression=_DISPLAYED_EXPRESSION,
        ),
        # The stored column is named `count`, like the COUNT(*) metric Superset adds: a chart
        # that sorts by `count` would sort by that metric (and GROUP BY). Sort by this one.
        Column(
            PUBLISHED_NUMBER,
            "BIGINT",
            "Effectif publié",
            "L'effectif de la cellule, vide quand elle est au secret statistique",
            expression='"count"',
        ),
    ]
    departement = departement_dimension(config, aggregate)
    if departement is not None:
        columns.append(
            Column(
                departement + ISO_SUFFIX,
                "TEXT",
                "Code ISO du département",
                "Code ISO 3166-2 du département (FR-75, FR-2A, FR-RE...), pour la carte",
                expression=_iso_expression(departement),
            )
        )
    return Dataset(
        schema=AGGREGATES_SCHEMA,
        table=aggregate_table(config, aggregate.name),
        description=(
            f"{aggregate.title} ({config.title}). Cellules de moins de"
            f" {config.min_cell_count} et cellules de masquage complémentaire : effectif vide,"
            f" affiché « {SUPPRESSED_LABEL} »."
        ),
        columns=tuple(columns),
        metrics=(
            Metric(
                PUBLISHED_COUNT,
                PUBLISHED_SUM_SQL,
                "Somme des effectifs publiés",
                "Somme des effectifs publiés ; les cellules au secret statistique n'y sont pas",
                ",d",
            ),
            _cells_metric(),
            Metric(
                CELL_LABEL,
                f"MAX({_DISPLAYED_EXPRESSION})",
                "Effectif ou secret",
                f"L'effectif d'une cellule, ou « {SUPPRESSED_LABEL} » (tableaux croisés)",
            ),
            Metric(
                GROUPED_LABEL,
                _GROUPED_EXPRESSION,
                "Effectif (cellules au secret signalées)",
                "Somme des effectifs publiés des cellules regroupées, suivie du nombre de"
                f" cellules au secret statistique s'il y en a ; « {SUPPRESSED_LABEL} » quand"
                " toutes le sont (une seule cellule : son effectif ou le secret)",
            ),
        ),
    )


def run_dataset(table: str, configs: Iterable[SourceConfig]) -> Dataset:
    """One of the run-level quality tables, shared by every source (charts filter on `source`);
    the quarantine reasons read in French with the field names of every source in `configs`."""
    description, definitions = RUN_TABLES[table]
    columns = tuple(
        Column(name, superset_type(pg_type), title, text, is_dttm=pg_type in _TEMPORAL)
        for name, pg_type, title, text in definitions
    )
    if table == QUARANTINE_REASONS:
        columns += (
            Column(
                REASON_LABEL,
                "TEXT",
                "Motif",
                "Motif du refus en clair : le champ concerné et ce qui n'allait pas, ou ce qui"
                " empêchait de lire la ligne ou le fichier entier",
                expression=reason_case("reason", "source", configs),
            ),
        )
    metrics: tuple[Metric, ...]
    if table == RUN_INDICATORS:
        metrics = (
            Metric(ROW_COUNT, "COUNT(*)", "Exécutions", "Nombre d'exécutions", ",d"),
            Metric(
                QUARANTINE_RATE,
                _ratio("rows_quarantined", "rows_read"),
                "Taux de quarantaine",
                "Lignes mises en quarantaine / lignes reçues",
                ".1%",
            ),
            Metric(
                REDACTED_SHARE,
                _ratio("texts_redacted", "texts"),
                "Part des textes expurgés",
                "Textes libres où une donnée personnelle a été masquée / textes libres examinés",
                ".1%",
            ),
            Metric(ROWS_RECEIVED, _sum("rows_read"), "Lignes reçues", "Somme des lignes", ",d"),
        )
    elif table == RELEASES:
        metrics = (Metric(ROW_COUNT, "COUNT(*)", "Versions", "Nombre de versions publiées", ",d"),)
    else:
        metrics = (
            Metric(ROW_COUNT, "COUNT(*)", "Motifs", "Nombre de lignes (exécution × motif)", ",d"),
            Metric(
                QUARANTINED_ROWS, _sum("rows"), "Lignes en quarantaine", "Somme des lignes", ",d"
            ),
        )
    return Dataset(AGGREGATES_SCHEMA, table, description, columns, metrics)


def source_datasets(config: SourceConfig) -> list[Dataset]:
    """The record-level table and every aggregate of one source."""
    return [curated_dataset(config)] + [
        aggregate_dataset(config, aggregate) for aggregate in config.aggregates
    ]


def all_datasets(configs: Iterable[SourceConfig]) -> list[Dataset]:
    """Every dataset of the bundle: each source's tables, then the run-level quality tables."""
    configs = list(configs)
    datasets = [dataset for config in configs for dataset in source_datasets(config)]
    return [
        *datasets,
        run_dataset(RUN_INDICATORS, configs),
        run_dataset(QUARANTINE_REASONS, configs),
        run_dataset(RELEASES, configs),
    ]
