"""The platform's own per-letter and per-delivery addresses, and how to read them back.

- ``letters+<letter>-<sig>@<inbound domain>``: the BCC address in a supporter's mailto
  link. When a copy arrives there, we know the letter was really sent, and what it said.
- ``bounces+<delivery>-<sig>@<inbound domain>``: the envelope sender (VERP) of mail the
  platform sends, so a bounce names the delivery it is about.
- ``replies+<delivery>-<sig>@<inbound domain>``: in the Reply-To or Cc of a letter the
  platform sends (the campaign decides), and where a supporter forwards the reply a
  recipient sent them (``replies.record_inbound_reply``): the address names the
  delivery, so the reply needs no guessing of who wrote it.

The signature is a keyed hash: nobody can make up an address that we would accept for
someone else's letter, and the receiver can refuse unknown addresses at RCPT time
without a database look-up.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_SIG_LENGTH = 12
_PATTERN = re.compile(rf"^(letters|bounces|replies)\+(\d{{1,18}})-([0-9a-f]{{{_SIG_LENGTH}}})@(.+)$")


def _signature(kind: str, number: int) -> str:
    key = (settings.SECRET_KEY + ":undersigned.delivery.addresses").encode()
    return hmac.new(key, f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()[:_SIG_LENGTH]


def letter_copy_address(letter_id: int) -> str:
    return f"letters+{letter_id}-{_signature('letters', letter_id)}@{settings.INBOUND_DOMAIN}"


def bounce_address(delivery_id: int) -> str:
    return f"bounces+{delivery_id}-{_signature('bounces', delivery_id)}@{settings.INBOUND_DOMAIN}"


def reply_address(delivery_id: int) -> str:
    return f"replies+{delivery_id}-{_signature('replies', delivery_id)}@{settings.INBOUND_DOMAIN}"


def parse(address: str) -> tuple[str, int] | None:
    """("letters", letter id), ("bounces" or "replies", delivery id) for one of our addresses, else None."""
    match = _PATTERN.match(address.strip().lower())
    if match is None:
        return None
    kind, number, signature, domain = match.group(1), int(match.group(2)), match.group(3), match.group(4)
    if domain != settings.INBOUND_DOMAIN.lower():
        return None
    if not hmac.compare_digest(signature, _signature(kind, number)):
        return None
    return kind, number
