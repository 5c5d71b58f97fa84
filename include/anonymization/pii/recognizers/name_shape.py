"""Whether a span taken for a person's name can be one: the rules every name detection passes.

Real citizen prose showed what the statistical NER and the signature patterns
take for names: verbs opening a proposal ("Interdire", "Taxer"), common nouns
with a capital ("Carbone", "Climat"), headings in capitals ("OBLIGATION"),
acronyms ("RIC", "CPAM"), function words ("des"), words glued by a missing
space ("verserLes"), institutions ("de la République") and places or bodies
named after someone ("collège Jean Moulin", "Fondation Nicolas Hulot"). The
rules, in the order they apply (the README lists them for users):
1. A name word starts with a capital (in a text typed with capitals), holds no
   digit, and is not a civility, a greeting, a title or a letter word
   ("Monsieur", "Cordialement", "maire", "riverain"; a letter word with a capital
   may end a name: "Alice Parent"); lower-case particles ("de", "van", "da") may
   sit inside a name, never at its ends; in a text typed in lower case, a stop
   word ("my", "et", "the") ends it.
2. A span keeps its first run of such words that holds at least one STRONG
   word: not an ordinary French word by the model's lexicon (`french_lexicon`;
   in an English text, nor an ordinary English word: `english_lexicon`; a word
   opening a sentence or a line, or written in capitals, counts as
   ordinary as soon as its lower-case form is the more frequent), not a
   French stop word, not a bare acronym, not an institution word. A
   capitalised English stop word may sit inside it ("Will Smith", "Brian May").
3. No name starts with "Saint" (places, companies, saints), a street word in lower
   case (the model tags "rue mozart" whole in a text typed in lower case) or with a people or
   a faith that is no first name ("French Air Force", "British Museum",
   "Catholic Church", "New York": bodies and places; "Christian Dupont" is
   a person, "WHITE Brett" a surname in capitals) or ends with an English
   place word ("Grace Street", "Beverly Hills", "Victoria Station"), and no name
   follows a street or public-place word ("rue", "place", "collège", "gare",
   "fondation"...): a public place named after someone is not personal data;
   a street becomes an address only with a house number (the address
   recognizer's job). "Place" in a locution ("à la place de", "prendre la
   place de", "en place", "sur place") and a word glued by a hyphen
   ("rez-de-chaussée") name no place.
4. A lone word after an article ("un Loto", "du Robert") is no name, nor a
   word opening a sentence in the imperative ("Consumons", "Rendez"), nor a
   Latin ordinal adverb numbering a list ("Primo :"), nor "Grace" before "au"
   or "à" (the locution "grâce à" typed without its accent), nor a lone word
   right before a link ("comme Algopack https://..."): it names the site.
5. After "je suis" / "I am", what the writer is is no name: a people, a faith,
   or an ordinary word whatever its capital ("Je suis Française", "I am British").
A surname right after a name word is never taken for a typo of a
greeting ("Tom Hanks" is no slip of "thanks"); a surname may carry a
lower-case prefix ("Jerald terHorst", "Tahir ul-Qadri"), never at a name's
start; a suffix ("Jr.") or a dotted initialism ("Louis C.K.") keeps its dot.
A name the model tagged in part is widened over the name words beside it
(`widen_name`).
A name is CONFIDENT when it holds a known first name and another strong or
capitalised word, or a surname in capitals beside a capitalised word: only
confident names are re-redacted wherever they recur (see `redaction`).
"""

from __future__ import annotations

import functools

import regex as re
from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS

from include.anonymization.pii.recognizers.address import STREET_TYPES
from include.anonymization.pii.recognizers.english_lexicon import is_ordinary_word
from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.french_lexicon import (
    CAPITAL_RARITY,
    frequency_rank,
    is_bare_acronym,
)
from include.anonymization.pii.recognizers.typos import is_typo_of_any, one_typo_before_its_value
from include.anonymization.pii.recognizers.words import (
    COMMON_WORDS,
    FORM_LABELS,
    LOWER_LETTERS,
    NAME_PARTICLES,
    NOT_NAMES,
    PEOPLES_AND_FAITHS,
    TITLES,
    UPPER_LETTERS,
)

