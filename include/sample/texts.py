"""Labelled French (and some English) free text, as citizens write it to their city.

WHY one generator for two uses: the sample data written to the raw zone and the PII
evaluation corpus must contain the same kinds of text, so that the scrubber's measured
recall means something for the data it really scrubs. Every personal value planted in
a text is labelled with its exact character span (`text[start:end] == value`); spans
never overlap. About 30% of texts carry no personal data at all, about 10% are in
English.

Conventions for the labels: a civility ("Madame", "M.") is not part of a PERSON span;
an address span (FR_ADDRESS) is the number, street type and name, plus the postcode
and city when written; a birth date span (DATE_OF_BIRTH) is the date only ("3 janvier
1985" in "née le 3 janvier 1985"). Street names without a number ("rue Jean Jaurès")
and commune names are places, not personal data, and are not labelled. A value cut by
a line break ("jean@exa⏎mple.fr") or spelt out ("jean arobase free point fr") is one
span, break and words included; a social profile URL is SOCIAL_HANDLE, not URL.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from types import ModuleType

from include.sample import identifiers, phrases_en, phrases_fr, templating
from include.sample.communes import Commune, pick_commune
from include.sample.pools import Person, Pools, Street, get_pools, make_person
from include.sample.templating import Piece, Template

__all__ = [
    "ENTITY_TYPES",
    "LabelledText",
    "Pools",
    "Span",
    "labelled_corpus",
    "opinion_text",
    "signalement_text",
]

ENTITY_TYPES = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "FR_NIR", "FR_SIREN", "FR_SIRET",
    "FR_LICENSE_PLATE", "FR_ADDRESS", "DATE_OF_BIRTH", "CREDIT_CARD", "IP_ADDRESS", "URL",
    "MAC_ADDRESS", "FR_ID_CARD", "FR_PASSPORT", "FR_TAX_ID", "FR_CAF_NUMBER", "FR_DRIVING_LICENCE",
    "SOCIAL_HANDLE", "GPS_COORDINATES", "BE_NATIONAL_NUMBER", "CH_AVS_NUMBER",
)  # fmt: skip

NO_PII_SHARE = 0.30
ENGLISH_SHARE = 0.10

# Skewed like real reports: roads and cleanliness dominate.
CATEGORY_WEIGHTS: dict[str, float] = {
    "voirie": 24, "proprete": 22, "eclairage": 12, "stationnement": 12, "bruit": 10,
    "espaces_verts": 8, "mobilier_urbain": 7, "autre": 5,
}  # fmt: skip

_PHRASES: dict[str, ModuleType] = {"fr": phrases_fr, "en": phrases_en}

# Slots that always put personal data in the text ({loc} does only in some texts).
_PII_SLOTS = frozenset(
    {
        "me", "me_first", "me_last", "me_sign", "other", "other_last", "my_addr", "addr",
        "my_email", "my_phone", "my_dob", "plate", "iban", "nir", "siren", "siret",
        "card", "ip", "url", "mac", "id_card", "passport", "tax_id", "caf", "licence",
        "my_social", "gps", "intl_phone", "my_email_spelt", "my_email_split", "iban_split",
        "home_phone", "my_phone_split", "card_split", "vat", "be_nn", "ch_avs",
    }
)  # fmt: skip

_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

_LANDMARKS_FR = (
    "devant l'école maternelle", "à côté de la boulangerie", "en face de la pharmacie",
    "près de l'arrêt de bus", "à la sortie du collège", "sur le parking du supermarché",
    "derrière la salle des fêtes", "au rond-point", "devant la médiathèque",
    "à l'entrée du parc", "près du marché", "devant la poste",
)  # fmt: skip
_LANDMARKS_EN = ("near the school", "by the bus stop", "next to the bakery", "near the park")
# A home abroad, as a visitor writing English gives it, from streets and towns written by
# hand.
_ENGLISH_STREETS = (
    "Baker Street", "Kings Road", "Church Lane", "Station Road", "High Street", "Mill Lane",
    "Victoria Avenue", "St Mary's Close", "Queen's Crescent", "Elm Grove", "Manor Way",
    "Oak Drive", "Maple Court", "5th Avenue", "Chestnut Terrace", "Harbour View",
)  # fmt: skip
# (town, postcode area, country): British outward codes, American states and ZIP codes,
# Irish Eircode routing keys.
_ENGLISH_TOWNS = (
    ("London", "NW1", "GB"), ("Manchester", "M14", "GB"), ("Leeds", "LS6", "GB"),
    ("Bristol", "BS8", "GB"), ("Oxford", "OX2", "GB"), ("Glasgow", "G12", "GB"),
    ("Cardiff", "CF10", "GB"), ("Brighton", "BN1", "GB"), ("Boston, MA", "02110", "US"),
    ("Portland, OR", "97205", "US"), ("Austin, TX", "78701", "US"), ("Dublin", "D08", "IE"),
    ("Cork", "T12", "IE"),
)  # fmt: skip
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # those a British inward code may use
_EIRCODE_CHARACTERS = "ACDEFHKNPRTVWXY0123456789"


def _english_address(rng: random.Random, number: int) -> str:
    """ "27 Kings Road, Manchester M14 4BT", "Flat 3, 12 Elm Grove, Dublin D08 X2K4",
    "350 5th Avenue, Austin, TX 78701": a British, Irish or American home."""
    town, area, country = rng.choice(_ENGLISH_TOWNS)
    if country == "US":
        postcode = area  # the ZIP code
    elif country == "IE":  # an Eircode: the routing key and four more
        postcode = f"{area} " + "".join(rng.choice(_EIRCODE_CHARACTERS) for _ in "1234")
    else:  # a British outward code, then a digit and two letters
        postcode = f"{area} {rng.randint(1, 9)}" + "".join(rng.sample(_INWARD_LETTERS, 2))
    flat = f"Flat {rng.randint(1, 30)}, " if rng.random() < 0.2 else ""
    separator = rng.choice((", ", "\n"))
    return f"{flat}{number} {rng.choice(_ENGLISH_STREETS)}{separator}{town} {postcode}"


# Towns of Belgium, Switzerland and Luxembourg with one of their postcodes, as their
# residents write them (a canton after a Swiss town, the country's letter at times).
_TOWNS_NEXT_DOOR = (
    ("1000", "Bruxelles"), ("4000", "Liège"), ("5000", "Namur"), ("6000", "Charleroi"),
    ("7000", "Mons"), ("B-7500", "Tournai"), ("1204", "Genève"), ("1003", "Lausanne"),
    ("2000", "Neuchâtel"), ("1700", "Fribourg (FR)"), ("CH-1950", "Sion"),
    ("L-1111", "Luxembourg"), ("L-4001", "Esch-sur-Alzette"),
)  # fmt: skip
_WHEN_FR = (
    "hier", "trois jours", "une semaine", "deux semaines", "plus d'un mois", "lundi",
    "le début du mois", "les fêtes", "des mois",
)  # fmt: skip
_WHEN_EN = ("a week", "two weeks", "a month", "several days")

# Entity values that a writer who types everything in lower case also lowers.
_LOWERED_WITH_TEXT = frozenset({"PERSON", "EMAIL_ADDRESS", "FR_ADDRESS"})
_WORD = re.compile(r"[^\W\d_]{4,}")
_SPACE_BEFORE_PUNCT = re.compile(r" ([?!:;])")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity_type: str
    value: str


@dataclass(frozen=True)
class LabelledText:
    text: str
    lang: str
    spans: tuple[Span, ...]


@cache
def _split(sources: tuple[str, ...]) -> tuple[tuple[Template, ...], tuple[Template, ...]]:
    """Templates without, and with, personal data (parsed once per phrase list)."""
    parsed = [templating.parse(source) for source in sources]
    return (
        tuple(t for t in parsed if not t.slots & _PII_SLOTS),
        tuple(t for t in parsed if t.slots & _PII_SLOTS),
    )


def _format_dob(rng: random.Random, born: date, lang: str) -> str:
    if lang == "en":
        return rng.choice(
            (
                f"{born.day} {_MONTHS_EN[born.month - 1]} {born.year}",
                f"{_MONTHS_EN[born.month - 1]} {born.day}, {born.year}",
                f"{born:%d/%m/%Y}",
            )
        )
    day = "1er" if born.day == 1 else str(born.day)
    return rng.choice(
        (
            f"{day} {_MONTHS_FR[born.month - 1]} {born.year}",
            f"{day} {_MONTHS_FR[born.month - 1]} {born.year}",
            f"{born:%d/%m/%Y}",
            f"{born:%d/%m/%Y}",
            f"{born.day}/{born.month}/{born.year}",
            f"{born:%d-%m-%Y}",
            f"{born:%d.%m.%Y}",
        )
    )


def _in_commune(name: str) -> str:
    """ "à Lyon", "au Gosier", "aux Abymes" (French contracts "à le" and "à les")."""
    for article, contracted in (("Le ", "au "), ("Les ", "aux ")):
        if name.startswith(article):
            return contracted + name.removeprefix(article)
    return f"à {name}"


def _of_commune(name: str) -> str:
    """ "de Lyon", "du Gosier", "des Abymes", "d'Arles"."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if name.startswith(article):
            return contracted + name.removeprefix(article)
    return f"d'{name}" if name[0] in "AEIOUÉÈÎ" else f"de {name}"


