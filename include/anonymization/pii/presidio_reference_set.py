"""Presidio's own evaluation set: the scrubber against plain Presidio, on texts neither wrote.

Issue #11 asks for coverage "at least Presidio's". Presidio's authors publish the
material to check that on: presidio-evaluator (MIT), their evaluation kit, ships
1,500 labelled English texts (`data/synth_dataset_v2.json` in its sdist on PyPI):
forms, signature blocks, support requests, with names, phones, cards, IBANs, e-mails
and IP addresses of many countries, each value labelled with Presidio's own type
name. `make presidio-set` takes the file out of the sdist at a pinned version,
checked against PyPI's sha256 (`include.core.pinned_download`); nothing of it is in
the repository.

The comparison is per type that both detect: the share of labelled values fully
redacted (`evaluation.evaluate`'s recall, whatever the detection's type) by the
scrubber and by Presidio as documented (`AnalyzerEngine` with every predefined
recognizer, its default threshold, over the same spaCy model). The set's other types
are not compared, each for the reason `NOT_COMPARED` gives.

Precision is compared for names, the one type whose detections are guesses: the share
of PERSON detections that fall on a labelled value of a compared type. One on a place,
a title or an organisation counts as false for both detectors. The set is English, and
English words the French lexicon does not know ("He just turned 69", "Labor Day") were
redacted as names until the name rules read an English lexicon (`english_lexicon`).

The same sdist ships the raw data the set was generated from, among it 3,000 identities
of 31 countries from FakeNameGenerator.com (names, street addresses, postcodes, towns,
phones as each country writes them, e-mails). `make presidio-set` keeps that file too;
the unit tests fill its identities of France and its neighbours into French sentences
(`load_identities`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from include.anonymization.pii.entities import (
    CREDIT_CARD,
    EMAIL_ADDRESS,
    IBAN_CODE,
    IP_ADDRESS,
    PERSON,
    PHONE_NUMBER,
)
from include.anonymization.pii.evaluation import Detector, Evaluation, evaluate
from include.anonymization.pii.reference_corpora import TaggedSpan
from include.core.pinned_download import DOWNLOADS_DIR, Member, fetch_members, read_json

VERSION = "0.3.2"
SDIST_URL = (
    "https://files.pythonhosted.org/packages/ed/93/"
    "78b98353915eac13a28a720f120f6d3bcd952c51dbf563be27d74a1dbc76/"
    f"presidio_evaluator-{VERSION}.tar.gz"
)
# PyPI's sha256 of that sdist (2ec1be37…5eb1), as a Subresource Integrity string.
INTEGRITY = "sha256-LsG+NxCihDVTpfsYWRbYWw+hdPueGSfgPqgxUv3JXrE="
MEMBER = f"presidio_evaluator-{VERSION}/data/synth_dataset_v2.json"
SET_PATH = DOWNLOADS_DIR / f"presidio-evaluator-{VERSION}-synth_dataset_v2.json"
_IDENTITIES = "FakeNameGenerator.com_3000.csv"
IDENTITIES_MEMBER = (
    f"presidio_evaluator-{VERSION}/presidio_evaluator/data_generator/raw_data/{_IDENTITIES}"
)
IDENTITIES_PATH = DOWNLOADS_DIR / f"presidio-evaluator-{VERSION}-{_IDENTITIES}"
# The columns the tests read.
IDENTITY_FIELDS = (
    "GivenName", "Surname", "StreetAddress", "City", "ZipCode", "CountryFull",
    "EmailAddress", "TelephoneNumber", "TelephoneCountryCode",
)  # fmt: skip
LANGUAGE = "en"

# The types compared: Presidio's names for them are the scrubber's.
COMPARED = (PERSON, PHONE_NUMBER, EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE, IP_ADDRESS)
NOT_COMPARED: dict[str, str] = {
    "US_SSN": "US-only; Presidio's recognizer is left out (presidio_defaults.NOT_USED)",
    "US_DRIVER_LICENSE": "US-only; Presidio's recognizer is left out (presidio_defaults.NOT_USED)",
    "DOMAIN_NAME": "a bare domain or URL is kept unless a cue makes it personal "
    "(presidio_defaults: citizens cite sites)",
    "DATE_TIME": "a date is personal only as a date of birth, after its cue",
    "STREET_ADDRESS": "Presidio has no address recognizer; the set's addresses are "
    "Faker's of many countries, often in mixed layouts ('6750 Koskikatu 25 Apt. 864')",
    "ZIP_CODE": "a postcode alone is not personal; with its street, it is the address's",
    "GPE": "places are not personal data on their own",
    "ORGANIZATION": "organisations are not personal data",
    "NRP": "nationalities, religions and politics are not detected alone",
    "TITLE": "a job title is not detected alone",
    "AGE": "an age alone is not detected",
}


class PresidioSetMissingError(FileNotFoundError):
    """The evaluation set was not fetched (`make presidio-set`)."""


@dataclass(frozen=True)
class LabelledText:
    """One text of the set and its labelled values of the compared types."""

    text: str
    spans: tuple[TaggedSpan, ...]


def fetch(target: Path = SET_PATH, identities: Path = IDENTITIES_PATH) -> tuple[Path, Path]:
    """Download presidio-evaluator's sdist at the pinned version, keep the set at `target`
    and the identities at `identities`."""
    members = [
        Member(MEMBER, target, json.loads),
        Member(IDENTITIES_MEMBER, identities, _parse_identities),
    ]
    set_path, identities_path = fetch_members(
        SDIST_URL, INTEGRITY, members, PresidioSetMissingError
    )
    return set_path, identities_path


def _parse_identities(content: bytes) -> list[dict[str, str]]:
    """The identities in FakeNameGenerator's CSV, each a row with `IDENTITY_FIELDS`."""
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    missing = [field for field in IDENTITY_FIELDS if rows and field not in rows[0]]
    if not rows or missing:
        raise PresidioSetMissingError(
            f"{IDENTITIES_MEMBER} is not the identities file expected (no rows, or missing "
            f"columns {missing})"
        )
    return rows


