"""Open letters kept in each web worker between requests, as campaigns are
(``campaign_cache.py``), with ``core.kept_copies``.

Every request to a letter's pages first loaded the letter with its organisation,
current version, recipient group and campaign through the ORM, the largest part of the
CPU of the letter page and of the endorsement form (see docs/performance.md). Now
each request reads only the stamp (``queries.letter_page_stamp``, one row by an index)
and the kept copy is used while the stamp is the same.

The kept letters are shared by requests: treat them as read-only.
"""

from __future__ import annotations

from typing import Any

from undersigned.core.kept_copies import KeptCopies, stamp_row
from undersigned.openletters import queries
from undersigned.openletters.models import OpenLetter

_kept: KeptCopies[OpenLetter] = KeptCopies()


def letter_and_stamp(slug: str) -> tuple[OpenLetter, tuple[Any, ...]] | None:
    """The published or closed letter behind ``slug`` and its stamp, or None."""
    stamp = stamp_row(queries.letter_page_stamp, slug)
    if stamp is None:
        return None
    letter = _kept.get(slug, stamp, lambda: queries.letter_for_page(slug))
    return (letter, stamp) if letter is not None else None
