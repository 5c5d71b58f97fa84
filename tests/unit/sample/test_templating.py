"""The phrase template language: parse errors are caught, every alternative is reachable."""

from __future__ import annotations

import random

import pytest

from include.sample import templating
from include.sample.templating import Piece


def _render(source: str, seed: int) -> list[Piece]:
    out: list[Piece] = []

    def slot(name: str, pieces: list[Piece]) -> None:
        pieces.append((name.upper(), "SLOT"))

    templating.render(templating.parse(source).body, random.Random(seed), slot, out)
    return out


def test_alternatives_nest_and_all_are_reachable() -> None:
    texts = {"".join(t for t, _ in _render("a[b|c[d|]|]e", seed)) for seed in range(200)}
    assert texts == {"abe", "acde", "ace", "ae"}


def test_slots_become_labelled_pieces_and_are_listed() -> None:
    template = templating.parse("Je suis {me} [au {addr}|]")
    assert template.slots == {"me", "addr"}
    pieces = _render("Je suis {me}.", 0)
    assert pieces == [("Je suis ", None), ("ME", "SLOT"), (".", None)]


@pytest.mark.parametrize("source", ["[a|b", "a]b", "a|b", "{me", "me}", "[a{b]"])
def test_malformed_templates_are_rejected(source: str) -> None:
    with pytest.raises(templating.TemplateError):
        templating.parse(source)
