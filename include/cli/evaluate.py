"""`civic eval`: measure the platform's privacy components on labelled data.

`civic eval scrub` generates the labelled corpus (a fixed seed gives the same
texts), scrubs it through the production path and prints recall per entity
type, precision, the share of non-PII words kept and the throughput, next to
the targets of the issue. It only reports, unless `--fail-under-targets` asks
for exit code 1 when a target is missed (for CI).

`civic eval scrub --corpus` measures on public text written elsewhere instead
(see `reference_corpora`): person-name recall on French NER sentences and
over-redaction on real citizen proposals. Where the reference data is absent
it says so in one line and exits with code 2.

`civic eval scrub --presidio-set` compares the scrubber with plain Presidio on
Presidio's own labelled English set (`presidio_reference_set`; `make presidio-set`
fetches it), recall per type both detect and the precision of names; it only prints.

The first two record their figures, with the scrubber's version, in the warehouse
(`include.scrubber_evaluations`): every release states the latest ones. The
warehouse is checked before any scrubbing; where it does not answer, the command
says so in one line and exits with code 3 (`--no-record` only prints the figures).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from include.anonymization.pii import ENTITY_TYPES, ModelNotInstalledError
from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.evaluation import (
    KEPT_WORDS_TARGET,
    PRECISION_TARGET,
    RECALL_TARGETS,
    TimedEvaluation,
    evaluate_detector,
    scrubber_detector,
)
from include.anonymization.pii.reference_corpora import REFERENCE_DIR
from include.anonymization.pii.version import ScrubberVersion, scrubber_version
from include.core.connections import WAREHOUSE_CONN_ID, ConnectionConfigError, get_connection
from include.core.settings import load_settings
from include.scrubber_evaluations import (
    TABLE,
    EvaluationRecord,
    ensure_table,
    generator_record,
    record_evaluation,
    reference_corpora_record,
)
from include.services.stack import LocalPlatform

# Exit code when the reference corpora are not beside the project (a user's clone).
REFERENCE_MISSING_EXIT = 2
# Exit code when the figures cannot be recorded (no warehouse connection, or it does not answer).
NOT_RECORDED_EXIT = 3
# A redacted string longer than this is cut in the table (the JSON has it whole).
_SHOWN_CHARS = 40

if TYPE_CHECKING:  # the corpus evaluation loads spaCy's French language (2 s): not at import
    from include.anonymization.pii import Scrubber
    from include.anonymization.pii.corpus_evaluation import NameRecall, OverRedaction

eval_app = typer.Typer(
    help="Measure privacy components (PII scrubbing) on labelled data.",
    no_args_is_help=True,
)
console = Console()


@eval_app.callback()
def evaluations() -> None:
    """Measure privacy components (PII scrubbing) on labelled data."""
    # A callback keeps `scrub` a subcommand (`civic eval scrub`) even while it is the only one.


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _verdict(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return ""
    return "[green]ok[/]" if value >= target else "[bold red]below[/]"


def scrub_table(run: TimedEvaluation, title: str) -> Table:
    """Recall and precision per type, then overall precision, words kept and throughput."""
    evaluation = run.evaluation
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("measure", "left"),
        ("labelled", "right"),
        ("recall", "right"),
        ("typed recall", "right"),
        ("precision", "right"),
        ("target", "right"),
        ("", "left"),
    ):
        # The measure's name stays whole on a narrow terminal; the figures' columns shrink.
        table.add_column(column, justify=justify, no_wrap=column == "measure")  # type: ignore[arg-type]
    for entity_type in ENTITY_TYPES:
        recall = evaluation.recall(entity_type)
        target = RECALL_TARGETS.get(entity_type)
        table.add_row(
            entity_type,
            f"{evaluation.labelled.get(entity_type, 0):,}",
            _rate(recall),
            _rate(evaluation.typed_recall(entity_type)),
            _rate(evaluation.precision_of(entity_type)),
            "" if target is None else f"≥ {target}",
            _verdict(recall, target),
        )
    table.add_section()
    table.add_row("all labelled values", f"{sum(evaluation.labelled.values()):,}",
                  _rate(evaluation.overall_recall), "", "", "", "")  # fmt: skip
    table.add_row("precision (detections)", f"{evaluation.detections:,}",
                  _rate(evaluation.precision), "", "", f"≥ {PRECISION_TARGET}",
                  _verdict(evaluation.precision, PRECISION_TARGET))  # fmt: skip
    table.add_row("non-PII words kept", f"{evaluation.non_pii_words:,}",
                  _rate(evaluation.kept_share), "", "", f"≥ {KEPT_WORDS_TARGET}",
                  _verdict(evaluation.kept_share, KEPT_WORDS_TARGET))  # fmt: skip
    table.add_section()
    table.add_row("throughput", f"{run.texts:,} texts",
                  f"{run.texts_per_second:,.0f} texts/s", f"{run.chars_per_second:,.0f} chars/s",
                  "", "", "")  # fmt: skip
    return table


def _corpus_table(title: str) -> Table:
    """The corpus tables' columns: a measure, its count, its rate, the target, a verdict."""
    table = Table(title=title, title_justify="left")
    for column, justify in (("measure", "left"), ("count", "right"), ("rate", "right"),
                            ("target", "right"), ("", "left")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    return table


def name_recall_table(result: NameRecall, title: str) -> Table:
    """Person-name recall (per name and per token) and PERSON precision on NER sentences."""
    from include.anonymization.pii.corpus_evaluation import NAME_RECALL_TARGET

    table = _corpus_table(title)
    recall, target = result.recall, NAME_RECALL_TARGET
    table.add_row("person names fully redacted", f"{result.names_redacted:,} / {result.names:,}",
                  _rate(recall), f"≥ {target}", _verdict(recall, target))  # fmt: skip
    table.add_row("person-name tokens redacted",
                  f"{result.name_tokens_redacted:,} / {result.name_tokens:,}",
                  _rate(result.token_recall), "", "")  # fmt: skip
    table.add_section()
    table.add_row("PERSON detections on a name", f"{result.person_detections:,}",
                  _rate(result.precision), "", "")  # fmt: skip
    for label, count in sorted(result.person_on_other_labels.items()):
        table.add_row(f"  PERSON on a {label} span", f"{count:,}", "", "", "")
    table.add_row("  PERSON on unlabelled words", f"{result.person_unlabelled:,}", "", "", "")
    table.add_section()
    for entity_type, count in result.other_types.most_common():
        table.add_row(f"  {entity_type} (not a name)", f"{count:,}", "", "", "")
    _function_words_row(table, result.function_words)
    return table


def _function_words_row(table: Table, function_words: Counter[str]) -> None:
    """The issue's target on real text: no function word (nor a blank) is ever redacted."""
    found = sum(function_words.values())
    table.add_row("function words or blanks redacted", f"{found:,}", "", "0",
                  "[green]ok[/]" if not found else "[bold red]above[/]")  # fmt: skip


def over_redaction_table(result: OverRedaction, title: str) -> Table:
    """Share of texts and characters redacted, per type, and the strings redacted most often."""
    from include.anonymization.pii.corpus_evaluation import REDACTED_TEXTS_TARGET, TOP_REDACTED

    table = _corpus_table(title)
    share, target = result.redacted_share, REDACTED_TEXTS_TARGET
    table.add_row("texts with any redaction", f"{result.texts_redacted:,} / {result.texts:,}",
                  _rate(share), f"≤ {target}",
                  "[green]ok[/]" if share <= target else "[bold red]above[/]")  # fmt: skip
    table.add_row("characters redacted", f"{result.chars_redacted:,} / {result.chars:,}",
                  f"{result.chars_share:.6f}", "", "")  # fmt: skip
    _function_words_row(table, result.function_words)
    table.add_section()
    for entity_type, count in result.per_type.most_common():
        texts = result.texts_per_type[entity_type]
        table.add_row(f"  {entity_type} ({texts:,} texts)", f"{count:,}",
                      _rate(texts / result.texts), "", "")  # fmt: skip
    table.add_section()
    for value, count in result.strings.most_common(TOP_REDACTED):
        shown = value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 1] + "…"
        table.add_row(f"  {shown!r}", f"{count:,}", "", "", "")
    return table


