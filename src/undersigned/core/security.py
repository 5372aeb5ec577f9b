"""IP hashing and other small privacy helpers. Raw IP addresses are never stored."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # Behind trusted proxies core.proxies.TrustedProxyMiddleware has already put the
    # client's address here (UNDERSIGNED_TRUSTED_PROXIES); never read X-Forwarded-For.
    return str(request.META.get("REMOTE_ADDR", ""))


def hash_ip(ip: str) -> str:
    """A salted, keyed hash: lets us count and rate-limit without keeping the address."""
    if not ip:
        return ""
    return hmac.new(settings.IP_HASH_SALT.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]