# Institutions and collective names the model tags as people; never a name on their own.
_INSTITUTIONS = (
    "république", "état", "etat", "nation", "gouvernement", "parlement", "sénat", "senat",
    "assemblée", "assemblee", "conseil", "cour", "ministère", "ministere", "préfecture",
    "prefecture", "mairie", "région", "region", "département", "departement", "europe",
    "france", "union", "président", "présidente", "president",
)  # fmt: skip
INSTITUTION_WORDS = frozenset(_INSTITUTIONS)
# Public places and bodies that bear a person's name without being that person.
_NAMED_PLACES = (
    "collège", "college", "lycée", "lycee", "école", "ecole", "gare", "stade", "hôpital",
    "hopital", "clinique", "fondation", "institut", "musée", "musee", "théâtre", "theatre",
    "gymnase", "parc", "jardin", "salle", "médiathèque", "mediatheque",
    "bibliothèque", "bibliotheque", "comité", "comite", "université", "universite",
    "aéroport", "aeroport", "pont", "station", "métro", "metro", "piscine", "crèche",
    "creche", "maison", "espace", "groupe", "association", "loi", "commune", "ville",
    "village", "quartier",
)  # fmt: skip
NAMED_PLACE_WORDS = frozenset(_NAMED_PLACES) | frozenset(STREET_TYPES)
# English puts the place word after the name ("Grace Street", "Beverly Hills", "Victoria
# Station"). Not those that are common surnames too ("Hall", "Hill", "Lane", "Park").
_ENGLISH_PLACES_AFTER = frozenset(
    {"street", "road", "avenue", "square", "boulevard", "drive", "terrace",
     "gardens", "hills", "heights", "mountain", "mountains", "valley", "island", "beach",
     "county", "station", "airport", "hospital", "university", "college", "school",
     "stadium", "museum", "cathedral", "abbey", "palace", "tower", "centre", "center",
     "memorial"}
)  # fmt: skip
# The recognition-metadata key that marks a confident name (module doc).
CONFIDENT_NAME_KEY = "confident_name"
SAINT_WORDS = frozenset({"saint", "sainte", "st", "ste"})
# A civility abbreviation the model glues to a name ("Pr Fischer"): trimmed like "Dr".
_ABBREVIATED_TITLES = frozenset({"pr", "prof", "me", "mgr", "sr"})
# Words that follow "je suis" or open a letter ("riverain", "ici"): never part of a name.
_LETTER_WORDS = COMMON_WORDS - ENGLISH_STOP_WORDS - FRENCH_STOP_WORDS

