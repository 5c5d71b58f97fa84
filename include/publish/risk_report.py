"""A release's risk report: the three tests of the Article 29 Working Party, with figures.

Opinion 05/2014 on anonymisation techniques (WP216) asks of anonymised data
whether a person can still be **singled out**, whether records about a person
can be **linked** (within the release, across releases, with other data), and
whether something about a person can be **inferred**. A release answers each
with what it measured on its own files, never with the configuration's
intentions: k and the sample uniques come from the published rows grouped as an
attacker would (`attacker_view`), the hidden cells and their audit from the
joint suppression step (all tables of the release, its record file and the previous
release as one system), or, for aggregates perturbed by the cell key method, the fact
that no cell is hidden and that a cell reads the same in every table and release. What
the platform does not yet protect is said as plainly (GOVERNANCE.md lists the same
limits).

The report is a function of the published tables' privacy facts, so it is the
same for the same release (the manifest stays byte-identical on a rerun).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from include.publish.jsonfile import JSON
from include.publish.tables import WrittenTable
from include.publish.wording import french_number, french_percent


def _records(written: Sequence[WrittenTable]) -> Mapping[str, Any] | None:
    return next((w.table.privacy for w in written if w.table.kind == "records"), None)


def _aggregates(written: Sequence[WrittenTable]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(w.table.name, w.table.privacy) for w in written if w.table.kind == "aggregate"]


def build_risk_report(written: Sequence[WrittenTable]) -> dict[str, JSON]:
    """The manifest's `risk_report` (module doc)."""
    records = _records(written)
    aggregates = _aggregates(written)
    cells = sum(int(p["cells"]) for _, p in aggregates)
    hidden = sum(int(p["cells_suppressed"]) for _, p in aggregates)
    # One audit covers every table of the release, what its record file tells and the
    # previous release: each table's summary carries the same joint figures.
    audits = [p.get("suppression", {}) for _, p in aggregates]
    # Cell key: a cell made of the same records reads the same in every table and release,
    # so neither two tables sharing a margin nor two successive releases narrow it down.
    perturbed = bool(aggregates) and all(p.get("disclosure") == "cell_key" for _, p in aggregates)
    report: dict[str, JSON] = {
        "standard": "WP29 Opinion 05/2014 (WP216): singling out, linkability, inference",
        "singling_out": None,
        "linkability": {
            "direct_identifiers_withheld": list(records["withheld_fields"]) if records else [],
            "pseudonyms_published": False,
            "aggregate_cells_recoverable": max(
                (int(a.get("recoverable", 0)) for a in audits), default=0
            ),
            "linked_tables_protected_jointly": bool(audits),
            "record_file_counts_taken_into_account": bool(audits)
            and records is not None
            and not perturbed,
            "small_cells_given_by_record_file": sum(
                int(a.get("small_cells_given_by_record_file", 0)) for a in audits
            ),
            "previous_release_protected_against": perturbed
            or any(int(a.get("previous_release_cells", 0)) for a in audits),
        },
        "inference": None,
        "information_loss": {
            "aggregate_cells": cells,
            "aggregate_cells_hidden": hidden,
        },
    }
    if perturbed:
        link = report["linkability"]
        assert isinstance(link, dict)
        link["aggregates_perturbed_consistently"] = True
    if records is not None:
        attacker = records.get("attacker_view") or {}
        anonymization = records.get("anonymization") or {}
        report["singling_out"] = {
            "k_required": records["k_required"],
            "k_declared_quasi_identifiers": records["k_achieved"],
            "k_attacker": attacker.get("k_with_inferred"),
            "inferred_quasi_identifiers": attacker.get("inferred_quasi_identifiers", []),
            "max_reidentification_risk": anonymization.get("max_risk"),
            "sample_unique_records": attacker.get("sample_unique_records"),
            "sample_unique_share": attacker.get("sample_unique_share"),
        }
        report["inference"] = {
            "sensitive_fields": list(records["sensitive_fields"]),
            "l_kind": records["l_kind"],
            "l_required": records["l_required"],
            "l_achieved": records["l_achieved"],
        }
        loss = report["information_loss"]
        assert isinstance(loss, dict)
        loss["records_suppressed"] = records["suppressed_records"]
        loss["generalization_loss"] = anonymization.get("information_loss")
        loss["generalization_measure"] = anonymization.get("metric")
    return report


# The measure the k-anonymity search minimized (include/anonymization/information_loss.py).
_MEASURES = {
    "lm": "la part des valeurs confondues (un enregistrement retiré perd tout)",
    "arx_loss": "la mesure « Loss » d'ARX",
    "non_uniform_entropy": "l'entropie non uniforme d'ARX",
}

