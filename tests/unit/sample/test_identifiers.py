"""Identifiers must pass the same validators a recognizer or a bank would apply."""

from __future__ import annotations

import ipaddress
import random
import re

import phonenumbers
import pytest
import schwifty
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn
from stdnum.fr import nif as fr_nif
from stdnum.fr import nir, siren, siret

from include.sample import identifiers

SEEDS = st.integers(min_value=0, max_value=2**32)
FAST = settings(derandomize=True, deadline=None, max_examples=300)

SIV = re.compile(r"^([A-Z]{2})([- ]?)(\d{3})\2([A-Z]{2})$")
FNI = re.compile(r"^([1-9]\d{0,3}) ([A-Z]{1,3}) (\d{2}|2A|2B|97\d)$")


@FAST
@given(SEEDS)
def test_nir_is_valid_in_both_notations(seed: int) -> None:
    rng = random.Random(seed)
    compact = identifiers.nir(rng, spaced=False)
    spaced = identifiers.nir(rng, spaced=True)
    assert nir.is_valid(compact), compact
    assert nir.is_valid(spaced), spaced
    assert re.fullmatch(r"[0-9AB]{15}", compact)
    assert re.fullmatch(r"\d \d{2} \d{2} [0-9AB]{2} [0-9]{3} \d{3} \d{2}", spaced)


def test_nir_covers_corsica_overseas_and_abroad_with_official_keys() -> None:
    rng = random.Random(1)
    numbers = [identifiers.nir(rng, spaced=False) for _ in range(3000)]
    departments = {n[5:7] for n in numbers}
    assert {"2A", "2B", "97", "99"} <= departments
    for number in numbers:
        assert identifiers.nir_key(number[:13]) == nir.calc_check_digits(number)
    # The official rule: 2A counts as 19, 2B as 18, when computing the key.
    assert identifiers.nir_key("185032A123456") == f"{97 - 1850319123456 % 97:02d}"
    assert identifiers.nir_key("185032B123456") == f"{97 - 1850318123456 % 97:02d}"


def test_nir_key_rejects_a_wrong_length() -> None:
    with pytest.raises(ValueError, match="13 characters"):
        identifiers.nir_key("123")


@FAST
@given(SEEDS)
def test_iban_is_valid_grouped_or_not(seed: int) -> None:
    rng = random.Random(seed)
    compact = identifiers.iban_fr(rng, grouped=False)
    grouped = identifiers.iban_fr(rng, grouped=True)
    assert iban.is_valid(compact)
    assert iban.is_valid(grouped)
    assert re.fullmatch(r"FR\d{25}", compact)
    assert re.fullmatch(r"FR\d{2}( \d{4}){5} \d{3}", grouped)


def _mod_97(number: str) -> int:
    """ISO 13616's check, by hand: the IBAN rotated, its letters as 10-35, mod 97 (1 if valid)."""
    compact = number.replace(" ", "")
    return int("".join(str(int(char, 36)) for char in compact[4:] + compact[:4])) % 97


@pytest.mark.parametrize("country", identifiers.FOREIGN_IBAN_COUNTRIES)
def test_foreign_ibans_follow_their_country_format(country: str) -> None:
    rng = random.Random(country)
    for _ in range(50):
        compact = identifiers.foreign_iban(rng, country, grouped=False)
        assert compact.startswith(country)
        assert _mod_97(compact) == 1, compact
        if country not in ("SN", "CI", "MA"):  # outside SWIFT's registry, unknown to stdnum
            assert iban.is_valid(compact, check_country=False), compact
        grouped = identifiers.foreign_iban(rng, country, grouped=True)
        assert re.fullmatch(r"[A-Z]{2}\d{2}( [0-9A-Z]{4})*( [0-9A-Z]{1,4})?", grouped), grouped
        assert _mod_97(grouped) == 1, grouped
    # Outside the registry, the formats of published IBANs: a BCEAO bank code opens
    # with the country's letters.
    assert len(identifiers.foreign_iban(rng, "SN", grouped=False)) == len(
        "SN08SN0100152000048500003035"
    )
    assert identifiers.foreign_iban(rng, "CI", grouped=False)[4:6] == "CI"
    assert re.fullmatch(r"MA\d{26}", identifiers.foreign_iban(rng, "MA", grouped=False))


def test_a_refund_account_is_mostly_french_sometimes_abroad() -> None:
    rng = random.Random(8)
    accounts = [identifiers.bank_account(rng) for _ in range(1000)]
    ribs = [account for account in accounts if account[0].isdigit()]  # the RIB's four boxes
    ibans = [re.sub(r"[ .\-]", "", account).upper() for account in accounts if account not in ribs]
    french = sum(account.startswith("FR") for account in ibans) + len(ribs)
    assert 700 < french < 900
    assert 40 < len(ribs) < 120
    assert len({account[:2] for account in ibans}) > 10
    assert all(_mod_97(account) == 1 for account in ibans)
    for rib in ribs:  # schwifty checks the RIB key
        schwifty.IBAN.from_bban("FR", rib.replace(" ", ""), validate_bban=True)


