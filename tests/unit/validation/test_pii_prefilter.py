"""The PII checks' first pass: it may only skip rows the exact pattern cannot match.

A candidate pattern that missed one text the exact pattern matches would let that
text through the gate unread, so its necessity is tested three ways: on texts drawn
from each exact pattern (Unicode digits included), on every Unicode decimal digit
(Python's `\\d` against RE2's `\\p{Nd}`), and end to end, where the narrowed checks
must report exactly what GX reports when it reads every row.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from include.anonymization.pii.reference_corpora import (
    CITIZEN_TEXTS_FILE,
    REFERENCE_DIR,
    read_citizen_texts,
)
from include.core.source_config import SourceConfig
from include.validation import gx_runner
from include.validation.pii_patterns import PII_PATTERNS, RE2_DIGIT, RE2_SPACES, PiiPattern
from include.validation.pii_prefilter import narrowable, narrowed_frame
from include.validation.suite_files import load_suite
from include.validation.suites import CURATED


def candidate_found(pattern: PiiPattern, texts: list[str]) -> list[bool]:
    found = pc.match_substring_regex(pa.array(texts, type=pa.large_string()), pattern.candidate)
    return found.to_pylist()


@pytest.mark.parametrize("pattern", PII_PATTERNS, ids=lambda p: p.name)
def test_every_text_the_pattern_matches_holds_its_candidate(pattern: PiiPattern) -> None:
    exact = re.compile(pattern.regex)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.from_regex(exact), st.text(max_size=8), st.text(max_size=8))
    def check(core: str, before: str, after: str) -> None:
        text = before + core + after
        if exact.search(text):
            assert candidate_found(pattern, [text]) == [True], text

    check()


@pytest.mark.parametrize(
    ("python", "re2", "at_least"),
    [(r"\d", RE2_DIGIT, 600), (r"\s", f"[{RE2_SPACES}]", 25)],
    ids=["digits", "spaces"],
)
def test_the_candidates_classes_hold_every_character_of_pythons(
    python: str, re2: str, at_least: int
) -> None:
    chars = [chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(python, chr(c))]
    assert len(chars) > at_least  # every script's, not only ASCII
    found = pc.match_substring_regex(pa.array(chars), f"^(?:{re2})$").to_pylist()
    assert [c for c, hit in zip(chars, found, strict=True) if not hit] == []


def test_a_candidate_that_is_not_necessary_is_caught() -> None:
    """The property above fails for a candidate that misses a notation: it can fail."""
    nir = next(p for p in PII_PATTERNS if p.name == "nir")
    ascii_only = PiiPattern(nir.name, nir.label, nir.regex, r"[0-9][0-9]")
    arabic_indic = "mon numéro : 1 ٨٥ ٠٥ ٧٥ ١١٢ ٠٤٥ ٢٣ merci"
    assert re.search(nir.regex, arabic_indic)
    assert candidate_found(nir, [arabic_indic]) == [True]
    assert candidate_found(ascii_only, [arabic_indic]) == [False]


# Personal data in every published text column, in notations the candidates must not skip.
LEAKS = {
    "description": [
        "Appelez le 06 ١٢ ٣٤ ٥٦ ٧٨ svp",  # Arabic-Indic digits
        "NIR 1 ٨٥ ٠٥ ٧٥ ١١٢ ٠٤٥ ٢٣",
        "écrire à jean.dupont@exa\nmple.fr",
        "IP fe80::1ff:fe23:4567:890a",
        "jean [at] example [dot] fr",
        "carte 4970 1012 3456 7890",
        "plaque AB-123-CD",
        "IBAN FR76 3000 6000 0112 3456 7890 189",
    ],
    "submission_id": ["s-paul.martin@orange.fr", "NIR 185037511204523"],
    "commune": ["Lyon 192.168.1.34"],
}


# Where each leak is put: every third row, in the order above.
ROWS = {
    value: 3 * position
    for position, value in enumerate(value for values in LEAKS.values() for value in values)
}


@pytest.fixture
def leaky(
    reports: tuple[pd.DataFrame, dict[str, pd.DataFrame]], signalements: SourceConfig
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The signalements curated table with the leaks above, and its suite."""
    table = reports[0].copy().astype(object).reset_index(drop=True)
    for column, values in LEAKS.items():
        for value in values:
            table.loc[ROWS[value], column] = value
    after = max(ROWS.values()) + 1
    table.loc[after, "description"] = None
    table.loc[after + 1, "description"] = 12345678901  # not text: read as GX would read it
    return table, load_suite(signalements, CURATED)


