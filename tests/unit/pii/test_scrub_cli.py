"""`civic scrub`'s line protocol: one output line per input line, in order, bad lines reported."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner, Result

from include.anonymization.pii import Scrubber
from include.cli.scrub import scrub


def _run(stdin: bytes, *args: str) -> Result:
    app = typer.Typer()
    app.command()(scrub)
    return CliRunner().invoke(app, ["--processes", "1", *args], input=stdin)


def _lines(result: Result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(autouse=True)
def _model_loaded(scrubber: Scrubber) -> None:
    """Share the session's analyzer (the command builds its scrubber from the same cache)."""


def test_good_lines_are_redacted_with_offsets_into_the_input() -> None:
    text = "Je m'appelle Inès Roux, tél. 06 12 34 56 78."
    stdin = json.dumps({"id": "a1", "text": text}, ensure_ascii=False).encode() + b"\n"
    result = _run(stdin)
    assert result.exit_code == 0, result.stderr
    [line] = _lines(result)
    assert line["id"] == "a1"
    assert line["text"] == "Je m'appelle <PERSON>, tél. <PHONE_NUMBER>."
    assert [(e["type"], text[e["start"] : e["end"]]) for e in line["entities"]] == [
        ("PERSON", "Inès Roux"),
        ("PHONE_NUMBER", "06 12 34 56 78"),
    ]
    assert all(0 < e["score"] <= 1 for e in line["entities"])


def test_a_few_lines_are_scrubbed_without_forking_workers() -> None:
    stdin = b"".join(
        json.dumps({"id": i, "text": f"Appelez le 06 12 34 56 7{i}"}).encode() + b"\n"
        for i in range(10)
    )
    result = _run(stdin, "--processes", "2")  # the last --processes wins
    assert result.exit_code == 0, result.stderr
    assert [line["text"] for line in _lines(result)] == ["Appelez le <PHONE_NUMBER>"] * 10
    assert "10 line(s), 0 bad" in result.stderr
    assert "0 worker process(es) started" in result.stderr


def test_bad_lines_give_an_error_object_in_place_and_a_message_on_stderr() -> None:
    stdin = b"\n".join(
        [
            b'{"id": 1, "text": "Mail : ines.roux@orange.fr"}',
            b"this is not json",
            b'{"id": 3}',
            b'{"id": 4, "text": 42}',
            b'{"id": 5, "text": "caf\xe9 cass\xe9"}',  # Latin-1 bytes: not UTF-8
            b'{"id": 6, "text": "Hello, my phone is 06 12 34 56 78", "lang": "de"}',
            b'{"text": "no id"}',
            b"[1, 2]",
            b"",
            b'{"id": 10, "text": null}',
            b'{"id": 11, "text": "Call me on 06 12 34 56 78", "lang": "en"}',
        ]
    )
    result = _run(stdin + b"\n")
    assert result.exit_code == 0, result.stderr
    lines = _lines(result)
    assert len(lines) == 11
    assert lines[0] == {
        "id": 1,
        "text": "Mail : <EMAIL_ADDRESS>",
        "entities": [{"type": "EMAIL_ADDRESS", "start": 7, "end": 26, "score": 1.0}],
    }
    errors = {line["line"]: line for line in lines if "error" in line}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert errors[2]["id"] is None
    assert "not valid JSON" in errors[2]["error"]
    assert errors[3] == {"id": 3, "line": 3, "error": "missing 'text'"}
    assert errors[4]["id"] == 4
    assert "must be a string" in errors[4]["error"]
    assert "not valid UTF-8" in errors[5]["error"]
    assert errors[6]["id"] == 6
    assert "unsupported 'lang'" in errors[6]["error"]
    assert "missing 'id'" in errors[7]["error"]
    assert "expected a JSON object" in errors[8]["error"]
    assert "empty line" in errors[9]["error"]
    assert lines[9] == {"id": 10, "text": None, "entities": []}
    assert lines[10]["text"] == "Call me on <PHONE_NUMBER>"
    for number in errors:
        assert f"line {number}:" in result.stderr
    assert "11 line(s), 8 bad" in result.stderr


def test_input_streams_through_in_small_batches_in_order() -> None:
    records = [{"id": i, "text": f"Texte numéro {i}, tél. 06 12 34 56 {i:02d}"} for i in range(7)]
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    lines = _lines(_run(stdin, "--batch-size", "3"))
    assert [line["id"] for line in lines] == list(range(7))
    assert all(line["text"].endswith("tél. <PHONE_NUMBER>") for line in lines)