def _not_recorded(exc: Exception) -> typer.Exit:
    reason = " ".join(str(exc).split())
    typer.echo(
        f"civic eval scrub: cannot record the figures in the warehouse ({reason}). "
        "Start the services (`civic services up`) or set AIRFLOW_CONN_CIVIC_WAREHOUSE to the "
        "warehouse releases are published from; or pass --no-record to only print the figures.",
        err=True,
    )
    return typer.Exit(NOT_RECORDED_EXIT)


def recording_warehouse() -> str:
    """The warehouse's DSN with the evaluations' table ready, checked before any scrubbing
    (an evaluation takes minutes); a one-line error and exit code 3 when it does not answer."""
    environ = LocalPlatform(load_settings()).process_env()
    try:
        dsn = get_connection(WAREHOUSE_CONN_ID, environ).postgres_dsn()
        ensure_table(dsn)
    except (ConnectionConfigError, psycopg.Error) as exc:
        raise _not_recorded(exc) from None
    return dsn


def _record(dsn: str, record: EvaluationRecord, to_stderr: bool) -> None:
    """Store the figures and say where; stderr when stdout carries JSON."""
    try:
        stored = record_evaluation(dsn, record)
    except psycopg.Error as exc:
        raise _not_recorded(exc) from None
    typer.echo(
        f"recorded as evaluation #{stored.id} ({stored.kind}) of scrubber "
        f"{stored.scrubber_version} in {TABLE}: releases published from now on state it",
        err=to_stderr,
    )


