"""Signed links in discussion emails: confirm a first comment, stop reply notifications.

They carry a comment's id signed with our secret, so nobody can confirm or unsubscribe
for someone else, and no email address ever appears in a URL (or a server log).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

_CONFIRM_SALT = "undersigned.discussion.confirm"
_UNSUBSCRIBE_SALT = "undersigned.discussion.unsubscribe"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def confirm_token(comment_id: int) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign(str(comment_id))


def comment_from_confirm_token(token: str) -> int:
    try:
        value = signing.TimestampSigner(salt=_CONFIRM_SALT).unsign(
            token, max_age=timedelta(days=settings.COMMENT_CONFIRM_DAYS)
        )
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    return int(value)


def unsubscribe_token(comment_id: int) -> str:
    # No expiry: an unsubscribe link in an old email must still work.
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign(str(comment_id))


def comment_from_unsubscribe_token(token: str) -> int:
    try:
        return int(signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise LinkInvalid from None