class _Writer:
    """Renders the templates of one text: one author, one place, consistent values."""

    def __init__(
        self, rng: random.Random, pools: Pools, lang: str, author: Person, commune: Commune
    ) -> None:
        self.rng = rng
        self.pools = pools
        self.lang = lang
        self.author = author
        self.commune = commune
        self.numbered_loc = False  # does {loc} render a numbered (personal) address?
        self._other: Person | None = None
        self._my_addr: str | None = None
        self._my_dob: str | None = None

    # -- helpers -------------------------------------------------------------------------
    @property
    def other(self) -> Person:
        if self._other is None:
            self._other = make_person(self.rng, self.pools, lang=self.lang)
        return self._other

    def _street(self) -> Street:
        return self.rng.choice(self.pools.streets)

    def _address(self, with_city: bool) -> str:
        rng = self.rng
        number = rng.randint(1, 40) if rng.random() < 0.8 else rng.randint(41, 250)
        suffix = rng.choice((" bis", " ter")) if rng.random() < 0.05 else ""
        street = self._street()
        kind = street.type.name
        if street.type.abbreviations and rng.random() < 0.3:
            kind = rng.choice(street.type.abbreviations)
        if with_city and self.lang == "en" and rng.random() < 0.4:
            return _english_address(rng, number)
        if with_city and rng.random() < 0.12:
            return self._address_number_after(f"{kind} {street.name}", number)
        text = f"{number}{suffix}{', ' if rng.random() < 0.2 else ' '}{kind} {street.name}"
        if with_city:
            city = self.commune.name.upper() if rng.random() < 0.2 else self.commune.name
            text += f"{rng.choice((', ', ' ', ' - '))}{self.commune.postcode} {city}"
        return text

    def _address_number_after(self, street: str, number: int) -> str:
        """As a writer from Belgium, Switzerland or Luxembourg puts it: "rue de la Loi 16,
        1000 Bruxelles", "chemin des Vignes 4⏎1009 Pully (VD)", with a box at times. Always
        with its town: without it, the number is found only where it ends a clause."""
        rng = self.rng
        box = ""
        if rng.random() < 0.2:
            box = rng.choice((f" bte {rng.randint(1, 12)}", f"/{rng.randint(1, 12)}", "b"))
        postcode, town = rng.choice(_TOWNS_NEXT_DOOR)
        separator = rng.choice((", ", "\n", " "))
        return f"{street} {number}{box}{separator}{postcode} {town}"

    @staticmethod
    def _civility(rng: random.Random, person: Person) -> str:
        if person.gender == "F":
            return rng.choice(("Madame", "Mme", "Mme"))
        return rng.choice(("Monsieur", "M.", "Mr"))

    # -- slots ---------------------------------------------------------------------------
    def slot(self, name: str, out: list[Piece]) -> None:
        try:
            handler = _SLOTS[name]
        except KeyError:
            raise templating.TemplateError(f"unknown slot {{{name}}} in a phrase") from None
        handler(self, out)

    def _me(self, out: list[Piece]) -> None:
        a = self.author
        value = self.rng.choices(
            (
                a.full_name,
                f"{a.first_name} {a.last_name.upper()}",
                f"{a.last_name.upper()} {a.first_name}",
            ),
            weights=(80, 10, 10),
        )[0]
        out.append((value, "PERSON"))

    def _me_sign(self, out: list[Piece]) -> None:
        a = self.author
        value = self.rng.choice(
            (
                a.full_name,
                a.full_name,
                f"{a.first_name[0]}. {a.last_name}",
                f"{a.first_name} {a.last_name[0]}.",
                f"{a.last_name.upper()} {a.first_name}",
                a.first_name,
            )
        )
        out.append((value, "PERSON"))

    def _my_address(self, out: list[Piece]) -> None:
        if self._my_addr is None:
            self._my_addr = self._address(with_city=self.rng.random() < 0.45)
        out.append((self._my_addr, "FR_ADDRESS"))

    def _dob(self, out: list[Piece]) -> None:
        if self._my_dob is None:
            self._my_dob = _format_dob(self.rng, self.author.birth_date, self.lang)
        out.append((self._my_dob, "DATE_OF_BIRTH"))

    def _loc(self, out: list[Piece]) -> None:
        rng = self.rng
        if self.numbered_loc:
            address = self._address(with_city=rng.random() < 0.15)
            if self.lang == "en":
                prefix = rng.choice(("in front of ", "outside ", "at "))
            elif not address[0].isdigit():  # "rue de la Loi 16, 1000 Bruxelles"
                prefix = rng.choice(("devant l'immeuble ", "en face de l'immeuble "))
            else:
                prefix = rng.choice(
                    ("devant le ", "au ", "en face du ", "au niveau du ", "à hauteur du ")
                )
            out += [(prefix, None), (address, "FR_ADDRESS")]
            return
        street, other = self._street(), self._street()
        if self.lang == "en":
            phrase = rng.choice(
                (
                    f"on {street}",
                    rng.choice(_LANDMARKS_EN),
                    f"at the corner of {street} and {other}",
                )
            )
        else:
            phrase = rng.choice(
                (
                    str(street),
                    f"{street.type.inside}{street}",
                    f"au niveau {street.type.of}{street}",
                    rng.choice(_LANDMARKS_FR),
                    f"{rng.choice(_LANDMARKS_FR)}, {street}",
                    f"à l'angle {street.type.of}{street} et {other.type.of}{other}",
                )
            )
            if rng.random() < 0.15:
                phrase += " " + _in_commune(self.commune.name)
        out.append((phrase, None))


