"""Stable reason codes for everything the ingest refuses, quarantines or drops.

WHY: quarantine counts are compared across runs, charted and alerted on, so a reason
is a fixed code, never a free-form message. A row gets exactly ONE primary reason:
row-level problems first (undecodable bytes, unparsable record), then the fields in
the source configuration's order, and for one field: missing, then wrong type or
format, then out of range / not allowed / too long. Field-level codes carry the
field name after a colon (`wrong_type:age`) so that a chart can split them.
"""

from __future__ import annotations

# Row level: the record itself cannot be read.
INVALID_UTF8 = "invalid_utf8"  # bytes that are not UTF-8 (or text not encodable as UTF-8)
INVALID_JSON = "invalid_json"  # a JSON Lines line that does not parse
NOT_AN_OBJECT = "not_an_object"  # a JSON Lines line that parses to a list, a number...
INVALID_CSV = "invalid_csv"  # the csv module rejects the record (e.g. a field over the limit)
WRONG_COLUMN_COUNT = "wrong_column_count"  # a CSV record with more or fewer fields than the header
LINE_TOO_LONG = "line_too_long"  # a line (CSV record) over CIVIC_MAX_LINE_BYTES: an excerpt is kept

# Field level, written `<code>:<field>`.
MISSING_REQUIRED = "missing_required"
WRONG_TYPE = "wrong_type"
BAD_DATE = "bad_date"
BAD_FORMAT = "bad_format"  # right type, wrong shape: a postcode that is not 5 digits, a NUL
OUT_OF_RANGE = "out_of_range"
NOT_ALLOWED = "not_allowed"
TOO_LONG = "too_long"
INCONSISTENT = "inconsistent"  # disagrees with another field: a commune its postcode does not serve

# Object level: the whole object is quarantined, counted as an object. Its rows read
# before it was found unusable are counted under ROW_OF_QUARANTINED_OBJECT (none are
# kept: a half-read file never publishes half its rows).
UNENCRYPTED_OBJECT = "unencrypted_object"  # stored without SSE: never read
UNSUPPORTED_FORMAT = "unsupported_format"  # not .jsonl/.ndjson/.csv (optionally .gz)
BAD_CSV_HEADER = "bad_csv_header"  # unreadable, too long, undecodable or repeated column names
UNREADABLE_OBJECT = "unreadable_object"  # a .gz that is not a whole gzip stream (empty, damaged)
OBJECT_TOO_LARGE = "object_too_large"  # over CIVIC_MAX_OBJECT_BYTES once decompressed
OBJECT_CHANGED = "object_changed"  # deleted or rewritten since the run claimed it

# A row read from an object then quarantined as a whole. Its own code, not the object's:
# pipeline.quarantine keeps one row per (run, reason) whose object-level codes count
# objects; pipeline.raw_objects has each object's reason and rows read.
ROW_OF_QUARANTINED_OBJECT = "row_of_quarantined_object"

# Duplicates are not quarantined (the first occurrence is kept) but are counted by kind.
DUPLICATE_ROW = "duplicate_row"  # same id, same content as a row ingested before
DUPLICATE_ID = "duplicate_id"  # same id, different content: the first one wins


# Codes written `<code>:<field>`: the others concern a whole record or a whole object.
FIELD_REASONS = (
    MISSING_REQUIRED,
    WRONG_TYPE,
    BAD_DATE,
    BAD_FORMAT,
    OUT_OF_RANGE,
    NOT_ALLOWED,
    TOO_LONG,
    INCONSISTENT,
)

# What each code means, in French, for analysts (Superset's quarantine chart): the codes
# stay stable in the data, their wording lives here only. A field-level code reads after
# the field's own French name (« Âge du répondant : type incorrect »).
REASON_LABELS = {
    INVALID_UTF8: "encodage invalide",
    INVALID_JSON: "ligne JSON illisible",
    NOT_AN_OBJECT: "ligne JSON qui n'est pas un objet",
    INVALID_CSV: "enregistrement CSV illisible",
    WRONG_COLUMN_COUNT: "nombre de colonnes incorrect",
    LINE_TOO_LONG: "ligne trop longue",
    MISSING_REQUIRED: "champ obligatoire manquant",
    WRONG_TYPE: "type incorrect",
    BAD_DATE: "date illisible",
    BAD_FORMAT: "format incorrect",
    OUT_OF_RANGE: "valeur hors des bornes",
    NOT_ALLOWED: "valeur non autorisée",
    TOO_LONG: "texte trop long",
    INCONSISTENT: "incohérent avec un autre champ",
    UNENCRYPTED_OBJECT: "fichier non chiffré",
    UNSUPPORTED_FORMAT: "format de fichier non pris en charge",
    BAD_CSV_HEADER: "en-tête CSV illisible",
    UNREADABLE_OBJECT: "fichier illisible (compression endommagée)",
    OBJECT_TOO_LARGE: "fichier trop volumineux une fois décompressé",
    OBJECT_CHANGED: "fichier modifié pendant le traitement",
    ROW_OF_QUARANTINED_OBJECT: "ligne d'un fichier mis en quarantaine",
    DUPLICATE_ROW: "doublon exact d'une ligne déjà reçue",
    DUPLICATE_ID: "identifiant déjà reçu avec un autre contenu",
}


def field_reason(code: str, field: str) -> str:
    """`wrong_type` + `age` → `wrong_type:age`."""
    return f"{code}:{field}"
