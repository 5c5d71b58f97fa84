"""Names spelt with letters French never writes: "Elżbieta Szczerek", "Ivona Kovář".

The French model misses many foreign names it has never seen, and the first-name list
cannot hold every language's names. But a capitalised word holding a letter that French
spelling never uses (Polish "ł", Czech "ř", Turkish "ş" and "ı", Spanish "ñ" and "á",
Portuguese "ã", Vietnamese "đ"...) beside another capitalised word is a foreign proper
name; in WikiNEuRal's French sentences such pairs are persons 211 times out of 250, and
the others are foreign towns and clubs ("Banská Bystrica", "Lech Poznań"). Those the
model labels an organisation are left to it (`person`); it labels foreign persons LOC
as often as towns, so a town of two words is redacted as a name: over-redaction, where
the other way publishes a person. None is in the citizen texts.
"""

from __future__ import annotations

from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS

from include.anonymization.pii.recognizers.words import not_opened_by

# Latin letters with a diacritic that French spelling never uses (French has à â ä ç é è ê
# ë î ï ô ö ù û ü ÿ æ œ), and the dotless/dotted i of Turkish.
_FOREIGN_LETTERS = "áíóúýìòãõñåøßđąćęłńśźżčďěňřšťůžőűășțşğıÁÍÓÚÝÌÒÃÕÑÅØĐĄĆĘŁŃŚŹŻČĎĚŇŘŠŤŮŽŐŰĂȘȚŞĞİ"
_NAME_LETTER = r"[\p{L}'’]"
_CAPITALISED = rf"\p{{Lu}}{_NAME_LETTER}+(?:-\p{{Lu}}{_NAME_LETTER}+)?"
_WITH_A_FOREIGN_LETTER = (
    rf"(?=\p{{Lu}}{_NAME_LETTER}*[{_FOREIGN_LETTERS}]|[{_FOREIGN_LETTERS}]){_CAPITALISED}"
)
# A French word opening a sentence is no part of the name ("De Gdańsk", "Au Yucatán"), nor
# is an elided one ("J'habite Hauptstraße 12": "N'Diaye", "O'Brien" keep their capital).
_NOT_A_STOP_WORD = rf"{not_opened_by(frozenset(FRENCH_STOP_WORDS))}(?!\p{{Lu}}['’]\p{{Ll}})"
# Two or three capitalised words, one of them with such a letter (the look-ahead finds it
# within the span before the words are matched). Case-sensitive whatever the caller's flags.
FOREIGN_NAME_REGEX = (
    rf"(?-i:(?<![\p{{L}}\-'’])(?=(?:{_CAPITALISED}[ \t]){{0,2}}{_WITH_A_FOREIGN_LETTER})"
    rf"{_NOT_A_STOP_WORD}{_CAPITALISED}(?:[ \t]{_CAPITALISED}){{1,2}}(?![\p{{L}}\-'’]))"
)
