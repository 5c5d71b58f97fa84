"""Names: spaCy's named-entity recognizer, cleaned up, plus the places letters put names.

The statistical model misses names it has never seen, names in capitals
("DUPONT Marie") and names in texts typed all in lower case; it also tags
"Monsieur", "Cordialement" or the "Jean Jaurès" of "rue Jean Jaurès" as people.
So three kinds of recognizers work together:
- the model's PER entities, cleaned: civilities and greetings trimmed off,
  street names and lower-case words (typos) dropped unless the whole text is in
  lower case; pieces of one name it split around a particle joined, and the
  other items of a list of the people it found (`enumerations`);
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
from presidio_analyzer import (
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS

from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.lean_analysis import run_patterns
from include.anonymization.pii.recognizers.address import ADDRESS_REGEX, STREET_TYPES
from include.anonymization.pii.recognizers.english_lexicon import is_ordinary_word
from include.anonymization.pii.recognizers.enumerations import enumerated_names
from include.anonymization.pii.recognizers.first_names import is_first_name
from include.anonymization.pii.recognizers.foreign_names import FOREIGN_NAME_REGEX
from include.anonymization.pii.recognizers.gates import gated, matches
from include.anonymization.pii.recognizers.name_shape import (
    ARTICLES,
    CONFIDENT_NAME_KEY,
    SELF_DESCRIPTION,
    after_one_of,
    is_confident_name,
    is_strong_name_word,
    name_span,
    names_a_place,
    names_no_one,
    said_of_the_writer,
    widen_name,
)
from include.anonymization.pii.recognizers.typos import one_typo_before_its_value, one_typo_pattern
from include.anonymization.pii.recognizers.words import (
    COMMON_WORDS,
    CONTACT_DETAILS,
    FIELD_START,
    FORM_LABELS,
    LABEL_END,
    LOWER_LETTERS,
    NAME_PARTICLES,
    NOT_NAMES,
    RESIDENT_WORDS,
    TITLES,
    UPPER_LETTERS,
    alternation,
    not_opened_by,
    typed_in_lower_case,
)

_UPPER = UPPER_LETTERS
_LOWER = LOWER_LETTERS

# What announces a name: introductions, civilities, signatures (case-insensitive). The
# long cue words are recognised with one slip ("je m'applele", "Maadame", "Monsieru");
# the short ones ("Mme", "M.", "Dr") have ordinary words one slip away, so they must be
# typed right. "my name is" tolerates a slip in "name", "je suis" one in "suis" ("je sis",
# "je suiss"): the words around bound it, and a capitalised name must follow.
_CIVILITIES = one_typo_pattern("mademoiselle", "monsieur", "madame", "docteur")
_CIVILITY = rf"(?:{_CIVILITIES}|mme|mlle|mr?\.|mr|dr\.?|mrs\.?|ms\.?|miss)"
_CUE_WORDS = (
    rf"je\s+m['’]{one_typo_pattern('appelle')}|je\s+me\s+nomme|mon\s+nom\s+est"
    rf"|moi[\s,]+c['’]est|ici|{_CIVILITY}|me\.|sign[ée](?:\s+par)?"
    rf"|my\s+{one_typo_before_its_value('name')}\s+is|signed(?:\s+by)?"
)
# A comma may separate only these from the name ("Ma voisine, Inès Roux, ...").
_NEIGHBOUR = (
    rf"(?:mon|ma|notre)\s+{one_typo_pattern('voisine', 'voisin')}"
    rf"|my\s+{one_typo_pattern('neighbour', 'neighbor')}"
)
# A cue word ends its word: "mon voisinage", "drôle" or "missing" announce nobody.
_WORD_END = r"(?!(?<=\w)\w)"
# A form's labels announce a name: "Nom : Lefort", "Prénom - Jenna", "Nom de jeune fille :
# Martin", "Last name: Okafor", "Her maiden name is Clark". A bare "Nom" or "Name" only
# opening its line, a sentence or a field ("... la mairie ? Nom : Baron", "... | Nom :
# Lefort"), or "Nom" with its capital anywhere (a form flattened into one line: "...
# rapidement Nom : Maillot Prénom : ..."): "Street name: Victoria Road" and "Nom du
# projet : …" name nobody. A colon (after a space, a no-break one in French typography),
# a dash or a tab follows.
_LABELS = (
    rf"(?:{FIELD_START}(?:nom|name)|(?-i:\b(?:Nom|NOM))"
    r"|\b(?:pr[ée]nom(?:\(s\))?|nom[ \t]+(?:de[ \t]+famille"
    r"|de[ \t]+naissance|de[ \t]+jeune[ \t]+fille|d['’]usage)"
    r"|(?:first|last|family|given|maiden|full)[ \t]+name|surname|forename))"
)
_LABEL_CUE = rf"{_LABELS}(?:{LABEL_END}|[ \t]+(?:est|is)[ \t]*)"
_CUE = (
    rf"(?:\b(?:{_CUE_WORDS}){_WORD_END}[ \t]*:?|\b(?:{_NEIGHBOUR}){_WORD_END}[ \t]*,?"
    rf"|{_LABEL_CUE})[ \t]*"
)
# Closings after which the signature follows. A bare "merci" is not one: "merci de
# faire vite" goes on with ordinary words. "Cordialement" with one slip ("Cordialeent")
# is still one, and no name beside a surname in capitals ("Cordialeent BLANC Jeannine").
_CORDIALEMENT = one_typo_pattern("cordialement")
_CLOSINGS = (
    rf"{_CORDIALEMENT}|bien\s+à\s+vous|merci\s+(?:beaucoup|d['’]avance|de\s+votre\s+retour)"
    r"|slt|salut|bonne\s+journée|thanks|thank\s+you|regards|best"
)

# -- names with capitals ------------------------------------------------------------------------
# Marie, Jean-Pierre, N'Diaye, O'Connor, LEFÈVRE, or an initial "J."
_NAME_WORD = (
    rf"(?:[{_UPPER}](?:(?:['’][{_UPPER}])?[{_LOWER}{_UPPER}]+"
    rf"(?:[\-'’][{_UPPER}][{_LOWER}{_UPPER}]+)*|\.))"
)
# One or two particles before a surname: "Vincent van Gogh", "Jean de La Fontaine".
_PARTICLES = r"(?:(?:de|du|des|le|la|van|von|da|di|dos|ben|el)\s){0,2}"
_NOT_NAME_START = alternation(NOT_NAMES)
# No word after the first is a civility, a greeting or a label ("LEFORT Prénom : Marc",
# "Marie Dupont Cordialement"); an initial may be ("Enzo M.").
_NAME = (
    rf"(?-i:{_NAME_WORD}(?:[ \-]{_PARTICLES}(?!(?i:{_NOT_NAME_START})(?![\w'’\-.])){_NAME_WORD})"
    r"{0,3})"
)
_CAPS_WORD = rf"[{_UPPER}]{{3,}}(?:-[{_UPPER}]{{2,}})?"
# A surname's particle in capitals with it: "LE GALL Nicolas", "Honoré DA SILVA".
_CAPS_PARTICLE = r"(?:(?:LE|LA|DE|DU|DA|DOS|DI|VAN|BEN|EL)[ \t])"
# "Mc" opens Irish and Scottish surnames ("McDonald", "McKenzie"): a capital inside the word.
_CAPITALISED_WORD = rf"(?:Mc)?[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
_GREETINGS = "bonjour|bonsoir|salut|coucou|hello|hi|hey|dear|cher|chère"
# Acronyms, greetings and a form's labels that may stand in capitals beside a capitalised
# word without being a surname ("Merci GRDF", "BONJOUR Marie", "PRENOM : Marie").
_ACRONYMS = (
    "URGENT|SIRET|SIREN|IBAN|RIB|NIR|GRDF|ZFE|SNCF|RATP|HLM|SVP|EDF|CAF|TGV|RER|SAMU|PMR"
    f"|MERCI|{_GREETINGS.upper()}|{alternation(FORM_LABELS).upper()}"
)
# The capital is tested first: it rules out most positions before the long cue alternation
# (every typo of every cue word) is tried backwards.
PERSON_CUE_REGEX = rf"(?=(?-i:[{_UPPER}]))(?<={_CUE})(?!(?:{_NOT_NAME_START})\b){_NAME}(?!\w)"
PERSON_SELF_DESCRIBED_REGEX = (
    rf"(?=(?-i:[{_UPPER}]))(?<={SELF_DESCRIPTION})(?!(?:{_NOT_NAME_START})\b){_NAME}(?!\w)"
)
# A line that is only a name, after a sentence, a closing, a dash, contact details or at
# the start of a line: the signature ("Merci d'avance. Victoire", "Cordialement
# Pierre-Yves", "QUINN Joel", "— Inès Roux", "timothee.barre@live.fr Timothée Barre"). A
# dash opening a line that goes on is a list item, not a name; a colon after words on the
# same line introduces a label's value ("Plus d'info: Doconomy", "Thème : Mobilité"), not
# a signature (a cue's colon, "Signé :", is the cue's). Nor is the last word of a wrapped
# line ("... mourir dans la dignité comme en⏎Belgique"): a line that ends on a preposition,
# an article or a conjunction goes on in the next one.
_MID_PHRASE_WORDS = (
    "à|au|aux|de|du|des|d['’]|en|dans|par|pour|sur|sous|avec|sans|chez|vers|comme|le|la"
    "|les|l['’]|un|une|et|ou|of|in|on|at|to|the|and|or|with|for|from|by"
)
PERSON_SIGNATURE_REGEX = (
    rf"(?:(?<=[.!?,;—–][ \t]+)|(?<=^[ \t]*)(?<!\b(?:{_MID_PHRASE_WORDS})[ \t]*\n[ \t]*)"
    rf"|(?<=\b(?:{_CLOSINGS})[.,!]*[ \t]+)"
    rf"|(?<={CONTACT_DETAILS}[ \t]+))"
    rf"(?!(?:{_NOT_NAME_START})\b){_NAME}(?=[ \t]*$)"
)
# A sender's block: a name opening a line, then a comma and their address ("Arnaude
# Barthelemy, 21 place des Roses - 92000 Nanterre."), as a letter is headed. Kept only if
# no word of it is an ordinary one ("Mairie de Lyon, 1 place ..." is a body, "Paris
# Habitat" a landlord): see `_every_word_a_name`.
PERSON_BEFORE_ADDRESS_REGEX = (
    rf"(?<=^[ \t]*)(?-i:{_NAME_WORD}(?:[ \-]{_PARTICLES}{_NAME_WORD}){{1,3}})"
    rf"(?=,[ \t]*{ADDRESS_REGEX})"
)
# In English texts (no English NER model): a first and last name inside a sentence,
# "the flat of Billy Lloyd", unless they name a street ("rue Pierre Brossolette").
_STREET_PREFIX = rf"\b(?:{'|'.join(STREET_TYPES)})\.?\s+(?:(?:de|du|des|la|le|les)\s+|[ld]['’])*"
PERSON_MID_SENTENCE_REGEX = (
    rf"(?<=(?-i:[a-z])[ \t])(?<!{_STREET_PREFIX})"
    rf"(?-i:{_CAPITALISED_WORD}[ \t]{_CAPITALISED_WORD})(?!\w)"
)
# A kinship or a role names the person who follows it: "son fils Samsu-iluna", "l'acteur
# River Phoenix", "le guitariste East Bay Ray", "le gouverneur babylonien Nabopolassar".
# One lower-case adjective may come between ("le brésilien", "chérusque"). The name still
# passes `name_shape` ("le roi Soleil" keeps its ordinary word).
_ROLES = (
    "fils", "fille", "frère", "frere", "sœur", "soeur", "père", "pere", "mère", "mere",
    "époux", "epoux", "épouse", "epouse", "mari", "oncle", "tante", "cousin", "cousine",
    "neveu", "nièce", "niece", "petit-fils", "petite-fille", "grand-père", "grand-mère",
    "beau-père", "belle-mère", "gendre", "belle-fille", "compagnon", "compagne",
    "acteur", "actrice", "chanteur", "chanteuse", "peintre", "sculpteur", "écrivain",
    "écrivaine", "auteur", "autrice", "poète", "poétesse", "romancier", "romancière",
    "réalisateur", "réalisatrice", "compositeur", "compositrice", "musicien", "musicienne",
    "guitariste", "batteur", "pianiste", "rappeur", "rappeuse", "joueur", "joueuse",
    "footballeur", "entraîneur", "pilote", "philosophe", "historien", "historienne",
    "architecte", "photographe", "journaliste", "avocat", "avocate", "gouverneur", "roi",
    "reine", "empereur", "impératrice", "pharaon", "prince", "princesse", "duc", "duchesse",
    "comte", "comtesse", "marquis", "marquise", "baron", "baronne", "général", "maréchal",
    "amiral", "capitaine", "colonel", "lieutenant", "sergent", "pape", "évêque", "sultan",
    "chef", "seigneur", "dieu", "déesse", "héros", "héroïne", "champion", "championne",
    "coéquipier", "coéquipière", "producteur", "productrice", "défenseur", "attaquant",
    "attaquante", "gardien", "gardienne", "catcheur", "catcheuse", "boxeur", "boxeuse",
    "cycliste", "nageur", "nageuse", "tennisman", "tenniswoman", "prophète", "ministre",
    "président", "présidente", "député", "députée", "sénateur", "sénatrice", "maire",
    "économiste", "sociologue", "chercheur", "chercheuse", "professeur", "professeure",
    "son", "daughter", "wife", "husband", "brother", "sister", "father", "mother", "actor",
    "actress", "singer", "painter", "writer", "player", "king", "queen",
    # Whom citizens write about: "Ma collègue Ninetta Raurica", "La locataire Folker Linke"
    # (the model missed Faker's Italian and German names after them 22 times in 800). Not
    # a landlord, an owner, a boss or a partner: a company as often ("le bailleur Paris
    # Habitat", "le propriétaire Foncia").
    "ami", "amie", "copain", "copine", "collègue", "femme", "conjoint", "conjointe",
    "locataire", "colocataire", "concierge", "friend", "colleague", "tenant", "girlfriend",
    "boyfriend", "flatmate", "roommate",
    # The rest of the family and who minds the children: "My aunt Silvana", "Mon enfant
    # Anastasie", "My grandson Beate" (Faker's German and Polish first names after them
    # were missed 20 to 27 times in 30). Not a godparent: "le parrain Carrefour" sponsors.
    "enfant", "nounou", "filleul", "filleule", "fiancé", "fiancée", "beau-frère",
    "belle-sœur", "belle-soeur", "demi-frère", "demi-sœur", "demi-soeur", "kid", "child",
    "grandson", "granddaughter", "grandchild", "grandmother", "grandfather", "aunt",
    "uncle", "nephew", "stepson", "stepdaughter", "stepfather", "stepmother", "fiance",
    "fiancee", "nanny", "babysitter",
)  # fmt: skip
PERSON_ROLE_REGEX = (
    rf"(?<=\b(?-i:{'|'.join(_ROLES)})(?:[ \t]+(?-i:[{_LOWER}]{{5,}}))?[ \t]+)"
    rf"(?-i:{_NAME})(?!\w)"
)
# A greeting addresses the person it names: "Bonjour Stéphanie,", "Salut Manon !", "Hi
# Lucy,". The name rules still apply: "Bonjour Monsieur le Maire," greets no one by name.
_VOCATIVE_END = r"[ \t]*(?:[,!]|$)"  # the comma or "!" after whom a greeting addresses
PERSON_GREETED_REGEX = (
    rf"(?<=\b(?:{_GREETINGS})[ \t]+)(?=(?-i:[{_UPPER}]))(?-i:{_NAME})(?={_VOCATIVE_END})"
)
# A surname with its particle after a civility: "Madame de La Roche", "M. de Villiers",
# "Mme d'Arcy". Only there: after another cue, "de" opens a place ("je suis de Lyon").
PERSON_PARTICLE_SURNAME_REGEX = (
    rf"(?<=\b{_CIVILITY}{_WORD_END}[ \t]+)"
    rf"(?-i:(?:d['’]|(?:de|du|des)[ \t]+(?:(?:la|le)[ \t]+)?)"
    rf"{_NAME_WORD}(?:[ \-]{_NAME_WORD})?)(?!\w)"
)
# An initial and a surname: "M. Poulain", "É. Collin" (a civility "M." is covered too).
PERSON_INITIAL_REGEX = rf"(?<!\w)(?-i:[{_UPPER}]\.[ \t]?{_CAPITALISED_WORD})(?!\w)"
# A first name, a middle initial and a surname, as English writes names ("Ruth R. Montez",
# "Shane M Culp"): "initial_and_surname" left the first name in clear, and an initial
# without its dot was read by no pattern. Not "A" or "I" without a dot, which English
# capitalises as words in titles ("Take A Look", "If I Were", "Act I Tour").
# Nor after a stop word ("Selon M. Dupont": "M." is a civility there).
_MIDDLE_INITIAL_NAME = (
    rf"{_CAPITALISED_WORD}[ \t](?:[{_UPPER}]\.|(?![AI][ \t])[{_UPPER}])[ \t]{_CAPITALISED_WORD}"
)
PERSON_MIDDLE_INITIAL_REGEX = (
    rf"(?<![\w.])(?=(?-i:{_MIDDLE_INITIAL_NAME})(?!\w))"
    rf"{not_opened_by(FRENCH_STOP_WORDS | ENGLISH_STOP_WORDS)}"
    rf"(?-i:{_MIDDLE_INITIAL_NAME})(?!\w)"
)
# "DUPONT Marie" / "Marie DUPONT": a word in capitals beside a capitalised one that is
# not a common word ("Ici DUPONT Marie", "Merci GRDF").
_NOT_COMMON = rf"(?!(?i:{alternation(COMMON_WORDS)})(?![\w'’\-]))"
# The look-ahead tests the shape first: the common-word alternation runs only where a word
# in capitals stands beside a capitalised one (47 -> 5 µs a text).
PERSON_CAPS_REGEX = (
    rf"(?<!\w)(?=(?-i:{_CAPS_PARTICLE}?{_CAPS_WORD}\s{_CAPITALISED_WORD}"
    rf"|{_CAPITALISED_WORD}\s{_CAPS_PARTICLE}?{_CAPS_WORD}))"
    rf"(?-i:{_CAPS_PARTICLE}?(?!(?:{_ACRONYMS})\b){_CAPS_WORD}\s{_NOT_COMMON}{_CAPITALISED_WORD}"
    rf"|{_NOT_COMMON}(?!(?i:{_CORDIALEMENT})\b){_CAPITALISED_WORD}\s{_CAPS_PARTICLE}?"
    rf"(?!(?:{_ACRONYMS})\b){_CAPS_WORD})(?!\w)"
)


# Patterns trusted as they stand: a cue or an initial announces a name with near certainty
# ("Madame Boulanger", "C. Poulain" are names even though "boulanger" and "poulain" are words).
_AFTER_CUE = "name_after_cue"
_CUED = frozenset({_AFTER_CUE, "initial_and_surname", "surname_with_particle"})
_SIGNATURE = "signature_line"
_INITIAL_AND_SURNAME = re.compile(PERSON_INITIAL_REGEX)
# A first name and the initial of a surname, the way a message is signed ("Aimé M.").
_WORD_AND_INITIAL = re.compile(rf"{_CAPITALISED_WORD}[ \t][{_UPPER}]\.")
_SURNAME_IN_CAPITALS = re.compile(PERSON_CAPS_REGEX)
# What may follow a signature at the end of a message: contact details, not words.
_CONTACT = re.compile(CONTACT_DETAILS)
_WORD_OF_THREE = re.compile(r"[^\W\d_]{3,}")


def _ends_the_message(text: str, end: int) -> bool:
    """Whether only contact details follow (a signature), not more prose (a heading)."""
    return not _WORD_OF_THREE.search(_CONTACT.sub(" ", text[end:]))


class NameShapedPatternRecognizer(PatternRecognizer):
    """The name patterns, each match held to the rules of `name_shape` unless a cue announced it."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        if regex_flags is None or regex_flags == self.global_regex_flags:
            results = run_patterns(self, text)  # Presidio's matching, without its overhead
        else:
            results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        lower_case_text = typed_in_lower_case(text)
        kept = []
        for result in results:
            pattern = result.analysis_explanation and result.analysis_explanation.pattern_name
            if pattern == _BEFORE_ADDRESS:
                if not _every_word_a_name(text[result.start : result.end], self.supported_language):
                    continue
            elif pattern in _CUED and names_no_one(text[result.start : result.end]):
                continue  # "Madame La Maire", "Signé : Collectif des riverains"
            elif pattern == _AFTER_CUE and _a_place_here(text, nlp_artifacts, result):
                continue  # "Ici Bordeaux, on attend le tram"
            elif pattern == _FOREIGN and _labelled(nlp_artifacts, result, _A_BODY):
                continue  # "Banská Bystrica", "Lech Poznań"
            elif not _trusted(text, result, pattern, self.supported_language):
                span = name_span(
                    text, result.start, result.end, self.supported_language, lower_case_text
                )
                if span is None:
                    continue
                if pattern == _CAPS_PATTERN and not _surname_is_strong(
                    text, *span, self.supported_language
                ):
                    continue  # "Focus SARGASSES": a heading, not "DUPONT Machin"
                result.start, result.end = span
            value = text[result.start : result.end]
            mark_confidence(result, pattern == _AFTER_CUE or is_confident_name(value))
            kept.append(result)
        return kept


