"""The signed link in an invitation email.

The token carries the invitation's id and its current nonce, signed with the secret key
(``django.core.signing``): nobody can make one without the key, and sending the
invitation again changes the nonce, so only the newest email's link works. Whether the
invitation is still open (not expired, revoked or used) is the row's to say, so the
page can tell a person which it is.
"""

from __future__ import annotations

from django.core import signing

_SALT = "undersigned.organisations.invitation"


class LinkInvalid(Exception):
    """Tampered with, cut short, or not an invitation link."""


def invitation_token(invitation_id: int, nonce: str) -> str:
    return signing.Signer(salt=_SALT).sign(f"{invitation_id}.{nonce}")


def read_invitation_token(token: str) -> tuple[int, str]:
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        raise LinkInvalid from None
    number, _, nonce = value.partition(".")
    if not number.isdigit() or not nonce:
        raise LinkInvalid
    return int(number), nonce
