"""Checksum-valid French identifiers for synthetic submissions.

WHY: the PII scrubber and its evaluation must be tested against identifiers that a
validating recognizer would accept (a NIR with a wrong key is not a NIR), written the
way citizens actually type them. Every function takes the caller's `random.Random`,
so a seed reproduces the same values, and returns the identifier as a string.
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
from datetime import date, timedelta
from itertools import pairwise

import phonenumbers
from stdnum import iban, numdb

# Letters used on French plates: I, O and U are never issued (confusion with 1, 0, V).
_PLATE_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IOU")
# SIV pairs that are never issued: "SS" anywhere, "WW" on the left (temporary plates).
_SIV_FORBIDDEN_LEFT = frozenset({"SS", "WW"})
_SIV_FORBIDDEN_RIGHT = frozenset({"SS"})

_METRO_DEPARTEMENTS = tuple(f"{d:02d}" for d in range(1, 96) if d != 20)
_CORSICA = ("2A", "2B")
_OVERSEAS = ("971", "972", "973", "974", "976")
# INSEE codes of foreign countries of birth (département "99" in a NIR).
_BIRTH_COUNTRIES = (109, 127, 131, 132, 134, 139, 208, 326, 341, 350, 351, 352)

# French bank codes (code banque) of large retail networks, so IBANs look familiar.
_BANK_CODES = (
    "30004", "30003", "30002", "10278", "20041", "30066", "11315", "18206",
    "16006", "10107", "30076", "12506", "13335", "14505", "17515", "10057",
)  # fmt: skip

# National significant numbers (without the leading 0) that phonenumbers' FR metadata
# accepts: mobiles 6x (63 and 69 are only partly allocated) and 7[3-9]; landlines 1-5
# (26 only partly allocated); 9 (box/VoIP).
_MOBILE_PREFIXES = tuple([f"6{d}" for d in "01245678"] + [f"7{d}" for d in "3456789"])
_LANDLINE_PREFIXES = tuple(
    [f"1{d}" for d in "0123456789"]
    + [f"2{d}" for d in "012345789"]
    + [f"3{d}" for d in "0123456789"]
    + [f"4{d}" for d in "123456789"]
    + [f"5{d}" for d in "012345678"]
    + [f"9{d}" for d in "0123456789"]
)

PHONE_NOTATIONS = (
    "spaced",  # 06 12 34 56 78
    "dotted",  # 06.12.34.56.78
    "dashed",  # 06-12-34-56-78
    "compact",  # 0612345678
    "intl_spaced",  # +33 6 12 34 56 78
    "intl_trunk",  # +33 (0)6 12 34 56 78
    "intl_compact",  # +33612345678
    "intl_00",  # 0033 6 12 34 56 78
    "grouped_433",  # 0612 345 678 (as some phones display it)
    "intl_333",  # +33 612 345 678
    "trunk_only",  # (0)6 12 34 56 78 (the "+33" left out of "+33 (0)6...")
    "slashed",  # 06/12/34/56/78 (as on some forms and shop fronts)
)
# How often people use each notation (spaced pairs dominate in French writing).
_PHONE_NOTATION_WEIGHTS = (40, 10, 4, 20, 10, 4, 8, 4, 3, 3, 1, 1)

# Where the bank accounts of people writing to a French city are, when not in France:
# the neighbours, and French-speaking countries. Senegal, Côte d'Ivoire (BCEAO) and
# Morocco issue IBANs outside SWIFT's registry.
FOREIGN_IBAN_COUNTRIES = (
    "BE", "LU", "CH", "MC", "DE", "ES", "IT", "PT", "GB", "TN", "MR", "SN", "CI", "MA",
)  # fmt: skip
# Each country's BBAN format in the registry's notation ("5!n12!c"; capitals are
# literal): SWIFT's IBAN registry as python-stdnum ships it, and for the countries
# outside it the format of their published IBANs (a BCEAO bank code opens with the
# country's letters: "SN08 SN01 0015 ...").
BBAN_FORMATS = {cc: info["bban"] for _, cc, _, info, _ in numdb.get("iban").prefixes} | {
    "SN": "SN22!n",
    "CI": "CI22!n",
    "MA": "24!n",
}
# How people copy an IBAN: in fours as banks print it, compact, in the parts of their
# country's format ("ES93 6607 1695 50 0019988010"), fours joined by dots or dashes (a web
# form's), in lower case, the country code apart ("FR 76 3000 ..."); python-stdnum's test
# suite lists each of these as "found online".
_IBAN_NOTATIONS = ("fours", "compact", "national", "dotted", "lower_case", "country_apart")
_IBAN_NOTATION_WEIGHTS = (55, 20, 10, 5, 5, 5)
# French accounts given as the RIB's four boxes (bank, branch, account, key), no "FR76".
_RIB_SHARE = 0.1
_BBAN_CHARACTERS = {"n": string.digits, "a": string.ascii_uppercase}
_BBAN_CHARACTERS["c"] = string.digits + string.ascii_uppercase

# Payment cards people carry in France, roughly by share: issuer prefixes, length.
_CARD_ISSUERS = (
    (("4",), 16),  # Visa
    (("51", "52", "53", "54", "55"), 16),  # Mastercard
    (tuple(str(p) for p in range(2221, 2721)), 16),  # Mastercard's 2-series (since 2017)
    (("34", "37"), 15),  # American Express
)
_CARD_ISSUER_WEIGHTS = (55, 30, 5, 10)


def _luhn_check_digit(body: str) -> str:
    """The digit that makes `body + digit` pass the Luhn test (SIREN, SIRET)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these are the odd positions once the key is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def nir_key(body: str) -> str:
    """Two-digit key of a 13-character NIR body: 97 - (body mod 97).

    Corsican départements are letters; the official rule computes the key with
    2A replaced by 19 and 2B by 18.
    """
    if len(body) != 13:
        raise ValueError(f"a NIR body has 13 characters, got {body!r}")
    department = body[5:7]
    numeric = body[:5] + {"2A": "19", "2B": "18"}.get(department, department) + body[7:]
    return f"{97 - int(numeric) % 97:02d}"


