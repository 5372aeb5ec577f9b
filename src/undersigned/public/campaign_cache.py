"""What a campaign's public pages show, kept in each web worker between requests.

The campaign page, the composer and every letter POST need the campaign with its
template, organisation and recipients. Loading them through the ORM cost about 4 ms of
CPU per request (bench/README.md), more than the rest of the campaign page. They change
rarely, so each worker keeps them and asks the database, per request, only for the
campaign's own row (``campaigns.queries.campaign_page_stamp``: id, counter,
``updated_at``, status, deadline; about 0.1 ms for PostgreSQL). The kept copy is used
while that stamp matches and reloaded when it does not; edits to the template,
recipients or organisation move the campaign's ``updated_at`` (``campaigns/signals.py``),
so an organiser's edit shows on the next request in every worker. The stamp's SQL is
compiled by the ORM once per process and then run with a plain cursor.

``letters_sent`` changes with every letter, so it is read fresh with the stamp and is
not part of it: the kept copy's own ``campaign.letters_sent`` is stale, use
``CampaignView.letters_sent``.

The kept objects are shared by requests: treat them as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.sanitising import markdown_to_html

MAX_KEPT = 128  # campaigns per worker; the least recently used goes first
_SLUG_MARK = "\x00slug\x00"


@dataclass(frozen=True)
class CampaignSnapshot:
    stamp: tuple[Any, ...]
    campaign: Campaign  # with template and organisation loaded; read-only
    recipients: tuple[Recipient, ...]
    background_html: str


@dataclass(frozen=True)
class DiscussionTeaser:
    """What the campaign page shows of its discussion, read fresh with the stamp."""

    pk: int
    mode: str
    comment_count: int

    @property
    def is_shown(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True)
class CampaignView:
    snapshot: CampaignSnapshot
    letters_sent: int
    discussion: DiscussionTeaser | None = None

    @property
    def campaign(self) -> Campaign:
        return self.snapshot.campaign

    @property
    def recipients(self) -> tuple[Recipient, ...]:
        return self.snapshot.recipients


_ALL: list[KeptCopies[Any]] = []


class KeptCopies[T]:
    """What a worker keeps by slug, each copy with the stamp it was loaded under; the
    least recently used goes first. Also used for open letters (``openletters.letter_cache``)."""

    def __init__(self, limit: int = MAX_KEPT) -> None:
        self._kept: OrderedDict[str, tuple[tuple[Any, ...], T]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; tests and runserver more
        self.limit = limit
        _ALL.append(self)

    def get(self, slug: str, stamp: tuple[Any, ...], load: Callable[[], T | None]) -> T | None:
        """The copy kept under ``stamp``, or a fresh one from ``load`` (None: nothing to show)."""
        with self._lock:
            kept = self._kept.get(slug)
            if kept is not None:
                self._kept.move_to_end(slug)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        fresh = load()
        if fresh is None:
            return None
        with self._lock:
            self._kept[slug] = (stamp, fresh)
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)
        return fresh

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


_kept: KeptCopies[CampaignSnapshot] = KeptCopies()


@cache
def _stamp_sql(make: Callable[[str], QuerySet[Any, Any]], vendor: str) -> tuple[str, tuple[Any, ...], int]:
    sql, params = make(_SLUG_MARK).query.sql_with_params()
    return sql, tuple(params), params.index(_SLUG_MARK)


def stamp_row(make: Callable[[str], QuerySet[Any, Any]], slug: str) -> tuple[Any, ...] | None:
    """The one row ``make(slug)`` selects, by SQL the ORM compiled once per process."""
    sql, params, at = _stamp_sql(make, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params[:at], slug, *params[at + 1 :]))
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def _stamp(slug: str) -> tuple[Any, ...] | None:
    return stamp_row(campaign_queries.campaign_page_stamp, slug)


def _load(slug: str, stamp: tuple[Any, ...]) -> CampaignSnapshot | None:
    campaign = campaign_queries.campaign_for_page(slug)
    if campaign is None:
        return None
    return CampaignSnapshot(
        stamp=stamp,
        campaign=campaign,
        recipients=tuple(campaign_queries.campaign_recipients(campaign)),
        background_html=markdown_to_html(campaign.background),
    )


def campaign_view(slug: str) -> CampaignView | None:
    """The public (live or closed) campaign behind ``slug`` with its live counter, or None."""
    row = _stamp(slug)
    if row is None:
        return None
    letters_sent, stamp = int(row[1]), (row[0], *row[2:5])
    discussion = DiscussionTeaser(int(row[5]), str(row[6]), int(row[7])) if row[5] is not None else None
    snapshot = _kept.get(slug, stamp, lambda: _load(slug, stamp))
    if snapshot is None:
        return None
    return CampaignView(snapshot, letters_sent, discussion)


def forget_all() -> None:
    """Drop every kept campaign and open letter (tests that change data behind ``save()``'s back)."""
    for kept in _ALL:
        kept.clear()
