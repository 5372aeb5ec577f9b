"""The email engine: sending queued deliveries, losing none and sending none twice.

The ``Delivery`` row is the truth; tasks only say "look at the queue".

- **Claiming.** A worker claims a due delivery with a conditional update
  (``queued|retry`` and due → ``sending``). Only the worker whose update changed the
  row sends it, so two workers (or a repeated task) never send the same delivery.
- **Batches.** One query loads up to ``BATCH_SIZE`` due deliveries and one statement
  claims them; one SMTP connection carries them.
- **One message at a time.** A delivery is marked ``sent`` (with its audit row, in one
  statement on PostgreSQL) right after the server accepted it, before the next message
  of the batch. A worker killed mid-batch can leave at most the message in flight
  unmarked; the batch's unsent rest stays ``sending`` until the sweeper returns it.
- **Commits during a batch (PostgreSQL).** The worker's own connection runs the batch
  with ``synchronous_commit = off`` (see ``_commits_without_flush_wait``): a commit
  returns once it is in PostgreSQL's WAL buffer, without waiting for the disk.
- **A lost database connection.** The server may drop the worker's connection at any
  moment (a restart, a failover, ``pg_terminate_backend``). A mark that fails that way
  is written again on a new connection (``_mark_sent``, up to ``RECONNECT_TRIES`` times
  with a short backoff): the server accepted the message, so it must not go out again.
  The mark only changes a row still ``sending``, so writing it twice changes nothing.
  Reads and the conditional updates of a failed attempt or a give-back are retried the
  same way (``_retrying``). Loading and claiming a batch are not: a claim whose answer
  was lost may have committed, and its rows wait in ``sending`` for the sweeper, never
  sent; the task ends quietly and wakes the next one.
- **Sweeper.** A delivery left in ``sending`` for longer than ``STALE_AFTER`` (its
  worker died) returns to the queue. That is the one case where a letter can go out
  twice: the server had accepted it, the worker died before marking it.
- **Retries.** Connection errors, timeouts and 4xx answers retry with exponential
  backoff and jitter, up to ``MAX_ATTEMPTS``; 5xx answers fail at once with the
  server's reason for organisers to see.
- **Pace.** A recipient with ``max_emails_per_minute`` gets no more than that; the rest
  wait, due again when the minute has passed. An update's email goes to a supporter,
  once per update, so it has no pace of its own.
- **What a delivery carries.** A letter (to a recipient), a member's hand-in pack, or an
  organisation's update (to a supporter). The last two are built by the app that owns
  them (registered by path: ``register_pack_message``, ``register_update_message``); a
  builder may answer ``NotWanted`` (the supporter unsubscribed since), and the delivery
  fails for good with that reason, nothing sent.
- **Waking.** ``wake_senders`` enqueues a send task only when none is waiting; a full
  batch wakes the next one before it sends, so several workers share a long queue.
"""

from __future__ import annotations

import json
import logging
import random
import smtplib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.mail import mailers
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from undersigned.campaigns.enums import Channel
from undersigned.core.languages import email_language
from undersigned.core.mailers import PreparedEmail, SmtpBackend
from undersigned.core.models import ActionLog, log_action
from undersigned.letters import texts as letter_texts
from undersigned.letters.models import Letter
from undersigned.letters.queries import text_for

