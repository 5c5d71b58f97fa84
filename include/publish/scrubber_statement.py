"""What a release says about the PII scrubber: its version and its last measured figures.

WHY: "free text was scrubbed" promises more than any automatic detector keeps. The
README and the manifest say which scrubber version ran, how well it did when last
measured (on the platform's labelled texts and on real text written elsewhere), when,
and whether that measurement was made on this very version; so a reader can weigh
the free text accordingly.

Publication is NOT blocked when no evaluation is on record or it measured another
version: the figures describe the scrubber, not this release's data, whose residual
personal data the validation gate already blocks (fail closed); and a fresh
deployment, or a scrubber fix that must ship at once, would otherwise stop every
release until someone runs an evaluation. The release says so instead: a warning in
the README, `matches_version` false or the evaluation null in the manifest, and the
same facts in the publish entry of the audit ledger.

On a rerun of a run whose release is already committed, the statement is read back
from that release's manifest, so the rerun rebuilds the same bytes even if an
evaluation was recorded in between (as the ledger head is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from include.anonymization.pii.entities import placeholder
from include.anonymization.pii.version import scrubber_version
from include.publish.jsonfile import JSON, plain_json_object
from include.publish.wording import (
    ENTITY_LABELS,
    english_percent,
    french_number,
    french_percent,
)
from include.scrubber_evaluations import (
    GENERATOR,
    KINDS,
    REFERENCE_CORPORA,
    EvaluationRecord,
    latest_evaluations,
)

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Where each kind's figures were measured, in a README's words (French, English).
_KIND_WORDS = {
    GENERATOR: ("des textes étiquetés générés par la plateforme", "generated labelled texts"),
    REFERENCE_CORPORA: ("des textes réels", "real text"),
}


@dataclass(frozen=True)
class ScrubberStatement:
    """The scrubber version a release ran and, per kind, the evaluation it states (or None)."""

    version: str
    components: Mapping[str, Any]
    evaluations: Mapping[str, EvaluationRecord | None]

    def __post_init__(self) -> None:
        if set(self.evaluations) != set(KINDS):
            raise ValueError(
                f"a scrubber statement needs one entry per evaluation kind {list(KINDS)} "
                f"(None where none is recorded), got {sorted(self.evaluations)}"
            )

    def status(self, kind: str) -> str:
        """'current' (measured on this version), 'other_version' or 'none'."""
        evaluation = self.evaluations[kind]
        if evaluation is None:
            return "none"
        return "current" if evaluation.scrubber_version == self.version else "other_version"

    def ledger_facts(self) -> dict[str, Any]:
        """For the publish entry of the audit ledger: the version and each kind's status."""
        return {"version": self.version, "evaluations": {k: self.status(k) for k in KINDS}}

    def manifest_entry(self) -> dict[str, JSON]:
        """The manifest's `scrubber` object."""
        evaluations: dict[str, JSON] = {}
        for kind in KINDS:
            evaluation = self.evaluations[kind]
            evaluations[kind] = (
                None
                if evaluation is None
                else {
                    "scrubber_version": evaluation.scrubber_version,
                    "matches_version": evaluation.scrubber_version == self.version,
                    "evaluated_at": _date(evaluation),
                    "corpus": plain_json_object(evaluation.corpus, f"$.{kind}.corpus"),
                    "figures": plain_json_object(evaluation.figures, f"$.{kind}.figures"),
                }
            )
        return {
            "version": self.version,
            "components": plain_json_object(self.components, "$.components"),
            "evaluations": evaluations,
        }

    @classmethod
    def from_manifest(cls, entry: Any, where: str) -> ScrubberStatement:
        """The statement a committed manifest carries (`manifest_entry`'s inverse); checked
        by rendering it, so that a figure missing fails here, named, not in the README."""
        try:
            evaluations = {
                kind: None if item is None else _evaluation(kind, item)
                for kind, item in entry["evaluations"].items()
            }
            statement = cls(str(entry["version"]), dict(entry["components"]), evaluations)
            readme_section(statement)
            return statement
        except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
            raise ValueError(f"{where}: its `scrubber` object is malformed ({exc!r})") from None


def _date(evaluation: EvaluationRecord) -> str:
    if evaluation.evaluated_at is None:
        raise ValueError("a release states recorded evaluations only (this one has no date)")
    return f"{evaluation.evaluated_at.astimezone(UTC):{_DATE_FORMAT}}"


