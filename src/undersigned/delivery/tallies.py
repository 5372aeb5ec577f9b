"""The kept counts of a campaign's deliveries (``DeliveryTally``): deliveries by channel
and by recipient at each evidence level, letters at their best evidence (the results'
funnel), letters by recipient at their best evidence to that recipient (what
``queries.letters_by_recipient`` answers) and answered letters by recipient and days to
their first reply (``REPLY_DAYS``: what ``replies.responsiveness`` takes the median days
from, so no page reads the replies to show it).

A letter's share of these depends on all of its deliveries together (its best
evidence), and a delivery may also step down (a bounce). So every write to a letter's
deliveries runs inside ``tallying``: it locks the letters' rows (``SELECT … FOR UPDATE``,
in id order), reads their few deliveries, lets the write happen, reads them again and
adds the difference (``core.tallies.add_counts``), all in one transaction. Writers of
the same letter queue on its row, so none of them moves the tallies from a state
another is changing; writers of different letters only meet at the tally rows, where
the database adds. A write that changes nothing adds nothing.

Every path that creates, moves the evidence of or deletes a delivery, or creates or
deletes a reply, goes through here: ``services`` (recorded, requested post, verified
copy, bounce, posted print, deleted letters), ``sending`` (the email engine's mark
sent), ``digests`` and ``replies`` (a reply recorded or erased).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from django.db import connection, transaction

from undersigned.campaigns.models import Campaign
from undersigned.core.tallies import add_counts, diff
from undersigned.letters import tallies as letter_tallies
from undersigned.letters.models import Letter

from .models import Delivery, DeliveryTally, DeliveryTallyKind, Evidence, Reply

_KEY_FIELDS = ("campaign", "kind", "key", "evidence")
Key = tuple[int, str, str, int]
Row = tuple[int, str, int]  # recipient id, channel, evidence
# Days to a reply are counted up to this; a later reply counts as this many days.
REPLY_DAYS_MAX = 999


def reply_days(sent_at: datetime | None, received_at: datetime) -> int | None:
    """Whole days from a letter's sending to a reply (None: the letter has no sending time)."""
    if sent_at is None:
        return None
    return min(max(0, int((received_at - sent_at).total_seconds() // 86400)), REPLY_DAYS_MAX)


def reply_days_key(recipient_id: int, days: int) -> str:
    return f"{recipient_id}:{days}"


def contributions(campaign_id: int, rows: Iterable[Row], replied: Mapping[int, int] | None = None) -> Counter[Key]:
    """What one letter with these deliveries adds to its campaign's tallies; ``replied``:
    recipient id → whole days to their first reply to it."""
    out: Counter[Key] = Counter()
    for recipient_id, days in (replied or {}).items():
        out[
            (
                campaign_id,
                DeliveryTallyKind.REPLY_DAYS.value,
                reply_days_key(recipient_id, days),
                Evidence.REPLY_RECEIVED,
            )
        ] += 1
    best: int | None = None
    reached: dict[int, int] = {}
    for recipient_id, channel, evidence in rows:
        out[(campaign_id, DeliveryTallyKind.CHANNEL.value, channel, evidence)] += 1
        out[(campaign_id, DeliveryTallyKind.RECIPIENT.value, str(recipient_id), evidence)] += 1
        best = evidence if best is None else max(best, evidence)
        reached[recipient_id] = max(reached.get(recipient_id, evidence), evidence)
    if best is not None:
        out[(campaign_id, DeliveryTallyKind.BEST.value, "", best)] += 1
    for recipient_id, evidence in reached.items():
        out[(campaign_id, DeliveryTallyKind.REACHED.value, str(recipient_id), evidence)] += 1
    return out


def _snapshot(campaigns: dict[int, int], *, with_replies: bool) -> Counter[Key]:
    rows: dict[int, list[Row]] = {letter_id: [] for letter_id in campaigns}
    found = (
        Delivery.objects.filter(letter_id__in=list(campaigns))
        .order_by()
        .values_list("letter_id", "recipient_id", "channel", "evidence")
    )
    for letter_id, recipient_id, channel, evidence in found:
        rows[letter_id].append((recipient_id, channel, evidence))
    replied = _first_replies(list(campaigns)) if with_replies else {}
    total: Counter[Key] = Counter()
    for letter_id, letter_rows in rows.items():
        total.update(contributions(campaigns[letter_id], letter_rows, replied.get(letter_id)))
    return total


def _first_replies(letter_ids: list[int]) -> dict[int, dict[int, int]]:
    """letter id → recipient id → whole days to that recipient's first reply (the few
    replies of these letters; one query)."""
    out: dict[int, dict[int, int]] = {}
    if not letter_ids:
        return out
    found = (
        Reply.objects.filter(letter_id__in=letter_ids)
        .order_by()
        .values_list("letter_id", "recipient_id", "received_at", "letter__sent_at")
    )
    for letter_id, recipient_id, received_at, sent_at in found:
        days = reply_days(sent_at, received_at)
        if days is None:
            continue
        letter = out.setdefault(letter_id, {})
        letter[recipient_id] = min(days, letter.get(recipient_id, days))
    return out


@contextmanager
def tallying(letter_ids: Iterable[int | None], *, replies: bool = False) -> Iterator[None]:
    """Run the block (a write to these letters' deliveries) in a transaction that moves the tallies with it.

    ``replies``: the block may also create or delete replies (a reply recorded or erased,
    letters deleted), so the days-to-reply tally is moved too; without it the replies are
    not read (the email engine's marks stay three small reads each) and that tally stays.

    Letters that do not exist (deleted meanwhile) are left out; their deliveries are gone with them.
    A delivery without a letter (a section's hand-in pack, ``Delivery.hand_in_pack``) is in
    no campaign's tallies: its ``None`` is left out too.
    """
    ids = sorted({pk for pk in letter_ids if pk is not None})
    with transaction.atomic():
        campaigns = dict(
            Letter.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "campaign_id")
        )
        before = _snapshot(campaigns, with_replies=replies)
        yield
        after = _snapshot(campaigns, with_replies=replies)
        add_counts(DeliveryTally, _KEY_FIELDS, diff(before, after))


# (kind, SELECT of (key, evidence, count) for one campaign): grouped in the database.
_REBUILD = {
    DeliveryTallyKind.CHANNEL: "SELECT d.channel, d.evidence, COUNT(*) FROM {d} d JOIN {l} l ON l.id = d.letter_id "
    "WHERE l.campaign_id = %s GROUP BY d.channel, d.evidence",
    DeliveryTallyKind.RECIPIENT: "SELECT d.recipient_id, d.evidence, COUNT(*) FROM {d} d "
    "JOIN {l} l ON l.id = d.letter_id WHERE l.campaign_id = %s GROUP BY d.recipient_id, d.evidence",
    DeliveryTallyKind.BEST: "SELECT '', m.best, COUNT(*) FROM (SELECT d.letter_id, MAX(d.evidence) AS best "
    "FROM {d} d JOIN {l} l ON l.id = d.letter_id WHERE l.campaign_id = %s GROUP BY d.letter_id) m GROUP BY m.best",
    DeliveryTallyKind.REACHED: "SELECT m.recipient_id, m.best, COUNT(*) FROM (SELECT d.letter_id, d.recipient_id, "
    "MAX(d.evidence) AS best FROM {d} d JOIN {l} l ON l.id = d.letter_id WHERE l.campaign_id = %s "
    "GROUP BY d.letter_id, d.recipient_id) m GROUP BY m.recipient_id, m.best",
}


def rebuild_campaign(campaign_id: int) -> None:
    """Count all of a campaign's tallies (letters and deliveries) again from its rows.

    For what bypasses the services on purpose: a bulk load in SQL (the benchmarks), a
    repair. It holds the campaign's row for the whole count; writers of its letters must
    be stopped meanwhile (the services do not take that row), or their moves made during
    the count would be lost with the rows it replaces.
    """
    quote = connection.ops.quote_name
    tables = {"d": quote(Delivery._meta.db_table), "l": quote(Letter._meta.db_table)}
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign_id).values_list("pk", flat=True).first()
        letter_tallies.rebuild(campaign_id)
        rows: Counter[Key] = Counter()
        for kind, sql in _REBUILD.items():
            with connection.cursor() as cursor:
                cursor.execute(sql.format(**tables), [campaign_id])
                for key, evidence, n in cursor.fetchall():
                    rows[(campaign_id, kind.value, str(key), evidence)] = n
        # Days to a reply: from the replies (few; the date arithmetic differs between databases).
        letter_ids = list(Reply.objects.filter(letter__campaign_id=campaign_id).values_list("letter_id", flat=True))
        for replied in _first_replies(sorted(set(letter_ids))).values():
            rows.update(contributions(campaign_id, [], replied))
        DeliveryTally.objects.filter(campaign_id=campaign_id).delete()
        add_counts(DeliveryTally, _KEY_FIELDS, rows)
