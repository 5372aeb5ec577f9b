"""Open letters from campaign files and back: ``undersigned import`` and ``export``."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from undersigned.campaigns.campaign_files import (
    Author,
    CampaignFileError,
    OpenLetterFile,
    OpenLetterTranslationData,
    check_counts,
)
from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup, RecipientGroupMember
from undersigned.campaigns.services import fill_recipient, match_recipient, recipient_data
from undersigned.core.models import log_action
from undersigned.openletters import queries
from undersigned.openletters.models import OpenLetter, OpenLetterTranslation
from undersigned.organisations.models import Organisation

from .versions import record_version


def import_open_letter(
    *, organisation: Organisation, data: OpenLetterFile, actor: Any = None
) -> tuple[OpenLetter, bool]:
    """Create or update the open letter ``data.slug`` from a parsed campaign file.

    Recipients are matched like a campaign's (``campaigns.services.match_recipient``).
    With ``recipient_group`` they become that group's members and the letter is
    addressed to the group. The ``[translations.<code>]`` tables become the letter's
    translations (one the file leaves out is removed; its versions stay). A changed text
    of a published letter, in any language, makes a new version of that language's text.
    Counters are never touched.
    """
    check_counts(data)  # parse() checks them too; a value built in code must keep them as well
    with transaction.atomic():
        letter = OpenLetter.objects.select_for_update().filter(slug=data.slug).first()
        if letter is not None and letter.organisation_id != organisation.pk:
            message = _('%(path)s "%(slug)s" is already used by another organisation; choose another slug') % {
                "path": "open_letter.slug",
                "slug": data.slug,
            }
            raise CampaignFileError([message])
        campaign = None
        if data.campaign:
            campaign = Campaign.objects.filter(slug=data.campaign, organisation=organisation).first()
            if campaign is None:
                message = _('%(path)s "%(slug)s" is not a campaign of %(organisation)s; import that campaign first') % {
                    "path": "open_letter.campaign",
                    "slug": data.campaign,
                    "organisation": organisation.name,
                }
                raise CampaignFileError([message])
        created = letter is None
        if letter is None:
            letter = OpenLetter(organisation=organisation, slug=data.slug)
        letter.title = data.title
        letter.summary = data.summary
        letter.text = data.text
        letter.status = data.status
        letter.published_at = data.published or letter.published_at
        letter.deadline = data.deadline
        letter.tags = list(data.tags)
        letter.language = data.language
        letter.authors = [{"name": a.name, "role": a.role, "place": a.place} for a in data.authors]
        letter.letter_campaign = campaign
        if created:
            letter.save()
        else:
            letter.save(
                update_fields=[
                    "title", "summary", "text", "status", "published_at", "deadline", "tags", "language",
                    "authors", "letter_campaign", "updated_at",
                ]
            )  # fmt: skip
        recipients = _import_addressees(letter=letter, organisation=organisation, data=data)
        _import_translations(letter=letter, data=data)
        log_action(
            "open_letter.created" if created else "open_letter.updated",
            letter,
            actor=actor,
            source="campaign_file",
            recipients=[r.pk for r in recipients],
        )
        record_version(letter=letter, actor=actor)
    return letter, created


def _import_translations(*, letter: OpenLetter, data: OpenLetterFile) -> None:
    languages = [t.language for t in data.translations]
    OpenLetterTranslation.objects.filter(letter=letter).exclude(language__in=languages).delete()
    for entry in data.translations:
        OpenLetterTranslation.objects.update_or_create(
            letter=letter,
            language=entry.language,
            defaults={"title": entry.title, "summary": entry.summary, "text": entry.text},
        )


def _import_addressees(*, letter: OpenLetter, organisation: Organisation, data: OpenLetterFile) -> list[Recipient]:
    group = None
    if data.recipient_group:
        group = _group_named(letter=letter, organisation=organisation, name=data.recipient_group)
        if group.decision_date != data.decision_date:
            group.decision_date = data.decision_date
            group.save(update_fields=["decision_date", "updated_at"])
        current = set(RecipientGroupMember.objects.filter(group=group).values_list("recipient_id", flat=True))
    else:
        current = set(letter.recipients.values_list("id", flat=True))
    used: set[int] = set()
    chosen: list[Recipient] = []
    for entry in data.recipients:
        recipient = match_recipient(organisation=organisation, entry=entry, on_campaign=current, used=used)
        if recipient is None:
            recipient = Recipient(organisation=organisation)
        fill_recipient(recipient=recipient, entry=entry)
        recipient.save()
        used.add(recipient.pk)
        chosen.append(recipient)
    if group is not None:
        RecipientGroupMember.objects.filter(group=group).exclude(recipient_id__in=used).delete()
        for recipient in chosen:
            RecipientGroupMember.objects.get_or_create(group=group, recipient=recipient)
        letter.recipients.clear()
    else:
        letter.recipients.set(chosen)
    if letter.recipient_group_id != (group.pk if group else None):
        OpenLetter.objects.filter(pk=letter.pk).update(recipient_group=group)
        letter.recipient_group = group
    return chosen


def _group_named(*, letter: OpenLetter, organisation: Organisation, name: str) -> RecipientGroup:
    """The organisation's recipient group of that name: the letter's own, if it has that name.

    Nothing stops an organisation from having two groups of one name (made in the admin,
    say); the letter keeps the one it is addressed to, a new letter takes the oldest.
    """
    groups = RecipientGroup.objects.filter(organisation=organisation, name=name)
    own = groups.filter(pk=letter.recipient_group_id).first() if letter.recipient_group_id else None
    return own or groups.order_by("pk").first() or RecipientGroup.objects.create(organisation=organisation, name=name)


def export_open_letter(letter: OpenLetter) -> OpenLetterFile:
    """Read an open letter and its addressees into a campaign file (``kind = "open_letter"``).

    The reverse of ``import_open_letter``: importing the result, here or into another
    organisation, gives a letter with the same values. Addressees are listed in the order
    the letter's page shows them (by name): the database keeps no other order for them.
    """
    group = letter.recipient_group
    # Authors are free JSON in the admin; an entry that is not a table is left out rather
    # than written as something import would read differently.
    authors = [author for author in letter.authors or [] if isinstance(author, dict)]
    return OpenLetterFile(
        slug=letter.slug,
        title=letter.title,
        text=letter.text,
        summary=letter.summary,
        status=str(letter.status),
        published=letter.published_at.astimezone(UTC) if letter.published_at else None,
        deadline=letter.deadline.astimezone(UTC) if letter.deadline else None,
        tags=tuple(str(tag) for tag in letter.tags or []),
        language=letter.language,
        recipient_group=group.name if group else "",
        decision_date=group.decision_date if group else None,
        campaign=letter.letter_campaign.slug if letter.letter_campaign else "",
        authors=tuple(
            Author(
                name=str(author.get("name") or ""),
                role=str(author.get("role") or ""),
                place=str(author.get("place") or ""),
            )
            for author in authors
        ),
        recipients=tuple(recipient_data(recipient) for recipient in queries.addressees(letter)),
        translations=tuple(
            OpenLetterTranslationData(language=t.language, title=t.title, text=t.text, summary=t.summary)
            for t in queries.translations_of(letter)
        ),
    )
