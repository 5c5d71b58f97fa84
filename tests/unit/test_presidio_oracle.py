"""The outside oracle of the public-file test finds identifiers where a reader meets them, and
only identifiers: a leak in a record file or a page fails that test, a release's own UUIDs,
chart coordinates and cited section numbers do not."""

from __future__ import annotations

from tests.dags.pipeline_helpers import PublicFile
from tests.presidio_oracle import presidio_findings

_UUID = "8dea503b-3634-4609-8927-dc4053b011fd"


def _found(key: str, body: str) -> list[tuple[str, str]]:
    text = PublicFile(key, body.encode()).reader_text()
    return sorted((f.entity_type, f.value) for f in presidio_findings(text))


def test_identifiers_in_a_record_file_are_found() -> None:
    body = (
        "id,periode,texte\n"
        f'{_UUID},2025-T2,"Rappelez-moi au 06.12.34.56.78 ou écrivez à lea.roux@orange.fr"\n'
        '1a2b3c4d-2222-3333-4444-555555555555,2025-T3,"Ma carte 4111 1111 1111 1111, IP 10.0.0.1"\n'
    )
    assert _found("s/releases/r/s.csv", body) == [
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("EMAIL_ADDRESS", "lea.roux@orange.fr"),
        ("IP_ADDRESS", "10.0.0.1"),
        ("PHONE_NUMBER", "06.12.34.56.78"),
    ]


def test_a_release_s_own_numbers_are_not_identifiers() -> None:
    body = (
        f"{_UUID},2025-T2,voirie\n"
        "sha256 9e1c0772403186223634460989270d4c1f2a3b4c5d6e7f8091a2b3c4d5e6f708\n"
        "la preuve (RFC 9162, § 2.1.4.2) montre que ses entrées sont inchangées\n"
        "années 2012 - 2013, loi n° 2017-1836\n"
        '{"information_loss": 0.1146390671013009}\n'  # sixteen decimals that pass Luhn
        '{"recall": 0.11490352366631883}\n'  # a decimal number libphonenumber reads as a phone
    )
    assert _found("s/releases/r/README.md", body) == []


def test_digits_alone_are_never_taken_for_a_digest() -> None:
    """A UUID has letters: one made of digits only is digits, and the card in it is found."""
    body = "id\n11111111-2222-3333-4444-555555555555\n"
    assert _found("s/releases/r/s.csv", body) == [("CREDIT_CARD", "4444-555555555555")]


def test_a_page_is_read_as_its_reader_sees_it() -> None:
    page = (
        '<html><body><svg><g><text x="299.8" y="1396.3" transform="rotate(-0.0 299.8 1396.3)">'
        '114</text><path d="M 164.8 1931.4 L 164.8 1946.5"/></g></svg>'
        '<p title="contact : 07 41 00 28 07">Signalé par <a href="mailto:a.b@free.fr">nous</a></p>'
        "</body></html>"
    )
    assert _found("s/releases/r/index.html", page) == [
        ("EMAIL_ADDRESS", "a.b@free.fr"),
        ("PHONE_NUMBER", "07 41 00 28 07"),
    ]
