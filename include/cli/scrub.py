"""`civic scrub`: JSON Lines in, redacted JSON Lines out, one output line per input line.

Input, one object per line: {"id": ..., "text": "...", "lang": "fr"|"en" (optional)}.
Output, in input order: {"id": ..., "text": "<redacted>", "entities": [{"type", "start",
"end", "score"}]} with offsets into the INPUT text. A line that cannot be scrubbed
(not UTF-8, not JSON, no "text", a text that is not a string, an unknown "lang")
gives {"id": ... or null, "line": n, "error": "..."} on stdout, in its place, and the
same message on stderr: a bad line is reported, never dropped, and never stops the rest.

Lines are read and written in batches (`--batch-size`), flushed after each, so a
large file streams through with flat memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import click
import typer

from include.anonymization.pii import (
    DEFAULT_THRESHOLD,
    SUPPORTED_LANGUAGES,
    ModelNotInstalledError,
)

if TYPE_CHECKING:
    from include.anonymization.pii import Scrubber, ScrubResult


@dataclass(frozen=True)
class Record:
    """A well-formed input line."""

    line: int
    id: Any
    text: str | None
    lang: str | None


@dataclass(frozen=True)
class BadLine:
    """An input line that cannot be scrubbed, and why."""

    line: int
    id: Any
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "line": self.line, "error": self.error}


def parse_line(number: int, raw: bytes) -> Record | BadLine:
    """Decode and validate one input line (numbered from 1)."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(number, None, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
    if not decoded.strip():
        return BadLine(number, None, "empty line; expected a JSON object with 'id' and 'text'")
    try:
        obj = json.loads(decoded)
    except json.JSONDecodeError as exc:
        return BadLine(number, None, f"not valid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(obj, dict):
        return BadLine(number, None, f"expected a JSON object, got {type(obj).__name__}")
    record_id = obj.get("id")
    if "id" not in obj:
        return BadLine(number, None, "missing 'id'")
    if "text" not in obj:
        return BadLine(number, record_id, "missing 'text'")
    text, lang = obj["text"], obj.get("lang")
    if text is not None and not isinstance(text, str):
        return BadLine(number, record_id, f"'text' must be a string, got {type(text).__name__}")
    if lang is not None and lang not in SUPPORTED_LANGUAGES:
        return BadLine(
            number,
            record_id,
            f"unsupported 'lang' {lang!r}; use one of {list(SUPPORTED_LANGUAGES)} or omit it",
        )
    return Record(number, record_id, text, lang)


def result_dict(record: Record, result: ScrubResult) -> dict[str, Any]:
    return {
        "id": record.id,
        "text": result.text,
        "entities": [entity.to_dict() for entity in result.entities],
    }


def _batches(stream: BinaryIO, size: int) -> Iterator[list[tuple[int, bytes]]]:
    lines = ((number, raw.rstrip(b"\r\n")) for number, raw in enumerate(stream, start=1))
    while batch := list(islice(lines, size)):
        yield batch


def scrub_stream(
    scrubber: Scrubber, source: BinaryIO, sink: BinaryIO, batch_size: int
) -> tuple[int, int]:
    """Scrub `source` into `sink` batch by batch; return (lines read, bad lines)."""
    read = bad = 0
    for batch in _batches(source, batch_size):
        parsed = [parse_line(number, raw) for number, raw in batch]
        records = [item for item in parsed if isinstance(item, Record)]
        results = iter(scrubber.scrub_texts([r.text for r in records], [r.lang for r in records]))
        out = []
        for item in parsed:
            if isinstance(item, Record):
                out.append(result_dict(item, next(results)))
            else:
                bad += 1
                out.append(item.to_dict())
                typer.echo(f"civic scrub: line {item.line}: {item.error}", err=True)
        sink.write(
            "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in out).encode("utf-8")
        )
        sink.flush()
        read += len(batch)
    return read, bad


def scrub(
    batch_size: Annotated[
        int, typer.Option(min=1, help="Lines read, scrubbed and written per batch.")
    ] = 512,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes, started only for batches large enough to gain from them.",
        ),
    ] = 2,
    threshold: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Minimum detection score for a value to be redacted."),
    ] = DEFAULT_THRESHOLD,
) -> None:
    """Redact personal data from JSON Lines on stdin ({"id", "text", "lang"?}) to stdout."""
    # spaCy and Presidio load here, not when `civic` starts: `civic --help` stays instant.
    from include.anonymization.pii import Scrubber, ScrubSettings

    started = time.perf_counter()
    try:
        scrubber = Scrubber(ScrubSettings(threshold=threshold), processes=processes)
    except ModelNotInstalledError as exc:
        typer.echo(f"civic scrub: {exc}", err=True)
        raise typer.Exit(1) from None
    ready = time.perf_counter()
    with scrubber:
        stdin, stdout = click.get_binary_stream("stdin"), click.get_binary_stream("stdout")
        try:
            read, bad = scrub_stream(scrubber, stdin, stdout, batch_size)
        except BrokenPipeError:  # the reader went away (`| head`): nothing left to write to
            typer.echo("civic scrub: output closed by the reader; stopped", err=True)
            raise typer.Exit(1) from None
        workers = scrubber.processes if scrubber.pool_started else 0
    done = time.perf_counter()
    typer.echo(
        f"civic scrub: {read} line(s), {bad} bad, in {done - started:.1f} s "
        f"(start-up {ready - started:.1f} s, {workers} worker process(es) started)",
        err=True,
    )
