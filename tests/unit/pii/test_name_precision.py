"""What is never a name on real prose, and which names spread over a text (`name_shape` rules).

The prose examples are the shapes real citizen proposals took for names before
these rules (verbs opening a proposal, nouns with a capital, headings in
capitals, acronyms, institutions, places named after someone); the names are
the shapes they must still catch.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from presidio_analyzer import RecognizerResult

from include.anonymization.pii import Scrubber
from include.anonymization.pii.language import FRENCH
from include.anonymization.pii.recognizers.enumerations import enumerated_names
from include.anonymization.pii.recognizers.french_lexicon import (
    frequency_rank,
    is_bare_acronym,
    is_common_word,
)
from include.anonymization.pii.recognizers.name_shape import (
    CONFIDENT_NAME_KEY,
    is_confident_name,
    name_span,
    widen_name,
)
from include.anonymization.pii.recognizers.person import join_split_names
from include.anonymization.pii.redaction import propagate_names

Found = list[tuple[str, str]]


def test_the_lexicon_is_ranked_by_frequency() -> None:
    rank_of_les, rank_of_carbone = frequency_rank("les"), frequency_rank("carbone")
    assert rank_of_les is not None
    assert rank_of_carbone is not None
    assert rank_of_les < rank_of_carbone
    assert frequency_rank("Riolonxq") is None


@pytest.mark.parametrize(
    "word", ["les", "des", "Interdire", "Taxer", "Subventionner", "artistes", "Carbone", "Climat"]
)
def test_the_lexicon_knows_ordinary_words(word: str) -> None:
    assert is_common_word(word)


@pytest.mark.parametrize("word", ["Dupont", "Jancovici", "Roux", "Boulanger", "Pierre", "Inès"])
def test_surnames_and_first_names_are_not_ordinary_words(word: str) -> None:
    # Surnames that are also words ("roux", "boulanger") are capitalised about as often.
    assert not is_common_word(word)


@pytest.mark.parametrize("word", ["RIC", "TVA", "CPAM", "SNCF"])
def test_bare_acronyms_are_no_name(word: str) -> None:
    assert is_bare_acronym(word)
    assert name_span(word, 0, len(word), FRENCH) is None


@pytest.mark.parametrize(
    "value",
    ["", "  ", "\n", "x", "Interdire", "Le RIC", "Minimum Vieillesse", "de la République"],
)
def test_never_a_name_without_a_cue(value: str) -> None:
    assert name_span(value, 0, len(value), FRENCH) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Lu chez Jancovici hier.", "Jancovici"),
        ("Vu avec Inès Roux.", "Inès Roux"),
        ("Le film avec Will Smith.", "Will Smith"),
        ("Il épouse Ben Affleck.", "Ben Affleck"),
        ("Un texte de Russell M. Nelson.", "Russell M. Nelson"),
        ("le parti de Le Pen.", "Le Pen"),
        # Suffixes, dotted initialisms and surnames with a lower-case prefix.
        ("Un film produit par Marc Tillier Jr. et diffusé.", "Marc Tillier Jr."),
        ("Le sketch de Paul D.J. passe demain.", "Paul D.J."),
        ("Un rôle pour Colin Hanks ce soir.", "Colin Hanks"),
        ("Le conseiller Maarten terBrugge démissionne.", "Maarten terBrugge"),
        ("selon ex-Président Durandal, tout va bien.", "Durandal"),  # it opens no name
        ("Un livre de Primo Levi est au programme.", "Primo Levi"),
        ("Un film avec Grace Kelly ce soir.", "Grace Kelly"),
    ],
)
def test_name_words_are_kept(text: str, name: str) -> None:
    span = name_span(text, 0, len(text), FRENCH)
    assert span is not None
    assert text[span[0] : span[1]] == name


@pytest.mark.parametrize(
    "text",
    [
        "Interdire les pesticides. Taxer le kérosène. Subventionner le bio.",
        "Le RIC doit être réfléchi. La TVA et la CPAM aussi.",
        "Les artistes sont outrés par cette obligation. Des artistes partent.",
        "Le collège Jean Moulin est sale, la place Victor Hugo aussi.",
        "Il y a des travaux gare de Lyon et rue Victor Hugo.",
        "Le Président de la République a décrété l'urgence.",
        "Un nombre limité de Carbone chaque année. Le montant Carbone versé en Janvier.",
        "Le CETA et le MERCOSUR sont deux accords.",
        "Les problèmes :\n\n— Comme elles sont loin, chacun vient en voiture.\n— Obliger les "
        "hypermarchés à financer des navettes.",
        "Voici mes idées.\n\nFACILITER\n-créer un label\nOBLIGATION\n-quota carbone",
        "Audit annuel sur leur engagement Dev.Dur et la commande publique.",
        "Les voitures stationnent rue du Maréchal Foch et place Victor Hugo.",
        "Le marché se tient sur la place de Gaulle et place Jean Jaurès.",
        "Les voitures stationnent av. Victor Hugo et bd. Jean Jaurès.",
        "Le bus passe par l'avenue Jean Jaurès, puis devant l'école Jules Ferry.",
        "Avocat au Barreau de Paris depuis vingt ans.",
        # A lone word after an article, and a verb in the imperative opening a sentence.
        "Financer la rénovation par un Loto qui fait gagner des vélos.",
        "Douze communes touchées, dont la commune du Robert.",
        "Consumons mieux et créons beaucoup moins de déchets.",
        "Arrêtons le gaspillage.\nRendez public le contrôle des émissions.",
        # An identifier's name in lower case, before a number whose key is wrong (the gate
        # blocks its shape).
        "iban de29 3704 0044 0532 0130 00",
    ],
)
def test_real_prose_keeps_every_word(found: Callable[[str], Found], text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Le monde apprend la mort de Marilyn Monroe.", "Marilyn Monroe"),
        ("Lisez les chroniques de Nicole Esterolle.", "Nicole Esterolle"),
        ("La fondation de Leonardo Dicaprio donne.", "Leonardo Dicaprio"),
        ("Le film est dédié à l'acteur River Phoenix.", "River Phoenix"),
        # A role, one adjective between allowed: the model tags these ORG, MISC or nothing.
        ("Une chanson avec la chanteuse barbadienne Rihanna.", "Rihanna"),
        ("Le Premier ministre Fumimaro Konoe soumet ce projet.", "Fumimaro Konoe"),
        # Whom citizens write about: the model missed these foreign names.
        ("Ma collègue Ninetta Raurica se gare sur le trottoir.", "Ninetta Raurica"),
        ("La locataire Folker Linke fait du bruit.", "Folker Linke"),
        ("Mon copain Wilma Reuter a vu la scène.", "Wilma Reuter"),
        ("Il entre à la place de Robbie Keane.", "Robbie Keane"),
        # "place" in a locution, or glued in a compound word, names no square or street.
        ("Il a pris la place de Jhonny Peralta au conseil.", "Jhonny Peralta"),
        ("Le maire en place Umberto Caligaris refuse.", "Umberto Caligaris"),
        ("Au rez-de-chaussée Martine Kowalczyk tient la loge.", "Martine Kowalczyk"),
        # A place word ending a sentence or a line is no street before the name after it.
        (
            "Il y a des trous partout sur la route. Marguerite Lelièvre\n06 12 34 56 78",
            "Marguerite Lelièvre",
        ),
        ("Le bus ne s'arrête plus près de la gare. Pierre Lemaire", "Pierre Lemaire"),
        ("Les poubelles débordent dans la rue\nJeanne Morvan", "Jeanne Morvan"),
    ],
)
def test_a_name_after_a_noun_and_de_stays_a_name(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Je suis Française et je paie mes impôts ici.",
        "Je suis Parisien depuis vingt ans.",
        "Je suis Breton et fier de l'être.",
        "Je suis Infirmière à l'hôpital, je finis tard.",
        "Je suis Retraitée et j'habite seule.",
        "I am British and have lived in Bordeaux for ten years. Many British residents agree.",
        "I am French Canadian and I live in Lyon.",
        "I am Jewish and I do not feel safe in the street.",
        "i am british and i live in lyon",
    ],
)
def test_what_the_writer_is_after_je_suis_or_i_am_is_no_name(
    found: Callable[[str], Found], text: str
) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Le lampadaire est en panne.\nCordialement,\nŁukasz Kubiak", "Łukasz Kubiak"),
        ("Merci de votre retour. Signé : Sıla Şahin", "Sıla Şahin"),
        ("Bonjour, je m'appelle Elif İnönü et j'habite rue de la Gare.", "Elif İnönü"),
        ("Madame Świątek a fait une chute devant l'école.", "Świątek"),
        ("Ștefan Țurcanu, 12 rue des Lilas, 69003 Lyon.\nLe trou.", "Ștefan Țurcanu"),
    ],
)
def test_names_in_letters_beyond_latin_1_are_names(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    """Polish, Turkish, Romanian letters: "Ł", "Ş", "İ", "ı", "Ș", "Ț" are capitals and
    lower-case letters like any other (Faker's pl_PL and tr_TR names were left in clear)."""
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Nom : Lefort\nPrénom : Jenna\nAdresse : 3 rue de la Paix", ["Lefort", "Jenna"]),
        ("NOM : LEFORT Prénom : Marc", ["LEFORT", "Marc"]),
        ("Nom de jeune fille : Martin", ["Martin"]),
        ("Name: Clark\nFirst name: Jenna", ["Clark", "Jenna"]),
        ("Last name: Okafor", ["Okafor"]),
        ("Her maiden name is Clark.", ["Clark"]),
        ("My surname is Clark and my first name is Jenna.", ["Clark", "Jenna"]),
        ("Signé : Marie Dupont Cordialement", ["Marie Dupont"]),
    ],
)
def test_form_labels_announce_a_name_and_are_never_one(
    found: Callable[[str], Found], text: str, names: list[str]
) -> None:
    assert [value for kind, value in found(text) if kind == "PERSON"] == names


