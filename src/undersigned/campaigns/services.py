"""Writes for campaigns: the workspace's editor (create, edit, publish, close, archive,
duplicate), importing campaign files, and the reads that export them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.core.models import log_action, logged_object_id
from undersigned.organisations.models import Organisation

from .campaign_files import (
    CHANNELS,
    Author,
    CampaignFile,
    CampaignFileError,
    LetterTemplateData,
    RecipientData,
    TranslationData,
    check_counts,
)
from .campaign_files import limits as campaign_file_limits
from .enums import REPLY_ASK_DAYS_MAX, REPLY_ASK_DAYS_MIN, CampaignStatus, ReplyAddress, Routing
from .models import (
    Campaign,
    CampaignRecipient,
    CampaignTranslation,
    LetterTemplate,
    Recipient,
    RecipientGroup,
    RecipientGroupMember,
    default_reply_ask_days,
)
from .signals import touch_campaigns

DEFAULT_ORGANISATION_SLUG = "default"
DEFAULT_ORGANISATION_NAME = "My organisation"

# The Campaign fields a campaign file sets; an update saves only these.
_CAMPAIGN_FILE_FIELDS = [
    "title", "summary", "background", "deadline", "tags", "language", "status", "min_uniqueness",
    "posts_for_supporters",
    "author_name", "author_role", "author_place",
    "reply_ask_days", "reply_address", "responsiveness_public",
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
            message = _('%(path)s "%(slug)s" is already used by another organisation; choose another slug') % {
                "path": "campaign.slug",
                "slug": data.slug,
            }
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
        _fill_reply_settings(campaign, data.reply_ask_days, data.reply_address, data.responsiveness_public)
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
        _import_group(campaign=campaign, organisation=organisation, data=data, member_ids=recipient_ids)
        _import_translations(campaign=campaign, translations=data.translations)
        log_action(
            "campaign.created" if created else "campaign.updated",
            campaign,
            actor=actor,
            source="campaign_file",
            recipients=recipient_ids,
            # Language codes only (no text); a file in one language logs as it always did.
            **({"languages": [t.language for t in data.translations]} if data.translations else {}),
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


def _import_translations(*, campaign: Campaign, translations: tuple[TranslationData, ...]) -> None:
    """Make the campaign's translations the file's: the languages it lists, no others.

    Each row is saved or deleted one by one (a campaign has a few dozen at most), so the
    campaign's stamp moves through the signals and its kept pages are read afresh.
    """
    listed = {t.language for t in translations}
    for stale in CampaignTranslation.objects.filter(campaign=campaign).exclude(language__in=listed):
        stale.delete()
    for t in translations:
        CampaignTranslation.objects.update_or_create(
            campaign=campaign,
            language=t.language,
            defaults={
                "subject": t.subject,
                "body": t.body,
                "prompts": list(t.prompts),
                "summary": t.summary,
                "background": t.background,
            },
        )


def translation_data(translation: CampaignTranslation) -> TranslationData:
    """A translation as a file's ``[translations.<language>]`` table."""
    return TranslationData(
        language=translation.language,
        subject=translation.subject,
        body=translation.body,
        prompts=tuple(str(p) for p in translation.prompts or []),
        summary=translation.summary,
        background=translation.background,
    )


