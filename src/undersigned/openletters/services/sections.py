"""Handing a letter addressed to a recipient group to every member (section) at once.

- ``start_batch``: one ``PrintJob`` of kind "sections" builds every member's pack and one
  ZIP of them all (``handin.build_batch``). While a batch waits or builds, starting again
  returns it (a double click starts one batch, not two); a stalled batch (its worker
  died) is failed, and the new batch takes over the packs it had finished, so the work
  goes on where it stopped.
- ``send_packs``: one email ``Delivery`` per member with an address, through the
  delivery engine (claimed, retried, paced per recipient, the server's answer kept,
  bounces read from its VERP address). That delivery's evidence is the email's: "platform
  delivered" once the server accepted it, back to none when it bounced.
- ``record_handed_in`` / ``record_reply``: what the organiser saw happen (handed in in
  person or by post, a reply received). Evidence only ever climbs.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Recipient
from undersigned.core.models import log_action
from undersigned.delivery import bulk_print, job_errors, sending
from undersigned.delivery.models import Delivery, Evidence, PrintJob, PrintJobKind, PrintJobStatus
from undersigned.delivery.tasks import build_print_job
from undersigned.openletters.models import HandedInHow, HandInPack, OpenLetter


def members(letter: OpenLetter) -> list[Recipient]:
    if letter.recipient_group_id is None:
        return []
    return list(Recipient.objects.filter(groups=letter.recipient_group_id).order_by("name", "id"))


def latest_batch(letter: OpenLetter) -> PrintJob | None:
    return (
        PrintJob.objects.filter(kind=PrintJobKind.SECTIONS, open_letter=letter)
        .select_related("requested_by")
        .order_by("-id")
        .first()
    )


def latest_done_batch(letter: OpenLetter) -> PrintJob | None:
    return (
        PrintJob.objects.filter(kind=PrintJobKind.SECTIONS, open_letter=letter, status=PrintJobStatus.DONE)
        .exclude(file="")
        .order_by("-id")
        .first()
    )


@dataclass(frozen=True)
class Started:
    job: PrintJob
    created: bool


def start_batch(*, letter: OpenLetter, actor: Any) -> Started:
    """Start building every member's pack (a worker builds them); see the module's docstring."""
    if letter.recipient_group_id is None:
        raise ValueError("Only a letter addressed to a recipient group has sections")
    requested_by = actor if isinstance(actor, get_user_model()) and actor.is_authenticated else None
    with transaction.atomic():
        # The letter's row is the lock: two clicks at once start one batch.
        OpenLetter.objects.select_for_update().filter(pk=letter.pk).values_list("pk", flat=True).first()
        previous = latest_batch(letter)
        if previous is not None and previous.status in bulk_print.ACTIVE:
            if not bulk_print.is_stalled(previous):
                return Started(previous, created=False)
            if not bulk_print.fail_stalled(
                previous,
                reason=job_errors.RESTARTED.stored(),
                actor=actor,
            ):
                return Started(previous, created=False)  # it moved after all: still the one batch
            previous.status = PrintJobStatus.FAILED
        job = PrintJob.objects.create(
            kind=PrintJobKind.SECTIONS, open_letter=letter, requested_by=requested_by, total=len(members(letter))
        )
        if previous is not None and previous.status == PrintJobStatus.FAILED:
            # The failed batch's finished parts are still in storage: this one goes on from them.
            HandInPack.objects.filter(letter=letter, job=previous).exclude(pdf_part="").update(job=job)
        log_action("hand_in.batch_started", job, actor=actor, letter=letter.pk)
        # robust: a batch whose task is lost stalls and is failed by housekeeping, to be started again.
        transaction.on_commit(partial(build_print_job.enqueue, job.pk), robust=True)
    return Started(job, created=True)


def packs_by_member(letter: OpenLetter) -> dict[int, HandInPack]:
    return {row.recipient_id: row for row in HandInPack.objects.filter(letter=letter).select_related("job")}


def latest_deliveries(letter: OpenLetter) -> dict[int, Delivery]:
    """Each member's pack email (by recipient id), if one was queued."""
    rows = Delivery.objects.filter(hand_in_pack__letter=letter, channel=Channel.EMAIL).select_related("hand_in_pack")
    return {row.recipient_id: row for row in rows if row.recipient_id is not None}