@pytest.mark.parametrize(
    "text", ["Street name: Victoria Road is closed.", "Nom du projet : Jardin Partagé"]
)
def test_a_label_names_a_person_only_for_a_person(found: Callable[[str], Found], text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The French Air Force flew over the school at noon.",
        "I went to the British Museum with my class.",
        "The Catholic Church near the school rings at night.",
        "We flew to New York and back last month.",
    ],
)
def test_a_people_or_a_faith_opens_bodies_and_places_not_names(
    found: Callable[[str], Found], text: str
) -> None:
    assert found(text) == []
    assert ("PERSON", "Christian Dupont") in found(f"{text} I met Christian Dupont there.")


@pytest.mark.parametrize(
    "text",
    [
        "Madame La Maire, les trottoirs sont sales.",
        "Monsieur Le Préfet, je vous écris au sujet du pont.",
        "Le bruit continue.\nSigné : Les habitants de la résidence",
        "Le bruit continue.\nSigné : Collectif des riverains du quartier",
        "The noise goes on.\nSigned: The Residents Association",
        "Ici Bordeaux, on attend toujours le tram.",
        "Ici Bordeaux, riverains en colère : on attend toujours le tram.",
    ],
)
def test_a_cue_before_a_title_a_group_or_a_place_announces_no_one(
    found: Callable[[str], Found], text: str
) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Le bruit continue.\nSigné : Le Gall", "Le Gall"),
        ("Ici Marie Dupont, du 3e étage.", "Marie Dupont"),
        ("Bjr, Ici LAINE Josette, riveraine de la rue Germain.", "LAINE Josette"),
        # The model labels the surname LOC here; the whole was left in clear, or the surname.
        ("Ici DURAND Michelle, riveraine de la rue Carnot.", "DURAND Michelle"),
        ("Ici ROCHE Michelle, riveraine de la rue Carnot.", "ROCHE Michelle"),
        ("Ici POULAIN Maggie, riveraine du chemin Ribeiro.", "POULAIN Maggie"),
        # A town's name to the model, but the writer is a resident.
        ("Ici Alexandria N'Diaye, riveraine de la rue Menard.", "Alexandria N'Diaye"),
        ("Moi c'est Aimé, j'habite dans la rue Mary depuis peu.", "Aimé"),
        ("Moi c'est Julie, j'habite en face.", "Julie"),
    ],
)
def test_the_same_cues_before_a_name_still_announce_it(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Je suis Pierre Boulanger, j'habite ici.", "Pierre Boulanger"),
        ("Je suis Dupont, votre voisin du dessus.", "Dupont"),
        ("Je suis Dominique.", "Dominique"),
        ("I am Sarah Jones and I live in Lyon.", "Sarah Jones"),
        ("I am Declan, the tenant of the flat.", "Declan"),
        ("je suis inès roux", "inès roux"),
    ],
)
def test_a_name_after_je_suis_or_i_am_stays_a_name(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Le lampadaire est en panne.\nC. Courtois", "C. Courtois"),
        ("Le trottoir est défoncé.\nBIRCH Ben", "BIRCH Ben"),
        ("Bien crdialement,\nAimé\n07 41 00 28 07", "Aimé"),
        ("Madame Boulanger se plaint du bruit.", "Boulanger"),
    ],
)
def test_signatures_and_cued_names_stand_even_when_they_are_words(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(
    ("text", "word", "is_name"),
    [
        ("Consumons mieux.", "Consumons", False),
        ("Rendez public le contrôle.", "Rendez", False),
        ("Martinez a signé.", "Martinez", True),
        ("Perez a signé.", "Perez", True),
        ("Il voit Simons.", "Simons", True),  # inside a sentence: never a verb by this rule
    ],
)
def test_a_lone_imperative_opening_a_sentence_is_no_name(
    text: str, word: str, is_name: bool
) -> None:
    start = text.index(word)
    assert (name_span(text, start, start + len(word), FRENCH) is not None) is is_name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Il bat coup sur coup Marat Safin en finale.", "Marat Safin"),
        ("Une toile de Vincent van Gogh est vendue.", "Vincent van Gogh"),
        ("Un film produit par Arthur Rankin Jr. et diffusé.", "Arthur Rankin Jr."),
    ],
)
def test_a_name_the_model_half_tagged_is_widened_to_its_name_words(text: str, name: str) -> None:
    first = name.split()[0]
    start = text.index(first)
    assert widen_name(text, start, start + len(first), FRENCH) == (start, start + len(name))