def _entity_slot(entity_type: str, value: Callable[[_Writer], str]) -> Callable[..., None]:
    def handler(writer: _Writer, out: list[Piece]) -> None:
        out.append((value(writer), entity_type))

    return handler


def _text_slot(value: Callable[[_Writer], str]) -> Callable[..., None]:
    def handler(writer: _Writer, out: list[Piece]) -> None:
        out.append((value(writer), None))

    return handler


_SLOTS: dict[str, Callable[[_Writer, list[Piece]], None]] = {
    "me": _Writer._me,
    "me_sign": _Writer._me_sign,
    "my_addr": _Writer._my_address,
    "my_dob": _Writer._dob,
    "loc": _Writer._loc,
    "me_first": _entity_slot("PERSON", lambda w: w.author.first_name),
    "me_last": _entity_slot("PERSON", lambda w: w.author.last_name),
    "other": _entity_slot("PERSON", lambda w: w.other.full_name),
    "other_first": _entity_slot("PERSON", lambda w: w.other.first_name),
    "other_last": _entity_slot("PERSON", lambda w: w.other.last_name),
    "my_email": _entity_slot("EMAIL_ADDRESS", lambda w: w.author.email),
    "my_phone": _entity_slot("PHONE_NUMBER", lambda w: w.author.phone),
    "addr": _entity_slot("FR_ADDRESS", lambda w: w._address(with_city=w.rng.random() < 0.3)),
    "plate": _entity_slot("FR_LICENSE_PLATE", lambda w: identifiers.licence_plate(w.rng)),
    "iban": _entity_slot("IBAN_CODE", lambda w: identifiers.bank_account(w.rng)),
    "nir": _entity_slot("FR_NIR", lambda w: identifiers.nir(w.rng)),
    "siren": _entity_slot("FR_SIREN", lambda w: identifiers.siren(w.rng, after_its_name=True)),
    "siret": _entity_slot("FR_SIRET", lambda w: identifiers.siret(w.rng, after_its_name=True)),
    "vat": _entity_slot("FR_SIREN", lambda w: identifiers.french_vat(w.rng)),
    "card": _entity_slot("CREDIT_CARD", lambda w: identifiers.luhn_card(w.rng)),
    "ip": _entity_slot("IP_ADDRESS", lambda w: identifiers.ip_address(w.rng)),
    "url": _entity_slot("URL", lambda w: identifiers.personal_website(w.rng, w.author.last_name)),
    "mac": _entity_slot("MAC_ADDRESS", lambda w: identifiers.mac_address(w.rng)),
    "id_card": _entity_slot("FR_ID_CARD", lambda w: identifiers.id_card(w.rng)),
    "passport": _entity_slot("FR_PASSPORT", lambda w: identifiers.passport(w.rng)),
    "tax_id": _entity_slot("FR_TAX_ID", lambda w: identifiers.tax_id(w.rng)),
    "caf": _entity_slot("FR_CAF_NUMBER", lambda w: identifiers.caf_number(w.rng)),
    "be_nn": _entity_slot(
        "BE_NATIONAL_NUMBER", lambda w: identifiers.belgian_national_number(w.rng)
    ),
    "ch_avs": _entity_slot("CH_AVS_NUMBER", lambda w: identifiers.swiss_avs_number(w.rng)),
    "licence": _entity_slot("FR_DRIVING_LICENCE", lambda w: identifiers.driving_licence(w.rng)),
    "gps": _entity_slot("GPS_COORDINATES", lambda w: identifiers.gps(w.rng)),
    "intl_phone": _entity_slot("PHONE_NUMBER", lambda w: identifiers.international_phone(w.rng)),
    "home_phone": _entity_slot("PHONE_NUMBER", lambda w: identifiers.home_phone(w.rng)),
    "my_social": _entity_slot(
        "SOCIAL_HANDLE",
        lambda w: identifiers.social(w.rng, w.author.first_name, w.author.last_name),
    ),
    "my_email_spelt": _entity_slot(
        "EMAIL_ADDRESS", lambda w: identifiers.obfuscated_email(w.rng, w.author.email)
    ),
    "my_email_split": _entity_slot(
        "EMAIL_ADDRESS", lambda w: identifiers.split_by_line_break(w.rng, w.author.email)
    ),
    "my_phone_split": _entity_slot(
        "PHONE_NUMBER", lambda w: identifiers.split_by_line_break(w.rng, w.author.phone)
    ),
    "card_split": _entity_slot(
        "CREDIT_CARD",
        lambda w: identifiers.split_by_line_break(w.rng, identifiers.luhn_card(w.rng, "spaced")),
    ),
    "iban_split": _entity_slot(
        "IBAN_CODE",
        lambda w: identifiers.split_by_line_break(
            w.rng, identifiers.bank_account(w.rng, grouped=True)
        ),
    ),
    "civ": _text_slot(lambda w: w._civility(w.rng, w.author)),
    "o_civ": _text_slot(lambda w: w._civility(w.rng, w.other)),
    "o_voisin": _text_slot(lambda w: "Ma voisine" if w.other.gender == "F" else "Mon voisin"),
    "e": _text_slot(lambda w: "e" if w.author.gender == "F" else ""),
    "né": _text_slot(lambda w: "née" if w.author.gender == "F" else "né"),
    "Né": _text_slot(lambda w: "Née" if w.author.gender == "F" else "Né"),
    "street": _text_slot(lambda w: str(w._street())),
    "street_of": _text_slot(lambda w: (lambda s: f"{s.type.of}{s}")(w._street())),
    "in_street": _text_slot(lambda w: (lambda s: f"{s.type.inside}{s}")(w._street())),
    "landmark": _text_slot(lambda w: w.rng.choice(_LANDMARKS_FR)),
    "commune": _text_slot(lambda w: w.commune.name),
    "in_commune": _text_slot(lambda w: _in_commune(w.commune.name)),
    "of_commune": _text_slot(lambda w: _of_commune(w.commune.name)),
    "when": _text_slot(lambda w: w.rng.choice(_WHEN_EN if w.lang == "en" else _WHEN_FR)),
}


