"""An organisation's updates to the people of a campaign or an open letter who agreed to hear more.

- ``save_draft``: write or rewrite a draft (subject, Markdown body, language, countries,
  and for a campaign addressed to a group its sections: the members letters went to),
  and its versions in other languages (``UpdateTranslation``), replaced as a whole.
- ``queue``: the organiser pressed send. A conditional update (``draft`` → ``queued``)
  makes a double click or a second POST queue nothing twice; the fan-out runs in a task.
- ``fan_out``: the task. It reads whom the update reaches (``supporters.updates``) and
  writes one email ``Delivery`` per supporter, in batches of ``FAN_OUT_BATCH``, each its
  own transaction, never one huge one; a unique constraint (update, supporter) makes a
  repeated or resumed task add nobody twice. Each batch wakes the delivery engine, which
  queues, retries, records the server's answer and reads bounces as for letters.

Whether a supporter unsubscribed after the update was queued is asked again when their
email is built (``openletters.update_mail``): then nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign
from undersigned.core.models import log_action
from undersigned.core.sanitising import single_line
from undersigned.delivery.models import Delivery, DeliveryStatus
from undersigned.delivery.sending import wake_senders
from undersigned.letters.queries import supporters_by_section
from undersigned.openletters import queries as openletter_queries
from undersigned.openletters.models import (
    UPDATE_BODY_MAX_CHARS,
    UPDATE_SUBJECT_MAX_CHARS,
    OpenLetter,
    Update,
    UpdateStatus,
    UpdateTranslation,
)
from undersigned.supporters import updates as supporter_updates

FAN_OUT_BATCH = 500
# A queued update whose fan-out has not moved for this long lost its task (the worker
# died, the task was never enqueued): the worker's housekeeping enqueues it again.
FAN_OUT_STALLED_AFTER = timedelta(minutes=10)


class UpdateNotDraft(Exception):
    """Only a draft can be changed; a queued or sent update stays as it went."""


def audience(update: Update) -> supporter_updates.Audience:
    return supporter_updates.Audience(
        organisation_id=update.organisation_id,
        campaign_id=update.campaign_id,
        open_letter_id=update.open_letter_id,
        countries=frozenset(update.countries),
    )


def _reached(update: Update) -> list[tuple[int, str]]:
    people = [(supporter.pk, supporter.email) for supporter in supporter_updates.audience(audience(update))]
    if update.sections and update.campaign_id is not None:
        by_section = supporters_by_section(update.campaign_id)
        wrote = set().union(*(by_section.get(int(section), set()) for section in update.sections))
        people = [(pk, email) for pk, email in people if pk in wrote]
    return people


def reached(update: Update) -> list[int]:
    """The ids of the supporters the update reaches now: who agreed (``supporters.updates``),
    narrowed to the chosen sections' letter writers when sections are chosen."""
    return [pk for pk, _email in _reached(update)]


def reach_by_language(update: Update) -> dict[str, int]:
    """How many of the people the update reaches now get each of its versions (language →
    count, the main language and each translation, even at 0): the choice the email makes
    for each (``update_mail.build_message``), read for everyone at once."""
    people = _reached(update)
    available = set(openletter_queries.update_translations(update.pk))
    spoken = openletter_queries.supporter_languages(
        supporters=people, campaign_id=update.campaign_id, open_letter_id=update.open_letter_id
    )
    counts = dict.fromkeys([update.language, *sorted(available)], 0)
    for pk, _email in people:
        counts[openletter_queries.version_language(spoken.get(pk), main=update.language, available=available)] += 1
    return counts


def _checked(subject: str, body: str) -> str:
    subject = single_line(subject)
    if not subject or not body.strip() or len(subject) > UPDATE_SUBJECT_MAX_CHARS or len(body) > UPDATE_BODY_MAX_CHARS:
        raise ValueError("subject or body out of bounds")
    return subject


