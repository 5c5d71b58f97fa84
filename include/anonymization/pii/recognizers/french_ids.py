"""French personal identifiers Presidio does not know: ID card, passport, tax, CAF, licence numbers.

Only the tax number (numéro fiscal, SPI) carries a check digit, verified with
python-stdnum. The others are shapes that ordinary numbers share (7 or 12 digits,
"12AB34567"), so a cue word ("CAF", "allocataire", "passeport", "permis", "carte
d'identité") among the five words before them decides their type, and, for the
shapes prose is full of (7 digits, 9 letters and digits), whether they are kept
at all: "numéro allocataire 1234567" is redacted, "1234567 habitants" is not.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer
from stdnum.fr import nif

from include.anonymization.pii.entities import (
    FR_CAF_NUMBER,
    FR_DRIVING_LICENCE,
    FR_ID_CARD,
    FR_PASSPORT,
    FR_TAX_ID,
)
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated
from include.anonymization.pii.recognizers.identifiers import ChecksumRecognizer

# Not the middle or tail of a longer number ("4970 1012 3456 7896" holds no 12-digit licence).
_START = r"(?<![\w.])(?<!\d[ .\-])"
# Numéro fiscal: 13 digits, the first 0-3, printed "1234567890123" or "12 34 567 890 123".
TAX_ID_REGEX = _START + r"[0-3]\d ?\d{2} ?\d{3} ?\d{3} ?\d{3}(?![ .]?\d)(?!\w)"
# Old card (1988-2021): year and month of issue, département + office (3), order (5).
OLD_ID_CARD_REGEX = _START + r"\d{4} ?[0-9]{2}[0-9AB] ?\d{5}(?![ .]?\d)(?!\w)"
# New card (since 2021): 9 capital letters and digits, at least one of each.
NEW_ID_CARD_REGEX = r"(?<!\w)(?-i:(?=[A-Z]*\d)(?=\d*[A-Z])[A-Z0-9]{9})(?!\w)"
# Passport, and the European-format driving licence: 2 digits, 2 letters, 5 digits.
PASSPORT_REGEX = r"(?<!\w)\d{2} ?(?-i:[A-Z]{2}) ?\d{5}(?!\w)"
# Pre-2013 pink licence: 12 digits (sometimes grouped by 2 or 4).
OLD_LICENCE_REGEX = _START + r"\d{2}(?:[ ]?\d{2}){5}(?![ .]?\d)(?!\w)"
# CAF allocataire number: 7 digits.
CAF_REGEX = _START + r"(?<!,)\d{7}(?![.,]?\d)(?!\w)"

_CUED = 0.3  # below the threshold: these need their cue word (+0.35)
# Shapes ordinary prose does not have (2 digits, 2 capitals, 5 digits; 12 digits in a row,
# which the publication gate blocks anyway) are kept without their cue, which only
# decides the type: a typo in "passeport" must not publish the number.
_SHAPE = 0.5

# Stems, several per cue where one typo could spoil a single one ("alocataire" still
# holds "cataire", "alloataire" "ataire"; "carte d'identiet" still holds "carte").
CONTEXT: dict[str, dict[str, list[str]]] = {
    "fr": {
        FR_ID_CARD: ["ident", "cni", "carte", "pièce", "piece"],
        FR_PASSPORT: ["passep", "sepor", "passport"],
        FR_TAX_ID: ["fiscal", "impôt", "impot", "spi", "contribuable"],
        FR_CAF_NUMBER: ["caf", "alloc", "cataire", "ataire", "msa"],
        FR_DRIVING_LICENCE: ["permis", "conduire", "conduite"],
    },
    "en": {
        FR_ID_CARD: ["identity", "ident", "tity", "card", "cni"],
        FR_PASSPORT: ["passport", "passp"],
        FR_TAX_ID: ["tax", "fiscal", "spi"],
        FR_CAF_NUMBER: ["caf", "allocataire", "benefit"],
        FR_DRIVING_LICENCE: ["licence", "license", "driving", "driver"],
    },
}


def _cued(entity: str, language: str, patterns: list[Pattern]) -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity=entity,
        name=f"{entity}_{language}",
        supported_language=language,
        patterns=patterns,
        context=CONTEXT[language][entity],
    )


def french_id_recognizers(language: str) -> list[PatternRecognizer]:
    """The recognizers of this module for `language` (its cue words).

    Every pattern here has digits (the new ID card at least one, by its look-ahead).
    """
    recognizers = [
        ChecksumRecognizer(
            entity=FR_TAX_ID,
            language=language,
            regex=TAX_ID_REGEX,
            is_valid=nif.is_valid,
            context=CONTEXT[language][FR_TAX_ID],
        ),
        _cued(
            FR_ID_CARD,
            language,
            [
                Pattern(name="old_cni", regex=OLD_ID_CARD_REGEX, score=_SHAPE),
                Pattern(name="new_cni", regex=NEW_ID_CARD_REGEX, score=_CUED),
            ],
        ),
        _cued(
            FR_PASSPORT, language, [Pattern(name="passport", regex=PASSPORT_REGEX, score=_SHAPE)]
        ),
        _cued(
            FR_DRIVING_LICENCE,
            language,
            [
                Pattern(name="eu_licence", regex=PASSPORT_REGEX, score=_SHAPE),
                Pattern(name="old_licence", regex=OLD_LICENCE_REGEX, score=_SHAPE),
            ],
        ),
        _cued(FR_CAF_NUMBER, language, [Pattern(name="caf", regex=CAF_REGEX, score=_CUED)]),
    ]
    return [gated(recognizer, HAS_DIGIT) for recognizer in recognizers]
