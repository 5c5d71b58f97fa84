"""Synthetic rows for a submission source, shaped by its `SourceConfig`.

WHY: the pipeline (validation, scrubbing, k-anonymity, small-cell suppression) only
gets a fair test if the sample looks like real submissions: skewed categories,
realistic ages, answers that correlate with age, postcodes of real communes with
uneven populations, timestamps with office hours and quiet weekends, direct
identifiers that agree with what the free text says. Allowed values and ranges are
read from the config, so the sample follows the YAML; a source without a generator
here, or a YAML field this module does not produce, fails with a clear error.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from include.core.source_config import SourceConfig
from include.sample.communes import pick_commune
from include.sample.pools import Person, get_pools, make_person
from include.sample.texts import CATEGORY_WEIGHTS, opinion_text, signalement_text

PARIS = ZoneInfo("Europe/Paris")

# Submissions per hour of the day (web and app): quiet nights, evening peak.
_HOUR_WEIGHTS = (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 6, 6, 5, 6, 6, 6, 6, 7, 8, 8, 7, 5, 3, 2)
# Phone and counter: office hours only.
_OFFICE_HOUR_WEIGHTS = tuple(1.0 if 9 <= h < 12 or 14 <= h < 17 else 0.0 for h in range(24))
_CHANNEL_WEIGHTS = {"web": 50, "application": 30, "telephone": 12, "guichet": 8}
_OFFICE_CHANNELS = frozenset({"telephone", "guichet"})
_GENDER_WEIGHTS = {"F": 51, "M": 47, "X": 2}
# Consultation respondents by age band (lower bound inclusive, upper exclusive).
_AGE_BANDS = (
    (15, 18, 1), (18, 25, 6), (25, 35, 14), (35, 45, 17), (45, 55, 18), (55, 65, 18),
    (65, 75, 15), (75, 85, 8), (85, 100, 2.5), (100, 111, 0.05),
)  # fmt: skip
# Occupation weights by age: (maximum age of the group, weights).
_OCCUPATIONS_BY_AGE: tuple[tuple[int, Mapping[str, float]], ...] = (
    (17, {"sans_emploi": 85, "employe": 10, "ouvrier": 5}),
    (24, {"sans_emploi": 35, "employe": 30, "ouvrier": 15, "profession_intermediaire": 12,
          "cadre": 3, "artisan_commercant": 3, "agriculteur": 2}),
    (54, {"cadre": 20, "profession_intermediaire": 24, "employe": 26, "ouvrier": 16,
          "artisan_commercant": 7, "agriculteur": 1, "sans_emploi": 6}),
    (61, {"cadre": 17, "profession_intermediaire": 20, "employe": 24, "ouvrier": 14,
          "artisan_commercant": 7, "agriculteur": 2, "sans_emploi": 6, "retraite": 10}),
    (200, {"retraite": 88, "artisan_commercant": 3, "cadre": 3, "sans_emploi": 3,
           "profession_intermediaire": 2, "agriculteur": 1}),
)  # fmt: skip


class GeneratorError(ValueError):
    """No sample generator for a source, or the source and its generator disagree."""


def _weights_for(allowed: Sequence[str], known: Mapping[str, float]) -> tuple[float, ...]:
    """Weights in the config's order; a value the table does not know gets a small share."""
    return tuple(known.get(value, 0.5) for value in allowed)


class _Timestamps:
    """Submission times over the `days_back` days before `day`, in Paris local time."""

    def __init__(self, day: date, days_back: int) -> None:
        self.days = [day - timedelta(days=offset) for offset in range(days_back, 0, -1)]
        all_days = [0.7 if d.weekday() >= 5 else 1.0 for d in self.days]
        weekdays = [0.0 if d.weekday() >= 5 else 1.0 for d in self.days]
        if not any(weekdays):  # a window of weekend days only: the office is closed
            weekdays = all_days
        self._any_day = tuple(accumulate(all_days))
        self._office_day = tuple(accumulate(weekdays))
        self._any_hour = tuple(accumulate(_HOUR_WEIGHTS))
        self._office_hour = tuple(accumulate(_OFFICE_HOUR_WEIGHTS))

    def draw(self, rng: random.Random, office_hours: bool = False) -> str:
        day_weights = self._office_day if office_hours else self._any_day
        hour_weights = self._office_hour if office_hours else self._any_hour
        when = rng.choices(self.days, cum_weights=day_weights)[0]
        hour = rng.choices(range(24), cum_weights=hour_weights)[0]
        local = datetime(
            when.year, when.month, when.day, hour, rng.randrange(60), rng.randrange(60),
            tzinfo=PARIS,
        )  # fmt: skip
        return local.isoformat()


class _SourceRows:
    """Shared machinery; subclasses produce one row dict per call, in the config's order."""

    FIELDS: ClassVar[frozenset[str]]

    def __init__(self, config: SourceConfig, seed: int, day: date, days_back: int) -> None:
        declared = {spec.name for spec in config.fields}
        missing, extra = sorted(declared - self.FIELDS), sorted(self.FIELDS - declared)
        if missing or extra:
            raise GeneratorError(
                f"source '{config.name}': the YAML and the sample generator disagree "
                f"(fields without a generator: {missing}; generated fields not in the YAML: "
                f"{extra}); update include/sample/generator.py"
            )
        self.config = config
        self.order = [spec.name for spec in config.fields]
        self.rng = random.Random(f"rows:{config.name}:{seed}")
        self.pools = get_pools(seed)
        self.day = day
        self.timestamps = _Timestamps(day, days_back)

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _category(self, name: str, known: Mapping[str, float]) -> str:
        allowed = self.config.field(name).allowed or []
        return self.rng.choices(allowed, weights=_weights_for(allowed, known))[0]

    def _range(self, name: str, default: tuple[int, int]) -> tuple[int, int]:
        spec = self.config.field(name)
        low = default[0] if spec.minimum is None else int(spec.minimum)
        high = default[1] if spec.maximum is None else int(spec.maximum)
        return low, high

    def _typed_name(self, person: Person) -> str:
        """The name as typed into the form field."""
        return self.rng.choices(
            (
                person.full_name,
                f"{person.last_name.upper()} {person.first_name}",
                person.full_name.lower(),
                f"{person.last_name} {person.first_name}",
            ),
            weights=(70, 12, 10, 8),
        )[0]

    def ordered(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: values[name] for name in self.order}

    def row(self) -> dict[str, Any]:
        raise NotImplementedError


