"""`civic eval`: measure the platform's privacy components on labelled synthetic data.

`civic eval scrub` generates the labelled corpus (a fixed seed gives the same
texts), scrubs it through the production path and prints recall per entity
type, precision, the share of non-PII words kept and the throughput, next to
the targets of the issue. It only reports, unless `--fail-under-targets` asks
for exit code 1 when a target is missed (for CI).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from include.anonymization.pii import ENTITY_TYPES, ModelNotInstalledError
from include.anonymization.pii.evaluation import (
    KEPT_WORDS_TARGET,
    RECALL_TARGETS,
    TimedEvaluation,
    evaluate_detector,
    scrubber_detector,
)

eval_app = typer.Typer(
    help="Measure privacy components (PII scrubbing) on labelled synthetic data.",
    no_args_is_help=True,
)
console = Console()


@eval_app.callback()
def evaluations() -> None:
    """Measure privacy components (PII scrubbing) on labelled synthetic data."""
    # A callback keeps `scrub` a subcommand (`civic eval scrub`) even while it is the only one.


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _verdict(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return ""
    return "[green]ok[/]" if value >= target else "[bold red]below[/]"


def scrub_table(run: TimedEvaluation, title: str) -> Table:
    """Recall per type, then precision, words kept and throughput, against the targets."""
    evaluation = run.evaluation
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("measure", "left"),
        ("labelled", "right"),
        ("recall", "right"),
        ("typed recall", "right"),
        ("target", "right"),
        ("", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for entity_type in ENTITY_TYPES:
        recall = evaluation.recall(entity_type)
        target = RECALL_TARGETS.get(entity_type)
        table.add_row(
            entity_type,
            f"{evaluation.labelled.get(entity_type, 0):,}",
            _rate(recall),
            _rate(evaluation.typed_recall(entity_type)),
            "" if target is None else f"≥ {target}",
            _verdict(recall, target),
        )
    table.add_section()
    table.add_row("all labelled values", f"{sum(evaluation.labelled.values()):,}",
                  _rate(evaluation.overall_recall), "", "", "")  # fmt: skip
    table.add_row("precision (detections)", f"{evaluation.detections:,}",
                  _rate(evaluation.precision), "", "", "")  # fmt: skip
    table.add_row("non-PII words kept", f"{evaluation.non_pii_words:,}",
                  _rate(evaluation.kept_share), "", f"≥ {KEPT_WORDS_TARGET}",
                  _verdict(evaluation.kept_share, KEPT_WORDS_TARGET))  # fmt: skip
    table.add_section()
    table.add_row("throughput", f"{run.texts:,} texts",
                  f"{run.texts_per_second:,.0f} texts/s", f"{run.chars_per_second:,.0f} chars/s",
                  "", "")  # fmt: skip
    return table


@eval_app.command("scrub")
def scrub_eval(
    n: Annotated[int, typer.Option(min=1, help="Number of labelled texts to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Corpus seed (same seed, same texts).")] = 20261125,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    show_misses: Annotated[
        int, typer.Option(min=0, help="Print up to this many missed values.")
    ] = 0,
    fail_under_targets: Annotated[
        bool, typer.Option(help="Exit with code 1 when a target of the issue is missed.")
    ] = False,
) -> None:
    """Recall per entity type, precision and non-PII words kept on the labelled corpus."""
    # Heavy imports (spaCy, Presidio, the text generator) only when the command runs.
    from include.anonymization.pii import Scrubber
    from include.sample.texts import labelled_corpus

    corpus = list(labelled_corpus(n, seed))
    try:
        scrubber = Scrubber(processes=processes)
    except ModelNotInstalledError as exc:
        typer.echo(f"civic eval scrub: {exc}", err=True)
        raise typer.Exit(1) from None
    with scrubber:
        run = evaluate_detector(corpus, scrubber_detector(scrubber))
    console.print(scrub_table(run, f"PII scrubbing on {n:,} labelled texts (seed {seed})"))
    for miss in run.evaluation.misses[:show_misses]:
        console.print(f"missed {miss.entity_type} {miss.value!r} in text #{miss.text_index}")
    failed = run.evaluation.failed_targets()
    if failed:
        console.print("[bold red]targets missed:[/] " + "; ".join(failed))
        if fail_under_targets:
            raise typer.Exit(1)
