"""Postal addresses as France's German-, Dutch-, Italian-, Spanish- and Portuguese-speaking
neighbours write them: "Hauptstraße 12, 77694 Kehl", "Kapelaniestraat 88, 6500 Leugnies",
"Via Roma 12, 18039 Ventimiglia (IM)", "Calle Mayor 5, 17001 Girona", "Rua do Arenque 16,
1200-123 Lisboa".

Strasbourg's neighbours live in Kehl, Metz's in Saarbrücken, Nice's in Ventimiglia,
Perpignan's in Girona, and Portugal's diaspora keeps its family's address; they write to
French cities with the address their post office knows. The French rules read none of
these: the street's type is a German word's suffix or an Italian, Spanish or Portuguese
word, and the number follows the street. Filled into French sentences, 200 addresses of
each of Faker's de_DE, de_AT, de_CH, it_IT, es_ES and pt_PT locales were all published.
Half of Belgium's addresses in FakeNameGenerator's identities (presidio-evaluator's raw
data) are Flemish ("Witbakkerstraat 455, 9051 Sint-Denijs-Westrem", "Grote Baan 477"),
and none of them was found.

The street, then its number, then the postcode and the town (or the town and then the
postcode, as some forms print it), the postcode being what tells an address from prose:
"via Facebook 2 fois" is none. The street is
- German or Dutch: one word ending in a street's suffix ("Hauptstraße", "Kinzigstr.",
  "Beckergasse", "Konrad-Adenauer-Allee", "Kapelaniestraat", "Brixtonlaan",
  "Blekersdijk"), or the street's type as a word of its own after a name or an adjective
  ("Prenzlauer Allee", "Hütteldorfer Strasse", "Koepenicker Str.", "Grote Baan"), maybe
  after an adjective ("Obere Bahnhofstrasse", "Korte Noordsstraat"), or a preposition and
  its name ("Am Markt", "An der Kirche");
- Italian, Spanish, Catalan or Portuguese: the street's type ("Via", "Viale", "Piazza",
  "Calle", "C/", "Avinguda", "Rua" or its "R", "Travessa", "Lungarno"…) and up to six
  words of its name.
Its number may hold a letter, a range or a flat ("12a", "47-26", "7/6", "S/N", "5, 2º B",
"Piso 3"); the postcode has five digits (Germany, Italy, Spain), four (Austria,
Switzerland, Belgium), Portugal's "1200-123" or the Netherlands' "2275 VC", maybe after
the country's letter ("D-", "I-", "CH-", "B-", "NL-"); the town may end with its province
in brackets ("(IM)", "(Girona)").
"""

from __future__ import annotations

from include.anonymization.pii.recognizers.words import LOWER_LETTERS, UPPER_LETTERS