class _Signalements(_SourceRows):
    FIELDS = frozenset(
        {
            "submission_id", "submitted_at", "category", "description", "commune", "postcode",
            "channel", "reporter_name", "reporter_email", "reporter_phone",
        }
    )  # fmt: skip

    def row(self) -> dict[str, Any]:
        rng = self.rng
        category = self._category("category", CATEGORY_WEIGHTS)
        channel = self._category("channel", _CHANNEL_WEIGHTS)
        at_office = channel in _OFFICE_CHANNELS
        commune = pick_commune(rng)
        lang = "en" if rng.random() < 0.05 else "fr"
        person = make_person(rng, self.pools, lang=lang, on=self.day)
        text = signalement_text(
            rng, self.pools, category=category, author=person, commune=commune, lang=lang
        )
        return self.ordered(
            {
                "submission_id": self._new_id(),
                "submitted_at": self.timestamps.draw(rng, office_hours=at_office),
                "category": category,
                "description": text.text,
                "commune": commune.name if rng.random() < 0.9 else None,
                "postcode": commune.postcode,
                "channel": channel,
                "reporter_name": self._typed_name(person)
                if rng.random() < (0.95 if at_office else 0.75)
                else None,
                "reporter_email": person.email
                if rng.random() < (0.2 if at_office else 0.7)
                else None,
                "reporter_phone": person.phone
                if rng.random() < (0.9 if channel == "telephone" else 0.35)
                else None,
            }
        )


class _Consultation(_SourceRows):
    FIELDS = frozenset(
        {
            "response_id", "submitted_at", "age", "gender", "postcode", "occupation",
            "q_transports", "q_velo", "q_pietons", "opinion", "respondent_email",
        }
    )  # fmt: skip

    def _age(self) -> int:
        low, high = self._range("age", (15, 110))
        band = self.rng.choices(_AGE_BANDS, weights=[w for *_, w in _AGE_BANDS])[0]
        return min(max(self.rng.randrange(band[0], band[1]), low), high)

    def _likert(self, name: str, center: float) -> int:
        low, high = self._range(name, (1, 5))
        return min(max(round(center + self.rng.gauss(0, 1.1)), low), high)

    def row(self) -> dict[str, Any]:
        rng = self.rng
        age = self._age()
        gender = self._category("gender", _GENDER_WEIGHTS)
        occupation = self._category(
            "occupation", next(w for top, w in _OCCUPATIONS_BY_AGE if age <= top)
        )
        # Mild, realistic correlations: the young back cycling and pedestrian streets,
        # older respondents are a little more satisfied with public transport.
        older = (age - 45) / 20
        answers = {
            "transports": self._likert("q_transports", 3.0 + 0.3 * older),
            "velo": self._likert("q_velo", 3.4 - 0.5 * older),
            "pietons": self._likert("q_pietons", 3.2 - 0.3 * older),
        }
        commune = pick_commune(rng)
        lang = "en" if rng.random() < 0.05 else "fr"
        person = make_person(
            rng, self.pools, lang=lang, gender=gender if gender in ("F", "M") else None,
            age=age, on=self.day,
        )  # fmt: skip
        opinion = None
        if rng.random() < 0.6:
            opinion = opinion_text(
                rng, self.pools, answers=answers, author=person, commune=commune, lang=lang
            ).text
        return self.ordered(
            {
                "response_id": self._new_id(),
                "submitted_at": self.timestamps.draw(rng),
                "age": age,
                "gender": gender,
                "postcode": commune.postcode,
                "occupation": occupation,
                "q_transports": answers["transports"],
                "q_velo": answers["velo"],
                "q_pietons": answers["pietons"],
                "opinion": opinion,
                "respondent_email": person.email if rng.random() < 0.55 else None,
            }
        )


GENERATORS: dict[str, Callable[[SourceConfig, int, date, int], _SourceRows]] = {
    "signalements": _Signalements,
    "consultation": _Consultation,
}


def iter_rows(
    config: SourceConfig, n: int, seed: int, day: date, days_back: int = 365
) -> Iterator[dict[str, Any]]:
    """`n` rows for `config`'s source, deterministic for `seed`, one at a time.

    Rows are dicts in the config's field order; optional fields may be None;
    `submitted_at` falls in the `days_back` days before `day` (never on `day`).
    """
    if config.name not in GENERATORS:
        raise GeneratorError(
            f"no sample generator for source '{config.name}' (known: {sorted(GENERATORS)}); "
            "add one in include/sample/generator.py"
        )
    if n < 0:
        raise ValueError(f"the number of rows must be >= 0, got {n}")
    if days_back < 1:
        raise ValueError(f"days_back must be >= 1, got {days_back}")
    source = GENERATORS[config.name](config, seed, day, days_back)
    for _ in range(n):
        yield source.row()
