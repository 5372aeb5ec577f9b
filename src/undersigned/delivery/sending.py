"""The email engine: sending queued deliveries, losing none and sending none twice.

The ``Delivery`` row is the truth; tasks only say "look at the queue".

- **Claiming.** A worker claims a due delivery with a conditional update
  (``queued|retry`` and due → ``sending``). Only the worker whose update changed the
  row sends it, so two workers (or a repeated task) never send the same delivery.
- **One message at a time.** A delivery is marked ``sent`` right after the server
  accepted it, before the next message of the batch. A worker killed mid-batch can
  leave at most the message in flight unmarked.
- **Sweeper.** A delivery left in ``sending`` for longer than ``STALE_AFTER`` (its
  worker died) returns to the queue. That is the one case where a letter can go out
  twice: the server had accepted it, the worker died before marking it.
- **Retries.** Connection errors, timeouts and 4xx answers retry with exponential
  backoff and jitter, up to ``MAX_ATTEMPTS``; 5xx answers fail at once with the
  server's reason for organisers to see.
- **Batches.** One SMTP connection carries up to ``BATCH_SIZE`` messages.
- **Pace.** A recipient with ``max_emails_per_minute`` gets no more than that; the rest
  wait, due again when the minute has passed.
"""

from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import mailers
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from undersigned.campaigns.enums import Channel
from undersigned.core.models import log_action
from undersigned.letters.queries import text_for

from .addresses import bounce_address
from .channels.email import build_message, message_id_for
from .models import Delivery, DeliveryStatus, Evidence

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=6)
STALE_AFTER = timedelta(seconds=settings.SEND_STALE_SECONDS)


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
    # Recipients who take a daily digest get their letters in it (delivery/digests.py).
    return _claimable(now) & Q(recipient__daily_digest=False)


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
            status=DeliveryStatus.SENDING, sending_started_at=now, attempts=F("attempts") + 1, updated_at=now
        )
    )


def _paced_until(delivery: Delivery, now: datetime) -> datetime | None:
    """When this recipient may get the next email, if their pace says not now."""
    limit = delivery.recipient.max_emails_per_minute
    if not limit:
        return None
    window_start = now - timedelta(minutes=1)
    # At most `limit` rows are read: the check stays cheap however busy the recipient.
    recent = list(
        Delivery.objects.filter(recipient_id=delivery.recipient_id, channel=Channel.EMAIL, sent_at__gt=window_start)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    oldest = min(t for t in recent if t is not None)
    return oldest + timedelta(minutes=1)


def _message(delivery: Delivery) -> object:
    letter = delivery.letter
    recipient = delivery.recipient
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
    )


def _mark_sent(delivery: Delivery, response: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SENT,
            evidence=Evidence.PLATFORM_DELIVERED,
            message_id=message_id_for(delivery.pk),
            smtp_response=response[:500],
            last_error="",
            sent_at=now,
            next_attempt_at=None,
            updated_at=now,
        )
        log_action("delivery.sent", delivery, channel=delivery.channel)


def _fail(delivery: Delivery, reason: str, *, permanent: bool, now: datetime) -> datetime | None:
    """Record a failed attempt; return when to try again, or None when it has failed for good."""
    attempts = delivery.attempts
    if not permanent and attempts >= MAX_ATTEMPTS:
        permanent = True
        reason = f"Gave up after {attempts} attempts. Last error: {reason}"
    retry_at = None if permanent else now + backoff(attempts)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED if permanent else DeliveryStatus.RETRY,
        last_error=reason[:2000],
        next_attempt_at=retry_at,
        updated_at=now,
    )
    log_action("delivery.failed" if permanent else "delivery.retry", delivery, attempts=attempts)
    logger.warning("delivery %s attempt %s %s", delivery.pk, attempts, "failed" if permanent else "will retry")
    return retry_at


def _release(delivery: Delivery, until: datetime) -> None:
    """Give a claimed delivery back without counting an attempt (pace, or an unsent batch rest)."""
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.QUEUED, next_attempt_at=until, attempts=F("attempts") - 1, updated_at=timezone.now()
    )


def _schedule(when: datetime | None) -> None:
    from .tasks import send_queued

    if when is None:
        transaction.on_commit(send_queued.enqueue)
    else:
        transaction.on_commit(lambda: send_queued.using(run_after=when).enqueue())


def send_queued(*, limit: int = BATCH_SIZE) -> int:
    """Send due email deliveries over one SMTP connection; return how many were accepted.

    Deliveries are claimed one at a time, just before each is sent, so a worker that
    dies holds at most one delivery in ``sending``.
    """
    now = timezone.now()
    # One query loads the batch with everything a message needs; each delivery is still
    # claimed on its own, right before it is sent.
    candidates = list(
        Delivery.objects.filter(_due(now))
        .select_related("letter__campaign__organisation", "letter__supporter", "recipient")
        .order_by("next_attempt_at", "id")[:limit]
    )
    if not candidates:
        return 0
    connection = mailers.default
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        return _connection_failed([d.pk for d in candidates], f"Could not connect: {type(exc).__name__}: {exc}")
    outcomes: list[_Outcome] = []
    try:
        for delivery in candidates:
            if not _claim(delivery.pk, timezone.now()):
                continue  # another worker has it
            # What the claim wrote, without reading the row again.
            delivery.status = DeliveryStatus.SENDING
            delivery.attempts += 1
            outcomes.append(_attempt(connection, delivery))
            if outcomes[-1].connection_lost:
                break
    finally:
        _close(connection)
    retry_times = [o.retry_at for o in outcomes if o.retry_at is not None]
    if retry_times:
        _schedule(min(retry_times))
    if len(candidates) == limit or (outcomes and outcomes[-1].connection_lost):
        _schedule(None)  # more may be waiting
    return sum(1 for o in outcomes if o.sent)


def _connection_failed(candidates: list[int], reason: str) -> int:
    retry_times = []
    for pk in candidates:
        now = timezone.now()
        if _claim(pk, now):
            retry_at = _fail(Delivery.objects.get(pk=pk), reason, permanent=False, now=now)
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


def _attempt(connection: Any, delivery: Delivery) -> _Outcome:
    """Try one claimed delivery on an open connection and record what happened."""
    now = timezone.now()
    paced = _paced_until(delivery, now)
    if paced is not None:
        _release(delivery, paced)
        return _Outcome(retry_at=paced)
    try:
        # One message per call: it is marked sent before the next one goes.
        accepted = connection.send_messages([_message(delivery)])
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
    return _Outcome(sent=True)


def _close(connection: Any) -> None:
    try:
        connection.close()
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
    """Enqueue a send task if due deliveries are waiting (e.g. their task was lost)."""
    if Delivery.objects.filter(_due(timezone.now())).exists():
        from .tasks import send_queued as send_queued_task

        send_queued_task.enqueue()
        return True
    return False