@FAST
@given(SEEDS)
def test_siren_and_siret_are_luhn_valid(seed: int) -> None:
    rng = random.Random(seed)
    for spaced in (True, False, None):
        assert siren.is_valid(identifiers.siren(rng, spaced=spaced))
        number = identifiers.siret(rng, spaced=spaced)
        assert siret.is_valid(number), number
        assert siren.is_valid(siret.to_siren(siret.compact(number)))


@FAST
@given(SEEDS)
def test_phone_numbers_are_valid_in_every_notation(seed: int) -> None:
    rng = random.Random(seed)
    for notation in identifiers.PHONE_NOTATIONS:
        number = identifiers.phone_fr(rng, notation)
        parsed = phonenumbers.parse(number, "FR")
        assert phonenumbers.is_valid_number(parsed), (notation, number)
        assert parsed.country_code == 33


def test_phone_notations_look_as_documented() -> None:
    rng = random.Random(3)
    shapes = {
        "spaced": r"0\d( \d{2}){4}",
        "dotted": r"0\d(\.\d{2}){4}",
        "dashed": r"0\d(-\d{2}){4}",
        "compact": r"0\d{9}",
        "intl_spaced": r"\+33 \d( \d{2}){4}",
        "intl_trunk": r"\+33 \(0\)\d( \d{2}){4}",
        "intl_compact": r"\+33\d{9}",
        "intl_00": r"0033 \d( \d{2}){4}",
        "grouped_433": r"0\d{3} \d{3} \d{3}",
        "intl_333": r"\+33 \d{3} \d{3} \d{3}",
        "trunk_only": r"\(0\)\d( \d{2}){4}",
        "slashed": r"0\d(/\d{2}){4}",
    }
    assert set(shapes) == set(identifiers.PHONE_NOTATIONS)
    for notation, shape in shapes.items():
        assert re.fullmatch(shape, identifiers.phone_fr(rng, notation)), notation
    drawn = [identifiers.phone_fr(rng) for _ in range(2000)]
    assert any(n.startswith(("06", "07")) for n in drawn)  # mobiles
    assert any(n.startswith(("01", "02", "03", "04", "05")) for n in drawn)  # landlines
    with pytest.raises(ValueError, match="unknown phone notation"):
        identifiers.phone_fr(rng, "morse")


@FAST
@given(SEEDS)
def test_licence_plates_follow_the_letter_rules(seed: int) -> None:
    rng = random.Random(seed)
    siv = SIV.fullmatch(identifiers.licence_plate(rng, fni=False, misread=False))
    assert siv, "SIV plate shape"
    left, _, digits, right = siv.groups()
    assert not set(left + right) & set("IOU")
    assert left not in ("SS", "WW")
    assert right != "SS"
    assert digits != "000"
    fni = FNI.fullmatch(identifiers.licence_plate(rng, fni=True))
    assert fni, "FNI plate shape"
    number, letters, department = fni.groups()
    assert not set(letters) & set("IOU")
    assert letters != "WW"
    assert department != "20"
    assert department not in ("00", "96", "97", "98", "99")
    assert len(letters) < 3 or int(number) <= 999


def test_a_misread_plate_keeps_its_dashes_and_ends_on_a_letter_never_issued() -> None:
    rng = random.Random(3)
    for _ in range(200):
        siv = SIV.fullmatch(identifiers.licence_plate(rng, fni=False, misread=True))
        assert siv, "SIV plate shape"
        assert siv[0].count("-") == 2
        assert siv.group(4)[1] in "IOU"


def test_random_plate_kind_mixes_both_systems() -> None:
    rng = random.Random(5)
    plates = [identifiers.licence_plate(rng) for _ in range(600)]
    assert sum(bool(FNI.fullmatch(p)) for p in plates) > 50
    assert sum(bool(SIV.fullmatch(p)) for p in plates) > 400


