"""Pure helpers for an open letter's text: its hash, what changed between versions, and
the folded form of endorsers' names the searches match."""

from __future__ import annotations

import difflib
import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from undersigned.campaigns.languages import language_name

SEARCH_TEXT_MAX = 420  # Endorsement.search_text's length
# Letters that carry no accent to strip in Unicode but are typed without one by people
# who cannot find them on their keyboard (ß comes apart by casefold, ǆ by NFKD); and
# apostrophes that Unicode counts as letters (ʼ ʻ and kin), which go like every other.
_PLAIN_LETTERS = str.maketrans(
    {
        "ø": "o",
        "đ": "d",
        "ł": "l",
        "ħ": "h",
        "ı": "i",
        "þ": "th",
        "ð": "d",
        "ŧ": "t",
        "æ": "ae",
        "œ": "oe",
        "\u02b9": None,  # ʹ modifier letter prime
        "\u02bb": None,  # ʻ turned comma (the okina, often typed as ')
        "\u02bc": None,  # ʼ modifier letter apostrophe
        "\u02bd": None,  # ʽ reversed comma
        "\u02be": None,  # ʾ right half ring
        "\u02bf": None,  # ʿ left half ring
        "\ua78c": None,  # ꞌ saltillo
    }
)


def text_hash(title: str, text: str) -> str:
    """SHA-256 of the title and text as published (line endings made LF)."""
    body = f"{title}\n\n{text}".replace("\r\n", "\n")
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChangedLine:
    kind: str  # "added", "removed" or "same" (context around a change)
    text: str


def changes(old: str, new: str, *, context: int = 1) -> list[ChangedLine]:
    """The lines that changed from ``old`` to ``new``, with a line of context, in order."""
    result: list[ChangedLine] = []
    old_lines = old.replace("\r\n", "\n").split("\n")
    new_lines = new.replace("\r\n", "\n").split("\n")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                result.extend(ChangedLine("same", line) for line in old_lines[i1:i2])
                continue
            result.extend(ChangedLine("removed", line) for line in old_lines[i1:i2])
            result.extend(ChangedLine("added", line) for line in new_lines[j1:j2])
    return result


def fold(text: str) -> str:
    """``text`` as the endorser searches compare it: the same for every way of typing a name.

    Case is folded (ß → ss), accents are dropped (é → e, ø → o), and everything that is
    not a letter or a digit goes: apostrophes of every shape (' ’ ‘ ʼ), hyphens, dots,
    commas and spaces. "Siobhán O’Brien", "siobhan o'brien" and "SIOBHAN OBRIEN" all
    fold to ``siobhanobrien``. Scripts without case or accents (CJK, Arabic letters) stay.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_PLAIN_LETTERS)
    return "".join(char for char in decomposed if char.isalnum())


def search_text(*parts: str) -> str:
    """The stored search text of an endorsement: its name, organisation and signatory,
    each folded, separated by a space (a folded search has none, so it never matches
    across two of them)."""
    return " ".join(folded for folded in map(fold, parts) if folded)[:SEARCH_TEXT_MAX]


def version_label(version: Any) -> str:
    """Which text a version is, as the emails and packs name it: its number, its language
    and the start of its fingerprint."""
    return gettext("version %(number)s of the text in %(language)s, fingerprint (SHA-256) %(fingerprint)s…") % {
        "number": version.number,
        "language": language_name(version.language, in_sentence=True),
        "fingerprint": version.text_hash[:16],
    }
