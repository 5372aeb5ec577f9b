"""Pure helpers for an open letter's text: its hash and what changed between versions."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass


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
