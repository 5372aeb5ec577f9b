"""Where keys are in the text: the line numbers that campaign file messages name.

tomllib returns values without positions, so to say "line 12" for a wrong value we
scan the text ourselves: table headers and the keys at the start of a line, skipping
comments, strings (multi-line ones included) and the inside of arrays and inline
tables. The text has already parsed, so the scanner can assume it is valid TOML. Keys
inside inline tables and arrays get no line of their own; messages about them use
the line of the enclosing key.
"""

from __future__ import annotations

import re
import tomllib

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_lines(text: str) -> dict[str, int]:
    """Map each key path (``campaign.slug``, ``recipients[2].email``) to its line number."""
    found: dict[str, int] = {}
    array_counts: dict[tuple[str, ...], int] = {}
    prefix: list[str] = []
    i, line, size = 0, 1, len(text)
    line_start = True
    depth = 0
    while i < size:
        char = text[i]
        if char == "\n":
            line += 1
            line_start = True
            i += 1
            continue
        if char in " \t\r":
            i += 1
            continue
        if char == "#":
            end = text.find("\n", i)
            i = size if end < 0 else end
            continue
        if line_start and depth == 0:
            line_start = False
            header = char == "["
            double = text.startswith("[[", i)
            read = _read_key(text, i + (2 if double else 1 if header else 0))
            if read is not None:
                parts, i = read
                if header:
                    if double:
                        array_counts[tuple(parts)] = array_counts.get(tuple(parts), 0) + 1
                    prefix = _resolve(parts, array_counts)
                    found.setdefault(".".join(prefix), line)
                    i += 2 if double else 1
                else:
                    found.setdefault(".".join([*prefix, *parts]), line)
                    i += 1  # the "="
                continue
        line_start = False
        if char in "\"'":
            i, line = _skip_string(text, i, line)
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        i += 1
    return found


def _resolve(parts: list[str], array_counts: dict[tuple[str, ...], int]) -> list[str]:
    """Name array-of-tables entries by their number: ``recipients`` → ``recipients[2]``."""
    resolved = []
    for index, part in enumerate(parts):
        count = array_counts.get(tuple(parts[: index + 1]))
        resolved.append(f"{part}[{count}]" if count else part)
    return resolved


def _read_key(text: str, i: int) -> tuple[list[str], int] | None:
    """Read a dotted key at ``i``; return its parts and the position after it and any blanks."""
    parts: list[str] = []
    while True:
        i = _skip_blanks(text, i)
        if i >= len(text):
            return None
        if text[i] in "\"'":
            end, _ = _skip_string(text, i, 0)
            # Let tomllib decode the quoted key's escapes rather than doing it twice.
            parts.extend(tomllib.loads(f"{text[i:end]} = 0"))
            i = end
        else:
            match = _BARE_KEY.match(text, i)
            if match is None:
                return None
            parts.append(match.group())
            i = match.end()
        i = _skip_blanks(text, i)
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, i


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _skip_string(text: str, i: int, line: int) -> tuple[int, int]:
    """Return the position after the string starting at ``i``, and the line it ends on."""
    quote = text[i]
    size = len(text)
    if text.startswith(quote * 3, i):
        j = i + 3
        while j < size:
            if quote == '"' and text[j] == "\\":
                if j + 1 < size and text[j + 1] == "\n":
                    line += 1
                j += 2
                continue
            if text.startswith(quote * 3, j):
                j += 3
                # Up to two quotes may stand right before the closing delimiter.
                for _ in range(2):
                    if j < size and text[j] == quote:
                        j += 1
                return j, line
            if text[j] == "\n":
                line += 1
            j += 1
        return size, line
    j = i + 1
    while j < size and text[j] != quote and text[j] != "\n":
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return j + 1, line