_WORD = re.compile(r"[\w'’.\-]+")
# Where a capital says nothing about a name: a text's, a line's or a sentence's first word.
_OPENS = re.compile(r"(?:\A|[\n.!?:;—–•*>«(\"“])[ \t]*\Z")
# The place word right before the name; a street's articles may come between ("rue de la
# Paix", "gare de Lyon"), a public place's may not ("la fondation de Leonardo Dicaprio" is
# his foundation, the "Fondation Nicolas Hulot" is named after him).
# The word is no hyphenated compound's tail: the "chaussée" of "rez-de-chaussée" is no street
# ("l'avenue", "d'allée" keep theirs).
# On the same line only, and a dot only after an abbreviation ("av. Victor Hugo"): "sur la
# route. Marguerite Lelièvre" and "dans la rue⏎Jean Dupont" end a sentence, not a street.
_PLACE_BEFORE = re.compile(
    r"(?<![\w\-])(?P<word>[^\W\d_]+)(?P<dot>\.)?[ \t]+"
    r"(?P<articles>(?:(?:de|du|des|la|le|les)[ \t]+|[ld]['’][ \t]*)*)\Z",
    re.IGNORECASE,
)
_ABBREVIATED_STREETS = frozenset({"av", "ave", "bd", "bld", "pl", "imp", "ch", "rte"})
_STREETS = frozenset(STREET_TYPES) | {"gare"}
# "Place" in a locution, not a square: "à la place de" / "prendre la place de" (instead of),
# "en place", "sur place" (in office, on the spot). A square takes no "en" or "sur" alone.
_PLACE_LOCUTION = re.compile(
    r"(?:\b(?:à|pren\w*|pri[st]\w*)\s+la\s+place\s+(?:de\s+|d['’]\s*)|\b(?:en|sur)\s+place\s+)\Z",
    re.IGNORECASE,
)
_LOCUTION_LOOK_BEHIND = 12
_LOOK_BEHIND = 40
# A name word with its particle glued on: "d'Autriche", "l'Isle", "al-Sissi", "el-Assad".
_PARTICLE_GLUED = re.compile(rf"(?:[dl]['’]|al-|el-)[{UPPER_LETTERS}]")
_DOT_LETTER = re.compile(r"\.[^\W\d_]")
_DOTTED = re.compile(r"[^\W\d_]{2}\.[^\W\d_]")
_INITIAL = re.compile(rf"[{UPPER_LETTERS}]\.")
# A middle initial without its dot, before the surname ("Shane M Culp"); not "A" or "I"
# ("Paul A la mairie", its accent left out; "If I Were").
_DOTLESS_INITIAL = re.compile(
    rf"(?![AI][ \t])[{UPPER_LETTERS}](?=[ \t][{UPPER_LETTERS}][{LOWER_LETTERS}])"
)
# A dotted initialism ("C.K.", "J.R.R."): its last dot belongs to it, not to the sentence.
_INITIALISM = re.compile(rf"(?:[{UPPER_LETTERS}]\.){{2,}}")
# A surname with a lower-case prefix of one to three letters: "terHorst", "kaBhekuzulu",
# "ul-Qadri", "os-Saltaneh" (longer lower-case heads are words glued by a missing space,
# "verserLes").
_PREFIXED_SURNAME = re.compile(
    rf"[{LOWER_LETTERS}]{{1,3}}-?[{UPPER_LETTERS}][^\W\d_]+(?:-[^\W\d_]+)*"
)
# Latin ordinal adverbs that number the points of a list ("Primo : ...", "Secundo, ...").
_ORDINAL_ADVERBS = frozenset(
    {"primo", "secundo", "tertio", "quarto", "quinto", "sexto", "septimo", "deuxio", "troisio"}
)
# A word that, before these words, is a preposition typed without its accent: "Grace au
# numérique" is "grâce au numérique", no woman named Grace.
_UNACCENTED_LOCUTIONS = {"grace": frozenset({"à", "au", "aux"})}
_NEXT_WORD = re.compile(r"[ \t]+(?P<word>[^\W\d_]+)")
# A link right after a lone word: the word names the site or product the link points to.
_LINK_AFTER = re.compile(r"[ \t]*(?:\(|:)?[ \t]*(?:https?://|www\.)", re.IGNORECASE)


def _opens_a_sentence(text: str, start: int) -> bool:
    return bool(_OPENS.search(text, max(0, start - 4), start))


# Words recur from text to text: the per-word verdicts (typo distances, lexicon lookups) are
# pure functions of the word, so they are remembered.
_WORD_CACHE = 1 << 16


# The words a slip of the fingers turns a name into ("Boonjour", "Mdaame"); not a form's
# labels, which are typed right ("Moline" is a surname, not a slip of "mobile").
_TYPO_PRONE = NOT_NAMES - FORM_LABELS


@functools.lru_cache(maxsize=_WORD_CACHE)
def _is_stop(word: str, lower_case_text: bool, inside_a_name: bool = False) -> bool:
    """Rule 1: a word that ends a run of name words.

    Right after a name word a capitalised word is not suspected of being a typo of a
    greeting: "Tom Hanks" is one slip from "thanks"; "Boonjour" opening a letter is one.
    """
    stripped = word.strip(".'’-")
    bare = stripped.lower()
    if not bare or any(char.isdigit() for char in word):
        return True
    if _DOTTED.search(stripped) and not _INITIALISM.fullmatch(word):
        return True  # "jean.dupont", "example.fr", "Dev.Dur": a login, a domain, an abbreviation
    if bare in NAME_PARTICLES or _PARTICLE_GLUED.match(stripped):
        return False  # "van", "d'Autriche", "l'Isle", "al-Sissi"
    if bare in NOT_NAMES or bare in TITLES or bare in _ABBREVIATED_TITLES:
        return True
    if bare in _LETTER_WORDS and not (inside_a_name and stripped[0].isupper()):
        return True  # "je suis riverain"; but "Alice Parent", "Luc Content" are surnames
    if lower_case_text and (bare in FRENCH_STOP_WORDS or bare in ENGLISH_STOP_WORDS):
        return True  # no capital tells "my nmae is ruth sims and the bins" from a name there
    if not (inside_a_name and stripped[0].isupper()) and is_typo_of_any(bare, _TYPO_PRONE):
        return True  # "Boonjour", "Mdaame"
    if _PREFIXED_SURNAME.fullmatch(stripped):
        return False  # "terHorst", "ul-Qadri": never a name's first word (`name_span`)
    return not lower_case_text and not stripped[0].isupper()


