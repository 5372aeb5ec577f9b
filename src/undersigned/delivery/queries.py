"""Reads for deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from undersigned.campaigns.enums import Channel
from undersigned.letters.models import Letter

from .models import Delivery, DeliveryStatus


def deliveries_by_recipient_channel(letter: Letter) -> dict[tuple[int, str], Delivery]:
    return {(d.recipient_id, d.channel): d for d in Delivery.objects.filter(letter=letter)}


def post_to_print(campaign_id: int) -> QuerySet[Delivery]:
    """Letters supporters asked the organisation to post, in recipient order then oldest first."""
    return (
        Delivery.objects.filter(letter__campaign_id=campaign_id, channel=Channel.POST, status=DeliveryStatus.QUEUED)
        .select_related("letter__campaign__template", "recipient")
        .order_by("recipient__campaignrecipient__position", "recipient_id", "created_at", "id")
    )
