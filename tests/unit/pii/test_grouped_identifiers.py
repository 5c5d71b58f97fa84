"""Bank accounts and company numbers in whatever groups people write them (grouped_identifiers).

Every country's IBAN in each notation python-stdnum's test suite found online (its parts
as the national format cuts them, dots, dashes, lower case, the country code apart), the
French RIB without its IBAN prefix, SIRETs and SIRENs spaced anyhow after their name, and
French VAT numbers: the scrubber redacts each whole, and the validation gate blocks each
when left in clear. Before, Presidio's pattern (groups of four) left most of them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from stdnum import luhn

from include.anonymization.pii.recognizers.grouped_identifiers import read_grouped
from include.sample import identifiers
from include.validation.pii_patterns import PII_PATTERNS

Found = Callable[[str], list[tuple[str, str]]]


def _blocked_by_the_gate(text: str) -> bool:
    return any(re.search(pattern.regex, text) for pattern in PII_PATTERNS)


@pytest.mark.parametrize(
    ("text", "length", "end"),
    [
        ("12 34.56-78 rest", 8, 11),
        ("1 2 3 4", 4, 7),
        ("12  34", 4, None),  # two separators are no longer one identifier
        ("12345", 4, None),  # ends inside a group
        ("12 3", 4, None),  # runs out
        ("AB12 cd", 6, 7),
    ],
)
def test_read_grouped_counts_letters_and_digits_across_single_separators(
    text: str, length: int, end: int | None
) -> None:
    assert read_grouped(text, 0, length) == end


def test_a_separator_before_the_first_character_counts_only_after_a_group() -> None:
    assert read_grouped("FR76 3000", 4, 4) == 9
    assert read_grouped(": 3000", 1, 4) is None


def _notations(country: str, compact: str) -> dict[str, str]:
    fours = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return {
        "fours": fours,
        "parts": " ".join([compact[:4], *identifiers.bban_parts(country, compact[4:])]),
        "dots": fours.replace(" ", "."),
        "dashes": fours.replace(" ", "-"),
        "country apart": f"{compact[:2]} {compact[2:4]} {fours[5:]}",
        "lower case": fours.lower(),
    }


# What the gate's patterns can read without taking capitals in prose for an account: groups
# of four (any separator, the country code apart or not), or a bank's letters then digits.
_GATE_READS = {"fours", "dots", "dashes", "country apart"}
_BANK_LETTERS_THEN_DIGITS = re.compile(r"[A-Z]{0,4}\d+")


@pytest.mark.parametrize("country", sorted(identifiers.BBAN_FORMATS))
def test_every_countrys_iban_is_redacted_in_every_notation(found: Found, country: str) -> None:
    compact = identifiers.foreign_iban(random.Random(country), country, grouped=False)
    digits_only = _BANK_LETTERS_THEN_DIGITS.fullmatch(compact[4:])
    for notation, written in _notations(country, compact).items():
        text = f"Merci de rembourser sur mon compte {written} svp"
        assert found(text) == [("IBAN_CODE", written)], notation
        if notation in _GATE_READS or (digits_only and notation != "lower case"):
            assert _blocked_by_the_gate(text), notation


def test_a_french_iban_in_lower_case_is_blocked_by_the_gate() -> None:
    assert _blocked_by_the_gate("mon iban fr76 3000 6000 0112 3456 7890 189")
    assert _blocked_by_the_gate("mon iban fr7630006000011234567890189")


@pytest.mark.parametrize("seed", range(20))
def test_a_french_rib_without_its_iban_prefix_is_redacted(found: Found, seed: int) -> None:
    compact = identifiers.iban_fr(random.Random(seed), grouped=False)
    rib = " ".join(identifiers.bban_parts("FR", compact[4:]))
    assert found(f"Mon RIB : {rib}.") == [("IBAN_CODE", rib)]
    # A wrong key is not a RIB for the scrubber (nor for a bank); the gate blocks it.
    wrong = rib[:-2] + f"{(int(rib[-2:]) + 1) % 97:02d}"
    assert "IBAN_CODE" not in {kind for kind, _ in found(f"Mon RIB : {wrong}.")}
    assert _blocked_by_the_gate(f"Mon RIB : {wrong}.")


def _spaced_anyhow(rng: random.Random, number: str) -> str:
    return "".join(d + rng.choice(["", "", " "]) for d in number[:-1]) + number[-1]


@pytest.mark.parametrize("seed", range(20))
def test_a_company_number_spaced_anyhow_is_redacted_after_its_name(found: Found, seed: int) -> None:
    rng = random.Random(seed)
    head = identifiers.siren(rng, spaced=False) + f"{rng.randint(1, 99):04d}"
    siret = _spaced_anyhow(rng, head + luhn.calc_check_digit(head))
    siren = _spaced_anyhow(rng, identifiers.siren(rng, spaced=False))
    for text, kind, value in [
        (f"Mon SIRET : {siret}.", "FR_SIRET", siret),
        (f"n° siret de l'entreprise {siret}", "FR_SIRET", siret),
        (f"Our SIREN number is {siren}.", "FR_SIREN", siren),
    ]:
        assert found(text) == [(kind, value)], text
        assert _blocked_by_the_gate(text), text


def test_digits_spaced_anyhow_without_a_name_are_no_company_number(found: Found) -> None:
    # "5 601 52 274 000 26" is a valid SIRET, but fourteen digits in
    # arbitrary groups pass a Luhn check one time in ten: without its name, it stays.
    assert found("Le bilan : 5 601 52 274 000 26 au total.") == []


@pytest.mark.parametrize("seed", range(10))
def test_a_french_vat_number_is_redacted_as_the_company_number_in_it(
    found: Found, seed: int
) -> None:
    rng = random.Random(seed)
    for vat in {identifiers.french_vat(rng) for _ in range(6)}:
        text = f"N° TVA intracommunautaire {vat}, merci."
        assert found(text) == [("FR_SIREN", vat)]
        assert _blocked_by_the_gate(text)
        # With a wrong key it is no VAT number (the SIREN in it, spaced, still is one).
        wrong = vat[:2] + vat[2:].replace(vat.replace(" ", "")[2:4], "00", 1)
        if wrong != vat:
            assert ("FR_SIREN", wrong) not in found(f"N° TVA intracommunautaire {wrong}, merci.")


@pytest.mark.parametrize(
    "text",
    [
        "les années 2019 2020 2021 2022",
        "un budget de 12 000 000 000 euros en 2019",
        "FR 3 diffuse le 12 03 2019 à 20 h",
        "de 12 345 678 habitants",
        "La ligne fr 12 est en travaux",
    ],
)
def test_numbers_in_prose_are_no_account(found: Found, text: str) -> None:
    assert found(text) == []
