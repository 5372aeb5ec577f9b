"""The email engine with real worker processes and a real SMTP server."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import database_url
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign
from undersigned.core.models import ActionLog
from undersigned.delivery import sending as engine
from undersigned.delivery.addresses import bounce_address
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence
from undersigned.delivery.sending import BACKOFF_MAX, _claim, _claim_batch, _claimable, backoff, send_queued
from undersigned.delivery.services import record_delivery, request_post

pytestmark = pytest.mark.django_db(transaction=True)


def _queue(campaign: Any, count: int = 1) -> list[Delivery]:
    recipient = campaign.recipients.first()
    return [
        record_delivery(letter=LetterFactory(campaign=campaign, sender_name=f"Writer {n}"), recipient=recipient,
                        channel=Channel.EMAIL)
        for n in range(count)
    ]  # fmt: skip


def _make_due(*deliveries: Delivery) -> None:
    # Stands in for waiting out the backoff: the worker only takes deliveries that are due.
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(next_attempt_at=timezone.now())


def _postgresql_only(why: str) -> None:
    """Skip, saying ``why``, unless the tests run on PostgreSQL (CI runs them there)."""
    if connection.vendor != "postgresql":
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    first, second, third = (backoff(n, rng=rng) for n in (1, 2, 3))
    assert timedelta(seconds=22.5) <= first <= timedelta(seconds=37.5)
    assert timedelta(seconds=45) <= second <= timedelta(seconds=75)
    assert timedelta(seconds=90) <= third <= timedelta(seconds=150)
    assert backoff(30, rng=rng) <= BACKOFF_MAX * 1.25


def test_the_envelope_sender_is_the_deliverys_bounce_address(campaign: Any, smtp_sink: Any, run_worker: Any) -> None:
    [delivery] = _queue(campaign)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    [envelope] = smtp_sink.messages
    assert envelope.mail_from == bounce_address(delivery.pk)
    assert str(smtp_sink.parsed()[0]["From"]) == "Writer 0 via Friends of the Wend <letters@undersigned.test>"


def test_a_temporary_refusal_retries_later_and_then_succeeds(campaign: Any, smtp_sink: Any, run_worker: Any) -> None:
    [delivery] = _queue(campaign)
    smtp_sink.answer = "451 4.3.0 Try again later"
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRY
    assert delivery.attempts == 1
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert delivery.sent_at is None

    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # not due yet: nothing happens
    delivery.refresh_from_db()
    assert delivery.attempts == 1

    smtp_sink.answer = None
    _make_due(delivery)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert delivery.evidence == Evidence.PLATFORM_DELIVERED
    assert delivery.last_error == ""
    assert len(smtp_sink.messages) == 1


def test_a_server_that_is_down_then_back_gets_every_letter_once(campaign: Any, smtp_sink: Any, run_worker: Any) -> None:
    deliveries = _queue(campaign, 5)
    down = f"smtp://127.0.0.1:{_free_port()}"  # nothing listens there
    run_worker(UNDERSIGNED_SMTP_URL=down)
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.RETRY
        assert delivery.sent_at is None  # never marked sent before a server accepted it
        assert delivery.last_error.startswith("Could not connect: ConnectionRefusedError")
    _make_due(*deliveries)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    ids = Counter(str(m["Message-ID"]) for m in smtp_sink.parsed())
    assert ids == Counter({f"<delivery-{d.pk}@undersigned.test>": 1 for d in deliveries})
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_recipient_gets_no_more_than_their_pace(organisation: Any, smtp_sink: Any, run_worker: Any) -> None:
    recipient = RecipientFactory(organisation=organisation, max_emails_per_minute=2)
    campaign = CampaignFactory(organisation=organisation, recipients=[recipient])
    _queue(campaign, 5)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    assert len(smtp_sink.messages) == 2
    waiting = Delivery.objects.filter(status=DeliveryStatus.QUEUED)
    assert waiting.count() == 3
    assert all(d.attempts == 0 for d in waiting)
    assert all(d.next_attempt_at and d.next_attempt_at > timezone.now() + timedelta(seconds=30) for d in waiting)


class _SlowSink:
    """An SMTP server that takes its time over each message (aiosmtpd, on 127.0.0.1)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)

        await asyncio.sleep(self.delay)
        self.messages.append(envelope)
        return "250 2.0.0 Accepted"