def nir(rng: random.Random, spaced: bool | None = None) -> str:
    """French social security number (NIR), e.g. "1 85 03 75 112 045 23".

    Birthplaces cover metropolitan départements, Corsica (2A/2B), overseas (97x)
    and births abroad (99 + country); `spaced=None` picks a notation at random.
    """
    sex = rng.choice("12")
    year = rng.randrange(100)
    month = rng.randint(1, 12)
    draw = rng.random()
    if draw < 0.04:
        place = rng.choice(_CORSICA) + f"{rng.randint(1, 366):03d}"
    elif draw < 0.08:
        place = rng.choice(_OVERSEAS) + f"{rng.randint(1, 34):02d}"
    elif draw < 0.14:
        place = "99" + f"{rng.choice(_BIRTH_COUNTRIES):03d}"
    else:
        place = rng.choice(_METRO_DEPARTEMENTS) + f"{rng.randint(1, 800):03d}"
    order = rng.randint(1, 999)
    body = f"{sex}{year:02d}{month:02d}{place}{order:03d}"
    number = body + nir_key(body)
    if spaced is None:
        spaced = rng.random() < 0.6
    if not spaced:
        return number
    return " ".join(
        (number[0], number[1:3], number[3:5], number[5:7], number[7:10], number[10:13], number[13:])
    )


def _rib_key(bank: str, branch: str, account: str) -> str:
    """French RIB key, so the BBAN inside the IBAN is itself consistent."""
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def iban_fr(rng: random.Random, grouped: bool | None = None) -> str:
    """French IBAN (27 characters, valid mod 97 and valid RIB key).

    `grouped=True` gives "FR76 3000 4000 3200 0010 1234 567" (the way banks print
    it), `False` the compact form, `None` either.
    """
    bank = rng.choice(_BANK_CODES)
    branch = f"{rng.randrange(100_000):05d}"
    account = f"{rng.randrange(10**11):011d}"
    key = _rib_key(bank, branch, account)
    if grouped is None and rng.random() < _RIB_SHARE:
        return " ".join((bank, branch, account, key))  # the RIB's four boxes, no IBAN prefix
    return _as_written(rng, "FR", bank + branch + account + key, grouped)