@pytest.mark.parametrize(
    ("text", "tagged", "name"),
    [
        # A suffix's or an initialism's dot is the name's, not the sentence's.
        ("Un film produit par Marc Tillier Jr. et diffusé.", "Marc Tillier Jr", "Marc Tillier Jr."),
        # The tokenizer splits an Irish "O'": the rest of the name follows the apostrophe.
        ("Il a battu Declan O 'Brien en finale.", "Declan O", "Declan O 'Brien"),
        # A name the model cut at its apostrophe.
        ("Le gardien Michel Preud'homme arrête tout.", "Michel Preud'", "Michel Preud'homme"),
        # After a lone known first name, a surname that is also an ordinary word.
        ("Une lettre de Lucie Charbon arrive.", "Lucie", "Lucie Charbon"),
        ("Un rôle pour Colin Hanks ce soir.", "Colin", "Colin Hanks"),  # one slip from "thanks"
        # A surname with a lower-case prefix.
        ("Le conseiller Maarten terBrugge démissionne.", "Maarten", "Maarten terBrugge"),
        ("Un discours de Youssef ul-Hassan à la tribune.", "Youssef", "Youssef ul-Hassan"),
        # Before the name, a capitalised word that is no ordinary word (not a first name only).
        (
            "Une victoire contre Ilona Brzezicka-Wolf en trois sets.",
            "Brzezicka-Wolf",
            "Ilona Brzezicka-Wolf",
        ),
    ],
)
def test_widening_takes_suffixes_split_names_surnames_and_first_words(
    text: str, tagged: str, name: str
) -> None:
    start, name_start = text.index(tagged), text.index(name)
    assert widen_name(text, start, start + len(tagged), FRENCH) == (
        name_start,
        name_start + len(name),
    )