from . import counter
from .addresses import bounce_address, reply_address
from .channels.email import build_message, message_id_for
from .models import Delivery, DeliveryStatus, Evidence
from .tallies import tallying

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=6)
STALE_AFTER = timedelta(seconds=settings.SEND_STALE_SECONDS)
# A batch sends for at most this long after its claim, then gives the rest back, so the
# sweeper (STALE_AFTER) never takes a delivery from a worker that is still alive.
CLAIM_HOLD = STALE_AFTER / 2
# A lost connection is tried again this many times, after 0.05 s, doubling to at most
# 1 s between tries (about 3.5 s in all): long enough for a new connection after
# pg_terminate_backend or a quick restart, short next to CLAIM_HOLD.
RECONNECT_TRIES = 8
RECONNECT_BACKOFF = 0.05
RECONNECT_BACKOFF_MAX = 1.0
# What a dropped connection raises: its first use fails (OperationalError), and so does
# every later one of the closed connection (InterfaceError).
_LOST = (OperationalError, InterfaceError)
# Whether this thread's connection is in a batch that commits without the flush wait, so
# a new connection opened during the batch gets the same session setting.
_batch_session: ContextVar[bool] = ContextVar("batch_session", default=False)


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Delay before attempt ``attempts + 1``: doubling from 30 s, at most 6 h, with ±25 % jitter.

    Jitter spreads retries out, so a mail server that comes back is not hit by every
    waiting delivery in the same second.
    """
    delay: timedelta = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    factor: float = (rng or random.Random()).uniform(0.75, 1.25)  # noqa: S311 (jitter, not security)
    return delay * factor


def _claimable(now: datetime) -> Q:
    # Only columns of the delivery row itself: the claim's UPDATE must re-check these on
    # the row it locks. A condition through a join becomes a subquery, which PostgreSQL
    # evaluates on an old snapshot, so two workers could both claim (and send) a letter.
    return Q(
        channel=Channel.EMAIL,
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRY],
    ) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _due(now: datetime) -> Q:
    # Recipients who take a daily digest get their letters in it (delivery/digests.py);
    # a hand-in pack and an update (to a supporter) go on their own.
    return _claimable(now) & (
        Q(recipient__daily_digest=False) | Q(hand_in_pack__isnull=False) | Q(update__isnull=False)
    )


@contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """Within this block, this connection's commits do not wait for PostgreSQL's WAL flush.

    Each message is marked sent before the next goes, so with one worker every message
    otherwise waits for the disk to flush its commit (wall time rather than CPU, and the
    largest wait per message; see docs/performance.md). ``synchronous_commit = off`` applies to
    this session only, so to the worker running the batch and never to web requests, and
    ``RESET`` gives the connection (which the worker keeps for its next task) the server's
    setting back.

    The trade-off, precisely:

    - A killed worker still repeats at most the message in flight. Its commits are
      already in PostgreSQL's WAL buffer, in the server's memory, which a client's
      death does not touch; they reach the disk as usual.
    - Only a crash of the PostgreSQL server or of its machine can forget the last
      commits that were not yet flushed: at most ``3 × wal_writer_delay`` (600 ms with
      the default 200 ms). Their deliveries come back as ``sending`` (or ``queued``,
      when the claim is lost too), and the sweeper (or the next batch) sends those
      letters again: at most what one worker sends in that time (docs/performance.md
      works it out at the measured rate), more with more workers sending at once.
      Nothing is lost and the database stays
      consistent.

    SQLite already commits without flushing every commit (WAL with
    ``synchronous=NORMAL``, settings.py), so there is nothing to change there.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    in_batch = _batch_session.set(True)  # a connection opened again during the batch gets it too
    try:
        yield
    finally:
        _batch_session.reset(in_batch)
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            # The connection broke during the batch. Outside a transaction, close it so
            # the next use opens a fresh one with the server's setting; inside one, the
            # rollback that must follow undoes the SET as well.
            if not connection.in_atomic_block:
                connection.close()


def _reconnect() -> None:
    """Drop the (broken) connection and open a new one, set as the batch's was."""
    connection.close()
    with connection.cursor() as cursor:
        if _batch_session.get() and connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
        else:
            cursor.execute("SELECT 1")


def _retrying[T](what: str, operation: Callable[[], T], *, lost: bool = False) -> T:
    """Run ``operation``; when the database connection is lost, reconnect and run it again.

    Only for what is safe to run twice: reads, and updates whose condition no longer
    holds once they have run. ``lost``: the connection is known lost already, so start
    by reconnecting. Inside a transaction nothing is retried (the transaction is gone);
    after ``RECONNECT_TRIES`` the last error is raised.
    """
    for attempt in range(RECONNECT_TRIES):
        if lost:
            time.sleep(min(RECONNECT_BACKOFF * 2 ** (attempt - 1), RECONNECT_BACKOFF_MAX) if attempt else 0)
            with suppress(*_LOST):  # the server may still be away: the operation will say so
                _reconnect()
        try:
            return operation()
        except _LOST:
            if connection.in_atomic_block or attempt == RECONNECT_TRIES - 1:
                raise
            logger.warning("database connection lost while %s; reconnecting", what)
            lost = True
    raise AssertionError("unreachable")  # the loop returns or raises