def foreign_iban(
    rng: random.Random, country: str | None = None, grouped: bool | None = None
) -> str:
    """IBAN of a bank abroad, valid mod 97 ("BE71 0961 2345 6769").

    `country` is any key of BBAN_FORMATS (SWIFT's registry, and a few countries outside
    it); None picks one of FOREIGN_IBAN_COUNTRIES. The BBAN follows the country's format,
    with random characters: its national key, where it has one, is left unchecked, as
    the scrubber does not need it to know an IBAN. `grouped` as in `iban_fr`.
    """
    country = country or rng.choice(FOREIGN_IBAN_COUNTRIES)
    bban = "".join(
        literal or "".join(rng.choice(_BBAN_CHARACTERS[kind]) for _ in range(int(length)))
        for length, kind, literal in re.findall(r"(\d+)!([nac])|([A-Z]+)", BBAN_FORMATS[country])
    )
    return _as_written(rng, country, bban, grouped)


def _as_written(rng: random.Random, country: str, bban: str, grouped: bool | None) -> str:
    """The IBAN of `bban` (its ISO 7064 check digits computed), grouped by four as banks
    print it (`grouped=True`), or compact (`False`); `None` draws among the notations
    people copy theirs in (`_IBAN_NOTATIONS`)."""
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    if grouped is not None:
        return iban.format(number) if grouped else number
    notation = rng.choices(_IBAN_NOTATIONS, _IBAN_NOTATION_WEIGHTS)[0]
    if notation == "compact":
        return number
    if notation == "national":  # as a statement prints it: bank, branch, account, key
        groups = [number[:4], *bban_parts(country, bban)]
        return " ".join(groups)
    fours = iban.format(number)
    if notation == "country_apart":
        return f"{number[:2]} {number[2:4]} {fours[5:]}"
    if notation == "lower_case":
        return fours.lower()
    return fours.replace(" ", rng.choice(".-")) if notation == "dotted" else fours


def bban_parts(country: str, bban: str) -> list[str]:
    """`bban` cut where its country's format (`BBAN_FORMATS`) puts its parts."""
    parts, start = [], 0
    for length, _, literal in re.findall(r"(\d+)!([nac])|([A-Z]+)", BBAN_FORMATS[country]):
        size = len(literal) or int(length)
        parts.append(bban[start : start + size])
        start += size
    return parts


def bank_account(rng: random.Random, grouped: bool | None = None) -> str:
    """The IBAN a citizen gives for a refund: French four times in five, else abroad."""
    if rng.random() < 0.8:
        return iban_fr(rng, grouped)
    return foreign_iban(rng, grouped=grouped)


def _siren_digits(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(1, 9)) + f"{rng.randrange(10**7):07d}"
        number = body + _luhn_check_digit(body)
        # La Poste's SIREN follows another checksum rule for its SIRETs: never draw it.
        if number != "356000000":
            return number


def siren(rng: random.Random, spaced: bool | None = None, after_its_name: bool = False) -> str:
    """SIREN company number (9 digits, Luhn-valid), "732829320" or "732 829 320"; after
    its name ("SIREN 7 328 293 20"), sometimes in any groups (see `_any_groups`)."""
    number = _siren_digits(rng)
    if after_its_name and spaced is None and rng.random() < _ANY_GROUPS_SHARE:
        return _any_groups(rng, number)
    if spaced is None:
        spaced = rng.random() < 0.4
    return " ".join((number[:3], number[3:6], number[6:])) if spaced else number


