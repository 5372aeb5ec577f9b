"""Campaign files: a campaign, its recipients and its letter template as TOML text.

This module owns the file format (documented in docs/campaign-files.md): ``parse`` turns
TOML text into frozen dataclasses after checking every rule, and ``dump`` writes them
back as TOML. It is pure: no database, no settings, except that country codes are
checked against django-countries, which reads Django's settings when first used.

``parse`` collects *every* problem before giving up, because an organiser fixing a file
by hand would otherwise need one round trip per mistake. Each message names the key
path (``recipients[2].email``, recipients counted from 1) and, when the key can be found
in the text, its line.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from .enums import CHANNEL_ORDER, CampaignStatus
from .placeholders import KNOWN, unknown_placeholders

# Limits. Those named after a model field must equal its max_length (a test checks it):
# a longer value would pass here and then fail, less clearly, in the database.
MAX_LENGTHS: dict[str, int] = {
    "campaign.slug": 80,
    "campaign.title": 200,
    "campaign.summary": 1000,
    "campaign.language": 10,
    "campaign.author.name": 200,
    "campaign.author.role": 200,
    "campaign.author.place": 200,
    "recipients.name": 200,
    "recipients.role": 200,
    "recipients.organisation": 200,
    "recipients.email": 254,
    "recipients.web_form_url": 500,
    "recipients.language": 10,
    "letter.subject": 200,
    "letter.language": 10,
    # Not model limits. The body limit is the one on supporters' letters
    # (settings.LETTER_BODY_MAX_CHARS): a longer template could never be sent.
    "letter.body": 20_000,
    "campaign.background": 50_000,
    "recipients.postal_address": 1000,
    "campaign.tags": 50,  # each tag
    "letter.prompts": 500,  # each prompt
    # Open letters (kind = "open_letter"); the model limits of openletters.OpenLetter.
    "open_letter.slug": 80,
    "open_letter.title": 200,
    "open_letter.summary": 1000,
    "open_letter.language": 10,
    "open_letter.text": 50_000,
    "open_letter.tags": 50,
    "open_letter.recipient_group": 200,
    "open_letter.campaign": 80,
    "open_letter.authors.name": 200,
    "open_letter.authors.role": 200,
    "open_letter.authors.place": 200,
}

TOP_KEYS = ("kind", "campaign", "recipients", "letter")
OPEN_LETTER_TOP_KEYS = ("kind", "open_letter", "recipients")
KINDS = ("campaign", "open_letter")
OPEN_LETTER_KEYS = (
    "slug",
    "title",
    "summary",
    "text",
    "status",
    "published",
    "deadline",
    "tags",
    "language",
    "recipient_group",
    "decision_date",
    "campaign",
    "authors",
)
OPEN_LETTER_STATUSES = ("draft", "published", "closed")
CAMPAIGN_KEYS = (
    "slug",
    "title",
    "summary",
    "background",
    "deadline",
    "tags",
    "language",
    "status",
    "min_uniqueness",
    "posts_for_supporters",
    "author",
)
AUTHOR_KEYS = ("name", "role", "place")
RECIPIENT_KEYS = (
    "name",
    "role",
    "organisation",
    "email",
    "web_form_url",
    "postal_address",
    "country",
    "language",
    "max_emails_per_minute",
    "daily_digest",
)
# The most emails a minute a recipient's pace may allow; 0 means no limit.
MAX_PACE = 10_000
LETTER_KEYS = ("subject", "body", "prompts", "channels", "language")

CHANNELS = tuple(str(c) for c in CHANNEL_ORDER)
STATUSES = tuple(str(s) for s in CampaignStatus.values)
DEFAULT_STATUS = str(CampaignStatus.DRAFT)

# Same rule as Django's SlugField, so that every campaign the admin can save can also be
# exported and imported again.
SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# A simple BCP 47 shape ("en", "pt-BR", "sr-Latn"); enough to catch "English".
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# A deadline given as a date means the end of that day, so "deadline = 2027-03-31"
# still accepts letters on the 31st.
END_OF_DAY = time(23, 59, 59)


class CampaignFileError(Exception):
    """A campaign file that cannot be used, with one message per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True, kw_only=True)
