"""One answer per text, remembered while that text is being scrubbed.

Several recognizers ask the same question of the same text (does it hold a
digit? was it typed in lower case?), one after the other, in the process that
scrubs it. The answer for the last text asked about is kept; the next text
replaces it, so the memory held is one answer, whatever the run's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class LastTextMemo(Generic[Answer]):
    """`question(text)`, computed once for the text last asked about.

    The text is compared by identity: the scrubber hands every recognizer the same
    string object, and holding it here keeps its identity from being reused. The text
    and its answer are one tuple, replaced at once, so that a thread never reads one
    text's answer for another.
    """

    def __init__(self, question: Callable[[str], Answer]) -> None:
        self._question = question
        self._last: tuple[str, Answer] | None = None

    def __call__(self, text: str) -> Answer:
        last = self._last
        if last is None or last[0] is not text:
            last = (text, self._question(text))
            self._last = last
        return last[1]
