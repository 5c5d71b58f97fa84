"""Checksum-valid French identifiers for synthetic submissions.

WHY: the PII scrubber and its evaluation must be tested against identifiers that a
validating recognizer would accept (a NIR with a wrong key is not a NIR), written the
way citizens actually type them. Every function takes the caller's `random.Random`,
so a seed reproduces the same values, and returns the identifier as a string.
"""

from __future__ import annotations

import random
import string

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
)
# How often people use each notation (spaced pairs dominate in French writing).
_PHONE_NOTATION_WEIGHTS = (40, 10, 4, 20, 10, 4, 8, 4)


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
    bban = bank + branch + account + _rib_key(bank, branch, account)
    # Check digits: move "FR00" to the end, letters to numbers (F=15, R=27).
    check = 98 - int(bban + "152700") % 97
    iban = f"FR{check:02d}{bban}"
    if grouped is None:
        grouped = rng.random() < 0.7
    if not grouped:
        return iban
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _siren_digits(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(1, 9)) + f"{rng.randrange(10**7):07d}"
        number = body + _luhn_check_digit(body)
        # La Poste's SIREN follows another checksum rule for its SIRETs: never draw it.
        if number != "356000000":
            return number


def siren(rng: random.Random, spaced: bool | None = None) -> str:
    """SIREN company number (9 digits, Luhn-valid), "732829320" or "732 829 320"."""
    number = _siren_digits(rng)
    if spaced is None:
        spaced = rng.random() < 0.4
    return " ".join((number[:3], number[3:6], number[6:])) if spaced else number


def siret(rng: random.Random, spaced: bool | None = None) -> str:
    """SIRET establishment number: a valid SIREN + 5-digit NIC, the 14 digits Luhn-valid."""
    head = _siren_digits(rng) + f"{rng.randint(1, 99):04d}"
    number = head + _luhn_check_digit(head)
    if spaced is None:
        spaced = rng.random() < 0.4
    return " ".join((number[:3], number[3:6], number[6:9], number[9:])) if spaced else number


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_PLATE_LETTERS) for _ in range(count))


def _siv_plate(rng: random.Random) -> str:
    left = _letters(rng, 2)
    while left in _SIV_FORBIDDEN_LEFT:
        left = _letters(rng, 2)
    right = _letters(rng, 2)
    while right in _SIV_FORBIDDEN_RIGHT:
        right = _letters(rng, 2)
    digits = f"{rng.randint(1, 999):03d}"
    separator = rng.choices(("-", " ", ""), weights=(80, 12, 8))[0]
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


def licence_plate(rng: random.Random, fni: bool | None = None) -> str:
    """French number plate: SIV "AB-123-CD" (since 2009) or old FNI "1234 AB 56".

    SIV plates are sometimes typed with spaces or nothing between the blocks;
    `fni=None` draws an old plate one time in six.
    """
    if fni is None:
        fni = rng.random() < 1 / 6
    return _fni_plate(rng) if fni else _siv_plate(rng)


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
        case _:  # "intl_00"
            return "0033 " + " ".join([national[0], *pairs])
