"""Detect and redact personal data in French (and English) free text, with Presidio and spaCy.

    with Scrubber(processes=2) as scrubber:
        results = scrubber.scrub_texts(["Je m'appelle Inès Roux, tél. 06 12 34 56 78"])
    results[0].text  # "Je m'appelle <PERSON>, tél. <PHONE_NUMBER>"

tldextract (used by Presidio's e-mail check) fetches the public suffix list from
the network on first use unless told not to: the bundled copy is enough, and
these machines must not download at run time, so the switch is set before
anything imports it.
"""

from __future__ import annotations

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from typing import TYPE_CHECKING, Any

from include.anonymization.pii.entities import (
    DEFAULT_THRESHOLD,
    ENTITY_TYPES,
    SUPPORTED_LANGUAGES,
    Entity,
    placeholder,
)
from include.anonymization.pii.errors import ModelNotInstalledError, ScrubWorkerLostError

if TYPE_CHECKING:
    from include.anonymization.pii.scrubber import Scrubber, ScrubResult, ScrubSettings

_LAZY = ("Scrubber", "ScrubResult", "ScrubSettings")


def __getattr__(name: str) -> Any:
    """The scrubber itself loads spaCy and Presidio (seconds): only when first asked for."""
    if name in _LAZY:
        from include.anonymization.pii import scrubber

        return getattr(scrubber, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_THRESHOLD",
    "ENTITY_TYPES",
    "SUPPORTED_LANGUAGES",
    "Entity",
    "ModelNotInstalledError",
    "ScrubResult",
    "ScrubSettings",
    "ScrubWorkerLostError",
    "Scrubber",
    "placeholder",
]
