"""Postal addresses laid out as other countries write them.

Belgium, Switzerland and Luxembourg put the number after the street, and so do the
German-, Italian-, Spanish- and Portuguese-speaking neighbours; Quebec ends with
a province and a postcode that names a block's side; British, Irish and North American
addresses put the street's suffix last. The shapes were found by filling sentences with
Faker's fr_CH, fr_CA, en_GB and en_US addresses, all published whole before.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from include.anonymization.pii import Scrubber

Found = list[tuple[str, str]]


@pytest.fixture(scope="module")
def found_in(scrubber: Scrubber) -> Callable[[str, str], Found]:
    def detect(text: str, language: str) -> Found:
        entities = scrubber.scrub_text(text, language).entities
        return [(e.type, text[e.start : e.end]) for e in entities]

    return detect


def _addresses(found: Found) -> list[str]:
    return [value for kind, value in found if kind == "FR_ADDRESS"]


@pytest.mark.parametrize(
    "address",
    [
        # Belgium, Switzerland and Luxembourg write the number after the street.
        "rue de la Loi 16, 1000 Bruxelles",
        "Avenue Louise 231, 1050 Ixelles",
        "chemin des vignes 4\n1009 pully (VD)",
        "rue de la Gare 12 bte 3, L-1611 Luxembourg",
        "rue Royale 16/3, B-1000 Bruxelles",
        "Grand-Rue 8, CH-1700 Fribourg (FR)",
        "rue Pasteur 12",
        "boulevard du 8 Mai 1945 3b",
        "rue blanc 25",
    ],
)
def test_addresses_with_the_number_after_the_street_are_found(
    found: Callable[[str], Found], address: str
) -> None:
    assert found(f"J'habite {address}, depuis dix ans.") == [("FR_ADDRESS", address)]


@pytest.mark.parametrize(
    "address",
    [
        # As the German-, Italian-, Spanish- and Portuguese-speaking neighbours write them:
        # the street, its number, the postcode and the town. All were published.
        "Hauptstraße 12, 77694 Kehl",
        "Kinzigstr. 4, D-77694 Kehl",
        "Bahnhofstrasse 10, 8001 Zürich",
        "Karl-Marx-Allee 33\n10178 Berlin",
        "Erlerstraße 7/6, 4170 Mureck",
        "Am Markt 5, 66111 Saarbrücken",
        "Via Roma 12, 18039 Ventimiglia (IM)",
        "Viale Mazzini, 52 Piano 2\n38121 Trento (TN)",
        "Calle Mayor 5, 17001 Girona",
        "C/ de la Riera 5, 2º B, 08003 Barcelona",
        "Rua do Arenque 16, 1200-123 Lisboa",
        "Av de Alves, S/N, 8636-083 Vila Nova de Gaia",
        # FakeNameGenerator's identities (presidio-evaluator's raw data): Flemish and Dutch
        # streets, a type as a word of its own, an adjective before, Portugal's bare "R".
        "Kapelaniestraat 88, 6500 Leugnies",
        "Brixtonlaan 132, 1450 Chastre",
        "Grote Baan 477, 8572 Kaster",
        "Korte Noordsstraat 136, 1480 Tubize",
        "Agrippinastraat 180, 2275 VC Voorburg",
        "Prenzlauer Allee 20, 10405 Berlin",
        "Hütteldorfer Strasse 40, 3040 Neulengbach",
        "Koepenicker Str. 74, 55776 Reichenbach",
        "Obere Bahnhofstrasse 9, 8303 Bassersdorf",
        "Sonnenbergstr 72, 3533 Bowil",
        "R São Romão 118, 5100-684 Ribeiro",
        "Lungodora Napoli 148, 36070 Crespadoro",
    ],
)
def test_neighbours_addresses_are_found(found: Callable[[str], Found], address: str) -> None:
    assert found(f"J'habite {address}, depuis 2019.") == [("FR_ADDRESS", address)]


@pytest.mark.parametrize(
    "text",
    [
        "Je l'ai envoyé via Facebook 2 fois, sans réponse.",
        "Wohnhaft in der Kinzigstr. seit 2019.",  # no number, no postcode
        "Le Corso 12 fois vainqueur, 2019 Milan.",
    ],
)
def test_a_neighbours_street_word_without_postcode_is_no_address(
    found: Callable[[str], Found], text: str
) -> None:
    assert _addresses(found(text)) == []


def test_a_number_after_the_street_before_its_town_is_an_address(
    found: Callable[[str], Found],
) -> None:
    text = "Je vis Rue du Marché 12 à Genève depuis mars."
    assert found(text) == [("FR_ADDRESS", "Rue du Marché 12")]


@pytest.mark.parametrize(
    "text",
    [
        "Je suis passé avenue Foch 3 fois cette semaine.",
        "La route nationale 7. Elle part de Paris.",
        "Le chemin rural 12, puis la route départementale 3.",
        "L'album débute à la première place du Billboard 200 avec 618 000 ventes.",
        "Rendez-vous place du 11 Novembre 1918, devant la mairie.",
        "La rue Pasteur 12 a été refaite.",
    ],
)
def test_a_number_after_a_street_that_ends_no_clause_is_no_address(
    found: Callable[[str], Found], text: str
) -> None:
    assert _addresses(found(text)) == []


def test_a_form_address_without_number_may_have_a_swiss_postcode(
    found: Callable[[str], Found],
) -> None:
    text = "Mon adresse : chemin Cretton\n1242 Satigny\nMerci."
    assert found(text) == [("FR_ADDRESS", "chemin Cretton\n1242 Satigny")]


@pytest.mark.parametrize(
    "address",
    [
        "1777, rue Poirier, Montréal (Québec) H2X 1Y4",
        "80 montée Paul, app. 4, Lachapelle, QC H4H 1X4",
        "12 boulevard René-Lévesque Est, bureau 300, Québec (Québec) G1R 2B4",
    ],
)
def test_a_quebec_address_keeps_its_town_and_postcode(
    found_in: Callable[[str, str], Found], address: str
) -> None:
    assert _addresses(found_in(f"J'habite au {address} depuis 2010.", "fr")) == [address]


@pytest.mark.parametrize(
    "address",
    [
        "12 Baker Street, London NW1 6XE",
        "Flat 3, 27 Kings Road, Manchester M1 4BT",
        "221B Baker Street",
        "7 Church Lane,\nOxford\nOX1 2JD",
        "1777 Kramer Court, Springfield, IL 62704",
        "350 5th Avenue, New York, NY 10118",
        "83 Crosby Plaza Apt. 533, Farleytown, MT 73436",
        "17 O'Rafferty Street, Galway H91 E2K3",
        "960 Brandon Way, Toronto, ON M2Y 4H6",
        "4 St Mary's Close",
        "12 baker street",
    ],
)
def test_an_english_address_is_found_whole(
    found_in: Callable[[str, str], Found], address: str
) -> None:
    text = f"Please write to me at {address}. The bins were not collected."
    assert _addresses(found_in(text, "en")) == [address]


@pytest.mark.parametrize(
    "text",
    [
        # A number before lower-case words counts them; a year is no house number.
        "I have 3 close friends who park 2 cars on the green way.",
        "In 2019 Main Street was closed for a month.",
        "Since 2010 High Street shops close early.",
        # HTTP's status and a year before a person, from English prose on this machine.
        "It returns a 431 Request Header Fields Too Large error.",
        "Copyright (C) 1988 Larry Wall",
        "Chapter 4\n\nPark Lane is quiet at night.",
    ],
)
def test_english_prose_with_numbers_has_no_address(
    found_in: Callable[[str, str], Found], text: str
) -> None:
    assert _addresses(found_in(text, "en")) == []


def test_a_french_resident_writing_english_keeps_a_french_address(
    found_in: Callable[[str, str], Found],
) -> None:
    text = "I live at 12 rue Victor Hugo, 75016 Paris, since 2015."
    assert _addresses(found_in(text, "en")) == ["12 rue Victor Hugo, 75016 Paris"]