def test_a_slow_server_gets_each_letter_once_and_the_batch_gives_back_what_it_did_not_send(
    campaign: Any, run_worker: Any
) -> None:

    deliveries = _queue(campaign, 6)
    port = _free_port()
    handler = _SlowSink(delay=0.4)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # Deliveries count as abandoned after 2 s, so a batch gives back what it has
        # not sent after 1 s: two or three messages at a time, then another task goes on.
        run_worker(UNDERSIGNED_SMTP_URL=f"smtp://127.0.0.1:{port}", UNDERSIGNED_SEND_STALE_SECONDS="2")
    finally:
        controller.stop()

    ids = Counter(
        envelope.original_content.split(b"Message-ID: ")[1].split(b"\r\n")[0] for envelope in handler.messages
    )
    assert ids == Counter({f"<delivery-{d.pk}@undersigned.test>".encode(): 1 for d in deliveries})
    assert [(d.status, d.attempts) for d in Delivery.objects.order_by("pk")] == [(DeliveryStatus.SENT, 1)] * 6
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() >= 2  # the rest went on in another task


def test_a_delivery_left_sending_by_a_dead_worker_is_swept_back(campaign: Any, smtp_sink: Any, run_worker: Any) -> None:
    [delivery] = _queue(campaign)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, sending_started_at=timezone.now() - timedelta(minutes=10)
    )
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert len(smtp_sink.messages) == 1


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "undersigned.cli", "worker", "--interval", "0.2", "--housekeeping-interval", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait_until(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_send_loses_nothing(campaign: Any, smtp_sink: Any, capsys: Any) -> None:
    total = 300
    deliveries = _queue(campaign, total)
    env = {**os.environ, "DATABASE_URL": database_url(), "UNDERSIGNED_SMTP_URL": smtp_sink.url,
           "UNDERSIGNED_SEND_STALE_SECONDS": "2"}  # fmt: skip
    first = _worker(env)
    try:
        _wait_until(lambda: len(smtp_sink.messages) >= total // 3, timeout=120, what="a third of the letters")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    arrived_before_kill = len(smtp_sink.messages)
    second = _worker(env)
    try:
        _wait_until(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == total,
            timeout=180, what="every delivery to be sent",
        )  # fmt: skip
    finally:
        second.terminate()
        second.wait(timeout=30)
    ids = Counter(str(m["Message-ID"]) for m in smtp_sink.parsed())
    assert set(ids) == {f"<delivery-{d.pk}@undersigned.test>" for d in deliveries}
    twice = sum(1 for n in ids.values() if n > 1)
    with capsys.disabled():
        print(f"\n[kill test] {arrived_before_kill} arrived before SIGKILL; {twice} of {total} arrived twice")
    assert twice <= 1  # at most the message in flight when the worker died
    assert max(ids.values()) <= 2


def test_two_workers_on_one_queue_never_send_a_letter_twice(campaign: Any, smtp_sink: Any) -> None:
    total = 200
    deliveries = _queue(campaign, total)
    env = {**os.environ, "DATABASE_URL": database_url(), "UNDERSIGNED_SMTP_URL": smtp_sink.url}
    workers = [_worker(env), _worker(env)]
    try:
        _wait_until(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == total,
            timeout=180, what="every delivery to be sent",
        )  # fmt: skip
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    ids = Counter(str(m["Message-ID"]) for m in smtp_sink.parsed())
    assert ids == Counter({f"<delivery-{d.pk}@undersigned.test>": 1 for d in deliveries})


def test_the_batch_claim_takes_exactly_the_claimable_deliveries(campaign: Any) -> None:
    """The claim's SQL is written out by hand; it must agree with the engine's definition of claimable."""
    now = timezone.now()
    deliveries = _queue(campaign, 7)
    post = request_post_delivery(campaign)
    states: list[dict[str, Any]] = [
        {"status": DeliveryStatus.QUEUED, "next_attempt_at": None},
        {"status": DeliveryStatus.QUEUED, "next_attempt_at": now - timedelta(seconds=1)},
        {"status": DeliveryStatus.QUEUED, "next_attempt_at": now + timedelta(minutes=1)},
        {"status": DeliveryStatus.RETRY, "next_attempt_at": now - timedelta(minutes=1)},
        {"status": DeliveryStatus.RETRY, "next_attempt_at": now + timedelta(minutes=1)},
        {"status": DeliveryStatus.SENDING, "next_attempt_at": None},
        {"status": DeliveryStatus.SENT, "next_attempt_at": None},
    ]
    for delivery, state in zip(deliveries, states, strict=True):
        Delivery.objects.filter(pk=delivery.pk).update(**state)
    expected = set(Delivery.objects.filter(_claimable(now)).values_list("pk", flat=True))
    assert expected == {deliveries[0].pk, deliveries[1].pk, deliveries[3].pk}

    claimed = _claim_batch([d.pk for d in deliveries] + [post.pk], now)

    assert claimed == expected
    after = {d.pk: d for d in Delivery.objects.all()}
    assert {pk for pk, d in after.items() if d.status == DeliveryStatus.SENDING} == expected | {deliveries[5].pk}
    assert all(after[pk].attempts == 1 and after[pk].sending_started_at == now for pk in expected)
    assert after[post.pk].status == DeliveryStatus.QUEUED  # post is printed, never claimed by the engine
    assert _claim_batch(sorted(expected), now) == set()  # claimed once only


def request_post_delivery(campaign: Any) -> Delivery:
    Campaign.objects.filter(pk=campaign.pk).update(posts_for_supporters=True)
    campaign.refresh_from_db()
    letter = LetterFactory(campaign=campaign, sender_address="1 Mill Lane\nWendmouth")
    return request_post(letter=letter, recipient=campaign.recipients.first())


def test_a_second_claim_waiting_on_the_row_lock_finds_it_taken(campaign: Any) -> None:
    """Two workers claim the same delivery at once: the one that waited must get nothing.

    This is the race behind letters sent twice: a claim whose WHERE goes through a join
    (a subquery) is re-checked on an old snapshot after the lock wait on PostgreSQL.
    """
    _postgresql_only("row-lock waits need PostgreSQL; SQLite serialises writers for the whole file")

    [delivery] = _queue(campaign)
    first_claimed = threading.Event()
    release_first = threading.Event()
    results: dict[str, bool] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = _claim(delivery.pk, timezone.now())
                first_claimed.set()
                release_first.wait(timeout=30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            results["second"] = _claim(delivery.pk, timezone.now())
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_claimed.wait(timeout=30)
    two = threading.Thread(target=second)
    two.start()
    # Wait until the second claim is really blocked on the first one's row lock.
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0] >= 1:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second claim never waited for the row lock")
    release_first.set()
    one.join(timeout=30)
    two.join(timeout=30)
    assert results == {"first": True, "second": False}


def test_a_batch_commits_without_waiting_for_the_disk_and_then_gives_the_setting_back(
    campaign: Any, smtp_sink: Any, settings: Any
) -> None:
    """During a batch the sender's own connection runs with synchronous_commit = off; after it, as before.

    The batch runs in this process, on this test's connection. While the server holds
    each message, before it answers, the sink asks that same connection (PostgreSQL's
    settings are per session; another connection would only see its own) what its
    setting is. Nothing else uses the connection then: the sender waits for the answer.
    """
    _postgresql_only("synchronous_commit is PostgreSQL's; SQLite runs WAL with synchronous=NORMAL for every connection")

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    deliveries = _queue(campaign, 3)
    before = setting()
    assert before == "on"  # the server's default, which every other connection keeps
    raw = connection.connection  # the psycopg connection under Django's, usable from the sink's thread
    seen: list[str] = []

    def look() -> None:
        seen.append(str(raw.execute("SHOW synchronous_commit").fetchone()[0]))

    smtp_sink.on_message = look
    assert send_queued() == 3

    assert seen == ["off", "off", "off"]
    assert setting() == before
    assert connection.connection is raw  # the same session, reset rather than replaced
    assert {d.status for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])} == {DeliveryStatus.SENT}

    # A batch that cannot reach its server gives the setting back too.
    more = _queue(campaign, 1)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _free_port(), "timeout": 2},
        }
    }
    assert send_queued() == 0
    assert Delivery.objects.get(pk=more[0].pk).status == DeliveryStatus.RETRY
    assert setting() == before


