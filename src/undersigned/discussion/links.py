"""Signed links in discussion emails: confirm a first comment, stop reply notifications.

They carry a comment's id signed with our secret, so nobody can confirm or unsubscribe
for someone else, and no email address ever appears in a URL (or a server log).

Also the browser cookie set when an address confirms a comment: it holds a keyed hash of
the mailbox identity (never the address), signed, so a later comment with that address
from the same browser is published at once and one typed elsewhere is confirmed again.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from undersigned.core.emails import mailbox_identity
from undersigned.core.security import keyed_hash

_CONFIRM_SALT = "undersigned.discussion.confirm"
_UNSUBSCRIBE_SALT = "undersigned.discussion.unsubscribe"
_BROWSER_HASH_SALT = "undersigned.discussion.browser-mailbox"
_BLOCK_PURPOSE = "undersigned.discussion.block-email"
BROWSER_COOKIE = "comment_browser"
BROWSER_COOKIE_SALT = "undersigned.discussion.browser-cookie"
BROWSER_COOKIE_DAYS = 365


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


# A browser shared by a household, or a person with two addresses: a few mailboxes.
BROWSER_MARKS_KEPT = 5


def browser_mark(email_key: str) -> str:
    """What the browser cookie holds for a mailbox: a keyed hash, useless without our secret."""
    return salted_hmac(_BROWSER_HASH_SALT, email_key, algorithm="sha256").hexdigest()


def browser_knows(cookie_value: str | None, email_key: str) -> bool:
    """Whether an (already unsigned) cookie value was set for this mailbox."""
    wanted = browser_mark(email_key)
    return any(constant_time_compare(mark, wanted) for mark in str(cookie_value or "").split(":"))


def browser_remember(cookie_value: str | None, email_key: str) -> str:
    """The cookie's new value once this mailbox confirmed: newest first, the oldest dropped."""
    wanted = browser_mark(email_key)
    kept = [mark for mark in str(cookie_value or "").split(":") if mark and mark != wanted]
    return ":".join([wanted, *kept][:BROWSER_MARKS_KEPT])


def blocked_email_hash(email: str) -> str:
    """What a block by email address keeps (``Block.value``): a keyed hash of the mailbox
    identity, never the address. Every spelling of one mailbox gives the same hash."""
    return keyed_hash(mailbox_identity(email), purpose=_BLOCK_PURPOSE)
