"""One scrubber for the whole test session: building it loads the spaCy model (seconds)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from include.anonymization.pii import Scrubber

Found = list[tuple[str, str]]


@pytest.fixture(scope="session")
def scrubber() -> Scrubber:
    return Scrubber()


@pytest.fixture(scope="session")
def found(scrubber: Scrubber) -> Callable[[str], Found]:
    """(type, value) of every entity the reference path detects in a text."""

    def detect(text: str) -> Found:
        return [(e.type, text[e.start : e.end]) for e in scrubber.scrub_text(text).entities]

    return detect
