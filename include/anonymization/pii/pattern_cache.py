"""The recognizers' compiled patterns, kept in the virtualenv between scrub processes.

Presidio compiles each pattern of a recognizer (with the `regex` module) the
first time it is used: for the scrubber's ~40 distinct patterns, some of them
alternations of hundreds of words, that is about 0.26 s in every process,
always to the same result. The `regex` module can pickle a compiled pattern:
its pickled form is the compiled code itself, turned back into a pattern
without parsing anything (about 3 ms for all of them). This module keeps that
form (through the module's own pickle support, `copyreg`) in a file, stored
with each pattern's text and flags, and hands the rebuilt patterns to Presidio
as the ones it compiled itself (`Pattern.compiled_regex` and
`compiled_with_flags`, which Presidio checks before compiling).

A pattern is only taken from the file for the exact text (its SHA-256 is
checked too) and flags it was compiled from, by the same interpreter and the
same `regex` version; any other pattern is compiled as usual, and the file is
then written anew with every pattern in use. The file is trusted only if
nobody but this user could have written it (`owner_cache`).

Presidio also compiles each pattern once when a `Pattern` is made, without flags,
only to check that it is a valid regular expression: for the scrubber's patterns
that check cost 1.0 to 1.2 s of every process's start-up, more than the model's
load. `checks_deferred` leaves it to `precompile`, which compiles (or reads from
the file) every pattern it is given and so raises on an invalid one all the same.
"""

from __future__ import annotations

import contextlib
import copyreg
import logging
import marshal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import presidio_analyzer.pattern
import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

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
_Key = tuple[str, int]  # a pattern's text and flags


def default_cache_file() -> Path | None:
    """`<venv>/var/cache/civic/presidio-patterns.bin`, or None outside a virtualenv."""
    directory = cache_dir()
    return None if directory is None else directory / "presidio-patterns.bin"


def _environment() -> tuple[object, ...]:
    return (_FORMAT, sys.version, regex.__version__)


def _reduce(compiled: regex.Pattern[str]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """What pickle stores for `compiled`: the function that rebuilds it, and its arguments."""
    reducer = copyreg.dispatch_table[type(compiled)]
    return reducer(compiled)  # type: ignore[return-value]


def read_patterns(path: Path) -> dict[_Key, tuple[Any, ...]]:
    """(text, flags) -> the arguments that rebuild that compiled pattern, as stored in `path`."""
    payload = read_owned(path)
    try:
        # Written by this user and intact (read_owned). marshal is only unsafe on foreign data.
        environment, entries = marshal.loads(payload)  # noqa: S302
    except (ValueError, EOFError, TypeError) as exc:
        raise UnusableCacheError(f"{path} has an unknown layout ({exc})") from None
    if environment != _environment():
        raise UnusableCacheError(f"{path} was made by another interpreter or regex version")
    patterns = {}
    for text, digest, flags, arguments in entries:
        if text_digest(text) != digest:
            raise UnusableCacheError(f"{path}: a pattern's SHA-256 does not match its text")
        patterns[(text, flags)] = tuple(arguments)
    return patterns


def write_patterns(path: Path, compiled: dict[_Key, regex.Pattern[str]]) -> None:
    """Store the rebuild arguments of every pattern in `compiled` (see `owner_cache`)."""
    entries = [
        (text, text_digest(text), flags, list(_reduce(pattern)[1]))
        for (text, flags), pattern in compiled.items()
    ]
    write_owned(path, marshal.dumps((_environment(), entries)))


def _patterns_of(recognizers: Iterable[EntityRecognizer]) -> list[tuple[Pattern, int]]:
    """Every pattern Presidio compiles for these recognizers, with the flags it uses."""
    return [
        (pattern, int(recognizer.global_regex_flags))  # a RegexFlag, which marshal refuses
        for recognizer in recognizers
        if isinstance(recognizer, PatternRecognizer)
        for pattern in recognizer.patterns
    ]


def _rebuilt(arguments: tuple[Any, ...], text: str) -> regex.Pattern[str] | None:
    """The pattern rebuilt from its pickled form, or None if that fails or is not `text`."""
    rebuild, _ = _reduce(regex.compile(""))  # regex's own unpickling function
    try:
        compiled = rebuild(*arguments)
    except Exception:  # a form this regex version does not read: compile instead
        return None
    return compiled if compiled.pattern == text else None


@contextlib.contextmanager
def checks_deferred() -> Iterator[None]:
    """Within the block, a new `Pattern` skips Presidio's checking compile (module doc);
    the caller must then hand every pattern made to `precompile`. Where Presidio no longer
    checks with the `regex` module's `compile`, nothing is changed."""
    module = presidio_analyzer.pattern
    if getattr(module, "re", None) is not regex:
        yield
        return
    module.re = SimpleNamespace(compile=lambda *args, **kwargs: None, error=regex.error)
    try:
        yield
    finally:
        module.re = regex


def precompile(recognizers: Iterable[EntityRecognizer], cache_file: Path | None) -> str:
    """Give every pattern of `recognizers` its compiled form, from `cache_file` where it can.

    Returns what happened, for the logs and the benchmark.
    """
    patterns = _patterns_of(recognizers)
    stored: dict[_Key, tuple[Any, ...]] = {}
    why = "no cache outside a virtualenv"
    if cache_file is not None:
        try:
            stored, why = read_patterns(cache_file), ""
        except UnusableCacheError as exc:
            why = str(exc)
    compiled: dict[_Key, regex.Pattern[str]] = {}
    missed = 0
    for pattern, flags in patterns:
        key = (pattern.regex, flags)
        if key not in compiled:
            arguments = stored.get(key)
            rebuilt = None if arguments is None else _rebuilt(arguments, pattern.regex)
            if rebuilt is None:
                missed += 1
                rebuilt = regex.compile(pattern.regex, flags=flags)
            compiled[key] = rebuilt
        pattern.compiled_regex = compiled[key]
        pattern.compiled_with_flags = flags
    if not missed:
        return f"{len(compiled)} patterns from {cache_file}"
    outcome = f"{missed} of {len(compiled)} patterns compiled" + (f" ({why})" if why else "")
    if cache_file is None:
        return outcome
    try:
        write_patterns(cache_file, compiled)
    except Exception as exc:  # read-only virtualenv, or a pattern pickle cannot store
        logger.info("the compiled patterns are not cached in %s: %s", cache_file, exc)
        return f"{outcome}; not cached: {exc}"
    return f"{outcome}; cached in {cache_file}"
