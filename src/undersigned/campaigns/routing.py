"""Whom a supporter's letter goes to in a campaign addressed to a recipient group (pure).

The campaign's ``routing`` rule (``enums.Routing``) and the supporter's country decide:

- ``EVERY``: every recipient of the campaign, as campaigns without a group do.
- ``OWN_COUNTRY``: the member of the supporter's country. Several members of one
  country are offered as a choice; a country without one offers every member.
- ``OWN_OR_UNREACHED``: the same, but when the country has no member or its members
  are *well covered*, the supporter is offered members nobody has reached yet (the
  heaviest votes first), and may still pick their own.

"Well covered" (``well_covered_level``): a member with at least the organiser's
threshold of letters; without a threshold (0), at least twice the median member's
letters and at least one. So while most members have no letter yet, any member with a
letter is well covered and supporters spread out to the unreached; once every member
has some, only those far ahead of the middle are.

Plain data in, plain data out: the composer reads the members (kept with the campaign)
and the letters that reached each (``delivery.queries.letters_by_recipient``) and asks
``route``; the same answer checks what the form posts, so a recipient the rule does
not offer is refused.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from .enums import Routing

SUGGESTIONS = 5  # unreached members offered at once: a choice people can take in


@dataclass(frozen=True)
class Member:
    recipient_id: int
    name: str
    country: str  # ISO code, upper case, or ""
    vote_weight: int = 1


class Why(StrEnum):
    EVERY = "every"  # the rule sends to every member
    NO_COUNTRY = "no_country"  # the supporter has not said where they live yet
    OWN = "own"  # the member(s) of the supporter's country
    NO_MEMBER = "no_member"  # the country has no member: others are offered
    WELL_COVERED = "well_covered"  # the country's member is well covered: unreached ones are offered


@dataclass(frozen=True)
class Route:
    why: Why
    choices: tuple[Member, ...] = ()  # whom the supporter may pick, the first picked unless they choose
    own: tuple[Member, ...] = ()  # the members of the supporter's country

    @property
    def every(self) -> bool:
        return self.why == Why.EVERY

    @property
    def needs_choice(self) -> bool:
        """Whether the supporter picks (more than one choice); with one it is decided."""
        return len(self.choices) > 1

    def allows(self, recipient_id: int) -> bool:
        return any(member.recipient_id == recipient_id for member in self.choices)


def well_covered_level(counts: Iterable[int], threshold: int) -> int:
    """Letters from which a member is well covered: the threshold, or twice the median (at least 1)."""
    if threshold > 0:
        return threshold
    values = list(counts)
    median = statistics.median(values) if values else 0
    return max(1, int(2 * median))


def _heaviest_first(members: Iterable[Member]) -> list[Member]:
    return sorted(members, key=lambda m: (-m.vote_weight, m.name.casefold(), m.recipient_id))


def route(
    *,
    rule: Routing | str,
    members: Iterable[Member],
    reached: Mapping[int, int],
    country: str,
    well_covered_at: int = 0,
) -> Route:
    """Whom a letter from ``country`` goes to under ``rule``; ``reached``: letters per recipient id."""
    if rule == Routing.EVERY:
        return Route(Why.EVERY)
    everyone = list(members)
    country = country.strip().upper()
    if not country:
        return Route(Why.NO_COUNTRY)
    own = tuple(_heaviest_first(m for m in everyone if m.country.upper() == country))
    if rule == Routing.OWN_COUNTRY:
        if own:
            return Route(Why.OWN, own, own)
        by_name = sorted(everyone, key=lambda m: (m.name.casefold(), m.recipient_id))
        return Route(Why.NO_MEMBER, tuple(by_name), own)
    level = well_covered_level((reached.get(m.recipient_id, 0) for m in everyone), well_covered_at)
    if own and any(reached.get(m.recipient_id, 0) < level for m in own):
        return Route(Why.OWN, own, own)
    others = [m for m in everyone if m not in own]
    # Nobody's first, heaviest votes first; when every other member has been reached,
    # the least reached of those below the level.
    unreached = _heaviest_first(m for m in others if reached.get(m.recipient_id, 0) == 0)
    if not unreached:
        below = (m for m in others if reached.get(m.recipient_id, 0) < level)
        unreached = sorted(below, key=lambda m: (reached.get(m.recipient_id, 0), -m.vote_weight, m.name.casefold()))
    suggested = unreached[:SUGGESTIONS]
    choices = (*suggested, *own)
    if not choices:  # nobody below the level anywhere: every member may be chosen
        choices = tuple(sorted(everyone, key=lambda m: (m.name.casefold(), m.recipient_id)))
    return Route(Why.WELL_COVERED if own else Why.NO_MEMBER, tuple(choices), own)
