"""Writing campaign files: the frozen dataclasses out as TOML that ``parse_any`` reads back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time

from .schema import END_OF_DAY, Author, CampaignFile, OpenLetterFile, RecipientData


def dump(data: CampaignFile | OpenLetterFile) -> str:
    """Write a campaign file of either kind as TOML that ``parse_any`` reads back to an equal value.

    Every key is written, empty ones too, so an exported file shows organisers what they
    can fill in; only dates that are not set are left out (TOML has no "none"). The
    output depends only on the value, so exporting twice gives the same text and files
    diff cleanly.
    """
    if isinstance(data, OpenLetterFile):
        return _dump_open_letter(data)
    c = data
    out = ["# Undersigned campaign file; the format is described in docs/campaign-files.md", "", "[campaign]"]
    out += [
        f"slug = {_string(c.slug)}",
        f"title = {_string(c.title)}",
        f"summary = {_string(c.summary)}",
        f"background = {_string(c.background)}",
    ]
    if c.deadline is not None:
        out.append(f"deadline = {_datetime(c.deadline)}")
    out += [
        f"tags = {_string_list(c.tags)}",
        f"language = {_string(c.language)}",
        f"status = {_string(c.status)}",
        f"min_uniqueness = {c.min_uniqueness}",
        f"posts_for_supporters = {_bool(c.posts_for_supporters)}",
        "",
        "[campaign.author]",
        *_author_lines(c.author),
    ]
    out += _recipients_lines(c.recipients)
    letter = c.letter
    out += [
        "",
        "[letter]",
        f"subject = {_string(letter.subject)}",
        f"body = {_string(letter.body)}",
        f"prompts = {_string_list(letter.prompts)}",
        f"channels = {_string_list(letter.channels)}",
        f"language = {_string(letter.language)}",
    ]
    return "\n".join(out) + "\n"


def _dump_open_letter(o: OpenLetterFile) -> str:
    # kind comes first: docs/campaign-files.md tells readers an open letter file starts with it.
    out = [
        'kind = "open_letter"',
        "# Undersigned open letter file; the format is described in docs/campaign-files.md",
        "",
        "[open_letter]",
        f"slug = {_string(o.slug)}",
        f"title = {_string(o.title)}",
        f"summary = {_string(o.summary)}",
        f"status = {_string(o.status)}",
    ]
    if o.published is not None:
        # A date alone means midnight here (the start of the day it was published).
        out.append(f"published = {_datetime(o.published, date_means=time(0, 0))}")
    if o.deadline is not None:
        out.append(f"deadline = {_datetime(o.deadline)}")
    out += [
        f"tags = {_string_list(o.tags)}",
        f"language = {_string(o.language)}",
        f"recipient_group = {_string(o.recipient_group)}",
    ]
    if o.decision_date is not None:
        out.append(f"decision_date = {o.decision_date.isoformat()}")
    out += [
        f"campaign = {_string(o.campaign)}",
        # Last, so the letter's text reads as a block of its own, as people write it.
        f"text = {_string(o.text)}",
    ]
    for author in o.authors:
        out += ["", "[[open_letter.authors]]", *_author_lines(author)]
    out += _recipients_lines(o.recipients)
    return "\n".join(out) + "\n"


def _author_lines(author: Author) -> list[str]:
    return [f"name = {_string(author.name)}", f"role = {_string(author.role)}", f"place = {_string(author.place)}"]


def _recipients_lines(recipients: Sequence[RecipientData]) -> list[str]:
    out: list[str] = []
    for r in recipients:
        out += [
            "",
            "[[recipients]]",
            f"name = {_string(r.name)}",
            f"role = {_string(r.role)}",
            f"organisation = {_string(r.organisation)}",
            f"email = {_string(r.email)}",
            f"web_form_url = {_string(r.web_form_url)}",
            f"postal_address = {_string(r.postal_address)}",
            f"country = {_string(r.country)}",
            f"language = {_string(r.language)}",
            f"max_emails_per_minute = {r.max_emails_per_minute}",
            f"daily_digest = {_bool(r.daily_digest)}",
        ]
    return out


def _bool(value: bool) -> str:
    return "true" if value else "false"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    # TOML allows no other control characters in basic strings, not even escaped as
    # themselves, so they are written as \uXXXX.
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04X}"
    return char


def _string(value: str) -> str:
    """A TOML basic string; a multi-line one when the value has line breaks."""
    if "\n" not in value:
        return '"' + "".join(_escape_char(char) for char in value) + '"'
    out = []
    quotes = 0  # unescaped quotes just written: a third would close the string
    for index, char in enumerate(value):
        if char == "\n":
            out.append("\n")
        elif char == '"':
            # Escape a quote that would make three in a row, and a final one, which
            # would otherwise run into the closing delimiter.
            if quotes == 2 or index == len(value) - 1:
                out.append('\\"')
                quotes = 0
                continue
            out.append('"')
            quotes += 1
            continue
        elif char == "\t":
            out.append("\t")
        else:
            out.append(_escape_char(char))
        quotes = 0
    # The line break after the opening delimiter is dropped by TOML; it keeps the text
    # starting at the left margin, as organisers wrote it.
    return '"""\n' + "".join(out) + '"""'


def _string_list(values: Sequence[str]) -> str:
    items = [_string(value) for value in values]
    one_line = "[" + ", ".join(items) + "]"
    if len(one_line) <= 80 and "\n" not in one_line:
        return one_line
    return "[\n" + "".join(f"    {item},\n" for item in items) + "]"


def _datetime(value: datetime, *, date_means: time = END_OF_DAY) -> str:
    """A UTC date-time, or only its date when the date alone reads back as this time.

    ``date_means`` is the time a date alone stands for in the key's rule (the end of the
    day for deadlines, midnight for ``published``); writing a date for any other time
    would move the value on import.
    """
    value = value.astimezone(UTC)
    if value.time() == date_means:
        return value.date().isoformat()
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"
