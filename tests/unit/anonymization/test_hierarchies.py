"""Generalization hierarchies and the French postcode → département → région table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.anonymization.hierarchies import (
    DateGeneralizer,
    EncodedColumn,
    GroupingGeneralizer,
    HierarchyError,
    NumericBandsGeneralizer,
    PostcodeGeneralizer,
    SuppressGeneralizer,
    build_generalizer,
)
from include.core.geo_fr import (
    DEPARTEMENTS,
    REGIONS,
    PostcodeError,
    departement_code,
    departement_of_postcode,
    region_of_postcode,
)
from include.core.source_config import SOURCES_DIR, load_source_config


def all_levels(column: EncodedColumn) -> list[list[object]]:
    return [list(column.generalized(level)) for level in range(column.top + 1)]


# --- geo_fr -----------------------------------------------------------------------------


def test_table_has_every_departement_and_region() -> None:
    assert len(DEPARTEMENTS) == 101
    assert len(REGIONS) == 18
    metropolitan = {r.code for r in REGIONS.values() if not r.overseas}
    assert len(metropolitan) == 13
    assert {d.region.code for d in DEPARTEMENTS.values()} == set(REGIONS)
    metro_departements = [d for d in DEPARTEMENTS.values() if not d.region.overseas]
    assert len(metro_departements) == 96
    assert {d.code for d in DEPARTEMENTS.values() if d.region.overseas} == {
        "971",
        "972",
        "973",
        "974",
        "976",
    }


@pytest.mark.parametrize(
    ("postcode", "departement", "region"),
    [
        ("75001", "75", "Île-de-France"),
        ("93200", "93", "Île-de-France"),
        ("13001", "13", "Provence-Alpes-Côte d'Azur"),
        ("01000", "01", "Auvergne-Rhône-Alpes"),
        (1000, "01", "Auvergne-Rhône-Alpes"),
        (" 69003 ", "69", "Auvergne-Rhône-Alpes"),
        ("29200", "29", "Bretagne"),
        ("90000", "90", "Bourgogne-Franche-Comté"),
        ("20000", "2A", "Corse"),
        ("20199", "2A", "Corse"),
        ("20200", "2B", "Corse"),
        ("20999", "2B", "Corse"),
        ("97110", "971", "Guadeloupe"),
        ("97200", "972", "Martinique"),
        ("97300", "973", "Guyane"),
        ("97400", "974", "La Réunion"),
        ("97600", "976", "Mayotte"),
    ],
)
def test_postcode_to_departement_and_region(
    postcode: object, departement: str, region: str
) -> None:
    assert departement_code(postcode) == departement
    assert departement_of_postcode(postcode).code == departement
    assert region_of_postcode(postcode).name == region


@pytest.mark.parametrize(
    ("postcode", "message"),
    [
        ("98000", "Monaco"),
        ("97500", "Saint-Pierre-et-Miquelon"),
        ("97133", "Saint-Barthélemy"),
        ("97150", "Saint-Martin"),
        ("98800", "New Caledonia"),
        ("97700", "Saint-Barthélemy"),
        ("96000", "not the postcode of any"),
        ("00100", "not the postcode of any"),
        ("97900", "not the postcode of any"),
        ("7500", "expected five digits"),
        ("2A004", "expected five digits"),
        (True, "not a postcode"),
        (None, "expected five digits"),
    ],
)
def test_postcodes_outside_any_departement_are_refused(postcode: object, message: str) -> None:
    with pytest.raises(PostcodeError, match=message):
        departement_code(postcode)


# --- numeric bands ----------------------------------------------------------------------


def test_age_bands_edges() -> None:
    column = NumericBandsGeneralizer("age", [5, 10, 20]).encode([0, 4, 5, 19, 20, 24, 25, 99])
    assert column.level_names == ("exact", "bands of 5", "bands of 10", "bands of 20", "*")
    assert all_levels(column) == [
        [0, 4, 5, 19, 20, 24, 25, 99],
        ["0-4", "0-4", "5-9", "15-19", "20-24", "20-24", "25-29", "95-99"],
        ["0-9", "0-9", "0-9", "10-19", "20-29", "20-29", "20-29", "90-99"],
        ["0-19", "0-19", "0-19", "0-19", "20-39", "20-39", "20-39", "80-99"],
        ["*"] * 8,
    ]


def test_real_numbers_get_half_open_bands() -> None:
    column = NumericBandsGeneralizer("score", [10], integer=False).encode([9.99, 10.0])
    assert list(column.generalized(1)) == ["[0, 10)", "[10, 20)"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (14, "value 14 is below the field's minimum 15"),
        (111, "value 111 is above the field's maximum 110"),
        ("vingt", "value 'vingt' is not a finite number"),
        (float("inf"), "value inf is not a finite number"),
    ],
)
def test_ages_outside_the_hierarchy_name_field_and_value(value: object, message: str) -> None:
    generalizer = NumericBandsGeneralizer("age", [5], minimum=15, maximum=110)
    with pytest.raises(HierarchyError, match=f"field 'age': {message}"):
        generalizer.encode(pd.Series([30, value], dtype=object))


def test_missing_quasi_identifier_is_an_error() -> None:
    with pytest.raises(HierarchyError, match=r"field 'age': 1 record.* no value"):
        NumericBandsGeneralizer("age", [5]).encode([30, None])


# --- postcodes --------------------------------------------------------------------------


def test_postcode_levels_cover_corsica_and_overseas() -> None:
    column = PostcodeGeneralizer("postcode").encode(["20090", "20600", "97410", "75011", "75011"])
    assert all_levels(column)[1:] == [
        ["2A", "2B", "974", "75", "75"],
        ["Corse", "Corse", "La Réunion", "Île-de-France", "Île-de-France"],
        ["*"] * 5,
    ]
    assert column.n_codes(0) == 4


def test_unknown_postcode_names_field_and_value() -> None:
    with pytest.raises(HierarchyError, match=r"field 'cp': '98000' is the postcode of Monaco"):
        PostcodeGeneralizer("cp").encode(["75001", "98000"])


# --- dates ------------------------------------------------------------------------------


def test_dates_to_month_quarter_year() -> None:
    moments = pd.Series(
        pd.to_datetime(
            ["2026-01-01 00:00", "2026-03-31 23:59", "2026-04-01 00:00", "2025-12-31 12:00"]
        )
    )
    column = DateGeneralizer("at", ["month", "quarter", "year"]).encode(moments)
    assert all_levels(column)[1:] == [
        ["2026-01", "2026-03", "2026-04", "2025-12"],
        ["2026-T1", "2026-T1", "2026-T2", "2025-T4"],
        ["2026", "2026", "2026", "2025"],
        ["*"] * 4,
    ]


def test_dates_accept_iso_strings_dates_and_partial_chains() -> None:
    column = DateGeneralizer("at", ["quarter", "year"]).encode(
        pd.Series(["2026-07-14T10:00:00+02:00", "2026-09-30T23:30:00+02:00"])
    )
    assert all_levels(column)[1:3] == [["2026-T3", "2026-T3"], ["2026", "2026"]]
    column = DateGeneralizer("at", ["year"]).encode([dt.date(2024, 2, 29)])
    assert list(column.generalized(1)) == ["2024"]


def test_bad_date_names_field_and_value() -> None:
    with pytest.raises(HierarchyError, match="field 'at': value 'hier' is not a date"):
        DateGeneralizer("at", ["month"]).encode(["2026-01-01", "hier"])


def test_mixed_time_zones_are_refused_with_advice() -> None:
    with pytest.raises(HierarchyError, match="single time zone"):
        DateGeneralizer("at", ["month"]).encode(
            ["2026-01-01T00:00:00+01:00", "2026-07-01T00:00:00+02:00"]
        )


# --- groupings and suppression ------------------------------------------------------------


def test_grouping_levels_chain_to_star() -> None:
    levels = [
        {"cadre": "salarie", "ouvrier": "salarie", "retraite": "inactif"},
        {"salarie": "tous", "inactif": "tous"},
    ]
    column = GroupingGeneralizer("job", levels).encode(["cadre", "retraite", "ouvrier"])
    assert all_levels(column)[1:] == [
        ["salarie", "inactif", "salarie"],
        ["tous", "tous", "tous"],
        ["*"] * 3,
    ]


def test_grouping_unknown_category_is_an_error() -> None:
    with pytest.raises(HierarchyError, match="field 'job': value 'pilote' is not in the grouping"):
        GroupingGeneralizer("job", [{"cadre": "salarie"}]).encode(["cadre", "pilote"])


def test_suppress_goes_straight_to_star() -> None:
    column = SuppressGeneralizer("gender").encode(["F", "M", "F"])
    assert column.level_names == ("exact", "*")
    assert all_levels(column) == [["F", "M", "F"], ["*", "*", "*"]]


# --- encoding invariants --------------------------------------------------------------------


@settings(derandomize=True, deadline=None, max_examples=40)
@given(st.lists(st.integers(0, 120), min_size=1, max_size=60))
def test_levels_nest_and_maps_agree_with_labels(ages: list[int]) -> None:
    column = NumericBandsGeneralizer("age", [5, 10, 20]).encode(ages)
    assert list(column.generalized(0)) == ages
    for finer in range(column.top + 1):
        for coarser in range(finer, column.top + 1):
            row_codes = column.maps[finer][column.codes]
            through_map = column.labels[coarser].take(column.level_map(finer, coarser)[row_codes])
            assert list(through_map) == list(column.generalized(coarser))
        covered = column.leaf_counts(finer)
        assert covered.sum() == column.n_codes(0)
        assert (covered >= 1).all()
    assert column.n_codes(column.top) == 1


def test_build_generalizer_follows_the_source_config() -> None:
    config = load_source_config(SOURCES_DIR / "consultation.yaml")
    kinds = {spec.name: type(build_generalizer(spec)).__name__ for spec in config.quasi_identifiers}
    assert kinds == {
        "submitted_at": "DateGeneralizer",
        "age": "NumericBandsGeneralizer",
        "gender": "SuppressGeneralizer",
        "postcode": "PostcodeGeneralizer",
        "occupation": "GroupingGeneralizer",
    }
    age = build_generalizer(config.field("age"))
    with pytest.raises(HierarchyError, match="above the field's maximum 110"):
        age.encode(np.array([120]))
    with pytest.raises(HierarchyError, match="has no generalization hierarchy"):
        build_generalizer(config.field("q_velo"))


_COMMUNES = ["Lyon", "Saint-Denis", "Bron", "Ajaccio", None]
_POSTCODES = ["69001", "93200", "97400", "69500", "20000", "75011"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_COMMUNES), st.sampled_from(_POSTCODES)), min_size=0, max_size=60
    ),
    st.booleans(),
)
def test_communes_encode_as_their_name_and_place_pairs_would(
    rows: list[tuple[str | None, str]], arrow_strings: bool
) -> None:
    """The pair codes give what encoding a (name, département) tuple per record gives: the
    same codes, maps and labels at every level (a name repeats across départements)."""
    config = load_source_config(SOURCES_DIR / "signalements.yaml")
    generalizer = build_generalizer(config.field("commune"))
    dtype = "str" if arrow_strings else object
    records = pd.DataFrame(
        {
            "commune": pd.Series([c for c, _ in rows], dtype=dtype),
            "postcode": pd.Series([p for _, p in rows], dtype=dtype),
        }
    )
    encoded = generalizer.encode_records(records)
    place = generalizer.postcode.encode(records["postcode"]).generalized(1)
    named = records["commune"].astype(object).where(records["commune"].notna(), None)
    expected = generalizer.encode(pd.Series(list(zip(named, place, strict=True)), dtype=object))
    assert encoded.codes.tolist() == expected.codes.tolist()
    assert [m.tolist() for m in encoded.maps] == [m.tolist() for m in expected.maps]
    assert [list(labels) for labels in encoded.labels] == [list(x) for x in expected.labels]
    assert all_levels(encoded) == all_levels(expected)