def _evaluation(kind: str, item: Mapping[str, Any]) -> EvaluationRecord:
    return EvaluationRecord(
        kind=kind,
        scrubber_version=str(item["scrubber_version"]),
        corpus=dict(item["corpus"]),
        figures=dict(item["figures"]),
        evaluated_at=datetime.strptime(item["evaluated_at"], _DATE_FORMAT).replace(tzinfo=UTC),
    )


def current_statement(dsn: str) -> ScrubberStatement:
    """The pipeline's scrubber version (computed here, no model loaded) and the latest
    evaluations the warehouse holds for it (see `latest_evaluations`)."""
    version = scrubber_version()
    latest = latest_evaluations(dsn, version.id, usable=statable)
    return ScrubberStatement(version.id, version.components(), latest)


# -- README ---------------------------------------------------------------------------------


def _day(evaluation: EvaluationRecord) -> str:
    return _date(evaluation)[:10]


def _generator_lines(evaluation: EvaluationRecord, detected: Sequence[str]) -> list[str]:
    """The figures on the labelled corpus; `detected` are the types the scrubber looks for,
    those the corpus did not plant are named as not measured."""
    corpus, figures = evaluation.corpus, evaluation.figures
    lines = [
        f"**Sur {_KIND_WORDS[GENERATOR][0]}** (évaluation du {_day(evaluation)}, "
        f"{french_number(corpus['texts'])} textes, graine {corpus['seed']}) : part des "
        "valeurs entièrement masquées, par type de donnée.",
        "",
        "| Donnée personnelle | Remplacée par | Valeurs étiquetées | Entièrement masquées |",
        "| --- | --- | --- | --- |",
    ]
    for kind, recall in _generator_recalls(evaluation).items():
        lines.append(
            f"| {ENTITY_LABELS.get(kind, kind)} | `{placeholder(kind)}` | "
            f"{french_number(figures['labelled'][kind])} | {french_percent(recall)} |"
        )
    unmeasured = [kind for kind in detected if kind not in figures["labelled"]]
    if unmeasured:
        listed = ", ".join(f"{ENTITY_LABELS.get(k, k)} (`{placeholder(k)}`)" for k in unmeasured)
        lines += ["", f"Détectés mais non mesurés sur ce corpus : {listed}."]
    person = figures.get("person_precision")
    names = "" if person is None else f" ({french_percent(person)} pour les noms de personnes)"
    lines += [
        "",
        f"Précision : {french_percent(figures['precision'])} des passages masqués étaient bien "
        f"des données personnelles{names} ; {french_percent(figures['kept_share'])} des "
        "autres mots ont été conservés.",
        "",
    ]
    return lines


def _generator_recalls(evaluation: EvaluationRecord) -> dict[str, float]:
    """Recall per type from the counts (exact; the stored rates are rounded)."""
    figures = evaluation.figures
    return {kind: figures["covered"][kind] / n for kind, n in figures["labelled"].items()}


def _reference_rates(evaluation: EvaluationRecord) -> tuple[float, float]:
    """Name recall and share of citizen texts redacted, from the counts."""
    names, texts = evaluation.corpus["names"], evaluation.corpus["over_redaction"]
    figures = evaluation.figures
    return (
        figures["names_redacted"] / names["person_names"] if names["person_names"] else 1.0,
        figures["texts_redacted"] / texts["texts"] if texts["texts"] else 0.0,
    )


def _reference_lines(evaluation: EvaluationRecord) -> list[str]:
    names, texts = evaluation.corpus["names"], evaluation.corpus["over_redaction"]
    figures = evaluation.figures
    name_recall, redacted_share = _reference_rates(evaluation)
    return [
        f"**Sur {_KIND_WORDS[REFERENCE_CORPORA][0]}** (évaluation du {_day(evaluation)}) : "
        f"{french_percent(name_recall)} des {french_number(names['person_names'])} "
        f"noms de personnes de {french_number(names['sentences'])} phrases du corpus public "
        f"`{names['name']}` entièrement masqués ; "
        f"{french_percent(redacted_share, round_up=True)} des "
        f"{french_number(texts['texts'])} textes citoyens réels du corpus `{texts['name']}`, "
        "qui ne contiennent presque aucune donnée personnelle, ont eu au moins un passage "
        f"masqué ; {french_number(figures['function_words_redacted'])} mot(s) grammatical(aux) "
        "(« les », « des »…) masqué(s) dans l'un ou l'autre corpus.",
        "",
    ]


