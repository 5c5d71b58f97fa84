"""`README.md`: what the release is, how it was protected, its licence, how to cite it.

Written in French for the public it serves, with a short English summary. It is
generated from the source config, the measured privacy figures, the written
files and the scrubber's statement (`scrubber_statement`) only, and dated by the
run, never by the clock, so the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from include.core.source_config import CellKeyDisclosure, SourceConfig
from include.publish.jsonfile import JSON
from include.publish.risk_report import build_risk_report, risk_readme_section
from include.publish.run import RunInfo
from include.publish.scrubber_statement import ScrubberStatement, readme_section
from include.publish.tables import PublishedTable, WrittenTable
from include.publish.wording import LICENCE, REASON_LABELS, describe_level, french_number

README_NAME = "README.md"


def _names(names: JSON) -> str:
    return ", ".join(f"`{name}`" for name in names) if isinstance(names, list) else ""


def _contents(written: Sequence[WrittenTable]) -> list[str]:
    lines = ["## Contenu", "", "| Fichiers | Contenu | Lignes |", "| --- | --- | --- |"]
    for item in written:
        table = item.table
        what = "Enregistrements individuels" if table.kind == "records" else "Tableau agrégé"
        lines.append(
            f"| `{item.csv.path}`, `{item.parquet.path}` | {what} : {table.title} "
            f"| {french_number(table.data.num_rows)} |"
        )
        if table.earlier_batches:
            lines.append(
                f"| {len(table.earlier_batches)} fichier(s) des versions précédentes | {what} "
                "publiés par les versions précédentes, inchangés : chemins (`../<version>/`), "
                "tailles et empreintes dans `manifest.json` (`earlier_batches`) ; avec ce "
                f"fichier, {french_number(table.rows_to_date)} enregistrements à ce jour | "
                f"{french_number(table.rows_to_date - table.data.num_rows)} |"
            )
    lines += [
        "| `datapackage.json` | Description des colonnes (Frictionless Data Package) | |",
        "| `manifest.json` | Inventaire : lignes, taille, empreinte SHA-256 et schéma de chaque "
        "fichier ; garanties de confidentialité atteintes | |",
        "",
    ]
    return lines


def _records_protection(privacy: dict[str, JSON]) -> list[str]:
    lines = []
    if privacy["withheld_fields"]:
        lines.append(
            "- **Identifiants directs retirés** : jamais publiés, ni en clair ni sous forme de "
            f"pseudonyme ({_names(privacy['withheld_fields'])})."
        )
    if privacy["scrubbed_free_text_fields"]:
        lines.append(
            "- **Textes libres expurgés** : les réponses libres "
            f"({_names(privacy['scrubbed_free_text_fields'])}) ont été analysées "
            "automatiquement ; les noms, adresses électroniques, numéros de téléphone, "
            "adresses, numéros d'identification et autres données personnelles détectés"
            " ont été remplacés par une étiquette."
        )
    k = privacy["k_achieved"]
    if k is None:
        lines.append("- **k-anonymat** : aucun enregistrement individuel n'est publié.")
    else:
        lines.append(
            f"- **k-anonymat (k = {k})** : chaque combinaison de "
            f"{_names(privacy['quasi_identifiers'])} est partagée par au moins {k} "
            f"enregistrements (exigence : k ≥ {privacy['k_required']}). Pour cela, ces "
            "colonnes sont publiées généralisées :"
        )
        generalization = privacy["generalization"]
        if isinstance(generalization, dict):
            lines += [
                f"  - `{name}` : {describe_level(str(level))}"
                for name, level in generalization.items()
            ]
    if privacy["sensitive_fields"] and privacy["l_achieved"] is not None:
        kind = "distincte" if privacy["l_kind"] == "distinct" else "par entropie"
        lines.append(
            f"- **l-diversité {kind} (l = {privacy['l_achieved']})** : dans chaque combinaison, "
            f"{_names(privacy['sensitive_fields'])} prend des valeurs suffisamment variées "
            f"(exigence : l ≥ {privacy['l_required']}), pour qu'appartenir à un groupe ne "
            "révèle pas la réponse."
        )
    lines += _attacker_view(privacy.get("attacker_view"))
    lines.append(
        f"- **Enregistrements retirés** : {french_number(privacy['suppressed_records'])} "
        "enregistrement(s) qui ne pouvaient pas être protégés ainsi n'ont pas été publiés."
    )
    return lines


def _attacker_view(view: object) -> list[str]:
    """What grouping the published file on all its columns gives, as `attacker_view` measured."""
    if not isinstance(view, dict):
        return []
    line = (
        "- **Vu par un attaquant** : regroupé sur toutes ses colonnes publiées (et pas seulement "
        f"celles déclarées ci-dessus), le fichier donne k = {view['k_with_inferred']} ; "
        f"{french_number(int(view['sample_unique_records']))} enregistrement(s) sont seuls de "
        "leur combinaison de valeurs sur au plus trois colonnes"
    )
    worst = view.get("worst_combinations")
    if isinstance(worst, list) and worst:
        columns = " × ".join(f"`{name}`" for name in worst[0]["columns"])
        line += f" (le plus souvent sur {columns})"
    return [line + ". Chacun peut le recalculer : `civic audit risk <dossier de la version>`."]


def _perturbation(aggregates: Sequence[PublishedTable]) -> list[str]:
    """What the cell key method guarantees, in plain words, with its parameters."""
    method = aggregates[0].privacy["cell_key"]
    assert isinstance(method, dict)
    noise, js = method["max_noise"], method["js"]
    variance = f"{float(str(method['variance'])):g}".replace(".", ",")  # 1.5 → « 1,5 »
    lines = [
        "- **Effectifs perturbés (méthode de la clé de cellule)** : aucun effectif n'est "
        f"masqué ; chacun, totaux compris, s'écarte de l'effectif exact d'au plus {noise} en "
        "plus ou en moins. Ce bruit est fixé par les enregistrements de la cellule : la même "
        "cellule (les mêmes personnes) a la même valeur dans tous les tableaux et dans toutes "
        "les versions tant que ses enregistrements ne changent pas, si bien que comparer deux "
        "tableaux ou soustraire deux versions ne révèle pas les nouvelles réponses. Les "
        "totaux (lignes dont une dimension est vide) sont perturbés comme des cellules : par "
        "construction, ils ne sont pas la somme des effectifs publiés ; utilisez le total "
        "publié plutôt que cette somme, qui cumule le bruit de chaque cellule."
        + (f" Aucun effectif publié n'est compris entre 1 et {js}." if js else ""),
        f"  - table de perturbation : écart maximal {noise}, variance {variance}, empreinte "
        f"SHA-256 `{method['ptable']}` (la même d'une version à l'autre garantit des valeurs "
        "cohérentes)",
    ]
    lines += [
        f"  - `{table.name}` : {french_number(table.privacy['cells'])} cellule(s) et "
        f"{french_number(table.privacy['totals'])} total(s), aucun masqué"
        for table in aggregates
    ]
    return lines


def _aggregates_protection(written: Sequence[WrittenTable]) -> list[str]:
    aggregates = [item.table for item in written if item.table.kind == "aggregate"]
    if not aggregates:
        return []
    if aggregates[0].privacy.get("disclosure") == "cell_key":
        return _perturbation(aggregates)
    minimum = aggregates[0].privacy["min_cell_count"]
    reasons = "; ".join(f"« {code} » : {label}" for code, label in REASON_LABELS.items())
    lines = [
        f"- **Secret statistique dans les tableaux agrégés** : tout effectif inférieur à "
        f"{minimum} est masqué (sauf celui que le fichier individuel de la même publication "
        "donne déjà exactement, publié avec le motif « known ») : la colonne `count` est "
        "vide, `suppressed` vaut `true` et "
        f"`suppression_reason` donne le motif ({reasons}). Un effectif masqué n'est jamais "
        "remplacé par 0. Dans cette version :"
    ]
    for table in aggregates:
        by_reason = table.privacy["suppressed_by_reason"]
        detail = (
            ", ".join(f"{french_number(n)} « {code} »" for code, n in by_reason.items())
            if isinstance(by_reason, dict) and by_reason
            else "aucune"
        )
        lines.append(
            f"  - `{table.name}` : {french_number(table.privacy['cells_suppressed'])} cellule(s) "
            f"masquée(s) sur {french_number(table.privacy['cells'])} ({detail})"
        )
    return lines


def _formats(neutralised: int) -> list[str]:
    return [
        "## Format des fichiers",
        "",
        "- **CSV** : UTF-8 sans BOM, séparateur virgule, une ligne d'en-tête, guillemets "
        "doubles selon la RFC 4180, fins de ligne CRLF. Une valeur manquante ou masquée est une "
        "cellule vide. Dates au format AAAA-MM-JJ, horodatages en UTC (AAAA-MM-JJThh:mm:ssZ).",
        "- **Protection contre l'injection de formules** : dans les CSV, une cellule de texte "
        "commençant par `=`, `+`, `-`, `@`, une tabulation ou un retour chariot est précédée "
        "d'une apostrophe (`'`) pour qu'un tableur ne l'exécute pas "
        f"({french_number(neutralised)} cellule(s) dans cette version). Les nombres négatifs des "
        "colonnes numériques ne sont pas modifiés. Les fichiers Parquet contiennent le texte "
        "exact, sans apostrophe.",
        "- **Ouvrir un CSV dans Excel** : Données > À partir d'un fichier texte/CSV, origine "
        "« 65001 : Unicode (UTF-8) », délimiteur « Virgule ».",
        "- **Parquet** : mêmes colonnes et mêmes types ; la description de chaque colonne est "
        "dans les métadonnées du fichier.",
        "",
    ]


def render_readme(
    config: SourceConfig,
    run: RunInfo,
    written: Sequence[WrittenTable],
    scrubber: ScrubberStatement,
) -> str:
    day = f"{run.run_date_utc:%Y-%m-%d}"
    records = next((item.table for item in written if item.table.kind == "records"), None)
    protection = ["## Comment les données ont été protégées", ""]
    protection.append(
        "Les données publiées ne permettent pas d'identifier une personne ; voici les "
        "protections appliquées et les garanties atteintes dans cette version :"
    )
    protection.append("")
    if records is not None:
        protection += _records_protection(records.privacy)
    protection += [*_aggregates_protection(written), ""]
    neutralised = sum(item.neutralised_cells for item in written)
    english = []
    if records is not None:
        english.append(
            f"records are k-anonymous (k = {records.privacy['k_achieved']}), free text is "
            "scrubbed of personal data and direct identifiers are withheld"
        )
    has_aggregates = any(item.table.kind == "aggregate" for item in written)
    if has_aggregates and isinstance(config.disclosure, CellKeyDisclosure):
        english.append(
            f"aggregate counts, totals included, are perturbed by at most "
            f"±{config.disclosure.max_noise} (cell key method: the same cell reads the same in "
            "every table and release; totals are not the sum of the published cells)"
        )
    elif has_aggregates:
        english.append(
            f"aggregate counts below {config.min_cell_count} are suppressed (empty cells, never 0)"
        )
    lines = [
        f"# {config.title}",
        "",
        f"Version `{run.release_id}` — données au {day} — {LICENCE['title']} ({LICENCE['name']}).",
        "",
        config.description,
        "",
        *_contents(written),
        *protection,
        *risk_readme_section(build_risk_report(written)),
        *readme_section(scrubber),
        *_formats(neutralised),
        "## Licence",
        "",
        f"{LICENCE['title']} ({LICENCE['name']}) : {LICENCE['path']}. Réutilisation libre, y "
        "compris commerciale, à condition de mentionner la source et la date de mise à jour.",
        "",
        "## Citer ce jeu de données",
        "",
        f"> {config.title}, version {run.release_id} (données au {day}), {LICENCE['title']}.",
        "",
        "## Vérifier l'intégrité",
        "",
        "`manifest.json` donne la taille et l'empreinte SHA-256 de chaque fichier "
        f"(`sha256sum <fichier>`). Produit par la chaîne de traitement version "
        f"{run.pipeline_version}, exécution `{run.run_id}`.",
        "",
        "## In English",
        "",
        f"{config.title}: open-data release {run.release_id} (data as of {day}). In this "
        f"release, {'; '.join(english)}. CSV files are UTF-8 without BOM, comma-separated; "
        "text cells starting with = + - @ are prefixed with ' against formula injection "
        "(the Parquet files keep the exact text). Licence: Etalab Open Licence 2.0.",
        "",
    ]
    return "\n".join(lines)
