"""Writing campaign files: the frozen dataclasses out as TOML that ``parse_any`` reads back.

The text is built as a tomlkit document, so quoting and escaping are tomlkit's: no
value (a title with three quotes, a body with a ``[campaign]`` line) can change the file's
structure. What is ours is the layout organisers read: a comment naming the format,
every key in a fixed order, a blank line before each table, long texts as multi-line
blocks, short lists on one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

import tomlkit
from tomlkit.items import Array, Item, String, StringType, Table, Trivia

from .schema import (
    END_OF_DAY,
    Author,
    CampaignFile,
    OpenLetterFile,
    OpenLetterTranslationData,
    RecipientData,
    TranslationData,
)

CAMPAIGN_HEADER = "Undersigned campaign file; the format is described in docs/campaign-files.md"
OPEN_LETTER_HEADER = "Undersigned open letter file; the format is described in docs/campaign-files.md"
# A list longer than this on one line is written one item a line.
ONE_LINE_LIST = 80


def dump(data: CampaignFile | OpenLetterFile) -> str:
    """Write a campaign file of either kind as TOML that ``parse_any`` reads back to an equal value.

    Every key is written, empty ones too, so an exported file shows organisers what they
    can fill in; only dates that are not set are left out (TOML has no "none"). The
    output depends only on the value, so exporting twice gives the same text and files
    diff cleanly. Line breaks are written as LF (see ``_text``).
    """
    document = tomlkit.document()
    if isinstance(data, OpenLetterFile):
        # kind comes first: docs/campaign-files.md tells readers an open letter file starts with it.
        document.add("kind", _text("open_letter"))
        document.add(tomlkit.comment(OPEN_LETTER_HEADER))
        document.add(tomlkit.nl())
        document.add("open_letter", _open_letter_table(data))
    else:
        document.add(tomlkit.comment(CAMPAIGN_HEADER))
        document.add(tomlkit.nl())
        document.add("campaign", _campaign_table(data))
    if data.recipients:
        recipients = tomlkit.aot()
        for recipient in data.recipients:
            recipients.append(_recipient_table(recipient))
        document.add("recipients", recipients)
    if isinstance(data, CampaignFile):
        document.add("letter", _letter_table(data))
    if data.translations:  # only then: files in one language stay as they were
        translations = tomlkit.table(is_super_table=True)
        for translation in data.translations:
            translations.add(translation.language, _translation_table(translation))
        document.add("translations", translations)
    return tomlkit.dumps(document)


def _campaign_table(c: CampaignFile) -> Table:
    table = tomlkit.table()
    table.add("slug", _text(c.slug))
    table.add("title", _text(c.title))
    table.add("summary", _text(c.summary))
    table.add("background", _text(c.background))
    if c.deadline is not None:
        table.add("deadline", _when(c.deadline))
    table.add("tags", _text_list(c.tags))
    table.add("language", _text(c.language))
    table.add("status", _text(c.status))
    table.add("min_uniqueness", c.min_uniqueness)
    table.add("posts_for_supporters", c.posts_for_supporters)
    if c.recipient_group:  # only then: files of campaigns without a group stay as they were
        table.add("recipient_group", _text(c.recipient_group))
        if c.decision_date is not None:
            table.add("decision_date", tomlkit.date(c.decision_date.isoformat()))
        table.add("routing", _text(c.routing or "own_country"))
        table.add("well_covered_at", c.well_covered_at)
    # Reply settings only when they are not the defaults: other files stay as they were.
    if c.reply_ask_days is not None:
        table.add("reply_ask_days", c.reply_ask_days)
    if c.reply_address != "reply_to":
        table.add("reply_address", _text(c.reply_address))
    if c.responsiveness_public:
        table.add("responsiveness_public", c.responsiveness_public)
    table.add("author", _author_table(c.author))
    return table


def _open_letter_table(o: OpenLetterFile) -> Table:
    table = tomlkit.table()
    table.add("slug", _text(o.slug))
    table.add("title", _text(o.title))
    table.add("summary", _text(o.summary))
    table.add("status", _text(o.status))
    if o.published is not None:
        # A date alone means midnight here (the start of the day it was published).
        table.add("published", _when(o.published, date_means=time(0, 0)))
    if o.deadline is not None:
        table.add("deadline", _when(o.deadline))
    table.add("tags", _text_list(o.tags))
    table.add("language", _text(o.language))
    table.add("recipient_group", _text(o.recipient_group))
    if o.decision_date is not None:
        table.add("decision_date", tomlkit.date(o.decision_date.isoformat()))
    table.add("campaign", _text(o.campaign))
    # Last, so the letter's text reads as a block of its own, as people write it.
    table.add("text", _text(o.text))
    if o.authors:
        authors = tomlkit.aot()
        for author in o.authors:
            authors.append(_author_table(author))
        table.add("authors", authors)
    return table


def _author_table(author: Author) -> Table:
    table = tomlkit.table()
    table.add("name", _text(author.name))
    table.add("role", _text(author.role))
    table.add("place", _text(author.place))
    return table


def _recipient_table(r: RecipientData) -> Table:
    table = tomlkit.table()
    table.add("name", _text(r.name))
    table.add("role", _text(r.role))
    table.add("organisation", _text(r.organisation))
    table.add("email", _text(r.email))
    table.add("web_form_url", _text(r.web_form_url))
    table.add("postal_address", _text(r.postal_address))
    table.add("country", _text(r.country))
    table.add("language", _text(r.language))
    table.add("max_emails_per_minute", r.max_emails_per_minute)
    table.add("daily_digest", r.daily_digest)
    return table


def _letter_table(c: CampaignFile) -> Table:
    letter = c.letter
    table = tomlkit.table()
    table.add("subject", _text(letter.subject))
    table.add("body", _text(letter.body))
    table.add("prompts", _text_list(letter.prompts))
    table.add("channels", _text_list(letter.channels))
    table.add("language", _text(letter.language))
    return table


def _translation_table(t: TranslationData | OpenLetterTranslationData) -> Table:
    table = tomlkit.table()
    if isinstance(t, OpenLetterTranslationData):
        table.add("title", _text(t.title))
        table.add("summary", _text(t.summary))
        table.add("text", _text(t.text))
        return table
    table.add("subject", _text(t.subject))
    table.add("body", _text(t.body))
    table.add("prompts", _text_list(t.prompts))
    table.add("summary", _text(t.summary))
    table.add("background", _text(t.background))
    return table


def _text(value: str) -> Item:
    """A TOML basic string; a multi-line block when the value has line breaks.

    tomlkit escapes the text. Two things are added to its multi-line form: a line break
    right after the opening quotes (TOML drops it), so the text starts at the left
    margin as organisers write it; and ``\\r`` for the CR of each CRLF pair, which TOML
    would otherwise read back as a bare LF. Texts typed into a browser's text box (the
    admin) have CRLF pairs, and must come back exactly.
    """
    if "\n" not in value:
        return tomlkit.string(value)
    # Escaping never writes a raw CR, so each one here is a CRLF of the text itself.
    escaped = tomlkit.string(value, multiline=True).as_string()[3:-3].replace("\r\n", "\\r\n")
    if not escaped.startswith("\n"):  # tomlkit adds one only when the text starts with a line break
        escaped = "\n" + escaped
    return String(StringType.MLB, value, escaped, Trivia())


def _text_list(values: Sequence[str]) -> Array:
    items = tomlkit.array()
    for value in values:
        items.append(_text(value))
    if len(items.as_string()) > ONE_LINE_LIST or any("\n" in value for value in values):
        items.multiline(True)
    return items


def _when(value: datetime, *, date_means: time = END_OF_DAY) -> Item:
    """A UTC date-time, or only its date when the date alone reads back as this time.

    ``date_means`` is the time a date alone stands for in the key's rule (the end of the
    day for deadlines, midnight for ``published``); writing a date for any other time
    would move the value on import.
    """
    value = value.astimezone(UTC)
    if value.time() == date_means:
        return tomlkit.item(date(value.year, value.month, value.day))
    return tomlkit.item(value)
