"""Rison encoding, the query-string notation of Superset's list endpoints (`?q=(page:0)`).

Only the encoder, and only for the values the client sends (mappings, lists, strings,
integers, booleans, None); the `prison` package would be one more dependency for
twenty lines. Grammar: https://github.com/Nanonid/rison.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# An id may stand unquoted: no reserved character, and it does not start like a number.
_ID = re.compile(r"^[^-0-9 '!:(),*@$][^ '!:(),*@$]*$")


def _string(value: str) -> str:
    if _ID.match(value):
        return value
    return "'" + value.replace("!", "!!").replace("'", "!'") + "'"


def dumps(value: Any) -> str:
    """Encode a value as rison: `{"page": 0, "columns": ["id"]}` → `(columns:!(id),page:0)`."""
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        items = ",".join(f"{_string(str(key))}:{dumps(value[key])}" for key in sorted(value))
        return f"({items})"
    if isinstance(value, Sequence):
        return "!(" + ",".join(dumps(item) for item in value) + ")"
    raise TypeError(f"cannot encode {type(value).__name__} as rison: {value!r}")
