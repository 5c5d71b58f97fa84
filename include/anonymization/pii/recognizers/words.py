"""Word lists shared by the recognizers that must tell a name from an ordinary word.

In a text typed in lower case, a name ("rue marcel pagnol", "je suis aimée
barbier") can only be told apart from the surrounding words by not being one of
the language's common words; spaCy's stop-word lists are that, plus the words
that typically follow "je suis" / "ici" in a letter to the city.
"""

from __future__ import annotations

import regex
from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS

from include.anonymization.pii.recognizers.last_text import LastTextMemo

# Capitals and lower-case letters as the name patterns' character classes spell them
# (`regex` syntax), one definition for all: every script's, not only Latin-1's. Families
# from Poland, Turkey, Romania or Czechia write "Łukasz", "Şafak", "İnönü", "Ștefan",
# "Dvořák": with "A-ZÀ-ÖØ-Þ" as the capitals, such names were no name words at all.
UPPER_LETTERS = r"\p{Lu}"
LOWER_LETTERS = r"\p{Ll}"
# Words that open a line or sit beside a name without being one.
_NOT_NAME_WORDS = (
    "monsieur", "madame", "mademoiselle", "mme", "mlle", "m", "mr", "mrs", "ms", "miss", "dr",
    "docteur", "me", "dear", "sir", "madam", "bonjour", "bonsoir", "bjr", "hello", "hi",
    "cordialement", "merci", "bravo", "bonne", "bien", "slt", "salut", "thanks", "thank",
    "regards", "kind", "best", "sincerely", "urgent", "signé", "signe", "signed", "someone",
    "please", "ras-le-bol",
)  # fmt: skip
# A form's labels ("Nom : Lefort⏎Prénom : Jenna⏎Date de naissance : ..."): the model took
# "Lefort⏎Prénom" and "Jenna⏎Date" for names.
_FORM_LABELS = (
    "nom", "prénom", "prenom", "adresse", "domicile", "téléphone", "telephone", "tél", "tel",
    "portable", "mobile", "courriel", "email", "e-mail", "mail", "date", "né", "née", "objet",
    "name", "surname", "forename", "first", "last", "given", "family", "address", "home",
    "postal", "phone", "birth", "dob",
    # An identifier's name before it ("iban de89 3704 …"; the model took « iban » for a name).
    "iban", "rib", "siret", "siren", "nir",
)  # fmt: skip
FORM_LABELS = frozenset(_FORM_LABELS)
# Where a form's field starts when pasted into a message (a line, a sentence, or after a
# "|" or "/" parting fields), and what parts its label from its value: a colon (after a
# space, a no-break one in French typography), a dash or a tab (a copied table).
FIELD_START = r"(?:^|[|/;•.!?])[^\S\n]*"
LABEL_END = r"(?:[^\S\n]*[:\-–]|\t)[^\S\n]*"
NOT_NAMES = frozenset(_NOT_NAME_WORDS) | FORM_LABELS
# Lower-case particles inside names: "da silva", "rue de la paix", "van der berg", "juan
# martín del potro", "piet den boer", "melchor de aymerich y villajuana".
NAME_PARTICLES = frozenset(
    {"da", "de", "du", "des", "le", "la", "les", "van", "von", "der", "den", "del", "della",
     "di", "dos", "ben", "bin", "ibn", "y"}
)  # fmt: skip
# What a writer says they are, after their name ("Ici Inès Roux, riveraine de la rue ..."):
# only a person is one.
_RESIDENT_WORDS = (
    "riverain", "riveraine", "habitant", "habitante", "locataire", "propriétaire",
    "proprietaire", "gérant", "gérante", "gerant", "gerante", "retraité", "retraitée", "parent",
    "maman", "papa", "commerçant", "commerçante", "commercant", "resident", "retired",
)  # fmt: skip
RESIDENT_WORDS = frozenset(_RESIDENT_WORDS)
# Words that follow "je suis" or open a letter's sentence and are not names.
_LETTER_WORDS = (
    *_RESIDENT_WORDS, "ici", "voici", "voilà", "voila", "joignable", "disponible",
    "responsable", "âgé", "âgée", "agé", "agee", "invalide", "retraite", "né", "née", "nee",
    "désolé", "désolée", "desole", "desolee", "inquiet", "inquiète", "content", "contente",
    "vraiment", "très", "tres", "writing", "living", "sorry", "disabled",
)  # fmt: skip
# Titles a civility announces instead of a name: "monsieur le maire", "madame la directrice".
_TITLES = (
    "maire", "adjoint", "adjointe", "président", "présidente", "president", "presidente",
    "directeur", "directrice", "préfet", "prefet", "préfète", "conseiller", "conseillère",
    "conseillere", "député", "députée", "depute", "deputee", "sénateur", "senateur",
    "sénatrice", "senatrice", "ministre", "commissaire", "inspecteur", "inspectrice",
    "gardien", "gardienne", "professeur", "maître", "maitre", "curé", "juge", "mayor",
    "councillor",
)  # fmt: skip
TITLES = frozenset(_TITLES)
# What English capitalises about a person without naming them: nationalities, peoples and
# faiths ("I am British", "I am Catholic"). French writes them in lower case, and the
# French lexicon knows them when they are capitalised anyway ("Je suis Française"); the
# English ones it does not know. Written here because no kept library lists demonyms
# (CLDR, through Babel and pycountry, has countries and languages, not their people).
_PEOPLES_AND_FAITHS = (
    "french", "british", "english", "scottish", "welsh", "irish", "american", "canadian",
    "australian", "new", "zealander", "south", "african", "indian", "pakistani",
    "bangladeshi", "german", "austrian", "swiss", "belgian", "dutch", "luxembourgish",
    "italian", "spanish", "portuguese", "greek", "maltese", "cypriot", "danish", "swedish",
    "norwegian", "finnish", "icelandic", "polish", "czech", "slovak", "hungarian",
    "romanian", "bulgarian", "croatian", "serbian", "bosnian", "slovenian", "albanian",
    "ukrainian", "russian", "belarusian", "lithuanian", "latvian", "estonian", "georgian",
    "armenian", "turkish", "kurdish", "algerian", "moroccan", "tunisian", "libyan",
    "egyptian", "senegalese", "malian", "ivorian", "guinean", "cameroonian", "congolese",
    "nigerian", "ghanaian", "malagasy", "comorian", "haitian", "lebanese", "syrian",
    "iraqi", "iranian", "afghan", "israeli", "palestinian", "jordanian", "saudi",
    "chinese", "japanese", "korean", "vietnamese", "cambodian", "laotian", "thai",
    "filipino", "indonesian", "brazilian", "argentinian", "chilean", "colombian",
    "peruvian", "mexican", "cuban", "venezuelan", "european", "asian", "arab", "latino",
    "latina", "hispanic", "black", "white", "catholic", "christian", "protestant",
    "anglican", "methodist", "baptist", "evangelical", "orthodox", "jewish", "muslim",
    "buddhist", "hindu", "sikh", "atheist", "agnostic",
)  # fmt: skip
PEOPLES_AND_FAITHS = frozenset(_PEOPLES_AND_FAITHS)
COMMON_WORDS = (
    FRENCH_STOP_WORDS | ENGLISH_STOP_WORDS | NOT_NAMES | frozenset(_LETTER_WORDS) | TITLES
) - NAME_PARTICLES