def _import_group(*, campaign: Campaign, organisation: Organisation, data: CampaignFile, member_ids: list[int]) -> None:
    """Address the campaign to the file's ``recipient_group`` (or to no group).

    The group of that name in the organisation (the campaign's own if it has that name,
    else the oldest, else a new one) gets the file's recipients as its members, as an
    open letter's file does; members not listed leave it, vote weights already set stay.
    """
    group = None
    if data.recipient_group:
        groups = RecipientGroup.objects.filter(organisation=organisation, name=data.recipient_group)
        own = groups.filter(pk=campaign.recipient_group_id).first() if campaign.recipient_group_id else None
        group = own or groups.order_by("pk").first()
        if group is None:
            group = RecipientGroup.objects.create(organisation=organisation, name=data.recipient_group)
        RecipientGroupMember.objects.filter(group=group).exclude(recipient_id__in=member_ids).delete()
        for pk in member_ids:
            RecipientGroupMember.objects.get_or_create(group=group, recipient_id=pk)
        # save() moves the group's stamp: the pages that show its board read it afresh.
        group.decision_date = data.decision_date
        group.save(update_fields=["decision_date", "updated_at"])
    routing = (data.routing or Routing.OWN_COUNTRY) if group is not None else Routing.EVERY
    Campaign.objects.filter(pk=campaign.pk).update(
        recipient_group=group, routing=routing, well_covered_at=data.well_covered_at, updated_at=timezone.now()
    )
    campaign.recipient_group, campaign.routing, campaign.well_covered_at = group, routing, data.well_covered_at


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
        recipient_group=campaign.recipient_group.name if campaign.recipient_group else "",
        decision_date=campaign.recipient_group.decision_date if campaign.recipient_group else None,
        routing=campaign.routing if campaign.recipient_group else "",
        well_covered_at=campaign.well_covered_at if campaign.recipient_group else 0,
        # The site's default delay is left out, as a file without the key means it.
        reply_ask_days=campaign.reply_ask_days if campaign.reply_ask_days != default_reply_ask_days() else None,
        reply_address=campaign.reply_address,
        responsiveness_public=campaign.responsiveness_public,
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
        translations=tuple(
            translation_data(t) for t in CampaignTranslation.objects.filter(campaign=campaign).order_by("language")
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


# --- The workspace's editor -------------------------------------------------------------


@dataclass(frozen=True)
class CampaignInput:
    """What the editor's form sets: the campaign's own fields, its template and its recipients.

    Text comes in with ``\n`` line ends (``core.form_fields.MultiLineField``);
    ``recipient_ids`` are in the order the campaign lists them.
    """

    slug: str
    title: str
    summary: str
    background: str
    deadline: datetime | None
    tags: tuple[str, ...]
    language: str
    min_uniqueness: int
    posts_for_supporters: bool
    author_name: str
    author_role: str
    author_place: str
    subject: str
    body: str
    prompts: tuple[str, ...]
    channels: tuple[str, ...]
    recipient_ids: tuple[int, ...]
    # Addressed to a group (``None``: not): its members become the recipients, and
    # ``routing`` says whom each supporter writes to (``routing.py``).
    recipient_group_id: int | None = None
    routing: str = Routing.EVERY
    well_covered_at: int = 0
    # Replies: the question's delay in days (``None``: the site's default), where the
    # reply address goes (``ReplyAddress``), whether responsiveness is public.
    reply_ask_days: int | None = None
    reply_address: str = ReplyAddress.REPLY_TO
    responsiveness_public: bool = False


class SlugTaken(Exception):
    """The slug is used by another campaign (of this organisation or, unnamed, of another)."""


# The fields the editor owns; an update saves only these, so counters moved by F()
# updates meanwhile (``letters_sent``) and the proof-of-work switch are never undone.
_EDITOR_FIELDS = [
    "slug", "title", "summary", "background", "deadline", "tags", "language", "min_uniqueness",
    "posts_for_supporters", "author_name", "author_role", "author_place",
    "recipient_group", "routing", "well_covered_at",
    "reply_ask_days", "reply_address", "responsiveness_public",
]  # fmt: skip

# Which status each editor action may move a campaign from.
STATUS_MOVES: dict[CampaignStatus, tuple[CampaignStatus, ...]] = {
    CampaignStatus.LIVE: (CampaignStatus.DRAFT, CampaignStatus.CLOSED),  # publish, or open again
    CampaignStatus.CLOSED: (CampaignStatus.LIVE,),
    CampaignStatus.ARCHIVED: (CampaignStatus.DRAFT, CampaignStatus.LIVE, CampaignStatus.CLOSED),
    CampaignStatus.DRAFT: (CampaignStatus.ARCHIVED,),  # back from the archive, as a draft
}


def _fill_campaign(campaign: Campaign, data: CampaignInput) -> None:
    campaign.slug = data.slug
    campaign.title = data.title
    campaign.summary = data.summary
    campaign.background = data.background
    campaign.deadline = data.deadline
    campaign.tags = list(data.tags)
    campaign.language = data.language
    campaign.min_uniqueness = data.min_uniqueness
    campaign.posts_for_supporters = data.posts_for_supporters
    campaign.author_name = data.author_name
    campaign.author_role = data.author_role
    campaign.author_place = data.author_place
    # Only a group of the campaign's own organisation: the form offers no other, and a
    # forged id must not address (or count) someone else's group.
    group_id = data.recipient_group_id
    own = group_id is not None and (
        RecipientGroup.objects.filter(pk=group_id, organisation_id=campaign.organisation_id).exists()
    )
    campaign.recipient_group_id = group_id if own else None
    campaign.routing = data.routing if own and data.routing in Routing.values else Routing.EVERY
    campaign.well_covered_at = max(0, data.well_covered_at)
    _fill_reply_settings(campaign, data.reply_ask_days, data.reply_address, data.responsiveness_public)


def _fill_reply_settings(campaign: Campaign, days: int | None, address: str, public: bool) -> None:
    """The reply settings, kept within their bounds whatever the caller checked."""
    campaign.reply_ask_days = (
        default_reply_ask_days() if days is None else min(max(days, REPLY_ASK_DAYS_MIN), REPLY_ASK_DAYS_MAX)
    )
    campaign.reply_address = address if address in ReplyAddress.values else ReplyAddress.REPLY_TO
    campaign.responsiveness_public = bool(public)


def _recipient_ids(campaign: Campaign, data: CampaignInput) -> tuple[int, ...]:
    """The recipients to put on the campaign: its group's members when it has one."""
    if campaign.recipient_group_id is not None:
        return tuple(
            Recipient.objects.filter(groups=campaign.recipient_group_id)
            .order_by("name", "id")
            .values_list("id", flat=True)
        )
    return data.recipient_ids


def _save_template(campaign: Campaign, data: CampaignInput) -> None:
    LetterTemplate.objects.update_or_create(
        campaign=campaign,
        defaults={
            "subject": data.subject,
            "body": data.body,
            "prompts": list(data.prompts),
            "channels": list(data.channels),
        },
    )


def _set_recipients(campaign: Campaign, recipient_ids: tuple[int, ...]) -> list[int]:
    """Put the organisation's recipients ``recipient_ids`` on the campaign, in that order.

    Ids of another organisation's recipients are dropped: the form offers only the
    organisation's own, and a forged id must not attach someone else's address book.
    """
    own = set(
        Recipient.objects.filter(organisation_id=campaign.organisation_id, pk__in=recipient_ids).values_list(
            "pk", flat=True
        )
    )
    ids = list(dict.fromkeys(pk for pk in recipient_ids if pk in own))
    CampaignRecipient.objects.filter(campaign=campaign).delete()
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=campaign, recipient_id=pk, position=position) for position, pk in enumerate(ids)
    )
    touch_campaigns(pk=campaign.pk)
    return ids


