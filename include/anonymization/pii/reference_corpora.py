"""Read the public reference corpora the scrubber is measured on (texts written elsewhere).

The project's own generator knows how the scrubber thinks; real text does not.
Two public corpora live beside the project, never inside it (their licences
allow evaluation only): `../shared/reference/` from the project's root.
- `wikineural-fr-val/val.conllu`: French Wikipedia sentences, one token a line
  (`idx<TAB>token<TAB>IOB2 tag`), a blank line between sentences. Each sentence
  is rebuilt as text with the offsets of its PER, LOC, ORG and MISC spans.
- `citizen-texts/citizen_texts.jsonl`: real French citizen proposals
  (`{source, id, title, text}`), with almost no personal data in them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from include.core.settings import PROJECT_DIR

REFERENCE_DIR = PROJECT_DIR.parent / "shared" / "reference"
WIKINEURAL_FILE = Path("wikineural-fr-val") / "val.conllu"
CITIZEN_TEXTS_FILE = Path("citizen-texts") / "citizen_texts.jsonl"

# Tokens glued to the previous one / to the next one when a sentence is rebuilt as text.
_NO_SPACE_BEFORE = frozenset(",.;:!?)]}%»”")
_NO_SPACE_AFTER = frozenset("([{«“")


class ReferenceCorpusMissingError(FileNotFoundError):
    """A reference corpus is not beside the project (a user's clone has none)."""


@dataclass(frozen=True)
class TaggedSpan:
    """A labelled value in a rebuilt sentence (the `Label` protocol of `evaluation`)."""

    start: int
    end: int
    entity_type: str


@dataclass(frozen=True)
class TaggedSentence:
    """One corpus sentence as text, its labelled spans and its tokens' offsets."""

    text: str
    spans: tuple[TaggedSpan, ...]
    tokens: tuple[tuple[int, int, str], ...]  # (start, end, IOB2 tag)


@dataclass(frozen=True)
class CitizenText:
    source: str
    id: str
    text: str


def reference_file(relative: Path, reference_dir: Path = REFERENCE_DIR) -> Path:
    """The path of a reference file, or a clear error saying which one is missing."""
    path = reference_dir / relative
    if not path.is_file():
        raise ReferenceCorpusMissingError(
            f"reference corpus {path} is absent: the corpus evaluation needs the public "
            f"reference data beside the project (see ../shared/reference/README.md)"
        )
    return path


def _sentence(rows: list[tuple[str, str]]) -> TaggedSentence:
    """Join tokens with single spaces (none around punctuation that sticks) and rebuild spans."""
    text = ""
    tokens: list[tuple[int, int, str]] = []
    for token, tag in rows:
        glued = not text or token[0] in _NO_SPACE_BEFORE or text[-1] in _NO_SPACE_AFTER
        glued = glued or text.endswith(("'", "’"))  # "d'" + "un"
        glued = glued or (len(token) > 1 and token[0] in "'’")  # "O" + "'Sullivan"
        text += "" if glued else " "
        tokens.append((len(text), len(text) + len(token), tag))
        text += token
    spans: list[TaggedSpan] = []
    for start, end, tag in tokens:
        if tag.startswith("B-") or (tag.startswith("I-") and not spans):
            spans.append(TaggedSpan(start, end, tag[2:]))
        elif tag.startswith("I-") and spans[-1].entity_type == tag[2:]:
            spans[-1] = TaggedSpan(spans[-1].start, end, tag[2:])
        elif tag.startswith("I-"):
            spans.append(TaggedSpan(start, end, tag[2:]))
    return TaggedSentence(text, tuple(spans), tuple(tokens))


def read_conll_sentences(path: Path, limit: int | None = None) -> list[TaggedSentence]:
    """The first `limit` sentences (all if None) of an IOB2 CoNLL file, rebuilt as text."""
    sentences: list[TaggedSentence] = []
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if limit is not None and len(sentences) >= limit:
                break
            line = line.rstrip("\n")
            if not line.strip():
                if rows:
                    sentences.append(_sentence(rows))
                    rows = []
                continue
            fields = line.split("\t")
            if len(fields) != 3 or not fields[1]:
                raise ValueError(
                    f"{path}:{number}: expected `idx<TAB>token<TAB>IOB2 tag`, got {line!r}"
                )
            rows.append((fields[1], fields[2]))
    if rows and (limit is None or len(sentences) < limit):
        sentences.append(_sentence(rows))
    return sentences


def read_citizen_texts(path: Path, limit: int | None = None) -> list[CitizenText]:
    """The first `limit` texts (all if None) of a `{source, id, title, text}` JSON-lines file."""
    texts: list[CitizenText] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if limit is not None and len(texts) >= limit:
                break
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                texts.append(CitizenText(str(record["source"]), str(record["id"]), record["text"]))
            except (json.JSONDecodeError, KeyError) as exc:
                raise ValueError(
                    f"{path}:{number}: expected a JSON object with source, id and text ({exc})"
                ) from None
    return texts