def siret(rng: random.Random, spaced: bool | None = None, after_its_name: bool = False) -> str:
    """SIRET establishment number: a valid SIREN + 5-digit NIC, the 14 digits Luhn-valid;
    after its name, sometimes in any groups (see `_any_groups`)."""
    head = _siren_digits(rng) + f"{rng.randint(1, 99):04d}"
    number = head + _luhn_check_digit(head)
    if after_its_name and spaced is None and rng.random() < _ANY_GROUPS_SHARE:
        return _any_groups(rng, number)
    if spaced is None:
        spaced = rng.random() < 0.4
    return " ".join((number[:3], number[3:6], number[6:9], number[9:])) if spaced else number


# Company numbers spaced anyhow, as python-stdnum's test suite found them online ("5 601
# 52 274 000 26", "5 6 0 1 5 2 2 7 4 0 0 0 2 6"): a space after a digit one time in three.
_ANY_GROUPS_SHARE = 0.2


def _any_groups(rng: random.Random, number: str) -> str:
    return "".join(d + (" " if rng.random() < 1 / 3 else "") for d in number[:-1]) + number[-1]


def french_vat(rng: random.Random) -> str:
    """French VAT number: FR, a key computed from the SIREN, the SIREN ("FR 44 732 829 320")."""
    number = _siren_digits(rng)
    key = f"{(12 + 3 * (int(number) % 97)) % 97:02d}"
    if rng.random() < 0.5:
        return f"FR{key}{number}"
    return " ".join(("FR", key, number[:3], number[3:6], number[6:]))


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_PLATE_LETTERS) for _ in range(count))


def _siv_plate(rng: random.Random, misread: bool | None) -> str:
    left = _letters(rng, 2)
    while left in _SIV_FORBIDDEN_LEFT:
        left = _letters(rng, 2)
    right = _letters(rng, 2)
    while right in _SIV_FORBIDDEN_RIGHT:
        right = _letters(rng, 2)
    digits = f"{rng.randint(1, 999):03d}"
    separator = rng.choices(("-", " ", ""), weights=(80, 12, 8))[0]
    if misread is None:
        misread = separator == "-" and rng.random() < 0.05
    if misread:  # a witness misreads a letter as one never issued: "AB-123-CO"
        return f"{left}-{digits}-{right[0]}{rng.choice('IOU')}"
    return separator.join((left, digits, right))


def _fni_plate(rng: random.Random) -> str:
    letter_count = rng.choices((1, 2, 3), weights=(5, 60, 35))[0]
    letters = _letters(rng, letter_count)
    while letters == "WW":  # temporary "W garage" series
        letters = _letters(rng, letter_count)
    number = rng.randint(1, 999 if letter_count == 3 else 9999)
    department = rng.choices(
        (rng.choice(_METRO_DEPARTEMENTS), rng.choice(_CORSICA), rng.choice(_OVERSEAS)),
        weights=(92, 4, 4),
    )[0]
    return f"{number} {letters} {department}"


def licence_plate(rng: random.Random, fni: bool | None = None, misread: bool | None = None) -> str:
    """French number plate: SIV "AB-123-CD" (since 2009) or old FNI "1234 AB 56".

    SIV plates are sometimes typed with spaces or nothing between the blocks;
    `fni=None` draws an old plate one time in six. `misread` writes a SIV plate with
    its last letter misread as an I, O or U, which are never issued ("AB-123-CO");
    None draws that for one dashed plate in twenty.
    """
    if fni is None:
        fni = rng.random() < 1 / 6
    return _fni_plate(rng) if fni else _siv_plate(rng, misread)


