"""How much of a letter is in the supporter's own words: a pure function, no database.

The letter and the template are cut into overlapping runs of three words ("shingles").
A shingle of the letter that also occurs in the template is template text; the share of
letter shingles that do not occur there is the letter's own part. Shingles rather than
single words, because a personal paragraph reuses common words ("the", "council") but
rarely three in the template's order. Text in scripts written without spaces (Chinese,
Japanese) is cut per character, so those letters are measured too.
"""

from __future__ import annotations

import re

SHINGLE = 3

# Words: runs of letters/digits, or single CJK characters (they carry a word each).
_TOKENS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+(?:['’][^\W_]+)*")
_PLACEHOLDER = re.compile(r"\{\{\s*[^{}]*?\s*\}\}")


def tokens(text: str) -> list[str]:
    # A placeholder counts as one word, so "Dear {{ recipient.name }}" matches itself.
    text = _PLACEHOLDER.sub(lambda m: " " + re.sub(r"\W", "", m.group(0)) + " ", text)
    return [t.casefold() for t in _TOKENS.findall(text)]


def shingles(words: list[str], size: int = SHINGLE) -> list[tuple[str, ...]]:
    if len(words) < size:
        return [tuple(words)] if words else []
    return [tuple(words[i : i + size]) for i in range(len(words) - size + 1)]


def own_words_percent(letter: str, template: str) -> int:
    """Percent (0–100, rounded down) of the letter's shingles not found in the template.

    An empty letter is 0 % its own; a letter sharing nothing with the template is 100 %.
    """
    letter_shingles = shingles(tokens(letter))
    if not letter_shingles:
        return 0
    template_set = set(shingles(tokens(template)))
    own = sum(1 for s in letter_shingles if s not in template_set)
    return own * 100 // len(letter_shingles)
