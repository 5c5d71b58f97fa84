"""Pools of names and streets, and the synthetic people who write submissions.

WHY: creating a Faker instance and asking it for a name costs far more than drawing
from a tuple, and Faker's draws depend on its own global state. The pools are built
once per seed from Faker's fr_FR (and en_GB) locale, then every text and row samples
them with the caller's `random.Random`: fast enough for a million rows, and the same
seed always gives the same people.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from faker import Faker

from include.sample import identifiers

# Names common in France that Faker's traditional fr_FR lists lack; NER models often
# miss them, which is exactly what the scrubber's evaluation has to expose.
_EXTRA_LAST_NAMES = (
    "Benali", "Haddad", "Nguyen", "Da Silva", "Ferreira", "Dos Santos", "Diallo", "Traoré",
    "Martins", "Rodrigues", "Bouzid", "Kaya", "Cissé", "Pereira", "Amrani", "Tran", "Le Gall",
    "Le Goff", "Benoît", "N'Diaye", "Lopes", "Yilmaz", "Mendy", "Ben Salah", "de La Roche",
    "de Villiers", "de Oliveira", "Le Bihan",
)  # fmt: skip
_EXTRA_FIRST_NAMES_F = (
    "Yasmine", "Inès", "Fatima", "Aïcha", "Léa", "Chloé", "Manon", "Océane", "Jessica",
    "Nadia", "Samira", "Maëlys", "Awa", "Leïla", "Sarah",
)  # fmt: skip
_EXTRA_FIRST_NAMES_M = (
    "Mohamed", "Rayan", "Karim", "Sofiane", "Mamadou", "Kevin", "Enzo", "Mehdi", "Yanis",
    "Jean-Pierre", "Jean-Marc", "Pierre-Yves", "Bilal", "Dylan", "Moussa",
)  # fmt: skip

# Street names as they appear on French street signs (after the type).
_STREET_NAMES = (
    "des Lilas", "Victor Hugo", "Jean Jaurès", "de la République", "de la Gare", "Pasteur",
    "Gambetta", "du Général de Gaulle", "de la Paix", "des Écoles", "du Moulin", "de l'Église",
    "Voltaire", "Jules Ferry", "de la Liberté", "du Stade", "des Acacias", "des Tilleuls",
    "du Château", "Émile Zola", "Anatole France", "Carnot", "du Maréchal Foch", "du 8 Mai 1945",
    "du 11 Novembre", "Jean Moulin", "de Verdun", "des Roses", "du Marché", "de la Mairie",
    "Saint-Michel", "de Paris", "des Peupliers", "Paul Bert", "Aristide Briand",
    "Henri Barbusse", "Gabriel Péri", "Pierre Brossolette", "Marcel Pagnol", "Simone Veil",
    "Lamartine", "de la Fontaine", "des Vignes", "du Port", "de Strasbourg", "de Lyon",
    "Georges Clemenceau", "Albert Camus", "des Cerisiers", "des Mimosas", "du Lavoir",
    "de la Poste", "Sadi Carnot", "Mozart", "des Jardins", "Louise Michel", "de la Croix-Rousse",
    "Nationale", "des Prés", "du Vieux Port", "Jean-Baptiste Clément", "de Belleville",
)  # fmt: skip


@dataclass(frozen=True)
class StreetType:
    """A street type with what French grammar and abbreviations need."""

    name: str
    article: str  # "la ", "le " or "l'" (elided)
    preposition: str  # "dans" or "sur": "dans la rue", "sur le boulevard"
    abbreviations: tuple[str, ...] = ()

    @property
    def of(self) -> str:
        """Joins "au niveau " to the street: "de la rue", "du boulevard", "de l'avenue"."""
        return {"la ": "de la ", "le ": "du "}.get(self.article, "de l'")

    @property
    def inside(self) -> str:
        """Places something on the street: "dans la rue", "sur l'avenue"."""
        return f"{self.preposition} {self.article}"


STREET_TYPES: tuple[tuple[StreetType, int], ...] = (
    (StreetType("rue", "la ", "dans"), 60),
    (StreetType("avenue", "l'", "sur", ("av.", "av", "ave")), 12),
    (StreetType("boulevard", "le ", "sur", ("bd", "bld", "boulevard")), 8),
    (StreetType("place", "la ", "sur", ("pl.",)), 4),
    (StreetType("impasse", "l'", "dans", ("imp.",)), 4),
    (StreetType("allée", "l'", "dans"), 4),
    (StreetType("chemin", "le ", "sur", ("ch.", "chem.", "che")), 3),
    (StreetType("route", "la ", "sur", ("rte",)), 2),
    (StreetType("résidence", "la ", "dans", ("rés.", "res")), 2),
    (StreetType("quai", "le ", "sur"), 1),
    (StreetType("cours", "le ", "sur", ("crs",)), 1),
    (StreetType("square", "le ", "dans", ("sq",)), 1),
    (StreetType("faubourg", "le ", "dans", ("fbg", "fg")), 1),
)  # the abbreviations: La Poste's, as the BAN's geocoder (addok-france) reads them


@dataclass(frozen=True)
class Street:
    type: StreetType
    name: str

    def __str__(self) -> str:
        return f"{self.type.name} {self.name}"


_EMAIL_DOMAINS = (
    ("gmail.com", 38), ("orange.fr", 14), ("hotmail.fr", 12), ("free.fr", 7), ("yahoo.fr", 6),
    ("laposte.net", 5), ("outlook.fr", 5), ("sfr.fr", 4), ("wanadoo.fr", 3), ("icloud.com", 3),
    ("hotmail.com", 2), ("live.fr", 1),
)  # fmt: skip


@dataclass(frozen=True)
class Pools:
    """Deterministic sampling pools; build with `get_pools(seed)`."""

    last_names: tuple[str, ...]
    first_names_f: tuple[str, ...]
    first_names_m: tuple[str, ...]
    en_last_names: tuple[str, ...]
    en_first_names_f: tuple[str, ...]
    en_first_names_m: tuple[str, ...]
    streets: tuple[Street, ...]


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@lru_cache(maxsize=8)
def get_pools(seed: int = 0) -> Pools:
    """Pools drawn from Faker with `seed` (cached: built once per seed per process)."""
    fr = Faker("fr_FR")
    fr.seed_instance(seed)
    en = Faker("en_GB")
    en.seed_instance(seed)
    rng = random.Random(f"pools:{seed}")
    last = [fr.last_name() for _ in range(600)] + list(_EXTRA_LAST_NAMES)
    # A few double-barrelled names, as after a marriage ("Dupont-Moreau").
    last += [f"{fr.last_name()}-{fr.last_name()}" for _ in range(30)]
    types, weights = zip(*STREET_TYPES, strict=True)
    streets = []
    for _ in range(400):
        street_type = rng.choices(types, weights=weights)[0]
        name = rng.choice(_STREET_NAMES) if rng.random() < 0.7 else fr.last_name()
        streets.append(Street(street_type, name))
    return Pools(
        last_names=_unique(last),
        first_names_f=_unique([fr.first_name_female() for _ in range(300)]) + _EXTRA_FIRST_NAMES_F,
        first_names_m=_unique([fr.first_name_male() for _ in range(300)]) + _EXTRA_FIRST_NAMES_M,
        en_last_names=_unique([en.last_name() for _ in range(200)]),
        en_first_names_f=_unique([en.first_name_female() for _ in range(120)]),
        en_first_names_m=_unique([en.first_name_male() for _ in range(120)]),
        streets=tuple(dict.fromkeys(streets)),
    )


@lru_cache(maxsize=4096)
def ascii_fold(text: str) -> str:
    """ "Benoît N'Diaye" → "Benoit NDiaye": what survives in an e-mail local part."""
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in " -"))


@dataclass(frozen=True)
class Person:
    """Someone who writes to the city (or is mentioned): consistent name, e-mail, phone."""

    first_name: str
    last_name: str
    gender: str  # "F" or "M"
    email: str
    phone: str
    birth_date: date

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _email(rng: random.Random, first: str, last: str, birth_year: int) -> str:
    f = ascii_fold(first).lower().replace(" ", "")
    ln = ascii_fold(last).lower().replace(" ", "")
    local = rng.choice(
        (
            f"{f}.{ln}",
            f"{f}.{ln}",
            f"{f[0]}{ln}",
            f"{f}{ln}{birth_year % 100:02d}",
            f"{ln}.{f}",
            f"{f}_{ln}",
            f"{f}.{ln}{rng.randint(1, 99)}",
            f"{f[0]}.{ln}{birth_year}",
        )
    )
    domain = rng.choices(*zip(*_EMAIL_DOMAINS, strict=True))[0]
    return f"{local}@{domain}"


def make_person(
    rng: random.Random,
    pools: Pools,
    *,
    lang: str = "fr",
    gender: str | None = None,
    age: int | None = None,
    on: date | None = None,
) -> Person:
    """A person with a name from the pools; `age` on date `on` fixes the birth date."""
    if gender not in ("F", "M"):
        gender = rng.choice("FM")
    if lang == "en":
        first = rng.choice(pools.en_first_names_f if gender == "F" else pools.en_first_names_m)
        last = rng.choice(pools.en_last_names)
    else:
        first = rng.choice(pools.first_names_f if gender == "F" else pools.first_names_m)
        last = rng.choice(pools.last_names)
    reference = on or date(2026, 1, 1)
    if age is None:
        age = rng.randint(18, 90)
    birth_date = reference - timedelta(days=int(365.25 * age) + rng.randrange(365))
    return Person(
        first_name=first,
        last_name=last,
        gender=gender,
        email=_email(rng, first, last, birth_date.year),
        phone=identifiers.phone_fr(rng),
        birth_date=birth_date,
    )