def save_draft(
    *,
    actor: Any,
    subject: str,
    body: str,
    language: str,
    countries: Sequence[str],
    sections: Sequence[int] = (),
    translations: Mapping[str, tuple[str, str]] | None = None,
    update: Update | None = None,
    campaign: Campaign | None = None,
    open_letter: OpenLetter | None = None,
) -> Update:
    """Create a draft for ``campaign`` or ``open_letter``, or rewrite ``update`` (a draft).

    ``translations`` (language → subject, body): the draft's versions in other languages
    of ``settings.LANGUAGES``, all of them; one left out is removed. None keeps them.
    """
    subject = _checked(subject, body)
    versions: dict[str, tuple[str, str]] | None = None
    if translations is not None:
        known = dict(settings.LANGUAGES)
        versions = {}
        for code, (version_subject, version_body) in translations.items():
            if code not in known or code == language:
                raise ValueError("a version in an unknown language, or in the main one")
            versions[code] = (_checked(version_subject, version_body), version_body)
    with transaction.atomic():
        if update is None:
            if (campaign is None) == (open_letter is None):
                raise ValueError("name a campaign or an open letter")
            owner = campaign if campaign is not None else open_letter
            assert owner is not None  # noqa: S101 (checked just above)
            update = Update(
                organisation_id=owner.organisation_id,
                campaign=campaign,
                open_letter=open_letter,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            action = "update.created"
        else:
            locked = Update.objects.select_for_update().filter(pk=update.pk).first()
            if locked is None or locked.status != UpdateStatus.DRAFT:
                raise UpdateNotDraft
            update = locked
            action = "update.edited"
        update.subject = subject
        update.body = body
        update.language = language
        update.countries = sorted(set(countries))
        update.sections = sorted(set(sections)) if update.campaign_id is not None else []
        update.save()
        if versions is not None:
            UpdateTranslation.objects.filter(update=update).exclude(language__in=list(versions)).delete()
            for code, (version_subject, version_body) in versions.items():
                UpdateTranslation.objects.update_or_create(
                    update=update, language=code, defaults={"subject": version_subject, "body": version_body}
                )
        # Language codes only: no text of the update in the log.
        extra = {"versions": sorted(versions)} if versions else {}
        log_action(action, update, actor=actor, **extra)
    return update


def queue(*, update: Update, actor: Any) -> bool:
    """Queue a draft for sending, once; returns whether this call queued it."""
    from undersigned.openletters.tasks import fan_out_update  # noqa: PLC0415 (tasks imports this module)

    now = timezone.now()
    with transaction.atomic():
        changed = Update.objects.filter(pk=update.pk, status=UpdateStatus.DRAFT).update(
            status=UpdateStatus.QUEUED, queued_at=now, updated_at=now
        )
        if changed:
            log_action("update.queued", update, actor=actor)
            update_id = update.pk
            transaction.on_commit(lambda: fan_out_update.enqueue(update_id), robust=True)
    return bool(changed)


def _insert(update: Update, supporter_ids: Sequence[int]) -> None:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.bulk_create(
            [
                Delivery(
                    update_id=update.pk,
                    supporter_id=supporter_id,
                    channel=Channel.EMAIL,
                    status=DeliveryStatus.QUEUED,
                    created_at=now,
                    updated_at=now,
                )
                for supporter_id in supporter_ids
            ],
            ignore_conflicts=True,  # already there from an earlier run of the task
        )
        # The fan-out is moving: housekeeping leaves it alone (``resume_stalled``).
        Update.objects.filter(pk=update.pk).update(updated_at=now)
        transaction.on_commit(wake_senders, robust=True)


def fan_out(update_id: int) -> int:
    """Write the queued update's emails, a batch at a time; returns how many it reaches.

    Runs again safely: an update not ``queued`` is left alone, and a supporter who has
    their delivery already gets no second one.
    """
    update = Update.objects.filter(pk=update_id, status=UpdateStatus.QUEUED).first()
    if update is None:
        return 0
    # Ids only (ints), read before writing: the reads stream in chunks, the writes go in
    # batches of their own transactions.
    supporter_ids = reached(update)
    for start in range(0, len(supporter_ids), FAN_OUT_BATCH):
        _insert(update, supporter_ids[start : start + FAN_OUT_BATCH])
    now = timezone.now()
    with transaction.atomic():
        queued = Delivery.objects.filter(update_id=update.pk).count()
        changed = Update.objects.filter(pk=update.pk, status=UpdateStatus.QUEUED).update(
            status=UpdateStatus.SENT,
            fanned_out_at=now,
            audience_count=len(supporter_ids),
            queued_count=queued,
            updated_at=now,
        )
        if changed:
            log_action("update.fanned_out", update, reached=len(supporter_ids), queued=queued)
    return len(supporter_ids)


def resume_stalled() -> int:
    """Enqueue again the fan-out of queued updates that stopped moving; returns how many.

    Run by the worker's housekeeping. Claiming an update moves its ``updated_at`` (a
    conditional update), so of several workers one enqueues it, and once in every
    ``FAN_OUT_STALLED_AFTER``; a fan-out run twice adds nobody twice anyway.
    """
    from undersigned.openletters.tasks import fan_out_update  # noqa: PLC0415 (tasks imports this module)

    now = timezone.now()
    stalled = Q(status=UpdateStatus.QUEUED, updated_at__lt=now - FAN_OUT_STALLED_AFTER)
    resumed = 0
    for update_id in Update.objects.filter(stalled).values_list("pk", flat=True):
        if Update.objects.filter(stalled, pk=update_id).update(updated_at=now):
            fan_out_update.enqueue(update_id)
            resumed += 1
    return resumed
