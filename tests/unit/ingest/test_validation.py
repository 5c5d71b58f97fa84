"""Typing rules and reason codes of the row validator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.core.source_config import SourceConfig, load_all_sources, parse_source_config
from include.ingest.errors import RowRejectedError
from include.ingest.validation import RowValidator

SETTINGS = settings(derandomize=True, deadline=None, max_examples=150)
CONSULTATION = load_all_sources()["consultation"]
# Hypothesis tests cannot take function-scoped fixtures; the validator is stateless.
VALIDATOR = RowValidator(CONSULTATION)


@pytest.fixture
def consultation() -> SourceConfig:
    return CONSULTATION


@pytest.fixture
def validator() -> RowValidator:
    return VALIDATOR


def _row(**changes: Any) -> dict[str, Any]:
    """A valid consultation row as CSV gives it (strings), with changes; None deletes."""
    row = {
        "response_id": "4f0c3a52-7d0e-4b7e-9c55-0d6f2b3f7a10",
        "submitted_at": "2026-03-26T08:20:34+01:00",
        "age": "34",
        "gender": "F",
        "postcode": "01000",
        "occupation": "cadre",
        "q_transports": "3",
        "q_velo": "5",
        "q_pietons": "1",
        "opinion": "Plus de pistes cyclables, s'il vous plaît.",
        "respondent_email": "",
    }
    row.update(changes)
    return {name: value for name, value in row.items() if value is not None}


def _reason(validator: RowValidator, row: dict[str, Any]) -> str:
    with pytest.raises(RowRejectedError) as caught:
        validator.validate(row)
    return caught.value.reason


def test_a_valid_csv_row_is_typed_in_field_order(validator: RowValidator) -> None:
    values = validator.validate(_row())
    assert dict(zip(validator.columns, values, strict=True)) == {
        "response_id": "4f0c3a52-7d0e-4b7e-9c55-0d6f2b3f7a10",
        "submitted_at": datetime(2026, 3, 26, 7, 20, 34, tzinfo=UTC),
        "age": 34,
        "gender": "F",
        "postcode": "01000",
        "occupation": "cadre",
        "q_transports": 3,
        "q_velo": 5,
        "q_pietons": 1,
        "opinion": "Plus de pistes cyclables, s'il vous plaît.",
        "respondent_email": None,
    }


def test_json_values_numbers_and_numeric_strings(validator: RowValidator) -> None:
    values = validator.validate(_row(age=34, q_transports=3.0, q_velo="5", opinion=None))
    assert values[2:9] == [34, "F", "01000", "cadre", 3, 5, 1]
    assert values[9] is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"age": None}, "missing_required:age"),
        ({"age": ""}, "missing_required:age"),
        ({"age": "   "}, "missing_required:age"),
        ({"response_id": None, "age": None}, "missing_required:response_id"),
        ({"age": "trente"}, "wrong_type:age"),
        ({"age": "35 ans"}, "wrong_type:age"),
        ({"age": "34.0"}, "wrong_type:age"),
        ({"age": 34.5}, "wrong_type:age"),
        ({"age": True}, "wrong_type:age"),
        ({"age": "٣٤"}, "wrong_type:age"),  # Arabic-Indic digits: int() takes them, we don't
        ({"q_velo": "4,5"}, "wrong_type:q_velo"),
        ({"q_velo": "5/5"}, "wrong_type:q_velo"),
        ({"q_velo": "6"}, "out_of_range:q_velo"),
        ({"q_velo": 0}, "out_of_range:q_velo"),
        ({"age": "9" * 5000}, "out_of_range:age"),
        ({"age": "14"}, "out_of_range:age"),
        ({"gender": " F "}, "not_allowed:gender"),
        ({"gender": "f"}, "not_allowed:gender"),
        ({"gender": 1}, "wrong_type:gender"),
        ({"occupation": "Autre (préciser)"}, "not_allowed:occupation"),
        ({"postcode": 1000}, "wrong_type:postcode"),
        ({"postcode": "1000"}, "bad_format:postcode"),
        ({"postcode": "75 001"}, "bad_format:postcode"),
        ({"postcode": "750010"}, "bad_format:postcode"),
        ({"submitted_at": "31/02/2026"}, "bad_date:submitted_at"),
        ({"submitted_at": "hier"}, "bad_date:submitted_at"),
        ({"submitted_at": "2026-02-30T10:00:00"}, "bad_date:submitted_at"),
        ({"submitted_at": "0000-00-00 00:00:00"}, "bad_date:submitted_at"),
        ({"submitted_at": 1774509634}, "wrong_type:submitted_at"),
        ({"opinion": "x" * 10_001}, "too_long:opinion"),
        ({"opinion": "nul\x00byte"}, "bad_format:opinion"),
        ({"opinion": "lone \udc80 surrogate"}, "invalid_utf8"),
        ({"respondent_email": ["a@b.fr"]}, "wrong_type:respondent_email"),
    ],
)
def test_each_bad_value_has_its_reason(
    validator: RowValidator, changes: dict[str, Any], reason: str
) -> None:
    assert _reason(validator, _row(**changes)) == reason


def test_the_first_bad_field_in_config_order_is_the_reason(validator: RowValidator) -> None:
    row = _row(q_pietons="zéro", age="trente", submitted_at="hier")
    assert _reason(validator, row) == "bad_date:submitted_at"


def test_limits_are_inclusive_and_long_text_up_to_max_length_passes(
    validator: RowValidator,
) -> None:
    values = validator.validate(_row(age="110", q_velo="1", opinion="é" * 10_000))
    assert (values[2], values[7], len(values[9])) == (110, 1, 10_000)


def test_undeclared_fields_are_dropped(validator: RowValidator) -> None:
    values = validator.validate(_row(secret_note="à ne pas publier"))
    assert len(values) == len(validator.columns)
    assert "à ne pas publier" not in values


def test_naive_timestamps_are_paris_time_and_stored_in_utc(validator: RowValidator) -> None:
    winter = validator.validate(_row(submitted_at="2026-01-15 10:00:00"))[1]
    summer = validator.validate(_row(submitted_at="2026-07-15T10:00:00"))[1]
    zulu = validator.validate(_row(submitted_at="2026-07-15T10:00:00Z"))[1]
    assert winter == datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert summer == datetime(2026, 7, 15, 8, tzinfo=UTC)
    assert zulu == datetime(2026, 7, 15, 10, tzinfo=UTC)
    assert {v.tzinfo for v in (winter, summer, zulu)} == {UTC}


def test_the_id_field_is_required_even_if_the_yaml_says_optional(
    consultation: SourceConfig,
) -> None:
    data = consultation.model_dump(by_alias=True)
    for spec in data["fields"]:
        if spec["name"] == "response_id":
            spec["required"] = False
    validator = RowValidator(parse_source_config(data, "test"))
    assert _reason(validator, _row(response_id="")) == "missing_required:response_id"


def _typed_config() -> SourceConfig:
    return parse_source_config(
        {
            "name": "typed",
            "title": "t",
            "description": "d",
            "id_field": "id",
            "retention_days": 1,
            "l": 1,
            "fields": [
                {"name": "id", "type": "integer", "role": "other"},
                {"name": "ratio", "type": "number", "role": "other", "minimum": -1, "maximum": 1},
                {"name": "flag", "type": "boolean", "role": "other", "required": False},
                {
                    "name": "day",
                    "type": "date",
                    "role": "quasi_identifier",
                    "required": False,
                    "hierarchy": {"kind": "date"},
                },
            ],
        },
        "test",
    )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"id": "7", "ratio": "-0.5", "flag": "TRUE", "day": "2026-02-28"},
         [7, -0.5, True, date(2026, 2, 28)]),
        ({"id": 7, "ratio": 1, "flag": 0, "day": ""}, [7, 1.0, False, None]),
        ({"id": "+7", "ratio": ".5e0", "flag": False}, [7, 0.5, False, None]),
    ],
)  # fmt: skip
def test_number_boolean_and_date_fields(row: dict[str, Any], expected: list[Any]) -> None:
    assert RowValidator(_typed_config()).validate(row) == expected


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ratio": "nan"}, "wrong_type:ratio"),
        ({"ratio": float("nan")}, "wrong_type:ratio"),
        ({"ratio": "1e999"}, "out_of_range:ratio"),
        ({"ratio": "1.5"}, "out_of_range:ratio"),
        ({"ratio": "0,5"}, "wrong_type:ratio"),
        ({"flag": "oui"}, "wrong_type:flag"),
        ({"flag": 2}, "wrong_type:flag"),
        ({"day": "2026-02-29"}, "bad_date:day"),
        ({"day": 20260228}, "wrong_type:day"),
        ({"id": str(2**63)}, "out_of_range:id"),
    ],
)
def test_typed_field_reasons(changes: dict[str, Any], reason: str) -> None:
    row = {"id": "1", "ratio": "0"} | changes
    assert _reason(RowValidator(_typed_config()), row) == reason


@SETTINGS
@given(age=st.integers(min_value=-(10**6), max_value=10**6), as_text=st.booleans())
def test_integers_in_range_pass_and_others_are_out_of_range(age: int, as_text: bool) -> None:
    row = _row(age=str(age) if as_text else age)
    if 15 <= age <= 110:
        assert VALIDATOR.validate(row)[2] == age
    else:
        assert _reason(VALIDATOR, row) == "out_of_range:age"


@SETTINGS
@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_any_offset_timestamp_is_the_same_instant_in_utc(
    moment: datetime, offset_minutes: int
) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    value = VALIDATOR.validate(_row(submitted_at=aware.isoformat()))[1]
    assert value == aware
    assert value.tzinfo is UTC


@SETTINGS
@given(text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_any_text_without_nul_passes_unchanged(text: str) -> None:
    value = VALIDATOR.validate(_row(opinion=text))[9]
    assert value == (None if not text.strip() else text)


def test_commune_must_be_a_french_commune_and_ids_have_an_id_shape() -> None:
    """Whatever a person types into `commune` (a name, an e-mail) never passes: only the
    official name of a French commune, in any case, with or without accents and hyphens."""
    config = load_all_sources()["signalements"]
    validator = RowValidator(config)
    base = {
        "submission_id": "4f0c3a52-7d0e-4b7e-9c55-0d6f2b3f7a10",
        "submitted_at": "2026-03-26T08:20:34+01:00",
        "category": "voirie",
        "description": "Nid-de-poule",
        "postcode": "42000",
        "channel": "web",
    }
    column = [spec.name for spec in config.fields].index("commune")
    for commune in ("Saint-Étienne", "saint etienne", "SAINT-ETIENNE"):
        assert validator.validate({**base, "commune": commune})[column] == commune
    elsewhere = {**base, "commune": "L'Abergement-Clémenciat", "postcode": "01400"}
    assert validator.validate(elsewhere)[column] == "L'Abergement-Clémenciat"
    for typed in ("Jean Dupont", "jean.dupont@example.fr", "06 12 34 56 78", "Lyon 3e, chez moi"):
        assert _reason(validator, {**base, "commune": typed}) == "not_allowed:commune"
    for bad_id in ("Jean Dupont", "jean.dupont@example.fr", "x" * 65):
        assert _reason(validator, {**base, "submission_id": bad_id}) == "bad_format:submission_id"


def test_a_commune_must_agree_with_its_postcode() -> None:
    """The commune quasi-identifier is placed in its record's postcode's département: a
    commune that postcode neither serves nor lies beside is quarantined, and one of the four
    Saint-Denis is told apart by its postcode."""
    config = load_all_sources()["signalements"]
    validator = RowValidator(config)
    base = {
        "submission_id": "4f0c3a52-7d0e-4b7e-9c55-0d6f2b3f7a10",
        "submitted_at": "2026-03-26T08:20:34+01:00",
        "category": "voirie",
        "description": "Nid-de-poule",
        "channel": "web",
    }
    for postcode in ("93200", "97400", "11560"):  # Seine-Saint-Denis, La Réunion, Aude
        validator.validate({**base, "commune": "Saint-Denis", "postcode": postcode})
    assert (
        _reason(validator, {**base, "commune": "Saint-Denis", "postcode": "69003"})
        == "inconsistent:commune"
    )
    assert _reason(validator, {**base, "commune": "Lyon", "postcode": "13001"}) == (
        "inconsistent:commune"
    )
    validator.validate({**base, "postcode": "69003"})  # no commune: placed by its postcode
