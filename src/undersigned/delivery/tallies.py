"""The kept counts of a campaign's deliveries (``DeliveryTally``): deliveries by channel
and by recipient at each evidence level, letters at their best evidence (the results'
funnel) and letters by recipient at their best evidence to that recipient (what
``queries.letters_by_recipient`` answers).

A letter's share of these depends on all of its deliveries together (its best
evidence), and a delivery may also step down (a bounce). So every write to a letter's
deliveries runs inside ``tallying``: it locks the letters' rows (``SELECT … FOR UPDATE``,
in id order), reads their few deliveries, lets the write happen, reads them again and
adds the difference (``core.tallies.add_counts``), all in one transaction. Writers of
the same letter queue on its row, so none of them moves the tallies from a state
another is changing; writers of different letters only meet at the tally rows, where
the database adds. A write that changes nothing adds nothing.

Every path that creates, moves the evidence of or deletes a delivery goes through
here: ``services`` (recorded, requested post, verified copy, bounce, posted print,
deleted letters), ``sending`` (the email engine's mark sent) and ``digests``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from undersigned.campaigns.models import Campaign
from undersigned.core.tallies import add_counts, diff
from undersigned.letters import tallies as letter_tallies
from undersigned.letters.models import Letter

from .models import Delivery, DeliveryTally, DeliveryTallyKind

_KEY_FIELDS = ("campaign", "kind", "key", "evidence")
Key = tuple[int, str, str, int]
Row = tuple[int, str, int]  # recipient id, channel, evidence


def contributions(campaign_id: int, rows: Iterable[Row]) -> Counter[Key]:
    """What one letter with these deliveries adds to its campaign's tallies."""
    out: Counter[Key] = Counter()
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


def _snapshot(campaigns: dict[int, int]) -> Counter[Key]:
    rows: dict[int, list[Row]] = {letter_id: [] for letter_id in campaigns}
    found = (
        Delivery.objects.filter(letter_id__in=list(campaigns))
        .order_by()
        .values_list("letter_id", "recipient_id", "channel", "evidence")
    )
    for letter_id, recipient_id, channel, evidence in found:
        rows[letter_id].append((recipient_id, channel, evidence))
    total: Counter[Key] = Counter()
    for letter_id, letter_rows in rows.items():
        total.update(contributions(campaigns[letter_id], letter_rows))
    return total


@contextmanager
def tallying(letter_ids: Iterable[int | None]) -> Iterator[None]:
    """Run the block (a write to these letters' deliveries) in a transaction that moves the tallies with it.

    Letters that do not exist (deleted meanwhile) are left out; their deliveries are gone with them.
    A delivery without a letter (a section's hand-in pack, ``Delivery.hand_in_pack``) is in
    no campaign's tallies: its ``None`` is left out too.
    """
    ids = sorted({pk for pk in letter_ids if pk is not None})
    with transaction.atomic():
        campaigns = dict(
            Letter.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "campaign_id")
        )
        before = _snapshot(campaigns)
        yield
        after = _snapshot(campaigns)
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
        DeliveryTally.objects.filter(campaign_id=campaign_id).delete()
        add_counts(DeliveryTally, _KEY_FIELDS, rows)
