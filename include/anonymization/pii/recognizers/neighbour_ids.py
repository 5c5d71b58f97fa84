"""National numbers of France's French-speaking neighbours: Belgium's and Switzerland's.

Their residents write to French cities across the border (Lille's, Geneva's
neighbours), and give the number their own administration asks for. Each number
names one person for life, and each carries a check that python-stdnum verifies:

- Belgium's national register number (numéro de registre national, NISS): birth date,
  order number and a mod-97 key, printed "85.07.30-033.28" on the eID card. The date
  must be one too, so an 11-digit phone number with its country code ("33612345678",
  month 61) fails as well as the key.
- Switzerland's AVS / AHV number: 756 (the country), nine digits and an EAN-13 check
  digit, printed "756.1234.5678.97".

As for the French tax number, the check decides without a cue word: neither shape is
an amount's or a date's.
"""

from __future__ import annotations

from presidio_analyzer import PatternRecognizer
from stdnum.be import nn
from stdnum.ch import ssn

from include.anonymization.pii.entities import BE_NATIONAL_NUMBER, CH_AVS_NUMBER
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated
from include.anonymization.pii.recognizers.identifiers import ChecksumRecognizer

# Not the middle or tail of a longer number.
_START = r"(?<![\w.])(?<!\d[ .\-])"
_END = r"(?![ .\-]?\d)(?!\w)"
BE_NATIONAL_NUMBER_REGEX = (
    rf"{_START}\d{{2}}[ .]?\d{{2}}[ .]?\d{{2}}[ .\-]?\d{{3}}[ .\-]?\d{{2}}{_END}"
)
CH_AVS_NUMBER_REGEX = rf"{_START}756[ .]?\d{{4}}[ .]?\d{{4}}[ .]?\d{{2}}{_END}"

CONTEXT: dict[str, dict[str, list[str]]] = {
    "fr": {
        BE_NATIONAL_NUMBER: ["registre", "national", "niss", "belge", "eid"],
        CH_AVS_NUMBER: ["avs", "ahv", "assurance", "suisse"],
    },
    "en": {
        BE_NATIONAL_NUMBER: ["register", "national", "niss", "belgian", "eid"],
        CH_AVS_NUMBER: ["avs", "ahv", "social", "swiss"],
    },
}


_NUMBERS = (
    (BE_NATIONAL_NUMBER, BE_NATIONAL_NUMBER_REGEX, nn.is_valid),
    (CH_AVS_NUMBER, CH_AVS_NUMBER_REGEX, ssn.is_valid),
)


def neighbour_id_recognizers(language: str) -> list[PatternRecognizer]:
    return [
        gated(
            ChecksumRecognizer(
                entity=entity,
                language=language,
                regex=regex,
                is_valid=is_valid,
                context=CONTEXT[language][entity],
            ),
            HAS_DIGIT,
        )
        for entity, regex, is_valid in _NUMBERS
    ]