def test_narrowed_checks_report_what_reading_every_row_reports(
    leaky: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    table, suite = leaky
    checks = [e for e in suite["expectations"] if narrowable(e)]
    assert {e["kwargs"]["column"] for e in checks} >= set(LEAKS)
    assert len(checks) == len(PII_PATTERNS) * len({e["kwargs"]["column"] for e in checks})

    every_row = gx_runner._run(suite["name"], checks, table)
    narrowing = gx_runner._NarrowedChecks(suite["name"], checks, slice_rows=len(table))
    narrowed = narrowing.add(table) + narrowing.flush()

    assert narrowed == every_row
    failed = {result.check for result in every_row if not result.success}
    assert {
        "description.no_pii.phone_fr",
        "description.no_pii.nir",
        "description.no_pii.email",
        "description.no_pii.ipv6",
        "description.no_pii.obfuscated_email",
        "description.no_pii.payment_card",
        "description.no_pii.licence_plate",
        "description.no_pii.iban",
        "description.no_pii.long_digit_run",
        "submission_id.no_pii.email",
        "submission_id.no_pii.nir",
        "commune.no_pii.ipv4",
    } <= failed
    # Most rows hold none of the candidates: the exact patterns read a fraction of them
    # (here every row stays in the narrowed frame: a number in `description` is no text,
    # and every row of a column that is not all text is a candidate).
    candidates = narrowed_frame(table, checks)
    assert set(candidates.index) >= set(ROWS.values())
    assert candidates.notna().to_numpy().sum() < 0.5 * len(table) * len(checks)


def test_gx_reads_only_the_candidate_rows_of_an_all_text_table(
    leaky: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    table, suite = leaky
    table.loc[max(ROWS.values()) + 2, "description"] = "12345678901"  # the number, as text
    checks = [e for e in suite["expectations"] if narrowable(e)]

    candidates = narrowed_frame(table, checks)
    assert set(candidates.index) >= set(ROWS.values()) | {max(ROWS.values()) + 2}
    assert len(candidates) < 0.5 * len(table)
    narrowing = gx_runner._NarrowedChecks(suite["name"], checks, slice_rows=len(table))
    assert narrowing.add(table) + narrowing.flush() == gx_runner._run(suite["name"], checks, table)


def test_the_gate_runs_narrowed_and_fails_on_the_same_rows(
    leaky: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    table, suite = leaky
    results = {r.check: r for r in gx_runner.run_suite(suite, table, slice_rows=200)}
    phone = results["description.no_pii.phone_fr"]
    assert not phone.success
    assert phone.unexpected_count == 1
    assert phone.rows == (ROWS["Appelez le 06 ١٢ ٣٤ ٥٦ ٧٨ svp"],)
    assert phone.element_count == len(table)
    assert phone.values_withheld
    assert results["description.no_pii.nir"].rows == (ROWS["NIR 1 ٨٥ ٠٥ ٧٥ ١١٢ ٠٤٥ ٢٣"],)
    assert results["submission_id.no_pii.nir"].rows == (ROWS["NIR 185037511204523"],)


def test_the_candidates_gathered_over_slices_give_one_result_whatever_the_slicing(
    leaky: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    """Slices of 5 rows fill a GX run's worth of candidates every few slices; of 10,000
    rows, the table is one slice: the results are the same."""
    table, suite = leaky
    table = table.iloc[:120]
    by_slicing = [gx_runner.run_suite(suite, table, slice_rows=rows) for rows in (5, 10_000)]
    assert by_slicing[0] == by_slicing[1]
    phone = next(r for r in by_slicing[0] if r.check == "description.no_pii.phone_fr")
    assert (phone.element_count, phone.unexpected_count) == (120, 1)


CITIZEN_TEXTS = REFERENCE_DIR / CITIZEN_TEXTS_FILE


@pytest.mark.skipif(not CITIZEN_TEXTS.is_file(), reason=f"reference corpus absent: {CITIZEN_TEXTS}")
def test_on_real_citizen_prose_the_narrowed_checks_report_what_every_row_reports(
    leaky: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    """635 real proposals (../shared/reference, never copied here) as the descriptions,
    the leaks above among them: prose the candidates were not written against, with its
    brackets, figures, amounts and dates. Narrowed or not, GX reports the same."""
    table, suite = leaky
    texts = [t.text for t in read_citizen_texts(CITIZEN_TEXTS)]
    rows = pd.concat([table] * (len(texts) // len(table) + 2), ignore_index=True)
    rows = rows.iloc[: len(texts) + len(table)].reset_index(drop=True)
    rows.loc[len(table) :, "description"] = texts
    checks = [e for e in suite["expectations"] if narrowable(e)]

    narrowing = gx_runner._NarrowedChecks(suite["name"], checks, slice_rows=len(rows))
    narrowed = narrowing.add(rows) + narrowing.flush()
    assert narrowed == gx_runner._run(suite["name"], checks, rows)
    candidates = narrowed_frame(rows.iloc[len(table) :], checks)
    assert len(candidates) < len(texts)  # not every text is read by the exact patterns


def test_only_exact_pii_checks_are_narrowed() -> None:
    pattern = PII_PATTERNS[0]
    check = {
        "type": "expect_column_values_to_not_match_regex",
        "kwargs": {"column": "c", "regex": pattern.regex},
        "meta": {"check": "c.no_pii.email"},
    }
    assert narrowable(check)
    assert not narrowable({**check, "kwargs": {"column": "c", "regex": pattern.regex + "x"}})
    assert not narrowable({**check, "kwargs": {**check["kwargs"], "mostly": 0.99}})
    assert not narrowable({**check, "type": "expect_column_values_to_match_regex"})