def test_each_message_goes_out_only_after_the_one_before_is_marked_sent(
    campaign: Any, smtp_sink: Any, monkeypatch: Any
) -> None:
    """What keeps a killed worker from repeating more than one message, seen from outside.

    While the server holds each message, before it answers, the sink counts from a
    connection of its own the deliveries committed as sent: every earlier one, never this
    one, even with a database slow to write the marks. (Sending the mark ahead while the
    next message was built, and writing the marks in a thread, were tried; what they
    cost is in bench/README.md.)
    """
    mark_sent = engine._mark_sent

    def slow_mark_sent(*args: Any) -> None:
        mark_sent(*args)
        time.sleep(0.2)  # a slow database

    monkeypatch.setattr(engine, "_mark_sent", slow_mark_sent)
    deliveries = _queue(campaign, 6)
    committed: list[int] = []

    def count_sent() -> int:
        try:  # a thread of its own: its own database connection, so it sees only commits
            return Delivery.objects.filter(status=DeliveryStatus.SENT).count()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as outside:
        # (The sink calls this from its event loop, where Django refuses database calls.)
        smtp_sink.on_message = lambda: committed.append(outside.submit(count_sent).result())
        assert send_queued() == 6
    assert committed == [0, 1, 2, 3, 4, 5]
    assert {d.status for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])} == {DeliveryStatus.SENT}