@functools.lru_cache(maxsize=_WORD_CACHE)
def _is_strong(word: str, opens: bool, language: str) -> bool:
    """Rule 2: a word that makes its run a name, in a text in `language`."""
    bare = word.strip(".'’-")
    lower = bare.lower()
    if len(bare) < 2 or lower in NAME_PARTICLES or lower in INSTITUTION_WORDS:
        return False
    if lower in FRENCH_STOP_WORDS or lower in ENGLISH_STOP_WORDS:
        return False
    if is_first_name(lower):
        return True
    if is_bare_acronym(bare):
        return False
    # A capital that opens a sentence, or a word all in capitals, says nothing of a name.
    rarity = 1.0 if opens or (bare.isupper() and len(bare) > 1) else CAPITAL_RARITY
    return not is_ordinary_word(bare, language, rarity)


def name_span(
    text: str, start: int, end: int, language: str, lower_case_text: bool = False
) -> tuple[int, int] | None:
    """The part of text[start:end], in `language`, that can be a person's name (module
    rules), or None."""
    runs: list[list[tuple[int, int, bool]]] = [[]]
    for match in _WORD.finditer(text, start, end):
        word = match.group()
        if runs[-1] and (
            _INITIAL.fullmatch(word)
            or (len(word) == 1 and _DOTLESS_INITIAL.match(text, match.start()))
        ):
            runs[-1].append((*match.span(), False))  # "Russell M. Nelson": an initial, not "M."
            continue
        if _is_stop(word, lower_case_text, inside_a_name=bool(runs[-1])):
            runs.append([])
            continue
        opens = _opens_a_sentence(text, match.start())
        runs[-1].append((*match.span(), _is_strong(word, opens, language)))
    for run in runs:
        if not any(strong for _, _, strong in run):
            continue
        while run and _opens_with_lower_case(text[run[0][0] : run[0][1]], lower_case_text):
            run.pop(0)  # "de la République" (but "Ben Affleck", "Le Pen" keep their capital)
        if not any(strong for _, _, strong in run):
            continue
        while text[run[-1][0] : run[-1][1]].lower() in NAME_PARTICLES:
            run.pop()  # "Jean de" is not a longer name than "Jean"
        first_word = text[run[0][0] : run[0][1]].lower().strip(".")
        start, end = run[0][0], run[-1][1]
        if not _keeps_its_dot(text[run[-1][0] : end]):
            end = len(text[start:end].rstrip(".")) + start  # the sentence's full stop
        if first_word in SAINT_WORDS or names_a_place(text, start) or _glued(text, start, end):
            return None
        if _names_a_people(text[start : run[0][1]]):
            return None
        if first_word in _STREETS and text[start].islower():
            return None  # the model took the street with its name: "rue mozart"
        if len(run) > 1 and _ENGLISH_PLACE.fullmatch(text, run[-1][0], run[-1][1]):
            return None
        if len(run) == 1 and _lone_word_is_no_name(text, start, end):
            return None
        if said_of_the_writer(text, start, end, language):
            return None
        return start, end
    return None


# One word right after a name, a particle may come first ("Marat Safin", "Vincent van Gogh",
# "Arthur Rankin Jr."); one word right before it ("Bethanie Mattek-Sands").
_WORD_AFTER = re.compile(r"[ \t](?:(?P<particle>[a-z]+)[ \t])?(?P<word>[\w'’\-]+\.?)")
_WORD_BEFORE = re.compile(r"(?P<word>[\w'’\-]+)[ \t]\Z")
_SUFFIXES = frozenset({"jr.", "jr", "sr.", "ii", "iii"})
_LAST_WORD = re.compile(r"[\w'’.\-]+\Z")
_ONE_LETTER_END = re.compile(rf"(?<=[ \t])[{UPPER_LETTERS}]\Z")
_ELIDED_REST = re.compile(rf"[ \t]?['’][ \t]?[{UPPER_LETTERS}][^\W\d_]+(?:-[^\W\d_]+)*")
_APOSTROPHE_REST = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# "de", "du", "des" after a name usually start a place or a team ("de Montréal"): not these.
_FOREIGN_PARTICLES = NAME_PARTICLES - FRENCH_STOP_WORDS
_MAX_WIDENING = 3
ARTICLES = frozenset({"un", "une", "le", "la", "du", "au", "aux", "ce", "cet", "cette", "ces"})
_IMPERATIVE_ENDINGS = ("ons", "ez")
_INFINITIVE_ENDINGS = ("er", "re", "ir", "oir")