def _warning(statement: ScrubberStatement, kind: str) -> tuple[str, str] | None:
    """The French and English warning for one kind of evaluation, if it needs one."""
    french, english = _KIND_WORDS[kind]
    evaluation, status = statement.evaluations[kind], statement.status(kind)
    if status == "none":
        return (
            f"aucune évaluation du détecteur sur {french} n'est enregistrée : sa fiabilité "
            "sur ce type de textes n'a pas été mesurée.",
            f"no evaluation on {english} is on record: its accuracy there was not measured.",
        )
    if status == "other_version":
        assert evaluation is not None
        return (
            f"l'évaluation sur {french} a été faite sur la version "
            f"`{evaluation.scrubber_version}` du détecteur, pas sur la version "
            f"`{statement.version}` qui a traité ces données : ses chiffres peuvent ne plus "
            "être exacts.",
            f"the evaluation on {english} measured version {evaluation.scrubber_version}, not "
            f"version {statement.version} that processed this data.",
        )
    return None


def _generator_english(evaluation: EvaluationRecord) -> str:
    recall = _generator_recalls(evaluation)
    lowest = min(recall, key=recall.__getitem__)
    return (
        f"on {evaluation.corpus['texts']:,} generated labelled texts ({_day(evaluation)}), "
        f"every type's values were fully redacted at {english_percent(recall[lowest])} "
        f"({lowest}) or more, precision {english_percent(evaluation.figures['precision'])}"
    )


def _reference_english(evaluation: EvaluationRecord) -> str:
    name_recall, redacted_share = _reference_rates(evaluation)
    return (
        f"on real text ({_day(evaluation)}), {english_percent(name_recall)} of person names "
        f"were fully redacted and {english_percent(redacted_share, round_up=True)} of real "
        f"citizen texts had a redaction, {evaluation.figures['function_words_redacted']} "
        "function word(s) in either corpus"
    )


def _said(evaluation: EvaluationRecord, detected: Sequence[str]) -> tuple[list[str], str]:
    """What the README says of one evaluation: its French lines and its English clause."""
    if evaluation.kind == GENERATOR:
        return _generator_lines(evaluation, detected), _generator_english(evaluation)
    return _reference_lines(evaluation), _reference_english(evaluation)


def statable(evaluation: EvaluationRecord) -> bool:
    """Whether a release can state `evaluation`: its corpus and figures have what the README
    says (a row written by another version of `civic eval scrub` may not). The publish stage
    skips one that is not, rather than fail the release over a measurement."""
    try:
        _said(evaluation, ())
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError):
        return False
    return True


def readme_section(statement: ScrubberStatement) -> list[str]:
    """The README's « Détection des données personnelles » section (French, then English)."""
    components = statement.components
    packages = components.get("packages", {})
    lines = [
        "## Détection des données personnelles / Personal data detection",
        "",
        "Les textes libres ont été analysés par le détecteur de données personnelles de la "
        f"plateforme, version `{statement.version}` (modèle spaCy `{components['model']}` "
        f"{components['model_version']}, Presidio {packages.get('presidio-analyzer', '?')}, "
        f"score minimal {str(components['threshold']).replace('.', ',')}). Aucun détecteur "
        "automatique n'est parfait : voici ce qu'il a manqué ou masqué à tort lors de sa "
        "dernière évaluation (`civic eval scrub` ; chiffres complets dans `manifest.json`, "
        "objet `scrubber` ; pourcentages arrondis dans le sens défavorable).",
        "",
    ]
    english = []
    for evaluation in (statement.evaluations[kind] for kind in KINDS):
        if evaluation is not None:
            french, clause = _said(evaluation, list(components.get("entities", [])))
            lines += french
            english.append(clause)
    warnings = [w for w in (_warning(statement, kind) for kind in KINDS) if w is not None]
    for french_warning, _ in warnings:
        lines += [f"> **Attention** : {french_warning}", ""]
    summary = (
        f"Free text was scrubbed by the platform's personal data detector, version "
        f"{statement.version}. "
        + (f"Last evaluations: {'; '.join(english)}. " if english else "")
        + "".join(f"Warning: {warning} " for _, warning in warnings)
    )
    return [*lines, summary.rstrip(), ""]