_UPPER, _LOWER = UPPER_LETTERS, LOWER_LETTERS
_STREET_SUFFIX = (
    r"(?:stra(?:ß|ss)e|str\.?|gasse|weg|platz|allee|ring|damm|ufer|pfad|steig|chaussee|markt"
    r"|graben|zeile|kai|gürtel|promenade"
    # Dutch, as Flanders and the Netherlands write it.
    r"|straat|laan|plein|plaats|dijk|dreef|kaai|kade|singel|gracht|steenweg|baan|wijk|lei"
    r"|vest|pad|steeg)"
)
# "Hauptstraße", "Konrad-Adenauer-Straße", "Karl-Marx-Allee", "Kapelaniestraat": a
# capitalised word, maybe hyphenated, ending in the suffix, or the suffix as a word of its
# own after a capitalised one ("Prenzlauer Allee", "Grote Baan"); either maybe after an
# adjective ("Obere Bahnhofstrasse", "Korte Noordsstraat", "Hütteldorfer Strasse").
_COMPOUND = rf"(?-i:[{_UPPER}])[{_LOWER}{_UPPER}\-]*?{_STREET_SUFFIX}"
_TYPE_WORD = rf"(?=(?-i:[{_UPPER}])){_STREET_SUFFIX}"
_CAPITALISED = rf"(?-i:[{_UPPER}][{_LOWER}]+)"
_GERMANIC_STREET = rf"(?:{_CAPITALISED}[ \t]+)?(?:{_COMPOUND}|{_CAPITALISED}[ \t]+{_TYPE_WORD})"
# Capitalised: in prose "in der", "am" are the sentence's ("wohnhaft in der Kinzigstr.").
_GERMAN_PREPOSITION = (
    r"(?-i:Am|An[ \t]+de[rmn]|Auf[ \t]+de[rmn]|Im|In[ \t]+der|Zum|Zur|Unter[ \t]+den)"
)
_ROMANCE_TYPE = (
    r"(?:via|viale|piazza|piazzale|corso|largo|vicolo|strada|contrada|lungomare|borgo"
    r"|salita|rotonda|incrocio|stretto|canale|galleria|campo|fondamenta"
    r"|calle|c/|c\.|v[íi]a|vial|avenida|avda\.?|avinguda|av\.?|paseo|passeig|pasaje|pasadizo"
    r"|plaza|pla[çc]a|pza\.?|carrer|carretera|ctra\.?|camino|ronda|traves[íi]a|rambla"
    r"|glorieta|acceso|callej[óo]n|ca[ñn]ada|cuesta|urbanizaci[óo]n"
    r"|rua|r\.|r(?=[ \t])|travessa|tv\.|pra[çc]a|estrada|alameda|cal[çc]ada|beco|rotunda|praceta"
    r"|stradone|lung(?:o|ar)[a-z]+)"
)
_PARTICLE = (
    r"(?:de|del|della|delle|dello|dei|degli|di|da|do|dos|das|la|las|los|el|les|der|die"
    r"|des|dem|den|d['’]|dell['’])"
)
# A word of a street's or town's name: capitalised, an initial or a Roman numeral ("D.",
# "XX"), or in lower case as some type everything.
_NAME_WORD = rf"[{_UPPER}{_LOWER}][{_LOWER}{_UPPER}'’.\-]*"
_NAME = rf"(?:{_PARTICLE}[ \t]*)*{_NAME_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]*)*{_NAME_WORD}){{0,5}}"
_STREET = (
    rf"(?:{_GERMANIC_STREET}|{_GERMAN_PREPOSITION}[ \t]+{_NAME_WORD}"
    rf"|{_ROMANCE_TYPE}[ \t]+{_NAME})"
)
_NUMBER = (
    r"(?:s/n|(?:n[º°o]\.?[ \t]*)?\d{1,4}[a-z]?(?:[ \t]?[\-/][ \t]?\d{1,4}[a-z]?)?)"
    # A flat: "Apt. 08", "Piso 3", "Piano 2", "Appartamento 4", "2º B", "Top 5", "Stiege 2".
    r"(?:,?[ \t]+(?:apt\.?|appartamento|piano|interno|int\.|scala|piso|planta|puerta|esc\.|top"
    r"|stiege|stock)[ \t]*\w{1,4}|,?[ \t]+\d{1,2}[º°ª](?:[ \t]?[a-z])?(?!\w)){0,2}"
)
_POSTCODE = r"(?:(?:d|a|ch|i|e|p|b|nl)-[ \t]?)?(?:\d{4}-\d{3}|\d{4}[ \t]?(?-i:[A-Z]{2})|\d{4,5})"
_TOWN = (
    rf"(?-i:[{_UPPER}])[{_LOWER}{_UPPER}'’.\-]*(?:[ \t\-](?:{_PARTICLE}[ \t\-])*"
    rf"(?-i:[{_UPPER}])[{_LOWER}{_UPPER}'’.\-]*){{0,3}}(?:[ \t]*\([\w \-]{{2,20}}\))?"
)
_SEPARATOR = r"(?:[ \t]*,?[ \t]*\r?\n[ \t]*|[ \t]*,[ \t]*|[ \t]+|[ \t]*[\-–][ \t]*)"
NEIGHBOUR_ADDRESS_REGEX = (
    rf"(?<![\w\-])(?:{_STREET}),?[ \t]+{_NUMBER}{_SEPARATOR}"
    rf"(?:{_POSTCODE},?[ \t]+{_TOWN}|{_TOWN},?[ \t]+{_POSTCODE})(?![\w\-])"
)
