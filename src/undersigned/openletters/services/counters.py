"""The counters an endorsement's state moves: confirmed and withdrawn per letter, counted
and listed per country, and ``Endorsement.is_listed``.

Every change of an endorsement (confirm, hide, withdraw, restore, sign again) saves it
with ``save_with_counters``, which moves each counter by the difference between the
state before and after (``F()`` updates), so the counters stay right whatever the order
of events; the public pages read them instead of counting rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from undersigned.core.tallies import add_counts
from undersigned.openletters.models import (
    Endorsement,
    EndorsementCountry,
    EndorsementStatus,
    EndorsementTally,
    EndorsementTallyKind,
    OpenLetter,
)


@dataclass(frozen=True)
class State:
    counted: bool
    listed: bool
    withdrawn: bool
    country: str
    # For the results page's tallies (EndorsementTally):
    hidden: bool = False
    pending: bool = False  # waiting for confirmation, not hidden
    confirmed_day: str = ""  # the day it was confirmed (ISO), "" never


NONE = State(
    counted=False, listed=False, withdrawn=False, country=""
)  # no endorsement (before a new one, after a deletion)


def state_of(endorsement: Endorsement) -> State:
    confirmed = endorsement.status == EndorsementStatus.CONFIRMED
    return State(
        counted=confirmed and not endorsement.hidden,
        listed=confirmed and not endorsement.hidden and endorsement.show_publicly,
        withdrawn=endorsement.status == EndorsementStatus.WITHDRAWN,
        country=endorsement.country,
        hidden=endorsement.hidden,
        pending=endorsement.status == EndorsementStatus.PENDING and not endorsement.hidden,
        confirmed_day=timezone.localdate(endorsement.confirmed_at).isoformat() if endorsement.confirmed_at else "",
    )


def _tally(letter_id: int, state: State, sign: int, into: Counter[tuple[int, str, str]]) -> None:
    if state.hidden:
        into[(letter_id, EndorsementTallyKind.HIDDEN.value, "")] += sign
    if state.pending:
        into[(letter_id, EndorsementTallyKind.PENDING.value, "")] += sign
    if state.confirmed_day:
        into[(letter_id, EndorsementTallyKind.CONFIRMED_DAY.value, state.confirmed_day)] += sign


def move_tallies(changes: Iterable[tuple[int, State, State]]) -> None:
    """Move the results' tallies by (letter id, before, after) changes, in one statement."""
    deltas: Counter[tuple[int, str, str]] = Counter()
    for letter_id, before, after in changes:
        _tally(letter_id, before, -1, deltas)
        _tally(letter_id, after, 1, deltas)
    add_counts(EndorsementTally, ("letter", "kind", "key"), deltas)


def move_counters(letter_id: int, before: State, after: State) -> None:
    move_tallies([(letter_id, before, after)])
    verified = int(after.counted) - int(before.counted)
    withdrawn = int(after.withdrawn) - int(before.withdrawn)
    if verified or withdrawn or before.listed or after.listed:
        # updated_at moves too: the letter page's cached part is keyed on it.
        OpenLetter.objects.filter(pk=letter_id).update(
            verified_count=F("verified_count") + verified,
            withdrawn_count=F("withdrawn_count") + withdrawn,
            updated_at=timezone.now(),
        )
    for country, sign, state in ((before.country, -1, before), (after.country, 1, after)):
        if not (state.counted or state.listed):
            continue
        row, _ = EndorsementCountry.objects.get_or_create(letter_id=letter_id, country=country)
        EndorsementCountry.objects.filter(pk=row.pk).update(
            count=F("count") + sign * int(state.counted), listed=F("listed") + sign * int(state.listed)
        )


def save_with_counters(endorsement: Endorsement, before: State) -> None:
    after = state_of(endorsement)
    endorsement.is_listed = after.listed
    endorsement.save()
    move_counters(endorsement.letter_id, before, after)


def rebuild_tallies(letter_id: int) -> None:
    """Count a letter's results tallies again from its endorsements (a bulk load in SQL, a
    repair): grouped counts in the database, while nothing else writes its endorsements."""
    endorsements = Endorsement.objects.filter(letter_id=letter_id).order_by()
    rows: Counter[tuple[int, str, str]] = Counter()
    rows[(letter_id, EndorsementTallyKind.HIDDEN.value, "")] = endorsements.filter(hidden=True).count()
    pending = endorsements.filter(hidden=False, status=EndorsementStatus.PENDING)
    rows[(letter_id, EndorsementTallyKind.PENDING.value, "")] = pending.count()
    days = endorsements.filter(confirmed_at__isnull=False).annotate(day=TruncDate("confirmed_at"))
    for day, n in days.values_list("day").annotate(n=Count("id")):
        rows[(letter_id, EndorsementTallyKind.CONFIRMED_DAY.value, day.isoformat())] = n
    with transaction.atomic():
        OpenLetter.objects.select_for_update().filter(pk=letter_id).values_list("pk", flat=True).first()
        EndorsementTally.objects.filter(letter_id=letter_id).delete()
        add_counts(EndorsementTally, ("letter", "kind", "key"), rows)