def load_identities(path: Path = IDENTITIES_PATH) -> list[dict[str, str]]:
    """FakeNameGenerator's 3,000 identities shipped with the set (module doc)."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise PresidioSetMissingError(
            f"FakeNameGenerator's identities are missing ({path}): run `make presidio-set` "
            f"(it downloads presidio-evaluator {VERSION} from PyPI)"
        ) from None
    return _parse_identities(content)


def load(path: Path = SET_PATH) -> list[LabelledText]:
    """Every text of the set, with its spans of the compared types."""
    records = read_json(
        path, PresidioSetMissingError, "Presidio's evaluation set", "make presidio-set",
        f"presidio-evaluator {VERSION} from PyPI",
    )  # fmt: skip
    return [
        LabelledText(
            record["full_text"],
            tuple(
                TaggedSpan(span["start_position"], span["end_position"], span["entity_type"])
                for span in record["spans"]
                if span["entity_type"] in COMPARED
            ),
        )
        for record in records
    ]


@dataclass(frozen=True)
class Comparison:
    """The scrubber's and plain Presidio's evaluations on the same texts."""

    scrubber: Evaluation
    presidio: Evaluation

    def rows(self) -> list[tuple[str, int, float, float]]:
        """(type, labelled values, scrubber's recall, Presidio's recall) per compared type."""
        return [
            (kind, total, self.scrubber.recall(kind) or 0.0, self.presidio.recall(kind) or 0.0)
            for kind in COMPARED
            if (total := self.scrubber.labelled.get(kind, 0))
        ]

    def person_precision(self) -> tuple[float, float]:
        """(scrubber's, Presidio's) share of PERSON detections on a labelled value (module
        doc); 1.0 for a detector that found no name."""
        return self.scrubber.precision_of(PERSON) or 1.0, self.presidio.precision_of(PERSON) or 1.0

    def behind_presidio(self) -> list[str]:
        """Each compared type whose recall is under Presidio's, and the names' precision if it
        is under Presidio's, as readable sentences."""
        behind = [
            f"{kind}: {ours:.4f} < Presidio's {theirs:.4f}"
            for kind, _, ours, theirs in self.rows()
            if ours < theirs
        ]
        ours, theirs = self.person_precision()
        if ours < theirs:
            behind.append(f"{PERSON} precision: {ours:.4f} < Presidio's {theirs:.4f}")
        return behind


def compare(texts: Sequence[LabelledText], scrubber: Detector, presidio: Detector) -> Comparison:
    """Score both detectors on `texts`."""
    plain = [t.text for t in texts]
    labels = [t.spans for t in texts]
    return Comparison(
        evaluate(plain, labels, scrubber(plain)), evaluate(plain, labels, presidio(plain))
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python -m include.anonymization.pii.presidio_reference_set fetch")
    set_path, identities_path = fetch()
    print(f"Presidio's evaluation set: {set_path} ({len(load()):,} texts)")
    print(f"FakeNameGenerator's identities: {identities_path} ({len(load_identities()):,})")
