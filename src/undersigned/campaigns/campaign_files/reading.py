"""Reading campaign files: TOML text in, checked frozen dataclasses out.

``parse`` collects *every* problem before giving up, because an organiser fixing a file
by hand would otherwise need one round trip per mistake. Each message names the key
path (``recipients[2].email``, recipients counted from 1) and, when the key can be found
in the text, its line (``lines.key_lines``).
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from undersigned.campaigns.placeholders import KNOWN, check_placeholders

from . import limits
from .lines import key_lines
from .schema import (
    AUTHOR_KEYS,
    CAMPAIGN_KEYS,
    CHANNELS,
    DEFAULT_STATUS,
    END_OF_DAY,
    KINDS,
    LANGUAGE,
    LETTER_KEYS,
    MAX_LENGTHS,
    MAX_PACE,
    MAX_WELL_COVERED,
    OPEN_LETTER_KEYS,
    OPEN_LETTER_STATUSES,
    OPEN_LETTER_TOP_KEYS,
    OPEN_LETTER_TRANSLATION_KEYS,
    RECIPIENT_KEYS,
    REPLY_ADDRESSES,
    REPLY_DAYS,
    ROUTINGS,
    SLUG,
    STATUSES,
    TOP_KEYS,
    TRANSLATION_KEYS,
    Author,
    CampaignFile,
    CampaignFileError,
    LetterTemplateData,
    OpenLetterFile,
    OpenLetterTranslationData,
    RecipientData,
    TranslationData,
)


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
        raise CampaignFileError([_('this file describes an open letter (kind = "open_letter"), not a campaign')])
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
        checker.add("kind", _one_of("kind", KINDS, str(kind)))
        result = None
    if checker.problems or result is None:
        raise CampaignFileError(checker.messages())
    return result


def check_recipient(values: dict[str, Any]) -> tuple[RecipientData, list[tuple[str, str]]]:
    """One recipient's values (keys as in ``[[recipients]]``) checked as a file's entry is.

    Returns the recipient and its problems as ``(key, message)``, the key ``""`` for a
    problem of the whole recipient. The workspace's forms and its CSV import use it, so a
    recipient is valid by one rule however it comes in; messages name the key alone
    (``email "x" is not a valid email address``).
    """
    # Checked as the first [[recipients]] entry (its limits are those of recipients.*),
    # then that path taken out of the keys and messages.
    path = "recipients[1]"
    checker = _Checker("")
    checker.alone = True
    recipient = checker.recipient(values, path)
    problems = []
    for full, (_line, message) in zip(checker.paths, checker.problems, strict=True):
        key = full.removeprefix(path).removeprefix(".")
        problems.append((key, message.replace(f"{path}.", "")))
    return recipient, problems


_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")


def _syntax_message(exc: tomllib.TOMLDecodeError, text: str) -> str:
    # tomllib puts the position at the end of its message; Python 3.14 adds attributes
    # for it, but 3.12 and 3.13 only have the text.
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if match is None:
        # tomllib's own reason stays in English: it comes from Python, not from us.
        return _("not valid TOML: %(reason)s") % {"reason": message}
    reason = message[: match.start()]
    if match.group(1):
        return _("line %(line)s, column %(column)s: not valid TOML: %(reason)s") % {
            "line": match.group(1),
            "column": match.group(2),
            "reason": reason,
        }
    last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
    return _("line %(line)d (end of file): not valid TOML: %(reason)s") % {"line": max(last_line, 1), "reason": reason}


def _quoted(value: str) -> str:
    """A value as TOML would write it, so messages show it exactly as typed."""
    return json.dumps(value, ensure_ascii=False)


def _one_of(path: str, choices: Sequence[str], value: str) -> str:
    return _("%(path)s must be one of %(choices)s, not %(value)s") % {
        "path": path,
        "choices": ", ".join(choices),
        "value": _quoted(value),
    }


def _date_or_time(path: str) -> str:
    return _("%(path)s must be a date (2027-03-31) or a date and time (2027-03-31T17:00:00Z), without quotes") % {
        "path": path
    }


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _limit_key(path: str) -> str:
    """``recipients[2].email`` → ``recipients.email``, ``campaign.tags[3]`` → ``campaign.tags``
    and ``translations.fr.body`` → ``translations.body``."""
    return re.sub(r"^translations\.[^.]+\.", "translations.", re.sub(r"\[\d+\]", "", path))


class _Checker:
    """Checks one parsed file, collecting problems with the line each one is on."""

    def __init__(self, text: str) -> None:
        self.lines = key_lines(text)
        self.problems: list[tuple[int | None, str]] = []
        self.paths: list[str] = []  # the key path of each problem, for check_recipient
        self.alone = False  # one recipient checked outside a file (check_recipient): "this recipient"

    def messages(self) -> list[str]:
        # Problems without a line (a missing table) come first, the rest in file order.
        ordered = sorted(self.problems, key=lambda p: (p[0] is not None, p[0] or 0))
        return [
            _("line %(line)d: %(problem)s") % {"line": line, "problem": message} if line else message
            for line, message in ordered
        ]

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
        self.paths.append(path)

    # Structure

    def campaign_file(self, raw: dict[str, Any]) -> CampaignFile | None:
        self.known_keys(raw, "", TOP_KEYS)
        campaign_table = self.table(raw, "campaign", "", missing=_("%(path)s is required: add a [campaign] table"))
        letter_table = self.table(raw, "letter", "", missing=_("%(path)s is required: add a [letter] table"))
        recipients = self.recipients(raw, limit=limits.CAMPAIGN_RECIPIENTS)
        # Each part is checked even when another is missing, so one run reports everything.
        campaign = self.campaign(campaign_table) if campaign_table is not None else None
        letter = self.letter(letter_table) if letter_table is not None else None
        main_language = campaign["language"] if campaign is not None else ""
        translations = self.translations(raw, main_language)
        if campaign is None or letter is None:
            return None
        return CampaignFile(**campaign, recipients=recipients, letter=letter, translations=translations)

    def open_letter_file(self, raw: dict[str, Any]) -> OpenLetterFile | None:
        self.known_keys(raw, "", OPEN_LETTER_TOP_KEYS)
        table = self.table(raw, "open_letter", "", missing=_("%(path)s is required: add an [open_letter] table"))
        # An open letter may be addressed to nobody in particular (or to a group with no
        # members yet), as in the admin; a campaign's letters need someone to go to.
        grouped = table is not None and bool(table.get("recipient_group"))
        limit = limits.GROUP_MEMBERS if grouped else limits.OPEN_LETTER_RECIPIENTS
        recipients = self.recipients(raw, required=False, limit=limit)
        language = self.language(table, "open_letter", default="en") if table is not None else ""
        translations = self.open_letter_translations(raw, language)
        if table is None:
            return None
        self.known_keys(table, "open_letter", OPEN_LETTER_KEYS)
        path = "open_letter"
        slug = self.text(table, path, "slug", required=True)
        if slug and SLUG.fullmatch(slug) is None:
            self.add(
                f"{path}.slug",
                _("%(path)s %(value)s may only contain letters, digits, hyphens and underscores")
                % {"path": f"{path}.slug", "value": _quoted(slug)},
            )
        campaign = self.text(table, path, "campaign")
        if campaign and SLUG.fullmatch(campaign) is None:
            self.add(
                f"{path}.campaign",
                _("%(path)s must be the slug of a letter campaign") % {"path": f"{path}.campaign"},
            )
        return OpenLetterFile(
            slug=slug,
            title=self.text(table, path, "title", required=True),
            text=self.text(table, path, "text", required=True, multiline=True),
            summary=self.text(table, path, "summary", multiline=True),
            status=self.choice(table, path, "status", OPEN_LETTER_STATUSES, default="draft"),
            published=self.when(table, path, "published"),
            deadline=self.when(table, path, "deadline"),
            tags=self.text_list(table, path, "tags", limit=limits.OPEN_LETTER_TAGS),
            language=language,
            recipient_group=self.text(table, path, "recipient_group"),
            decision_date=self.day(table, path, "decision_date"),
            campaign=campaign,
            authors=self.authors(table, path),
            recipients=recipients,
            translations=translations,
        )

    def authors(self, table: dict[str, Any], path: str) -> tuple[Author, ...]:
        full = _join(path, "authors")
        value = table.get("authors", [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.add(
                full, _("%(path)s must be a list of tables, one [[open_letter.authors]] per author") % {"path": full}
            )
            return ()
        result = []
        for number, item in enumerate(self.within(value, full, limits.AUTHORS), start=1):
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
        self.add(full, _date_or_time(full))
        return None

    def day(self, table: dict[str, Any], path: str, key: str) -> date | None:
        full = _join(path, key)
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.add(full, _("%(path)s must be a date such as 2027-03-31, without quotes") % {"path": full})
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
            "tags": self.text_list(table, "campaign", "tags", limit=limits.CAMPAIGN_TAGS),
            "language": self.language(table, "campaign", default="en"),
            "status": self.choice(table, "campaign", "status", STATUSES, default=DEFAULT_STATUS),
            "min_uniqueness": self.percent(table, "campaign", "min_uniqueness"),
            "posts_for_supporters": self.flag(table, "campaign", "posts_for_supporters"),
            "recipient_group": self.text(table, "campaign", "recipient_group"),
            "decision_date": self.day(table, "campaign", "decision_date"),
            "routing": self.choice(table, "campaign", "routing", ROUTINGS, default="") if "routing" in table else "",
            "well_covered_at": self.well_covered(table),
            "reply_ask_days": self.reply_ask_days(table),
            "reply_address": self.choice(table, "campaign", "reply_address", REPLY_ADDRESSES, default="reply_to"),
            "responsiveness_public": self.flag(table, "campaign", "responsiveness_public"),
            "author": Author(
                name=self.text(author_table, "campaign.author", "name"),
                role=self.text(author_table, "campaign.author", "role"),
                place=self.text(author_table, "campaign.author", "place"),
            ),
        }

    def well_covered(self, table: dict[str, Any]) -> int:
        value = table.get("well_covered_at", 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WELL_COVERED:
            self.add(
                "campaign.well_covered_at",
                _("%(path)s must be a whole number from 0 (twice the median) to %(most)d")
                % {"path": "campaign.well_covered_at", "most": MAX_WELL_COVERED},
            )
            return 0
        return value

    def reply_ask_days(self, table: dict[str, Any]) -> int | None:
        if "reply_ask_days" not in table:
            return None
        value = table["reply_ask_days"]
        if isinstance(value, bool) or not isinstance(value, int) or not REPLY_DAYS[0] <= value <= REPLY_DAYS[1]:
            self.add(
                "campaign.reply_ask_days",
                _("%(path)s must be a whole number of days from %(least)d to %(most)d")
                % {"path": "campaign.reply_ask_days", "least": REPLY_DAYS[0], "most": REPLY_DAYS[1]},
            )
            return None
        return value

    def known_keys(self, table: dict[str, Any], path: str, known: Sequence[str]) -> None:
        for key in table:
            if key in known:
                continue
            full = _join(path, key)
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                self.add(
                    full,
                    _("unknown key %(path)s; did you mean %(key)s?") % {"path": full, "key": _join(path, close[0])},
                )
            else:
                self.add(
                    full, _("unknown key %(path)s; known keys: %(keys)s") % {"path": full, "keys": ", ".join(known)}
                )

    def table(
        self, parent: dict[str, Any], key: str, path: str, *, required: bool = True, missing: str = ""
    ) -> dict[str, Any] | None:
        full = _join(path, key)
        value = parent.get(key)
        if value is None:
            if required:
                self.add(
                    full,
                    (missing or _("%(path)s is required")) % {"path": full},
                )
            return None
        if not isinstance(value, dict):
            self.add(full, _("%(path)s must be a table") % {"path": full})
            return None
        return value

    def recipients(
        self, raw: dict[str, Any], *, limit: limits.CountLimit, required: bool = True
    ) -> tuple[RecipientData, ...]:
        value = raw.get("recipients")
        if value is None or value == []:
            if required:
                self.add(
                    "recipients",
                    _("%(path)s is required: add at least one [[recipients]] table with a name")
                    % {"path": "recipients"},
                )
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.add(
                "recipients",
                _("%(path)s must be a list of tables, one [[recipients]] per recipient") % {"path": "recipients"},
            )
            return ()
        result: list[RecipientData] = []
        seen: dict[tuple[str, str], str] = {}
        for number, table in enumerate(self.within(value, "recipients", limit), start=1):
            path = _join("recipients", number)
            recipient = self.recipient(table, path)
            result.append(recipient)
            if not recipient.name:
                continue
            # Import matches recipients by name and email, so two entries with the same
            # pair would become one recipient listed twice.
            identity = (recipient.name, recipient.email.lower())
            if identity in seen:
                self.add(
                    path,
                    _("%(path)s repeats %(other)s (same name and email)") % {"path": path, "other": seen[identity]},
                )
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
            values = {"path": path, "name": _quoted(recipient.name)}
            if self.alone and recipient.name:
                message = _("this recipient (%(name)s) needs at least one of email, web_form_url, postal_address")
            elif self.alone:
                message = _("this recipient needs at least one of email, web_form_url, postal_address")
            elif recipient.name:
                message = _("%(path)s (%(name)s) needs at least one of email, web_form_url, postal_address")
            else:
                message = _("%(path)s needs at least one of email, web_form_url, postal_address")
            self.add(path, message % values)
        if recipient.daily_digest and not table.get("email"):
            full = _join(path, "daily_digest")
            self.add(full, _("%(path)s needs an email: the digest is an email") % {"path": full})
        return recipient

    def letter(self, table: dict[str, Any]) -> LetterTemplateData:
        self.known_keys(table, "letter", LETTER_KEYS)
        subject = self.text(table, "letter", "subject", required=True)
        body = self.text(table, "letter", "body", required=True, multiline=True)
        self.placeholders("letter", subject=subject, body=body)
        return LetterTemplateData(
            subject=subject,
            body=body,
            prompts=self.text_list(table, "letter", "prompts", limit=limits.PROMPTS),
            channels=self.channels(table),
            language=self.language(table, "letter", default=""),
        )

    def translation_tables(
        self, raw: dict[str, Any], main_language: str, *, main: str
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """``(language, path, table)`` of each ``[translations.<language>]`` table of either
        kind of file, its language code checked (``main`` names where the main language's
        text goes, for the message when a table repeats it)."""
        table = self.table(raw, "translations", "", required=False)
        if not table:
            return
        keys = list(table)
        if len(keys) > limits.TRANSLATIONS.most:
            self.add(
                f"translations.{keys[limits.TRANSLATIONS.most]}", limits.TRANSLATIONS.message("translations", len(keys))
            )
            keys = keys[: limits.TRANSLATIONS.most]
        seen: dict[str, str] = {}
        for language in keys:
            path = f"translations.{language}"
            if LANGUAGE.fullmatch(language) is None or len(language) > MAX_LENGTHS["campaign.language"]:
                self.add(
                    path,
                    _('%(path)s: %(value)s must be a language code such as "fr" or "pt-BR"')
                    % {"path": path, "value": _quoted(language)},
                )
                continue
            # Language codes are case-insensitive (BCP 47): "FR" and "fr" are one language.
            folded = language.casefold()
            if folded == main_language.casefold():
                self.add(path, main % {"path": path})
                continue
            if folded in seen:
                self.add(
                    path, _("%(path)s repeats %(other)s") % {"path": path, "other": f"translations.{seen[folded]}"}
                )
                continue
            seen[folded] = language
            entry = self.table(table, language, "translations")
            if entry is None:
                continue
            yield language, path, entry

    def translations(self, raw: dict[str, Any], main_language: str) -> tuple[TranslationData, ...]:
        """A campaign's ``[translations.<language>]`` tables, in language order."""
        result: list[TranslationData] = []
        main = _("%(path)s is campaign.language, the main language: its text goes in [campaign] and [letter]")
        for language, path, entry in self.translation_tables(raw, main_language, main=main):
            self.known_keys(entry, path, TRANSLATION_KEYS)
            subject = self.text(entry, path, "subject", required=True)
            body = self.text(entry, path, "body", required=True, multiline=True)
            self.placeholders(path, subject=subject, body=body)
            result.append(
                TranslationData(
                    language=language,
                    subject=subject,
                    body=body,
                    summary=self.text(entry, path, "summary", multiline=True),
                    background=self.text(entry, path, "background", multiline=True),
                    prompts=self.text_list(entry, path, "prompts", limit=limits.PROMPTS),
                )
            )
        return tuple(sorted(result, key=lambda t: t.language))

    def open_letter_translations(
        self, raw: dict[str, Any], main_language: str
    ) -> tuple[OpenLetterTranslationData, ...]:
        """An open letter's ``[translations.<language>]`` tables, in language order."""
        result: list[OpenLetterTranslationData] = []
        main = _("%(path)s is open_letter.language, the main language: its text goes in [open_letter]")
        for language, path, entry in self.translation_tables(raw, main_language, main=main):
            self.known_keys(entry, path, OPEN_LETTER_TRANSLATION_KEYS)
            result.append(
                OpenLetterTranslationData(
                    language=language,
                    title=self.text(entry, path, "title", required=True),
                    text=self.text(entry, path, "text", required=True, multiline=True),
                    summary=self.text(entry, path, "summary", multiline=True),
                )
            )
        return tuple(sorted(result, key=lambda t: t.language))

    def placeholders(self, path: str, **texts: str) -> None:
        for key, value in texts.items():
            for unknown in check_placeholders(value):
                values = {
                    "path": f"{path}.{key}",
                    "name": f"{{{{ {unknown.name} }}}}",
                    "suggestion": f"{{{{ {unknown.suggestion} }}}}",
                    "known": ", ".join(KNOWN),
                }
                if unknown.suggestion:
                    message = _(
                        "%(path)s uses unknown placeholder %(name)s (did you mean %(suggestion)s?); known: %(known)s"
                    )
                else:
                    message = _("%(path)s uses unknown placeholder %(name)s; known: %(known)s")
                self.add(f"{path}.{key}", message % values)

    def within(self, items: list[Any], path: str, limit: limits.CountLimit) -> list[Any]:
        """The entries up to the limit, after reporting a list over it at its first entry too many.

        Entries past the limit are not checked: a file of 100,000 recipients gets one
        message, not 100,000 checks.
        """
        if len(items) <= limit.most:
            return items
        self.add(_join(path, limit.most + 1), limit.message(path, len(items)))
        return items[: limit.most]

    # Values

    def text(
        self, table: dict[str, Any], path: str, key: str, *, required: bool = False, multiline: bool = False
    ) -> str:
        full = _join(path, key)
        value = table.get(key, "")
        if not isinstance(value, str):
            self.add(full, _("%(path)s must be a string") % {"path": full})
            return ""
        if required and not value.strip():
            self.add(full, _("%(path)s is required") % {"path": full})
            return ""
        self.check_text(value, full, multiline=multiline)
        return value

    def check_text(self, value: str, full: str, *, multiline: bool) -> None:
        # A line break in a subject or a name would end up in an email header or break a
        # letter's layout, so only the long texts may have several lines.
        if not multiline and ("\n" in value or "\r" in value):
            self.add(full, _("%(path)s must be a single line") % {"path": full})
        limit = MAX_LENGTHS.get(_limit_key(full))
        if limit is not None and len(value) > limit:
            self.add(
                full,
                ngettext(
                    "%(path)s is %(length)d character long; the limit is %(most)d",
                    "%(path)s is %(length)d characters long; the limit is %(most)d",
                    len(value),
                )
                % {"path": full, "length": len(value), "most": limit},
            )

    def text_list(self, table: dict[str, Any], path: str, key: str, *, limit: limits.CountLimit) -> tuple[str, ...]:
        full = _join(path, key)
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(full, _("%(path)s must be a list of strings") % {"path": full})
            return ()
        for number, item in enumerate(self.within(value, full, limit), start=1):
            item_path = _join(full, number)
            if not item.strip():
                self.add(item_path, _("%(path)s must not be empty") % {"path": item_path})
            else:
                self.check_text(item, item_path, multiline=False)
        return tuple(value)

    def slug(self, table: dict[str, Any]) -> str:
        value = self.text(table, "campaign", "slug", required=True)
        if value and SLUG.fullmatch(value) is None:
            self.add(
                "campaign.slug",
                _(
                    "%(path)s %(value)s may only contain letters, digits, hyphens and underscores, "
                    'e.g. "keep-the-path-open"'
                )
                % {"path": "campaign.slug", "value": _quoted(value)},
            )
        return value

    def choice(self, table: dict[str, Any], path: str, key: str, choices: Sequence[str], *, default: str) -> str:
        full = _join(path, key)
        value = self.text(table, path, key) or default
        if value not in choices:
            self.add(full, _one_of(full, choices, value))
            return default
        return value

    def flag(self, table: dict[str, Any], path: str, key: str) -> bool:
        full = _join(path, key)
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.add(full, _("%(path)s must be true or false") % {"path": full})
            return False
        return value

    def whole_number(self, table: dict[str, Any], path: str, key: str, *, maximum: int) -> int:
        full = _join(path, key)
        value = table.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            self.add(
                full,
                _("%(path)s must be a whole number from 0 (no limit) to %(most)d") % {"path": full, "most": maximum},
            )
            return 0
        return value

    def percent(self, table: dict[str, Any], path: str, key: str) -> int:
        full = _join(path, key)
        value = table.get(key, 0)
        # bool is an int in Python, but "min_uniqueness = true" is surely a mistake.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            self.add(full, _("%(path)s must be a whole number from 0 to 100") % {"path": full})
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
        self.add("campaign.deadline", _date_or_time("campaign.deadline"))
        return None

    def language(self, table: dict[str, Any], path: str, *, default: str) -> str:
        full = _join(path, "language")
        value = self.text(table, path, "language")
        if not value:
            return default
        if len(value) <= MAX_LENGTHS[_limit_key(full)] and LANGUAGE.fullmatch(value) is None:
            self.add(
                full,
                _('%(path)s %(value)s must be a language code such as "en" or "pt-BR"')
                % {"path": full, "value": _quoted(value)},
            )
        return value

    def email(self, table: dict[str, Any], path: str) -> str:
        value = self.text(table, path, "email")
        if value:
            try:
                EmailValidator()(value)
            except ValidationError:
                full = _join(path, "email")
                self.add(
                    full, _("%(path)s %(value)s is not a valid email address") % {"path": full, "value": _quoted(value)}
                )
        return value

    def url(self, table: dict[str, Any], path: str) -> str:
        value = self.text(table, path, "web_form_url")
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                full = _join(path, "web_form_url")
                self.add(
                    full,
                    _("%(path)s %(value)s must be a web address starting with http:// or https://")
                    % {"path": full, "value": _quoted(value)},
                )
        return value

    def country(self, table: dict[str, Any], path: str) -> str:
        value = self.text(table, path, "country")
        if not value:
            return value
        # ``countries`` reads Django's settings only here, on first use.
        if value in countries:
            return value
        full = _join(path, "country")
        suggestion = countries.alpha2(value.strip())
        values = {"path": full, "value": _quoted(value), "suggestion": _quoted(suggestion or "")}
        if suggestion:
            message = _("%(path)s %(value)s is not an ISO 3166-1 alpha-2 country code; did you mean %(suggestion)s?")
        else:
            message = _(
                '%(path)s %(value)s is not an ISO 3166-1 alpha-2 country code (two letters, such as "GB" or "CZ")'
            )
        self.add(full, message % values)
        return value

    def channels(self, table: dict[str, Any]) -> tuple[str, ...]:
        full = "letter.channels"
        if "channels" not in table:
            return CHANNELS
        value = table["channels"]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(full, _("%(path)s must be a list of strings") % {"path": full})
            return CHANNELS
        if not value:
            self.add(
                full, _("%(path)s must list at least one of %(known)s") % {"path": full, "known": ", ".join(CHANNELS)}
            )
        seen: list[str] = []
        for item in value:
            if item not in CHANNELS:
                self.add(
                    full,
                    _("%(path)s has unknown channel %(value)s; known: %(known)s")
                    % {"path": full, "value": _quoted(item), "known": ", ".join(CHANNELS)},
                )
            elif item in seen:
                self.add(full, _("%(path)s lists %(value)s twice") % {"path": full, "value": _quoted(item)})
            else:
                seen.append(item)
        return tuple(value)
