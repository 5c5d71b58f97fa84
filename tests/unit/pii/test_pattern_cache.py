"""Recognizer patterns rebuilt from the cache are the patterns Presidio would have compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex
from presidio_analyzer import Pattern, PatternRecognizer

from include.anonymization.pii.entities import ENTITY_TYPES
from include.anonymization.pii.pattern_cache import checks_deferred, precompile, read_patterns
from include.anonymization.pii.recognizers import build_recognizers
from include.sample.texts import labelled_corpus


def _recognizers() -> list[PatternRecognizer]:
    return [r for r in build_recognizers("fr") if isinstance(r, PatternRecognizer)]


def test_patterns_come_from_the_cache_once_it_is_written(tmp_path: Path) -> None:
    cache_file = tmp_path / "presidio-patterns.bin"
    first = precompile(_recognizers(), cache_file)
    assert first.startswith(f"{len(read_patterns(cache_file))} of ")
    assert first.endswith(f"cached in {cache_file}")
    recognizers = _recognizers()  # new Pattern objects, nothing compiled yet
    assert (
        precompile(recognizers, cache_file)
        == f"{len(read_patterns(cache_file))} patterns from {cache_file}"
    )
    for recognizer in recognizers:
        for pattern in recognizer.patterns:
            # Presidio compiles only when these differ from what it would use.
            assert pattern.compiled_with_flags == recognizer.global_regex_flags
            assert pattern.compiled_regex.pattern == pattern.regex


def test_rebuilt_patterns_find_what_compiled_ones_find(tmp_path: Path) -> None:
    cache_file = tmp_path / "presidio-patterns.bin"
    precompile(_recognizers(), cache_file)
    cached, fresh = _recognizers(), _recognizers()
    precompile(cached, cache_file)
    texts = [sample.text for sample in labelled_corpus(300, 5)]
    found = 0
    for from_cache, compiled in zip(cached, fresh, strict=True):
        for text in texts:
            expected = compiled.analyze(text, list(ENTITY_TYPES))  # Presidio compiles these
            assert from_cache.analyze(text, list(ENTITY_TYPES)) == expected
            found += len(expected)
    assert found > 300


def test_a_damaged_cache_means_compiling(tmp_path: Path) -> None:
    cache_file = tmp_path / "presidio-patterns.bin"
    precompile(_recognizers(), cache_file)
    cache_file.write_bytes(cache_file.read_bytes()[:-1] + b"!")
    recognizers = _recognizers()
    assert "damaged" in precompile(recognizers, cache_file)
    pattern = recognizers[0].patterns[0]
    assert pattern.compiled_regex == regex.compile(pattern.regex, pattern.compiled_with_flags)


def test_presidios_checking_compile_is_left_to_precompile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[str] = []
    real_compile = regex.compile

    def counting_compile(pattern: str, *args: object, **kwargs: object) -> regex.Pattern[str]:
        compiled.append(pattern)
        return real_compile(pattern, *args, **kwargs)

    monkeypatch.setattr(regex, "compile", counting_compile)
    with checks_deferred():
        Pattern(name="phone", regex=r"\d{10}", score=0.5)
    assert compiled == []  # about 1 s of each process's start-up for the scrubber's patterns
    Pattern(name="phone", regex=r"\d{10}", score=0.5)
    assert compiled == [r"\d{10}"]  # checked again outside the block


def test_an_invalid_pattern_made_unchecked_is_refused_by_precompile(tmp_path: Path) -> None:
    with checks_deferred():
        broken = PatternRecognizer(
            supported_entity="PHONE_NUMBER",
            patterns=[Pattern(name="broken", regex=r"(\d{10}", score=0.5)],
        )
    with pytest.raises(regex.error):
        precompile([broken], tmp_path / "presidio-patterns.bin")
