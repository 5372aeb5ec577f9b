"""The counters an endorsement's state moves: confirmed and withdrawn per letter, counted
and listed per country, and ``Endorsement.is_listed``.

Every change of an endorsement (confirm, hide, withdraw, restore, sign again) saves it
with ``save_with_counters``, which moves each counter by the difference between the
state before and after (``F()`` updates), so the counters stay right whatever the order
of events; the public pages read them instead of counting rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from undersigned.openletters.models import (
    Endorsement,
    EndorsementCountry,
    EndorsementStatus,
    OpenLetter,
)


@dataclass(frozen=True)
class State:
    counted: bool
    listed: bool
    withdrawn: bool
    country: str


def state_of(endorsement: Endorsement) -> State:
    confirmed = endorsement.status == EndorsementStatus.CONFIRMED
    return State(
        counted=confirmed and not endorsement.hidden,
        listed=confirmed and not endorsement.hidden and endorsement.show_publicly,
        withdrawn=endorsement.status == EndorsementStatus.WITHDRAWN,
        country=endorsement.country,
    )


def move_counters(letter_id: int, before: State, after: State) -> None:
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
