"""Faults under load: real web server, real workers, real SMTP, connections killed at random.

A bounded load of letters is written and sent by email through HTTP, the way a browser
does, while PostgreSQL drops every other connection to the test database again and
again, a worker is killed mid-batch (and another started), and the SMTP server goes away
and comes back. Then what the server said it accepted is counted against the rows, and
the deliveries against the messages the SMTP server received.
"""

from __future__ import annotations

import html
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from tests.conftest import SmtpSink, database_url
from undersigned.delivery.models import Delivery, DeliveryStatus
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db(transaction=True)

LOAD_SECONDS = 20  # how long letters are written; the test ends well within a minute after
WRITERS = 3  # people writing at once
KILL_EVERY = 1.0  # seconds between two rounds of pg_terminate_backend
STALE_SECONDS = "4"  # a killed worker's claimed batch is back in the queue this soon


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx comes back as the answer, as the test reads it


_INPUT = re.compile(r"<input[^>]*>")
_VALUE = re.compile(r'value="([^"]*)"')
_TEXTAREA = re.compile(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', re.DOTALL)


def _input(page: str, name: str) -> str:
    for tag in _INPUT.findall(page):
        if f'name="{name}"' in tag:
            value = _VALUE.search(tag)
            return html.unescape(value.group(1)) if value else ""
    raise AssertionError(f"no input named {name!r}")


def _textarea(page: str, name: str) -> str:
    for found, text in _TEXTAREA.findall(page):
        if found == name:
            return html.unescape(text).removeprefix("\r\n").removeprefix("\n")
    raise AssertionError(f"no textarea named {name!r}")


@dataclass
class _Tally:
    """What the writers were told, by the server's answers."""

    letters: list[str] = field(default_factory=list)  # sender emails of letters the server accepted
    sent: list[str] = field(default_factory=list)  # …and of those it said it would send by email
    refused: Counter[str] = field(default_factory=Counter)  # what else it answered (503 on a lost connection)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _answer(
    opener: urllib.request.OpenerDirector, url: str, fields: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """The server's status, ``Location`` and page; status 0 when the connection broke (nothing promised)."""
    data = urlencode(fields).encode() if fields is not None else None
    request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310 (the test's loopback URL)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), ""
    except OSError as error:
        return 0, "", type(error).__name__


@dataclass(frozen=True)
class _Writers:
    """People writing, one after another in each thread, until ``stop``."""

    base: str
    slug: str
    recipient: int
    stop: threading.Event
    tally: _Tally

    def refused(self, what: str, status: int) -> None:
        with self.tally.lock:
            self.tally.refused[f"{what} {status}"] += 1

    def run(self, number: int) -> None:
        """Open the composer, write, save, send by email; again, as another person."""
        n = 0
        while not self.stop.is_set():
            n += 1
            email = f"writer-{number}-{n}@example.net"
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects())
            compose = f"{self.base}/c/{self.slug}/write/"
            status, _, page = _answer(opener, compose)
            if status != 200:
                self.refused("composer GET", status)
                continue
            status, location, _ = _answer(opener, compose, {
                "csrfmiddlewaretoken": _input(page, "csrfmiddlewaretoken"),
                "submission_key": _input(page, "submission_key"),
                "name": f"Writer {number}-{n}", "email": email, "town": "Wendmouth", "country": "GB",
                "postal_address": "", "subject": _input(page, "subject"),
                "body": _textarea(page, "body") + f"\n\nI walk there every day (letter {number}-{n}).",
                "homepage": "", "form_started": _input(page, "form_started"), "action": "continue",
            })  # fmt: skip
            if not (status == 302 and location.startswith("/l/")):
                self.refused("composer POST", status)
                continue
            with self.tally.lock:
                self.tally.letters.append(email)
            status, thanks, _ = _answer(opener, f"{self.base}{location}send/", {
                "csrfmiddlewaretoken": _input(page, "csrfmiddlewaretoken"),
                "recipient": str(self.recipient), "channel": "email",
            })  # fmt: skip
            if not (300 <= status < 400 and "/thanks" in thanks):
                self.refused("send POST", status)
                continue
            with self.tally.lock:
                self.tally.sent.append(email)


def _kill_connections(stop: threading.Event, spare: set[int], killed: list[int]) -> None:
    """Every ``KILL_EVERY`` seconds, PostgreSQL drops every connection to the test database but ``spare``."""
    with psycopg.connect(database_url(), autocommit=True) as admin:
        spare = {*spare, admin.info.backend_pid}
        while not stop.wait(KILL_EVERY):
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND NOT (pid = ANY(%s))",
                [list(spare)],
            ).fetchall()
            killed.append(sum(1 for (done,) in rows if done))