# -- roughening: what real writing looks like ---------------------------------------------
# "é" → "e", "Ç" → "C"... for every accented Latin letter (a translate table is fast).
_ACCENTS = {
    code: unicodedata.normalize("NFD", chr(code))[0]
    for code in range(0xC0, 0x250)
    if len(unicodedata.normalize("NFD", chr(code))) > 1
}


def _strip_accents(text: str) -> str:
    return text.translate(_ACCENTS)


def _typo(rng: random.Random, text: str) -> str:
    """One slip of the fingers in one word: swapped, dropped or doubled letter."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    match = rng.choice(words)
    word = match.group()
    i = rng.randrange(1, len(word) - 1)
    operation = rng.randrange(3)
    if operation == 0:
        word = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    elif operation == 1:
        word = word[:i] + word[i + 1 :]
    else:
        word = word[:i] + word[i] + word[i:]
    return text[: match.start()] + word + text[match.end() :]


@dataclass(frozen=True)
class _Style:
    """How one person types: the same habits throughout one text."""

    lower: bool
    no_accents: bool
    curly_apostrophe: bool
    punctuation_space: str  # what precedes ? ! : ; — " " (French rule), "" or NBSP
    typo_rate: float

    @classmethod
    def draw(cls, rng: random.Random, lang: str) -> _Style:
        french = lang == "fr"
        return cls(
            lower=rng.random() < 0.06,
            no_accents=french and rng.random() < 0.12,
            curly_apostrophe=rng.random() < 0.25,
            punctuation_space=rng.choices((" ", "", "\u00a0"), weights=(50, 45, 5))[0]
            if french
            else "",
            typo_rate=rng.choice((0.0, 0.0, 0.1, 0.25)),
        )

    def literal(self, rng: random.Random, text: str) -> str:
        if self.punctuation_space != " ":
            text = _SPACE_BEFORE_PUNCT.sub(self.punctuation_space + r"\1", text)
        if self.no_accents:
            text = _strip_accents(text)
        if self.curly_apostrophe:
            text = text.replace("'", "’")
        if self.lower:
            text = text.lower()
        if len(text) > 12 and rng.random() < self.typo_rate:
            text = _typo(rng, text)
        return text

    def entity(self, entity_type: str, value: str) -> str:
        return value.lower() if self.lower and entity_type in _LOWERED_WITH_TEXT else value


def _assemble(
    rng: random.Random, lang: str, sections: list[tuple[str, list[Piece]]]
) -> LabelledText:
    """Join rendered sections (each preceded by its separator), roughen, compute spans."""
    style = _Style.draw(rng, lang)
    merged: list[Piece] = []
    for separator, pieces in sections:
        if merged:
            pieces = [(separator, None), *pieces]
        for text, entity_type in pieces:
            if entity_type is None and merged and merged[-1][1] is None:
                merged[-1] = (merged[-1][0] + text, None)
            else:
                merged.append((text, entity_type))
    parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    for text, entity_type in merged:
        if entity_type is None:
            text = style.literal(rng, re.sub(r" {2,}", " ", text))
        else:
            text = style.entity(entity_type, text)
            spans.append(Span(offset, offset + len(text), entity_type, text))
        parts.append(text)
        offset += len(text)
    return LabelledText("".join(parts), lang, tuple(spans))


# -- composition --------------------------------------------------------------------------
def _features(rng: random.Random, odds: Mapping[str, float]) -> set[str]:
    """Which kinds of personal data a text carries; none for ~30% of texts."""
    if rng.random() < NO_PII_SHARE:
        return set()
    chosen = {name for name, p in odds.items() if rng.random() < p}
    return chosen or {rng.choice(sorted(odds))}


class _Composer:
    """Collects the sections of one text, picking templates with or without PII."""

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.sections: list[tuple[str, list[Piece]]] = []

    def add(
        self, separator: str, sources: tuple[str, ...], *, pii: bool = False, p: float = 1.0
    ) -> None:
        rng = self.writer.rng
        if not pii and rng.random() >= p:
            return
        plain, personal = _split(sources)
        candidates = personal if pii else plain
        if not candidates:
            return
        pieces: list[Piece] = []
        templating.render(rng.choice(candidates).body, rng, self.writer.slot, pieces)
        self.sections.append((separator, pieces))

    def done(self) -> LabelledText:
        return _assemble(self.writer.rng, self.writer.lang, self.sections)


def _setup(
    rng: random.Random,
    pools: Pools,
    lang: str | None,
    author: Person | None,
    commune: Commune | None,
) -> tuple[_Writer, ModuleType]:
    if lang is None:
        lang = "en" if rng.random() < ENGLISH_SHARE else "fr"
    if lang not in _PHRASES:
        raise ValueError(f"no phrases for language {lang!r}; use one of {sorted(_PHRASES)}")
    writer = _Writer(
        rng,
        pools,
        lang,
        author or make_person(rng, pools, lang=lang),
        commune or pick_commune(rng),
    )
    return writer, _PHRASES[lang]


def _layout(rng: random.Random) -> tuple[str, str, str]:
    """Separators after the greeting, between body sentences, before the sign-off."""
    return rng.choices(
        ((" ", " ", " "), ("\n", " ", "\n"), ("\n\n", " ", "\n\n"), ("\n", "\n", "\n")),
        weights=(55, 20, 15, 10),
    )[0]


def signalement_text(
    rng: random.Random,
    pools: Pools,
    *,
    category: str | None = None,
    author: Person | None = None,
    commune: Commune | None = None,
    lang: str | None = None,
) -> LabelledText:
    """A report about a problem in the public space, as a resident writes it.

    `category` (one of CATEGORY_WEIGHTS; unknown ones read like "autre") picks the
    problem; `author` and `commune` make the text agree with a row's structured
    fields; `lang=None` writes English one time in ten.
    """
    writer, phrases = _setup(rng, pools, lang, author, commune)
    if category is None:
        category = rng.choices(tuple(CATEGORY_WEIGHTS), weights=tuple(CATEGORY_WEIGHTS.values()))[0]
    problems = phrases.PROBLEMS.get(category, phrases.PROBLEMS["autre"])
    details = phrases.DETAILS.get(category, ())
    odds = {
        "intro": 0.3, "loc": 0.3, "extra": 0.15, "ids": 0.3, "contact": 0.4, "signature": 0.4,
        "greeting": 0.05,
    }  # fmt: skip
    if _split(details)[1]:
        odds["detail"] = 0.4
    features = _features(rng, odds)
    after_greeting, between, before_end = _layout(rng)
    text = _Composer(writer)
    text.add("", phrases.GREETINGS, pii="greeting" in features, p=0.55)
    text.add(after_greeting, phrases.SIGNALEMENT_INTROS, pii="intro" in features, p=0.3)
    if "loc" in features:
        writer.numbered_loc = True
        problems = tuple(p for p in problems if "{loc}" in p)
    text.add(between, problems)
    writer.numbered_loc = False
    text.add(between, details, pii="detail" in features, p=0.35)
    if rng.random() < 0.06:  # some people report two things at once
        other = rng.choice([c for c in phrases.PROBLEMS if c != category])
        text.add(between, phrases.ALSO)
        text.add(" ", phrases.PROBLEMS[other])
    text.add(between, phrases.IMPACTS, p=0.45)
    text.add(between, phrases.REQUESTS, p=0.55)
    text.add(between, phrases.SIGNALEMENT_EXTRAS, pii="extra" in features, p=0.0)
    text.add(between, phrases.IDENTIFIER_EXTRAS, pii="ids" in features, p=0.0)
    text.add(between, phrases.CONTACTS, pii="contact" in features, p=0.2)
    text.add(before_end, phrases.CLOSINGS, p=0.8 if "signature" in features else 0.45)
    text.add(
        "\n" if before_end != " " else " ", phrases.SIGNATURES, pii="signature" in features, p=0.0
    )
    return text.done()


def _stance(answer: int | None, rng: random.Random) -> str:
    if answer is None:
        answer = rng.randint(1, 5)
    return "neg" if answer <= 2 else "neu" if answer == 3 else "pos"


def opinion_text(
    rng: random.Random,
    pools: Pools,
    *,
    answers: Mapping[str, int] | None = None,
    author: Person | None = None,
    commune: Commune | None = None,
    lang: str | None = None,
) -> LabelledText:
    """A free-text opinion in the mobility consultation.

    `answers` maps a topic ("transports", "velo", "pietons") to the respondent's 1-5
    answer, so that what they write agrees with what they ticked.
    """
    writer, phrases = _setup(rng, pools, lang, author, commune)
    answers = answers or {}
    features = _features(
        rng, {"intro": 0.35, "extra": 0.3, "ids": 0.25, "contact": 0.35, "signature": 0.35}
    )
    after_greeting, between, before_end = _layout(rng)
    text = _Composer(writer)
    text.add("", phrases.GREETINGS, p=0.2)
    text.add(after_greeting, phrases.OPINION_INTROS, pii="intro" in features, p=0.4)
    topics = list(phrases.OPINION_TOPICS)
    rng.shuffle(topics)
    for topic in topics[: rng.choices((1, 2, 3), weights=(45, 40, 15))[0]]:
        stance = _stance(answers.get(topic), rng)
        text.add(between, phrases.OPINION_TOPICS[topic][stance])
    text.add(between, phrases.OPINION_GENERAL, p=0.4)
    text.add(between, phrases.OPINION_EXTRAS, pii="extra" in features, p=0.0)
    text.add(between, phrases.IDENTIFIER_EXTRAS, pii="ids" in features, p=0.0)
    text.add(between, phrases.OPINION_CONTACTS, pii="contact" in features, p=0.0)
    text.add(before_end, phrases.OPINION_CLOSINGS, p=0.3)
    text.add(
        "\n" if before_end != " " else " ", phrases.SIGNATURES, pii="signature" in features, p=0.0
    )
    return text.done()


def labelled_corpus(n: int, seed: int) -> Iterator[LabelledText]:
    """`n` labelled texts (reports and opinions, ~10% English) for the PII evaluation."""
    rng = random.Random(f"corpus:{seed}")
    pools = get_pools(seed)
    for _ in range(n):
        if rng.random() < 0.55:
            yield signalement_text(rng, pools)
        else:
            yield opinion_text(rng, pools)