@pytest.mark.parametrize(
    ("text", "tagged"),
    [
        ("Il a écrit à Jean Mairie de quartier.", "Jean"),  # an institution word
        ("Avec le RIC Brzezicka-Wolf revient.", "Brzezicka-Wolf"),  # an acronym before
        ("Toutefois Brzezicka-Wolf gagne.", "Brzezicka-Wolf"),  # the sentence's first word
        ("Un film avec Inès Roux. Fin", "Inès Roux"),  # the sentence's full stop
    ],
)
def test_widening_stops_at_institutions_acronyms_openings_and_full_stops(
    text: str, tagged: str
) -> None:
    start = text.index(tagged)
    assert widen_name(text, start, start + len(tagged), FRENCH) == (start, start + len(tagged))


@pytest.mark.parametrize(
    "text",
    [
        # Latin ordinal adverbs numbering a list, the unaccented "grâce à".
        "Primo : réduire les emballages. Secundo : taxer le kérosène.",
        "Grace au vélo, on respire mieux en ville.",
        "Grace aux bénévoles, le jardin partagé revit.",
        # A site's or a product's name before its link, a label's value after a colon.
        "Des vélos comme Cyclomix https://example.org/cyclomix pour tous",
        "Une idée simple.\nPlus d'info: Recyclorama",
        # A heading: an ordinary word in capitals beside a capitalised one.
        "Focus PESTICIDES : une urgence pour nos rivières",
    ],
)
def test_list_adverbs_locutions_sites_and_headings_are_no_names(
    found: Callable[[str], Found], text: str
) -> None:
    assert [value for kind, value in found(text) if kind == "PERSON"] == []


