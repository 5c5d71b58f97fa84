"""Names: spaCy's named-entity recognizer, cleaned up, plus the places letters put names.

The statistical model misses names it has never seen, names in capitals
("DUPONT Marie") and names in texts typed all in lower case; it also tags
"Monsieur", "Cordialement" or the "Jean Jaurès" of "rue Jean Jaurès" as people.
So three kinds of recognizers work together:
- the model's PER entities, cleaned: civilities and greetings trimmed off,
  street names and lower-case words (typos) dropped unless the whole text is in
  lower case;
- patterns after the cues that announce a name with near certainty ("Je
  m'appelle", "Madame", "M.", "Signé :", "my name is", the dash of a signature;
  one typo allowed in the longer cue words), for the signature line that ends a
  message ("Bien à vous, Inès Roux"), for a surname in capitals beside a first
  name, for an initial and a surname, and, in English texts only (there is no
  English NER model), for two capitalised words inside a sentence;
- for texts typed entirely in lower case, the same cues followed by words that
  are not common words (a name cannot be told apart by its capital there).
Cues of both languages apply to every text.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.recognizers.address import STREET_TYPES
from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.typos import is_typo_of_any, one_typo_pattern
from include.anonymization.pii.recognizers.words import (
    COMMON_WORDS,
    NAME_PARTICLES,
    NOT_NAMES,
    TITLES,
    alternation,
    typed_in_lower_case,
)

_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_LOWER = "a-zß-öø-ÿœ"

# What announces a name: introductions, civilities, signatures (case-insensitive). The
# long cue words are recognised with one slip ("je m'applele", "Maadame", "Monsieru");
# the short ones ("Mme", "M.", "Dr") have ordinary words one slip away, so they must be
# typed right. "my name is" tolerates a slip in "name": "my" and "is" bound it.
_CIVILITIES = one_typo_pattern("mademoiselle", "monsieur", "madame", "docteur")
_CUE_WORDS = (
    rf"je\s+m['’]{one_typo_pattern('appelle')}|je\s+me\s+nomme|je\s+suis|mon\s+nom\s+est"
    rf"|moi[\s,]+c['’]est|ici|{_CIVILITIES}|mme|mlle|mr?\.|mr|me\.|dr\.?|sign[ée](?:\s+par)?"
    r"|my\s+(?:name){e<=1}\s+is|i\s+am|mrs\.?|ms\.?|miss|signed(?:\s+by)?"
)
# A comma may separate only these from the name ("Ma voisine, Inès Roux, ...").
_NEIGHBOUR = (
    rf"(?:mon|ma|notre)\s+{one_typo_pattern('voisine', 'voisin')}"
    rf"|my\s+{one_typo_pattern('neighbour', 'neighbor')}"
)
# A cue word ends its word: "mon voisinage", "drôle" or "missing" announce nobody.
_WORD_END = r"(?!(?<=\w)\w)"
_CUE = (
    rf"(?:\b(?:{_CUE_WORDS}){_WORD_END}[ \t]*:?|\b(?:{_NEIGHBOUR}){_WORD_END}[ \t]*,?|[—–])[ \t]*"
)
# Closings after which the signature follows. A bare "merci" is not one: "merci de
# faire vite" goes on with ordinary words.
_CLOSINGS = (
    r"cordialement|bien\s+à\s+vous|merci\s+(?:beaucoup|d['’]avance|de\s+votre\s+retour)"
    r"|slt|salut|bonne\s+journée|thanks|thank\s+you|regards|best"
)

# -- names with capitals ------------------------------------------------------------------------
# Marie, Jean-Pierre, N'Diaye, O'Connor, LEFÈVRE, or an initial "J."
_NAME_WORD = (
    rf"(?:[{_UPPER}](?:(?:['’][{_UPPER}])?[{_LOWER}{_UPPER}]+"
    rf"(?:[\-'’][{_UPPER}][{_LOWER}{_UPPER}]+)*|\.))"
)
_PARTICLE = r"(?:de|du|des|le|la|van|von|da|di|dos|ben|el)"
_NAME = rf"(?-i:{_NAME_WORD}(?:[ \-](?:{_PARTICLE}\s)?{_NAME_WORD}){{0,3}})"
_CAPS_WORD = rf"[{_UPPER}]{{3,}}(?:-[{_UPPER}]{{2,}})?"
_CAPITALISED_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
# Acronyms that may stand beside a capitalised word without being a surname.
_ACRONYMS = "URGENT|SIRET|SIREN|IBAN|RIB|NIR|GRDF|ZFE|SNCF|RATP|HLM|SVP|EDF|CAF|TGV|RER|SAMU|PMR"
_NOT_NAME_START = alternation(NOT_NAMES)

# The capital is tested first: it rules out most positions before the long cue alternation
# (every typo of every cue word) is tried backwards.
PERSON_CUE_REGEX = rf"(?=(?-i:[{_UPPER}]))(?<={_CUE})(?!(?:{_NOT_NAME_START})\b){_NAME}(?!\w)"
# A line that is only a name, after a sentence, a closing or at the start of a line:
# the signature ("Merci d'avance. Victoire", "Cordialement Pierre-Yves", "QUINN Joel").
PERSON_SIGNATURE_REGEX = (
    rf"(?:(?<=[.!?,;:][ \t]+)|(?<=^[ \t]*)|(?<=\b(?:{_CLOSINGS})[.,!]*[ \t]+))"
    rf"(?!(?:{_NOT_NAME_START})\b){_NAME}(?=[ \t]*$)"
)
# In English texts (no English NER model): a first and last name inside a sentence,
# "the flat of Billy Lloyd", unless they name a street ("rue Pierre Brossolette").
_STREET_PREFIX = rf"\b(?:{'|'.join(STREET_TYPES)})\.?\s+(?:(?:de|du|des|la|le|les)\s+|[ld]['’])*"
PERSON_MID_SENTENCE_REGEX = (
    rf"(?<=(?-i:[a-z])[ \t])(?<!{_STREET_PREFIX})"
    rf"(?-i:{_CAPITALISED_WORD}[ \t]{_CAPITALISED_WORD})(?!\w)"
)
# An initial and a surname: "M. Poulain", "É. Collin" (a civility "M." is covered too).
PERSON_INITIAL_REGEX = rf"(?<!\w)(?-i:[{_UPPER}]\.[ \t]?{_CAPITALISED_WORD})(?!\w)"
# "DUPONT Marie" / "Marie DUPONT": a word in capitals beside a capitalised one that is
# not a common word ("Ici DUPONT Marie", "Merci GRDF").
_NOT_COMMON = rf"(?!(?i:{alternation(COMMON_WORDS)})(?![\w'’\-]))"
PERSON_CAPS_REGEX = (
    rf"(?<!\w)(?-i:(?!(?:{_ACRONYMS})\b){_CAPS_WORD}\s{_NOT_COMMON}{_CAPITALISED_WORD}"
    rf"|{_NOT_COMMON}{_CAPITALISED_WORD}\s(?!(?:{_ACRONYMS})\b){_CAPS_WORD})(?!\w)"
)


def person_cue_recognizer(language: str) -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity=PERSON,
        name=f"{PERSON}_cue_{language}",
        supported_language=language,
        patterns=[
            Pattern(name="name_after_cue", regex=PERSON_CUE_REGEX, score=0.8),
            Pattern(name="signature_line", regex=PERSON_SIGNATURE_REGEX, score=0.6),
            Pattern(name="surname_in_capitals", regex=PERSON_CAPS_REGEX, score=0.6),
            Pattern(name="initial_and_surname", regex=PERSON_INITIAL_REGEX, score=0.6),
            *(
                [Pattern(name="name_mid_sentence", regex=PERSON_MID_SENTENCE_REGEX, score=0.6)]
                if language == "en"
                else []
            ),
        ],
    )


# -- names typed in lower case ------------------------------------------------------------------
_ELIDED = re.compile(r"(?:[cdjlmnst]|qu)['’]")  # d'intervenir, l'école: never a name here
# A word, or an initial ("luc r."), then at most one space or tab.
_LOWER_WORD = re.compile(rf"([{_LOWER}](?:\.|[{_LOWER}]*(?:[\-'’][{_LOWER}]+)*))([ \t]?)")
_LOWER_CUE = re.compile(rf"{_CUE}(?=[{_LOWER}])")
_LOWER_CLOSING = re.compile(rf"\b(?:{_CLOSINGS})[ \t]*[.,!]*\s*(?=[{_LOWER}])")
_SEGMENT_START = re.compile(r"^[ \t]*|(?<=[.!?,;:])[ \t]+", re.MULTILINE)
_END_OF_LINE = re.compile(r"[ \t]*(?:\n|\Z)")
_MAX_NAME_WORDS = 3


_LOWER_CIVILITY = re.compile(
    rf"\b(?:{_CIVILITIES}|mme|mlle|mr?\.|mr|dr\.?|mrs\.?|ms\.?|miss){_WORD_END}", re.IGNORECASE
)


def _signed_surname_end(text: str, cue: re.Match[str]) -> int:
    """ "mme parent", "m. boulanger" signing a message: after a civility, one word alone at the
    end of its line is a surname even if it is also a common word. Elsewhere ("merci
    monsieur pour ...") such a word is not taken."""
    if not _LOWER_CIVILITY.search(cue.group(0)):
        return cue.end()
    match = _LOWER_WORD.match(text, cue.end())
    if match is None or not _END_OF_LINE.match(text, match.end(1)):
        return cue.end()
    word = match.group(1).rstrip(".")
    if word in NAME_PARTICLES or word in TITLES or _ELIDED.match(word):
        return cue.end()
    return match.end(1)


def _lower_name_end(text: str, start: int) -> int:
    """End of the run of uncommon words from `start` (particles allowed inside), or `start`."""
    end, names, pos = start, 0, start
    while names < _MAX_NAME_WORDS and (match := _LOWER_WORD.match(text, pos)):
        word = match.group(1).rstrip(".")
        if word not in NAME_PARTICLES:
            if word in COMMON_WORDS or _ELIDED.match(word):
                break
            names += 1
            end = match.end(1)
        pos = match.end()
        if not match.group(2):
            break
    return end


def _stands_as_a_name(text: str, start: int, end: int) -> bool:
    """Whether the uncommon words text[start:end], opening a sentence or a line, are a name.

    They are when they end their line (a signature), or when they are a known first
    name and a surname before a comma ("pierre diaz, 17 avenue louise michel"; not
    "pierre, papier, ciseaux").
    """
    if _END_OF_LINE.match(text, end):
        return True
    first = _LOWER_WORD.match(text, start)
    return (
        text.startswith(",", end)
        and first is not None
        and first.end(1) < end
        and is_first_name(first.group(1))
    )


class LowercaseNameRecognizer(LocalRecognizer):
    """Names in texts typed in lower case: after a cue or a closing, or alone on their line."""

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entities=[PERSON],
            supported_language=language,
            name=f"{PERSON}_lowercase_{language}",
        )

    def load(self) -> None:
        """Nothing to load: the word lists are module constants."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if not typed_in_lower_case(text):
            return []
        spans = []
        for cue in _LOWER_CUE.finditer(text):
            end = _lower_name_end(text, cue.end())
            if end == cue.end():
                end = _signed_surname_end(text, cue)
            if end > cue.end():
                spans.append((cue.end(), end, 0.7))
        # A signature: after a closing, or a whole sentence of uncommon words, ending its line;
        # or a first name and a surname opening a sentence.
        starts = [m.end() for m in _LOWER_CLOSING.finditer(text)]
        starts += [m.end() for m in _SEGMENT_START.finditer(text)]
        for start in starts:
            end = _lower_name_end(text, start)
            if end > start and _stands_as_a_name(text, start, end):
                spans.append((start, end, 0.6))
        return [
            RecognizerResult(
                PERSON,
                start,
                end,
                score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, score in spans
        ]


# -- the model's names, cleaned -----------------------------------------------------------------
_WORD_SPAN = re.compile(r"[\w'’.\-]+")
_AFTER_STREET_TYPE = re.compile(rf"{_STREET_PREFIX}\Z", re.IGNORECASE)


def _is_name_word(word: str, lower_case_text: bool) -> bool:
    """Whether a word of a PER span can be part of a name."""
    bare = word.lower().strip(".")
    if bare in COMMON_WORDS or any(char.isdigit() for char in word):
        return False  # "Monsieur", "Ici", "Cordialement", "FR76..." glued to a name by the model
    if is_typo_of_any(bare, NOT_NAMES):
        return False  # "Boonjour", "Mdaame": a greeting or civility mistyped is still not a name
    # In a text with capitals, "Malcolm Moore and I live at" ends at "and".
    return lower_case_text or not word.islower() or word in NAME_PARTICLES


def _name_within(text: str, start: int, end: int, lower_case_text: bool) -> tuple[int, int] | None:
    """The first run of name words in a PER span, or None if it has none."""
    run: list[tuple[int, int]] = []
    for match in _WORD_SPAN.finditer(text, start, end):
        if _is_name_word(match.group(), lower_case_text):
            run.append(match.span())
        elif run:
            break
    while run and text[run[-1][0] : run[-1][1]] in NAME_PARTICLES:
        run.pop()  # "Jean de" is not a longer name than "Jean"
    return (run[0][0], run[-1][1]) if run else None


class CleanedNerRecognizer(SpacyRecognizer):
    """spaCy's PER entities, minus what the French model typically gets wrong."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts)
        lower_case_text = typed_in_lower_case(text)
        kept = []
        for result in results:
            span = _name_within(text, result.start, result.end, lower_case_text)
            if span is None:
                continue  # only civilities, greetings or typos ("garee", "hbaitante")
            start, end = span
            if _AFTER_STREET_TYPE.search(text, max(0, start - 40), start):
                continue  # "rue Jean Jaurès": a place (an address with a number is caught apart)
            result.start, result.end = start, end
            kept.append(result)
        return kept


def person_ner_recognizer(language: str) -> SpacyRecognizer:
    return CleanedNerRecognizer(
        supported_language=language, supported_entities=[PERSON], name=f"{PERSON}_ner_{language}"
    )


def lowercase_name_recognizer(language: str) -> LocalRecognizer:
    return LowercaseNameRecognizer(language)
