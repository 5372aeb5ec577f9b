"""Hand-in packs: starting a pack's print job (a worker builds it, ``handin.py``) and
recording each download in the audit log, as for the letter's other exports."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from undersigned.campaigns.models import Recipient
from undersigned.core.models import log_action
from undersigned.delivery import bulk_print, job_errors
from undersigned.delivery.models import PrintJob, PrintJobKind, PrintJobStatus
from undersigned.delivery.tasks import build_print_job
from undersigned.openletters import handin
from undersigned.openletters.models import (
    OpenLetter,
)


def start_hand_in(*, letter: OpenLetter, recipient: Recipient | None, actor: Any) -> PrintJob:
    """Start building a hand-in pack PDF (for one addressee, or all); a worker builds it.

    Idempotent for a double click: while the same pack waits or builds, that job is
    returned. A stalled one (its worker died) is marked failed and a new one starts.
    """
    requested_by = actor if isinstance(actor, get_user_model()) and actor.is_authenticated else None
    with transaction.atomic():
        OpenLetter.objects.select_for_update().filter(pk=letter.pk).values_list("pk", flat=True).first()
        active = (
            PrintJob.objects.filter(
                kind=PrintJobKind.HAND_IN, open_letter=letter, recipient=recipient, status__in=bulk_print.ACTIVE
            )
            .order_by("-id")
            .first()
        )
        if active is not None:
            if not bulk_print.is_stalled(active):
                return active
            now = timezone.now()
            PrintJob.objects.filter(pk=active.pk, updated_at=active.updated_at).update(
                status=PrintJobStatus.FAILED,
                error=job_errors.RESTARTED.stored(),
                finished_at=now,
                updated_at=now,
            )
        _, named = handin.counts(handin.Pack(letter, recipient))
        job = PrintJob.objects.create(
            kind=PrintJobKind.HAND_IN,
            open_letter=letter,
            recipient=recipient,
            requested_by=requested_by,
            total=named,
        )
        log_action("hand_in.started", job, actor=actor, letter=letter.pk, recipient=recipient.pk if recipient else None)
        # robust: a job whose task is lost stalls and is failed by housekeeping, to be started again.
        transaction.on_commit(partial(build_print_job.enqueue, job.pk), robust=True)
    return job


def record_hand_in_download(*, letter: OpenLetter, recipient: Recipient | None, file_format: str, actor: Any) -> None:
    """Hand-in packs name people: who downloads one is kept."""
    log_action(
        "hand_in.downloaded", letter, actor=actor, format=file_format, recipient=recipient.pk if recipient else None
    )


def record_open_letter_export(*, letter: OpenLetter, what: str, actor: Any) -> None:
    """An open letter's export (endorsements, endorsers who agreed to hear more) names
    people: who downloads one, and which, is kept."""
    log_action("export.downloaded", letter, actor=actor, what=what)
