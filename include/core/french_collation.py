"""French alphabetical order for the labels people read: « Éclairage » before « Voirie ».

WHY a collation library: Python's `sorted` compares code points, so every accented
capital (É, Œ) goes after Z; `locale.strxfrm` needs an fr_FR locale that these
machines and many containers lack, and the embedded PostgreSQL has no ICU. pyuca
implements the Unicode Collation Algorithm with its default table, which is the
French order: CLDR's `fr` collation is the root one (accents stopped sorting
backwards in France; only `fr-CA` keeps that).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TypeVar

from pyuca import Collator

T = TypeVar("T")


@functools.cache
def _collator() -> Collator:
    return Collator()


def french_key(text: str) -> tuple[int, ...]:
    """The sort key of `text` in French alphabetical order (case and accents only break
    ties, as in a dictionary: « eclairage » < « Éclairage » < « Espaces »)."""
    return tuple(_collator().sort_key(text))


def french_sorted(items: Iterable[T], label: Callable[[T], str]) -> list[T]:
    """`items` in the French order of their labels; equal labels keep their order."""
    return sorted(items, key=lambda item: french_key(label(item)))
