"""Writes for campaigns: importing campaign files, and the reads that export them."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.db import transaction
from django.db.models import Q

from undersigned.core.models import log_action
from undersigned.organisations.models import Organisation

from .campaign_files import (
    CHANNELS,
    Author,
    CampaignFile,
    CampaignFileError,
    LetterTemplateData,
    RecipientData,
    check_counts,
)
from .models import Campaign, CampaignRecipient, LetterTemplate, Recipient

DEFAULT_ORGANISATION_SLUG = "default"
DEFAULT_ORGANISATION_NAME = "My organisation"

# The Campaign fields a campaign file sets; an update saves only these.
_CAMPAIGN_FILE_FIELDS = [
    "title", "summary", "background", "deadline", "tags", "language", "status", "min_uniqueness",
    "posts_for_supporters",
    "author_name", "author_role", "author_place",
]  # fmt: skip


def get_default_organisation() -> Organisation:
    """The organisation commands act for when none is named: the oldest, or a new one.

    A fresh installation has no organisation yet, and ``undersigned import FILE`` should
    still work there without a set-up step first.
    """
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is not None:
        return organisation
    with transaction.atomic():
        organisation, created = Organisation.objects.get_or_create(
            slug=DEFAULT_ORGANISATION_SLUG, defaults={"name": DEFAULT_ORGANISATION_NAME}
        )
        if created:
            log_action("organisation.created", organisation)
    return organisation


def import_campaign(*, organisation: Organisation, data: CampaignFile, actor: Any = None) -> tuple[Campaign, bool]:
    """Create or update the campaign ``data.slug`` from a parsed campaign file.

    Returns the campaign and whether it was created. The file is the truth for the
    campaign's own fields, its template and its list of recipients; recipients dropped
    from the file leave the campaign but stay in the organisation, because other
    campaigns may use them. Counters such as ``letters_sent`` are never touched.
    """
    # parse() checks the limits too, with lines; a value built in code must keep them as well.
    check_counts(data)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(slug=data.slug).first()
        if campaign is not None and campaign.organisation_id != organisation.pk:
            # The other organisation is not named: organisers of one must not learn
            # about another's drafts.
            message = f'campaign.slug "{data.slug}" is already used by another organisation; choose another slug'
            raise CampaignFileError([message])
        created = campaign is None
        if campaign is None:
            campaign = Campaign(organisation=organisation, slug=data.slug)
        campaign.title = data.title
        campaign.summary = data.summary
        campaign.background = data.background
        campaign.deadline = data.deadline
        campaign.tags = list(data.tags)
        campaign.language = data.language
        campaign.status = data.status
        campaign.min_uniqueness = data.min_uniqueness
        campaign.posts_for_supporters = data.posts_for_supporters
        campaign.author_name = data.author.name
        campaign.author_role = data.author.role
        campaign.author_place = data.author.place
        if created:
            campaign.save()
        else:
            # Only the fields the file owns: letters_sent is kept by F() updates as
            # letters go out, and saving the value read above could undo one; settings
            # the file does not describe keep what organisers chose in the admin.
            campaign.save(update_fields=[*_CAMPAIGN_FILE_FIELDS, "updated_at"])

        LetterTemplate.objects.update_or_create(
            campaign=campaign,
            defaults={
                "subject": data.letter.subject,
                "body": data.letter.body,
                "prompts": list(data.letter.prompts),
                "channels": list(data.letter.channels),
                "language": data.letter.language,
            },
        )
        recipient_ids = _import_recipients(campaign=campaign, organisation=organisation, entries=data.recipients)
        log_action(
            "campaign.created" if created else "campaign.updated",
            campaign,
            actor=actor,
            source="campaign_file",
            recipients=recipient_ids,
        )
    return campaign, created


def _import_recipients(
    *, campaign: Campaign, organisation: Organisation, entries: tuple[RecipientData, ...]
) -> list[int]:
    """Match, update or create each listed recipient and put them on the campaign in file order."""
    on_campaign = set(CampaignRecipient.objects.filter(campaign=campaign).values_list("recipient_id", flat=True))
    used: set[int] = set()
    matches: dict[int, Recipient | None] = {}
    # Entries with an email are matched first: their match is exact, and a same-named
    # entry without an email must not take their row by coming earlier in the file.
    for index in sorted(range(len(entries)), key=lambda i: not entries[i].email):
        match = match_recipient(organisation=organisation, entry=entries[index], on_campaign=on_campaign, used=used)
        if match is not None:
            used.add(match.pk)
        matches[index] = match

    chosen: list[Recipient] = []
    for index, entry in enumerate(entries):
        recipient = matches[index] or Recipient(organisation=organisation)
        fill_recipient(recipient=recipient, entry=entry)
        recipient.save()
        chosen.append(recipient)

    ids = [recipient.pk for recipient in chosen]
    CampaignRecipient.objects.filter(campaign=campaign).exclude(recipient_id__in=ids).delete()
    for position, recipient in enumerate(chosen):
        CampaignRecipient.objects.update_or_create(
            campaign=campaign, recipient=recipient, defaults={"position": position}
        )
    return ids


def fill_recipient(*, recipient: Recipient, entry: RecipientData) -> None:
    """Set a recipient's fields to a file's entry (without saving): every key the file has.

    Campaign and open letter imports both use it, so one entry means the same recipient
    whichever kind of file lists it, and a key is never read by one and dropped by the other.
    """
    if recipient.pk is not None and recipient.email.lower() != entry.email.lower():
        # The bounce flag was about the old address.
        recipient.email_flagged_at = None
    recipient.name = entry.name
    recipient.role = entry.role
    recipient.organisation_name = entry.organisation
    recipient.email = entry.email
    recipient.web_form_url = entry.web_form_url
    recipient.postal_address = entry.postal_address
    recipient.country = entry.country
    recipient.language = entry.language
    recipient.max_emails_per_minute = entry.max_emails_per_minute or None
    recipient.daily_digest = entry.daily_digest


def match_recipient(
    *, organisation: Organisation, entry: RecipientData, on_campaign: set[int], used: set[int]
) -> Recipient | None:
    """The organisation's existing row for this entry, if there is one.

    With an email, name and email (case-insensitive) must both match. Without one, the
    name must match a recipient already on this campaign or one without an email: taking
    a same-named recipient with an address from another campaign would blank that
    address for every campaign that uses it.
    """
    candidates = Recipient.objects.filter(organisation=organisation, name=entry.name).exclude(pk__in=used)
    if entry.email:
        candidates = candidates.filter(email__iexact=entry.email)
    else:
        candidates = candidates.filter(Q(pk__in=on_campaign) | Q(email=""))
    rows = list(candidates.order_by("pk"))
    # Prefer the row this campaign already lists, so re-importing never swaps rows.
    for row in rows:
        if row.pk in on_campaign:
            return row
    return rows[0] if rows else None


def export_campaign(campaign: Campaign) -> CampaignFile:
    """Read a campaign, its template and its recipients (in order) into a campaign file."""
    template = LetterTemplate.objects.filter(campaign=campaign).first()
    links = CampaignRecipient.objects.filter(campaign=campaign).select_related("recipient").order_by("position", "id")
    return CampaignFile(
        slug=campaign.slug,
        title=campaign.title,
        summary=campaign.summary,
        background=campaign.background,
        deadline=campaign.deadline.astimezone(UTC) if campaign.deadline else None,
        tags=tuple(str(tag) for tag in campaign.tags or []),
        language=campaign.language,
        status=campaign.status,
        min_uniqueness=campaign.min_uniqueness,
        posts_for_supporters=campaign.posts_for_supporters,
        author=Author(name=campaign.author_name, role=campaign.author_role, place=campaign.author_place),
        recipients=tuple(recipient_data(link.recipient) for link in links),
        # A campaign made in the admin may have no template yet; the export then has an
        # empty subject and body, which import refuses until someone writes them.
        letter=LetterTemplateData(
            subject=template.subject if template else "",
            body=template.body if template else "",
            prompts=tuple(str(p) for p in template.prompts or []) if template else (),
            channels=tuple(str(c) for c in template.channels or []) if template else CHANNELS,
            language=template.language if template else "",
        ),
    )


def recipient_data(recipient: Recipient) -> RecipientData:
    """A recipient as a file's ``[[recipients]]`` entry: the reverse of ``fill_recipient``."""
    return RecipientData(
        name=recipient.name,
        role=recipient.role,
        organisation=recipient.organisation_name,
        email=recipient.email,
        web_form_url=recipient.web_form_url,
        postal_address=recipient.postal_address,
        country=recipient.country,
        language=recipient.language,
        max_emails_per_minute=recipient.max_emails_per_minute or 0,
        daily_digest=recipient.daily_digest,
    )
