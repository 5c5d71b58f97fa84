"""Score the scrubber on real text: names it finds in public sentences, words it wrongly takes.

The generator's corpus measures the scrubber on texts shaped like its own rules.
Two public corpora measure it where it was never tuned (see `reference_corpora`):
- name recall on NER sentences: the share of PER spans whose every character
  (spaces aside) is redacted, whatever the detection's type, and the same per
  token. A civility or a lower-case title opening a span, and the particles
  after it ("Dr. Dre", "Madame de Maintenon", "général de Gaulle", "roi
  Scorpion"), are left out of it: the scrubber keeps them in clear on purpose,
  they say nothing about who the person is. Then the precision of
  PERSON detections against the PER spans, with the PERSON detections that fall
  on a place, organisation or other named thing counted apart (the corpus
  labels those, but they are not a person's name); the detections of other types
  (Wikipedia prose holds almost no identifiers: nearly all are false) and every
  French function word taken for personal data;
- over-redaction on citizen proposals, which hold almost no personal data: the
  share of texts with any redaction, the characters redacted, what was redacted
  most often, per type, and every French function word taken for personal data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH_STOP_WORDS

from include.anonymization.pii.entities import PERSON
from include.anonymization.pii.evaluation import Detection, coverage, is_covered
from include.anonymization.pii.recognizers.words import NAME_PARTICLES, NOT_NAMES
from include.anonymization.pii.reference_corpora import TaggedSentence, TaggedSpan

PER = "PER"
# The targets on real text.
NAME_RECALL_TARGET = 0.97
REDACTED_TEXTS_TARGET = 0.05
TOP_REDACTED = 30


@dataclass(frozen=True)
class MissedName:
    """A person name not fully redacted, and the index of its sentence (to show it in context)."""

    value: str
    sentence: int


@dataclass
class NameRecall:
    """Counts over NER sentences; the rates are properties."""

    sentences: int = 0
    names: int = 0
    names_redacted: int = 0
    name_tokens: int = 0
    name_tokens_redacted: int = 0
    person_detections: int = 0
    person_on_names: int = 0
    person_on_other_labels: Counter[str] = field(default_factory=Counter)
    person_unlabelled: int = 0
    missed: list[MissedName] = field(default_factory=list)
    false_persons: list[str] = field(default_factory=list)
    other_types: Counter[str] = field(default_factory=Counter)
    other_values: Counter[str] = field(default_factory=Counter)
    function_words: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.names_redacted / self.names if self.names else 1.0

    @property
    def token_recall(self) -> float:
        return self.name_tokens_redacted / self.name_tokens if self.name_tokens else 1.0

    @property
    def precision(self) -> float:
        return self.person_on_names / self.person_detections if self.person_detections else 1.0

    def add(self, sentence: TaggedSentence, detections: Sequence[Detection]) -> None:
        """Score one sentence."""
        text = sentence.text
        self.sentences += 1
        covered = coverage(len(text), detections)
        names = [_without_civility(sentence, s) for s in sentence.spans if s.entity_type == PER]
        for span in names:
            self.names += 1
            if is_covered(text, span, covered):
                self.names_redacted += 1
            else:
                self.missed.append(MissedName(text[span.start : span.end], self.sentences - 1))
        for start, end, tag in sentence.tokens:
            if tag.endswith(f"-{PER}") and any(n.start <= start < n.end for n in names):
                self.name_tokens += 1
                self.name_tokens_redacted += all(covered[start:end])
        for detection in detections:
            value = text[detection.start : detection.end]
            if is_function_word(value):
                self.function_words[value] += 1
            if detection.entity_type != PERSON:
                self.other_types[detection.entity_type] += 1
                self.other_values[value] += 1
                continue
            self.person_detections += 1
            labels = {
                s.entity_type
                for s in sentence.spans
                if s.start < detection.end and detection.start < s.end
            }
            if PER in labels:
                self.person_on_names += 1
            elif labels:
                self.person_on_other_labels.update(labels)
            else:
                self.person_unlabelled += 1
                self.false_persons.append(text[detection.start : detection.end])

    def as_dict(self) -> dict[str, object]:
        return {
            "sentences": self.sentences,
            "person_names": self.names,
            "recall": round(self.recall, 4),
            "name_tokens": self.name_tokens,
            "token_recall": round(self.token_recall, 4),
            "person_detections": self.person_detections,
            "precision": round(self.precision, 4),
            "person_on_other_labels": dict(sorted(self.person_on_other_labels.items())),
            "person_unlabelled": self.person_unlabelled,
            "top_missed": Counter(m.value for m in self.missed).most_common(TOP_REDACTED),
            "top_unlabelled_persons": Counter(self.false_persons).most_common(TOP_REDACTED),
            "other_detections": dict(self.other_types.most_common()),
            "top_other_detections": self.other_values.most_common(TOP_REDACTED),
            "function_words_redacted": dict(self.function_words.most_common()),
        }


@dataclass
class OverRedaction:
    """What the scrubber removed from texts that hold (almost) no personal data."""

    texts: int = 0
    texts_redacted: int = 0
    chars: int = 0
    chars_redacted: int = 0
    per_type: Counter[str] = field(default_factory=Counter)
    texts_per_type: Counter[str] = field(default_factory=Counter)
    strings: Counter[str] = field(default_factory=Counter)
    function_words: Counter[str] = field(default_factory=Counter)

    @property
    def redacted_share(self) -> float:
        return self.texts_redacted / self.texts if self.texts else 0.0

    @property
    def chars_share(self) -> float:
        return self.chars_redacted / self.chars if self.chars else 0.0

    def add(self, text: str, detections: Sequence[Detection]) -> None:
        """Score one text."""
        self.texts += 1
        self.chars += len(text)
        self.texts_redacted += bool(detections)
        self.chars_redacted += sum(coverage(len(text), detections))
        self.texts_per_type.update({d.entity_type for d in detections})
        for detection in detections:
            value = text[detection.start : detection.end]
            self.per_type[detection.entity_type] += 1
            self.strings[value] += 1
            if is_function_word(value):
                self.function_words[value] += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "texts": self.texts,
            "texts_redacted": self.texts_redacted,
            "redacted_share": round(self.redacted_share, 4),
            "chars": self.chars,
            "chars_redacted": self.chars_redacted,
            "chars_share": round(self.chars_share, 6),
            "per_type": dict(self.per_type.most_common()),
            "texts_per_type": dict(self.texts_per_type.most_common()),
            "top_redacted": self.strings.most_common(TOP_REDACTED),
            "function_words_redacted": dict(self.function_words.most_common()),
        }


def is_function_word(value: str) -> bool:
    """A French function word («les», «des») or a blank: never personal data."""
    return value.strip().casefold() in FRENCH_STOP_WORDS or not value.strip()


def _without_civility(sentence: TaggedSentence, span: TaggedSpan) -> TaggedSpan:
    """The span minus the civility or lower-case title that opens it and its particles
    ("Madame de" of "Madame de Maintenon", "général de" of "général de Gaulle", "roi" of
    "roi Scorpion", "frères" of "frères Taviani"): a name word starts with a capital, and the
    scrubber keeps such words in clear on purpose (`name_shape` rule 1)."""
    words = [sentence.text[s:e] for s, e, _ in sentence.tokens]
    tokens = [i for i, (s, _, _) in enumerate(sentence.tokens) if span.start <= s < span.end]
    if len(tokens) > 1 and _kept_in_clear(words[tokens[0]]):
        tokens.pop(0)
        while len(tokens) > 1 and (
            words[tokens[0]] == "." or words[tokens[0]].lower() in NAME_PARTICLES
        ):
            tokens.pop(0)
    return TaggedSpan(sentence.tokens[tokens[0]][0], span.end, span.entity_type)


def _kept_in_clear(word: str) -> bool:
    """A civility ("Madame", "M.") or a title or role in lower case ("roi", "général")."""
    return word.lower().strip(".") in NOT_NAMES or (word[:1].islower() and word.isalpha())


def score_names(
    sentences: Sequence[TaggedSentence], detections: Sequence[Sequence[Detection]]
) -> NameRecall:
    """Name recall and PERSON precision of `detections[i]` on `sentences[i]`."""
    _same_length(len(sentences), len(detections))
    result = NameRecall()
    for sentence, found in zip(sentences, detections, strict=True):
        result.add(sentence, found)
    return result


def score_over_redaction(
    texts: Sequence[str], detections: Sequence[Sequence[Detection]]
) -> OverRedaction:
    """What `detections[i]` removed from `texts[i]`, over texts without personal data."""
    _same_length(len(texts), len(detections))
    result = OverRedaction()
    for text, found in zip(texts, detections, strict=True):
        result.add(text, found)
    return result


def _same_length(texts: int, detections: int) -> None:
    if texts != detections:
        raise ValueError(f"{texts} texts but {detections} detection lists: one per text is needed")
