"""Retention: the personal data of a campaign's letters is erased
``LETTER_RETENTION_DAYS`` after the campaign closed.

A letter's row stays, without its sender's name, town, address, subject, text, IP
hash or the copy that came back to its BCC address: what the results count (the
sender's country, the own-words percentage, the day, the deliveries and their evidence)
is left as it was, so every tally and the public counter stay equal to a recount
without moving.

A campaign closed when its deadline passed, or when an organiser set it closed or
archived (the audit row of that change says when).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign
from undersigned.core.models import ActionLog, log_action
from undersigned.delivery.models import Delivery
from undersigned.letters.models import Letter

logger = logging.getLogger(__name__)

CHUNK = 500  # letters anonymised per transaction

_ENDED = [CampaignStatus.CLOSED.value, CampaignStatus.ARCHIVED.value]


def closed_at(campaign: Campaign, *, now: datetime.datetime) -> datetime.datetime | None:
    """When the campaign closed, or None while it is open (or a draft)."""
    moments = []
    if campaign.deadline is not None and campaign.deadline <= now and campaign.status != CampaignStatus.DRAFT:
        moments.append(campaign.deadline)
    if campaign.status in _ENDED:
        changed = (
            ActionLog.objects.filter(
                action="campaign.status", object_type="campaigns.campaign", object_id=str(campaign.pk)
            )
            .filter(data__after__in=_ENDED)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        moments.append(changed or campaign.updated_at)
    return min(moments) if moments else None


def _personal() -> Q:
    """Letters that still hold anything personal."""
    return ~Q(sender_name="") | ~Q(sender_town="") | ~Q(sender_address="") | ~Q(body="") | ~Q(ip_hash="")


def anonymise_letters(campaign: Campaign) -> int:
    """Erase the personal fields of every letter of ``campaign``, a chunk at a time."""
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                Letter.objects.select_for_update(skip_locked=True)
                .filter(_personal(), campaign=campaign)
                .order_by("pk")
                .values_list("pk", flat=True)[:CHUNK]
            )
            if not ids:
                break
            Letter.objects.filter(pk__in=ids).update(
                sender_name="", sender_town="", sender_address="", subject="", body="", ip_hash=""
            )
            Delivery.objects.filter(letter_id__in=ids).exclude(copy_text="").update(copy_text="")
            done += len(ids)
    if done:
        log_action("campaign.letters_anonymised", campaign, letters=done, days=settings.LETTER_RETENTION_DAYS)
    return done


def erase_expired_letters(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: anonymise the letters of every campaign closed longer than the
    retention period. Returns how many letters were anonymised."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.LETTER_RETENTION_DAYS)
    candidates = Campaign.objects.filter(
        Q(status__in=_ENDED) | Q(deadline__lte=cutoff), letters__in=Letter.objects.filter(_personal())
    ).distinct()
    total = 0
    for campaign in candidates:
        closed = closed_at(campaign, now=now)
        if closed is not None and closed <= cutoff:
            total += anonymise_letters(campaign)
    if total:
        logger.info("anonymised %s letters of campaigns closed over %s days ago", total, settings.LETTER_RETENTION_DAYS)
    return total
