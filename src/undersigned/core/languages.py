"""The language a person used on the site, and the language an email to them is written in.

A supporter, endorser or commenter is written to in the language the site spoke to them
when they wrote (``Letter.language``, ``Endorsement.language``, ``Comment.language``,
recorded with ``active_language``); a recipient in the letter's language (the
campaign's). ``email_language`` picks the first of these that is known, and the site's
default otherwise, for ``translation.override``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

# The longest language code we keep (e.g. "zh-hant-tw"); the model fields share it.
LANGUAGE_MAX_LENGTH = 16


def active_language() -> str:
    """The language of the page being answered ("" outside a request with none active)."""
    return (translation.get_language() or "")[:LANGUAGE_MAX_LENGTH]


def email_language(*preferred: str | None) -> str:
    """The first language of ``preferred`` that is set, else the site's default."""
    return next((language for language in preferred if language), settings.LANGUAGE_CODE)