def _corpus_eval(
    processes: int, limit: int, as_json: bool, reference_dir: Path, record: bool, show_misses: int
) -> None:
    """Run the corpus mode of `civic eval scrub` (see the module doc)."""
    from include.anonymization.pii.corpus_evaluation import score_names, score_over_redaction
    from include.anonymization.pii.evaluation import scrubber_detector
    from include.anonymization.pii.reference_corpora import (
        CITIZEN_TEXTS_FILE,
        WIKINEURAL_FILE,
        ReferenceCorpusMissingError,
        read_citizen_texts,
        read_conll_sentences,
        reference_file,
    )

    try:
        ner_file = reference_file(WIKINEURAL_FILE, reference_dir)
        citizen_file = reference_file(CITIZEN_TEXTS_FILE, reference_dir)
    except ReferenceCorpusMissingError as exc:
        typer.echo(f"civic eval scrub --corpus: {exc}", err=True)
        raise typer.Exit(REFERENCE_MISSING_EXIT) from None
    try:
        sentences = read_conll_sentences(ner_file, limit)
        citizen_texts = [t.text for t in read_citizen_texts(citizen_file)]
    except ValueError as exc:
        typer.echo(f"civic eval scrub --corpus: {exc}", err=True)
        raise typer.Exit(1) from None
    dsn = recording_warehouse() if record else None
    with _scrubber(processes) as scrubber:
        version = _version_loaded(scrubber)
        detect = scrubber_detector(scrubber)
        names = score_names(sentences, detect([s.text for s in sentences]))
        over = score_over_redaction(citizen_texts, detect(citizen_texts))
    if as_json:
        typer.echo(json.dumps({"names": names.as_dict(), "over_redaction": over.as_dict()},
                              ensure_ascii=False, indent=2))  # fmt: skip
    else:
        title = f"Person names in {names.sentences:,} NER sentences (scrubber {version.id})"
        console.print(name_recall_table(names, title))
        console.print(over_redaction_table(over, f"Over-redaction on {over.texts:,} citizen texts"))
        for miss in names.missed[:show_misses]:
            sentence = sentences[miss.sentence].text
            console.print(f"missed PER {miss.value!r} in sentence #{miss.sentence}: {sentence}",
                          markup=False, highlight=False)  # fmt: skip
    if dsn is not None:
        evaluation = reference_corpora_record(
            names,
            over,
            version,
            names_corpus=WIKINEURAL_FILE.parts[0],
            texts_corpus=CITIZEN_TEXTS_FILE.parts[0],
        )
        _record(dsn, evaluation, to_stderr=as_json)


def _presidio_set_eval(processes: int, as_json: bool, show_misses: int, fail: bool) -> None:
    """Run the `--presidio-set` mode of `civic eval scrub` (see the module doc)."""
    from include.anonymization.pii import presidio_reference_set as reference
    from include.anonymization.pii.evaluation import plain_presidio, presidio_detector
    from include.anonymization.pii.nlp import DEFAULT_MODEL

    try:
        texts = reference.load()
    except reference.PresidioSetMissingError as exc:
        typer.echo(f"civic eval scrub --presidio-set: {exc}", err=True)
        raise typer.Exit(REFERENCE_MISSING_EXIT) from None
    analyzer = plain_presidio(DEFAULT_MODEL, reference.LANGUAGE)
    presidio = presidio_detector(analyzer, reference.LANGUAGE)
    with _scrubber(processes) as scrubber:
        version = _version_loaded(scrubber)
        comparison = reference.compare(texts, scrubber_detector(scrubber), presidio)
    rows = comparison.rows()
    precisions = comparison.person_precision()
    if as_json:
        figures = {
            kind: {"labelled": total, "scrubber": round(ours, 4), "presidio": round(theirs, 4)}
            for kind, total, ours, theirs in rows
        }
        ours, theirs = precisions
        person = {"scrubber": round(ours, 4), "presidio": round(theirs, 4)}
        typer.echo(json.dumps({"scrubber_version": version.id, "recall": figures,
                               "person_precision": person}, indent=2))  # fmt: skip
    else:
        source = f"presidio-evaluator {reference.VERSION}"
        table = Table(title=f"Presidio's own set: {len(texts):,} English texts ({source}), "
                      f"scrubber {version.id}")  # fmt: skip
        for column in ("type", "values", "scrubber", "plain Presidio"):
            table.add_column(column, justify="left" if column == "type" else "right")
        for kind, total, ours, theirs in rows:
            table.add_row(kind, f"{total:,}", f"{ours:.4f}", f"{theirs:.4f}")
        table.add_section()
        table.add_row(f"{PERSON} precision", "", *(f"{p:.4f}" for p in precisions))
        console.print(table)
        for miss in comparison.scrubber.misses[:show_misses]:
            text = texts[miss.text_index].text
            console.print(f"missed {miss.entity_type} {miss.value!r} in text #{miss.text_index}: "
                          f"{text!r}", markup=False, highlight=False)  # fmt: skip
    behind = comparison.behind_presidio()
    if behind:
        console.print("[bold red]behind Presidio:[/] " + "; ".join(behind))
        if fail:
            raise typer.Exit(1)


