"""The campaign file format's shape: its keys, limits and the values it reads into.

Everything here is plain data, shared by the reading side (``reading``) and the writing
side (``writing``); docs/campaign-files.md describes the same format for organisers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from undersigned.campaigns.enums import (
    CHANNEL_ORDER,
    REPLY_ASK_DAYS_MAX,
    REPLY_ASK_DAYS_MIN,
    CampaignStatus,
    ReplyAddress,
)

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
    # A translation's parts have the limits of the main language's.
    "translations.subject": 200,
    "translations.body": 20_000,
    "translations.summary": 1000,
    "translations.background": 50_000,
    "translations.prompts": 500,  # each prompt
    # Open letters (kind = "open_letter"); the model limits of openletters.OpenLetter.
    "open_letter.slug": 80,
    "open_letter.title": 200,
    "open_letter.summary": 1000,
    "open_letter.language": 10,
    "open_letter.text": 50_000,
    "open_letter.tags": 50,
    "open_letter.recipient_group": 200,
    "campaign.recipient_group": 200,
    "open_letter.campaign": 80,
    "open_letter.authors.name": 200,
    "open_letter.authors.role": 200,
    "open_letter.authors.place": 200,
    # An open letter's ``[translations.<language>]`` (its summary is ``translations.summary`` above).
    "translations.title": 200,
    "translations.text": 50_000,
}

TOP_KEYS = ("kind", "campaign", "recipients", "letter", "translations")
OPEN_LETTER_TOP_KEYS = ("kind", "open_letter", "recipients", "translations")
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
OPEN_LETTER_STATUSES = ("draft", "published", "closed", "archived")
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
    "recipient_group",
    "decision_date",
    "routing",
    "well_covered_at",
    "reply_ask_days",
    "reply_address",
    "responsiveness_public",
    "author",
)
# ``campaign.routing``: the values of ``campaigns.enums.Routing``.
ROUTINGS = ("every", "own_country", "own_or_unreached")
# ``campaign.reply_address``: the values of ``campaigns.enums.ReplyAddress``.
REPLY_ADDRESSES = tuple(str(value) for value in ReplyAddress.values)
# ``campaign.reply_ask_days``: the editor's bounds.
REPLY_DAYS = (REPLY_ASK_DAYS_MIN, REPLY_ASK_DAYS_MAX)
MAX_WELL_COVERED = 1_000_000
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
# A ``[translations.<language>]`` table: the campaign's text in one more language.
TRANSLATION_KEYS = ("summary", "background", "subject", "body", "prompts")
# An open letter's ``[translations.<language>]`` table: its text in one more language.
OPEN_LETTER_TRANSLATION_KEYS = ("title", "summary", "text")

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
class TranslationData:
    """The campaign's page text and template letter in one more language than its own.

    Empty ``summary``, ``background`` or ``prompts`` fall back to the main language's.
    """

    language: str
    subject: str
    body: str
    summary: str = ""
    background: str = ""
    prompts: tuple[str, ...] = ()


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
    # Addressed to a group: the recipients are its members (see docs/campaign-files.md).
    recipient_group: str = ""
    decision_date: date | None = None
    routing: str = ""  # with a group, "" means own_country
    well_covered_at: int = 0
    # Replies: the question's delay in days (``None``: the site's default), where the
    # reply address goes on platform-sent letters, whether responsiveness is public.
    reply_ask_days: int | None = None
    reply_address: str = "reply_to"
    responsiveness_public: bool = False
    author: Author = field(default_factory=Author)
    recipients: tuple[RecipientData, ...]
    letter: LetterTemplateData
    # In ``language`` order; never the campaign's own ``language`` (its text is above).
    translations: tuple[TranslationData, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OpenLetterTranslationData:
    """An open letter's title, summary and text in one more language than its own.

    An empty ``summary`` falls back to the main language's.
    """

    language: str
    title: str
    text: str
    summary: str = ""


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
    # In ``language`` order; never the letter's own ``language`` (its text is above).
    translations: tuple[OpenLetterTranslationData, ...] = ()
