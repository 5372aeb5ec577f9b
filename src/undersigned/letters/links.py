"""The supporter's own link to a letter: signed, and valid for a limited time.

The URL carries the letter's random token signed with a timestamp, so a link can be
checked without a database look-up for tampering and expires after
``DRAFT_LINK_MAX_AGE_DAYS``; nobody can guess another supporter's link.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

_SALT = "undersigned.letters.link"


def sign_token(token: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(token)


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def unsign_token(value: str) -> str:
    try:
        return signing.TimestampSigner(salt=_SALT).unsign(
            value, max_age=timedelta(days=settings.DRAFT_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
