"""The workspace's editor for open letters: create, edit, publish, close, archive, duplicate.

A published letter's text is fixed in versions (``versions.record_version``): saving
a changed title or text of a published or closed letter makes a new version, saving
the same text makes none. Endorsements stay with the version they endorsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.campaigns.campaign_files import limits
from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup
from undersigned.core.models import log_action, logged_object_id
from undersigned.openletters.models import OpenLetter, OpenLetterStatus, OpenLetterTranslation
from undersigned.organisations.models import Organisation

from .versions import record_version


@dataclass(frozen=True)
class AuthorInput:
    name: str
    role: str = ""
    place: str = ""


@dataclass(frozen=True)
class OpenLetterInput:
    """What the editor's form sets. Text comes in with ``\\n`` line ends."""

    slug: str
    title: str
    summary: str
    text: str
    deadline: datetime | None
    tags: tuple[str, ...]
    language: str
    authors: tuple[AuthorInput, ...]
    recipient_ids: tuple[int, ...]
    recipient_group_id: int | None
    letter_campaign_id: int | None


class SlugTaken(Exception):
    """The slug is used by another open letter."""


_EDITOR_FIELDS = [
    "slug", "title", "summary", "text", "deadline", "tags", "language", "authors", "recipient_group",
    "letter_campaign",
]  # fmt: skip

# Which status each editor action may move an open letter from.
STATUS_MOVES: dict[OpenLetterStatus, tuple[OpenLetterStatus, ...]] = {
    OpenLetterStatus.PUBLISHED: (OpenLetterStatus.DRAFT, OpenLetterStatus.CLOSED),
    OpenLetterStatus.CLOSED: (OpenLetterStatus.PUBLISHED,),
    OpenLetterStatus.ARCHIVED: (OpenLetterStatus.DRAFT, OpenLetterStatus.PUBLISHED, OpenLetterStatus.CLOSED),
    OpenLetterStatus.DRAFT: (OpenLetterStatus.ARCHIVED,),  # back from the archive
}


def _fill(letter: OpenLetter, data: OpenLetterInput) -> None:
    """Set the letter's fields from ``data``; the group and campaign only if they are the organisation's."""
    organisation_id = letter.organisation_id
    letter.slug = data.slug
    letter.title = data.title
    letter.summary = data.summary
    letter.text = data.text
    letter.deadline = data.deadline
    letter.tags = list(data.tags)
    letter.language = data.language
    letter.authors = [{"name": a.name, "role": a.role, "place": a.place} for a in data.authors]
    group = data.recipient_group_id
    letter.recipient_group_id = (
        group if group and RecipientGroup.objects.filter(pk=group, organisation_id=organisation_id).exists() else None
    )
    campaign = data.letter_campaign_id
    letter.letter_campaign_id = (
        campaign
        if campaign and Campaign.objects.filter(pk=campaign, organisation_id=organisation_id).exists()
        else None
    )


def _set_recipients(letter: OpenLetter, recipient_ids: tuple[int, ...]) -> list[int]:
    """The letter's own addressees (used when it has no group): only the organisation's recipients."""
    ids = list(
        Recipient.objects.filter(organisation_id=letter.organisation_id, pk__in=recipient_ids)
        .order_by("name", "id")
        .values_list("pk", flat=True)
    )
    letter.recipients.set(ids)
    return ids


def _same_submission(letter: OpenLetter, data: OpenLetterInput) -> bool:
    return letter.status == OpenLetterStatus.DRAFT and letter.title == data.title and letter.text == data.text


def create_open_letter(*, organisation: Organisation, data: OpenLetterInput, actor: Any) -> tuple[OpenLetter, bool]:
    """A new draft open letter with its addressees, all saved or none.

    The same form sent twice (a double click) returns the draft the first one made,
    with False. A slug used by any other open letter raises ``SlugTaken``.
    """
    with transaction.atomic():
        existing = OpenLetter.objects.select_for_update().filter(slug=data.slug).first()
        if existing is not None:
            if existing.organisation_id == organisation.pk and _same_submission(existing, data):
                return existing, False
            raise SlugTaken(data.slug)
        letter = OpenLetter(organisation=organisation, status=OpenLetterStatus.DRAFT)
        _fill(letter, data)
        try:
            with transaction.atomic():
                letter.save()
        except IntegrityError:
            raise SlugTaken(data.slug) from None
        recipients = _set_recipients(letter, data.recipient_ids)
        log_action("open_letter.created", letter, actor=actor, source="editor", recipients=recipients)
    return letter, True


def update_open_letter(*, letter: OpenLetter, data: OpenLetterInput, actor: Any) -> int | None:
    """Save the editor's fields; returns the number of a new version, if the text changed.

    A published or closed letter whose title or text changed gets a new version; the
    same text (line ends are ``\\n`` on every way in) makes none. The slug changes only
    while the letter is a draft.
    """
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update().get(pk=letter.pk)
        if data.slug != locked.slug:
            if locked.status != OpenLetterStatus.DRAFT:
                raise ValueError("Only a draft's slug can change")
            if OpenLetter.objects.filter(slug=data.slug).exclude(pk=locked.pk).exists():
                raise SlugTaken(data.slug)
        _fill(locked, data)
        locked.save(update_fields=[*_EDITOR_FIELDS, "updated_at"])
        recipients = _set_recipients(locked, data.recipient_ids)
        log_action("open_letter.updated", locked, actor=actor, source="editor", recipients=recipients)
        version = record_version(letter=locked, actor=actor)
    return version.number if version is not None else None


