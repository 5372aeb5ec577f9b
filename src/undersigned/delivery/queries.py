"""Reads for deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from undersigned.campaigns.enums import CHANNEL_NAMES_FOR_ORGANISERS, CHANNEL_ORDER, Channel
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.letters.models import Letter

from .models import Delivery, DeliveryStatus

# Email deliveries the engine has not finished with: the page keeps watching them.
IN_FLIGHT = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.RETRY)
SHOWN_STATUSES = [
    DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.RETRY, DeliveryStatus.SENT,
    DeliveryStatus.REPORTED, DeliveryStatus.FAILED, DeliveryStatus.BOUNCED,
]  # fmt: skip


def deliveries_by_recipient_channel(letter: Letter) -> dict[tuple[int, str], Delivery]:
    return {(d.recipient_id, d.channel): d for d in Delivery.objects.filter(letter=letter)}


@dataclass
class ChannelCounts:
    channel: Channel
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return CHANNEL_NAMES_FOR_ORGANISERS[self.channel]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def cells(self) -> list[int]:
        return [self.by_status.get(status, 0) for status in SHOWN_STATUSES]


@dataclass(frozen=True)
class Problem:
    """A failed or bounced delivery, as organisers read it."""

    delivery: Delivery

    @property
    def channel_name(self) -> str:
        return CHANNEL_NAMES_FOR_ORGANISERS[Channel(self.delivery.channel)]


@dataclass
class CampaignDeliveries:
    """How a campaign's letters are getting to their recipients, for its organisers."""

    channels: list[ChannelCounts]
    email: ChannelCounts
    problems: list[Problem]  # failed and bounced, the newest first
    flagged: list[Recipient]  # recipients whose email address bounced

    @property
    def email_in_flight(self) -> int:
        return sum(self.email.by_status.get(status, 0) for status in IN_FLIGHT)

    @property
    def email_done(self) -> int:
        return self.email.total - self.email_in_flight

    @property
    def stamp(self) -> str:
        """Changes whenever a count does: a poll that sees the same stamp has nothing new."""
        return ".".join(str(n) for counts in self.channels for n in counts.cells())


_PROBLEM_FIELDS = ("channel", "status", "attempts", "last_error", "updated_at", "bounced_at", "recipient__name",
                   "recipient__email", "recipient__email_flag_reason")  # fmt: skip


_PROBLEM_FIELDS = ("channel", "status", "attempts", "last_error", "updated_at", "bounced_at", "recipient__name",
                   "recipient__email", "recipient__email_flag_reason")  # fmt: skip


def campaign_deliveries(campaign: Campaign, *, problems: int = 50) -> CampaignDeliveries:
    """Counts by channel and status (one grouped query), the latest failures and bounces
    with their reasons, and the campaign's recipients whose address bounced."""
    counts = {channel: ChannelCounts(channel) for channel in CHANNEL_ORDER}
    rows = (
        Delivery.objects.filter(letter__campaign=campaign)
        .values_list("channel", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for channel, status, n in rows:
        if channel in counts:
            counts[channel].by_status[status] = n
    failed: QuerySet[Delivery] = (
        Delivery.objects.filter(letter__campaign=campaign)
        .filter(Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.BOUNCED))
        .select_related("recipient")
        .only(*_PROBLEM_FIELDS)
        .order_by("-updated_at", "-id")
    )
    flagged = campaign.recipients.filter(email_flagged_at__isnull=False).order_by("-email_flagged_at", "name")
    return CampaignDeliveries(
        channels=[counts[channel] for channel in CHANNEL_ORDER],
        email=counts[Channel.EMAIL],
        problems=[Problem(delivery) for delivery in failed[:problems]],
        flagged=list(flagged),
    )