class Author:
    """The person the campaign page introduces as its author."""

    name: str = ""
    role: str = ""
    place: str = ""


@dataclass(frozen=True, kw_only=True)
class RecipientData:
    name: str
    role: str = ""
    organisation: str = ""
    email: str = ""
    web_form_url: str = ""
    postal_address: str = ""
    country: str = ""
    language: str = ""
    # Platform email to this recipient: at most this many a minute (0: no limit), or
    # one email a day listing that day's letters.
    max_emails_per_minute: int = 0
    daily_digest: bool = False


@dataclass(frozen=True, kw_only=True)
class LetterTemplateData:
    subject: str
    body: str
    prompts: tuple[str, ...] = ()
    channels: tuple[str, ...] = CHANNELS
    language: str = ""


@dataclass(frozen=True, kw_only=True)
class CampaignFile:
    slug: str
    title: str
    summary: str = ""
    background: str = ""
    deadline: datetime | None = None  # aware, UTC
    tags: tuple[str, ...] = ()
    language: str = "en"
    status: str = DEFAULT_STATUS
    min_uniqueness: int = 0
    posts_for_supporters: bool = False
    author: Author = field(default_factory=Author)
    recipients: tuple[RecipientData, ...]
    letter: LetterTemplateData


@dataclass(frozen=True, kw_only=True)
class OpenLetterFile:
    """An open letter (``kind = "open_letter"``): its text, authors and addressees.

    With ``recipient_group`` set, the recipients become the members of a recipient group
    of that name and the letter is addressed to the group; otherwise to each recipient.
    ``campaign`` names a letter campaign (by slug) whose composer starts from this text.
    """

    slug: str
    title: str
    text: str
    summary: str = ""
    status: str = "draft"
    published: datetime | None = None
    deadline: datetime | None = None
    tags: tuple[str, ...] = ()
    language: str = "en"
    recipient_group: str = ""
    decision_date: date | None = None
    campaign: str = ""
    authors: tuple[Author, ...] = ()
    recipients: tuple[RecipientData, ...]


# --- Parsing ---------------------------------------------------------------------------


def _load(text: str) -> tuple[str, dict[str, Any]]:
    # Some editors on Windows start UTF-8 files with a byte order mark; TOML does not allow it.
    text = text.removeprefix("\ufeff")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError([_syntax_message(exc, text)]) from None


def parse(text: str) -> CampaignFile:
    """Read a campaign file, or raise ``CampaignFileError`` listing every problem."""
    result = parse_any(text)
    if not isinstance(result, CampaignFile):
        raise CampaignFileError(['this file describes an open letter (kind = "open_letter"), not a campaign'])
    return result


def parse_any(text: str) -> CampaignFile | OpenLetterFile:
    """Read a campaign file of either kind (``kind = "campaign"``, the default, or ``"open_letter"``)."""
    text, raw = _load(text)
    checker = _Checker(text)
    kind = raw.get("kind", "campaign")
    result: CampaignFile | OpenLetterFile | None
    if kind == "open_letter":
        result = checker.open_letter_file(raw)
    elif kind == "campaign":
        result = checker.campaign_file(raw)
    else:
        checker.add("kind", f"kind must be one of {', '.join(KINDS)}, not {_quoted(str(kind))}")
        result = None
    if checker.problems or result is None:
        raise CampaignFileError(checker.messages())
    return result


_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")


def _syntax_message(exc: tomllib.TOMLDecodeError, text: str) -> str:
    # tomllib puts the position at the end of its message; Python 3.14 adds attributes
    # for it, but 3.12 and 3.13 only have the text.
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if match is None:
        return f"not valid TOML: {message}"
    reason = message[: match.start()]
    if match.group(1):
        return f"line {match.group(1)}, column {match.group(2)}: not valid TOML: {reason}"
    last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
    return f"line {max(last_line, 1)} (end of file): not valid TOML: {reason}"