_PERTURBED_CORRELATION = (
    "- **Corrélation** : les identifiants directs et leurs pseudonymes ne sont pas publiés ; "
    "aucun effectif n'est masqué, et une même cellule (les mêmes enregistrements) a la même "
    "valeur dans tous les tableaux et toutes les versions (méthode de la clé de cellule) : "
    "croiser les tableaux ou soustraire deux versions ne donne pas d'effectif exact."
)


def _joint_suppression(link: Mapping[str, Any]) -> str:
    """« Corrélation » for aggregates protected by joint cell suppression."""
    line = "- **Corrélation** : les identifiants directs et leurs pseudonymes ne sont pas publiés."
    if not link["linked_tables_protected_jointly"]:
        return line
    line += (
        " Le secret statistique est décidé en une fois pour tous les tableaux de la version, "
        "qui partagent leurs marges"
        + (
            ", en tenant compte de ce que le fichier individuel permet de compter"
            if link["record_file_counts_taken_into_account"]
            else ""
        )
        + (
            " et de la version précédente (deux versions successives ne se soustraient pas "
            "pour isoler quelques nouvelles contributions)"
            if link["previous_release_protected_against"]
            else " (première version : aucune version précédente à prendre en compte)"
        )
        + f" ; {french_number(int(link['aggregate_cells_recoverable']))} cellule(s) "
        "masquée(s) se recalculent à partir de l'ensemble."
    )
    given = int(link["small_cells_given_by_record_file"])
    if given:
        line += (
            f" {french_number(given)} petit(s) effectif(s) sont publiés avec le motif "
            "« known » : le fichier individuel les donne déjà exactement."
        )
    return line


def risk_readme_section(report: Mapping[str, Any]) -> list[str]:
    """« Risques de ré-identification » in plain words, from the report's figures."""
    lines = ["## Risques de ré-identification (les trois tests du G29)", ""]
    singling = report["singling_out"]
    link = report["linkability"]
    perturbed = bool(link.get("aggregates_perturbed_consistently"))
    if singling is None:
        lines.append(
            "- **Individualisation** : aucun enregistrement individuel n'est publié ; "
            + (
                "chaque effectif publié est perturbé (nul ne sait lesquels sont exacts)."
                if perturbed
                else "chaque effectif publié concerne assez de personnes ou est masqué."
            )
        )
    else:
        risk = singling["max_reidentification_risk"]
        lines.append(
            f"- **Individualisation** : regroupé sur toutes ses colonnes comme le ferait un "
            f"attaquant, le fichier d'enregistrements donne k = {singling['k_attacker']} "
            f"(exigé : {singling['k_required']})"
            + (
                f", soit un risque de ré-identification d'au plus "
                f"{french_percent(risk, round_up=True)}"
                if risk
                else ""
            )
            + f" ; {french_number(int(singling['sample_unique_records'] or 0))} "
            "enregistrement(s) restent seuls de leur combinaison de valeurs sur au plus trois "
            "colonnes (risque résiduel : ces combinaisons mêlent des colonnes qui ne sont pas "
            "des quasi-identifiants)."
        )
    lines.append(_PERTURBED_CORRELATION if perturbed else _joint_suppression(link))
    inference = report["inference"]
    if inference is not None and inference["sensitive_fields"]:
        lines.append(
            f"- **Inférence** : dans chaque groupe, les champs sensibles prennent au moins "
            f"l = {inference['l_achieved']} valeurs (exigé : {inference['l_required']})."
        )
    else:
        lines.append(
            "- **Inférence** : aucun champ n'est déclaré sensible ; rien n'est publié sur une "
            "personne au-delà de ce que son groupe partage."
        )
    loss = report["information_loss"]
    parts = [
        f"{french_number(int(loss['aggregate_cells_hidden']))} cellule(s) masquée(s) sur "
        f"{french_number(int(loss['aggregate_cells']))}"
    ]
    if "records_suppressed" in loss:
        parts.append(f"{french_number(int(loss['records_suppressed']))} enregistrement(s) retirés")
    measure = loss.get("generalization_measure")
    if isinstance(measure, dict) and measure.get("name") in _MEASURES:
        parts.append(
            f"niveaux de généralisation choisis en minimisant {_MEASURES[measure['name']]}"
        )
    lines += [f"- **Perte d'information** : {', '.join(parts)}.", ""]
    return lines
