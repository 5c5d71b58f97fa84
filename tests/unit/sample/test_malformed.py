"""About 1% of rows broken, every kind present, deterministically, and counted."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from include.core.source_config import FieldType, SourceConfig, load_all_sources
from include.sample import malformed
from include.sample.generator import iter_rows
from include.sample.malformed import MalformedInjector, Record, encode_line

DAY = date(2026, 3, 15)


@pytest.fixture(scope="module")
def config() -> SourceConfig:
    return load_all_sources()["consultation"]


@pytest.fixture(scope="module")
def clean(config: SourceConfig) -> list[dict[str, Any]]:
    return list(iter_rows(config, 10_000, seed=2, day=DAY))


@pytest.fixture(scope="module")
def injected(
    config: SourceConfig, clean: list[dict[str, Any]]
) -> tuple[list[Record], dict[str, int]]:
    injector = MalformedInjector(config, seed=2)
    return list(injector.apply(clean)), injector.counts


def test_one_percent_of_rows_broken_with_every_kind(
    injected: tuple[list[Record], dict[str, int]],
) -> None:
    records, counts = injected
    broken = [r for r in records if r.malformed]
    assert len(records) == 10_000
    assert len(broken) == sum(counts.values()) == 100
    assert set(counts) == set(malformed.KINDS)
    assert all(count >= 1 for count in counts.values()), counts
    assert counts == {k: sum(r.malformed == k for r in broken) for k in counts}


@pytest.mark.parametrize("n", [150, 2_345, 7_777])
def test_share_stays_near_one_percent(
    config: SourceConfig, clean: list[dict[str, Any]], n: int
) -> None:
    injector = MalformedInjector(config, seed=n)
    share = sum(bool(r.malformed) for r in injector.apply(clean[:n])) / n
    assert 0.006 <= share <= 0.014


def test_rows_left_alone_are_untouched(
    clean: list[dict[str, Any]], injected: tuple[list[Record], dict[str, int]]
) -> None:
    records, _ = injected
    for original, record in zip(clean, records, strict=True):
        if record.malformed is None:
            assert record.row == original


def _fails_date(value: Any) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return True
    return False


def test_each_kind_is_really_broken(
    config: SourceConfig, clean: list[dict[str, Any]], injected: tuple[list[Record], dict[str, int]]
) -> None:
    records, _ = injected
    required = {f.name for f in config.fields if f.required}
    seen_ids: set[str | None] = set()
    seen_rows: list[dict[str, Any]] = []
    for original, record in zip(clean, records, strict=True):
        row, kind = record.row, record.malformed
        if kind == malformed.MISSING_REQUIRED:
            assert required - set(row)
        elif kind == malformed.WRONG_TYPE:
            changed = [f for f in config.fields if row.get(f.name) != original.get(f.name)]
            assert len(changed) == 1
            spec, value = changed[0], row[changed[0].name]
            if spec.type is FieldType.INTEGER:
                assert not isinstance(value, int)
            elif spec.allowed:
                assert value not in spec.allowed
            else:  # postcode: a number, or not five digits
                assert not (isinstance(value, str) and len(value) == 5 and value.isdigit())
        elif kind == malformed.BAD_DATE:
            assert _fails_date(row["submitted_at"])
        elif kind == malformed.BROKEN_UTF8:
            line = json.dumps(row, ensure_ascii=False) + "\n"
            with pytest.raises(UnicodeDecodeError):
                encode_line(line, kind).decode("utf-8")
        elif kind == malformed.HUGE_TEXT:
            assert len(row["opinion"]) >= malformed.HUGE_TEXT_CHARS
        elif kind == malformed.DUPLICATE_ROW:
            assert row in seen_rows
        elif kind == malformed.DUPLICATE_ID:
            assert row["response_id"] in seen_ids
            assert row != original
        seen_ids.add(row.get("response_id"))
        seen_rows.append(row)


def test_encoding_only_breaks_broken_rows() -> None:
    line = '{"a":"déjà vu"}\n'
    assert encode_line(line, None).decode("utf-8") == line
    assert encode_line(line, malformed.WRONG_TYPE) == line.encode("utf-8")
    ascii_only = encode_line('{"a":"plain text"}\n', malformed.BROKEN_UTF8)
    with pytest.raises(UnicodeDecodeError):
        ascii_only.decode("utf-8")
    assert ascii_only.endswith(b"\n")


def test_the_same_seed_breaks_the_same_rows(
    config: SourceConfig, clean: list[dict[str, Any]]
) -> None:
    def run(seed: int) -> list[Record]:
        return list(MalformedInjector(config, seed).apply(clean[:1000]))

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_block_size_must_leave_room(config: SourceConfig) -> None:
    with pytest.raises(ValueError, match="'every' must be >= 2"):
        MalformedInjector(config, seed=1, every=1)