def _claim_batch(delivery_ids: Sequence[int], now: datetime) -> set[int]:
    """Claim the deliveries that are still claimable, in one statement; return the ids claimed.

    ``UPDATE … WHERE id IN (…) AND <claimable> RETURNING id``: each row is locked and the
    condition re-checked on its newest version, so of two workers claiming the same rows
    each row goes to exactly one. The condition stays on the row's own columns (see
    ``_claimable``). Raw SQL because Django's ``update()`` cannot return the rows it
    changed; SQLite (3.35+) and PostgreSQL both have ``RETURNING``.
    """
    if not delivery_ids:
        return set()
    ops = connection.ops
    table = ops.quote_name(Delivery._meta.db_table)
    at = ops.adapt_datetimefield_value(now)
    ids = ", ".join(["%s"] * len(delivery_ids))
    # Only the quoted table name and placeholders are put into the text; every value is a parameter.
    sql = (
        f"UPDATE {table} SET status = %s, sending_started_at = %s, attempts = attempts + 1, updated_at = %s "  # noqa: S608
        f"WHERE id IN ({ids}) AND channel = %s AND status IN (%s, %s) "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) RETURNING id"
    )
    params: list[Any] = [DeliveryStatus.SENDING.value, at, at, *delivery_ids, Channel.EMAIL.value,
              DeliveryStatus.QUEUED.value, DeliveryStatus.RETRY.value, at]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(row[0]) for row in cursor.fetchall()}


def _claim(delivery_id: int, now: datetime) -> bool:
    return delivery_id in _claim_batch([delivery_id], now)


