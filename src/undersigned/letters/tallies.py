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