_CAPS_PATTERN = "surname_in_capitals"
_SELF_DESCRIBED = "name_after_self_description"
_BEFORE_ADDRESS = "name_before_address"
_FOREIGN = "foreign_letters"
_CAPS_WORDS = re.compile(rf"(?<![\w'’\-]){_CAPS_WORD}(?![\w'’\-])")


def _every_word_a_name(value: str, language: str) -> bool:
    """Whether no word of `value` but its particles is an ordinary word, whatever its
    capital (a line's first words are capitalised anyway). A double-barrelled surname
    needs one name in it: "Pages-Fournier" is a name, though "pages" is a word."""
    return all(
        word.lower() in NAME_PARTICLES
        or not all(is_ordinary_word(part, language, capital_rarity=1.0) for part in word.split("-"))
        for word in re.split(r"[ \t]+", value)
    )


_AFTER_ICI = re.compile(r"\bici[ \t]*:?[ \t]*\Z", re.IGNORECASE)
_DESCRIBED_AS = re.compile(r",[ \t]*(\w+)")


def _a_place_here(text: str, nlp_artifacts: NlpArtifacts | None, result: RecognizerResult) -> bool:
    """Whether "Ici" announces a place ("Ici Bordeaux, on attend le tram"), as the model
    labels it (LOC). Not ORG: it labels "Ici LAINE Josette" so. After the other
    cues the model's LOC is as often a surname it does not know. Nor a surname in capitals
    beside a capitalised word: the model labels "DURAND" in "Ici DURAND Michelle" LOC; nor
    what the writer then says they are ("Ici Alexandria N'Diaye, riveraine de ...")."""
    if nlp_artifacts is None or not _AFTER_ICI.search(text, max(0, result.start - 8), result.start):
        return False
    if _SURNAME_IN_CAPITALS.fullmatch(text, result.start, result.end):
        return False
    described = _DESCRIBED_AS.match(text, result.end)
    if described and described.group(1).lower() in RESIDENT_WORDS:
        return False
    return _labelled(nlp_artifacts, result, _A_PLACE)