def phone_fr(rng: random.Random, notation: str | None = None) -> str:
    """French phone number (mobile or landline) in one of the common notations.

    `notation` is one of PHONE_NOTATIONS; None picks one with realistic frequencies.
    """
    if notation is None:
        notation = rng.choices(PHONE_NOTATIONS, weights=_PHONE_NOTATION_WEIGHTS)[0]
    elif notation not in PHONE_NOTATIONS:
        raise ValueError(f"unknown phone notation {notation!r}; use one of {PHONE_NOTATIONS}")
    prefixes = _MOBILE_PREFIXES if rng.random() < 0.65 else _LANDLINE_PREFIXES
    national = rng.choice(prefixes) + f"{rng.randrange(10**7):07d}"  # 9 digits, no trunk 0
    pairs = [national[i : i + 2] for i in range(1, 9, 2)]
    match notation:
        case "spaced":
            return " ".join(["0" + national[0], *pairs])
        case "dotted":
            return ".".join(["0" + national[0], *pairs])
        case "dashed":
            return "-".join(["0" + national[0], *pairs])
        case "compact":
            return "0" + national
        case "intl_spaced":
            return "+33 " + " ".join([national[0], *pairs])
        case "intl_trunk":
            return f"+33 (0){national[0]} " + " ".join(pairs)
        case "intl_compact":
            return "+33" + national
        case "intl_00":
            return "0033 " + " ".join([national[0], *pairs])
        case "grouped_433":
            return f"0{national[:3]} {national[3:6]} {national[6:]}"
        case "trunk_only":
            return f"(0){national[0]} " + " ".join(pairs)
        case "slashed":
            return "/".join(["0" + national[0], *pairs])
        case _:  # "intl_333"
            return f"+33 {national[:3]} {national[3:6]} {national[6:]}"


def luhn_card(rng: random.Random, notation: str | None = None) -> str:
    """Payment card number, Luhn-valid: Visa, Mastercard (both series) or American Express.

    `notation` is "spaced" as printed on the card (4970 1012 3456 7897, and
    3782 822463 10005 for a 15-digit Amex), "dashed" or "compact"; None picks one.
    """
    prefixes, length = rng.choices(_CARD_ISSUERS, weights=_CARD_ISSUER_WEIGHTS)[0]
    body = rng.choice(prefixes)
    body += "".join(str(rng.randrange(10)) for _ in range(length - 1 - len(body)))
    number = body + _luhn_check_digit(body)
    if notation is None:
        notation = rng.choices(("spaced", "dashed", "compact"), weights=(60, 10, 30))[0]
    cuts = (0, 4, 10, 15) if length == 15 else (0, 4, 8, 12, 16)
    groups = [number[start:end] for start, end in pairwise(cuts)]
    match notation:
        case "spaced":
            return " ".join(groups)
        case "dashed":
            return "-".join(groups)
        case "compact":
            return number
        case _:
            raise ValueError(f"unknown card notation {notation!r}; use spaced, dashed or compact")


def ip_address(rng: random.Random) -> str:
    """An IPv4 address (a home box's public one, or a LAN one) or, one time in four, IPv6."""
    if rng.random() < 0.25:
        groups = [f"{rng.randrange(0x10000):x}" for _ in range(4)]
        return "2a01:" + ":".join(groups[:2]) + "::" + ":".join(groups[2:])
    if rng.random() < 0.3:
        return f"192.168.{rng.randint(0, 2)}.{rng.randint(2, 254)}"
    first = rng.choice((78, 82, 86, 90, 109, 176, 212))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"


def tax_id(rng: random.Random, spaced: bool | None = None) -> str:
    """Numéro fiscal (SPI): 13 digits, the first 0-3, the last three a check on the first ten."""
    body = str(rng.randint(0, 3)) + f"{rng.randrange(10**9):09d}"
    number = body + f"{int(body) % 511:03d}"
    if spaced is None:
        spaced = rng.random() < 0.3
    if not spaced:
        return number
    return " ".join((number[:2], number[2:4], number[4:7], number[7:10], number[10:]))


def id_card(rng: random.Random, new: bool | None = None) -> str:
    """National ID card number: old (12 digits: YYMM, département + office, order) or new (9)."""
    if new is None:
        new = rng.random() < 0.5
    if new:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            value = "".join(rng.choice(alphabet) for _ in range(9))
            if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
                return value
    issued = f"{rng.randint(0, 20):02d}{rng.randint(1, 12):02d}"
    return f"{issued}{rng.choice(_METRO_DEPARTEMENTS)}{rng.randrange(10)}{rng.randrange(10**5):05d}"


def passport(rng: random.Random) -> str:
    """French passport number: 2 digits, 2 letters, 5 digits ("12AB34567")."""
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
    return f"{rng.randrange(100):02d}{letters}{rng.randrange(10**5):05d}"