def _same_submission(campaign: Campaign, data: CampaignInput) -> bool:
    """Whether ``campaign`` is what this very form made a moment ago (a second click on Create)."""
    template = LetterTemplate.objects.filter(campaign=campaign).first()
    return (
        campaign.status == CampaignStatus.DRAFT
        and campaign.title == data.title
        and template is not None
        and template.subject == data.subject
        and template.body == data.body
    )


def create_campaign(*, organisation: Organisation, data: CampaignInput, actor: Any) -> tuple[Campaign, bool]:
    """A new draft campaign with its template and recipients, all saved or none.

    Returns the campaign and whether it was created: the same form sent twice (a
    double click) finds the draft the first one made and returns it. A slug used by any
    other campaign raises ``SlugTaken``.
    """
    with transaction.atomic():
        existing = Campaign.objects.select_for_update().filter(slug=data.slug).first()
        if existing is not None:
            if existing.organisation_id == organisation.pk and _same_submission(existing, data):
                return existing, False
            raise SlugTaken(data.slug)
        campaign = Campaign(organisation=organisation, status=CampaignStatus.DRAFT)
        _fill_campaign(campaign, data)
        try:
            with transaction.atomic():  # a concurrent create of the same slug
                campaign.save()
        except IntegrityError:
            raise SlugTaken(data.slug) from None
        _save_template(campaign, data)
        recipients = _set_recipients(campaign, _recipient_ids(campaign, data))
        log_action("campaign.created", campaign, actor=actor, source="editor", recipients=recipients)
    return campaign, True


