"""Rows follow the source configuration, with plausible, deterministic distributions."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from scipy.stats import spearmanr

from include.core.source_config import (
    FieldType,
    SourceConfig,
    load_all_sources,
    parse_source_config,
)
from include.sample.communes import COMMUNES
from include.sample.generator import PARIS, GeneratorError, iter_rows

DAY = date(2026, 3, 15)
N = 3000


@pytest.fixture(scope="module")
def configs() -> dict[str, SourceConfig]:
    return load_all_sources()


@pytest.fixture(scope="module")
def rows(configs: dict[str, SourceConfig]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: list(iter_rows(cfg, N, seed=1, day=DAY, days_back=90))
        for name, cfg in configs.items()
    }


def test_rows_have_the_configured_fields_types_and_ranges(
    configs: dict[str, SourceConfig], rows: dict[str, list[dict[str, Any]]]
) -> None:
    for name, config in configs.items():
        order = [spec.name for spec in config.fields]
        for row in rows[name]:
            assert list(row) == order
            for spec in config.fields:
                value = row[spec.name]
                if value is None:
                    assert not spec.required, (spec.name, row)
                    continue
                if spec.allowed:
                    assert value in spec.allowed
                if spec.type is FieldType.INTEGER:
                    assert isinstance(value, int)
                    assert spec.minimum is None or value >= spec.minimum
                    assert spec.maximum is None or value <= spec.maximum
                if spec.type is FieldType.STRING:
                    assert isinstance(value, str)
                    assert spec.max_length is None or len(value) <= spec.max_length
        for spec in config.fields:
            if not spec.required:  # optional fields are sometimes filled, sometimes not
                filled = Counter(row[spec.name] is None for row in rows[name])
                assert filled[True], spec.name
                assert filled[False], spec.name


def test_ids_are_unique_and_timestamps_fall_in_the_window(
    configs: dict[str, SourceConfig], rows: dict[str, list[dict[str, Any]]]
) -> None:
    start = datetime(2025, 12, 15, tzinfo=PARIS)  # DAY - 90 days
    end = datetime(2026, 3, 15, tzinfo=PARIS)
    for name, config in configs.items():
        ids = [row[config.id_field] for row in rows[name]]
        assert len(set(ids)) == len(ids)
        stamps = [datetime.fromisoformat(row["submitted_at"]) for row in rows[name]]
        assert all(stamp.tzinfo is not None and start <= stamp < end for stamp in stamps)
        assert max(stamps) - min(stamps) > timedelta(days=80), "spread over the whole window"


def test_phone_and_counter_reports_arrive_in_office_hours(
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    office = [r for r in rows["signalements"] if r["channel"] in ("telephone", "guichet")]
    assert office
    for row in office:
        stamp = datetime.fromisoformat(row["submitted_at"])
        assert stamp.weekday() < 5
        assert 9 <= stamp.hour < 12 or 14 <= stamp.hour < 17


def test_postcodes_are_real_and_spread_over_france(rows: dict[str, list[dict[str, Any]]]) -> None:
    known = {c.postcode for c in COMMUNES}
    postcodes = [row["postcode"] for source in rows.values() for row in source]
    assert set(postcodes) <= known
    for prefix in ("75", "69", "13", "20", "97"):
        assert any(p.startswith(prefix) for p in postcodes), prefix
    by_name = {(c.name, c.postcode) for c in COMMUNES}
    for row in rows["signalements"]:
        if row["commune"] is not None:
            assert (row["commune"], row["postcode"]) in by_name


def test_distributions_are_skewed_and_correlated(rows: dict[str, list[dict[str, Any]]]) -> None:
    categories = Counter(row["category"] for row in rows["signalements"]).most_common()
    assert categories[0][1] > 3 * categories[-1][1]
    consultation = rows["consultation"]
    ages = [row["age"] for row in consultation]
    assert 35 <= sorted(ages)[len(ages) // 2] <= 60
    correlation = spearmanr(ages, [row["q_velo"] for row in consultation]).statistic
    assert correlation < -0.15
    retired = [row["age"] for row in consultation if row["occupation"] == "retraite"]
    assert sum(age >= 60 for age in retired) > 0.9 * len(retired)


def test_texts_agree_with_the_structured_contact(rows: dict[str, list[dict[str, Any]]]) -> None:
    email = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    checked = 0
    for row in rows["signalements"]:
        if row["reporter_email"]:
            for found in email.findall(row["description"]):
                # Some e-mails are cut by a line break, as a mail client wraps them
                # ("jean@exa⏎mple.fr"): what is found is then a piece of the reporter's.
                assert found.lower() in row["reporter_email"]
                assert row["reporter_email"] in row["description"].replace("\n", "").lower()
                checked += 1
    assert checked > 50


def test_the_same_seed_gives_the_same_rows(configs: dict[str, SourceConfig]) -> None:
    config = configs["consultation"]
    first = list(iter_rows(config, 300, seed=5, day=DAY))
    assert first == list(iter_rows(config, 300, seed=5, day=DAY))
    assert first != list(iter_rows(config, 300, seed=6, day=DAY))


def _config(name: str) -> SourceConfig:
    fields = [
        {"name": "id", "type": "string", "role": "other", "pattern": "[0-9a-f-]+"},
        {"name": "text", "type": "string", "role": "free_text"},
    ]
    data = {
        "name": name,
        "title": "t",
        "description": "d",
        "id_field": "id",
        "l": 1,
        "retention_days": 30,
        "fields": fields,
    }
    return parse_source_config(data, "test")


def test_a_source_without_generator_fails_clearly() -> None:
    with pytest.raises(GeneratorError, match="no sample generator for source 'petitions'"):
        next(iter_rows(_config("petitions"), 1, seed=1, day=DAY))


def test_a_yaml_field_without_generator_fails_clearly(configs: dict[str, SourceConfig]) -> None:
    config = configs["signalements"]
    data = config.model_dump(by_alias=True, exclude_none=True)
    data["fields"].append(
        {"name": "photo_url", "type": "string", "role": "other", "pattern": "https://.+"}
    )
    changed = parse_source_config(data, "test")
    with pytest.raises(GeneratorError, match=r"fields without a generator: \['photo_url'\]"):
        next(iter_rows(changed, 1, seed=1, day=DAY))


def test_bad_arguments_are_refused(configs: dict[str, SourceConfig]) -> None:
    with pytest.raises(ValueError, match="days_back"):
        next(iter_rows(configs["signalements"], 1, seed=1, day=DAY, days_back=0))
    with pytest.raises(ValueError, match="number of rows must be >= 0"):
        next(iter_rows(configs["signalements"], -1, seed=1, day=DAY))