def _quoted(value: str) -> str:
    """A value as TOML would write it, so messages show it exactly as typed."""
    return json.dumps(value, ensure_ascii=False)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _limit_key(path: str) -> str:
    """``recipients[2].email`` → ``recipients.email`` and ``campaign.tags[3]`` → ``campaign.tags``."""
    return re.sub(r"\[\d+\]", "", path)


class _Checker:
    """Checks one parsed file, collecting problems with the line each one is on."""

    def __init__(self, text: str) -> None:
        self.lines = _key_lines(text)
        self.problems: list[tuple[int | None, str]] = []

    def messages(self) -> list[str]:
        # Problems without a line (a missing table) come first, the rest in file order.
        ordered = sorted(self.problems, key=lambda p: (p[0] is not None, p[0] or 0))
        return [f"line {line}: {message}" if line else message for line, message in ordered]

    def line_of(self, path: str) -> int | None:
        # A missing key has no line; the table that should hold it is the next best place.
        while path:
            if path in self.lines:
                return self.lines[path]
            if path.endswith("]"):
                path = path[: path.rindex("[")]
            elif "." in path:
                path = path[: path.rindex(".")]
            else:
                path = ""
        return None

    def add(self, path: str, message: str) -> None:
        self.problems.append((self.line_of(path), message))

    # Structure

    def campaign_file(self, raw: dict[str, Any]) -> CampaignFile | None:
        self.known_keys(raw, "", TOP_KEYS)
        campaign_table = self.table(raw, "campaign", "", hint="add a [campaign] table")
        letter_table = self.table(raw, "letter", "", hint="add a [letter] table")
        recipients = self.recipients(raw)
        # Each part is checked even when another is missing, so one run reports everything.
        campaign = self.campaign(campaign_table) if campaign_table is not None else None
        letter = self.letter(letter_table) if letter_table is not None else None
        if campaign is None or letter is None:
            return None
        return CampaignFile(**campaign, recipients=recipients, letter=letter)

    def open_letter_file(self, raw: dict[str, Any]) -> OpenLetterFile | None:
        self.known_keys(raw, "", OPEN_LETTER_TOP_KEYS)
        table = self.table(raw, "open_letter", "", hint="add an [open_letter] table")
        # An open letter may be addressed to nobody in particular (or to a group with no
        # members yet), as in the admin; a campaign's letters need someone to go to.
        recipients = self.recipients(raw, required=False)
        if table is None:
            return None
        self.known_keys(table, "open_letter", OPEN_LETTER_KEYS)
        path = "open_letter"
        slug = self.text(table, path, "slug", required=True)
        if slug and SLUG.fullmatch(slug) is None:
            self.add(
                f"{path}.slug", f"{path}.slug {_quoted(slug)} may only contain letters, digits, hyphens and underscores"
            )
        campaign = self.text(table, path, "campaign")
        if campaign and SLUG.fullmatch(campaign) is None:
            self.add(f"{path}.campaign", f"{path}.campaign must be the slug of a letter campaign")
        return OpenLetterFile(
            slug=slug,
            title=self.text(table, path, "title", required=True),
            text=self.text(table, path, "text", required=True, multiline=True),
            summary=self.text(table, path, "summary", multiline=True),
            status=self.choice(table, path, "status", OPEN_LETTER_STATUSES, default="draft"),
            published=self.when(table, path, "published"),
            deadline=self.when(table, path, "deadline"),
            tags=self.text_list(table, path, "tags"),
            language=self.language(table, path, default="en"),
            recipient_group=self.text(table, path, "recipient_group"),
            decision_date=self.day(table, path, "decision_date"),
            campaign=campaign,
            authors=self.authors(table, path),
            recipients=recipients,
        )

    def authors(self, table: dict[str, Any], path: str) -> tuple[Author, ...]:
        full = _join(path, "authors")
        value = table.get("authors", [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.add(full, f"{full} must be a list of tables, one [[open_letter.authors]] per author")
            return ()
        result = []
        for number, item in enumerate(value, start=1):
            item_path = _join(full, number)
            self.known_keys(item, item_path, AUTHOR_KEYS)
            result.append(
                Author(
                    name=self.text(item, item_path, "name", required=True),
                    role=self.text(item, item_path, "role"),
                    place=self.text(item, item_path, "place"),
                )
            )
        return tuple(result)

    def when(self, table: dict[str, Any], path: str, key: str) -> datetime | None:
        full = _join(path, key)
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, date):
            return datetime.combine(value, END_OF_DAY if key == "deadline" else time(0, 0), tzinfo=UTC)
        self.add(full, f"{full} must be a date (2027-03-31) or a date and time (2027-03-31T17:00:00Z), without quotes")
        return None

    def day(self, table: dict[str, Any], path: str, key: str) -> date | None:
        full = _join(path, key)
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.add(full, f"{full} must be a date such as 2027-03-31, without quotes")
        return None

    def campaign(self, table: dict[str, Any]) -> dict[str, Any]:
        """The [campaign] table's values, as keyword arguments for CampaignFile."""
        self.known_keys(table, "campaign", CAMPAIGN_KEYS)
        author_table = self.table(table, "author", "campaign", required=False) or {}
        self.known_keys(author_table, "campaign.author", AUTHOR_KEYS)
        return {
            "slug": self.slug(table),
            "title": self.text(table, "campaign", "title", required=True),
            "summary": self.text(table, "campaign", "summary", multiline=True),
            "background": self.text(table, "campaign", "background", multiline=True),
            "deadline": self.deadline(table),
            "tags": self.text_list(table, "campaign", "tags"),
            "language": self.language(table, "campaign", default="en"),
            "status": self.choice(table, "campaign", "status", STATUSES, default=DEFAULT_STATUS),
            "min_uniqueness": self.percent(table, "campaign", "min_uniqueness"),
            "posts_for_supporters": self.flag(table, "campaign", "posts_for_supporters"),
            "author": Author(
                name=self.text(author_table, "campaign.author", "name"),
                role=self.text(author_table, "campaign.author", "role"),
                place=self.text(author_table, "campaign.author", "place"),
            ),
        }

    def known_keys(self, table: dict[str, Any], path: str, known: Sequence[str]) -> None:
        for key in table:
            if key in known:
                continue
            full = _join(path, key)
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                self.add(full, f"unknown key {full}; did you mean {_join(path, close[0])}?")
            else:
                self.add(full, f"unknown key {full}; known keys: {', '.join(known)}")

    def table(
        self, parent: dict[str, Any], key: str, path: str, *, required: bool = True, hint: str = ""
    ) -> dict[str, Any] | None:
        full = _join(path, key)
        value = parent.get(key)
        if value is None:
            if required:
                self.add(full, f"{full} is required: {hint}" if hint else f"{full} is required")
            return None
        if not isinstance(value, dict):
            self.add(full, f"{full} must be a table")
            return None
        return value

    def recipients(self, raw: dict[str, Any], *, required: bool = True) -> tuple[RecipientData, ...]:
        value = raw.get("recipients")
        if value is None or value == []:
            if required:
                self.add("recipients", "recipients is required: add at least one [[recipients]] table with a name")
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.add("recipients", "recipients must be a list of tables, one [[recipients]] per recipient")
            return ()
        result: list[RecipientData] = []
        seen: dict[tuple[str, str], str] = {}
        for number, table in enumerate(value, start=1):
            path = _join("recipients", number)
            recipient = self.recipient(table, path)
            result.append(recipient)
            if not recipient.name:
                continue
            # Import matches recipients by name and email, so two entries with the same
            # pair would become one recipient listed twice.
            identity = (recipient.name, recipient.email.lower())
            if identity in seen:
                self.add(path, f"{path} repeats {seen[identity]} (same name and email)")
            else:
                seen[identity] = path
        return tuple(result)

    def recipient(self, table: dict[str, Any], path: str) -> RecipientData:
        self.known_keys(table, path, RECIPIENT_KEYS)
        recipient = RecipientData(
            name=self.text(table, path, "name", required=True),
            role=self.text(table, path, "role"),
            organisation=self.text(table, path, "organisation"),
            email=self.email(table, path),
            web_form_url=self.url(table, path),
            postal_address=self.text(table, path, "postal_address", multiline=True),
            country=self.country(table, path),
            language=self.language(table, path, default=""),
            max_emails_per_minute=self.whole_number(table, path, "max_emails_per_minute", maximum=MAX_PACE),
            daily_digest=self.flag(table, path, "daily_digest"),
        )
        # Checks what was written, not what passed: a mistyped email already has its message.
        if not any(table.get(key) for key in ("email", "web_form_url", "postal_address")):
            who = f" ({_quoted(recipient.name)})" if recipient.name else ""
            self.add(path, f"{path}{who} needs at least one of email, web_form_url, postal_address")
        if recipient.daily_digest and not table.get("email"):
            full = _join(path, "daily_digest")
            self.add(full, f"{full} needs an email: the digest is an email")
        return recipient

    def letter(self, table: dict[str, Any]) -> LetterTemplateData:
        self.known_keys(table, "letter", LETTER_KEYS)
        subject = self.text(table, "letter", "subject", required=True)
        body = self.text(table, "letter", "body", required=True, multiline=True)
        for key, value in (("subject", subject), ("body", body)):
            for name in unknown_placeholders(value):
                # A higher cutoff than for keys: placeholders share long prefixes
                # ("supporter."), which would make every typo look close to something.
                close = difflib.get_close_matches(name, list(KNOWN), n=1, cutoff=0.8)
                hint = f" (did you mean {{{{ {close[0]} }}}}?)" if close else ""
                self.add(
                    f"letter.{key}",
                    f"letter.{key} uses unknown placeholder {{{{ {name} }}}}{hint}; known: {', '.join(KNOWN)}",
                )
        return LetterTemplateData(
            subject=subject,
            body=body,
            prompts=self.text_list(table, "letter", "prompts"),
            channels=self.channels(table),
            language=self.language(table, "letter", default=""),
        )

    # Values

    def text(
        self, table: dict[str, Any], path: str, key: str, *, required: bool = False, multiline: bool = False
    ) -> str:
        full = _join(path, key)
        value = table.get(key, "")
        if not isinstance(value, str):
            self.add(full, f"{full} must be a string")
            return ""
        if required and not value.strip():
            self.add(full, f"{full} is required")
            return ""
        self.check_text(value, full, multiline=multiline)
        return value

    def check_text(self, value: str, full: str, *, multiline: bool) -> None:
        # A line break in a subject or a name would end up in an email header or break a
        # letter's layout, so only the long texts may have several lines.
        if not multiline and ("\n" in value or "\r" in value):
            self.add(full, f"{full} must be a single line")
        limit = MAX_LENGTHS.get(_limit_key(full))
        if limit is not None and len(value) > limit:
            self.add(full, f"{full} is {len(value)} characters long; the limit is {limit}")

    def text_list(self, table: dict[str, Any], path: str, key: str) -> tuple[str, ...]:
        full = _join(path, key)
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(full, f"{full} must be a list of strings")
            return ()
        for number, item in enumerate(value, start=1):
            item_path = _join(full, number)
            if not item.strip():
                self.add(item_path, f"{item_path} must not be empty")
            else:
                self.check_text(item, item_path, multiline=False)
        return tuple(value)

    def slug(self, table: dict[str, Any]) -> str:
        value = self.text(table, "campaign", "slug", required=True)
        if value and SLUG.fullmatch(value) is None:
            self.add(
                "campaign.slug",
                f"campaign.slug {_quoted(value)} may only contain letters, digits, hyphens and underscores, "
                'e.g. "keep-the-path-open"',
            )
        return value

    def choice(self, table: dict[str, Any], path: str, key: str, choices: Sequence[str], *, default: str) -> str:
        full = _join(path, key)
        value = self.text(table, path, key) or default
        if value not in choices:
            self.add(full, f"{full} must be one of {', '.join(choices)}, not {_quoted(value)}")
            return default
        return value

    def flag(self, table: dict[str, Any], path: str, key: str) -> bool:
        full = _join(path, key)
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.add(full, f"{full} must be true or false")
            return False
        return value

    def whole_number(self, table: dict[str, Any], path: str, key: str, *, maximum: int) -> int:
        full = _join(path, key)
        value = table.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            self.add(full, f"{full} must be a whole number from 0 (no limit) to {maximum}")
            return 0
        return value

    def percent(self, table: dict[str, Any], path: str, key: str) -> int:
        full = _join(path, key)
        value = table.get(key, 0)
        # bool is an int in Python, but "min_uniqueness = true" is surely a mistake.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            self.add(full, f"{full} must be a whole number from 0 to 100")
            return 0
        return value

    def deadline(self, table: dict[str, Any]) -> datetime | None:
        value = table.get("deadline")
        if value is None:
            return None
        if isinstance(value, datetime):
            # A date-time without an offset is read as UTC, the time zone exports use.
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, date):
            return datetime.combine(value, END_OF_DAY, tzinfo=UTC)
        self.add(
            "campaign.deadline",
            "campaign.deadline must be a date (2027-03-31) or a date and time (2027-03-31T17:00:00Z), without quotes",
        )
        return None

    def language(self, table: dict[str, Any], path: str, *, default: str) -> str:
        full = _join(path, "language")
        value = self.text(table, path, "language")
        if not value:
            return default
        if len(value) <= MAX_LENGTHS[_limit_key(full)] and LANGUAGE.fullmatch(value) is None:
            self.add(full, f'{full} {_quoted(value)} must be a language code such as "en" or "pt-BR"')
        return value

    def email(self, table: dict[str, Any], path: str) -> str:
        value = self.text(table, path, "email")
        if value:
            try:
                EmailValidator()(value)
            except ValidationError:
                full = _join(path, "email")
                self.add(full, f"{full} {_quoted(value)} is not a valid email address")
        return value

    def url(self, table: dict[str, Any], path: str) -> str:
        value = self.text(table, path, "web_form_url")
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                full = _join(path, "web_form_url")
                self.add(full, f"{full} {_quoted(value)} must be a web address starting with http:// or https://")
        return value

    def country(self, table: dict[str, Any], path: str) -> str:
        value = self.text(table, path, "country")
        if not value:
            return value
        # Imported here: django-countries reads Django's settings on first use, and the
        # rest of this module works without them.
        from django_countries import countries

        if value in countries:
            return value
        full = _join(path, "country")
        suggestion = countries.alpha2(value.strip())
        hint = f"; did you mean {_quoted(suggestion)}?" if suggestion else ' (two letters, such as "GB" or "CZ")'
        self.add(full, f"{full} {_quoted(value)} is not an ISO 3166-1 alpha-2 country code{hint}")
        return value

    def channels(self, table: dict[str, Any]) -> tuple[str, ...]:
        full = "letter.channels"
        if "channels" not in table:
            return CHANNELS
        value = table["channels"]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(full, f"{full} must be a list of strings")
            return CHANNELS
        if not value:
            self.add(full, f"{full} must list at least one of {', '.join(CHANNELS)}")
        seen: list[str] = []
        for item in value:
            if item not in CHANNELS:
                self.add(full, f"{full} has unknown channel {_quoted(item)}; known: {', '.join(CHANNELS)}")
            elif item in seen:
                self.add(full, f"{full} lists {_quoted(item)} twice")
            else:
                seen.append(item)
        return tuple(value)


# --- Where keys are in the text ---------------------------------------------------------
#
# tomllib returns values without positions, so to say "line 12" for a wrong value we
# scan the text ourselves: table headers and the keys at the start of a line, skipping
# comments, strings (multi-line ones included) and the inside of arrays and inline
# tables. The text has already parsed, so the scanner can assume it is valid TOML. Keys
# inside inline tables and arrays get no line of their own; messages about them use
# the line of the enclosing key.

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key_lines(text: str) -> dict[str, int]:
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


# --- Writing ---------------------------------------------------------------------------


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