_A_PLACE = frozenset({"LOC"})
_A_BODY = frozenset({"ORG"})


def _labelled(
    nlp_artifacts: NlpArtifacts | None, result: RecognizerResult, labels: frozenset[str]
) -> bool:
    """Whether the model labels part of the match with one of `labels` (the doc's own
    entities: the artifacts' `entities` keep only the types the scrubber asks for)."""
    return nlp_artifacts is not None and any(
        entity.label_ in labels
        and entity.start_char < result.end
        and result.start < entity.end_char
        for entity in nlp_artifacts.tokens.ents
    )


def _after_a_closing(text: str, start: int) -> bool:
    """Whether a closing formula ("Bien à vous,", "Cordialement") ends right before `start`."""
    return _AFTER_A_CLOSING.search(text, max(0, start - _CLOSING_LOOK_BEHIND), start) is not None


def _surname_is_strong(text: str, start: int, end: int, language: str) -> bool:
    """Whether the word in capitals is a name word: a surname ("DUPONT", "LAFFONT"), not an
    ordinary word set in capitals for emphasis or a heading ("Focus SARGASSES")."""
    return any(
        is_strong_name_word(text, *word.span(), language)
        for word in _CAPS_WORDS.finditer(text, start, end)
    )


# The dash that opens a signature's line ("\n— Claire Marques").
_SIGNING_DASH = re.compile(r"(?:^|\n)[ \t]*[—–][ \t]*\Z")


