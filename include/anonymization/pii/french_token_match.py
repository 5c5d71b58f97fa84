"""spaCy's French token regex, compiled once per virtualenv instead of once per process.

Importing `spacy.lang.fr` compiles one regular expression at module level
(`TOKEN_MATCH` in `tokenizer_exceptions.py`: 1.4 MB of alternatives over
Unicode letter classes). CPython's `re` compiler is written in Python and takes
about 1.8 s over it: half of what a scrub process paid before its first text.
What that compilation produces (the `_sre` code, a list of integers) depends
only on the pattern's text and flags and on the interpreter, so this module
keeps it in a file; before spaCy's French module is imported, the code is turned
back into a pattern (`_sre.compile`, about 1 ms, which validates the code) and
put into `re`'s own cache under the key `re.compile` looks up. spaCy's
`re.compile(...)` then returns that pattern instead of compiling.

Why it cannot change what the tokenizer does:
- the `re` cache is keyed by the pattern's exact text: if spaCy's pattern ever
  differs from the cached one, `re.compile` misses and compiles as usual;
- the file also holds that text's SHA-256, the flags, `sys.version`,
  `_sre.MAGIC` and `_sre.CODESIZE`, and a SHA-256 of its whole content; a
  mismatch, a damaged file or any error means a normal compile, and the file is
  written anew from that compile (once, ~1.8 s more);
- before it is written, the rebuilt pattern is compared with the one CPython
  compiled (`Pattern.__eq__` compares the code itself);
- it is only read if nobody but this user could have written it; it lives in
  the virtualenv, and outside one there is no cache (see `owner_cache`).
Private CPython APIs (`re._cache`, `re._parser`, `re._compiler`, `_sre.compile`)
are used behind checks: on an interpreter where they differ, nothing is seeded.

`spacy_french` applies it on import; `nlp.py` and the recognizers' package import
that before anything imports `spacy.lang.fr`.
"""

from __future__ import annotations

import logging
import marshal
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

try:
    import _sre
except ImportError:  # not CPython: nothing is cached, spaCy compiles as usual
    _sre = None

from include.anonymization.pii.owner_cache import (
    UnusableCacheError,
    cache_dir,
    read_owned,
    text_digest,
    write_owned,
)

logger = logging.getLogger(__name__)

# Bump when the file's layout changes: an old file then reads as stale.
_FORMAT = 1
# spaCy compiles TOKEN_MATCH with its flags inline ("(?iu)..."), none passed to re.compile.
SPACY_FLAGS = 0


@dataclass(frozen=True)
class CompiledPattern:
    """What `re._compiler.compile` hands to `_sre.compile`, plus what it was made from."""

    text: str
    flags: int  # as passed to re.compile: part of re's cache key
    final_flags: int  # flags | the pattern's inline flags
    code: tuple[int, ...]
    groups: int
    groupindex: dict[str, int]

    def build(self) -> re.Pattern[str]:
        """The pattern object, from the code, without compiling the text."""
        indexgroup: list[str | None] = [None] * self.groups
        for name, index in self.groupindex.items():
            indexgroup[index] = name
        return _sre.compile(
            self.text,
            self.final_flags,
            list(self.code),
            self.groups - 1,
            dict(self.groupindex),
            tuple(indexgroup),
        )


def interpreter_key() -> tuple[object, ...]:
    """What the compiled code depends on besides the pattern: the interpreter's regex engine."""
    if _sre is None:
        raise UnusableCacheError("this interpreter has no _sre module (not CPython)")
    return (sys.version, sys.hexversion, _sre.MAGIC, _sre.CODESIZE, sys.maxunicode)


def default_cache_file() -> Path | None:
    """`<venv>/var/cache/civic/spacy-fr-token-match.bin`, or None outside a virtualenv."""
    directory = cache_dir()
    return None if directory is None else directory / "spacy-fr-token-match.bin"


def compile_pattern(text: str, flags: int) -> CompiledPattern:
    """Compile `text` as `re.compile` does, keeping the code (the ~1.8 s step)."""
    tree = re._parser.parse(text, flags)  # type: ignore[attr-defined]
    code = re._compiler._code(tree, flags)  # type: ignore[attr-defined]
    return CompiledPattern(
        text=text,
        flags=flags,
        final_flags=flags | tree.state.flags,
        code=tuple(int(op) for op in code),  # opcodes are int subclasses marshal refuses
        groups=tree.state.groups,
        groupindex=dict(tree.state.groupdict),
    )


def _payload(entry: CompiledPattern) -> bytes:
    return marshal.dumps(
        (
            _FORMAT,
            interpreter_key(),
            text_digest(entry.text),
            entry.text,
            entry.flags,
            entry.final_flags,
            list(entry.code),
            entry.groups,
            entry.groupindex,
        )
    )


def write_cache(path: Path, entry: CompiledPattern) -> None:
    """Write `entry` to `path` (see `owner_cache`)."""
    write_owned(path, _payload(entry))