def _version_loaded(scrubber: Scrubber) -> ScrubberVersion:
    """The version of the scrubber just built: hashed right after its modules were imported,
    not minutes later, while the files may be edited (what is measured is what was loaded)."""
    return scrubber_version(scrubber.settings)


def _scrubber(processes: int) -> Scrubber:
    """The production scrubber, or a one-line error and exit code 1 without its model."""
    from include.anonymization.pii import Scrubber

    try:
        return Scrubber(processes=processes)
    except ModelNotInstalledError as exc:
        typer.echo(f"civic eval scrub: {exc}", err=True)
        raise typer.Exit(1) from None


@eval_app.command("scrub")
def scrub_eval(
    n: Annotated[int, typer.Option(min=1, help="Number of labelled texts to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Corpus seed (same seed, same texts).")] = 20261125,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    show_misses: Annotated[
        int, typer.Option(min=0, help="Print up to this many missed values.")
    ] = 0,
    fail_under_targets: Annotated[
        bool,
        typer.Option(
            help="Exit with code 1 when a target of the issue is missed (with --presidio-set: "
            "when a type's recall is under plain Presidio's)."
        ),
    ] = False,
    corpus: Annotated[
        bool,
        typer.Option(
            help="Measure on the public reference corpora (../shared/reference) instead of "
            "the generator: person-name recall and over-redaction of real citizen texts."
        ),
    ] = False,
    presidio_set: Annotated[
        bool,
        typer.Option(
            help="Compare with plain Presidio on Presidio's own labelled English set "
            "(make presidio-set): recall per type both detect. Prints only."
        ),
    ] = False,
    limit: Annotated[
        int, typer.Option(min=1, help="With --corpus: NER sentences to read (from the start).")
    ] = 3000,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="With --corpus or --presidio-set: print the figures as JSON."),
    ] = False,
    reference_dir: Annotated[
        Path, typer.Option(help="With --corpus: the folder of the public reference corpora.")
    ] = REFERENCE_DIR,
    record: Annotated[
        bool,
        typer.Option(
            help="Record the figures and the scrubber's version in the warehouse "
            f"({TABLE}), where every release reads the latest; --no-record only prints them."
        ),
    ] = True,
) -> None:
    """Recall per entity type, precision and non-PII words kept on the labelled corpus."""
    if corpus:
        _corpus_eval(processes, limit, as_json, reference_dir, record, show_misses)
        return
    if presidio_set:
        _presidio_set_eval(processes, as_json, show_misses, fail_under_targets)
        return
    # Heavy imports (spaCy, Presidio, the text generator) only when the command runs.
    from include.sample.texts import labelled_corpus

    dsn = recording_warehouse() if record else None
    corpus_texts = list(labelled_corpus(n, seed))
    with _scrubber(processes) as scrubber:
        version = _version_loaded(scrubber)
        run = evaluate_detector(corpus_texts, scrubber_detector(scrubber))
    console.print(
        scrub_table(
            run, f"PII scrubbing on {n:,} labelled texts (seed {seed}), scrubber {version.id}"
        )
    )
    for miss in run.evaluation.misses[:show_misses]:
        console.print(f"missed {miss.entity_type} {miss.value!r} in text #{miss.text_index}")
    if dsn is not None:
        _record(dsn, generator_record(run, version, texts=n, seed=seed), to_stderr=False)
    failed = run.evaluation.failed_targets()
    if failed:
        console.print("[bold red]targets missed:[/] " + "; ".join(failed))
        if fail_under_targets:
            raise typer.Exit(1)