def _trusted(text: str, result: RecognizerResult, pattern: str | None, language: str) -> bool:
    """Whether a match stands without the `name_shape` rules (they would refuse an ordinary word).

    A cue or an initial announces a name; a surname in capitals beside a known first name
    ("BIRCH Ben") is one, and so is one beside any capitalised word closing the message,
    after a closing ("Bien à vous, CARON Aimé") or if it is a surname ("... LAFFONT Lucie");
    a single capitalised word, alone or with an initial, closing the message after the
    prose ("Bien crdialement,\nAimé\n07 41 00 28 07", "Merci. Aimé M.") is a signature, not
    a heading; and so is a known first name with its surname after the dash that signs a
    message ("— Claire Marques": both are also ordinary words).
    """
    value = text[result.start : result.end]
    if pattern in _CUED or _INITIAL_AND_SURNAME.fullmatch(value):
        return True  # also on a signature line: Presidio keeps one of two equal matches
    if _SURNAME_IN_CAPITALS.fullmatch(value):
        return any(is_first_name(word) for word in value.split()) or (
            _ends_the_message(text, result.end)
            and (
                _after_a_closing(text, result.start)
                or _surname_is_strong(text, result.start, result.end, language)
            )
        )
    if pattern != _SIGNATURE or value.isupper() or not _ends_the_message(text, result.end):
        return False
    if _SIGNING_DASH.search(text, 0, result.start):
        return is_first_name(value.split()[0])
    return " " not in value or bool(_WORD_AND_INITIAL.fullmatch(value))


