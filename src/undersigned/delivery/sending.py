"""Sending queued email deliveries.

The ``Delivery`` row is the truth. A worker claims a delivery with a conditional update
(queued → sending); only the worker whose update changed the row sends, so a task that
runs twice sends once. The delivery is marked sent as soon as the server accepted it.
Retries with backoff, a sweeper for deliveries stuck in ``sending`` and bounces are the
delivery engine's work (see docs/architecture.md).
"""

from __future__ import annotations

import logging
import smtplib

from django.core.mail import mailers
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from undersigned.core.models import log_action
from undersigned.letters.personalisation import personalise

from .channels.email import build_message, message_id_for
from .models import Delivery, DeliveryStatus, Evidence

logger = logging.getLogger(__name__)


def send_one(*, delivery_id: int) -> str:
    claimed = Delivery.objects.filter(pk=delivery_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRY]).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return "not claimed"
    delivery = Delivery.objects.select_related("letter__campaign__organisation", "letter__supporter", "recipient").get(
        pk=delivery_id
    )
    letter = delivery.letter
    recipient = delivery.recipient
    text = personalise(
        subject=letter.subject,
        body=letter.body,
        sender_name=letter.sender_name,
        sender_town=letter.sender_town,
        sender_country=letter.sender_country,
        recipient_name=recipient.name,
        recipient_role=recipient.role,
        recipient_organisation=recipient.organisation_name,
        campaign_title=letter.campaign.title,
    )
    message = build_message(
        delivery_id=delivery.pk,
        sender_name=letter.sender_name,
        sender_email=letter.supporter.email,
        organisation=letter.campaign.organisation.display_short_name,
        recipient_name=recipient.name,
        recipient_email=recipient.email,
        subject=text.subject,
        body=text.body,
    )
    try:
        mailers.default.send_messages([message])
    except smtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.smtp_code < 600
        _fail(delivery, f"{exc.smtp_code} {exc.smtp_error!r}", permanent=permanent)
        return "failed" if permanent else "retry"
    except (OSError, smtplib.SMTPException) as exc:
        _fail(delivery, f"{type(exc).__name__}: {exc}", permanent=False)
        return "retry"
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT,
            evidence=Evidence.PLATFORM_DELIVERED,
            message_id=message_id_for(delivery.pk),
            last_error="",
            updated_at=timezone.now(),
        )
        log_action("delivery.sent", delivery, channel=delivery.channel)
    logger.info("delivery %s sent", delivery.pk)
    return "sent"


def _fail(delivery: Delivery, reason: str, *, permanent: bool) -> None:
    status = DeliveryStatus.FAILED if permanent else DeliveryStatus.RETRY
    Delivery.objects.filter(pk=delivery.pk).update(status=status, last_error=reason[:2000], updated_at=timezone.now())
    log_action("delivery.failed" if permanent else "delivery.retry", delivery)
    logger.warning("delivery %s %s", delivery.pk, status)