def test_a_batch_reads_its_deliveries_once_and_writes_one_mark_per_message(campaign: Any, smtp_sink: Any) -> None:
    """Everything the messages need comes with the batch: no read per message, one write each."""
    deliveries = _queue(campaign, 5)
    with CaptureQueriesContext(connection) as queries:
        assert send_queued() == 5
    statements = [q["sql"].lstrip().split(None, 1)[0].upper() for q in queries]
    # One read for the batch; with each mark, the campaign's tallies (delivery/tallies.py)
    # lock the letter's row and read its deliveries before and after: three small reads.
    assert statements.count("SELECT") == 1 + 3 * 5
    locks = [q["sql"] for q in queries if q["sql"].lstrip().startswith("SELECT") and "FOR UPDATE" in q["sql"]]
    assert len(locks) == (5 if connection.vendor == "postgresql" else 0)  # SQLite locks the whole file instead
    marks = [q["sql"] for q in queries if "delivery.sent" in q["sql"] or q["sql"].lstrip().startswith("WITH sent")]
    if connection.vendor == "postgresql":
        assert len(marks) == 5  # the update and its audit row, one statement each
    assert len(smtp_sink.messages) == 5
    assert [m["From"] for m in smtp_sink.parsed()] == [
        f"Writer {n} via Friends of the Wend <letters@undersigned.test>" for n in range(5)
    ]
    sent = Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert {d.status for d in sent} == {DeliveryStatus.SENT}
    assert {d.evidence for d in sent} == {Evidence.PLATFORM_DELIVERED}
    assert {d.message_id for d in sent} == {f"<delivery-{d.pk}@undersigned.test>" for d in deliveries}

    logged = ActionLog.objects.filter(action="delivery.sent", object_id__in=[str(d.pk) for d in deliveries])
    assert sorted(row.object_id for row in logged) == sorted(str(d.pk) for d in deliveries)
    assert {row.object_type for row in logged} == {"delivery.delivery"}
    assert [row.data for row in logged] == [{"channel": "email"}] * 5
    sent_at = {str(d.pk): d.sent_at for d in sent}
    assert all(row.created_at == sent_at[row.object_id] for row in logged)


