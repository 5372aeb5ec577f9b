"""Counting "composer opened" for a campaign's results, without anything of the visitor.

No cookie, no IP address or hash, no third party: each web worker adds one to an
in-memory count per campaign and day when it serves the composer, and writes the counts
to ``ComposerOpenedDay`` (an ``F()`` update) at most every ``FLUSH_SECONDS`` and when
the process exits. The composer (a kept page, ``core/kept_pages.py``) thus costs no
database write per view. A worker killed hard loses at most its last few seconds of
counts; a write that fails keeps the counts for the next one. Counting never fails the
page.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections import Counter

from django.db import DatabaseError
from django.utils import timezone

from . import services

FLUSH_SECONDS = 10.0

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_pending: Counter[tuple[int, datetime.date]] = Counter()
_last_flush = time.monotonic()


def opened(campaign_id: int) -> None:
    """One opening of the campaign's composer, today; written within ``FLUSH_SECONDS``."""
    global _last_flush  # noqa: PLW0603 (one counter per process)
    with _lock:
        _pending[(campaign_id, timezone.localdate())] += 1
        now = time.monotonic()
        if now - _last_flush < FLUSH_SECONDS:
            return
        _last_flush = now
    flush()


def flush() -> None:
    """Write the counts this process holds (also at a web worker's exit: ``wsgi.py``)."""
    with _lock:
        counts = dict(_pending)
        _pending.clear()
    if not counts:
        return
    try:
        services.add_composer_openings(counts=counts)
    except DatabaseError:
        logger.warning("Composer counts not written; kept for the next try", exc_info=True)
        with _lock:
            _pending.update(counts)