def widen_name(text: str, start: int, end: int, language: str) -> tuple[int, int]:
    """text[start:end], a name in a text in `language`, with the name words that stand
    right beside it.

    The model often tags only part of a name it half knows ("Tom" of "Tom Hanks",
    "Mattek-Sands" of "Bethanie Mattek-Sands"); the rest is redacted with it:
    after it, a STRONG word with a capital (rule 2), a suffix ("Jr.") or its dot, the
    rest of an Irish "O'" the tokenizer split ("Ronnie O 'Sullivan") or of a name the
    model cut at its apostrophe ("Michel Preud'" of "Preud'homme"), a surname
    with a lower-case prefix ("terHorst"), or, after a lone known first name, any
    capitalised word that is no stop, place or institution word ("Jean Moulin" the
    man: surnames are often ordinary words); before it, a capitalised STRONG word
    or a known first name that does not open the sentence.
    """
    if text.startswith(".", end) and _keeps_its_dot(_LAST_WORD.search(text, start, end + 1)[0]):
        end += 1  # "Arthur Rankin Jr" tagged without its suffix's dot
    if _ONE_LETTER_END.search(text, start, end) and (elided := _ELIDED_REST.match(text, end)):
        end = elided.end()  # "Ronnie O 'Sullivan": the tokenizer split the Irish "O'"
    if text[end - 1 : end] in ("'", "’") and (rest := _APOSTROPHE_REST.match(text, end)):
        end = rest.end()  # "Michel Preud'" tagged without the "homme" of "Preud'homme"
    for _ in range(_MAX_WIDENING):
        after = _WORD_AFTER.match(text, end)
        if after is None or (after["particle"] and after["particle"] not in _FOREIGN_PARTICLES):
            break
        word = after["word"]
        if word.lower() in _SUFFIXES:
            end = after.end()
            continue
        bare = word.rstrip(".")
        lone_first_name = not after["particle"] and _is_lone_first_name(text[start:end])
        if _PREFIXED_SURNAME.fullmatch(bare) and not after["particle"]:
            end = after.start("word") + len(bare)
            continue
        if not bare[:1].isupper() or _is_stop(bare, False, inside_a_name=True):
            break
        if not _is_strong(bare, False, language) and not (
            lone_first_name and _may_be_a_surname(bare)
        ):
            break
        end = after.start("word") + len(bare)
    for _ in range(_MAX_WIDENING):
        before = _WORD_BEFORE.search(text, max(0, start - _LOOK_BEHIND), start)
        if before is None:
            break
        word, at = before["word"], before.start("word")
        opens = _opens_a_sentence(text, at)
        if opens or not word[:1].isupper() or _is_stop(word, False):
            break
        if not (is_first_name(word) or _is_strong(word, False, language)) or names_a_place(
            text, at
        ):
            break
        start = at
    return start, end


def name_word_is_stop(word: str) -> bool:
    """Rule 1 for a word of a text typed with capitals: whether it cannot be a name word."""
    return _is_stop(word, False)


def is_strong_name_word(text: str, start: int, end: int, language: str) -> bool:
    """Rule 2 for text[start:end], in `language`: whether the word makes its run a name (a
    capital opening a sentence says nothing)."""
    return _is_strong(text[start:end], _opens_a_sentence(text, start), language)


def _is_lone_first_name(value: str) -> bool:
    return " " not in value and value[:1].isupper() and is_first_name(value)


_ENGLISH_PLACE = re.compile(
    rf"(?=(?-i:[{UPPER_LETTERS}]))(?i:{'|'.join(sorted(_ENGLISH_PLACES_AFTER))})"
)


def _names_a_people(word: str) -> bool:
    """Rule 3: a capitalised people or faith that is no first name ("French", "Catholic";
    not "Christian", nor "WHITE", a surname in capitals)."""
    return word.istitle() and word.lower() in PEOPLES_AND_FAITHS and not is_first_name(word)