def read_cache(path: Path) -> CompiledPattern:
    """The entry stored at `path` once every check of the module doc passed (else an error)."""
    payload = read_owned(path)
    try:
        # Written by this user and intact (read_owned). marshal is only unsafe on foreign data.
        fields = marshal.loads(payload)  # noqa: S302
        form, key, text_sha, text, flags, final_flags, code, groups, groupindex = fields
    except (ValueError, EOFError, TypeError) as exc:
        raise UnusableCacheError(f"{path} has an unknown layout ({exc})") from None
    if form != _FORMAT or key != interpreter_key():
        raise UnusableCacheError(f"{path} was made by another interpreter or layout")
    if text_digest(text) != text_sha:
        raise UnusableCacheError(f"{path}: the pattern's SHA-256 does not match its text")
    return CompiledPattern(text, flags, final_flags, tuple(code), groups, groupindex)


def _re_cache() -> dict[tuple[object, ...], re.Pattern[str]] | None:
    """`re`'s module-level cache, if this interpreter has the one this module knows."""
    cache = getattr(re, "_cache", None)
    return cache if isinstance(cache, dict) else None


def seed(entry: CompiledPattern) -> re.Pattern[str] | None:
    """Put the pattern built from `entry` where `re.compile(entry.text, entry.flags)` finds it."""
    cache = _re_cache()
    if cache is None:
        return None
    pattern = entry.build()
    if pattern.pattern != entry.text or pattern.flags != entry.final_flags:
        return None
    cache[(str, entry.text, entry.flags)] = pattern
    return pattern


def _unseed(entry: CompiledPattern, pattern: re.Pattern[str]) -> None:
    cache = _re_cache()
    key = (str, entry.text, entry.flags)
    if cache is not None and cache.get(key) is pattern:
        del cache[key]


def _token_match_pattern(module: ModuleType) -> re.Pattern[str] | None:
    """The compiled pattern behind spaCy's `TOKEN_MATCH` (a bound `Pattern.match`)."""
    pattern = getattr(getattr(module, "TOKEN_MATCH", None), "__self__", None)
    return pattern if isinstance(pattern, re.Pattern) else None


def _seed_from(cache_file: Path) -> tuple[CompiledPattern | None, re.Pattern[str] | None, str]:
    """The entry read from `cache_file` and the pattern seeded from it, or why there are none."""
    try:
        entry = read_cache(cache_file)
    except UnusableCacheError as exc:
        return None, None, str(exc)
    except Exception as exc:  # a private API that changed: no cache, and nothing breaks
        return None, None, f"{cache_file} could not be read ({exc!r})"
    try:
        seeded = seed(entry)
    except Exception as exc:  # RuntimeError: _sre refused the code; others: private API changed
        return None, None, f"{cache_file} holds code this interpreter refuses ({exc!r})"
    if seeded is None:
        return entry, None, "this interpreter's re cache is not the one this module knows"
    return entry, seeded, ""


def import_spacy_french(cache_file: Path | None) -> str:
    """Import `spacy.lang.fr`, its token regex from `cache_file` if usable; say what happened."""
    if "spacy.lang.fr.tokenizer_exceptions" in sys.modules:
        return "too late: spacy.lang.fr was already imported (compiled as usual)"
    entry, seeded, why = (
        _seed_from(cache_file) if cache_file else (None, None, "no cache outside a virtualenv")
    )
    from spacy.lang.fr import tokenizer_exceptions

    compiled = _token_match_pattern(tokenizer_exceptions)
    if seeded is not None and compiled is seeded:
        return f"from {cache_file}"
    if entry is not None and seeded is not None:
        _unseed(entry, seeded)
    if compiled is None:
        return "compiled (spaCy's TOKEN_MATCH is not a compiled pattern's match)"
    if cache_file is None:
        return f"compiled ({why})"
    if entry is not None:
        if entry.text == compiled.pattern:
            # Valid and for this very pattern, yet not used: writing it again would not help.
            return f"compiled ({why or 're did not return the seeded pattern'})"
        why = "spaCy's pattern is not the cached one"
    return _refresh(cache_file, compiled, why)


def _refresh(cache_file: Path, compiled: re.Pattern[str], why: str) -> str:
    """Write the cache from the pattern spaCy just compiled, if this module can rebuild it."""
    try:
        entry = compile_pattern(compiled.pattern, SPACY_FLAGS)
        if entry.build() != compiled:  # compares flags, text and the code itself
            return f"compiled ({why}); not cached: the rebuilt pattern differs from re's"
        write_cache(cache_file, entry)
    except Exception as exc:  # read-only virtualenv, or a private API that changed
        logger.info("spaCy's French token regex is not cached in %s: %s", cache_file, exc)
        return f"compiled ({why}); not cached: {exc}"
    return f"compiled ({why}); cached in {cache_file}"