def _paced_until(delivery: Delivery, now: datetime) -> datetime | None:
    """When this recipient may get the next email, if their pace says not now.

    An update's email goes to a supporter, one per update, so it has no recipient's pace."""
    recipient_id = delivery.recipient_id
    if delivery.recipient is None or recipient_id is None:
        return None
    limit = delivery.recipient.max_emails_per_minute
    if not limit:
        return None
    window_start = now - timedelta(minutes=1)
    # At most `limit` rows are read: the check stays cheap however busy the recipient.
    recent = list(
        Delivery.objects.filter(recipient_id=recipient_id, channel=Channel.EMAIL, sent_at__gt=window_start)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    oldest = min(t for t in recent if t is not None)
    return oldest + timedelta(minutes=1)


# How the email of a delivery without a letter (a member's hand-in pack) is built: a
# dotted path registered from the owning app's ready() (openletters, above this app).
_PACK_MESSAGE: list[str] = []


def register_pack_message(path: str) -> None:
    _PACK_MESSAGE[:] = [path]


# The same for an organisation's update to a supporter (``Delivery.update``).
_UPDATE_MESSAGE: list[str] = []


def register_update_message(path: str) -> None:
    _UPDATE_MESSAGE[:] = [path]


class NotWanted(Exception):
    """Raised by a message builder when its email must not go at all (the supporter
    unsubscribed after the update was queued); the delivery fails for good with the reason."""


def _message(delivery: Delivery) -> PreparedEmail:
    letter = delivery.letter
    if delivery.update_id is not None:
        build_update: Callable[[Delivery], PreparedEmail] = import_string(_UPDATE_MESSAGE[0])
        return build_update(delivery)
    if letter is None:
        build: Callable[[Delivery], PreparedEmail] = import_string(_PACK_MESSAGE[0])
        return build(delivery)
    # The platform's own words in it ("… via …") are in the language of the text this
    # recipient gets (a letter may have a version in their language).
    language = letter_texts.text_in(letter, delivery.sent_recipient.language).language
    with translation.override(email_language(language, letter.campaign.language)):
        return _letter_message(delivery, letter)


def _letter_message(delivery: Delivery, letter: Letter) -> PreparedEmail:
    recipient = delivery.sent_recipient
    text = text_for(letter, recipient)
    return build_message(
        delivery_id=delivery.pk,
        envelope_sender=bounce_address(delivery.pk),
        sender_name=letter.sender_name,
        sender_email=letter.supporter.email,
        organisation=letter.campaign.organisation.display_short_name,
        recipient_name=recipient.name,
        recipient_email=recipient.email,
        subject=text.subject,
        body=text.body,
        copy_to_sender=delivery.copy_to_sender,
        reply_address=reply_address(delivery.pk),
        reply_address_in=letter.campaign.reply_address,
    )


def _sent_fields(delivery: Delivery, response: str, now: datetime) -> dict[str, Any]:
    return {
        "status": DeliveryStatus.SENT.value,
        "evidence": Evidence.PLATFORM_DELIVERED.value,
        "message_id": message_id_for(delivery.pk),
        "smtp_response": response[:500],
        "last_error": "",
        "sent_at": now,
        "next_attempt_at": None,
        "updated_at": now,
    }


@cache
def _audit_data(channel: str) -> str:
    return json.dumps({"channel": channel})


@cache
def _mark_sent_sql(vendor: str) -> tuple[str, ...]:
    """The mark's statements: on PostgreSQL one, ``WITH sent AS (UPDATE …) INSERT INTO <audit
    log> …``; elsewhere the update (``RETURNING id``: did it change the row?) and the audit
    insert. Both in ``%s`` placeholders.

    Only quoted names and placeholders are put into the text; every value is a parameter.
    On PostgreSQL the audit row's values are cast: in ``INSERT … SELECT`` it would not infer
    their types from the target columns.
    """
    ops = connection.ops
    names = list(_sent_fields(Delivery(pk=0), "", timezone.now()))
    deliveries, log = ops.quote_name(Delivery._meta.db_table), ops.quote_name(ActionLog._meta.db_table)
    columns = "created_at, action, object_type, object_id, data"
    assignments = ", ".join(f"{ops.quote_name(name)} = %s" for name in names)
    if vendor == "postgresql":
        return (
            f"WITH sent AS (UPDATE {deliveries} SET {assignments} WHERE id = %s AND status = %s "  # noqa: S608
            f"RETURNING id) INSERT INTO {log} ({columns}) SELECT %s::timestamptz, %s::text, "
            "%s::text, sent.id::text, %s::jsonb FROM sent",
        )
    return (
        f"UPDATE {deliveries} SET {assignments} WHERE id = %s AND status = %s RETURNING id",  # noqa: S608
        f"INSERT INTO {log} ({columns}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
    )


def _write_mark(delivery: Delivery, response: str) -> None:
    """Record that the server accepted the message, with its audit row.

    This runs after every accepted message, so it is the engine's hottest write. On
    PostgreSQL the update and the audit insert travel as one statement (a
    data-modifying ``WITH``): one round trip and one commit instead of four (BEGIN,
    UPDATE, INSERT, COMMIT), prepared once per connection (psycopg's prepared statements,
    which it prepares again after ``DEALLOCATE ALL``) when
    ``UNDERSIGNED_DB_PREPARED_STATEMENTS`` is on. On SQLite, one transaction runs the
    update and, when it changed the row, the insert, as plain statements (the ORM's
    update and create cost twice the time of the rest of the mark).

    It waits for its answer. Sending it ahead while the next message was built through
    psycopg's pipeline mode cost more CPU than the wait it hid; libpq's asynchronous
    calls underneath psycopg did it cheaply but are not a supported use of psycopg
    (bench/README.md).

    Only a row still ``sending`` changes, so a mark written twice (its first answer lost
    with the connection) changes nothing the second time.

    The campaign's tallies move in the same transaction (``delivery/tallies.py``): the
    letter's row is locked and its deliveries read before and after the mark, which
    costs a transaction and three small statements more than the mark alone.
    """
    with tallying([delivery.letter_id]):
        _write_mark_statements(delivery, response)


def _write_mark_statements(delivery: Delivery, response: str) -> None:
    now = timezone.now()
    if connection.vendor == "postgresql":
        [statement] = _mark_sent_sql(connection.vendor)
        params = [
            *_sent_fields(delivery, response, now).values(), delivery.pk, DeliveryStatus.SENDING.value,
            now, "delivery.sent", Delivery._meta.label_lower, _audit_data(str(delivery.channel)),
        ]  # fmt: skip
        prepare = bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))
        started = time.monotonic()
        # Django's execute() cannot ask psycopg to prepare at the first use, so psycopg's
        # cursor runs it, with Django's errors and, when queries are logged, its log entry.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.cursor.execute(statement, params, prepare=prepare)
        if connection.queries_logged:
            connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})
        return
    update, insert = _mark_sent_sql(connection.vendor)
    at = connection.ops.adapt_datetimefield_value(now)
    values = [at if isinstance(v, datetime) else v for v in _sent_fields(delivery, response, now).values()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(update, [*values, delivery.pk, DeliveryStatus.SENDING.value])
        if cursor.fetchone() is not None:
            cursor.execute(insert, [at, "delivery.sent", Delivery._meta.label_lower, str(delivery.pk),
                                    _audit_data(str(delivery.channel))])  # fmt: skip


def _mark_sent(delivery: Delivery, response: str) -> None:
    """Mark ``delivery`` sent before anything else happens; on a lost connection, on a new one.

    The server accepted the message, so its delivery must not stay ``sending``, from
    where the sweeper would send it again: a mark whose connection is lost is written
    again on a new connection, a few times if need be (``_retrying``).
    """
    try:
        _write_mark(delivery, response)
    except _LOST:
        if connection.in_atomic_block:
            raise
        logger.warning("database connection lost while marking delivery %s sent; marking it again", delivery.pk)
        try:
            _retrying(f"marking delivery {delivery.pk} sent", lambda: _write_mark(delivery, response), lost=True)
        except _LOST:
            logger.error(
                "delivery %s was accepted by the mail server but could not be marked sent; "
                "the sweeper will send it again", delivery.pk
            )  # fmt: skip
            raise


def _fail(delivery: Delivery, reason: str, *, permanent: bool, now: datetime) -> datetime | None:
    """Record a failed attempt; return when to try again, or None when it has failed for good."""
    attempts = delivery.attempts
    if not permanent and attempts >= MAX_ATTEMPTS:
        permanent = True
        reason = f"Gave up after {attempts} attempts. Last error: {reason}"
    retry_at = None if permanent else now + backoff(attempts)

    def record() -> None:
        # One transaction, and the audit row only with the change: written again after a
        # lost connection, it neither changes the row twice nor logs the attempt twice.
        with transaction.atomic():
            changed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.FAILED if permanent else DeliveryStatus.RETRY,
                last_error=reason[:2000],
                next_attempt_at=retry_at,
                updated_at=now,
            )
            if changed:
                log_action("delivery.failed" if permanent else "delivery.retry", delivery, attempts=attempts)

    _retrying(f"recording a failed attempt of delivery {delivery.pk}", record)
    logger.warning("delivery %s attempt %s %s", delivery.pk, attempts, "failed" if permanent else "will retry")
    return retry_at