def _may_be_a_surname(word: str) -> bool:
    """A capitalised ordinary word after a first name: a surname ("Moulin", "Charbon"),
    unless a stop, particle, institution, public-place or saint's word, or a bare acronym."""
    lower = word.lower()
    return not (
        lower in FRENCH_STOP_WORDS
        or lower in NAME_PARTICLES
        or lower in INSTITUTION_WORDS
        or lower in NAMED_PLACE_WORDS
        or lower in SAINT_WORDS
        or is_bare_acronym(word)
    )


def _after_an_article(text: str, start: int) -> bool:
    """Rule 4: "un Loto", "du Robert" (Le Robert, a commune), "au Yémen": a lone word after an
    article or a contracted one names a thing or a place; French puts none before a person's
    name ("les Dupont", the family, aside)."""
    return after_one_of(text, start, ARTICLES)


# "Je suis" and "I am" introduce a name as often as what the writer is: "Je suis
# Française", "Je suis Infirmière", "I am British", "I am Catholic" (people capitalise
# their status). One slip allowed in "suis" ("je sius"): the name after bounds it.
SELF_DESCRIPTION = (
    rf"\b(?:je\s+{one_typo_before_its_value('suis')}|i\s+am)(?!(?<=\w)\w)[ \t]*:?[ \t]*"
)
_AFTER_SELF_DESCRIPTION = re.compile(rf"{SELF_DESCRIPTION}\Z", re.IGNORECASE)
_SELF_DESCRIPTION_LOOK_BEHIND = 16


def said_of_the_writer(text: str, start: int, end: int, language: str) -> bool:
    """Rule 5: whether text[start:end], right after "je suis" / "I am", says what the writer
    is, not who: every word a people or a faith ("British", "French Canadian", "Catholic")
    or an ordinary French word whatever its capital ("Parisien", "Infirmière",
    "Retraitée"). The capital tells nothing there: people capitalise their status, and a
    demonym's capitalised noun ("les Parisiens") is frequent. A known first name is never
    an ordinary word ("Je suis Pierre")."""
    if not _AFTER_SELF_DESCRIPTION.search(
        text, max(0, start - _SELF_DESCRIPTION_LOOK_BEHIND), start
    ):
        return False
    return all(
        word.lower() in PEOPLES_AND_FAITHS or is_ordinary_word(word, language, capital_rarity=1.0)
        for word in re.split(r"[ \t\-]+", text[start:end])
    )


def word_before(text: str, start: int) -> str | None:
    """The word right before text[start], one space or tab between, or None."""
    before = _WORD_BEFORE.search(text, max(0, start - _LOOK_BEHIND), start)
    return None if before is None else before["word"]


def after_one_of(text: str, start: int, words: frozenset[str]) -> bool:
    """Whether the word right before text[start] is one of `words`."""
    return word_before(text, start) in words


def _is_a_verb(text: str, start: int, end: int) -> bool:
    """Rule 4 too: "Consumons mieux", "Rendez public ...": a lone word opening a sentence in the
    imperative's -ons or -ez, whose infinitive the lexicon knows better than the word itself
    ("consumer", "rendre"; "Perez" and "Martinez" are more frequent than any such verb)."""
    if not _opens_a_sentence(text, start):
        return False
    word = text[start:end]
    for ending in _IMPERATIVE_ENDINGS:
        if not word.lower().endswith(ending):
            continue
        stem = word.lower()[: -len(ending)]
        own_rank = frequency_rank(word)
        for infinitive in (stem + tail for tail in _INFINITIVE_ENDINGS):
            rank = frequency_rank(infinitive)
            if rank is not None and (own_rank is None or rank < own_rank):
                return True
    return False


def _glued(text: str, start: int, end: int) -> bool:
    """Part of a longer token: "Dev.Dur", "Economie/France", a path or a URL."""
    before = text[start - 1] if start else " "
    after = text[end : end + 2]
    return before in "/\\_@" or after[:1] in ("/", "\\", "_", "@") or bool(_DOT_LETTER.match(after))


def _is_lower_filler(word: str) -> bool:
    return word.islower() and (word in NAME_PARTICLES or word in FRENCH_STOP_WORDS)


