"""Retention: the personal data of a campaign's letters is erased
``LETTER_RETENTION_DAYS`` after the campaign closed.

A letter's row stays, without its sender's name, town, address, subject, text, IP
hash or the copy that came back to its BCC address: what the results count (the
sender's country, the own-words percentage, the day, the deliveries and their evidence)
is left as it was, so every tally and the public counter stay equal to a recount
without moving.

A campaign closed when its deadline passed, or when an organiser set it closed or
archived (the audit row of that change says when).

Then the supporters those letters leave behind: a supporter whose every letter is
anonymised, and who has no endorsement, no comment and no consent still in force (a
grant not withdrawn since), is anonymised too (``supporters.services.anonymise_supporters``):
the row stays, because the letters counted in the results hang on it and so do the
consent records, which are append-only and stay as they were; its address, name, town,
country and postal address go. A supporter still needed keeps everything until it is not.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign
from undersigned.core.emails import mailbox_identity
from undersigned.core.models import ActionLog, log_action
from undersigned.delivery.models import Delivery
from undersigned.discussion.models import Comment
from undersigned.letters.models import Letter, LetterText
from undersigned.openletters.models import Endorsement
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentRecord, Supporter, erased

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
                sender_name="", sender_town="", sender_address="", subject="", body="", ip_hash="", version_languages=""
            )
            LetterText.objects.filter(letter_id__in=ids).delete()  # the letter in other languages
            Delivery.objects.filter(letter_id__in=ids).exclude(copy_text="").update(copy_text="")
            done += len(ids)
    if done:
        log_action("campaign.letters_anonymised", campaign, letters=done, days=settings.LETTER_RETENTION_DAYS)
    return done


@dataclass(frozen=True)
class Erased:
    letters: int  # letters anonymised
    supporters: int  # supporters anonymised


def erase_expired(*, now: datetime.datetime | None = None) -> Erased:
    """Housekeeping: anonymise the letters of every campaign closed longer than the
    retention period, then the supporters they leave with nothing that needs them."""
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
    supporters = erase_unneeded_supporters()
    if supporters:
        logger.info("anonymised %s supporters whose letters were all anonymised", supporters)
    return Erased(letters=total, supporters=supporters)


def erase_expired_letters(*, now: datetime.datetime | None = None) -> int:
    """``erase_expired``; returns how many letters were anonymised."""
    return erase_expired(now=now).letters


def _consents_in_force(supporter_ids: list[int]) -> set[int]:
    """Those of ``supporter_ids`` with a consent still in force: for some purpose and
    scope (campaign, open letter, organisation), their latest record grants it."""
    latest: dict[tuple[Any, ...], bool] = {}
    rows = (
        ConsentRecord.objects.filter(supporter_id__in=supporter_ids)
        .order_by("created_at", "id")
        .values_list("supporter_id", "purpose", "campaign_id", "open_letter_id", "organisation_id", "granted")
    )
    for supporter_id, purpose, campaign_id, open_letter_id, organisation_id, granted in rows:
        latest[(supporter_id, purpose, campaign_id, open_letter_id, organisation_id)] = granted
    return {key[0] for key, granted in latest.items() if granted}


def _still_needed(supporters: list[tuple[int, str]]) -> set[int]:
    """Those of ``(id, email)`` whose address an endorsement or a comment still uses, or
    who have a consent in force."""
    identities: dict[str, list[int]] = {}
    for supporter_id, email in supporters:
        identities.setdefault(mailbox_identity(email), []).append(supporter_id)
    used = set(Endorsement.objects.filter(email_normalised__in=identities).values_list("email_normalised", flat=True))
    used |= set(Comment.objects.filter(email_key__in=identities).values_list("email_key", flat=True))
    needed = {supporter_id for identity in used for supporter_id in identities[identity]}
    return needed | _consents_in_force([supporter_id for supporter_id, _ in supporters])


def erase_unneeded_supporters() -> int:
    """Anonymise the supporters left with nothing that needs them (see the module's
    docstring), a chunk at a time; return how many."""
    # Supporters with letters, every one of them anonymised, not anonymised themselves.
    candidates = (
        Supporter.objects.filter(letters__isnull=False)
        .exclude(letters__in=Letter.objects.filter(_personal()))
        .exclude(erased())
        .distinct()
        .order_by("pk")
    )
    done, after = 0, 0
    while True:
        chunk = list(candidates.filter(pk__gt=after).values_list("pk", "email")[:CHUNK])
        if not chunk:
            break
        after = chunk[-1][0]
        with transaction.atomic():
            # Locked and asked again: a letter written or an endorsement confirmed since the
            # chunk was read keeps its supporter.
            locked = list(
                Supporter.objects.select_for_update()
                .filter(pk__in=[supporter_id for supporter_id, _ in chunk])
                .exclude(letters__in=Letter.objects.filter(_personal()))
                .values_list("pk", "email")
            )
            needed = _still_needed(locked)
            done += supporter_services.anonymise_supporters(
                supporter_ids=[supporter_id for supporter_id, _ in locked if supporter_id not in needed]
            )
    return done