def set_open_letter_status(*, letter: OpenLetter, status: OpenLetterStatus, actor: Any) -> bool:
    """Publish, close, archive or bring back ``letter``; False when it was already there.

    Publishing a draft writes its first version. A move ``STATUS_MOVES`` does not allow
    raises ``ValueError``.
    """
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update().get(pk=letter.pk)
        if locked.status == status:
            return False
        if locked.status not in STATUS_MOVES[status]:
            raise ValueError(
                _("This open letter cannot go from “%(current)s” to “%(target)s”.")
                % {"current": OpenLetterStatus(locked.status).label, "target": OpenLetterStatus(status).label}
            )
        if status == OpenLetterStatus.PUBLISHED and not (locked.title.strip() and locked.text.strip()):
            raise ValueError(_("An open letter needs a title and a text before it can be published."))
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        log_action("open_letter.status", locked, actor=actor, before=str(before), after=str(status))
        record_version(letter=locked, actor=actor)
    letter.status = status
    return True


@dataclass(frozen=True)
class LetterTranslationInput:
    """An open letter's text in one more language (its editor tab). Text with ``\n`` line ends."""

    title: str
    summary: str
    text: str


class TranslationRefused(Exception):
    """A language the letter cannot take a translation in (its own, or one too many)."""


def save_translation(
    *, letter: OpenLetter, language: str, data: LetterTranslationInput, actor: Any
) -> tuple[bool, int | None]:
    """Create or replace ``letter``'s text in ``language``: (whether the language is new,
    the number of the new version of that language's text, if one was made).

    As with the main text, a published or closed letter whose translated title or text
    changed gets a new version in that language; saving the same text again (a double
    click) makes none. The letter's main language is refused, and so is a new language
    past ``limits.TRANSLATIONS``.
    """
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update().get(pk=letter.pk)
        if language.casefold() == locked.language.casefold():
            raise TranslationRefused(language)
        existing = OpenLetterTranslation.objects.filter(letter=locked, language__iexact=language).first()
        if existing is None and OpenLetterTranslation.objects.filter(letter=locked).count() >= limits.TRANSLATIONS.most:
            raise TranslationRefused(language)
        translation = existing or OpenLetterTranslation(letter=locked, language=language)
        before = translation.current_version_id
        translation.title = data.title
        translation.summary = data.summary
        translation.text = data.text
        translation.save()
        # The letter's kept pages are stamped by its updated_at.
        OpenLetter.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        log_action(
            "open_letter.translation_saved", locked, actor=actor, language=translation.language, created=not existing
        )
        record_version(letter=locked, actor=actor)
        translation.refresh_from_db(fields=["current_version"])
        made = translation.current_version if translation.current_version_id != before else None
    return existing is None, made.number if made is not None else None


def remove_translation(*, letter: OpenLetter, language: str, actor: Any) -> bool:
    """Delete ``letter``'s text in ``language``; False when there was none (a second click).
    Its versions stay, with the endorsements that endorsed them."""
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update().get(pk=letter.pk)
        found = OpenLetterTranslation.objects.filter(letter=locked, language__iexact=language).first()
        if found is None:
            return False
        found.delete()
        OpenLetter.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        log_action("open_letter.translation_removed", locked, actor=actor, language=found.language)
    return True


def _free_slug(base: str) -> str:
    number = 1
    while True:
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        slug = base[: 80 - len(suffix)] + suffix
        if not OpenLetter.objects.filter(slug=slug).exists():
            return slug
        number += 1


def duplicate_open_letter(*, letter: OpenLetter, actor: Any, key: str = "") -> tuple[OpenLetter, bool]:
    """A draft copy of ``letter`` (text and translations, authors, addressees, campaign) with a new slug,
    and whether it was made now.

    ``key`` is the form's submission key: the same form sent twice finds the copy the
    first one made (in the audit log). Versions, endorsements and counters stay with
    the original.
    """
    with transaction.atomic():
        OpenLetter.objects.select_for_update().filter(pk=letter.pk).first()  # one copy at a time per original
        if key:
            earlier = logged_object_id("open_letter.duplicated", original=letter.pk, key=key)
            found = OpenLetter.objects.filter(pk=earlier).first() if earlier else None
            if found is not None:
                return found, False
        copy = OpenLetter(
            organisation_id=letter.organisation_id,
            slug=_free_slug(letter.slug),
            title=letter.title,
            summary=letter.summary,
            text=letter.text,
            status=OpenLetterStatus.DRAFT,
            deadline=letter.deadline,
            tags=list(letter.tags or []),
            language=letter.language,
            authors=list(letter.authors or []),
            recipient_group_id=letter.recipient_group_id,
            letter_campaign_id=letter.letter_campaign_id,
        )
        copy.save()
        copy.recipients.set(letter.recipients.values_list("pk", flat=True))
        OpenLetterTranslation.objects.bulk_create(
            OpenLetterTranslation(letter=copy, language=t.language, title=t.title, summary=t.summary, text=t.text)
            for t in OpenLetterTranslation.objects.filter(letter=letter)
        )
        log_action("open_letter.duplicated", copy, actor=actor, original=letter.pk, key=key)
    return copy, True
