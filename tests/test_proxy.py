"""A real nginx in front of two `undersigned serve` processes sharing PostgreSQL and Redis.

nginx connects to the servers from 127.0.0.2, the only trusted proxy; the test's own
requests come from 127.0.0.1 (or 127.0.0.3, "another person"). So on one machine:

- one person's burst is limited across both servers (the count is in Redis);
- an X-Forwarded-For they make up, through nginx or straight to a server, is ignored;
- the address nginx forwards is believed: another person is not limited.

Also: a shared page is served from nginx's cache, and a signed-in visitor bypasses it.
Skipped on SQLite (two servers need a database server), and outside CI when nginx or
Redis is missing; in CI those fail.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from django.db import connection

from tests.conftest import database_url
from undersigned.campaigns.models import Campaign
from undersigned.testing.nginx import Nginx, config, free_port, nginx_binary

REDIS_URL = "redis://127.0.0.1:6379/6"
BURST_LIMIT = 5
pytestmark = pytest.mark.django_db(transaction=True)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _missing(what: str) -> None:
    if _in_ci():
        pytest.fail(f"{what} (CI installs it: .ci/run)")
    pytest.skip(what)


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:
        return False


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def request(
    port: int,
    path: str,
    *,
    source: str = "127.0.0.1",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        body = urlencode(form) if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode())
    finally:
        conn.close()


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "a server stopped while starting"
        try:
            if request(port, "/health/ready").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server on {port} was not ready in time")


@dataclass
class Stack:
    nginx: int
    servers: list[int]


@pytest.fixture
def stack(tmp_path: Path, campaign: Any) -> Iterator[Stack]:
    if connection.vendor != "postgresql":
        pytest.skip("two servers share a database server: run with DATABASE_URL=postgres://…")
    if nginx_binary() is None:
        _missing("nginx is not installed (apt-get install nginx)")
    if not _redis_answers():
        _missing(f"Redis does not answer at {REDIS_URL}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "UNDERSIGNED_CACHE_URL": REDIS_URL,
        "UNDERSIGNED_TRUSTED_PROXIES": "127.0.0.2",
        # A salt of this run's own: no count of an earlier run is met in Redis.
        "UNDERSIGNED_IP_SALT": secrets.token_hex(16),
        "UNDERSIGNED_RATE_LIMITS": f"compose={BURST_LIMIT}/10m",
    }
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "undersigned.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    nginx: Nginx | None = None
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_ready(port, server)
        nginx_port = free_port()
        conf = config(
            tmp_path / "nginx", port=nginx_port, upstreams=[f"127.0.0.1:{p}" for p in ports], proxy_source="127.0.0.2"
        )
        nginx = Nginx(tmp_path / "nginx", conf, nginx_port)
        yield Stack(nginx_port, ports)
    finally:
        if nginx is not None:
            nginx.stop()
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass
class Writer:
    """A person at ``source`` with the composer's CSRF cookie and token."""

    source: str
    cookie: str
    token: str


def writer(port: int, campaign: Any, source: str = "127.0.0.1") -> Writer:
    page = request(port, f"/c/{campaign.slug}/write/", source=source)
    assert page.status == 200, page.body[:500]
    cookie = re.search(r"csrftoken=([^;]+)", page.headers["set-cookie"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert cookie
    assert token
    return Writer(source, cookie.group(1), token.group(1))


def send_letter(port: int, campaign: Any, person: Writer, *, spoof: str | None = None) -> Answer:
    """The composer's "Continue" with an empty letter."""
    headers = {"Cookie": f"csrftoken={person.cookie}"}
    if spoof:
        headers["X-Forwarded-For"] = spoof
    form = {"csrfmiddlewaretoken": person.token, "action": "continue"}
    return request(port, f"/c/{campaign.slug}/write/", source=person.source, method="POST", headers=headers, form=form)


def test_one_person_s_burst_is_limited_across_both_servers_whatever_they_forward(stack: Stack, campaign: Any) -> None:
    person = writer(stack.nginx, campaign)
    answers = [
        send_letter(stack.nginx, campaign, person, spoof=f"198.51.100.{n}, 203.0.113.{n}")
        for n in range(BURST_LIMIT + 2)
    ]
    # The empty letter is shown again with its errors until the limit; then 429, though
    # each try named another address.
    assert [a.status == 429 for a in answers] == [False] * BURST_LIMIT + [True, True]
    assert "This field is required." in answers[0].body
    assert "please wait" in answers[-1].body
    served_by = Counter(a.headers["x-upstream"] for a in answers)
    assert set(served_by) == {f"127.0.0.1:{p}" for p in stack.servers}  # both servers counted together

    # Straight to a server, a made-up X-Forwarded-For from an untrusted peer is ignored:
    # this is still 127.0.0.1, already limited.
    direct = send_letter(stack.servers[1], campaign, person, spoof="192.0.2.44")
    assert direct.status == 429

    # The address nginx forwards is believed: another person (127.0.0.3) is not limited.
    other = send_letter(stack.nginx, campaign, writer(stack.nginx, campaign, source="127.0.0.3"))
    assert other.status != 429
    assert "please wait" not in other.body


def test_a_shared_page_comes_from_nginx_s_cache_and_a_signed_in_visitor_bypasses_it(
    stack: Stack, campaign: Any
) -> None:
    path = f"/c/{campaign.slug}/"
    first, second = request(stack.nginx, path), request(stack.nginx, path)
    assert (first.status, first.headers["x-cache-status"]) == (200, "MISS")
    assert (second.status, second.headers["x-cache-status"]) == (200, "HIT")
    assert second.headers["cache-control"] == "public, max-age=0, s-maxage=5"
    assert second.body == first.body
    # The servers built hashed static files (core/static_build.py) and the page names them.
    assert re.search(r'href="/static/vendor/pico/pico\.min\.[0-9a-f]{12}\.css"', first.body)
    signed_in = request(stack.nginx, path, headers={"Cookie": "sessionid=not-a-session"})
    assert signed_in.headers["x-cache-status"] == "BYPASS"
    assert signed_in.headers["cache-control"] == "private, max-age=0"

    # The counter in the kept copy is at most s-maxage (5 s) behind.
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=4321)
    deadline = time.monotonic() + 20
    while "4,321" not in request(stack.nginx, path).body:
        assert time.monotonic() < deadline, "the counter did not refresh"
        time.sleep(0.5)
