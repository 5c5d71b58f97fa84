"""Scrub throughput and recall: plain Presidio against `civic scrub`'s path, one run, same texts.

Plain Presidio is what a first attempt looks like: `AnalyzerEngine` over the full
fr_core_news_md pipeline with its default recognizers, `analyze(text,
language="fr")` one text at a time. The scrubber's path is `Scrubber.scrub_texts`
(trimmed pipeline, nlp.pipe batches, worker processes). Both run on the same
labelled texts, with the same installed model, in the same process run, and both
are scored the same way (a labelled value is found when detections cover it).

    .venv/bin/python bench/bench_scrub.py --n 1000 --processes 2

Figures only, never pass/fail: the machine's other load moves them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
from rich.console import Console
from rich.table import Table

from include.anonymization.pii import ENTITY_TYPES, Scrubber
from include.anonymization.pii.evaluation import (
    Detection,
    TimedEvaluation,
    evaluate_detector,
    scrubber_detector,
)
from include.anonymization.pii.nlp import DEFAULT_MODEL
from include.sample.texts import labelled_corpus


def plain_presidio(model: str) -> AnalyzerEngine:
    """Presidio as documented, over the installed model (never the default English download)."""
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "fr", "model_name": model}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["fr"])


def presidio_detector(analyzer: AnalyzerEngine) -> Callable[[list[str]], list[list[Detection]]]:
    def detect(texts: list[str]) -> list[list[Detection]]:
        return [
            [Detection(r.start, r.end, r.entity_type) for r in analyzer.analyze(t, language="fr")]
            for t in texts
        ]

    return detect


def comparison_table(runs: dict[str, TimedEvaluation]) -> Table:
    """One column per path; the first is the baseline of the speed-up."""
    table = Table(title="Scrub throughput and recall, same texts, same model, one run")
    table.add_column("measure")
    for name in runs:
        table.add_column(name, justify="right")
    baseline = next(iter(runs.values()))

    def row(label: str, cell: Callable[[TimedEvaluation], str]) -> None:
        table.add_row(label, *(cell(run) for run in runs.values()))

    row("texts/s", lambda run: f"{run.texts_per_second:,.1f}")
    row("chars/s", lambda run: f"{run.chars_per_second:,.0f}")
    row("seconds", lambda run: f"{run.seconds:.2f}")
    row("speed-up", lambda run: f"{run.texts_per_second / baseline.texts_per_second:.1f}×")
    table.add_section()
    for entity_type in ENTITY_TYPES:
        row(
            f"recall {entity_type}",
            lambda run, kind=entity_type: _rate(run.evaluation.recall(kind)),
        )
    row("recall, all values", lambda run: f"{run.evaluation.overall_recall:.4f}")
    row("non-PII words kept", lambda run: f"{run.evaluation.kept_share:.4f}")
    return table


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="labelled texts (default 1000)")
    parser.add_argument("--seed", type=int, default=20261125, help="corpus seed")
    parser.add_argument("--processes", type=int, default=2, help="scrubber worker processes")
    args = parser.parse_args()

    corpus = list(labelled_corpus(args.n, args.seed))
    load_before = os.getloadavg()[0]
    analyzer = plain_presidio(DEFAULT_MODEL)
    analyzer.analyze(corpus[0].text, language="fr")  # first-call set-up is not throughput
    runs = {"plain Presidio": evaluate_detector(corpus, presidio_detector(analyzer))}
    # One process first: comparable with plain Presidio whatever else the machine runs.
    for processes in sorted({1, args.processes}):
        with Scrubber(processes=processes) as scrubber:
            scrubber.scrub_texts([corpus[0].text])
            runs[f"civic scrub, {processes} proc."] = evaluate_detector(
                corpus, scrubber_detector(scrubber)
            )
    console = Console()
    console.print(comparison_table(runs))
    console.print(
        f"{args.n:,} texts (seed {args.seed}), {os.cpu_count()} CPUs, load average "
        f"{load_before:.2f} before / {os.getloadavg()[0]:.2f} after: other processes on "
        "the machine lower every figure, the parallel path's most."
    )


if __name__ == "__main__":
    main()
