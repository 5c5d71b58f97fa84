"""A tiny template language for varied sentences with labelled slots.

WHY: realistic citizen text needs many variants of every sentence, and every personal
value planted in it must be labelled with its exact span. Writing variants as
`[a|b|]` alternatives and values as `{slot}` keeps the phrase lists readable, and
rendering to (text, entity_type) pieces makes spans exact by construction.

Syntax: `[one|two|]` picks one alternative (an empty one makes the part optional),
alternatives nest; `{name}` asks the caller's slot function for pieces. The
characters `[ ] | { }` are reserved.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# A rendered piece: its text and the entity type it carries (None for plain text).
Piece = tuple[str, str | None]
SlotFunction = Callable[[str, list[Piece]], None]


@dataclass(frozen=True)
class Slot:
    name: str


@dataclass(frozen=True)
class Choice:
    options: tuple[tuple[Node, ...], ...]


Node = str | Slot | Choice


@dataclass(frozen=True)
class Template:
    source: str
    body: tuple[Node, ...]
    slots: frozenset[str]  # every slot name some rendering may ask for


class TemplateError(ValueError):
    """A phrase template is malformed (unbalanced brackets, stray '|')."""


def _parse_sequence(source: str, pos: int, nested: bool) -> tuple[tuple[Node, ...], int]:
    """Parse until the end, or until '|' / ']' when inside brackets."""
    nodes: list[Node] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            nodes.append("".join(literal))
            literal.clear()

    while pos < len(source):
        char = source[pos]
        if char in "|]":
            if not nested:
                raise TemplateError(f"unexpected {char!r} at {pos} in template {source!r}")
            break
        if char == "[":
            flush()
            options = []
            pos += 1
            while True:
                option, pos = _parse_sequence(source, pos, nested=True)
                options.append(option)
                if pos >= len(source):
                    raise TemplateError(f"unclosed '[' in template {source!r}")
                pos += 1
                if source[pos - 1] == "]":
                    break
            nodes.append(Choice(tuple(options)))
            continue
        if char == "{":
            end = source.find("}", pos)
            if end < 0:
                raise TemplateError(f"unclosed '{{' at {pos} in template {source!r}")
            flush()
            nodes.append(Slot(source[pos + 1 : end]))
            pos = end + 1
            continue
        if char == "}":
            raise TemplateError(f"unexpected '}}' at {pos} in template {source!r}")
        literal.append(char)
        pos += 1
    flush()
    return tuple(nodes), pos


def _slots(nodes: tuple[Node, ...]) -> frozenset[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, Slot):
            found.add(node.name)
        elif isinstance(node, Choice):
            for option in node.options:
                found |= _slots(option)
    return frozenset(found)


@lru_cache(maxsize=4096)
def parse(source: str) -> Template:
    """Parse once (cached): rendering a million texts must not re-parse anything."""
    body, _ = _parse_sequence(source, 0, nested=False)
    return Template(source, body, _slots(body))


def render(
    nodes: tuple[Node, ...], rng: random.Random, slot: SlotFunction, out: list[Piece]
) -> None:
    """Append the pieces of one random rendering of `nodes` to `out`."""
    for node in nodes:
        if isinstance(node, str):
            out.append((node, None))
        elif isinstance(node, Slot):
            slot(node.name, out)
        else:
            render(rng.choice(node.options), rng, slot, out)
