"""Who the client is when requests come through our own reverse proxies.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are headers anyone can send. They are
believed only when the direct peer is one of ``UNDERSIGNED_TRUSTED_PROXIES``
(addresses or networks, IPv4 and IPv6); from any other peer they are removed before
any view, Django's ``SECURE_PROXY_SSL_HEADER`` check or a rate limit sees them.

Behind trusted proxies the client is the right-most address in ``X-Forwarded-For``
that is not itself a trusted proxy: each proxy appends the peer it saw, so everything
left of that address was written by the client and may be made up. The middleware puts
that address into ``REMOTE_ADDR``, so rate limits, IP hashes and any library that reads
``REMOTE_ADDR`` count the real client, not the proxy.

This module is imported by ``settings`` (to parse the variable), so its top level uses
nothing that needs settings.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network
type Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Headers only a trusted proxy may set; removed from requests of every other peer.
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


def parse_networks(raw: str) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16 ::1"`` as networks; ValueError names a bad item."""
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


def _address(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:443"
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen by a dual-stack proxy (::ffff:203.0.113.7) is that IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, networks: Iterable[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve_client(meta: MutableMapping[str, Any], networks: tuple[Network, ...]) -> None:
    """Set ``meta["REMOTE_ADDR"]`` to the client's address; drop forwarded headers we don't believe."""
    if not _trusted(_address(str(meta.get("REMOTE_ADDR", ""))), networks):
        for header in FORWARDED_HEADERS:
            meta.pop(header, None)
        return
    client = str(meta["REMOTE_ADDR"])
    # Several X-Forwarded-For headers arrive joined with commas; read from the right.
    for item in reversed(str(meta.pop("HTTP_X_FORWARDED_FOR", "")).split(",")):
        if not item.strip():
            continue
        address = _address(item)
        if address is None:
            # Only the client can have written this (each proxy appends a real address),
            # and the proxy to its right already told us who that client is.
            break
        client = str(address)
        if not _trusted(address, networks):
            break
    meta["REMOTE_ADDR"] = client


class TrustedProxyMiddleware:
    """First in ``MIDDLEWARE``: everything after it sees the client, not the proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks: tuple[Network, ...] = settings.TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        resolve_client(request.META, self.networks)
        return self.get_response(request)
