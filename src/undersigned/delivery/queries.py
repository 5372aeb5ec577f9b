"""Reads for deliveries."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from undersigned.campaigns.enums import CHANNEL_NAMES_FOR_ORGANISERS, CHANNEL_ORDER, Channel
from undersigned.campaigns.models import Campaign, CampaignRecipient, Recipient
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
    counted_at: datetime.datetime  # when the counts were made (they are kept a few seconds)

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


# Counting a campaign's deliveries reads all of them (a large campaign takes a good part
# of a second, docs/performance.md), and a page left open polls every few seconds. So the
# counts are kept in the cache, shared by every viewer, and made again only when they are older than
# both MIN_FRESH_SECONDS and COUNT_COST_FACTOR times what counting took: counting takes
# at most a twentieth of the time, however many people watch and however big the campaign.
MIN_FRESH_SECONDS = 3.0
COUNT_COST_FACTOR = 20


def _counts_key(campaign_id: int) -> str:
    return f"undersigned:delivery-counts:{campaign_id}"


def delivery_counts(campaign_id: int) -> tuple[dict[tuple[str, str], int], datetime.datetime]:
    """The campaign's deliveries counted by (channel, status), and when they were counted."""
    kept: dict[str, Any] | None = cache.get(_counts_key(campaign_id))
    if kept is not None and time.time() < kept["fresh_until"]:
        return kept["counts"], kept["counted_at"]
    started = time.perf_counter()
    rows = (
        Delivery.objects.filter(letter__campaign_id=campaign_id)
        .values_list("channel", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {(channel, status): n for channel, status, n in rows}
    fresh = max(MIN_FRESH_SECONDS, COUNT_COST_FACTOR * (time.perf_counter() - started))
    counted_at = timezone.now()
    value = {"counts": counts, "counted_at": counted_at, "fresh_until": time.time() + fresh}
    cache.set(_counts_key(campaign_id), value, timeout=int(fresh) + 60)
    return counts, counted_at


def forget_delivery_counts(campaign_id: int) -> None:
    """Count again at the next look (after an organiser changed many deliveries at once)."""
    cache.delete(_counts_key(campaign_id))


def campaign_deliveries(campaign: Campaign, *, problems: int = 50, details: bool = True) -> CampaignDeliveries:
    """Counts by channel and status (kept a few seconds, see ``delivery_counts``) and, with
    ``details``, the latest failures and bounces with their reasons and the campaign's
    recipients whose address bounced (a poll for the counts needs neither)."""
    counts: dict[str, ChannelCounts] = {channel.value: ChannelCounts(channel) for channel in CHANNEL_ORDER}
    by_pair, counted_at = delivery_counts(campaign.pk)
    for (channel, status), n in by_pair.items():
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
        channels=[counts[channel.value] for channel in CHANNEL_ORDER],
        email=counts[Channel.EMAIL.value],
        problems=[Problem(delivery) for delivery in failed[:problems]] if details else [],
        flagged=list(flagged) if details else [],
        counted_at=counted_at,
    )


# --- Post waiting to be printed in bulk (delivery/bulk_print.py, delivery/print_render.py) ---


def post_queue(campaign_id: int, *, created_before: datetime.datetime | None = None) -> QuerySet[Delivery]:
    """The campaign's post deliveries waiting to be printed, in the campaign's recipient order.

    Ordering by ``recipient__campaignrecipient__position`` would join every campaign the
    recipient belongs to, printing each letter once per campaign (an earlier version did).
    Here the position comes from this campaign's row only.
    ``created_before`` keeps a print job to the letters that waited when it was started,
    so its progress can't run past its total.
    """
    position = CampaignRecipient.objects.filter(campaign_id=campaign_id, recipient_id=OuterRef("recipient_id"))
    queue = waiting_post(campaign_id, created_before).annotate(position=Subquery(position.values("position")[:1]))
    # A recipient taken off the campaign after a letter was written has no position;
    # their letters still print, last, the same on SQLite and PostgreSQL.
    return queue.order_by(F("position").asc(nulls_last=True), "recipient_id", "created_at", "id")


def waiting_post(campaign_id: int, created_before: datetime.datetime | None = None) -> QuerySet[Delivery]:
    """The campaign's post deliveries waiting to be printed (and, with ``created_before``, waiting since then)."""
    queue = Delivery.objects.filter(letter__campaign_id=campaign_id, channel=Channel.POST, status=DeliveryStatus.QUEUED)
    return queue if created_before is None else queue.filter(created_at__lte=created_before)


def letters_waiting(campaign_id: int, *, created_before: datetime.datetime | None = None) -> int:
    """How many letters wait to be posted: a count, for organiser pages and job starts only."""
    return waiting_post(campaign_id, created_before).count()


def oldest_due_email(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Since when the longest-waiting email that a worker should send now has been due.

    For the workers' heartbeat on the readiness endpoint: minutes here while workers beat
    means they are too few, or stuck. Two reads by the engine's queue index
    (``delivery_email_queue``); letters kept for a daily digest are not due.
    """
    now = now or timezone.now()
    waiting = Delivery.objects.filter(
        channel=Channel.EMAIL,
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRY],
        recipient__daily_digest=False,
    ).order_by()
    never_tried = waiting.filter(next_attempt_at__isnull=True).order_by("id").values_list("created_at", flat=True)
    retry = waiting.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "id")
    times = [t for t in (never_tried.first(), retry.values_list("next_attempt_at", flat=True).first()) if t]
    return min(times) if times else None


# --- Exports (streamed to organisers as CSV by the dashboard) -----------------------------

EXPORT_CHUNK = 2000  # rows read from the database at a time (one chunk in memory)


def letters_for_export(campaign: Campaign) -> Iterator[Letter]:
    """A campaign's letters by id, each with its deliveries prefetched, read
    ``EXPORT_CHUNK`` at a time: memory stays flat however many letters there are.
    Only what organisers may see is loaded: no text, name or address of the supporter."""
    deliveries = Prefetch(
        "deliveries",
        queryset=Delivery.objects.only(
            "id", "letter_id", "recipient_id", "channel", "evidence", "sent_at", "reported_at", "verified_at"
        ).order_by("id"),
    )
    return (
        Letter.objects.filter(campaign=campaign)
        .order_by("id")
        .only("id", "campaign_id", "created_at", "sender_country", "uniqueness", "sent_at")
        .prefetch_related(deliveries)
        .iterator(chunk_size=EXPORT_CHUNK)
    )


def deliveries_for_export(campaign: Campaign) -> Iterator[Delivery]:
    """A campaign's deliveries by id with their recipient, ``EXPORT_CHUNK`` at a time."""
    return (
        Delivery.objects.filter(letter__campaign=campaign)
        .select_related("recipient")
        .order_by("id")
        .only(
            "id",
            "letter_id",
            "channel",
            "status",
            "evidence",
            "attempts",
            "created_at",
            "sent_at",
            "reported_at",
            "verified_at",
            "bounced_at",
            "recipient__name",
            "recipient__role",
            "recipient__organisation_name",
            "recipient__country",
        )
        .iterator(chunk_size=EXPORT_CHUNK)
    )
