"""About 1% of sample rows broken the ways real form exports go wrong.

WHY: "bad input never stops the line and is never lost" is only tested if bad input
arrives: required fields missing, words where numbers belong ("trente", "5/5"),
impossible or vague dates ("31/02/2026", "hier"), a row saved in Windows-1252 inside
a UTF-8 file, a 200 kB paste, a form submitted twice (exact duplicate) or an id
reused. Exactly one row in every block of 100 is broken, at a random position, and
kinds are dealt from a shuffled deck so that every kind shows up in every 5,000
rows; the same seed breaks the same rows the same way. Counts are kept by kind.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from include.core.source_config import FieldSpec, FieldType, PostcodeFr, SourceConfig

MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
BAD_DATE = "bad_date"
BROKEN_UTF8 = "broken_utf8"
HUGE_TEXT = "huge_text"
DUPLICATE_ROW = "duplicate_row"
DUPLICATE_ID = "duplicate_id"

# Cards per deck (50 broken rows, i.e. 5,000 rows): frequent mistakes often, a 200 kB
# paste once, so that huge texts stay a small share of the bytes of a big sample.
DECK = {
    MISSING_REQUIRED: 13,
    WRONG_TYPE: 13,
    BAD_DATE: 10,
    BROKEN_UTF8: 5,
    HUGE_TEXT: 1,
    DUPLICATE_ROW: 3,
    DUPLICATE_ID: 5,
}
KINDS = tuple(DECK)
EVERY = 100  # one broken row per block of this many rows
HUGE_TEXT_CHARS = 200_000
_HISTORY = 64  # recent rows that a duplicate may repeat

_LIKERT_WORDS = ("5/5", "tout à fait", "4,5", "NSP", "trois", "++")
_NUMBER_WORDS = ("trente", "quarante-deux", "35 ans", "NC", "soixante", "vingt et un")
_BAD_DATES = (
    "31/02/{year}", "hier", "", "{year}-02-30T10:00:00", "13/13/{year}", "0000-00-00 00:00:00",
    "le 3 mars vers 14h", "30 février", "{year}-04-31",
)  # fmt: skip
_ACCENTED_TAIL = " Merci d'avance, très cordialement."


@dataclass(frozen=True)
class Record:
    """A row on its way to a file; `malformed` names how it was broken, if it was."""

    row: dict[str, Any]
    malformed: str | None = None


def encode_line(line: str, malformed: str | None) -> bytes:
    """UTF-8 bytes of one serialized row; a BROKEN_UTF8 row is saved as Windows-1252.

    That is how invalid bytes really land in a UTF-8 export (a line pasted from an old
    tool). If the line had no character that encodes differently, a 0xFF byte (never
    valid in UTF-8) replaces its first space, so the row is always undecodable.
    """
    if malformed != BROKEN_UTF8:
        return line.encode("utf-8")
    data = line.encode("cp1252", errors="replace")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return data.replace(b" ", b"\xff", 1)


def _is_postcode(spec: FieldSpec) -> bool:
    return isinstance(spec.hierarchy, PostcodeFr)


def _retypable(spec: FieldSpec) -> bool:
    return spec.type in (FieldType.INTEGER, FieldType.NUMBER, FieldType.CATEGORY) or (
        _is_postcode(spec)
    )


class MalformedInjector:
    """Breaks ~1% of a row stream, deterministically for a seed; see `counts`."""

    def __init__(self, config: SourceConfig, seed: int, every: int = EVERY) -> None:
        if every < 2:
            raise ValueError(f"'every' must be >= 2 (one broken row per block), got {every}")
        self.config = config
        self.every = every
        self.rng = random.Random(f"malformed:{config.name}:{seed}")
        self.required = [f.name for f in config.fields if f.required]
        self.retypable = [f for f in config.fields if _retypable(f)]
        self.dates = [
            f.name for f in config.fields if f.type in (FieldType.DATE, FieldType.DATETIME)
        ]
        self.texts = [f.name for f in config.free_text_fields]
        applicable = {
            MISSING_REQUIRED: bool(self.required),
            WRONG_TYPE: bool(self.retypable),
            BAD_DATE: bool(self.dates),
            BROKEN_UTF8: bool(self.texts),
            HUGE_TEXT: bool(self.texts),
            DUPLICATE_ROW: True,
            DUPLICATE_ID: True,
        }
        self.kinds = tuple(kind for kind in KINDS if applicable[kind])
        self.counts: dict[str, int] = dict.fromkeys(self.kinds, 0)
        self._deck: list[str] = []
        self._history: deque[dict[str, Any]] = deque(maxlen=_HISTORY)

    def _draw(self) -> str:
        if not self._deck:
            self._deck = [kind for kind in self.kinds for _ in range(DECK[kind])]
            self.rng.shuffle(self._deck)
        return self._deck.pop()

    def apply(self, rows: Iterable[dict[str, Any]]) -> Iterator[Record]:
        """Yield every row as a Record, one in each block of `every` broken."""
        target = 0
        for index, row in enumerate(rows):
            offset = index % self.every
            if offset == 0:
                # Never the first row of a block, so a duplicate always has a predecessor.
                target = self.rng.randrange(1, self.every)
            if offset == target:
                kind = self._draw()
                self.counts[kind] += 1
                yield Record(self._break(kind, row), kind)
            else:
                self._history.append(row)
                yield Record(row)

    def _break(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        row = dict(row)
        if kind == MISSING_REQUIRED:
            for name in rng.sample(self.required, k=min(len(self.required), rng.choice((1, 1, 2)))):
                del row[name]
        elif kind == WRONG_TYPE:
            spec = rng.choice(self.retypable)
            row[spec.name] = self._wrong_value(spec, row.get(spec.name))
        elif kind == BAD_DATE:
            name = rng.choice(self.dates)
            year = str(row.get(name) or "2026")[:4]
            row[name] = rng.choice(_BAD_DATES).format(year=year)
        elif kind == BROKEN_UTF8:
            name = rng.choice(self.texts)
            text = row.get(name) or ""
            row[name] = text if not text.isascii() else text + _ACCENTED_TAIL
        elif kind == HUGE_TEXT:
            name = rng.choice(self.texts)
            paste = (row.get(name) or _ACCENTED_TAIL.strip()) + "\n"
            row[name] = (paste * (HUGE_TEXT_CHARS // len(paste) + 1))[:HUGE_TEXT_CHARS]
        elif kind == DUPLICATE_ROW:
            row = dict(rng.choice(self._history))
        else:  # DUPLICATE_ID
            id_field = self.config.id_field
            row[id_field] = rng.choice(self._history)[id_field]
        return row

    def _wrong_value(self, spec: FieldSpec, value: Any) -> Any:
        rng = self.rng
        if _is_postcode(spec):
            code = str(value or "75001")
            # A spreadsheet turned it into a number (losing a leading zero), or a typo.
            return rng.choice((int(code), f"{code[:2]} {code[2:]}", code + "0", code[:4]))
        if spec.type is FieldType.CATEGORY:
            allowed = set(spec.allowed or ())
            for candidate in rng.sample(
                (str(value).upper(), f" {value} ", "n/a", "Autre (préciser)", "?"), k=5
            ):
                if candidate not in allowed:
                    return candidate
        if spec.maximum is not None and spec.maximum <= 10:
            return rng.choice(_LIKERT_WORDS)
        return rng.choice(_NUMBER_WORDS)
