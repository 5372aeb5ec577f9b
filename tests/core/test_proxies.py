"""X-Forwarded-For/-Proto are believed only from UNDERSIGNED_TRUSTED_PROXIES.

tests/test_proxy.py drives the same rules through a real nginx in front of two servers.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from undersigned.core.proxies import parse_networks, resolve_client
from undersigned.core.security import client_ip

PROXIES = parse_networks("10.0.0.0/8, 2001:db8::1 192.0.2.10")


def resolved(peer: str, forwarded: str | None = None, proto: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    if proto is not None:
        meta["HTTP_X_FORWARDED_PROTO"] = proto
    resolve_client(meta, PROXIES)
    return meta


def test_the_variable_takes_addresses_and_networks_of_both_families() -> None:
    assert [str(n) for n in PROXIES] == ["10.0.0.0/8", "2001:db8::1/128", "192.0.2.10/32"]
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match="'proxy' is not an IP address or network"):
        parse_networks("10.0.0.1,proxy")


def test_from_an_untrusted_peer_the_forwarded_headers_are_dropped() -> None:
    meta = resolved("198.51.100.9", "203.0.113.5", "https")
    assert meta == {"REMOTE_ADDR": "198.51.100.9"}


def test_from_a_trusted_proxy_the_client_is_the_right_most_untrusted_address() -> None:
    # The client wrote "1.2.3.4" itself; our proxy appended the address it saw.
    meta = resolved("10.1.2.3", "1.2.3.4, 203.0.113.5", "https")
    assert meta == {"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_PROTO": "https"}


def test_a_chain_of_trusted_proxies_is_walked_through() -> None:
    assert resolved("10.0.0.2", "203.0.113.5, 192.0.2.10, 10.0.0.7")["REMOTE_ADDR"] == "203.0.113.5"
    assert resolved("2001:db8::1", "2001:db8:ffff::42")["REMOTE_ADDR"] == "2001:db8:ffff::42"
    assert resolved("10.0.0.2", "[2001:db8:ffff::42]:51000")["REMOTE_ADDR"] == "2001:db8:ffff::42"
    assert resolved("10.0.0.2", "::ffff:203.0.113.5")["REMOTE_ADDR"] == "203.0.113.5"


def test_when_every_address_is_a_proxy_the_left_most_is_the_client() -> None:
    assert resolved("10.0.0.2", "10.9.9.9, 10.0.0.7")["REMOTE_ADDR"] == "10.9.9.9"


def test_a_trusted_proxy_without_forwarded_for_is_the_client() -> None:
    assert resolved("10.0.0.2")["REMOTE_ADDR"] == "10.0.0.2"


def test_garbage_left_of_the_proxy_s_entry_is_not_believed() -> None:
    assert resolved("10.0.0.2", "not-an-ip, 203.0.113.5")["REMOTE_ADDR"] == "203.0.113.5"
    assert resolved("10.0.0.2", "203.0.113.5, bogus")["REMOTE_ADDR"] == "10.0.0.2"


def echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{client_ip(request)} {request.scheme}")


urlpatterns = [path("echo/", echo)]


@pytest.mark.urls("tests.core.test_proxies")
@override_settings(TRUSTED_PROXIES=parse_networks("192.0.2.10"))
def test_views_see_the_client_and_scheme_only_through_a_trusted_proxy() -> None:
    via_proxy = Client(REMOTE_ADDR="192.0.2.10").get(
        "/echo/", headers={"x-forwarded-for": "203.0.113.5", "x-forwarded-proto": "https"}
    )
    assert via_proxy.content == b"203.0.113.5 https"
    spoofed = Client(REMOTE_ADDR="198.51.100.9").get(
        "/echo/", headers={"x-forwarded-for": "203.0.113.5", "x-forwarded-proto": "https"}
    )
    assert spoofed.content == b"198.51.100.9 http"


@pytest.mark.urls("tests.core.test_proxies")
def test_with_no_trusted_proxy_configured_nobody_is_believed() -> None:
    response = Client(REMOTE_ADDR="127.0.0.1").get(
        "/echo/", headers={"x-forwarded-for": "203.0.113.5", "x-forwarded-proto": "https"}
    )
    assert response.content == b"127.0.0.1 http"
