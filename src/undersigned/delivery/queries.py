"""Reads for deliveries."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from django.core.cache import cache
from django.db.models import (
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from undersigned.campaigns.enums import CHANNEL_NAMES_FOR_ORGANISERS, CHANNEL_ORDER, Channel
from undersigned.campaigns.models import Campaign, CampaignRecipient, Recipient
from undersigned.letters.models import ComposerOpenedDay, Letter, LetterTally, LetterTallyKind
from undersigned.letters.tallies import OWN_WORDS_BUCKETS

from .models import Delivery, DeliveryStatus, DeliveryTally, DeliveryTallyKind, Evidence

# Email deliveries the engine has not finished with: the page keeps watching them.
IN_FLIGHT = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.RETRY)
SHOWN_STATUSES = [
    DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.RETRY, DeliveryStatus.SENT,
    DeliveryStatus.REPORTED, DeliveryStatus.FAILED, DeliveryStatus.BOUNCED,
]  # fmt: skip


def deliveries_by_recipient_channel(letter: Letter) -> dict[tuple[int, str], Delivery]:
    rows = Delivery.objects.filter(letter=letter)
    return {(d.recipient_id, d.channel): d for d in rows if d.recipient_id is not None}


@dataclass
class ChannelCounts:
    channel: Channel
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(CHANNEL_NAMES_FOR_ORGANISERS[self.channel])

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
        return str(CHANNEL_NAMES_FOR_ORGANISERS[Channel(self.delivery.channel)])


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


@dataclass(frozen=True, slots=True)
class ExportedDelivery:
    """What the letters CSV reads of one delivery."""

    recipient_id: int
    channel: str
    evidence: int
    sent_at: datetime.datetime | None
    reported_at: datetime.datetime | None
    verified_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class ExportedLetter:
    """What the letters CSV reads of one letter, with its deliveries."""

    id: int
    created_at: datetime.datetime
    sender_country: str
    uniqueness: int
    sent_at: datetime.datetime | None
    deliveries: tuple[ExportedDelivery, ...]


_EXPORTED_LETTER = ("id", "created_at", "sender_country", "uniqueness", "sent_at")
_EXPORTED_DELIVERY = tuple(
    f"deliveries__{name}" for name in ("recipient_id", "channel", "evidence", "sent_at", "reported_at", "verified_at")
)


def letters_for_export_rows(campaign: Campaign) -> QuerySet[Letter, tuple[Any, ...]]:
    """One plain row per letter and delivery (a letter without one: one row, the delivery's
    columns empty), by letter id: a single query, no model instances.

    Not ``prefetch_related`` on model instances: for every letter it keeps a clone of the
    deliveries' queryset (its whole ``Query``) besides the instances, about 18 MB of
    Python objects for a chunk of 2,000 letters, and the export stood about 42 MB above
    the process it ran in, against 2 MB this way (docs/performance.md)."""
    return Letter.objects.filter(campaign=campaign).order_by("id").values_list(*_EXPORTED_LETTER, *_EXPORTED_DELIVERY)


def letters_for_export(campaign: Campaign) -> Iterator[ExportedLetter]:
    """A campaign's letters by id, each with its deliveries, read ``EXPORT_CHUNK`` rows at
    a time (a server-side cursor on PostgreSQL): memory stays flat however many letters
    there are. Only what organisers may see is read: no text, name or address of the supporter."""
    rows = letters_for_export_rows(campaign).iterator(chunk_size=EXPORT_CHUNK)
    width = len(_EXPORTED_LETTER)
    for letter_id, group in groupby(rows, key=itemgetter(0)):
        first = next(group)
        _, created_at, sender_country, uniqueness, sent_at = first[:width]
        yield ExportedLetter(
            id=letter_id,
            created_at=created_at,
            sender_country=sender_country,
            uniqueness=uniqueness,
            sent_at=sent_at,
            deliveries=tuple(
                ExportedDelivery(*row[width:]) for row in chain((first,), group) if row[width] is not None
            ),
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


# --- Results (the dashboard's results page) -------------------------------------------------
#
# Every figure is read from kept tallies (``letters.LetterTally``, ``DeliveryTally``,
# ``letters.ComposerOpenedDay``), moved by the services in the transaction of each write:
# four small queries whatever the size of the campaign (docs/performance.md).

# The evidence ladder, bottom to top: a letter counts at a level when one of its
# deliveries has reached it or a higher one.
LADDER = (Evidence.SELF_REPORTED, Evidence.VERIFIED_COPY, Evidence.PLATFORM_DELIVERED, Evidence.REPLY_RECEIVED)
# (``letters.tallies.OWN_WORDS_BUCKETS``: the buckets of the own-words share.)
MAX_DAYS = 92  # the results by day show at most the latest this many days


@dataclass(frozen=True)
class ChannelResults:
    channel: Channel
    by_evidence: dict[int, int]  # deliveries at each evidence level (NONE included)

    @property
    def name(self) -> str:
        return str(CHANNEL_NAMES_FOR_ORGANISERS[self.channel])

    @property
    def total(self) -> int:
        return sum(self.by_evidence.values())

    def cells(self) -> list[int]:
        """Deliveries that reached at least each level of the ladder."""
        return [sum(n for level, n in self.by_evidence.items() if level >= step) for step in LADDER]


@dataclass(frozen=True)
class RecipientResults:
    recipient_id: int
    name: str
    by_evidence: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.by_evidence.values())

    def cells(self) -> list[int]:
        return [sum(n for level, n in self.by_evidence.items() if level >= step) for step in LADDER]


@dataclass(frozen=True)
class DayResults:
    day: datetime.date
    opened: int
    saved: int


@dataclass(frozen=True)
class CampaignResults:
    """What a campaign achieved: its funnel and where its letters went."""

    opened: int  # composer openings, all days
    saved: int  # letters written
    reached: list[tuple[Evidence, int]]  # letters whose best delivery reached at least each level
    channels: list[ChannelResults]
    days: list[DayResults]  # oldest first, every day from the first to the last (at most MAX_DAYS)
    recipients: list[RecipientResults]  # most deliveries first
    countries: list[tuple[str, int]]  # letters by the sender's country, most first ("" unknown)
    own_words: list[tuple[int, int, int]]  # (low, high, letters) per bucket
    own_words_mean: float | None


def _letter_tallies(campaign_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {kind.value: {} for kind in LetterTallyKind}
    for kind, key, n in LetterTally.objects.filter(campaign_id=campaign_id).values_list("kind", "key", "count"):
        out.setdefault(kind, {})[key] = n
    return out


def _delivery_tallies(campaign_id: int) -> dict[str, dict[str, dict[int, int]]]:
    """kind → key → evidence → count, zeros left out."""
    out: dict[str, dict[str, dict[int, int]]] = {kind.value: {} for kind in DeliveryTallyKind}
    rows = DeliveryTally.objects.filter(campaign_id=campaign_id, count__gt=0).values_list(
        "kind", "key", "evidence", "count"
    )
    for kind, key, evidence, n in rows:
        out.setdefault(kind, {}).setdefault(key, {})[evidence] = n
    return out


def _days(campaign_id: int, saved_by_day: dict[str, int]) -> list[DayResults]:
    saved = {datetime.date.fromisoformat(day): n for day, n in saved_by_day.items() if n}
    opened = dict(ComposerOpenedDay.objects.filter(campaign_id=campaign_id).values_list("day", "count"))
    known = sorted(set(saved) | set(opened))
    if not known:
        return []
    first = max(known[0], known[-1] - datetime.timedelta(days=MAX_DAYS - 1))
    span = (known[-1] - first).days + 1
    days = [first + datetime.timedelta(days=n) for n in range(span)]
    return [DayResults(day, opened.get(day, 0), saved.get(day, 0)) for day in days]


def campaign_results(campaign: Campaign) -> CampaignResults:
    """The campaign's results, from its kept tallies: the same few queries at any size."""
    letters = _letter_tallies(campaign.pk)
    deliveries = _delivery_tallies(campaign.pk)
    saved = letters[LetterTallyKind.SAVED].get("", 0)
    best = deliveries[DeliveryTallyKind.BEST].get("", {})
    reached = [(step, sum(n for level, n in best.items() if level >= step)) for step in LADDER]
    by_channel: dict[str, dict[int, int]] = {channel.value: {} for channel in CHANNEL_ORDER}
    by_channel.update(deliveries[DeliveryTallyKind.CHANNEL])
    by_recipient = {int(key): counts for key, counts in deliveries[DeliveryTallyKind.RECIPIENT].items()}
    names = dict(Recipient.objects.filter(pk__in=list(by_recipient)).values_list("pk", "name"))
    recipients = [RecipientResults(pk, names.get(pk, ""), counts) for pk, counts in by_recipient.items()]
    recipients.sort(key=lambda r: (-r.total, r.name, r.recipient_id))
    countries = sorted(
        ((country, n) for country, n in letters[LetterTallyKind.COUNTRY].items() if n),
        key=lambda row: (-row[1], row[0]),
    )
    words = letters[LetterTallyKind.OWN_WORDS]
    own_words = [(low, min(high, 100), words.get(str(index), 0)) for index, (low, high) in enumerate(OWN_WORDS_BUCKETS)]
    words_sum = letters[LetterTallyKind.OWN_WORDS_SUM].get("", 0)
    days = _days(campaign.pk, letters[LetterTallyKind.DAY])
    return CampaignResults(
        opened=ComposerOpenedDay.objects.filter(campaign_id=campaign.pk).aggregate(n=Sum("count"))["n"] or 0,
        saved=saved,
        reached=reached,
        channels=[
            ChannelResults(Channel(channel), counts)
            for channel, counts in by_channel.items()
            if channel in Channel.values
        ],
        days=days,
        recipients=recipients,
        countries=countries,
        own_words=own_words,
        own_words_mean=words_sum / saved if saved else None,
    )


def letters_by_recipient(campaign_id: int) -> dict[int, int]:
    """Letters of a campaign that reached each recipient: recipient id → letters with at
    least one delivery to that recipient at ``Evidence.SELF_REPORTED`` or above. A letter
    sent to one recipient by two channels counts once. Recipients nobody reached are
    absent. (The coverage board and routing read this.) One query of the kept tallies
    (``DeliveryTallyKind.REACHED``: a letter's best evidence to each recipient), whatever
    the number of letters.
    """
    rows = DeliveryTally.objects.filter(
        campaign_id=campaign_id,
        kind=DeliveryTallyKind.REACHED,
        evidence__gte=Evidence.SELF_REPORTED,
        count__gt=0,
    ).values_list("key", "count")
    out: dict[int, int] = {}
    for key, n in rows:
        out[int(key)] = out.get(int(key), 0) + n
    return out
