"""RFC 6238 time-based one-time passwords, written out for the tests (HMAC-SHA1, 6 digits, 30 s).

Tests compute the code an authenticator app would show from the secret allauth shows
when two-factor is set up, so the sign-in is checked end to end without mocking allauth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

PERIOD = 30
DIGITS = 6


def hotp(secret_base32: str, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: the HMAC of the counter, dynamically truncated to ``digits`` decimal digits."""
    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def totp(secret_base32: str, at: float | None = None, period: int = PERIOD) -> str:
    """RFC 6238: HOTP with the number of ``period``-second steps since the Unix epoch as counter."""
    return hotp(secret_base32, int((time.time() if at is None else at) // period))