def _release(delivery: Delivery, until: datetime) -> None:
    """Give a claimed delivery back without counting an attempt (its recipient's pace)."""
    _retrying(f"giving delivery {delivery.pk} back", lambda: Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.QUEUED, next_attempt_at=until, attempts=F("attempts") - 1,
             updated_at=timezone.now()))  # fmt: skip


def _release_unsent(deliveries: Sequence[Delivery], claimed_at: datetime) -> None:
    """Give back the claimed deliveries a batch did not get to, as they were, without counting an attempt.

    Only rows still under this batch's claim (``sending`` since ``claimed_at``) are touched.
    """
    if deliveries:
        _retrying("giving back the rest of a batch", lambda: Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], status=DeliveryStatus.SENDING, sending_started_at=claimed_at
        ).update(status=DeliveryStatus.QUEUED, attempts=F("attempts") - 1, updated_at=timezone.now()))  # fmt: skip


def _schedule(when: datetime | None) -> None:
    from .tasks import send_queued  # noqa: PLC0415 (tasks imports this module)

    if when is None:
        # Enqueueing twice does no harm (two tasks wait), so a lost connection is retried.
        transaction.on_commit(lambda: _retrying("waking a sender", wake_senders))
    else:
        transaction.on_commit(lambda: send_queued.using(run_after=when).enqueue())


