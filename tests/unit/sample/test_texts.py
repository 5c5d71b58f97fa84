"""Labelled texts: exact, non-overlapping spans for every planted value; realistic mix."""

from __future__ import annotations

import ipaddress
import random
import re
from types import ModuleType

import phonenumbers
import pytest
import schwifty
from stdnum import luhn
from stdnum.be import nn as be_nn
from stdnum.ch import ssn as ch_ssn
from stdnum.fr import nif as fr_nif
from stdnum.fr import nir, siren, siret
from stdnum.fr import tva as fr_tva
from stdnum.iso7064 import mod_97_10

from include.sample import phrases_en, phrases_fr, templating
from include.sample.pools import get_pools, make_person
from include.sample.templating import Choice, Node, Slot
from include.sample.texts import (
    _PII_SLOTS,
    _SLOTS,
    ENTITY_TYPES,
    LabelledText,
    labelled_corpus,
    opinion_text,
    signalement_text,
)

N = 3000


@pytest.fixture(scope="module")
def corpus() -> list[LabelledText]:
    return list(labelled_corpus(N, seed=11))


def test_every_span_is_exact_typed_and_disjoint(corpus: list[LabelledText]) -> None:
    for item in corpus:
        previous_end = 0
        for span in item.spans:
            assert item.text[span.start : span.end] == span.value
            assert span.entity_type in ENTITY_TYPES
            assert span.value == span.value.strip()
            assert span.value
            assert span.start >= previous_end, "spans overlap or are out of order"
            previous_end = span.end


def test_the_mix_is_realistic(corpus: list[LabelledText]) -> None:
    without_pii = sum(not item.spans for item in corpus) / N
    english = sum(item.lang == "en" for item in corpus) / N
    in_range = sum(80 <= len(item.text) <= 600 for item in corpus) / N
    assert 0.25 <= without_pii <= 0.35
    assert 0.07 <= english <= 0.13
    assert in_range >= 0.85
    assert {s.entity_type for item in corpus for s in item.spans} == set(ENTITY_TYPES)
    assert len({item.text for item in corpus}) > 0.95 * N, "texts should rarely repeat"


def _has_iban_check_digits(value: str) -> bool:
    """ISO 13616's check, the one every IBAN has, whatever the line breaks, separators and
    case; a French RIB given without its IBAN prefix, by its key.

    Not stdnum's `iban.is_valid`: foreign IBANs carry random national keys, and some
    come from countries outside the registry stdnum ships (see `foreign_iban`).
    """
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if re.fullmatch(r"\d{23}", compact):  # schwifty checks the RIB key
        return schwifty.IBAN.from_bban("FR", compact, validate_bban=True) is not None
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}[0-9A-Z]+", compact)) and mod_97_10.is_valid(
        compact[4:] + compact[:4]
    )


def test_identifier_values_are_valid(corpus: list[LabelledText]) -> None:
    validators = {
        "FR_NIR": nir.is_valid,
        "IBAN_CODE": _has_iban_check_digits,
        "FR_SIREN": lambda v: siren.is_valid(v) or fr_tva.is_valid(v),  # in a VAT number
        "FR_SIRET": siret.is_valid,
        # French, or with a country code, or a British or North American one from home;
        # maybe cut by a line break.
        "PHONE_NUMBER": lambda v: any(
            phonenumbers.is_valid_number(phonenumbers.parse(v.replace("\n", " "), region))
            for region in ("FR", "GB", "US")
        ),
        "EMAIL_ADDRESS": lambda v: re.fullmatch(
            r"[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]+", plain_email(v)
        ),
        # A number first (a flat's before it), or after the street before a Belgian, Swiss
        # or Luxembourg town.
        "FR_ADDRESS": lambda v: (
            re.match(r"(?:Flat \d+, )?\d+", v)
            or re.search(
                r" \d{1,3}(?:b|/\d+| bte \d+)?(?:, |\n| )(?:B-|CH-|L-)?\d{4} \D+$", v, re.I
            )
        ),
        "CREDIT_CARD": lambda v: luhn.is_valid(re.sub(r"[\s-]", "", v)),
        "FR_TAX_ID": lambda v: fr_nif.is_valid(v.replace(" ", "")),
        "IP_ADDRESS": ipaddress.ip_address,
        "BE_NATIONAL_NUMBER": lambda v: be_nn.is_valid(re.sub(r"\D", "", v)),
        "CH_AVS_NUMBER": lambda v: ch_ssn.is_valid(re.sub(r"\D", "", v)),
    }
    for item in corpus:
        for span in item.spans:
            check = validators.get(span.entity_type)
            assert check is None or check(span.value), span


