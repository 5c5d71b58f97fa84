"""A form pasted into a message: every value is redacted, every label stays.

Citizens paste what a form or a spreadsheet holds: one field a line, or fields
parted by "|" or "/", a colon, a dash or a tab between label and value, labels
in capitals. Faker's fr_FR values in such forms showed names, dates of birth and
addresses left in clear after a dash or a tab, and labels lost to the name
beside them ("Lefort⏎Prénom", "Jenna⏎DATE DE NAISSANCE"). These forms are
written here, in the same shapes.
"""

from __future__ import annotations

import pytest

from include.anonymization.pii import Scrubber

_FORMS = [
    (
        "Nom : Lefort\nPrénom : Jenna\nDate de naissance : 12/03/1985\n"
        "Adresse : 3 rue de la Paix, 75002 Paris\nTéléphone : 06 12 34 56 78",
        ["Lefort", "Jenna", "12/03/1985", "3 rue de la Paix, 75002 Paris", "06 12 34 56 78"],
    ),
    (
        "Objet : badge parking\nNOM - MORIN | PRENOM - Émilie | Né(e) le - 06/03/1947 | "
        "Domicile - rue Alves, 03121 Guilbert | Mail - emilie.morin@example.org",
        ["MORIN", "Émilie", "06/03/1947", "rue Alves, 03121 Guilbert", "emilie.morin@example.org"],
    ),
    (
        "Prénom(s)\tConstance\nNom de naissance\tVaillant\nDATE DE NAISSANCE\t24/08/2001\n"
        "Portable\t07 41 00 28 07",
        ["Constance", "Vaillant", "24/08/2001", "07 41 00 28 07"],
    ),
    (
        "Forename - Bernadette / Surname - Okafor / DOB - 16/11/1972 / "
        "Home address - chemin de Clément, 73783 Saint-Gérard",
        ["Bernadette", "Okafor", "16/11/1972", "chemin de Clément, 73783 Saint-Gérard"],
    ),
    (  # a form flattened into one line, after the message
        "Le trou est toujours là, merci de faire vite Nom : Maillot Prénom : Jenna "
        "Tél : 06 12 34 56 78",
        ["Maillot", "Jenna", "06 12 34 56 78"],
    ),
    (
        "First name: Maggie\nLast name: Thornton\nBirth date: 02/05/1990\nMobile: +44 7911 123456",
        ["Maggie", "Thornton", "02/05/1990", "+44 7911 123456"],
    ),
]


@pytest.mark.parametrize(("form", "values"), _FORMS)
def test_every_value_of_a_form_is_redacted_and_every_label_kept(
    scrubber: Scrubber, form: str, values: list[str]
) -> None:
    result = scrubber.scrub_text(form)
    covered = bytearray(len(form))
    for entity in result.entities:
        covered[entity.start : entity.end] = b"\1" * (entity.end - entity.start)
    for value in values:
        start = form.index(value)
        clear = [form[i] for i in range(start, start + len(value)) if not covered[i]]
        assert "".join(clear).strip(" ,-") == "", f"{value!r} left in clear: {result.text!r}"
    labels = [
        line.split(sep, 1)[0]
        for field in form.replace(" | ", "\n").replace(" / ", "\n").splitlines()
        for sep in (":", " - ", "\t")
        if sep in field
        for line in [field]
    ]
    for label in labels:
        assert label.strip() in result.text, f"label {label!r} lost: {result.text!r}"


def test_a_street_after_an_address_label_needs_its_postcode(scrubber: Scrubber) -> None:
    """Without a postcode, a street after a label may be where a problem is: left as it is."""
    assert scrubber.scrub_text("Adresse : place de la Mairie").entities == ()