class _Sink:
    """The test's SMTP server (aiosmtpd), which can go away and come back on its port."""

    def __init__(self) -> None:
        self.handler = SmtpSink()
        self.port = _free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller: Controller | None = None

    def start(self) -> None:
        self.handler.answer = None
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        # As a server that shuts down does: "421 closing" to what arrives, then gone. (Torn
        # down in the middle of a message, a server can keep a message whose "250" never
        # reached the sender, who must send it again: SMTP's own duplicate, not the engine's.)
        self.handler.answer = "421 4.3.2 Shutting down"
        time.sleep(0.3)
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "undersigned.cli", "worker", "--interval", "0.2", "--housekeeping-interval", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_letters_survive_dropped_connections_a_killed_worker_and_a_mail_server_restart(
    campaign: Any, tmp_path: Path, capsys: Any, caplog: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; CI runs this test there")
    caplog.set_level(logging.WARNING, logger="mail.log")  # aiosmtpd logs every SMTP line at INFO
    recipient = campaign.recipients.first()
    sink = _Sink()
    sink.start()
    port = _free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url(), "UNDERSIGNED_SMTP_URL": sink.url,
        "UNDERSIGNED_SEND_STALE_SECONDS": STALE_SECONDS, "UNDERSIGNED_BASE_URL": f"http://127.0.0.1:{port}",
        "UNDERSIGNED_FORM_MIN_FILL_SECONDS": "0", "UNDERSIGNED_RATE_LIMITS": "compose=1000000/m",
        "UNDERSIGNED_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    log = tmp_path / "processes.log"
    with log.open("ab") as out:
        web = subprocess.Popen(
            [sys.executable, "-m", "undersigned.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    workers = [_worker(env, log), _worker(env, log)]
    stop_load, stop_kills = threading.Event(), threading.Event()
    tally = _Tally()
    killed: list[int] = []
    writers: list[threading.Thread] = []
    killer: threading.Thread | None = None
    base = f"http://127.0.0.1:{port}"
    loaded = False
    try:
        try:
            _wait_until(lambda: _answers(base + "/"), timeout=60, what="the web server")
        except pytest.fail.Exception:
            pytest.fail(f"the web server did not answer in 60 s; its log:\n{log.read_text()[-4000:]}")
        people = _Writers(base, campaign.slug, recipient.pk, stop_load, tally)
        writers = [threading.Thread(target=people.run, args=(n,)) for n in range(WRITERS)]
        for thread in writers:
            thread.start()
        killer = threading.Thread(
            target=_kill_connections, args=(stop_kills, {connection.connection.info.backend_pid}, killed)
        )
        killer.start()
        started = time.monotonic()

        # A worker killed mid-batch: once messages flow, SIGKILL the first and start another.
        _wait_until(lambda: len(sink.handler.messages) >= 10, timeout=LOAD_SECONDS, what="the first messages")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        workers.append(_worker(env, log))
        # The mail server goes away for two seconds, then comes back.
        time.sleep(max(0.0, LOAD_SECONDS / 2 - (time.monotonic() - started)))
        sink.stop()
        time.sleep(2)
        sink.start()
        time.sleep(max(0.0, LOAD_SECONDS - (time.monotonic() - started)))
        loaded = True
    finally:
        stop_load.set()
        for thread in writers:
            thread.join(timeout=30)
        stop_kills.set()
        if killer is not None:
            killer.join(timeout=30)
        _stop(web)
        if not loaded:
            # The load failed: stop the workers here too, or they would go on taking the
            # tasks of the tests that run after this one.
            for worker in workers:
                _stop(worker)
            sink.stop()

    try:
        # What waits for its backoff (the refusals while the server was away) is made due,
        # standing in for the wait; every delivery must then be sent.
        def all_sent() -> bool:
            Delivery.objects.filter(status=DeliveryStatus.RETRY).update(next_attempt_at=timezone.now())
            return not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()

        _wait_until(all_sent, timeout=60, what="every delivery to be sent")
    finally:
        for worker in workers:
            _stop(worker)
        sink.stop()

    letters = Counter(Letter.objects.values_list("supporter__email", flat=True))
    deliveries = {
        d.pk: d.sent_letter.supporter.email for d in Delivery.objects.select_related("letter__supporter")
    }  # fmt: skip
    parsed = sink.handler.parsed()
    # Beside the letters, each supporter is sent a confirmation of their letter (letters/emails.py).
    letters_mail = [m for m in parsed if str(m["Message-ID"]).startswith("<delivery-")]
    confirmations = [m for m in parsed if not str(m["Message-ID"]).startswith("<delivery-")]
    arrived = Counter(str(m["Message-ID"]) for m in letters_mail)
    expected = {f"<delivery-{pk}@undersigned.test>" for pk in deliveries}
    confirmed = Counter(m["To"].addresses[0].addr_spec for m in confirmations)
    twice = sum(1 for count in arrived.values() if count > 1)
    lost_letters = [email for email in tally.letters if letters[email] != 1]
    lost_sends = sorted(set(tally.sent) - set(deliveries.values()))
    with capsys.disabled():
        print(
            f"\n[fault test] {LOAD_SECONDS} s of load, {sum(killed)} connections killed in {len(killed)} rounds, "
            f"1 worker SIGKILLed, the SMTP server stopped for 2 s; letters: {len(tally.letters)} accepted, "
            f"{sum(letters.values())} rows, {len(lost_letters)} lost; sent by email: {len(tally.sent)} accepted, "
            f"{len(deliveries)} deliveries, {len(lost_sends)} lost; messages: {sum(arrived.values())} at the sink, "
            f"{len(expected - set(arrived))} lost, {twice} arrived twice; "
            f"{len(confirmations)} confirmations to supporters; other answers: {dict(tally.refused)}"
        )
    assert tally.letters
    assert tally.sent
    assert sum(killed) > 0
    assert lost_letters == []  # every letter the server accepted is a row, once
    assert lost_sends == []  # every "sent" the server answered is a delivery
    assert set(arrived) == expected  # every delivery reached the SMTP server, and nothing else did
    # The other messages are the supporters' confirmations: automatic mail, to writers of a
    # letter that is a row, never twice but for the one in flight when the worker was killed.
    assert all(m["Auto-Submitted"] == "auto-generated" for m in confirmations)
    assert set(confirmed) <= set(letters)
    assert sum(count - 1 for count in confirmed.values()) <= 1
    assert twice <= 1  # at most the message in flight when the worker was killed
    # A dropped connection answers 503 (Retry-After, what was typed kept), never a bare 500.
    assert [answer for answer in tally.refused if answer.endswith(" 500")] == []
    assert max(arrived.values()) <= 2


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a loopback URL the test built)
            return bool(response.status == 200)
    except OSError:
        return False
