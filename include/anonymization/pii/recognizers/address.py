"""French postal addresses: number, street type, street name, optionally postcode and city.

spaCy tags "rue de la République" as a place at best and never the number in
front of it, and Presidio has no address recognizer for French. A street
address with its number identifies a household, so the whole of it, postcode and
city included when they follow, is one detection. Street names typed in lower
case ("12 rue marcel pagnol") end at the first common word.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import FR_ADDRESS
from include.anonymization.pii.recognizers.birthdate import FR_MONTHS
from include.anonymization.pii.recognizers.english_address import (
    CANADIAN_POSTCODE,
    ENGLISH_ADDRESS_REGEX,
    LOWER_ENGLISH_ADDRESS_REGEX,
)
from include.anonymization.pii.recognizers.french_lexicon import is_common_word
from include.anonymization.pii.recognizers.gates import HAS_DIGIT, gated
from include.anonymization.pii.recognizers.neighbour_addresses import NEIGHBOUR_ADDRESS_REGEX
from include.anonymization.pii.recognizers.words import (
    COMMON_WORDS,
    FIELD_START,
    LABEL_END,
    LOWER_LETTERS,
    UPPER_LETTERS,
    alternation,
)

# Street types and the abbreviations addresses use (those of the BAN's geocoder, addok-
# france, that are real: "crs", "fbg", "sq", "rés"...). Left out, words that a number
# commonly precedes in prose: "lot" ("1 lot de 3"), "pass" ("2 pass Navigo"), "via",
# "carrefour" (a shop), "quartier", "terrasse", "parc", "centre", "porte", "bois", and
# "cite" (a verb), "ham", "prom", "trav" (English words, slang).
STREET_TYPES = (
    "rue", "avenue", "av", "ave", "boulevard", "bd", "bld", "blvd", "bvd", "place", "pl",
    "allée", "allee", "allées", "allees", "impasse", "imp", "chemin", "ch", "che", "chem",
    "route", "rte", "quai", "cours", "crs", "square", "sq", "passage", "résidence",
    "residence", "rés", "res", "lotissement", "hameau", "faubourg", "fg", "fbg",
    "voie", "sentier", "sente", "cité", "parvis", "prv", "esplanade", "esp", "espl",
    "promenade", "rond-point", "rond point", "rpt", "rdpt", "villa", "vla", "montée",
    "montee", "traverse", "ruelle", "rle", "clos", "domaine", "chaussée", "chaussee",
    "mail", "placette", "passerelle", "côte", "rocade",
)  # fmt: skip
_UPPER = UPPER_LETTERS
_LOWER = LOWER_LETTERS
_PARTICLE = r"(?:de|du|des|la|le|les|et|sur|sous|en|aux|au|à)"
_ELIDED = r"(?:[ld][’'])"
_LEAD = rf"(?:{_PARTICLE}\s+|{_ELIDED})*"
# A capitalised word (Victor, Saint-Michel, République), a date (rue du 8 Mai 1945, place
# du 11-Novembre) or an ordinal (avenue de la 2e DB, rue de la 1re Armée). Not any number:
# "1 place de 5 mètres" is no address.
_NAME_WORD = (
    rf"(?:(?-i:[{_UPPER}][{_LOWER}{_UPPER}'’\-]*)|(?:1er|\d{{1,2}})[ \-]{FR_MONTHS}\b"
    rf"|\d{{4}}|\d{{1,2}}(?:e|è|ème|eme|re|er)\b)"
)


def _lower_word(excluded: frozenset[str]) -> str:
    """A lower-case word, hyphens and apostrophes inside, that is none of `excluded`."""
    return (
        rf"(?-i:(?!(?:{alternation(excluded)})(?![{_LOWER}'’\-]))"
        rf"[{_LOWER}]{{2,}}(?:[\-'’][{_LOWER}]+)*)"
    )


# A lower-case word that is not a common one ("pagnol", not "est" or "depuis").
_LOWER_WORD = _lower_word(COMMON_WORDS)
# Before a postcode and its town, the postcode says where the street's name ends, and an
# ordinary word may be part of it: a number's ("rue des deux ponts", "rue du onze
# novembre"), or another ("rue du four", "chemin d'en bas", "rue sans nom"). Not a word
# that only a sentence has: a pronoun, a possessive, a verb of being or having, a
# preposition or conjunction no street's name holds ("1 place de parking pour ses 20000
# habitants").
_SENTENCE_WORDS = (
    "je", "tu", "il", "elle", "nous", "vous", "ils", "elles", "on", "mon", "ma", "mes", "ton",
    "ta", "tes", "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur", "leurs", "est",
    "sont", "suis", "es", "sommes", "êtes", "était", "ai", "as", "avons", "avez", "ont",
    "pour", "par", "avec", "dans", "chez", "vers", "depuis", "pendant", "mais", "ou", "donc",
    "car", "ni", "ne", "pas", "plus", "très", "qui", "que", "quoi", "dont", "ce", "cet",
    "cette", "ces", "the", "and", "for", "my", "our", "your", "his", "her", "their", "is",
    "are", "was", "with", "since",
)  # fmt: skip
_STREET_WORD = _lower_word(frozenset(_SENTENCE_WORDS))


def _street_name(lower_word: str) -> str:
    """Up to six words of a street's name, its lower-case words matching `lower_word`.

    Words of either kind may mix: "rue du 8 Mai 1945", "rue du 8 mai 1945", "rue de la
    paix". Not a postal box (see `_POSTAL_BOX`), nor a particle alone ("1 place de 5
    mètres"). Between two words, a space or a dash, or a line break after a space: where
    a mail client wraps a line "format=flowed" (RFC 3676), the space it keeps says that
    the line goes on ("12 rue Victor ⏎Hugo"); a line break alone may start the next
    sentence.
    """
    token = (
        rf"(?!(?-i:B\.P|BP|CS|TSA|CIDEX)\b|{_PARTICLE}(?![\w'’\-]))(?:{_NAME_WORD}|{lower_word})"
    )
    return rf"{_LEAD}{token}(?:(?:[ \-]|[ \t]+\r?\n[ \t]*){_LEAD}{token}){{0,5}}"


_STREET_NAME = _street_name(_LOWER_WORD)
_ANCHORED_STREET_NAME = _street_name(_STREET_WORD)
# A city's words, capitalised or not ("Saint-valery-en-caux", "Poilly-sur-tholon"), with
# particles between them.
_CITY_WORD = rf"(?!cedex\b)(?:(?-i:[{_UPPER}][{_LOWER}{_UPPER}'’]*)|{_LOWER_WORD})"
_CITY = rf"{_CITY_WORD}(?:[ \-](?:(?-i:{_PARTICLE}|lès)[ \-])?{_ELIDED}?{_CITY_WORD}){{0,3}}"
# Between the street and the postcode, a postal box or a rural delivery number: "BP 7015",
# "B.P. N 7015", "CS 40055", "TSA 30719", "CIDEX 304" (CIDEX serves households).
_POSTAL_BOX = r"(?-i:B\.?\s?P\.?|CS|TSA|CIDEX)\s*(?:N\s?°?\s*|No\s?)?\d{1,6}"
_POSTCODE_CITY = (
    rf"(?:(?:,?\s+{_POSTAL_BOX})?(?:,?\s+|\s+[\-–]\s+)(?:\d{{5}}|\d{{2}}\s\d{{3}})\s+{_CITY}"
    rf"(?:\s+cedex(?:\s+\d{{1,2}})?)?)"
)
_NUMBER = r"\d{1,4}(?:\s?(?:bis|ter|quater|[btq]))?"
# "ch" is also horsepower ("un moteur de 990 ch produit sous licence", "les SUV de plus
# de 150 ch en ville", "68 ch. Le prototype"): as a chemin it names its street after a
# particle or a capitalised word ("18 ch. des Vignes", "3 ch Pasteur"), never after an
# article opening the next sentence; after a lower-case word only with its dot, as a
# text typed in lower case abbreviates it ("28, ch. lévêque"), and only if that word is
# no ordinary one ("990 ch. produit sous licence": `AddressRecognizer`).
_CHEMIN_PARTICLE = r"d[eu]s?\b|d['’]"  # "ch. des Vignes", "ch d'Enfer"
_HORSEPOWER = (
    rf"ch(?:\b\s+|\.\s+(?!(?-i:[{_LOWER}])))"
    rf"(?!(?-i:{_CHEMIN_PARTICLE}|(?!(?:Les?|La|L['’])\b)[{_UPPER}]))"
)
# "av." is also "avant", as in "1750 av. J.-C." (before Christ), never "av. Jacques Cartier".
_BEFORE_CHRIST = r"av\b\.?\s*J\.?\s*[\-–]?\s*C\b"
# "r." is "rue", and so is a bare "r" before a particle ("3 bis r du 8 mai").
_RUE_ABBREVIATED = r"r\.|r(?=\s+(?:d[eu]s?\b|d['’]|l[ae]\b))"
# A village's main street is named by its type alone ("2, Grande Rue 62128 Écoust-Saint-
# Mein"), or goes on as any street does ("Grande Rue de la Croix-Rousse").
_MAIN_STREET = r"grande?[ \-]rue|grand['’]rue"
# "place" is also a space to park or a seat: "1 place de parking", "2 place en crèche".
_A_SPACE = r"place\s+(?:de|en)\s+(?:parking|stationnement|garage|crèche|creche)\b"
_STREET_TYPE = (
    rf"(?!{_HORSEPOWER}|{_BEFORE_CHRIST}|{_A_SPACE})"
    rf"(?:{_MAIN_STREET}|(?:{'|'.join(STREET_TYPES)})\.?|{_RUE_ABBREVIATED})"
)

# Quebec writes the town, its province and a postcode that names a block's side, an
# apartment or an office at times before them: "1777, rue Poirier, Montréal (Québec) H2X
# 1Y4", "80 montée Paul, app. 4, Lachapelle, QC H4H 1X4".
_CANADIAN_UNIT = r"(?:,?[ \t]+(?:app\.?|appartement|apt\.?|bureau|suite|unité)[ \t]*\d{1,4})"
_PROVINCE_IN_BRACKETS = rf"\((?-i:[{_UPPER}])[\w\-. ]+\)"
_CANADIAN_TOWN_POSTCODE = (
    rf"(?:{_CANADIAN_UNIT}?,?\s+{_CITY}(?:[ \t]+{_PROVINCE_IN_BRACKETS})?,?\s+"
    rf"(?:(?-i:[A-Z]{{2}})\s+)?(?-i:{CANADIAN_POSTCODE}))"
)
ADDRESS_REGEX = (
    rf"(?<!\w){_NUMBER},?\s+(?:{_STREET_TYPE}\s+{_ANCHORED_STREET_NAME}{_POSTCODE_CITY}"
    rf"|(?:{_STREET_TYPE}\s+{_STREET_NAME}|{_MAIN_STREET})"
    rf"(?:{_POSTCODE_CITY}|{_CANADIAN_TOWN_POSTCODE})?)(?!\w)"
)
# Belgium, Switzerland and Luxembourg write the number after the street ("rue de la Loi
# 16, 1000 Bruxelles", "chemin des Vignes 4⏎1009 Pully", "avenue de la Gare 12, L-1611
# Luxembourg"), with a box ("bte 3", "16/3") and a canton ("1700 Fribourg (FR)"); their
# postcodes have four digits, which may bear the country's letter. At most three digits for
# the number, so that a street named after a year keeps it ("place du 11 Novembre 1918").
# Without a postcode the number must end a clause or come before its town ("rue Pasteur
# 12, près de la gare", "rue du Marché 12 à Genève"): on French Wikipedia, a number after
# a street's words and before another word counts something ("la place du Billboard 200
# avec", "une place de titulaire et joue 27 rencontres"). After a road's class, a number
# is the road's ("la route nationale 7.", "le chemin rural 12,").
_ROAD_CLASS = (
    r"(?:nationale|d[ée]partementale|communale|vicinale|rurale|foresti[èe]re"
    r"|communal|vicinal|rural|forestier)"
)
_NUMBER_AFTER = (
    r"\d{1,3}(?:[ \t]?(?:bis|ter)|[a-d])?(?!\w)"
    r"(?:(?:[ \t]*,?[ \t]*(?:bte|bo[iî]te|bus)\.?[ \t]*|/)\d{1,4})?"
)
_LOCAL_POSTCODE_CITY = (
    r"(?:,?\s+|\s+[\-–]\s+)(?:(?:B|CH|L|F)-[ \t]?)?(?:\d{4,5}|\d{2}\s\d{3})"
    rf"\s+{_CITY}(?:[ \t]+\([A-Z]{{2}}\))?"
)
_CLAUSE_END = rf"(?=[ \t]*(?:[,.;:!?)]|$)|[ \t]+à[ \t]+(?-i:[{_UPPER}]))"
NUMBER_AFTER_REGEX = (
    rf"(?<!\w)(?:{_STREET_TYPE}\s+{_STREET_NAME}|{_MAIN_STREET})(?<!\b{_ROAD_CLASS})"
    rf"[ \t]+{_NUMBER_AFTER}(?:{_LOCAL_POSTCODE_CITY}|{_CLAUSE_END})(?!\w)"
)
# A form's address field announces a postal address even without a house number
# ("Domicile : rue Alves, 03121 Guilbert", "Adresse postale - chemin de Clément, 73783
# Saint Gérard"): after the label, a street with its postcode and town is the writer's.
# A bare "Adresse" / "Address" only opening a field, as a form writes it.
_ADDRESS_LABEL = (
    rf"(?:{FIELD_START}(?:adresse(?:[ \t]+postale)?|address)|\bdomicile"
    rf"|\bmon[ \t]+adresse|\b(?:home|my|postal)[ \t]+address){LABEL_END}"
)
LABELLED_ADDRESS_REGEX = (
    rf"(?<={_ADDRESS_LABEL})(?:{_STREET_TYPE}\s+{_ANCHORED_STREET_NAME}|{_MAIN_STREET})"
    rf"(?:{_POSTCODE_CITY}|{_LOCAL_POSTCODE_CITY})(?!\w)"
)
# A lower-case word right after "ch.": the street's name, or the noun after a horsepower
# figure. A particle ("ch. des vignes") is the street's, as in `_HORSEPOWER`.
_CH_THEN_LOWER_WORD = re.compile(rf"^[^,]*?\bch\.\s+(?!{_CHEMIN_PARTICLE})([{_LOWER}][\w'’\-]*)")


class AddressRecognizer(PatternRecognizer):
    """The address pattern; "ch." before an ordinary lower-case word is horsepower."""

    def invalidate_result(self, pattern_text: str) -> bool:
        after_ch = _CH_THEN_LOWER_WORD.match(pattern_text)
        return after_ch is not None and is_common_word(after_ch.group(1))


def address_recognizer(language: str) -> PatternRecognizer:
    """French layouts in both languages (a resident writing English lives in France), and
    English ones in English texts."""
    patterns = [
        Pattern(name="fr_street_address", regex=ADDRESS_REGEX, score=0.7),
        Pattern(name="fr_labelled_address", regex=LABELLED_ADDRESS_REGEX, score=0.7),
        Pattern(name="number_after_street", regex=NUMBER_AFTER_REGEX, score=0.7),
        Pattern(name="neighbour_address", regex=NEIGHBOUR_ADDRESS_REGEX, score=0.7),
    ]
    if language == "en":
        patterns += [
            Pattern(name="en_street_address", regex=ENGLISH_ADDRESS_REGEX, score=0.7),
            Pattern(name="en_lower_street_address", regex=LOWER_ENGLISH_ADDRESS_REGEX, score=0.7),
        ]
    recognizer = AddressRecognizer(
        supported_entity=FR_ADDRESS,
        name=f"{FR_ADDRESS}_{language}",
        supported_language=language,
        patterns=patterns,
    )
    return gated(recognizer, HAS_DIGIT)  # a house number or a postcode