def mark_confidence(result: RecognizerResult, confident: bool) -> None:
    """Record whether a name may be re-redacted wherever it recurs (see `redaction`)."""
    result.recognition_metadata[CONFIDENT_NAME_KEY] = confident


def person_cue_recognizer(language: str) -> PatternRecognizer:
    return NameShapedPatternRecognizer(
        supported_entity=PERSON,
        name=f"{PERSON}_cue_{language}",
        supported_language=language,
        patterns=[
            Pattern(name=_AFTER_CUE, regex=PERSON_CUE_REGEX, score=0.8),
            Pattern(name=_SELF_DESCRIBED, regex=PERSON_SELF_DESCRIBED_REGEX, score=0.8),
            Pattern(name="signature_line", regex=PERSON_SIGNATURE_REGEX, score=0.6),
            Pattern(name=_CAPS_PATTERN, regex=PERSON_CAPS_REGEX, score=0.6),
            Pattern(name="initial_and_surname", regex=PERSON_INITIAL_REGEX, score=0.6),
            Pattern(name="surname_with_particle", regex=PERSON_PARTICLE_SURNAME_REGEX, score=0.8),
            Pattern(name="name_after_role", regex=PERSON_ROLE_REGEX, score=0.6),
            Pattern(name="name_after_greeting", regex=PERSON_GREETED_REGEX, score=0.6),
            Pattern(name=_BEFORE_ADDRESS, regex=PERSON_BEFORE_ADDRESS_REGEX, score=0.6),
            Pattern(name=_FOREIGN, regex=FOREIGN_NAME_REGEX, score=0.6),
            *(
                [Pattern(name="name_mid_sentence", regex=PERSON_MID_SENTENCE_REGEX, score=0.6)]
                if language == "en"
                else []
            ),
        ],
    )


