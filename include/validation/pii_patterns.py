"""Shapes of personal data that must never survive into a published text column.

These patterns are the validation gate's second opinion on the scrubber, so they are
kept deliberately separate from the scrubber's recognizers
(`include.anonymization.pii.recognizers`):

- they are plain regular expressions with no checksum: a NIR with a mistyped key or
  an IBAN off by one digit is still somebody's identifier, so the gate blocks the
  *shape*, where the scrubber (which must not redact every long number) only removes
  values whose check digits verify;
- a bug or a blind spot shared by both would let a value through silently; two
  independent implementations have to fail together for that to happen.

A pattern that matches blocks publication (fail closed). A false positive costs an
operator a look at the listed rows; a false negative publishes personal data. The
patterns still avoid the obvious harmless look-alikes (dates, postcodes, amounts with
their currency, the redaction placeholders such as ``<PHONE_NUMBER>``), tested in
tests/unit/validation/test_pii_patterns.py.

`mask_pii` applies the same patterns to any text the gate is about to show (a sample
of unexpected values in an error message), so that even a value from a column that is
not supposed to hold free text cannot leak an identifier through a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line break between two groups of digits, as a mail client wraps text: with the spaces
# around it (wrapping "format=flowed", RFC 3676, keeps one before it), maybe by the dot or
# dash that separates the groups ("06.12.34.⏎56.78").
# (One way only to read the spaces: no search backtracks over a long run of them.)
_WRAP = r"[ \t]*(?:[.\-][ \t]*)?\r?\n[ \t]*(?:[.\-][ \t]*)?"
# Digit-group separators people type: space (also the non-breaking spaces of French
# typography, which `\s` covers), dot, dash; or a wrapped line.
_ONE_SEP = rf"(?:[\s.\-]|{_WRAP})"
_SEP = rf"{_ONE_SEP}?"
# A line break with the spaces around it.
_LINE_BREAK = r"[ \t]*\r?\n[ \t]*"
# Between an IBAN's groups of four: a space, or a wrapped line; else the same dot or dash
# between every two groups ("FR76.3000.6000...", as a web form writes it: an upper-case
# UUID, "AE97BA94-D0ED-482F-...", mixes glued and dashed groups).
_IBAN_SEP = rf"(?:\s|{_LINE_BREAK})?"
_IBAN_GROUPS = "|".join(
    rf"(?:{sep}[A-Z0-9]{{4}}){{3,7}}(?:{sep}[A-Z0-9]{{1,4}})?" for sep in (_IBAN_SEP, r"\.", "-")
)
# Between a plate's blocks: a space or dash, or a wrapped line.
_PLATE_SEP = rf"(?:[\s\-]|{_WRAP})?"
# Between the groups of an identifier written in groups of any size: a space (French
# typography's non-breaking ones too), a dot or a dash; never a line break.
_GROUP_SEP = "[ \u00a0\u202f.\\-]"
# Between the thousands of a count ("125 000", "1.250.000").
_THOUSANDS_CHARS = " .\u00a0\u202f"
_THOUSANDS = f"[{_THOUSANDS_CHARS}]"
# Where an account number ends: no letter or digit, nor a dash and another group (a UUID
# goes on: "bd228693-8032-4631-8884-aba7a51b231c" is no "BD22 8693 8032..." IBAN).
_NO_MORE_GROUPS = r"(?![A-Za-z0-9]|-[A-Za-z0-9])"
# A line break inside an e-mail address, as a mail client wraps it (spaces around it too).
_BREAK = rf"(?:{_LINE_BREAK})?"
# One label of a domain; a line break may cut it in two ("exa⏎mple").
_EMAIL_LABEL = rf"[A-Za-z0-9\-]+(?:{_LINE_BREAK}[A-Za-z0-9\-]+)*"
# WHY the look-behinds that start the two e-mail patterns: an address's local part is a run
# of characters from one class; without them a search tries every position inside every such
# run and rescans the rest of it each time (quadratic: 70 µs for one UUID, most of the gate's
# time at a million rows). A match that starts inside a run also matches from the run's
# start, and a search reports the leftmost match, so what matches and what is masked stay
# the same (tested against the patterns without them).
_LOCAL_PART = r"[A-Za-z0-9._%+\-]"
_OBFUSCATED_LOCAL_PART = r"[\w.\-]"

# RE2 spellings, for the candidates below, of classes at least as wide as Python's: its
# `\d` is any Unicode decimal digit, its `\s` any Unicode space (RE2's `\s` is ASCII).
# Both checked code point by code point in tests/unit/validation/test_pii_prefilter.py.
RE2_DIGIT = r"\p{Nd}"
RE2_SPACES = r"\s\p{Z}\x{0b}\x{1c}-\x{1f}\x{85}"  # inside a class
_D = RE2_DIGIT
_C_ONE_SEP = rf"(?:[{RE2_SPACES}.\-]|{_WRAP})"  # `_ONE_SEP`
_C_SEP = rf"{_C_ONE_SEP}?"  # `_SEP`
_C_IBAN_SEP = rf"(?:[{RE2_SPACES}.\-]|{_LINE_BREAK})?"  # any of `_IBAN_GROUPS`' separators
_C_GROUP_SEP = r"[ \x{a0}\x{202f}.\-]"  # `_GROUP_SEP`
_C_PLATE_SEP = rf"(?:[{RE2_SPACES}\-]|{_WRAP})?"  # `_PLATE_SEP`


@dataclass(frozen=True)
class PiiPattern:
    r"""One kind of residual personal data: a short name, what it is, and its regex.

    `candidate` is a pattern in RE2's syntax (what Arrow's vectorised search takes) found
    in every text in which `regex` finds a match: something no alternative of `regex` can
    do without (its "@", a run of its digits; Python's `\d` is any Unicode decimal digit,
    RE2's `\p{Nd}`). It only narrows the rows that `regex` must read
    (`include.validation.pii_prefilter`); it never decides anything alone.
    """

    name: str
    label: str
    regex: str
    candidate: str


PII_PATTERNS: tuple[PiiPattern, ...] = (
    PiiPattern(
        "email",
        "an e-mail address",
        # Also cut by a line break, as a mail client wraps it: "jean@exa⏎mple.fr", "jean⏎@ex.fr".
        rf"(?<!{_LOCAL_PART}){_LOCAL_PART}+{_BREAK}@{_BREAK}{_EMAIL_LABEL}"
        rf"(?:{_BREAK}\.{_BREAK}{_EMAIL_LABEL})*"
        rf"{_BREAK}\.{_BREAK}[A-Za-z]{{2,}}",
        "@",  # its literal @
    ),
    PiiPattern(
        "obfuscated_email",
        "an e-mail address with its @ spelt out",
        # "jean (at) exemple.fr", "jean [at] exemple [dot] fr", "jean arobase free point fr".
        rf"(?<!{_OBFUSCATED_LOCAL_PART}){_OBFUSCATED_LOCAL_PART}+\s*"
        r"(?:[(\[{]\s*(?:at|arobase|arrobase|@)\s*[)\]}]|\s(?:arobase|arrobase)\s)\s*\w",
        # A bracket and its "at" or "@", or (ar)robase. Not any bracket: one generated text
        # in eight holds one, and the exact pattern then read each of them in Python.
        rf"[(\[{{][{RE2_SPACES}]*(?:at|@)|arr?obase",
    ),
    PiiPattern(
        "ipv4",
        "an IPv4 address",
        r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
        r"(?![\w]|\.\d)",
        rf"{_D}\.{_D}{{1,3}}\.{_D}{{1,3}}\.{_D}",  # the four octets, minus two ends
    ),
    PiiPattern(
        "ipv6",
        "an IPv6 address",
        # Eight groups, or a "::" abbreviation with at least two groups around it; a time of
        # day ("10:22:00") has neither.
        r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
        r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*"
        r"|(?:[0-9A-Fa-f]{1,4}:){2,7}:)(?![\w:])",
        r"[0-9A-Fa-f]:[0-9A-Fa-f:]",  # a group, its colon, a group or a colon
    ),
    PiiPattern(
        "phone_fr",
        "a French phone number",
        # 0X XX XX XX XX, +33, 0033, +33 (0), (0); spaced, dotted, dashed or compact, in pairs
        # or grouped otherwise ("+33 612 345 678", "0612 345 678"): nine digits after it.
        # Or in pairs between slashes ("06/12/34/56/78"). Or digit by digit, one separator
        # throughout ("0 6 1 2 3 4 5 6 7 8"), and no digit after it (a scale from 0 to 10).
        rf"(?<![\w+])(?:(?:(?:\+|00)\s?33{_SEP}(?:\(0\){_SEP})?|\(0\)\s?|0)[1-9]"
        rf"(?:(?:{_SEP}\d){{8}}|(?:/\d\d){{4}})"
        r"|0(?:\s[1-9](?:\s\d){8}|\.[1-9](?:\.\d){8}|-[1-9](?:-\d){8})(?![\s.\-]\d))(?!\w)",
        # Its last nine digits.
        rf"[1-9](?:(?:{_C_SEP}{_D}){{8}}|(?:/{_D}{{2}}){{4}})",
    ),
    PiiPattern(
        "iban",
        "an IBAN",
        # Its country code in either case ("fr76 3000 ..."), in capitals maybe apart ("FR 76
        # 3000 ..."). Not right after "<alnum>." or "<alnum>-" ("k1.RN35QGFZ…" is a
        # pseudonym, "…-4617-ab13-4907…" a UUID's groups). All in lower case, a bank's
        # letters then digits ("gb29 nwbk 6016 1331 9268 19"): the digits tell it from words.
        rf"(?<![A-Za-z0-9])(?<![A-Za-z0-9][.\-])(?:(?:[A-Z]{{2}}{_GROUP_SEP}?|[A-Za-z]{{2}})\d{{2}}"
        rf"(?:{_IBAN_GROUPS})|[a-z]{{2}}\d{{2}}{_IBAN_SEP}[a-z]{{4}}(?:{_IBAN_SEP}\d{{4}}){{2,6}}"
        rf"(?:{_IBAN_SEP}\d{{1,4}})?){_NO_MORE_GROUPS}",
        # Its start.
        rf"[A-Za-z]{{2}}{_C_GROUP_SEP}?{_D}{{2}}(?:{_C_IBAN_SEP}[A-Z0-9]{{4}}){{3}}"
        rf"|[a-z]{{2}}{_D}{{2}}{_C_IBAN_SEP}[a-z]{{4}}(?:{_C_IBAN_SEP}{_D}{{4}}){{2}}",
    ),
    PiiPattern(
        "iban_other_grouping",
        "an IBAN grouped otherwise than in fours",
        # As national layouts print them ("NO 54 9261 54 31646", "ES93 6607 1695 50
        # 0019988010", "GB29 NWBK 601613 31926819"): a country code, its check digits, a
        # bank's letters maybe, then ten digits or more in any groups (not any capitals:
        # "ET 12 ANS APRES RIEN NA CHANGE" is no IBAN).
        rf"(?<![\w.\-])[A-Z]{{2}}{_GROUP_SEP}?\d{{2}}(?:{_GROUP_SEP}?[A-Z]){{0,4}}"
        rf"(?:{_GROUP_SEP}?\d){{10,30}}(?:{_GROUP_SEP}?[A-Z0-9]){{0,6}}(?!\w){_NO_MORE_GROUPS}",
        # Up to its tenth digit.
        rf"[A-Z]{{2}}{_C_GROUP_SEP}?{_D}{{2}}(?:{_C_GROUP_SEP}?[A-Z]){{0,4}}"
        rf"(?:{_C_GROUP_SEP}?{_D}){{10}}",
    ),
    PiiPattern(
        "number_after_its_name",
        "a SIRET, SIREN, RIB, IBAN or VAT number after its name",
        # Nine digits or more in any groups, at most 30 other characters after the name on
        # its line: "SIRET : 5 601 52 274 000 26", "RIB : 30006 00001 123 456 789 01 89".
        rf"\b(?i:siret|siren|rib|iban|tva)\b[^\d\n]{{0,30}}?\d(?:{_GROUP_SEP}?\d){{8,}}",
        r"(?i:siret|siren|rib|iban|tva)",  # its name
    ),
    PiiPattern(
        "phone_after_its_word",
        "a phone number after the word that announces it",
        # Six digits or more in any groups, a "+" or an area code in brackets maybe, at most
        # 12 other characters after the word on its line or at the next line's start,
        # whatever the country: "Tel. 452 8831", "Mobile: (71) 3355-8120", "Fax :
        # +1-212-318-0417", "Phone:⏎452 8831". Not an amount (its currency after it), nor
        # a count in thousands before a word under nine digits ("Mobile : 125 000
        # utilisateurs"; a longer one is `long_digit_run`'s).
        r"\b(?i:t[ée]l(?:[ée]phone)?|telephone|phone|mobile|portable|cell|gsm|fax)\b"
        r"[^\d\n]{0,12}?(?:\n[ \t]*)?"
        rf"(?!(?:\d{{1,3}}|\d{{1,2}}{_THOUSANDS}\d{{3}}){_THOUSANDS}\d{{3}}[ \t]+[a-zà-ÿ])"
        r"\d(?:[ .\-/()]{0,2}\d){5,}"
        rf"(?![\d{_THOUSANDS_CHARS}]*(?:€|\$|£|%|(?i:eur|chf|usd)))",
        r"(?i:t[ée]l|phone|mobile|portable|cell|gsm|fax)",  # its word
    ),
    PiiPattern(
        "vat_fr",
        "a French VAT number",
        # FR, a two-character key and the company's SIREN, however grouped ("FR44732829320").
        rf"(?<!\w)(?i:FR){_GROUP_SEP}?[0-9A-Z]{{2}}(?:{_GROUP_SEP}?\d){{9}}(?!\w)",
        rf"(?i:FR){_C_GROUP_SEP}?[0-9A-Z]{{2}}(?:{_C_GROUP_SEP}?{_D}){{9}}",  # all of it
    ),
    PiiPattern(
        "nir",
        "a French social security number (NIR)",
        # 13 characters (2A/2B for Corsica) and the 2-digit key, spaced or not.
        rf"(?<!\w)[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[ABab])"
        rf"{_SEP}\d{{3}}{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?(?!\w)",
        rf"[1-478]{_C_SEP}{_D}{{2}}{_C_SEP}{_D}{{2}}{_C_SEP}(?:{_D}{{2}}|2[ABab])"
        rf"{_C_SEP}{_D}{{3}}{_C_SEP}{_D}{{3}}",  # all but its key
    ),
    PiiPattern(
        "neighbour_national_number",
        "a Belgian national register number or a Swiss AVS number",
        # As the eID card and the AVS card print them: "85.07.30-033.28", "756.1234.5678.97"
        # (undotted, they are long digit runs).
        r"(?<![\w.])(?:\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}|756\.\d{4}\.\d{4}\.\d{2})(?![\w.]\w)",
        rf"{_D}{{2}}\.{_D}{{2}}\.{_D}{{2}}-{_D}{{3}}|756\.{_D}{{4}}\.{_D}{{4}}",
    ),
    PiiPattern(
        "long_digit_run",
        "a long number (9+ digits: SIREN/SIRET, account or customer number)",
        # Unbroken runs of 9+ digits, or SIREN/SIRET grouped 3-3-3(-5) by spaces or dots;
        # a grouped amount followed by its currency or unit ("150 000 000 €", "223 664 608
        # $", "150 000 000 d'euros") is not one. Decimals ("3,141592653"), dash-joined
        # codes (a UUID's last group) and the numbers of a URL's path or query, after its
        # "/" or "=", are not: the scrubber keeps a URL in clear (a timestamp,
        # "&ust=1548939062976988", held up a real proposal).
        r"(?<![\w\-/=])(?<!\d[.,])(?:\d{9,}|\d{3}[ .]\d{3}[ .]\d{3}(?:[ .]?\d{5})?"
        r"(?!\s?(?:d['’]|de\s)?(?:€|EUR|euros?|\$|USD|dollars?|£|GBP|CHF|francs?|habitants"
        r"|km|m²|m2|%)))(?![\w\-])(?![.,]\d)",
        rf"{_D}{{9}}|{_D}{{3}}[ .]{_D}{{3}}[ .]{_D}{{3}}",  # either form, its first nine
    ),
    PiiPattern(
        "payment_card",
        "a payment card number",
        # Grouped by four (a wrapped line possibly between two groups), or as American
        # Express and Diners print theirs (4-6-5, 4-6-4); whether the Luhn key verifies
        # does not matter (a mistyped card number is still one). Ungrouped card numbers
        # are long digit runs. No issuer's range starts with 19 or 20: four years in a
        # row ("les années 2019 2020 2021 2022") are no card.
        rf"(?<![\w.])(?!19|20)\d{{4}}(?:(?:{_ONE_SEP}\d{{4}}){{3}}|{_ONE_SEP}\d{{6}}{_ONE_SEP}\d{{4,5}})"
        r"(?![\w])",
        rf"{_D}{{4}}(?:(?:{_C_ONE_SEP}{_D}{{4}}){{3}}|{_C_ONE_SEP}{_D}{{6}}{_C_ONE_SEP}{_D}{{4}})",
    ),
    PiiPattern(
        "licence_plate",
        "a French licence plate",
        # Upper case with any separator, a wrapped line too; lower case only with its
        # dashes ("ab-123-cd"). I, O and U are never issued, but with both dashes any
        # letter is a plate misread ("AB-123-CO").
        rf"(?<![\w\-])(?:[A-HJ-NP-TV-Z]{{2}}{_PLATE_SEP}\d{{3}}{_PLATE_SEP}[A-HJ-NP-TV-Z]{{2}}"
        r"|[a-hj-np-tv-z]{2}-\d{3}-[a-hj-np-tv-z]{2}|[A-Z]{2}-\d{3}-[A-Z]{2})(?![\w\-])",
        rf"[A-HJ-NP-TV-Z]{{2}}{_C_PLATE_SEP}{_D}{{3}}{_C_PLATE_SEP}[A-HJ-NP-TV-Z]{{2}}"
        rf"|[a-hj-np-tv-z]{{2}}-{_D}{{3}}-[a-hj-np-tv-z]{{2}}|[A-Z]{{2}}-{_D}{{3}}-[A-Z]{{2}}",
    ),
)

_COMBINED = re.compile("|".join(f"(?:{p.regex})" for p in PII_PATTERNS))
WITHHELD = "<withheld>"


def mask_pii(text: str) -> str:
    """`text` with every match of any pattern replaced by ``<withheld>``."""
    return _COMBINED.sub(WITHHELD, text)