def update_campaign(*, campaign: Campaign, data: CampaignInput, actor: Any) -> Campaign:
    """Save the editor's fields, the template and the recipients of ``campaign`` together.

    The slug changes only while the campaign is a draft: once published, its address
    is in emails, posts and printed letters.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if data.slug != locked.slug:
            if locked.status != CampaignStatus.DRAFT:
                raise ValueError("Only a draft's slug can change")
            if Campaign.objects.filter(slug=data.slug).exclude(pk=locked.pk).exists():
                raise SlugTaken(data.slug)
        _fill_campaign(locked, data)
        locked.save(update_fields=[*_EDITOR_FIELDS, "updated_at"])
        _save_template(locked, data)
        recipients = _set_recipients(locked, _recipient_ids(locked, data))
        log_action("campaign.updated", locked, actor=actor, source="editor", recipients=recipients)
    return locked


def set_campaign_status(*, campaign: Campaign, status: CampaignStatus, actor: Any) -> bool:
    """Publish, close, archive or bring back ``campaign``; False when it was already there.

    A move ``STATUS_MOVES`` does not allow raises ``ValueError``. Publishing needs a
    template with a subject and a body and at least one recipient: a live campaign
    without them would fail every supporter who tries to write.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status == status:
            return False
        if locked.status not in STATUS_MOVES[status]:
            raise ValueError(
                _("This campaign cannot go from “%(current)s” to “%(target)s”.")
                % {"current": CampaignStatus(locked.status).label, "target": CampaignStatus(status).label}
            )
        if status == CampaignStatus.LIVE:
            problems = publish_problems(locked)
            if problems:
                raise ValueError(problems[0])
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        log_action("campaign.status", locked, actor=actor, before=str(before), after=str(status))
    campaign.status = status
    return True


def set_pow_required(*, campaign: Campaign, required: bool, actor: Any) -> None:
    """Switch the composer's proof-of-work challenge on or off (during a spam attack).

    Moves ``updated_at`` with it: the campaign's pages are kept by that stamp
    (``public/campaign_cache.py``), so the composer asks for the puzzle on the next request.
    """
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(pow_required=required, updated_at=timezone.now())
        campaign.pow_required = required
        log_action("campaign.pow_required", campaign, actor=actor, required=required)


def publish_problems(campaign: Campaign) -> list[str]:
    """What stops ``campaign`` from being published, in words for its organisers (empty: nothing)."""
    problems = []
    template = LetterTemplate.objects.filter(campaign=campaign).first()
    if template is None or not template.subject.strip() or not template.body.strip():
        problems.append(_("The letter needs a subject and a text before the campaign can be published."))
    elif not template.channels:
        problems.append(_("Choose at least one way of sending before the campaign can be published."))
    if not CampaignRecipient.objects.filter(campaign=campaign).exists():
        problems.append(_("Choose at least one recipient before the campaign can be published."))
    return problems


def _free_slug(base: str, taken: Any) -> str:
    """``base-copy``, ``base-copy-2`` …: the first slug ``taken(slug)`` says is free, within 80 characters."""
    number = 1
    while True:
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        slug = base[: 80 - len(suffix)] + suffix
        if not taken(slug):
            return slug
        number += 1