def middle_initial_recognizer(language: str) -> PatternRecognizer:
    """Names with a middle initial, apart from the other name patterns: a recognizer drops
    the matches contained in a longer one of its own before the name rules trim that one
    ("Slt M. Carpentier" is trimmed to "Carpentier"; the cue's "M. Carpentier" must stay)."""
    recognizer = NameShapedPatternRecognizer(
        supported_entity=PERSON,
        name=f"{PERSON}_middle_initial_{language}",
        supported_language=language,
        patterns=[Pattern(name="middle_initial", regex=PERSON_MIDDLE_INITIAL_REGEX, score=0.6)],
    )
    # Every match holds its initial, maybe dotted, a space and the surname's first two letters.
    return gated(recognizer, matches(rf"(?-i:[{_UPPER}]\.?[ \t][{_UPPER}][{_LOWER}])"))


# -- names typed in lower case ------------------------------------------------------------------
_ELIDED = re.compile(r"(?:[cdjlmnst]|qu)['’]")  # d'intervenir, l'école: never a name here
# A word, or an initial ("luc r."), then at most one space or tab.
_LOWER_WORD = re.compile(rf"([{_LOWER}](?:\.|[{_LOWER}]*(?:[\-'’][{_LOWER}]+)*))([ \t]?)")
_LOWER_CUE = re.compile(rf"(?:{_CUE}|{SELF_DESCRIPTION})(?=[{_LOWER}])")
# "bonjour olivier," in lower case: a known first name must open it (no capital to go by).
_LOWER_GREETING = re.compile(rf"\b(?:{_GREETINGS})[ \t]+(?=[{_LOWER}])")
_VOCATIVE = re.compile(_VOCATIVE_END, re.MULTILINE)
_CLOSING = rf"\b(?:{_CLOSINGS}){_WORD_END}[ \t]*[.,!]*\s*"
_AFTER_A_CLOSING = re.compile(rf"{_CLOSING}\Z", re.IGNORECASE)
_A_CLOSING = re.compile(_CLOSINGS, re.IGNORECASE)
_CLOSING_LOOK_BEHIND = 40  # "Dans l'attente de votre retour, " and more
_LOWER_CLOSING = re.compile(rf"{_CLOSING}(?=[{_LOWER}])")
_SEGMENT_START = re.compile(r"^[ \t]*|(?<=[.!?,;:—–])[ \t]+", re.MULTILINE)
_END_OF_LINE = re.compile(r"[ \t]*(?:\n|\Z)")
_END_OF_LINE_OR_ADDRESS = re.compile(
    rf"[ \t]*(?:\n|\Z)|(?:,[ \t]*|[ \t]+(?:du|au)[ \t]+)(?={ADDRESS_REGEX})"
    r"|,[ \t]*(?:qui|dont|who|whose)\b",
    re.IGNORECASE | re.MULTILINE,
)
_MAX_NAME_WORDS = 3


_LOWER_CIVILITY = re.compile(rf"\b{_CIVILITY}{_WORD_END}", re.IGNORECASE)


def _signed_surname_end(text: str, cue: re.Match[str]) -> int:
    """ "mme parent", "m. boulanger" signing a message: after a civility, one word alone at the
    end of its line, before the comma or the "du" that opens an address ("mme parent, 6
    allée simone veil", "je suis m. vallée du 10, bd du 11 novembre"), or before a relative
    clause about its bearer ("monsieur chrétien, qui tient le commerce"), is a surname even
    if it is also a common word. Elsewhere ("merci monsieur pour ...") such a word is not
    taken."""
    if not _LOWER_CIVILITY.search(cue.group(0)):
        return cue.end()
    match = _LOWER_WORD.match(text, cue.end())
    if match is None or not _END_OF_LINE_OR_ADDRESS.match(text, match.end(1)):
        return cue.end()
    word = match.group(1).rstrip(".")
    if word in NAME_PARTICLES or word in TITLES or _ELIDED.match(word):
        return cue.end()
    return match.end(1)


