"""Copies of rarely changing objects kept in each web worker, checked per request by a stamp.

A public page needs its campaign or open letter with everything around it (template,
organisation, recipients, current version). Loading that through the ORM cost more CPU
per request than the rest of the page (docs/performance.md), and it changes rarely. So each
worker keeps the loaded objects by slug, and per request asks the database only for a
small stamp row (``stamp_row``: one indexed row, its SQL compiled by the ORM once per
process and run with a plain cursor). The kept copy is used while the stamp matches and
loaded again when it does not.

What breaks if you change it: the stamp must move whenever anything the kept copy holds
changes (``campaigns/signals.py`` moves ``Campaign.updated_at``; a ``QuerySet.update()``
bypasses signals and must touch the owner itself; see docs/invariants.md). Kept
objects are shared by requests: treat them as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

MAX_KEPT = 128  # objects per worker and kind; the least recently used goes first
_SLUG_MARK = "\x00slug\x00"


class KeptCopies[T]:
    """What a worker keeps by slug, each copy with the stamp it was loaded under; the
    least recently used goes first. Used for campaigns and open letters."""

    def __init__(self, limit: int = MAX_KEPT) -> None:
        self._kept: OrderedDict[str, tuple[tuple[Any, ...], T]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; tests and runserver more
        self.limit = limit

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