def test_a_first_name_before_other_words_stays_a_name(found: Callable[[str], Found]) -> None:
    assert ("PERSON", "Grace") in found("Grace a signé la pétition hier.")


def _spans(text: str, *values: str) -> list[tuple[int, int]]:
    return [(text.index(value), text.index(value) + len(value)) for value in values]


def _values(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_an_item_of_a_list_of_people_is_a_name() -> None:
    text = "Le jury réunit Camille Vasseur, Bastien Morel, Ysolde et Gaspard Lenoir."
    people = _spans(text, "Camille Vasseur", "Bastien Morel", "Gaspard Lenoir")
    assert _values(text, enumerated_names(text, people, [], language=FRENCH)) == ["Ysolde"]
    pair = "Elle chante en duo avec Oriane et Lucas Ferrand."
    assert _values(
        pair, enumerated_names(pair, _spans(pair, "Lucas Ferrand"), [], language=FRENCH)
    ) == ["Oriane"]


def test_first_names_listed_with_one_person_are_names() -> None:
    text = "Elle est la mère de Julien, Thomas et Hugo."
    found = enumerated_names(text, _spans(text, "Julien"), [], language=FRENCH)
    assert _values(text, found) == ["Thomas", "Hugo"]
    # Items that are no first names need a second person in a list of three or more.
    text = "Le jury réunit Camille Vasseur, Sorenza et Orlanda."
    assert enumerated_names(text, _spans(text, "Camille Vasseur"), [], language=FRENCH) == []


def test_a_list_of_places_or_bodies_does_not_become_names() -> None:
    text = "La tournée passe par Lille, Rouen, Bastien Morel et Lucie Garnier."
    people = _spans(text, "Bastien Morel", "Lucie Garnier")
    assert enumerated_names(text, people, _spans(text, "Lille", "Rouen"), language=FRENCH) == []
    one = "La tournée passe par Lille, Rouen, Tours et Bastien Morel y chante."
    assert enumerated_names(one, _spans(one, "Bastien Morel"), [], language=FRENCH) == []
    for text in (
        "Pourtant, Bastien Morel refuse.",  # an adverb and a name are no pair
        "Un accord entre Bastien Morel et SNCF.",  # an acronym
        "Avec Bastien Morel, Lucie Garnier et Conseil Départemental.",  # an institution
        "Signé Bastien Morel et Monsieur Durand.",  # a civility
    ):
        assert enumerated_names(text, _spans(text, "Bastien Morel"), [], language=FRENCH) == [], (
            text
        )


def test_a_list_needs_an_anchor_or_the_model_s_own_tag() -> None:
    text = "Il cite Sorenza et Orlanda."  # no first name, no surname: no anchor
    assert enumerated_names(text, _spans(text, "Sorenza"), [], language=FRENCH) == []
    text = "Il cite Carbone, Camille Vasseur et Lucie Garnier."
    people = _spans(text, "Camille Vasseur", "Lucie Garnier")
    assert enumerated_names(text, people, [], language=FRENCH) == []  # an ordinary word
    tagged = enumerated_names(
        text, people, [], tagged_people=_spans(text, "Carbone"), language=FRENCH
    )
    assert _values(text, tagged) == ["Carbone"]  # the model took it for a person


def test_the_one_person_the_model_took_for_a_place_in_a_list_of_people_is_a_name() -> None:
    text = "Le casting réunit Camille Vasseur, Orlanda Kervellec, Bastien Morel et Lucie Garnier."
    people = _spans(text, "Camille Vasseur", "Bastien Morel", "Lucie Garnier")
    found = enumerated_names(text, people, _spans(text, "Orlanda Kervellec"), language=FRENCH)
    assert _values(text, found) == ["Orlanda Kervellec"]


@pytest.mark.parametrize(
    ("text", "places"),
    [
        # Towns stay towns, however many people the list names.
        (
            "Avec Camille Vasseur, Bastien Morel, Paris, Lyon et Marseille.",
            ["Paris", "Lyon", "Marseille"],
        ),
        ("Avec Camille Vasseur, Bastien Morel, Lucie Garnier et Marseille.", ["Marseille"]),
        # Two places or bodies in the list: it is no list of people.
        (
            "Avec Camille Vasseur, Bastien Morel, Tulsa Creek et Kenwood Harbor.",
            ["Tulsa Creek", "Kenwood Harbor"],
        ),
        # No full name's shape: a stop word, an ordinary word, an institution, an acronym.
        ("Avec Camille Vasseur, Bastien Morel, Lucie Garnier et Le Havre.", ["Le Havre"]),
        ("Avec Camille Vasseur, Bastien Morel, Lucie Garnier et Mont Blanc.", ["Mont Blanc"]),
        ("Avec Camille Vasseur, Bastien Morel, Lucie Garnier et Air France.", ["Air France"]),
        ("Avec Camille Vasseur, Bastien Morel, Lucie Garnier et Groupe SEB.", ["Groupe SEB"]),
        # Four words: more than a full name.
        (
            "Avec Camille Vasseur, Bastien Morel, Lucie Garnier, Tulsa Creek Valley Ranch.",
            ["Tulsa Creek Valley Ranch"],
        ),
    ],
)
def test_a_place_or_a_body_in_a_list_of_people_stays_as_it_is(text: str, places: list[str]) -> None:
    items = ["Camille Vasseur", "Bastien Morel", "Lucie Garnier"]
    people = _spans(text, *(item for item in items if item in text))
    assert enumerated_names(text, people, _spans(text, *places), language=FRENCH) == []


def test_a_place_in_a_list_needs_two_anchored_people() -> None:
    # "Sorenza" and "Jancovici" are no anchors: neither a first name nor two words.
    text = "Il cite Sorenza, Jancovici et Orlanda Kervellec."
    people = _spans(text, "Sorenza", "Jancovici")
    assert enumerated_names(text, people, _spans(text, "Orlanda Kervellec"), language=FRENCH) == []


def test_lists_of_people_and_of_towns_through_the_scrubber(
    found: Callable[[str], Found],
) -> None:
    # The model tags "Sorenza" MISC: the list makes it a name.
    people = found("Le prix revient à Yannick Ferrand, Sorenza, Bastien Morel et Lucie Garnier.")
    assert ("PERSON", "Sorenza") in people
    towns = found("La tournée passe par Lille, Rouen, Bastien Morel et Lucie Garnier.")
    assert [value for _, value in towns] == ["Bastien Morel", "Lucie Garnier"]
    # The model tags "Tulsa Creek" LOC, the only item it did not take for a person.
    film = "Le film réunit Camille Vasseur, Bastien Morel, Tulsa Creek et Lucie Garnier."
    assert ("PERSON", "Tulsa Creek") in found(film)
    cities = found("Le jury réunit Camille Vasseur, Bastien Morel, Paris, Lyon et Marseille.")
    assert [value for _, value in cities] == ["Camille Vasseur", "Bastien Morel"]


def test_pieces_of_one_name_around_a_particle_are_joined() -> None:
    text = "Une lettre de Gaspard de La Tour et de Pierre, de Lyon."
    pieces = [
        RecognizerResult("PERSON", *span, 0.85)
        for span in _spans(text, "Gaspard", "La Tour", "Pierre", "Lyon")
    ]
    joined = join_split_names(text, pieces)
    assert [text[r.start : r.end] for r in joined] == ["Gaspard de La Tour", "Pierre", "Lyon"]
    text = "Un portrait de Gaspard de la Tour, par Lucie van der Berg."
    pieces = [
        RecognizerResult("PERSON", *span, 0.85)
        for span in _spans(text, "Gaspard", "Tour", "Lucie", "Berg")
    ]
    joined = join_split_names(text, pieces)
    assert [text[r.start : r.end] for r in joined] == ["Gaspard de la Tour", "Lucie van der Berg"]


@pytest.mark.parametrize(
    "text",
    [
        "Un but de Henrik Pedersen de Silkeborg.",  # "de" starts a club or a place
        "Le défenseur Roger Piantoni. Reims gagne.",
        "Il voit Jean Monnet, espion.",
    ],
)
def test_widening_stops_at_french_particles_punctuation_and_sentences(text: str) -> None:
    for name in ("Henrik Pedersen", "Roger Piantoni", "Jean Monnet"):
        if name in text:
            start = text.index(name)
            assert widen_name(text, start, start + len(name), FRENCH) == (start, start + len(name))


def test_words_glued_by_a_missing_space_are_no_name(found: Callable[[str], Found]) -> None:
    assert found("L'entreprise devra lui verserLes autorités le savent.") == []


def test_no_empty_span_is_ever_emitted(scrubber: Scrubber) -> None:
    texts = ["— \n", "Signé : \n", "Cordialement,\n  \n", "au(x) fraudeur(s). x"]
    for text, result in zip(texts, scrubber.scrub_texts(texts), strict=True):
        assert all(text[e.start : e.end].strip() for e in result.entities), result
        assert all(e.end > e.start for e in result.entities)


def _person(start: int, end: int, *, confident: bool) -> RecognizerResult:
    metadata = {CONFIDENT_NAME_KEY: True} if confident else {}
    return RecognizerResult("PERSON", start, end, 0.85, recognition_metadata=metadata)


def test_only_confident_names_spread() -> None:
    text = "Carbone est cher. Le Carbone monte. Signé Jancovici. Jancovici encore."
    assert propagate_names(text, [_person(0, 7, confident=False)], FRENCH) == []
    cued = [_person(text.index("Jancovici"), text.index("Jancovici") + 9, confident=True)]
    spread = {(r.start, r.end) for r in propagate_names(text, cued, FRENCH)}
    second = text.rindex("Jancovici")
    assert (second, second + 9) in spread


def test_a_confident_name_spreads_no_ordinary_word_nor_onto_a_place() -> None:
    text = "Je suis Pierre Roux. Les roux et la rue Pierre Brossolette. Pierre viendra."
    start = text.index("Pierre Roux")
    spread = propagate_names(text, [_person(start, start + 11, confident=True)], FRENCH)
    values = [(text[r.start : r.end], r.start) for r in spread]
    assert ("Pierre", text.rindex("Pierre")) in values  # a recurring first name
    assert ("Pierre", text.index("Pierre Brossolette")) not in values  # a street
    assert ("roux", text.index("roux")) not in values  # lower case in a text with capitals


def test_confidence_needs_a_first_name_and_a_surname() -> None:
    assert is_confident_name("Inès Roux")
    assert is_confident_name("DUPONT Marie")
    assert not is_confident_name("Jancovici")
    assert not is_confident_name("Saint Gobain")
    assert not is_confident_name("Le CETA")


def test_a_name_recurring_after_a_cue_is_redacted_everywhere(
    found: Callable[[str], Found],
) -> None:
    text = "Je m'appelle Inès Roux. Signalé par Inès hier."
    assert ("PERSON", "Inès") in found(text)


def test_in_a_text_typed_in_lower_case_a_stop_word_ends_the_name() -> None:
    """No capital tells the name from the words after it: the model's span ran on."""
    text = "hi, i saw ruth sims and the bins stink"
    start = text.index("ruth")
    assert name_span(text, start, len(text), FRENCH, lower_case_text=True) == (start, start + 9)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Le lampadaire clignote depuis une semaine. Pouvez-vous passer ? Lucie Parent",
         "Lucie Parent"),
        ("Le bus 12 ne passe plus le dimanche, Sylvain Content nous l'a confirmé.",
         "Sylvain Content"),
    ],
)  # fmt: skip
def test_a_surname_that_is_a_letter_word_is_kept_with_its_first_name(
    found: Callable[[str], Found], text: str, name: str
) -> None:
    """A letter word ("Parent", "Content") opens no name ("je suis parent") but may end one."""
    assert ("PERSON", name) in found(text)
