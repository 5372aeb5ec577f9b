"""The kept counts of a campaign's letters (``LetterTally``): saved, by the sender's
country, by own-words bucket with the sum for the mean, and by the day they were saved.

Each letter contributes one to a few rows (``contributions``); a write moves the
tallies by the difference between the letter before and after it
(``core.tallies.add_counts``), inside the write's own transaction.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable

from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from undersigned.core.tallies import add_counts, diff

from .models import Letter, LetterTally, LetterTallyKind

# Share of a letter in the supporter's own words (``Letter.uniqueness``, per cent):
# [low, high) buckets; the last one holds 100.
OWN_WORDS_BUCKETS = ((0, 10), (10, 25), (25, 50), (50, 75), (75, 101))

_KEY_FIELDS = ("campaign", "kind", "key")


def own_words_bucket(uniqueness: int) -> int:
    for index, (_, high) in enumerate(OWN_WORDS_BUCKETS):
        if uniqueness < high:
            return index
    return len(OWN_WORDS_BUCKETS) - 1


def saved_day(created_at: datetime.datetime) -> datetime.date:
    """The day a letter was saved, in the site's time zone (as the results page shows days)."""
    return timezone.localdate(created_at)


def contributions(letter: Letter) -> Counter[tuple[int, str, str]]:
    """What one letter adds to its campaign's tallies."""
    campaign = letter.campaign_id
    return Counter(
        {
            (campaign, LetterTallyKind.SAVED.value, ""): 1,
            (campaign, LetterTallyKind.COUNTRY.value, letter.sender_country): 1,
            (campaign, LetterTallyKind.OWN_WORDS.value, str(own_words_bucket(letter.uniqueness))): 1,
            (campaign, LetterTallyKind.OWN_WORDS_SUM.value, ""): letter.uniqueness,
            (campaign, LetterTallyKind.DAY.value, saved_day(letter.created_at).isoformat()): 1,
        }
    )


def count_letters(letters: Iterable[Letter], *, sign: int = 1) -> None:
    """Add (``sign=1``: saved) or take away (``sign=-1``: deleted) letters; call inside their transaction."""
    total: Counter[tuple[int, str, str]] = Counter()
    for letter in letters:
        for key, n in contributions(letter).items():
            total[key] += sign * n
    add_counts(LetterTally, _KEY_FIELDS, total)


def move_letter(before: Letter, after: Letter) -> None:
    """A letter was edited (its country or its own words may have moved); call inside the edit's transaction."""
    add_counts(LetterTally, _KEY_FIELDS, diff(contributions(before), contributions(after)))


def rebuild(campaign_id: int) -> None:
    """Count a campaign's letter tallies again from its rows (a bulk load that wrote letters
    in SQL, a repair): grouped counts in the database, one small row each back. Run inside a
    transaction that holds the campaign's row (``delivery.tallies.rebuild_campaign`` does),
    while nothing else writes its letters."""
    letters = Letter.objects.filter(campaign_id=campaign_id).order_by()
    totals = letters.aggregate(n=Count("id"), words=Sum("uniqueness"))
    rows: Counter[tuple[int, str, str]] = Counter()
    if totals["n"]:
        rows[(campaign_id, LetterTallyKind.SAVED.value, "")] = totals["n"]
        rows[(campaign_id, LetterTallyKind.OWN_WORDS_SUM.value, "")] = totals["words"] or 0
    for country, n in letters.values_list("sender_country").annotate(n=Count("id")):
        rows[(campaign_id, LetterTallyKind.COUNTRY.value, country)] = n
    bucket = Case(
        *[When(uniqueness__lt=high, then=Value(index)) for index, (_, high) in enumerate(OWN_WORDS_BUCKETS)],
        default=Value(len(OWN_WORDS_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    for index, n in letters.annotate(b=bucket).values_list("b").annotate(n=Count("id")):
        rows[(campaign_id, LetterTallyKind.OWN_WORDS.value, str(index))] = n
    for day, n in letters.annotate(day=TruncDate("created_at")).values_list("day").annotate(n=Count("id")):
        rows[(campaign_id, LetterTallyKind.DAY.value, day.isoformat())] = n
    LetterTally.objects.filter(campaign_id=campaign_id).delete()
    add_counts(LetterTally, _KEY_FIELDS, rows)
