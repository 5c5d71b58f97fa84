"""Deterministic, human-readable JSON for the files of a release.

Release files must be byte-identical for identical inputs (a rerun is then a
no-op and checksums stay stable), and people read them: so keys keep the order
the builder gives them (built deterministically), the text is indented, non-ASCII
stays readable UTF-8, and values are first reduced to plain JSON types, so a
numpy integer from a summary never reaches `json.dumps` and NaN never becomes
the non-standard `NaN` token.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


def plain_json(value: Any, path: str = "$") -> JSON:
    """`value` as plain JSON types; raises ValueError naming where an unsupported value sits."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not a JSON number; use null instead")
        return value
    if isinstance(value, Mapping):
        return plain_json_object(value, path)
    if isinstance(value, list | tuple | np.ndarray):
        return [plain_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise ValueError(f"{path}: a {type(value).__name__} cannot be written to JSON")


def plain_json_object(value: Mapping[str, Any], path: str) -> dict[str, JSON]:
    """`plain_json` of a mapping, typed as the JSON object it is."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected a mapping, got a {type(value).__name__}")
    result: dict[str, JSON] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(
                f"{path}: key {key!r} is a {type(key).__name__}; JSON keys must be strings"
            )
        result[key] = plain_json(item, f"{path}.{key}")
    return result


def json_bytes(value: Any) -> bytes:
    """The UTF-8 bytes of `value` as indented JSON with a final newline."""
    text = json.dumps(plain_json(value), ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")
