"""Reads for campaigns. Each page's queries are bounded: no count over letters."""

from __future__ import annotations

from django.db.models import QuerySet

from .enums import CampaignStatus
from .models import Campaign, Recipient


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.filter(status__in=[CampaignStatus.LIVE, CampaignStatus.CLOSED])
        .select_related("organisation")
        .order_by("status", "-created_at")
    )


def campaign_for_page(slug: str) -> Campaign | None:
    """A public (live or closed) campaign with what its pages show, or None.

    Its discussion comes in the same query (the campaign page shows it)."""
    return public_campaigns().select_related("template", "discussion").filter(slug=slug).first()


def campaign_recipients(campaign: Campaign) -> list[Recipient]:
    return list(campaign.recipients.order_by("campaignrecipient__position", "campaignrecipient__id"))
