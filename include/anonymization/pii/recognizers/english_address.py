"""Street addresses as English texts write them: British, Irish and North American.

Most English texts to a French city come from residents, whose addresses are French
("12 rue Victor Hugo": `address.py`). A visitor, or a resident writing from or about a
home abroad, gives an English one: "27 Kings Road, Manchester M1 4BT", "Flat 3, 12 St
Mary's Close", "1777 Kramer Court, Springfield, IL 62704". Its house number with the
street identifies a household, and its postcode does so nearly alone (a British full
postcode covers about fifteen addresses, a Canadian one a block's side), so the whole of
it is one detection, town and postcode included when they follow.

The street's words and its suffix must be capitalised, as English writes them: in
prose, a number before lower-case words ("3 close friends", "2 green park tickets")
counts things. Typed in lower case, only the suffixes that name nothing else ("street",
"road", "avenue", "lane") make an address, or any with its postcode after it.
"""

from __future__ import annotations

# Street suffixes of Royal Mail and of USPS Publication 28 that streets commonly bear,
# with their usual abbreviations. Left out, those that are mostly something else before a
# number's capitalised words in prose ("Light", "Forge", "Plains", "Field", "Centre").
_SUFFIXES = (
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Av", "Lane", "Ln", "Drive", "Dr",
    "Close", "Court", "Ct", "Crescent", "Cres", "Place", "Pl", "Terrace", "Way",
    "Gardens", "Gdns", "Grove", "Square", "Sq", "Mews", "Row", "Hill", "Walk", "Parade",
    "Boulevard", "Blvd", "Highway", "Hwy", "Park", "Rise", "View", "Green", "Gate",
    "Wharf", "Yard", "Circle", "Cir", "Parkway", "Pkwy", "Plaza", "Trail", "Pike",
    "Alley", "Loop", "Heights", "Vale", "Embankment", "Causeway", "Quay",
)  # fmt: skip
# Typed in lower case, only these: "close", "drive", "park", "green", "way" are words.
_LOWER_CASE_SUFFIXES = ("street", "road", "avenue", "lane", "boulevard", "crescent", "terrace")

# A word of the street's name: "Baker", "St." / "St" (Saint), "Mary's", "McElroe",
# "O'Rafferty", "Ashby-de-la-Zouch", or an ordinal ("5th Avenue").
_NAME_WORD = (
    r"(?:St\.?|Mc[A-Z][a-z]+|O['’][A-Z][a-z]+|[A-Z][a-z'’]+(?:-[A-Za-z][a-z'’]*)*"
    r"|\d{1,3}(?:st|nd|rd|th))"
)
_SUFFIX = rf"(?:{'|'.join(_SUFFIXES)})\b"
_UNIT = r"(?:Flat|Apartment|Apt\.?|Unit|Studio|Suite)\s+\d{1,4}[A-Z]?"
# A year is no house number: "in 2019 Main Street was closed".
_YEAR_AFTER_PREPOSITION = r"(?i:(?<=\b(?:in|since|by|from|until|of|before|after)\s))(?:19|20)\d\d\b"
_NUMBER = rf"(?!{_YEAR_AFTER_PREPOSITION})\d{{1,5}}[A-Z]?"
_STREET = rf"(?:{_NAME_WORD}[ \t]+){{1,3}}{_SUFFIX}"
_LOWER_WORD = r"(?:[a-z][a-z'’\-]+|\d{1,3}(?:st|nd|rd|th))"
_LOWER_STREET = rf"(?:{_LOWER_WORD}[ \t]+){{1,3}}(?:{'|'.join(_LOWER_CASE_SUFFIXES)})\b"

# Postcodes that name a few households: British (Royal Mail's format), Irish (Eircode),
# Canadian (a province's code before it), American ZIP codes after their state's code.
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}"
_EIRCODE = r"[ACDEFHKNPRTVWXY]\d[\dW]\s?[\dACDEFHKNPRTVWXY]{4}"
CANADIAN_POSTCODE = r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d"
_STATE_ZIP = r"[A-Z]{2}\s+\d{5}(?:-\d{4})?"
_POSTCODE = rf"(?:{_UK_POSTCODE}|{_EIRCODE}|{_STATE_ZIP}|(?:[A-Z]{{2}}\s+)?{CANADIAN_POSTCODE})"
_TOWN = r"[A-Z][a-z'’]+(?:[ \-](?:[A-Z][a-z'’]+|upon|on|under|le|en)){0,3}"
_SEPARATOR = r"(?:,[ \t]*\n?|[ \t]*\n)[ \t]*|[ \t]+"
# The town(s) and county are taken only with the postcode after them.
_POSTAL_TAIL = rf"(?:(?:{_SEPARATOR}){_TOWN}){{0,3}}(?:{_SEPARATOR}){_POSTCODE}"
_FLAT_AFTER = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|\#)\s*\d{1,4}[A-Z]?)"

# Case-sensitive: Presidio matches with IGNORECASE.
ENGLISH_ADDRESS_REGEX = (
    rf"(?-i:(?<![\w\-])(?:(?:{_UNIT},?\s+)?{_NUMBER},?[ \t]+{_STREET}|{_UNIT},\s+{_STREET})"
    rf"{_FLAT_AFTER}?(?:{_POSTAL_TAIL})?(?!\w))"
)
# Typed in lower case, any suffix with the postcode after it: "4 elm grove, leeds ls6 9qy".
LOWER_ENGLISH_ADDRESS_REGEX = (
    rf"(?<![\w\-])(?:{_UNIT},?\s+)?{_NUMBER},?[ \t]+(?:{_LOWER_STREET}(?:{_POSTAL_TAIL})?"
    rf"|(?:{_LOWER_WORD}[ \t]+){{1,3}}{_SUFFIX}{_POSTAL_TAIL})(?!\w)"
)
