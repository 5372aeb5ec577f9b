"""The coverage board of a recipient group (pure): which members have been reached,
weighted by their vote, and how long until the group decides.

A campaign's member is reached when a letter reached them
(``delivery.queries.letters_by_recipient``); an open letter's when someone from their
country endorsed it (the kept ``EndorsementCountry`` counts). The board holds counts
only, never who: it is shown on public pages.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.core import countries

SORTS = ("name", "country", "count", "votes")  # ``?sort=`` values; a leading "-" reverses


@dataclass(frozen=True)
class BoardMember:
    recipient_id: int
    name: str
    country: str
    vote_weight: int
    count: int  # letters that reached them, or endorsements from their country

    @property
    def reached(self) -> bool:
        return self.count > 0

    @property
    def country_name(self) -> str:
        return countries.name(self.country) if self.country else ""


@dataclass(frozen=True)
class Board:
    members: tuple[BoardMember, ...]
    decision_date: datetime.date | None
    sort: str  # the order ``members`` are in, one of SORTS, maybe with "-"

    @property
    def total(self) -> int:
        return len(self.members)

    @property
    def reached(self) -> int:
        return sum(1 for m in self.members if m.reached)

    @property
    def votes(self) -> int:
        return sum(m.vote_weight for m in self.members)

    @property
    def reached_votes(self) -> int:
        return sum(m.vote_weight for m in self.members if m.reached)

    @property
    def key(self) -> tuple[object, ...]:
        """What the board shows, for a kept page's key (counts only)."""
        return (self.sort, self.decision_date, tuple((m.recipient_id, m.count, m.vote_weight) for m in self.members))

    def summary(self) -> str:
        """ "31 of 92 sections reached — 34 of 96 votes" """
        members = ngettext(
            "%(reached)d of %(total)d member reached", "%(reached)d of %(total)d members reached", self.total
        ) % {"reached": self.reached, "total": self.total}
        votes = ngettext("%(reached)d of %(total)d vote", "%(reached)d of %(total)d votes", self.votes) % {
            "reached": self.reached_votes,
            "total": self.votes,
        }
        return f"{members} — {votes}"

    def columns(self) -> list[tuple[str, str, str]]:
        """Each sortable column: (key, the link's ``sort`` value, aria-sort value or "")."""
        current, descending = self.sort.lstrip("-"), self.sort.startswith("-")
        columns = []
        for key in SORTS:
            if key == current:
                columns.append((key, key if descending else f"-{key}", "descending" if descending else "ascending"))
            else:
                # Numbers start with the largest, names with A.
                columns.append((key, f"-{key}" if key in ("count", "votes") else key, ""))
        return columns


def clean_sort(raw: str | None) -> str:
    """A ``?sort=`` value as the board knows it; anything else is the default, by name."""
    value = (raw or "").strip()
    return value if value.lstrip("-") in SORTS and value.count("-") <= 1 and len(value) < 12 else "name"


def build_board(
    *,
    members: Iterable[tuple[int, str, str, int]],
    counts: Mapping[int, int],
    decision_date: datetime.date | None,
    sort: str = "name",
) -> Board:
    """``members``: (recipient id, name, country, vote weight); ``counts``: per recipient id."""
    rows = [
        BoardMember(pk, name, country.upper(), weight, int(counts.get(pk, 0))) for pk, name, country, weight in members
    ]
    sort = clean_sort(sort)
    key, descending = sort.lstrip("-"), sort.startswith("-")
    orders = {
        "name": lambda m: (m.name.casefold(), m.recipient_id),
        "country": lambda m: (m.country_name.casefold(), m.name.casefold(), m.recipient_id),
        "count": lambda m: (m.count, m.name.casefold(), m.recipient_id),
        "votes": lambda m: (m.vote_weight, m.name.casefold(), m.recipient_id),
    }
    rows.sort(key=orders[key], reverse=descending)
    return Board(tuple(rows), decision_date, sort)


def endorsement_counts(members: Iterable[tuple[int, str, str, int]], by_country: Mapping[str, int]) -> dict[int, int]:
    """An open letter's count for each member: the endorsements from the member's country."""
    return {pk: int(by_country.get(country.upper(), 0)) for pk, _name, country, _weight in members if country}


def countdown(decision_date: datetime.date | None, today: datetime.date) -> str:
    """ "12 days to the vote on 3 March", "The vote is today, 3 March", "The vote was on 3 March", or ""."""
    if decision_date is None:
        return ""
    day = date_format(decision_date, "j F Y" if decision_date.year != today.year else "j F")
    days = (decision_date - today).days
    if days > 0:
        return ngettext("%(days)d day to the vote on %(day)s", "%(days)d days to the vote on %(day)s", days) % {
            "days": days,
            "day": day,
        }
    if days == 0:
        return _("The vote is today, %(day)s") % {"day": day}
    return _("The vote was on %(day)s") % {"day": day}
