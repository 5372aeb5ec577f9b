"""The test oracle for the kept tallies: every tally counted again from the rows, by
grouped queries, and the kept rows read the same way, so a test compares two dicts.

Written once, independently of ``letters/tallies.py``, ``delivery/tallies.py`` and
``openletters/services/counters.py`` (whose job is never to count like this)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Case, Count, IntegerField, Max, Min, Sum, Value, When
from django.db.models.functions import TruncDate

from undersigned.delivery.models import Delivery, DeliveryTally, Reply
from undersigned.letters.models import Letter, LetterTally
from undersigned.letters.tallies import OWN_WORDS_BUCKETS
from undersigned.openletters.models import Endorsement, EndorsementStatus, EndorsementTally

Tallies = dict[tuple[Any, ...], int]


def _no_zeros(counts: dict[tuple[Any, ...], int]) -> Tallies:
    return {key: n for key, n in counts.items() if n}


def recount_campaign(campaign_id: int) -> Tallies:
    letters = Letter.objects.filter(campaign_id=campaign_id).order_by()
    out: Counter[tuple[Any, ...]] = Counter()
    out[("saved", "")] = letters.count()
    out[("words_sum", "")] = letters.aggregate(n=Sum("uniqueness"))["n"] or 0
    for country, n in letters.values_list("sender_country").annotate(n=Count("id")):
        out[("country", country)] = n
    bucket = Case(
        *[When(uniqueness__lt=high, then=Value(index)) for index, (_, high) in enumerate(OWN_WORDS_BUCKETS)],
        default=Value(len(OWN_WORDS_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    for index, n in letters.annotate(b=bucket).values_list("b").annotate(n=Count("id")):
        out[("own_words", str(index))] = n
    for day, n in letters.annotate(day=TruncDate("created_at")).values_list("day").annotate(n=Count("id")):
        out[("day", day.isoformat())] = n
    deliveries = Delivery.objects.filter(letter__campaign_id=campaign_id).order_by()
    for channel, evidence, n in deliveries.values_list("channel", "evidence").annotate(n=Count("id")):
        out[("channel", channel, evidence)] = n
    for recipient, evidence, n in deliveries.values_list("recipient_id", "evidence").annotate(n=Count("id")):
        out[("recipient", str(recipient), evidence)] = n
    best = deliveries.values_list("letter_id").annotate(best=Max("evidence"))  # a row per letter with deliveries
    for _, level in best:
        out[("best", "", level)] += 1
    reached = deliveries.values_list("letter_id", "recipient_id").annotate(best=Max("evidence"))
    for _, recipient, level in reached:
        out[("reached", str(recipient), level)] += 1
    # Answered letters by recipient and whole days from the letter's sending to the first reply.
    first = (
        Reply.objects.filter(letter__campaign_id=campaign_id, letter__sent_at__isnull=False)
        .values_list("letter_id", "recipient_id", "letter__sent_at")
        .annotate(first=Min("received_at"))
        .order_by()
    )
    for _, recipient, sent_at, received_at in first:
        days = min(max(0, (received_at - sent_at).days), 999)
        out[("reply_days", f"{recipient}:{days}", 40)] += 1  # evidence: reply received
    return _no_zeros(out)


def kept_campaign(campaign_id: int) -> Tallies:
    out: Counter[tuple[Any, ...]] = Counter()
    for kind, key, n in LetterTally.objects.filter(campaign_id=campaign_id).values_list("kind", "key", "count"):
        out[(kind, key)] = n
    rows = DeliveryTally.objects.filter(campaign_id=campaign_id).values_list("kind", "key", "evidence", "count")
    for kind, key, evidence, n in rows:
        out[(kind, key, evidence)] = n
    return _no_zeros(out)


def recount_letters_by_recipient(campaign_id: int) -> dict[int, int]:
    """The contract of ``delivery.queries.letters_by_recipient``, counted from the rows."""
    rows = (
        Delivery.objects.filter(letter__campaign_id=campaign_id, evidence__gte=10)
        .values_list("recipient_id")
        .annotate(n=Count("letter_id", distinct=True))
        .order_by()
    )
    return dict(rows)


def recount_open_letter(letter_id: int) -> Tallies:
    endorsements = Endorsement.objects.filter(letter_id=letter_id).order_by()
    out: Counter[tuple[Any, ...]] = Counter()
    out[("hidden", "")] = endorsements.filter(hidden=True).count()
    out[("pending", "")] = endorsements.filter(hidden=False, status=EndorsementStatus.PENDING).count()
    days = endorsements.filter(confirmed_at__isnull=False).annotate(day=TruncDate("confirmed_at"))
    for day, n in days.values_list("day").annotate(n=Count("id")):
        out[("day", day.isoformat())] = n
    return _no_zeros(out)


def kept_open_letter(letter_id: int) -> Tallies:
    rows = EndorsementTally.objects.filter(letter_id=letter_id).values_list("kind", "key", "count")
    return _no_zeros({(kind, key): n for kind, key, n in rows})