def duplicate_campaign(*, campaign: Campaign, actor: Any, key: str = "") -> tuple[Campaign, bool]:
    """A draft copy of ``campaign`` (its fields, template and recipients) with a new slug,
    and whether it was made now.

    ``key`` is the form's submission key: the same form sent twice (a double click)
    finds the copy the first one made (in the audit log) and returns it. Counters, the
    proof-of-work switch and the discussion stay with the original.
    """
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # one copy at a time per original
        if key:
            earlier = logged_object_id("campaign.duplicated", original=campaign.pk, key=key)
            found = Campaign.objects.filter(pk=earlier).first() if earlier else None
            if found is not None:
                return found, False
        template = LetterTemplate.objects.filter(campaign=campaign).first()
        ids = tuple(
            CampaignRecipient.objects.filter(campaign=campaign)
            .order_by("position", "id")
            .values_list("recipient_id", flat=True)
        )
        data = CampaignInput(
            slug=_free_slug(campaign.slug, lambda slug: Campaign.objects.filter(slug=slug).exists()),
            title=campaign.title,
            summary=campaign.summary,
            background=campaign.background,
            deadline=campaign.deadline,
            tags=tuple(str(tag) for tag in campaign.tags or []),
            language=campaign.language,
            min_uniqueness=campaign.min_uniqueness,
            posts_for_supporters=campaign.posts_for_supporters,
            author_name=campaign.author_name,
            author_role=campaign.author_role,
            author_place=campaign.author_place,
            subject=template.subject if template else "",
            body=template.body if template else "",
            prompts=tuple(str(p) for p in template.prompts or []) if template else (),
            channels=tuple(str(c) for c in template.channels or []) if template else CHANNELS,
            recipient_ids=ids,
            recipient_group_id=campaign.recipient_group_id,
            routing=campaign.routing,
            well_covered_at=campaign.well_covered_at,
            reply_ask_days=campaign.reply_ask_days,
            reply_address=campaign.reply_address,
            responsiveness_public=campaign.responsiveness_public,
        )
        copy = Campaign(organisation_id=campaign.organisation_id, status=CampaignStatus.DRAFT)
        _fill_campaign(copy, data)
        copy.save()
        _save_template(copy, data)
        _set_recipients(copy, ids)
        CampaignTranslation.objects.bulk_create(
            CampaignTranslation(
                campaign=copy,
                language=t.language,
                subject=t.subject,
                body=t.body,
                prompts=list(t.prompts),
                summary=t.summary,
                background=t.background,
            )
            for t in CampaignTranslation.objects.filter(campaign=campaign)
        )
        touch_campaigns(pk=copy.pk)
        log_action("campaign.duplicated", copy, actor=actor, original=campaign.pk, key=key)
    return copy, True


# --- Translations: the campaign's text in more languages ---------------------------------


@dataclass(frozen=True)
class TranslationInput:
    """What the editor's tab of one language sets; text with ``\n`` line ends."""

    subject: str
    body: str
    prompts: tuple[str, ...]
    summary: str
    background: str


class TranslationRefused(Exception):
    """A language the campaign cannot take a translation in (its own, or one too many)."""


def save_translation(*, campaign: Campaign, language: str, data: TranslationInput, actor: Any) -> bool:
    """Create or replace ``campaign``'s text in ``language``; True when the language is new.

    Saving the same text twice (a double click) changes nothing the second time. The
    campaign's own language is refused (its text is the campaign's and its template's),
    and so is a new language past ``CAMPAIGN_TRANSLATIONS_MAX``.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if language.casefold() == locked.language.casefold():
            raise TranslationRefused(language)
        existing = CampaignTranslation.objects.filter(campaign=locked, language__iexact=language).first()
        if existing is None and CampaignTranslation.objects.filter(campaign=locked).count() >= (
            campaign_file_limits.TRANSLATIONS.most
        ):
            raise TranslationRefused(language)
        translation = existing or CampaignTranslation(campaign=locked, language=language)
        translation.subject = data.subject
        translation.body = data.body
        translation.prompts = list(data.prompts)
        translation.summary = data.summary
        translation.background = data.background
        translation.save()  # moves the campaign's stamp (signals.py)
        log_action(
            "campaign.translation_saved", locked, actor=actor, language=translation.language, created=existing is None
        )
    return existing is None


def remove_translation(*, campaign: Campaign, language: str, actor: Any) -> bool:
    """Delete ``campaign``'s text in ``language``; False when there was none (a second click)."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        found = CampaignTranslation.objects.filter(campaign=locked, language__iexact=language).first()
        if found is None:
            return False
        found.delete()  # moves the campaign's stamp (signals.py)
        log_action("campaign.translation_removed", locked, actor=actor, language=found.language)
    return True
