"""Reads for campaigns. Each page's queries are bounded: no count over letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from .enums import CampaignStatus
from .models import (
    Campaign,
    CampaignRecipient,
    CampaignTranslation,
    LetterTemplate,
    Recipient,
    RecipientGroup,
    RecipientGroupMember,
)


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.filter(status__in=[CampaignStatus.LIVE, CampaignStatus.CLOSED])
        .select_related("organisation")
        .order_by("status", "-created_at")
    )


def campaign_for_page(slug: str) -> Campaign | None:
    """A public (live or closed) campaign with what its pages show, or None.

    Its discussion comes in the same query (the campaign page shows it)."""
    return public_campaigns().select_related("template", "discussion", "recipient_group").filter(slug=slug).first()


def campaign_recipients(campaign: Campaign) -> list[Recipient]:
    return list(campaign.recipients.order_by("campaignrecipient__position", "campaignrecipient__id"))


def campaign_page_stamp(slug: str) -> QuerySet[Any, tuple[Any, ...]]:
    """One row, from the campaign's own table, that changes whenever anything a public
    campaign page shows changes: ``pk, letters_sent, updated_at, status, deadline``, the discussion's teaser and the
    recipient group's ``updated_at``.

    Pages keep the rest (see ``public/campaign_cache.py``) and reload it when the stamp
    differs. Edits to the template, recipients and organisation move the campaign's
    ``updated_at`` (``signals.py``); status, deadline and the counter are read here, so
    even a ``QuerySet.update()`` of them shows. One row by a unique index; the only join
    is to the campaign's discussion (one-to-one), whose mode and comment count follow
    ``pk … deadline`` and, like ``letters_sent``, are read fresh rather than kept.
    """
    return (
        public_campaigns()
        .filter(slug=slug)
        .order_by()
        .values_list(
            "pk",
            "letters_sent",
            "updated_at",
            "status",
            "deadline",
            # The discussion's teaser, live like the counter (a LEFT JOIN on a unique key):
            "discussion__id",
            "discussion__mode",
            "discussion__comment_count",
            # The group's date and members (a member change moves it): the coverage board.
            "recipient_group__updated_at",
        )
    )


# --- The workspace's editor ---------------------------------------------------------------


def organisation_recipients(organisation_id: int) -> list[Recipient]:
    """The recipients an organisation's campaigns and open letters may be addressed to, by name."""
    return list(Recipient.objects.filter(organisation_id=organisation_id).order_by("name", "id"))


def organisation_groups(organisation_id: int) -> list[RecipientGroup]:
    return list(RecipientGroup.objects.filter(organisation_id=organisation_id).order_by("name", "id"))


def group_member_ids(group_id: int) -> list[int]:
    """A group's members in name order, as a campaign lists them when the group is chosen."""
    return list(Recipient.objects.filter(groups=group_id).order_by("name", "id").values_list("id", flat=True))


def campaign_recipient_ids(campaign: Campaign) -> list[int]:
    return list(
        CampaignRecipient.objects.filter(campaign=campaign)
        .order_by("position", "id")
        .values_list("recipient_id", flat=True)
    )


def template_of(campaign: Campaign) -> LetterTemplate | None:
    return LetterTemplate.objects.filter(campaign=campaign).first()


def translations_of(campaign: Campaign) -> list[CampaignTranslation]:
    """The campaign's translations, in language order (the editor's tabs, the composer's choice)."""
    return list(CampaignTranslation.objects.filter(campaign=campaign).order_by("language"))


def translations_near(campaign_ids: Sequence[int], language: str) -> dict[int, list[CampaignTranslation]]:
    """The campaigns' translations a visitor reading ``language`` may be shown, by campaign
    (one query for a whole list): the language itself and its regional variants ("fr"
    finds "fr" and "fr-BE"); ``campaigns.languages.find_text`` picks among them."""
    primary = language.split("-", maxsplit=1)[0]
    if not campaign_ids or not primary:
        return {}
    found: dict[int, list[CampaignTranslation]] = {}
    for translation in CampaignTranslation.objects.filter(
        Q(language__iexact=language) | Q(language__iexact=primary) | Q(language__istartswith=f"{primary}-"),
        campaign_id__in=campaign_ids,
    ):
        found.setdefault(translation.campaign_id, []).append(translation)
    return found


def translation_of(campaign: Campaign, language: str) -> CampaignTranslation | None:
    return CampaignTranslation.objects.filter(campaign=campaign, language__iexact=language).first()


def draft_for_members(slug: str) -> Campaign | None:
    """A campaign that has no public page (a draft, an archived one) with what its page
    shows, for the members of its organisation; never kept, never shared."""
    return (
        Campaign.objects.exclude(status__in=[CampaignStatus.LIVE, CampaignStatus.CLOSED])
        .select_related("organisation", "template")
        .filter(slug=slug)
        .first()
    )


def group_members(group_id: int) -> list[tuple[int, str, str, int]]:
    """A group's members as the coverage board and routing read them: (recipient id, name,
    country, vote weight), by name. Bounded by the group's size limit."""
    return list(
        RecipientGroupMember.objects.filter(group_id=group_id)
        .order_by("recipient__name", "recipient_id")
        .values_list("recipient_id", "recipient__name", "recipient__country", "vote_weight")
    )