@dataclass(frozen=True)
class Sent:
    queued: int
    already: int
    without_email: list[Recipient]
    not_built: list[Recipient]


def send_packs(*, letter: OpenLetter, actor: Any) -> Sent:
    """Queue one email per member whose pack the latest finished batch holds.

    A member already emailed its pack (a delivery exists) is not emailed again, so a
    reload or a second click queues nothing twice. Members without an address, or
    whose address was flagged by a bounce, are to be handed in another way.
    """
    batch = latest_done_batch(letter)
    packs = packs_by_member(letter)
    queued = already = 0
    without_email: list[Recipient] = []
    not_built: list[Recipient] = []
    with transaction.atomic():
        for recipient in members(letter):
            pack = packs.get(recipient.pk)
            if batch is None or pack is None or pack.job_id != batch.pk:
                not_built.append(recipient)
                continue
            if not recipient.email or recipient.email_flagged_at is not None:
                without_email.append(recipient)
                continue
            _, created = Delivery.objects.get_or_create(
                hand_in_pack=pack, channel=Channel.EMAIL, defaults={"recipient": recipient}
            )
            if not created:
                already += 1
                continue
            queued += 1
        if queued:
            log_action("hand_in.emails_queued", letter, actor=actor, count=queued)
            transaction.on_commit(sending.wake_senders)
    return Sent(queued=queued, already=already, without_email=without_email, not_built=not_built)


def record_handed_in(*, pack: HandInPack, how: str, actor: Any) -> bool:
    """The organiser handed the pack in another way; return whether anything changed."""
    if how not in HandedInHow.values or how == HandedInHow.EMAIL:
        raise ValueError(f"not a way to hand in by hand: {how!r}")
    now = timezone.now()
    with transaction.atomic():
        changed = (
            HandInPack.objects.filter(pk=pack.pk)
            .exclude(handed_in_how=how)
            .update(handed_in_how=how, handed_in_at=now, updated_at=now)
        )
        HandInPack.objects.filter(pk=pack.pk, evidence__lt=Evidence.SELF_REPORTED).update(
            evidence=Evidence.SELF_REPORTED
        )
        if changed:
            log_action("hand_in.recorded", pack, actor=actor, how=how)
    return bool(changed)


def record_reply(*, pack: HandInPack, actor: Any) -> bool:
    """The member replied: the top of the ladder. Return whether it was new."""
    now = timezone.now()
    with transaction.atomic():
        changed = HandInPack.objects.filter(pk=pack.pk, replied_at__isnull=True).update(
            replied_at=now, evidence=Evidence.REPLY_RECEIVED, updated_at=now
        )
        if changed:
            log_action("hand_in.reply_recorded", pack, actor=actor)
            Delivery.objects.filter(hand_in_pack=pack).update(evidence=Evidence.REPLY_RECEIVED, updated_at=now)
    return bool(changed)


def pack_for(letter: OpenLetter, recipient: Recipient) -> HandInPack:
    pack, _ = HandInPack.objects.get_or_create(letter=letter, recipient=recipient)
    return pack


def delete_abandoned_parts(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: delete the parts of a batch that stopped and was never started again.

    A batch killed mid-way leaves its members' finished PDFs and CSVs in the media storage
    for the next batch to go on from. They name endorsers, so like every print they are
    kept ``PRINT_RETENTION_DAYS`` at the most: after that without a batch that waits or
    builds, they go.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.PRINT_RETENTION_DAYS)
    stale = (
        HandInPack.objects.exclude(pdf_part="", csv_part="")
        .exclude(job__status__in=bulk_print.ACTIVE)
        .filter(updated_at__lt=cutoff)
    )
    deleted = 0
    for pack in stale:
        for part in (pack.pdf_part, pack.csv_part):
            if part:
                default_storage.delete(part)
        if HandInPack.objects.filter(pk=pack.pk, updated_at=pack.updated_at).update(pdf_part="", csv_part=""):
            log_action("hand_in.parts_deleted", pack, days=settings.PRINT_RETENTION_DAYS)
            deleted += 1
    return deleted
