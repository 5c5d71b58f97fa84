"""Dates of birth, recognised by the words that announce them ("né le 3 janvier 1985").

A date on its own is rarely personal ("le 3 janvier, la rue était inondée"); a
date of birth is a quasi-identifier. So only a date that follows a birth cue is
detected, and the cue itself stays in the text: "née le <DATE_OF_BIRTH>".
Presidio's date recognizer knows neither French month names nor these cues.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import DATE_OF_BIRTH
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated
from include.anonymization.pii.recognizers.typos import one_typo_before_its_value, one_typo_pattern
from include.anonymization.pii.recognizers.words import LABEL_END

FR_MONTHS = (
    r"(?:janvier|janv\.?|f[ée]vrier|f[ée]vr?\.?|mars|avril|avr\.?|mai|juin|juillet|juil\.?"
    r"|ao[uû]t|septembre|sept?\.?|octobre|oct\.?|novembre|nov\.?|d[ée]cembre|d[ée]c\.?)"
)
_EN_MONTHS = (
    r"(?:january|jan\.?|february|feb\.?|march|mar\.?|april|apr\.?|may|june|jun\.?|july|jul\.?"
    r"|august|aug\.?|september|sept?\.?|october|oct\.?|november|nov\.?|december|dec\.?)"
)
# After a cue, a form's spaces may part the numbers too ("12 03 1985").
_NUMERIC_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|\d{1,2} \d{1,2} \d{4})"
)
_FR_DATE = rf"(?:{_NUMERIC_DATE}|(?:\d{{1,2}}|1er)\s+{FR_MONTHS}\s+(?:\d{{4}}|\d{{2}}(?!\d)))"
_EN_DATE = (
    rf"(?:{_NUMERIC_DATE}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_EN_MONTHS},?\s+\d{{4}}"
    rf"|{_EN_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
# One slip of the fingers allowed in "naissance" and "born" ("naissannce", "obrn"): a date
# must follow, which bounds what a slip may match.
_BIRTH = one_typo_pattern("naissance")
# The birthplace may come between the cue and the date, as the civil register writes it
# ("né à Lyon le 3 mars 1985", "née à Saint-Denis (La Réunion), le 12/03/1985", "born in
# Leeds on 3 March 1985"): a few words, no sentence's end, a comma only before "le".
_BIRTHPLACE = r"(?:\s+(?:{})\s+[^.!?\n,;]{{1,40}}?,?)?"
_FR_BIRTHPLACE = _BIRTHPLACE.format("à|a|en|au|aux")
_EN_BIRTHPLACE = _BIRTHPLACE.format("in|at")
_FR_CUE = (
    rf"(?:\bn[ée]e?s?(?:\(e\))?{_FR_BIRTHPLACE}\s+le(?:{LABEL_END})?"  # né le, née le, né(e) à X le
    # date de naiss., as forms abbreviate it; one slip in "date" ("Ma adte de naissance")
    rf"|\b{one_typo_before_its_value('date')}\s+de\s+(?:{_BIRTH}|nai?ss?\.)"
    # "date de naissance : le ...", "... est le ...", asked then given: "... ? C'est le ..."
    rf"(?:{LABEL_END}|\s+est|\s*\?(?:\s+c['’]est)?)?(?:\s+le)?"
    rf"|\b{_BIRTH}{LABEL_END}"
    rf"|\bDDN(?:{LABEL_END})?)"
)
_EN_CUE = (
    rf"(?:\b{one_typo_before_its_value('born')}{_EN_BIRTHPLACE}\s+(?:on\s+)?"
    rf"|\bdate\s+of\s+birth(?:{LABEL_END}|\s+is|\s*[.?]\s+it(?:['’]s|\s+is)|\s*\?)?"
    rf"|\bbirth\s*date(?:{LABEL_END})?|\bDOB(?:{LABEL_END})?)"
)

# What every date above starts with: a digit or an English month's first three letters.
# Tested first, it spares the look-behind (every cue, some with a typo, read backwards)
# at the positions where no date can start; it changes no match.
_DATE_START = r"(?=\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
# Both languages' cues apply to every text: a French date of birth quoted in an
# English message (or a misdetected language) must not slip through.
DATE_OF_BIRTH_REGEX = (
    rf"{_DATE_START}(?<=(?:{_FR_CUE}|{_EN_CUE})\s*)(?:{_FR_DATE}|{_EN_DATE})(?!\w)"
)


def birthdate_recognizer(language: str) -> PatternRecognizer:
    recognizer = PatternRecognizer(
        supported_entity=DATE_OF_BIRTH,
        name=f"{DATE_OF_BIRTH}_{language}",
        supported_language=language,
        patterns=[Pattern(name="cued_birth_date", regex=DATE_OF_BIRTH_REGEX, score=0.9)],
    )
    return gated(recognizer, HAS_DIGIT)  # every date has a year, or a day and a year