def _first_name_after(text: str, word: re.Match[str]) -> bool:
    """Whether the word after `word` (a `_LOWER_WORD` match, a space after it) is a first name."""
    following = _LOWER_WORD.match(text, word.end()) if word.group(2) else None
    return following is not None and is_first_name(following.group(1))


def _lower_name_end(text: str, start: int, language: str) -> int:
    """End of the run of uncommon words from `start` (particles allowed inside), or `start`;
    the text is in `language`."""
    end, names, pos, after_first_name = start, 0, start, False
    while names < _MAX_NAME_WORDS and (match := _LOWER_WORD.match(text, pos)):
        word = match.group(1).rstrip(".")
        if len(match.group(1)) == 2 and match.group(1).endswith("."):
            if names:
                end = match.end(1)  # an initial ends the name: "lorraine l.", whatever "l" is
                break
            if not match.group(2):
                break
            pos = match.end()  # or opens it, kept if a surname follows: "l. diallo"
            continue
        if word not in NAME_PARTICLES:
            if word in COMMON_WORDS or _ELIDED.match(word):
                break
            # A surname may be an ordinary word ("charles sauvage"), after a first name, or
            # before one when the surname comes first ("signé: masse chloé").
            if (
                not after_first_name
                and is_ordinary_word(word, language)
                and not _first_name_after(text, match)
            ):
                break
            after_first_name = names == 0 and is_first_name(word)
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
    "pierre, papier, ciseaux"), or a surname and a first name ("camus zoé, 4 rue ...").
    A closing with a slip ("cordialeent") is no word of the lexicon, and signs nobody.
    """
    if _A_CLOSING.fullmatch(text, start, end):
        return False
    if _END_OF_LINE.match(text, end):
        return True
    words = [word.group(1) for word in _LOWER_WORD.finditer(text, start, end)]
    return (
        text.startswith(",", end)
        and len(words) > 1
        and (is_first_name(words[0]) or (len(words) == 2 and is_first_name(words[1])))
    )


# After these a first name is a thing, not a person: "une rose trémière", "en jean slim",
# "la marine marchande", "the mark on the wall".
_DETERMINERS = ARTICLES | {
    "les", "des", "en", "mon", "ma", "ta", "sa", "the", "a", "an", "my", "his", "her", "this",
    "that",
}  # fmt: skip


def _lower_full_names(text: str, language: str) -> list[tuple[int, int]]:
    """A known first name and a surname inside a sentence of a text in lower case ("the flat
    of joel burton", "la voiture de jean dupont"): the surname is no ordinary word (French
    lexicon, the English one too in an English text, stop words), no determiner comes before
    the first name, and no street or public-place word ("rue pierre brossolette", "collège
    jean moulin")."""
    spans = []
    for first in _LOWER_WORD.finditer(text):
        if not first[2] or not is_first_name(first[1]):
            continue
        if after_one_of(text, first.start(), _DETERMINERS) or names_a_place(text, first.start()):
            continue
        surname = _LOWER_WORD.match(text, first.end())
        word = surname[1].rstrip(".") if surname else ""
        if len(word) < 2 or word in COMMON_WORDS or word in NAME_PARTICLES:
            continue
        if _ELIDED.match(word) or is_ordinary_word(word, language):
            continue
        name_end = _lower_name_end(text, first.start(), language)
        spans.append((first.start(), max(surname.end(1), name_end)))
    return spans


def person_result(
    recognizer: EntityRecognizer, start: int, end: int, score: float, confident: bool | None = None
) -> RecognizerResult:
    """A PERSON result signed by `recognizer`; `confident` marks it for re-redaction."""
    metadata: dict[str, object] = {
        RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
    }
    if confident is not None:
        metadata[CONFIDENT_NAME_KEY] = confident
    return RecognizerResult(PERSON, start, end, score, recognition_metadata=metadata)


class LowercaseNameRecognizer(LocalRecognizer):
    """Names in texts typed in lower case: after a cue, a greeting or a closing, or alone on
    their line."""

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
        language = self.supported_language
        spans = []
        for cue in _LOWER_CUE.finditer(text):
            end = _lower_name_end(text, cue.end(), language)
            if end == cue.end():
                end = _signed_surname_end(text, cue)
            if end > cue.end() and not said_of_the_writer(text, cue.end(), end, language):
                spans.append((cue.end(), end, 0.7, True))
        for greeting in _LOWER_GREETING.finditer(text):
            end = _lower_name_end(text, greeting.end(), language)
            first = _LOWER_WORD.match(text, greeting.end())
            if end > greeting.end() and is_first_name(first[1]) and _VOCATIVE.match(text, end):
                spans.append((greeting.end(), end, 0.6, False))
        spans += [(start, end, 0.6, False) for start, end in _lower_full_names(text, language)]
        # A signature: after a closing, or a whole sentence of uncommon words, ending its line;
        # or a first name and a surname opening a sentence.
        starts = [m.end() for m in _LOWER_CLOSING.finditer(text)]
        starts += [m.end() for m in _SEGMENT_START.finditer(text)]
        for start in starts:
            end = _lower_name_end(text, start, language)
            if end > start and _stands_as_a_name(text, start, end):
                spans.append((start, end, 0.6, False))
        # A cue announced it (confident); a bare line may be a heading.
        return [
            person_result(self, start, end, score, confident=cued)
            for start, end, score, cued in spans
        ]


# -- the model's names, cleaned -----------------------------------------------------------------
# The model's other labels sometimes fall on a person ("Orlando Bloom" as MISC, "Paris
# Hilton" as ORG): such a span is taken when a known first name opens it.
_OTHER_LABELS = frozenset({"LOC", "MISC", "ORG"})
_MISLABELLED_SCORE = 0.6
_HOLIDAYS = frozenset({"noël"})
_OPENING_QUOTE = re.compile(r"[\"«“„] ?\Z")  # a title's, right before the word
_AFTER_EN = re.compile(r"\b[Ee]n \Z")
# Labels whose spans a list of names never spreads onto: towns, countries, bodies.
_PLACES_AND_BODIES = _A_PLACE | _A_BODY
# What may separate two pieces of one name the model tagged apart: a particle, with its
# article ("Gadifer" + "de" + "La Salle", "Gadifer" + "de la" + "Salle").
_SPLIT_PARTICLE = re.compile(
    r"[ \t]+(?:(?:de|van|von)(?:[ \t]+(?:la|le|der|den)[ \t]+|[ \t]+l['’]|[ \t]+)"
    r"|(?:du|des|da|di)[ \t]+|d['’])"
)


def join_split_names(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """The model's PER spans, those it cut in two around a particle joined.

    Both pieces are PER: the model took them for (parts of) one person's name, and a
    piece alone ("La Salle") is lost by the name rules.
    """
    joined: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: r.start):
        if joined and _one_name(text, joined[-1], result):
            joined[-1].end = max(joined[-1].end, result.end)
            continue
        joined.append(result)
    return joined


def _one_name(text: str, left: RecognizerResult, right: RecognizerResult) -> bool:
    return bool(_SPLIT_PARTICLE.fullmatch(text, left.end, right.start))


class CleanedNerRecognizer(SpacyRecognizer):
    """spaCy's PER entities, held to the rules of `name_shape`, plus first-name-led others and
    the other items of the lists of people it found (`enumerations`)."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = join_split_names(text, super().analyze(text, entities, nlp_artifacts))
        tagged = [(r.start, r.end) for r in results]
        if nlp_artifacts is not None and PERSON in entities:
            results += self._first_name_led(text, nlp_artifacts)
        lower_case_text = typed_in_lower_case(text)
        kept = []
        for result in results:
            language = self.supported_language
            span = name_span(text, result.start, result.end, language, lower_case_text)
            if span is None:
                continue  # civilities, greetings, ordinary words, acronyms, named places
            if not lower_case_text:
                span = widen_name(text, *span, language)
            result.start, result.end = span
            mark_confidence(result, is_confident_name(text[result.start : result.end]))
            kept.append(result)
        if nlp_artifacts is not None and not lower_case_text and kept:
            kept += self._listed_with_them(text, kept, tagged, nlp_artifacts)
        return kept

    def _listed_with_them(
        self,
        text: str,
        kept: list[RecognizerResult],
        tagged: list[tuple[int, int]],
        nlp_artifacts: NlpArtifacts,
    ) -> list[RecognizerResult]:
        """The other items of lists of names the model found in part (`enumerations`)."""
        others = [
            (ent.start_char, ent.end_char)
            for ent in nlp_artifacts.tokens.ents
            if ent.label_ in _PLACES_AND_BODIES
        ]
        people = [(r.start, r.end) for r in kept]
        listed = []
        for start, end in enumerated_names(
            text, people, others, tagged, language=self.supported_language
        ):
            result = person_result(self, start, end, _MISLABELLED_SCORE)
            mark_confidence(result, is_confident_name(text[start:end]))
            listed.append(result)
        return listed

    def _first_name_led(self, text: str, nlp_artifacts: NlpArtifacts) -> list[RecognizerResult]:
        """LOC, MISC and ORG spans of two words or more that a known first name opens, and
        a lone known first name labelled MISC (`_lone_first_name`)."""
        return [
            person_result(self, ent.start_char, ent.end_char, _MISLABELLED_SCORE)
            for ent in nlp_artifacts.tokens.ents
            if ent.label_ in _OTHER_LABELS
            and ent[0].text[:1].isupper()
            and is_first_name(ent[0].text)
            and not _OPENING_QUOTE.search(text, max(0, ent.start_char - 2), ent.start_char)
            and (len(ent) > 1 or _lone_first_name(text, ent.start_char, ent.end_char, ent.label_))
        ]


def _lone_first_name(text: str, start: int, end: int, label: str) -> bool:
    """Whether a known first name the model labelled alone is a person.

    The model labels a first name alone in a sentence MISC about as often as PER
    ("Manon a crié sur ma fille", "Merci à Julie"). One it labels a place is left: on
    12,600 WikiNEuRal sentences, such a word was a town far more often than a person
    ("à Nancy", "à Florence", "Austin au Texas", "en Virginie"). Nor is a MISC first
    name a person in capitals (an acronym, "OSCAR"), after "en" (a language or a
    region, "En Ruby"), or when it is "Noël", the holiday it mostly is alone. (Nor is
    any span a first name opens after an opening quote: a work's title, « Émile »,
    " Shaun of the Dead ".)
    """
    word = text[start:end]
    return (
        label == "MISC"
        and not word.isupper()
        and word.lower() not in _HOLIDAYS
        and not _AFTER_EN.search(text, max(0, start - 4), start)
    )


def person_ner_recognizer(language: str) -> SpacyRecognizer:
    return CleanedNerRecognizer(
        supported_language=language, supported_entities=[PERSON], name=f"{PERSON}_ner_{language}"
    )


def lowercase_name_recognizer(language: str) -> LocalRecognizer:
    return LowercaseNameRecognizer(language)