# Contact details a signature may stand beside: an e-mail address, a link.
CONTACT_DETAILS = r"(?:\S+@\S+|https?://\S+|www\.\S+)"


def alternation(words: frozenset[str]) -> str:
    """A regex alternation of `words`, longest first so that no word shadows a longer one.

    Ties are broken alphabetically: the same words give the same pattern text in every
    process (set order follows the hash seed), so the compiled-pattern cache can hit.
    """
    return "|".join(regex.escape(word) for word in sorted(words, key=lambda w: (-len(w), w)))


def not_opened_by(words: frozenset[str]) -> str:
    """A look-ahead that fails where one of `words` (any case) opens the match, followed by a
    space or tab: a sentence's first word is no part of a name ("Selon M. Dupont")."""
    return rf"(?!(?i:{alternation(words)})[ \t])"


# Letters-only words of four letters or more, not glued to digits or dashes: identifiers
# such as "FR76..." or "AB-123-CD" keep their capitals in a text typed in lower case.
_PLAIN_WORD = regex.compile(r"(?<![\w\-])[^\W\d_]{4,}(?![\w\-])")


# English capitalises its months and days by rule, and a phone's keyboard does it for
# whoever types in lower case ("i was born on 5 March 2004").
_CALENDAR_WORDS = frozenset(
    {
        "January", "February", "March", "April", "June", "July", "August", "September",
        "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
        "Friday", "Saturday", "Sunday",
    }
)  # fmt: skip


def _all_plain_words_lower(text: str) -> bool:
    """Whether the text's plain words are in lower case, words all in capitals and
    English calendar words aside.

    A word in capitals says nothing of how its writer types names: an acronym ("SNCF"),
    or a group of letters of an identifier ("IT73 W738 2096 161U 9HM5 YDAZ XU9", a
    split IBAN, made a lower-case text look typed with capitals and its names missed).
    Nor does a month or a day that English, or the keyboard, capitalises.
    """
    found = False
    for word in _PLAIN_WORD.finditer(text):
        if word.group().isupper() or word.group() in _CALENDAR_WORDS:
            continue
        if not word.group().islower():
            return False  # most texts have a capital early on: no need to read on
        found = True
    return found


# The person recognizers and the redaction each ask it of the same text.
_TYPED_IN_LOWER_CASE = LastTextMemo(_all_plain_words_lower)


def typed_in_lower_case(text: str) -> bool:
    """Whether the writer typed everything in lower case (identifiers aside)."""
    return _TYPED_IN_LOWER_CASE(text)