def driving_licence(rng: random.Random) -> str:
    """Driving licence number: European format (like a passport's) or the old 12 digits."""
    if rng.random() < 0.5:
        return passport(rng)
    return f"{rng.randint(70, 99):02d}{rng.randint(1, 12):02d}{rng.randrange(10**8):08d}"


def caf_number(rng: random.Random) -> str:
    """CAF allocataire number: 7 digits."""
    return f"{rng.randint(1, 9)}{rng.randrange(10**6):06d}"


def belgian_national_number(rng: random.Random) -> str:
    """Belgium's national register number: birth date (YYMMDD), order (odd for men), and
    97 minus the first nine digits mod 97 (with a 2 before them when born in 2000 or
    after); printed "85.07.30-033.28" on the eID card, or as eleven digits."""
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(80 * 365))
    body = f"{born:%y%m%d}{rng.randint(1, 998):03d}"
    key = 97 - (int(("2" if born.year >= 2000 else "") + body) % 97)
    number = f"{body}{key:02d}"
    if rng.random() < 0.4:
        return number
    return f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"


def swiss_avs_number(rng: random.Random) -> str:
    """Switzerland's AVS / AHV number: 756, nine digits, an EAN-13 check digit; printed
    "756.1234.5678.97", or as thirteen digits."""
    body = f"756{rng.randrange(10**9):09d}"
    weighted = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(body))
    number = f"{body}{(10 - weighted % 10) % 10}"
    if rng.random() < 0.3:
        return number
    return f"{number[:3]}.{number[3:7]}.{number[7:11]}.{number[11:]}"


def gps(rng: random.Random) -> str:
    """Coordinates of a place in mainland France, in decimal degrees or degrees-minutes."""
    lat, lon = rng.uniform(42.5, 50.9), rng.uniform(-4.5, 7.8)
    if rng.random() < 0.75:
        decimals = rng.choice((4, 5, 6))
        return f"{lat:.{decimals}f}{rng.choice((', ', ',', ' '))}{lon:.{decimals}f}"
    east = "E" if lon >= 0 else "O"

    def dms(value: float) -> str:
        value = abs(value)
        degrees, minutes = int(value), (abs(value) % 1) * 60
        return f"{degrees}°{int(minutes):02d}'{int(minutes % 1 * 60):02d}\""

    return f"{dms(lat)}N {dms(lon)}{east}"


def international_phone(rng: random.Random) -> str:
    """A foreign number with its country code: UK, Germany, Belgium, Switzerland, Spain."""
    return rng.choice(
        (
            f"+44 20 7946 {rng.randrange(10**4):04d}",
            f"+44 7{rng.choice('4589')}{rng.randrange(100):02d} {rng.randrange(10**6):06d}",
            f"+49 30 {rng.randint(2, 9)}{rng.randrange(10**7):07d}",
            f"+49 151 {rng.randint(1, 9)}{rng.randrange(10**7):07d}",
            f"+32 2 {rng.randint(2, 6)}{rng.randrange(10**2):02d} {rng.randrange(10**2):02d} "
            f"{rng.randrange(10**2):02d}",
            f"+41 22 {rng.randint(2, 9)}{rng.randrange(100):02d} {rng.randrange(100):02d} "
            f"{rng.randrange(100):02d}",
            f"0034 91 {rng.randint(2, 9)}{rng.randrange(10**6):06d}",
        )
    )


# Area codes of large North American cities (New York, San Francisco, Boston, Chicago,
# Washington, Toronto, Montreal): phonenumbers' metadata knows them all.
_NANP_AREA_CODES = (212, 415, 617, 312, 202, 416, 514)