@contextmanager
def _server_side_binding(on: bool) -> Iterator[None]:
    """Django's connection with UNDERSIGNED_DB_PREPARED_STATEMENTS on or off, whatever the run's setting."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = options.get("server_side_binding")
    options["server_side_binding"] = on
    connection.close()  # the next statement opens a connection with the setting
    try:
        yield
    finally:
        options["server_side_binding"] = before
        connection.close()


def _mark_prepared() -> int:
    """How many prepared statements of the mark this test's connection has."""
    with connection.cursor() as cursor:
        # psycopg names its prepared statements itself: the mark is the one with its text.
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH sent AS (UPDATE %'")
        return int(cursor.fetchone()[0])


def test_a_mark_whose_prepared_statement_was_dropped_is_prepared_again(campaign: Any, smtp_sink: Any) -> None:
    """psycopg drops a connection's prepared statements on a rollback (and on DEALLOCATE ALL)."""
    _postgresql_only("prepared statements are PostgreSQL's")
    with _server_side_binding(True):
        first = _queue(campaign, 1)
        assert send_queued() == 1
        assert _mark_prepared() == 1
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        assert _mark_prepared() == 0
        second = _queue(campaign, 2)
        assert send_queued() == 2
        assert _mark_prepared() == 1
    sent = [d.pk for d in [*first, *second]]
    assert set(Delivery.objects.filter(pk__in=sent).values_list("status", flat=True)) == {DeliveryStatus.SENT}
    logged = ActionLog.objects.filter(action="delivery.sent", object_id__in=[str(pk) for pk in sent])
    assert logged.count() == 3


def test_without_prepared_statements_the_mark_is_sent_unprepared(campaign: Any, smtp_sink: Any) -> None:
    """UNDERSIGNED_DB_PREPARED_STATEMENTS=0 (a pooler without them): no named statement is made."""
    _postgresql_only("prepared statements are PostgreSQL's")
    with _server_side_binding(False):
        deliveries = _queue(campaign, 3)
        assert send_queued() == 3
        assert _mark_prepared() == 0
    sent = Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert {d.status for d in sent} == {DeliveryStatus.SENT}
    assert len(smtp_sink.messages) == 3


def _terminate(pid: int) -> None:
    """PostgreSQL drops the connection of backend ``pid``, as a restart or an operator would."""
    with psycopg.connect(database_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        # Wait until the backend is gone, so the sender's next use of it fails for sure.
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.02)


@pytest.mark.parametrize("when", ["while the server holds the message", "between two messages"])
def test_a_mark_whose_connection_drops_is_written_again_and_the_message_not_sent_twice(
    campaign: Any, smtp_sink: Any, monkeypatch: Any, when: str
) -> None:
    """The server accepted the message, so the mark must reach the row on a new connection.

    "While the server holds the message": the connection is gone before the mark is sent.
    "Between two messages": it is dropped while the next message is built; the
    recipient's pace is checked before each message, so that read is retried.
    """
    _postgresql_only("pg_terminate_backend is PostgreSQL's; a SQLite file has no connection to lose")
    recipient = campaign.recipients.first()
    type(recipient).objects.filter(pk=recipient.pk).update(max_emails_per_minute=1000)
    deliveries = _queue(campaign, 5)
    connection.ensure_connection()
    first_backend = connection.connection.info.backend_pid

    if when == "while the server holds the message":
        arrivals: list[int] = []

        def on_message() -> None:
            arrivals.append(1)
            if len(arrivals) == 3:
                _terminate(first_backend)

        smtp_sink.on_message = on_message
    else:
        build = engine._message
        built: list[int] = []

        def message(delivery: Delivery) -> Any:
            built.append(delivery.pk)
            if len(built) == 4:  # the third message is marked sent
                _terminate(first_backend)
            return build(delivery)

        monkeypatch.setattr(engine, "_message", message)

    assert engine.send_queued() == 5

    assert connection.connection.info.backend_pid != first_backend  # it went on on a new connection
    ids = Counter(str(m["Message-ID"]) for m in smtp_sink.parsed())
    assert ids == Counter({f"<delivery-{d.pk}@undersigned.test>": 1 for d in deliveries})
    sent = Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert [(d.status, d.attempts) for d in sent.order_by("pk")] == [(DeliveryStatus.SENT, 1)] * 5
    logged = ActionLog.objects.filter(action="delivery.sent", object_id__in=[str(d.pk) for d in deliveries])
    assert sorted(row.object_id for row in logged) == sorted(str(d.pk) for d in deliveries)  # one each


def test_a_batch_that_loses_its_connection_at_the_claim_ends_quietly_and_loses_nothing(
    campaign: Any, smtp_sink: Any, monkeypatch: Any
) -> None:
    """A claim is not retried (it may have committed); its rows wait for the sweeper, none is sent."""
    _postgresql_only("pg_terminate_backend is PostgreSQL's; a SQLite file has no connection to lose")
    deliveries = _queue(campaign, 3)
    claim = engine._claim_batch

    def claim_then_lose(*args: Any) -> set[int]:
        claimed = claim(*args)  # committed: only its answer is lost
        _terminate(connection.connection.info.backend_pid)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the first use of the dropped connection raises
        return claimed

    monkeypatch.setattr(engine, "_claim_batch", claim_then_lose)
    assert engine.send_queued() == 0
    assert smtp_sink.messages == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENDING}

    monkeypatch.setattr(engine, "_claim_batch", claim)
    assert engine.sweep_stale(older_than=timedelta(0)) == 3
    _make_due(*deliveries)
    assert engine.send_queued() == 3
    ids = Counter(str(m["Message-ID"]) for m in smtp_sink.parsed())
    assert ids == Counter({f"<delivery-{d.pk}@undersigned.test>": 1 for d in deliveries})