def _opens_with_lower_case(word: str, lower_case_text: bool) -> bool:
    """A word that cannot open a name: a lower-case particle or stop word, or a prefixed
    surname ("terHorst" follows a first name; "ex-Président" is no name's start)."""
    return _is_lower_filler(word) or (
        not lower_case_text and bool(_PREFIXED_SURNAME.fullmatch(word.strip(".'’-")))
    )


def _keeps_its_dot(last_word: str) -> bool:
    """Whether the name's last word owns its final dot: an initial ("Russell M."), a dotted
    initialism ("Louis C.K.") or a suffix ("Arthur Rankin Jr."), not the sentence's stop."""
    return bool(
        _INITIAL.fullmatch(last_word)
        or _INITIALISM.fullmatch(last_word)
        or last_word.lower() in _SUFFIXES
    )


def _lone_word_is_no_name(text: str, start: int, end: int) -> bool:
    """Rule 4: a lone word after an article, an imperative opening a sentence, a Latin
    ordinal adverb numbering a list, the unaccented "grace" of "grâce à", a site's name."""
    word = text[start:end].lower()
    if word in _ORDINAL_ADVERBS:
        return True
    if _LINK_AFTER.match(text, end) and not is_first_name(word):
        return True  # a first name before a link is someone's page
    next_word = _NEXT_WORD.match(text, end)
    if next_word and next_word["word"].lower() in _UNACCENTED_LOCUTIONS.get(word, ()):
        return True
    return _after_an_article(text, start) or _is_a_verb(text, start, end)


def names_a_place(text: str, start: int) -> bool:
    """Rule 3: "rue Jean Jaurès", "collège Jean Moulin", "gare de Lyon", "Fondation N. Hulot"."""
    before = _PLACE_BEFORE.search(text, max(0, start - _LOOK_BEHIND), start)
    if before is None:
        return False
    word = before.group("word").lower()
    if before.group("dot") and word not in _ABBREVIATED_STREETS:
        return False  # "... sur la route. Marguerite": the dot ends a sentence
    if word == "place" and _PLACE_LOCUTION.search(
        text, max(0, before.start() - _LOCUTION_LOOK_BEHIND), start
    ):
        return False  # "à la place de Robbie Keane", "l'entraîneur en place X": not a square
    return word in (_STREETS if before.group("articles") else NAMED_PLACE_WORDS)


# What signs a message for a group, not a person: "Signé : Collectif des riverains", "Signed:
# The Residents Association".
_COLLECTIVES = frozenset(
    {"collectif", "comité", "comite", "amicale", "syndicat", "fédération", "federation",
     "coordination", "club", "équipe", "equipe", "habitants", "riverains", "résidents",
     "residents", "voisins", "committee", "council", "group", "team", "neighbours",
     "neighbors"}
)  # fmt: skip
_DETERMINERS_OF_GROUPS = frozenset({"the", "a", "an", "our", "this", "these", "those"})


def names_no_one(value: str) -> bool:
    """Whether what a cue announced is no one's name (the cue is trusted, not the words):
    only articles, particles and titles ("Madame La Maire", "Monsieur Le Préfet", "Signé :
    Les habitants"), or a group ("Signé : Collectif des riverains", "Association Vélo
    Paris", "Signed: The Residents Association")."""
    words = [word.lower() for word in re.split(r"[ \t\-]+", value) if word]
    if not words:
        return True
    if words[0] in _COLLECTIVES or words[0] in _DETERMINERS_OF_GROUPS:
        return True
    if words[0] in INSTITUTION_WORDS or words[0] in NAMED_PLACE_WORDS:
        return True
    return all(
        word in NAME_PARTICLES or word in TITLES or word in FRENCH_STOP_WORDS for word in words
    )


def is_confident_name(value: str) -> bool:
    """A first name with another capitalised word, or a surname in capitals beside one."""
    words = [w.strip(".") for w in _WORD.findall(value) if w.lower() not in NAME_PARTICLES]
    capitalised = [w for w in words if len(w) > 1 and w[0].isupper()]
    if len(capitalised) < 2 or capitalised[0].lower() in SAINT_WORDS:
        return False
    if any(is_first_name(w) for w in capitalised):
        return True
    return any(w.isupper() and len(w) > 2 for w in capitalised) and any(
        not w.isupper() for w in capitalised
    )
