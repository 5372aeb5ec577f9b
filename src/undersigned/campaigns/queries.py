"""Reads for campaigns. Each page's queries are bounded: no count over letters."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery, Sum
from django.db.models.expressions import F

from .enums import CampaignStatus
from .models import Campaign, CampaignRecipient, Recipient


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.filter(status__in=[CampaignStatus.LIVE, CampaignStatus.CLOSED])
        .select_related("organisation")
        .order_by("status", "-created_at")
    )


def campaign_for_page(slug: str) -> Campaign | None:
    """A public (live or closed) campaign with what its pages show, or None."""
    return public_campaigns().select_related("template").filter(slug=slug).first()


def campaign_recipients(campaign: Campaign) -> list[Recipient]:
    return list(campaign.recipients.order_by("campaignrecipient__position", "campaignrecipient__id"))


def campaign_page_stamp(slug: str) -> QuerySet[Any, tuple[Any, ...]]:
    """One row that changes whenever anything a public campaign page shows changes.

    ``pk, letters_sent`` first, then the campaign's, its template's and its
    organisation's ``updated_at``, its status and deadline, and four aggregates over
    its recipients (how many, the newest link, their order, their newest edit). Pages
    keep the rest (see ``public/campaign_cache.py``) and reload it when the stamp
    differs. Edits that bypass ``save()`` (``QuerySet.update()`` of text fields) are
    not seen, except of the columns read here. Bounded: a campaign's recipients only.
    """
    members = CampaignRecipient.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")

    def over_members(aggregate: Count | Max | Sum) -> Subquery:
        return Subquery(members.annotate(value=aggregate).values("value")[:1], output_field=IntegerField())

    return (
        public_campaigns()
        .filter(slug=slug)
        .order_by()
        .annotate(
            members_count=over_members(Count("pk")),
            members_last=over_members(Max("pk")),
            members_order=over_members(Sum(F("position") * F("recipient_id"))),
            members_edited=Subquery(
                members.annotate(value=Max("recipient__updated_at")).values("value")[:1],
            ),
        )
        .values_list(
            "pk",
            "letters_sent",
            "updated_at",
            "template__updated_at",
            "organisation__updated_at",
            "status",
            "deadline",
            "members_count",
            "members_last",
            "members_order",
            "members_edited",
        )
    )
