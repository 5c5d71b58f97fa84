"""SQL that shows French labels in place of stored codes, for Superset's calculated columns.

WHY in SQL, at query time: the warehouse and the open data keep the codes
(`proprete`, `missing_required:submitted_at`), which stay stable when a wording
changes; analysts read labels (« Propreté », « Date et heure du dépôt : champ
obligatoire manquant »). The CASE expressions are generated from the source configs'
`labels` and from `include.ingest.reasons.REASON_LABELS`, so a relabel is one edit there
and `python -m include.superset write`, never a hand-edited asset. A value without a
label shows as it is stored, so a new code never vanishes from a chart.

The expressions target PostgreSQL (the warehouse): standard string literals with doubled
quotes, `||` and `split_part`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from include.core.source_config import SourceConfig
from include.ingest.reasons import FIELD_REASONS, REASON_LABELS
from include.superset.labels import short_label

# How a field-level reason code is written (include/ingest/reasons.py `field_reason`).
_REASON_SEPARATOR = ":"
# Between a field's name and what was wrong with it: « Âge du répondant : type incorrect ».
_FIELD_REASON_JOIN = " : "


def sql_string(text: str) -> str:
    """A SQL string literal: single quotes doubled, nothing else escaped (standard SQL)."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier: double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _case(subject: str, mapping: Mapping[str, str], fallback: str, indent: str = "") -> str:
    """`CASE <subject> WHEN 'code' THEN 'label' ... ELSE <fallback> END`, one WHEN a line."""
    whens = "".join(
        f"{indent}  WHEN {sql_string(code)} THEN {sql_string(label)}\n"
        for code, label in mapping.items()
    )
    return f"CASE {subject}\n{whens}{indent}  ELSE {fallback}\n{indent}END"


def label_case(column: str, labels: Mapping[str, str]) -> str:
    """The column's French label per value; a value without a label (a missing value's
    « (non renseigné) », a masked « * », a code added later) shows as stored."""
    if not labels:
        raise ValueError(f"column '{column}' has no labels to show: use the column itself")
    quoted = sql_identifier(column)
    return _case(quoted, labels, quoted)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _field_titles(configs: Iterable[SourceConfig]) -> dict[str, str]:
    """`<source>/<field>` → the field's French title, as the reasons' CASE looks them up."""
    return {
        f"{config.name}/{spec.name}": short_label(spec.description) or spec.name
        for config in configs
        for spec in config.fields
    }


def reason_case(reason: str, source: str, configs: Iterable[SourceConfig]) -> str:
    """The quarantine reason in French, from the `reason` and `source` columns.

    A record- or object-level code reads as its description (« Encodage invalide »); a
    field-level code `<code>:<field>` as the field's title in its source, then the
    description (« Catégorie du problème signalé : valeur non autorisée »). Unknown codes
    and fields show as stored.
    """
    code = f"split_part({sql_identifier(reason)}, {sql_string(_REASON_SEPARATOR)}, 1)"
    field = f"split_part({sql_identifier(reason)}, {sql_string(_REASON_SEPARATOR)}, 2)"
    whole = {
        name: _capitalized(label)
        for name, label in REASON_LABELS.items()
        if name not in FIELD_REASONS
    }
    per_field = {name: REASON_LABELS[name] for name in FIELD_REASONS}
    field_key = f"{sql_identifier(source)} || {sql_string('/')} || {field}"
    title = _case(field_key, _field_titles(configs), field, indent="  ")
    problem = _case(code, per_field, code, indent="  ")
    return (
        f"CASE WHEN {field} = '' THEN\n"
        f"  {_case(sql_identifier(reason), whole, sql_identifier(reason), indent='  ')}\n"
        f"ELSE\n"
        f"  {title}\n"
        f"  || {sql_string(_FIELD_REASON_JOIN)} ||\n"
        f"  {problem}\n"
        "END"
    )