@FAST
@given(SEEDS)
def test_new_identifiers_pass_their_validators(seed: int) -> None:
    rng = random.Random(seed)
    card = identifiers.luhn_card(rng)
    assert luhn.is_valid(re.sub(r"[ -]", "", card))
    assert len(re.sub(r"[ -]", "", card)) == (15 if card.startswith(("34", "37")) else 16)
    assert fr_nif.is_valid(identifiers.tax_id(rng).replace(" ", ""))
    ipaddress.ip_address(identifiers.ip_address(rng))
    phone = phonenumbers.parse(identifiers.international_phone(rng), "FR")
    assert phonenumbers.is_valid_number(phone)
    assert phone.country_code != 33
    home = identifiers.home_phone(rng)  # no country code: the UK's trunk 0, or North America
    assert re.fullmatch(
        r"0\d{4} \d{6}|020 7946 \d{4}|\(\d{3}\) \d{3}-\d{4}|\d{3}-\d{3}-\d{4}", home
    )
    assert phonenumbers.is_valid_number(phonenumbers.parse(home, "GB" if home[0] == "0" else "US"))
    assert re.fullmatch(r"\d{2}[A-Z]{2}\d{5}", identifiers.passport(rng))
    assert re.fullmatch(r"\d{12}|(?=.*\d)(?=.*[A-Z])[A-Z0-9]{9}", identifiers.id_card(rng))
    assert re.fullmatch(r"\d{12}|\d{2}[A-Z]{2}\d{5}", identifiers.driving_licence(rng))
    assert re.fullmatch(r"[1-9]\d{6}", identifiers.caf_number(rng))
    assert re.fullmatch(
        r"[0-9A-F]{2}([:-])(?:[0-9A-F]{2}\1){4}[0-9A-F]{2}", identifiers.mac_address(rng)
    )


def test_card_notations_as_printed_and_a_bad_one() -> None:
    rng = random.Random(1)
    spaced = [identifiers.luhn_card(rng, "spaced") for _ in range(300)]
    amex = [card for card in spaced if card.startswith(("34", "37"))]
    assert amex, "American Express cards are drawn"
    assert all(re.fullmatch(r"3[47]\d{2} \d{6} \d{5}", card) for card in amex)  # 4-6-5
    assert all(re.fullmatch(r"\d{4}( \d{4}){3}", card) for card in spaced if card not in amex)
    # Mastercard's 2-series (2221-2720) beside its 51-55 and Visa's 4.
    assert any(2221 <= int(card[:4]) <= 2720 for card in spaced)
    assert {card[0] for card in spaced} == {"2", "3", "4", "5"}
    dashed = identifiers.luhn_card(rng, "dashed")
    assert re.fullmatch(r"\d{4}(-\d{4}){3}|\d{4}-\d{6}-\d{5}", dashed)
    assert re.fullmatch(r"\d{15,16}", identifiers.luhn_card(rng, "compact"))
    with pytest.raises(ValueError, match="unknown card notation 'dotted'"):
        identifiers.luhn_card(rng, "dotted")


def test_spelt_and_split_emails_still_read_as_the_address() -> None:
    rng = random.Random(2)
    for _ in range(200):
        spelt = identifiers.obfuscated_email(rng, "jean.dupont@orange.fr")
        assert re.sub(r"\s*(\(at\)|\[at\]|arobase|@)\s*", "@", spelt).count("@") == 1
        split = identifiers.split_by_line_break(rng, "jean.dupont@orange.fr")
        assert split.count("\n") == 1
        assert split.replace("\n", "") == "jean.dupont@orange.fr"
    wraps = set()
    for _ in range(200):
        iban = identifiers.iban_fr(rng, grouped=True)
        split = identifiers.split_by_line_break(rng, iban)
        # The break replaces a space, or follows it ("format=flowed" wrapping).
        wraps.add(" \n" in split)
        assert split.replace(" \n", " ").replace("\n", " ") == iban
    assert wraps == {True, False}


def test_gps_positions_are_in_mainland_france() -> None:
    rng = random.Random(5)
    for _ in range(200):
        value = identifiers.gps(rng)
        if "°" in value:
            assert re.fullmatch(r"\d{2}°\d{2}'\d{2}\"N \d°\d{2}'\d{2}\"[EO]", value), value
            continue
        lat, lon = (float(x) for x in re.split(r",\s?|\s", value))
        assert 42.5 <= lat <= 50.9, value
        assert -4.5 <= lon <= 7.8, value


def test_social_handles_are_made_from_the_name_or_a_numeric_id() -> None:
    rng = random.Random(6)
    values = {identifiers.social(rng, "Inès", "Le Roux") for _ in range(200)}
    assert all("é" not in v and " " not in v for v in values)
    numeric = {v for v in values if re.search(r"/people/|profile\.php\?id=", v)}
    assert all(re.search(r"[/=]1000\d{11}/?$", v) for v in numeric)
    assert any("/people/Ines-Le-Roux/" in v for v in numeric)
    assert any("profile.php?id=" in v for v in numeric)
    assert all("ines" in v for v in values - numeric)
    assert any(v.startswith("@") for v in values)
    assert any("facebook.com/" in v for v in values - numeric)
