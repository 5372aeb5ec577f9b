"""Signed links and short codes for confirming and withdrawing endorsements.

A confirmation link carries the endorsement's id and its current ``confirm_nonce``,
signed with a timestamp: a new submission changes the nonce, so an older link stops
working, and the signature's age enforces the expiry even before the row is cleaned up.
The short code a person may type instead is derived from the same nonce with an HMAC,
so nothing secret is stored in plain text and the worker that writes the email can
compute it again.

Withdrawal links never expire: a person must always be able to take their name back.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core import signing

_CONFIRM_SALT = "undersigned.openletters.confirm"
_WITHDRAW_SALT = "undersigned.openletters.withdraw"
# No 0/O or 1/I/L: the code is read from an email and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class LinkInvalid(Exception):
    """Tampered with, cut short, or for another endorsement."""


class LinkExpired(Exception):
    """Genuine, but older than the confirmation window."""


def confirm_window() -> timedelta:
    return timedelta(hours=settings.ENDORSEMENT_CONFIRM_HOURS)


def confirm_token(endorsement_id: int, nonce: str) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign(f"{endorsement_id}.{nonce}")


def read_confirm_token(token: str) -> tuple[int, str]:
    signer = signing.TimestampSigner(salt=_CONFIRM_SALT)
    try:
        value = signer.unsign(token, max_age=confirm_window())
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    return _split(value)


def withdraw_token(endorsement_id: int, secret: str) -> str:
    return signing.Signer(salt=_WITHDRAW_SALT).sign(f"{endorsement_id}.{secret}")


def read_withdraw_token(token: str) -> tuple[int, str]:
    try:
        value = signing.Signer(salt=_WITHDRAW_SALT).unsign(token)
    except signing.BadSignature:
        raise LinkInvalid from None
    return _split(value)


def _split(value: str) -> tuple[int, str]:
    raw_id, _, secret = value.partition(".")
    if not raw_id.isdigit() or not secret:
        raise LinkInvalid
    return int(raw_id), secret


def confirm_code(endorsement_id: int, nonce: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{_CONFIRM_SALT}.code.{endorsement_id}.{nonce}".encode(), hashlib.sha256
    ).digest()
    return "".join(CODE_ALPHABET[byte % len(CODE_ALPHABET)] for byte in digest[:CODE_LENGTH])


def clean_code(typed: str) -> str:
    """What a person typed, as a code: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t")
