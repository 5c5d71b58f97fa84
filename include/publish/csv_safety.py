"""Neutralise spreadsheet formulas in the text cells of a CSV file (CSV injection).

A spreadsheet that opens a CSV evaluates a cell starting with `=`, `+`, `-` or
`@` as a formula: `=cmd|' /C calc'!A0` can start a program, `=HYPERLINK(...)`
can leak data. Citizens' free text is published, so any cell may be hostile.
Following OWASP's "CSV Injection" advice, a text cell starting with one of those
characters, or with a tab or a carriage return, is prefixed with an apostrophe,
which spreadsheets read as "this is text" and do not display.

Two disguises of the same cell are caught too: whitespace or line breaks before the
sign (an import that trims cells, such as LibreOffice's "trim spaces" option, turns
`  =1+1` or `\n=1+1` back into a formula), and the full-width signs `＝ ＋ － ＠`,
which East Asian input methods type and some spreadsheets normalise to their ASCII
forms. "Whitespace" is whatever Python's `str.isspace` calls so, Unicode spaces
included (no-break space, U+3000 ideographic space...).

Only *text* columns are touched. A negative number in an integer or number
column is a number, not text: it is written as `-3` and stays a number for
every reader (spreadsheets do not run it as a formula). Parquet files are not
neutralised: no spreadsheet evaluates them, and programmatic readers need the
exact text; the README says so.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# Signs that start a formula, in their ASCII and full-width forms.
FORMULA_SIGNS = "=+-@＝＋－＠"
# Characters that start a formula-like cell on their own (OWASP).
CONTROL_STARTS = "\t\r"
NEUTRALISING_PREFIX = "'"

# RE2 (what pyarrow runs): exactly the characters for which Python's str.isspace is true.
_WHITESPACE = r"\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}"
_SIGNS = FORMULA_SIGNS.replace("-", "\\-")
_TRIGGER_PATTERN = f"^(?:[{CONTROL_STARTS}]|[{_WHITESPACE}]*[{_SIGNS}])"


def neutralise_formulas(text: pa.ChunkedArray | pa.Array) -> tuple[pa.ChunkedArray, int]:
    """Prefix every cell that a spreadsheet would evaluate; return the new text and how many.

    Null cells stay null (they are written as empty cells).
    """
    column = text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text])
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        raise TypeError(f"formula neutralisation applies to text columns, got {column.type}")
    triggered = pc.fill_null(pc.match_substring_regex(column, _TRIGGER_PATTERN), False)
    count = pc.sum(triggered).as_py() or 0
    if not count:
        return column, 0
    prefixed = pc.binary_join_element_wise(NEUTRALISING_PREFIX, column, "")
    return pc.if_else(triggered, prefixed, column), int(count)
