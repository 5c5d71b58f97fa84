"""Belgium's national register number and Switzerland's AVS number, checked by stdnum.

The sample generator computes their keys by its own code; the scrubber verifies them
with python-stdnum, so each checks the other.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from stdnum.be import nn
from stdnum.ch import ssn

from include.sample import identifiers
from tests.unit.pii.conftest import Found


def _kinds(found: Found) -> set[str]:
    return {kind for kind, _ in found}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Mon numéro de registre national : 85.07.30-033.28", "85.07.30-033.28",
         "BE_NATIONAL_NUMBER"),
        ("NISS 85073003328, merci.", "85073003328", "BE_NATIONAL_NUMBER"),
        # Born in 2000 or after: the key is computed with a 2 before the nine digits.
        ("Le NISS de ma fille : 05.03.14-123.97", "05.03.14-123.97", "BE_NATIONAL_NUMBER"),
        ("Mon numéro AVS est le 756.1234.5678.97.", "756.1234.5678.97", "CH_AVS_NUMBER"),
        ("AHV 7561234567897", "7561234567897", "CH_AVS_NUMBER"),
    ],
)  # fmt: skip
def test_neighbours_national_numbers_are_found(
    found: Callable[[str], Found], text: str, value: str, kind: str
) -> None:
    assert found(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "Mon numéro AVS est le 756.1234.5678.98.",  # a wrong check digit
        "NISS 85.07.30-033.29",  # a wrong key
        "Appelez le 33612345678 après 18 h.",  # eleven digits, no date: month 61
        "Le compteur affiche 12345678901 kWh.",
    ],
)
def test_numbers_whose_check_fails_are_no_national_number(
    found: Callable[[str], Found], text: str
) -> None:
    assert not _kinds(found(text)) & {"BE_NATIONAL_NUMBER", "CH_AVS_NUMBER"}


@pytest.mark.parametrize("seed", range(5))
def test_the_generator_s_numbers_verify_with_stdnum(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        assert nn.is_valid(re.sub(r"\D", "", identifiers.belgian_national_number(rng)))
        assert ssn.is_valid(re.sub(r"\D", "", identifiers.swiss_avs_number(rng)))
