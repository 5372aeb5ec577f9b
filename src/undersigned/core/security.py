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


def keyed_hash(value: str, *, purpose: str) -> str:
    """A keyed hash of a personal value (an email address on a block list) kept only to be
    matched again: keyed like the IP hashes (``UNDERSIGNED_IP_SALT``), with the purpose
    in the message, so a hash made for one purpose matches nothing made for another."""
    return hmac.new(settings.IP_HASH_SALT.encode(), f"{purpose}\n{value}".encode(), hashlib.sha256).hexdigest()


def masked_email(email: str) -> str:
    """A hint a moderator can recognise without the address being kept: ``j•••@e•••.org``."""
    local, _, domain = email.rpartition("@")
    name, dot, tld = domain.rpartition(".")
    if not name:  # no dot in the domain
        name, dot, tld = domain, "", ""
    return f"{local[:1]}•••@{name[:1]}•••{dot}{tld[:10]}"


def hash_ip(ip: str) -> str:
    """A salted, keyed hash: lets us count and rate-limit without keeping the address."""
    if not ip:
        return ""
    return hmac.new(settings.IP_HASH_SALT.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]
