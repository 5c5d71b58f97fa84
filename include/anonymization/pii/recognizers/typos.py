"""Words as citizens type them: one slip of the fingers away from the word they meant.

A cue word with a typo ("Mon voisiin Parent", "maadame da silva", "Je m'applele
Zoé") still announces a name, and a greeting with a typo ("Boonjour", "Mdaame")
is still not one. One slip is a letter dropped, doubled or added, a wrong letter,
or two neighbouring letters swapped (the Damerau edit distance 1).

Only words long enough not to have ordinary words among their neighbours are
given this tolerance (`MIN_TOLERANT_LENGTH`): "madame" has no French word one
slip away, "mme" has dozens ("me", "mie", "mle", ...).
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

MIN_TOLERANT_LENGTH = 6
# The slip is a letter: "Monsieur," is not "monsieur" with a comma typed in.
_LETTER = r"\p{L}"


def _one_slip_variants(word: str) -> list[str]:
    r"""Regex fragments for `word` and every way of typing it with one slip.

    Spelled out rather than left to the `regex` module's fuzzy matching, which
    counts a swap as two slips and, inside a look-behind with IGNORECASE,
    ignores the "errors must be letters" constraint (seen with regex 2026.11.19:
    "Monsieur," matched `(?:monsieur){e<=1:[^\W\d_]}` there).
    """
    lit, n = regex.escape, len(word)
    variants = [lit(word)]
    variants += [lit(word[:i] + word[i + 1 :]) for i in range(n)]  # dropped
    variants += [lit(word[:i]) + _LETTER + lit(word[i + 1 :]) for i in range(n)]  # wrong
    variants += [lit(word[:i]) + _LETTER + lit(word[i:]) for i in range(n + 1)]  # added, doubled
    variants += [
        lit(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
        for i in range(n - 1)
        if word[i] != word[i + 1]
    ]  # swapped
    return list(dict.fromkeys(variants))


def one_typo_pattern(*words: str) -> str:
    """A `regex` pattern matching any of `words` typed with at most one slip (see above).

    The caller bounds the match (a word boundary on both sides): a dropped letter
    makes a shorter word, which could otherwise be found inside a longer one.
    Longer words go first, so that "voisine" is not read as "voisin" plus a letter.
    """
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        if len(word) < MIN_TOLERANT_LENGTH:
            raise ValueError(
                f"{word!r} is too short to be matched with a typo: words under "
                f"{MIN_TOLERANT_LENGTH} letters have ordinary words one slip away"
            )
        alternatives += _one_slip_variants(word)
    return "(?:" + "|".join(alternatives) + ")"


def one_typo_before_its_value(word: str) -> str:
    """A `regex` pattern matching a SHORT cue word typed with at most one slip ("obrn" for
    "born", "nmae" for "name"), for a cue trusted only right before the value it announces
    ("born" + a date, "my name is" + a name): what must follow bounds the match, so the
    length limit of `one_typo_pattern` does not apply."""
    return "(?:" + "|".join(_one_slip_variants(word)) + ")"


def one_typo_apart(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with exactly one slip (an identical word is not a typo)."""
    if len(typed) == len(word):
        differ = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        if len(differ) != 2:
            return len(differ) == 1
        i, j = differ
        return j == i + 1 and typed[i] == word[j] and typed[j] == word[i]
    shorter, longer = sorted((typed, word), key=len)
    return len(longer) - len(shorter) == 1 and any(
        longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer))
    )


def is_typo_of_any(typed: str, words: Iterable[str]) -> bool:
    """Whether `typed` (compared lower-cased) is one slip away from one of the long `words`."""
    lowered = typed.lower()
    size = len(lowered)
    return size >= MIN_TOLERANT_LENGTH - 1 and any(
        len(word) >= MIN_TOLERANT_LENGTH
        and abs(len(word) - size) <= 1
        and one_typo_apart(lowered, word)
        for word in words
    )