def wake_senders() -> None:
    """Make sure a send task is waiting to run: enqueue one unless one already waits.

    A task only means "look at the queue", so one waiting task serves every delivery
    queued before it starts; one per delivery would leave the workers running thousands
    of tasks that find nothing left to send. A task that is already running does not
    count: it may have loaded its batch before the newest delivery was committed.
    """
    from .tasks import send_queued  # noqa: PLC0415 (tasks imports this module)

    backend = send_queued.get_backend()
    if isinstance(backend, DatabaseBackend):
        waiting = DBTaskResult.objects.ready().filter(
            task_path=send_queued.module_path, backend_name=backend.alias, queue_name=send_queued.queue_name
        )
        if waiting.exists():
            return
    send_queued.enqueue()


# What a batch reads: the columns sending, pacing and recording an attempt use, and no
# more (a campaign's background text, say, would travel once per delivery).
_BATCH_FIELDS = (
    "letter_id", "recipient_id", "channel", "status", "attempts", "copy_to_sender", "next_attempt_at",
    "sending_started_at",
    "letter__subject", "letter__body", "letter__sender_name", "letter__sender_town", "letter__sender_country",
    "letter__campaign__title", "letter__campaign__reply_address", "letter__counted_at",
    "letter__text_language", "letter__version_languages", "letter__campaign__language",
    "letter__campaign__organisation__name", "letter__campaign__organisation__short_name",
    "letter__supporter__email",
    "recipient__name", "recipient__role", "recipient__organisation_name", "recipient__email", "recipient__language",
    "recipient__max_emails_per_minute", "recipient__daily_digest", "hand_in_pack", "update", "supporter",
)  # fmt: skip


def send_queued(*, limit: int = BATCH_SIZE) -> int:
    """Send due email deliveries over one SMTP connection; return how many were accepted.

    One query loads up to ``limit`` due deliveries with everything their messages need,
    one statement claims them, and each is marked sent right after the server accepts it,
    before the next one goes. When the batch is full, another task is woken first, so
    a second worker can take the next batch while this one sends.

    A database connection lost where a retry is not safe (the claim), or lost for good,
    stops the batch: it returns 0 on a new connection, after waking the next task, so the
    worker's loop (which records the task's result) goes on. What the batch claimed and
    did not send waits in ``sending`` for the sweeper; nothing is lost.
    """
    try:
        return _send_queued(limit)
    except _LOST:
        if connection.in_atomic_block:
            raise
        logger.warning("database connection lost during a batch; the next task goes on", exc_info=True)
        _retrying("waking a sender after a lost connection", wake_senders, lost=True)
        return 0


def _send_queued(limit: int) -> int:
    now = timezone.now()
    candidates = _retrying("loading a batch", lambda: list(
        Delivery.objects.filter(_due(now))
        .select_related("letter__campaign__organisation", "letter__supporter", "recipient")
        .only(*_BATCH_FIELDS)
        .order_by("next_attempt_at", "id")[:limit]
    ))  # fmt: skip
    if not candidates:
        return 0
    with _commits_without_flush_wait():
        return _send_batch(candidates, now, full=len(candidates) == limit)


def _send_batch(candidates: list[Delivery], now: datetime, *, full: bool) -> int:
    """Claim the loaded candidates and send the ones this worker got."""
    claimed = _claim_batch([d.pk for d in candidates], now)
    if full:
        _schedule(None)  # more may be waiting
    batch = [d for d in candidates if d.pk in claimed]  # the rest: another worker has them
    if not batch:
        return 0
    # A letter written once per language: its versions, in one query for the batch (none
    # when no letter of the batch has one).
    letter_texts.preload_versions(d.letter for d in batch)
    for delivery in batch:  # what the claim wrote, without reading the rows again
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.sending_started_at = now
    mailer = mailers.default
    try:
        mailer.open()
    except (OSError, smtplib.SMTPException) as exc:
        return _connection_failed(batch, f"Could not connect: {type(exc).__name__}: {exc}")
    outcomes: list[_Outcome] = []
    attempted = 0
    try:
        for delivery in batch:
            if timezone.now() - now >= CLAIM_HOLD:
                # A slow server: give the rest back long before the sweeper would think
                # this worker dead and hand them to another.
                break
            attempted += 1
            outcome = _attempt(mailer, delivery)
            outcomes.append(outcome)
            if outcome.connection_lost:
                break
    finally:
        _close(mailer)
        if attempted < len(batch):
            # The rest never went out (the server went away, the batch ran long, or an
            # error stopped it): back to the queue now rather than after the sweeper.
            # A delivery whose attempt raised stays "sending" for the sweeper: it may
            # have been accepted before the error.
            _release_unsent(batch[attempted:], now)
            _schedule(None)
    retry_times = [o.retry_at for o in outcomes if o.retry_at is not None]
    if retry_times:
        _schedule(min(retry_times))
    return sum(1 for o in outcomes if o.sent)