def home_phone(rng: random.Random) -> str:
    """An English-speaking resident's number from home, written as there, without the
    country code: a British mobile or London line ("07911 123456", "020 7946 0958") or a
    North American one ("(415) 555-0132", "617-555-0187")."""
    kind = rng.randrange(4)
    if kind == 0:  # drawn again until in a range allocated to mobiles (phonenumbers' metadata)
        while True:
            mobile = f"07{rng.choice('4589')}{rng.randrange(100):02d} {rng.randrange(10**6):06d}"
            if phonenumbers.is_valid_number(phonenumbers.parse(mobile, "GB")):
                return mobile
    if kind == 1:
        return f"020 7946 {rng.randrange(10**4):04d}"
    area = rng.choice(_NANP_AREA_CODES)
    exchange = rng.choice([n for n in range(200, 1000) if n % 100 != 11])  # N11: services
    line = f"{rng.randrange(10**4):04d}"
    return f"({area}) {exchange}-{line}" if kind == 2 else f"{area}-{exchange}-{line}"


def social(rng: random.Random, first: str, last: str) -> str:
    """A person's handle or profile URL: made from their name, or Facebook's numeric id."""
    slug = rng.choice(
        (f"{first}.{last}", f"{first}_{last[0]}", f"{first}{last}{rng.randint(1, 99)}")
    )
    slug = _ascii(slug.lower())
    numeric_id = f"1000{rng.randrange(10**11):011d}"  # Facebook's ids for people
    full_name = _ascii(f"{first} {last}".replace(" ", "-"))
    return rng.choice(
        (
            f"@{slug.replace('.', '_')}",
            f"facebook.com/{slug}",
            f"https://www.facebook.com/profile.php?id={numeric_id}",
            f"https://m.facebook.com/people/{full_name}/{numeric_id}/",
            f"https://www.facebook.com/{slug}",
            f"instagram.com/{slug.replace('.', '_')}",
            f"x.com/{slug.replace('.', '_')}",
            f"linkedin.com/in/{slug.replace('.', '-').replace('_', '-')}",
        )
    )


def _ascii(text: str) -> str:
    return "".join(
        c
        for c in unicodedata.normalize("NFKD", text)
        if c.isascii() and (c.isalnum() or c in "._-")
    )


_SPELT_DOT = (" point ", " (dot) ", " [dot] ")
_SPELT_AT = (" arobase ", " (at) ", " [at] ", "(at)", " @ ")


def obfuscated_email(rng: random.Random, email: str) -> str:
    """`email` with its @ (maybe its dots too) spelt out: "jean point roux arobase free point fr".

    People do it to hide their address from spam robots; a reader still reads it.
    """
    local, domain = email.split("@", 1)
    at = rng.choice(_SPELT_AT)
    dot = rng.choice(_SPELT_DOT) if at.strip() in ("arobase", "[at]") else "."
    return local.replace(".", dot) + at + domain.replace(".", dot)


def split_by_line_break(rng: random.Random, value: str) -> str:
    """`value` cut by a line break, as a mail client wraps it: "jean.dupont@exa⏎mple.fr".

    A value grouped by spaces (an IBAN, a card or phone number) breaks at one of its
    spaces: the line break takes its place, or follows it as a client wrapping
    "format=flowed" (RFC 3676) writes it ("06 12 34 ⏎56 78"); any other value anywhere
    inside.
    """
    spaces = [i for i, char in enumerate(value) if char == " "]
    if spaces:
        cut = rng.choice(spaces)
        return value[:cut] + rng.choice(("", " ")) + "\n" + value[cut + 1 :]
    cut = rng.randint(2, len(value) - 2)
    return value[:cut] + "\n" + value[cut:]


def personal_website(rng: random.Random, last_name: str) -> str:
    """A person's own web page: "https://www.famille-dupont.fr", "www.dupont-photo.com"."""
    slug = _ascii(last_name.lower().replace(" ", "-"))
    host = rng.choice((f"famille-{slug}", f"{slug}-photo", f"blog-{slug}", slug))
    scheme = rng.choice(("https://www.", "http://", "www.", "https://"))
    return f"{scheme}{host}.{rng.choice(('fr', 'com', 'net'))}{rng.choice(('', '/', '/contact'))}"


def mac_address(rng: random.Random) -> str:
    """A device's MAC address, colon- or dash-separated."""
    separator = rng.choice((":", "-"))
    return separator.join(f"{rng.randrange(256):02X}" for _ in range(6))
