"""`README.md`: what the release is, how it was protected, its licence, how to cite it.

Written in French for the public it serves, with a short English summary. It is
generated from the source config, the measured privacy figures, the written
files, the scrubber's statement (`scrubber_statement`) and the public audit log
(`include.audit.public_log`) only, and dated by the run, never by the clock, so the
same inputs give the same bytes. When the release carries the public audit log, it
tells a citizen how to check it: with `civic audit verify-release`, and by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from include.audit.public_log import CHECKPOINT_NAME, PROOFS_NAME, ReleaseLog, fingerprint
from include.core.source_config import CellKeyDisclosure, SourceConfig
from include.publish.jsonfile import JSON
from include.publish.public_page import PAGE_NAME
from include.publish.risk_report import build_risk_report, risk_readme_section
from include.publish.run import RunInfo
from include.publish.scrubber_statement import ScrubberStatement, readme_section
from include.publish.tables import PublishedTable, WrittenTable
from include.publish.wording import LICENCE, REASON_LABELS, describe_level, french_number

README_NAME = "README.md"


def _names(names: JSON) -> str:
    return ", ".join(f"`{name}`" for name in names) if isinstance(names, list) else ""


def _contents(written: Sequence[WrittenTable], log: ReleaseLog | None) -> list[str]:
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
        f"| `{PAGE_NAME}` | Page de présentation : graphiques, fichiers, protections, "
        "vérification | |",
        "| `manifest.json` | Inventaire : lignes, taille, empreinte SHA-256 et schéma de chaque "
        "fichier ; garanties de confidentialité atteintes | |",
    ]
    if log is not None:
        lines += [
            f"| `{CHECKPOINT_NAME}` | État signé du journal d'audit de la plateforme à la "
            "publication (voir « Vérifier le journal d'audit ») | |",
            f"| `{PROOFS_NAME}` | Entrées du journal d'audit écrites pour cette version, avec "
            "leurs preuves | |",
        ]
    return [*lines, ""]


def _audit_log(run: RunInfo, log: ReleaseLog) -> list[str]:
    """How a citizen checks the release's public audit log, with the tool and by hand."""
    checkpoint = log.checkpoint
    public = checkpoint.carried_key()
    key = (
        f"la clé Ed25519 `{checkpoint.key_id}` de la plateforme, d'empreinte SHA-256 "
        f"`{fingerprint(public)}`"
        if public is not None
        else f"la clé `{checkpoint.key_id}` ({checkpoint.algorithm}, vérifiable seulement par "
        "son détenteur)"
    )
    previous = (
        f"la preuve de cohérence depuis l'état signé par la version précédente, "
        f"`{log.previous.release_id}` ({french_number(log.previous.checkpoint.head.size)} "
        "entrées) : le journal n'a été ni réécrit ni tronqué depuis"
        if log.previous is not None
        else "aucune preuve de cohérence : aucune version précédente de cette source ne "
        "publiait d'état signé du journal"
    )
    return [
        "## Vérifier le journal d'audit",
        "",
        "Chaque étape de la chaîne de traitement est inscrite dans un journal d'audit chaîné "
        "et signé. Cette version publie de quoi vérifier, sans rien demander à la plateforme, "
        "que l'historique derrière elle n'a pas été réécrit :",
        "",
        f"- `{CHECKPOINT_NAME}` : l'état signé du journal (« checkpoint ») vérifié juste avant "
        f"la publication : {french_number(checkpoint.head.size)} entrées, racine de leur arbre "
        f"de Merkle (RFC 9162) `{checkpoint.head.root.hex()}`, signée par {key}. Comparez "
        "cette empreinte à celle que l'organisme publie par ailleurs.",
        f"- `{PROOFS_NAME}` : les {french_number(len(log.entries))} entrées du journal écrites "
        "par l'exécution qui a produit cette version, en clair (des comptes et des "
        "identifiants techniques, aucune donnée personnelle), chacune avec sa preuve "
        f"d'inclusion ; et {previous}.",
        "",
        "Avec l'outil de la plateforme (0 : vérifié ; 1 : falsification détectée, le contrôle "
        "en échec est nommé ; 2 : illisible) :",
        "",
        "```",
        f"civic audit verify-release <dossier ou URL de la version {run.release_id}> "
        "--public-key <clé publique de la plateforme>",
        "```",
        "",
        "Sans `--public-key`, la clé que porte la version est utilisée : c'est moins sûr, car "
        "qui peut réécrire la version peut aussi remplacer la clé. La version précédente est "
        "lue à côté de celle-ci (`../<version>/`) ou avec `--previous <dossier ou URL>`.",
        "",
        "À la main, avec n'importe quel outil SHA-256 et Ed25519 :",
        "",
        "1. **Fichiers** : l'empreinte SHA-256 de chaque fichier est celle que donne "
        "`manifest.json`.",
        f"2. **Signature** : dans `{CHECKPOINT_NAME}`, `checkpoint.signed_text` est le texte "
        "signé (trois lignes : origine, nombre d'entrées, racine en base64) ; la signature "
        "Ed25519 `checkpoint.signature.value` (hexadécimal) de ce texte en UTF-8 se vérifie "
        "avec la clé publique (`checkpoint.public_key.ed25519`, base64url). C'est un "
        "checkpoint au format C2SP : `checkpoint.signed_note` se vérifie aussi avec les outils "
        "des journaux de transparence (clé `checkpoint.public_key.note_verifier_key`).",
        f"3. **Entrées** : pour chaque entrée de `{PROOFS_NAME}`, `entry_hash` est le SHA-256 "
        "de `civic-audit-ledger/v1/entry`, un octet nul, le JSON compact (sans espaces, "
        "UTF-8) de `[prev_hash, seq, recorded_at, run_id, dag_id, step, key_id]`, un octet "
        "nul, puis `payload` tel quel ; la feuille de l'arbre est SHA-256(0x00 ‖ les 32 "
        "octets d'`entry_hash`) ; la preuve `inclusion_proof` (RFC 9162, § 2.1.3.2) mène de "
        "la feuille n° `leaf_index` à `root_hash`. Une entrée marquée `withheld` (celle de "
        "l'ingestion, qui nomme les fichiers reçus tels que leur expéditeur les a nommés) "
        "ne publie que son `entry_hash` : seule son inclusion se vérifie.",
        f"4. **Historique** : avec le `{CHECKPOINT_NAME}` de la version précédente, la preuve "
        "`consistency.proof` (RFC 9162, § 2.1.4.2) montre que ses entrées sont, inchangées, "
        "les premières de cet arbre.",
        "",
    ]


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
    log: ReleaseLog | None = None,
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
        *_contents(written, log),
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
        *(_audit_log(run, log) if log is not None else []),
        "## In English",
        "",
        f"{config.title}: open-data release {run.release_id} (data as of {day}). In this "
        f"release, {'; '.join(english)}. CSV files are UTF-8 without BOM, comma-separated; "
        "text cells starting with = + - @ are prefixed with ' against formula injection "
        "(the Parquet files keep the exact text). Licence: Etalab Open Licence 2.0.",
        "",
        *(_audit_log_english(run, log) if log is not None else []),
    ]
    return "\n".join(lines)


def _audit_log_english(run: RunInfo, log: ReleaseLog) -> list[str]:
    since = (
        f"the consistency proof from the checkpoint of release {log.previous.release_id}"
        if log.previous is not None
        else "no consistency proof (no earlier release carried a checkpoint)"
    )
    return [
        f"Audit log: `{CHECKPOINT_NAME}` is an Ed25519-signed RFC 9162 tree head of the "
        f"platform's audit ledger ({log.checkpoint.head.size} entries); `{PROOFS_NAME}` holds "
        f"the run's ledger entries with their inclusion proofs, and {since}. Check it all with "
        f"`civic audit verify-release <folder or URL of release {run.release_id}> --public-key "
        "<the platform's public key>` (exit 0 verified, 1 tampered, 2 unreadable), or by hand "
        "as the French section above describes.",
        "",
    ]