def _connection_failed(batch: list[Delivery], reason: str) -> int:
    """No connection at all: every claimed delivery of the batch records a failed attempt."""
    retry_times = []
    for delivery in batch:
        retry_at = _fail(delivery, reason, permanent=False, now=timezone.now())
        if retry_at is not None:
            retry_times.append(retry_at)
    if retry_times:
        _schedule(min(retry_times))
    return 0


@dataclass(frozen=True)
class _Outcome:
    sent: bool = False
    retry_at: datetime | None = None
    connection_lost: bool = False


def _attempt(mailer: Any, delivery: Delivery) -> _Outcome:
    """Try one claimed delivery on an open connection and record what happened."""
    try:
        message = _message(delivery)
    except NotWanted as exc:
        _fail(delivery, str(exc), permanent=True, now=timezone.now())
        return _Outcome()
    if isinstance(mailer, SmtpBackend):
        message.prepare(mailer.policy)  # the bytes the SMTP backend sends, signed
    now = timezone.now()
    paced = _retrying(f"checking the pace of delivery {delivery.pk}", lambda: _paced_until(delivery, now))
    if paced is not None:
        _release(delivery, paced)
        return _Outcome(retry_at=paced)
    try:
        # One message per call: it is marked sent before the next one goes.
        accepted = mailer.send_messages([message])
    except smtplib.SMTPResponseException as exc:
        error = exc.smtp_error
        reason = f"{exc.smtp_code} {error.decode(errors='replace') if isinstance(error, bytes) else error}"
        retry_at = _fail(delivery, reason, permanent=500 <= exc.smtp_code < 600, now=now)
        # 421: the server is closing the connection; the rest of the batch waits.
        return _Outcome(retry_at=retry_at, connection_lost=exc.smtp_code == 421)
    except (OSError, smtplib.SMTPException) as exc:
        retry_at = _fail(delivery, f"{type(exc).__name__}: {exc}", permanent=False, now=now)
        return _Outcome(retry_at=retry_at, connection_lost=True)
    if not accepted:
        _fail(delivery, "The mail backend accepted no recipient for this message.", permanent=True, now=now)
        return _Outcome()
    _mark_sent(delivery, "250 accepted")
    if delivery.letter is not None and delivery.letter.counted_at is None:
        # The public counter: a letter counts once, when sent (a section's pack has no letter).
        _retrying(f"counting the letter of delivery {delivery.pk}", lambda: _count(delivery))
    return _Outcome(sent=True)


def _count(delivery: Delivery) -> None:
    letter = delivery.sent_letter
    counter.count_letter(letter_id=letter.pk, campaign_id=letter.campaign_id)
    letter.counted_at = timezone.now()


def _close(mailer: Any) -> None:
    try:
        mailer.close()
    except (OSError, smtplib.SMTPException):
        logger.warning("SMTP connection did not close cleanly")


def sweep_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    """Return deliveries whose worker died mid-send to the queue; return how many."""
    now = timezone.now()
    count = Delivery.objects.filter(status=DeliveryStatus.SENDING, sending_started_at__lt=now - older_than).update(
        status=DeliveryStatus.RETRY, next_attempt_at=now, updated_at=now
    )
    if count:
        logger.warning("returned %s stale deliveries to the queue", count)
        _schedule(None)
    return count


def schedule_due() -> bool:
    """Make sure a send task waits if due deliveries are waiting (e.g. their task was lost)."""
    if Delivery.objects.filter(_due(timezone.now())).exists():
        wake_senders()
        return True
    return False