def test_texts_without_labels_carry_no_identifier(corpus: list[LabelledText]) -> None:
    leaks = re.compile(r"@|FR\d{2}|\d{2}[ .-]?\d{2}[ .-]?\d{2}[ .-]?\d{2}[ .-]?\d{2}")
    for item in corpus:
        if not item.spans:
            assert not leaks.search(item.text), item.text


_SPELT_AT = re.compile(r"\s*(?:\[at\]|\(at\)|\barobase\b|@)\s*")
_SPELT_DOT = re.compile(r"\s*(?:\[dot\]|\(dot\)|\bpoint\b)\s*")


def plain_email(value: str) -> str:
    """An e-mail as generated, its spelt-out @ and dots and its line break undone."""
    return _SPELT_DOT.sub(".", _SPELT_AT.sub("@", value.replace("\n", "")))


def test_contact_details_are_the_authors() -> None:
    pools = get_pools(0)
    rng = random.Random(4)
    for _ in range(400):
        author = make_person(rng, pools)
        text = signalement_text(rng, pools, author=author, lang="fr")
        for span in text.spans:
            if span.entity_type == "EMAIL_ADDRESS":
                assert plain_email(span.value.lower()) == author.email
            if span.entity_type == "PHONE_NUMBER":
                value = unsplit(span.value, spaced=" " in author.phone)
                foreign = phonenumbers.parse(value, "FR").country_code != 33
                assert foreign or value == author.phone


def unsplit(value: str, *, spaced: bool) -> str:
    """`value` as it was before `split_by_line_break` cut it (`spaced`: it had spaces)."""
    return value.replace(" \n", " ").replace("\n", " " if spaced else "")


def test_the_same_seed_gives_the_same_corpus() -> None:
    assert list(labelled_corpus(200, seed=3)) == list(labelled_corpus(200, seed=3))
    assert list(labelled_corpus(200, seed=3)) != list(labelled_corpus(200, seed=4))


def test_opinions_follow_the_answers() -> None:
    pools = get_pools(0)
    rng = random.Random(8)
    unhappy = dict.fromkeys(("transports", "velo", "pietons"), 1)
    negative = [opinion_text(rng, pools, answers=unhappy, lang="fr").text for _ in range(200)]
    assert not any("Bravo pour la gratuité" in t or "changé ma vie" in t for t in negative)
    assert any("retard" in t or "trop tôt" in t or "vides" in t for t in negative)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no phrases for language 'de'"):
        signalement_text(random.Random(0), get_pools(0), lang="de")


def _mandatory_slots(nodes: tuple[Node, ...]) -> set[str]:
    """Slots every rendering of `nodes` contains (inside a choice: those of all options)."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, Slot):
            found.add(node.name)
        elif isinstance(node, Choice):
            found |= set.intersection(*(_mandatory_slots(o) for o in node.options))
    return found


def _phrase_lists(module: ModuleType) -> list[tuple[str, ...]]:
    lists = []
    for value in vars(module).values():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, tuple) and all(isinstance(s, str) for s in item):
                lists.append(item)
    return lists


@pytest.mark.parametrize("module", [phrases_fr, phrases_en], ids=["fr", "en"])
def test_phrases_parse_use_known_slots_and_pii_phrases_always_plant_pii(
    module: ModuleType,
) -> None:
    for phrases in _phrase_lists(module):
        for source in phrases:
            template = templating.parse(source)
            assert template.slots <= set(_SLOTS), (source, template.slots - set(_SLOTS))
            if template.slots & _PII_SLOTS:
                assert _mandatory_slots(template.body) & _PII_SLOTS, source
