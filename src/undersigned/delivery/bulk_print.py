"""Print jobs: a bulk print (or a hand-in pack) built by a worker, watched and kept tidy.

A print job's row is the truth: the worker claims it with a conditional update
(queued → running), moves ``done`` after each chunk (the organiser's progress bar)
and finishes it with another conditional update. A job whose row stops moving for
``STALL_AFTER`` is shown as stalled, and the worker's housekeeping marks it failed with
the reason (``fail_stalled_jobs``); starting the print again
(``services.start_print_job``) does the same at once and starts a new job, and a worker
that was only slow notices at its next progress update and stops without a trace.
Housekeeping also deletes finished PDFs after ``PRINT_RETENTION_DAYS`` (they hold home
addresses) and chunk folders left by killed prints. After posting the letters, the
organiser marks the job posted (``services.mark_print_job_posted``).

What goes into the PDF is not decided here: a post job's PDF comes from
``print_render`` (letters in chunks through typst, joined by ``pdf_join``), a hand-in
pack's from ``openletters.handin``. This module loads neither typst nor pypdf, so web
pages that show jobs can use it.
"""

from __future__ import annotations

import datetime
import logging
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from undersigned.campaigns.enums import Channel
from undersigned.core.models import log_action
from undersigned.letters import emails as letter_emails

from . import job_errors, printing, queries
from .models import Delivery, DeliveryStatus, PrintJob, PrintJobStatus
from .printing import TEMP_PREFIX

logger = logging.getLogger(__name__)

# A job whose row has not moved for this long belongs to a worker that died (or to a
# task that was lost). A chunk takes seconds, so ten minutes without progress is no
# slow chunk; shorter would risk restarting a job that is merely queued behind others.
STALL_AFTER = datetime.timedelta(minutes=10)
# While the chunk files are joined, progress no longer moves; a builder touches the row
# this often so that a long join is not taken for a stalled job.
HEARTBEAT_SECONDS = 30.0

# Where the finished PDFs go, relative to the media folder (STORAGES "default").
FOLDER = "print-jobs"


ACTIVE = (PrintJobStatus.QUEUED, PrintJobStatus.RUNNING)


def recent_jobs(campaign_id: int, *, limit: int = 10) -> list[PrintJob]:
    return list(PrintJob.objects.filter(campaign_id=campaign_id).select_related("requested_by", "posted_by")[:limit])


def active_job(campaign_id: int, paper: str) -> PrintJob | None:
    """The campaign's job for this paper that is waiting or printing, if any."""
    return PrintJob.objects.filter(campaign_id=campaign_id, paper=paper, status__in=ACTIVE).first()


def is_stalled(job: PrintJob, *, now: datetime.datetime | None = None) -> bool:
    """Waiting or printing, but untouched for ``STALL_AFTER``: its worker is gone."""
    return job.status in ACTIVE and job.updated_at < (now or timezone.now()) - STALL_AFTER


def printed_by(job: PrintJob) -> QuerySet[Delivery]:
    """The deliveries a finished job printed that still wait to be posted (none for a hand-in pack)."""
    if job.campaign_id is None:
        return Delivery.objects.none()
    return queries.waiting_post(job.campaign_id, job.created_at)


def send_posted_notices(job_id: int) -> int:
    """Tell each supporter whose letter a posted print carried: one short email per letter.

    The letters are those with a post delivery the job marked sent (``sent_at`` is the
    job's ``posted_at``, written by the same statement). Each letter's notice is claimed
    in ``letters.emails``, so a repeated task, or a letter in two posted prints, sends
    nothing twice. Returns how many notices went.
    """
    job = PrintJob.objects.filter(pk=job_id, posted_at__isnull=False, campaign__isnull=False).first()
    if job is None or job.posted_at is None or job.campaign_id is None:
        return 0
    letter_ids = (
        Delivery.objects.filter(
            letter__campaign_id=job.campaign_id,
            channel=Channel.POST,
            status=DeliveryStatus.SENT,
            sent_at=job.posted_at,
            letter__posted_notice_sent_at__isnull=True,
        )
        .values_list("letter_id", flat=True)
        .distinct()
    )
    posted_on = timezone.localdate(job.posted_at)
    sent = sum(1 for letter_id in list(letter_ids) if letter_emails.send_posted_notice(letter_id, posted_on=posted_on))
    logger.info("print job %s: %d posted notices sent", job_id, sent)
    return sent


def fail_stalled(job: PrintJob, *, reason: str, actor: object = None) -> bool:
    """Mark a stalled job failed with ``reason``, if it still has not moved; return whether it was.

    A worker that was only slow finds the job failed at its next progress update and
    stops (``touch``).
    """
    now = timezone.now()
    stopped = PrintJob.objects.filter(pk=job.pk, status=job.status, updated_at=job.updated_at).update(
        status=PrintJobStatus.FAILED, error=reason, finished_at=now, updated_at=now
    )
    if stopped:
        log_action("print_job.stalled", job, actor=actor, done=job.done)
    return bool(stopped)


def fail_stalled_jobs(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: every job waiting or printing that has not moved for ``STALL_AFTER`` fails.

    The organiser then sees why on the print page and can start it again, instead of a
    progress bar that never moves.
    """
    cutoff = (now or timezone.now()) - STALL_AFTER
    reason = job_errors.STALLED.stored(minutes=int(STALL_AFTER.total_seconds() // 60))
    failed = 0
    for job in PrintJob.objects.filter(status__in=ACTIVE, updated_at__lt=cutoff):
        if fail_stalled(job, reason=reason):
            logger.warning("print job %s (campaign %s) stalled and was marked failed", job.pk, job.campaign_id)
            failed += 1
    return failed


def delete_expired_files(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: delete each print's PDF ``PRINT_RETENTION_DAYS`` after it was made.

    The PDFs hold supporters' names and home addresses, so they are kept only as long as
    an organiser needs to download and print them. The job stays, with when its file went.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.PRINT_RETENTION_DAYS)
    deleted = 0
    for job in PrintJob.objects.filter(status=PrintJobStatus.DONE, finished_at__lt=cutoff).exclude(file=""):
        default_storage.delete(job.file)  # no error if it is already gone
        if PrintJob.objects.filter(pk=job.pk, file=job.file).update(file="", file_deleted_at=timezone.now()):
            log_action("print_job.file_deleted", job, days=settings.PRINT_RETENTION_DAYS)
            deleted += 1
    if deleted:
        logger.info("deleted %s print files older than %s days", deleted, settings.PRINT_RETENTION_DAYS)
    return deleted


# Chunk folders (``printing.TEMP_PREFIX``) are removed when a print ends, even with an
# error; only a worker killed mid-print leaves one behind. No print runs anywhere near
# this long (10,000 letters take about a minute), so an older folder is abandoned.
TEMP_MAX_AGE = datetime.timedelta(hours=6)


def remove_abandoned_temp_folders(*, folder: Path | None = None, now: float | None = None) -> int:
    """Housekeeping: remove chunk folders that killed prints left in the temporary folder."""
    base = folder or Path(tempfile.gettempdir())
    cutoff = (now if now is not None else time.time()) - TEMP_MAX_AGE.total_seconds()
    removed = 0
    for path in base.glob(f"{TEMP_PREFIX}*"):
        try:
            if path.is_symlink() or not path.is_dir() or path.stat().st_mtime > cutoff:
                continue
            if any(child.stat().st_mtime > cutoff for child in path.iterdir()):
                continue
            shutil.rmtree(path)
            removed += 1
        except OSError:
            logger.warning("could not remove the abandoned print folder %s", path.name)
    return removed


class Abandoned(Exception):
    """The job is no longer this worker's (it was restarted as stalled): stop quietly."""


def touch(job_id: int, **fields: object) -> None:
    """Update the running job; raise ``Abandoned`` if it is not running any more."""
    if not PrintJob.objects.filter(pk=job_id, status=PrintJobStatus.RUNNING).update(
        updated_at=timezone.now(), **fields
    ):
        raise Abandoned


def build_print_job(job_id: int) -> str:
    """Build a print job's PDF (the task's body); return the job's status afterwards.

    Does nothing for a job that isn't waiting, so a repeated or late task is harmless.
    Never raises for a failed print: the failure is on the job, for the organiser,
    and in the log with ids only.
    """
    now = timezone.now()
    claimed = PrintJob.objects.filter(pk=job_id, status=PrintJobStatus.QUEUED).update(
        status=PrintJobStatus.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        logger.info("print job %s is not waiting to start; nothing to do", job_id)
        return PrintJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
    job = PrintJob.objects.select_related("campaign", "open_letter", "recipient").get(pk=job_id)
    progress = {"done": 0, "total": job.total}
    try:
        _builder(job.kind)(job, progress)
    except Abandoned:
        logger.info("print job %s was restarted elsewhere; this worker stopped", job_id)
    except Exception as exc:
        # Deliberately caught and not re-raised: the task runner would log the exception's
        # message, and messages about letters can carry names. The log gets ids, the
        # exception's type and where it happened; the organiser gets a sentence.
        owner = f"campaign {job.campaign_id}" if job.campaign_id else f"open letter {job.open_letter_id}"
        logger.error(
            "print job %s (%s) failed after %s letters with %s:\n%s",
            job.pk,
            owner,
            progress["done"],
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
        )
        message = _failure_message(exc, job.pk, **progress)
        if PrintJob.objects.filter(pk=job.pk, status=PrintJobStatus.RUNNING).update(
            status=PrintJobStatus.FAILED, error=message, finished_at=timezone.now(), updated_at=timezone.now()
        ):
            log_action("print_job.failed", job, error=type(exc).__name__, done=progress["done"])
    return PrintJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"


Builder = Callable[[PrintJob, dict[str, int]], None]


# By path, like every other kind: typst and pypdf load only in the worker that builds.
_POST_BUILDER = "undersigned.delivery.print_render.build_job"


def _builder(kind: str) -> Builder:
    """How a job of this kind is built: "post" here, other kinds where they registered.

    A builder claims nothing and finishes nothing itself: it reports progress with
    ``touch`` and hands its finished file to ``finish``, so every kind of job is
    claimed, watched for stalls and finished the same way.
    """
    builder: Builder = import_string(printing.builder_path(kind) or _POST_BUILDER)
    return builder


def finish(job: PrintJob, out: BinaryIO, name: str, count: int) -> None:
    """Store the job's finished PDF (``out``, read from its start) and mark the job done."""
    out.seek(0)
    name = default_storage.save(name, File(out, name=name))
    now = timezone.now()
    finished = PrintJob.objects.filter(pk=job.pk, status=PrintJobStatus.RUNNING).update(
        status=PrintJobStatus.DONE, done=count, total=count, file=name, error="", finished_at=now, updated_at=now
    )
    if not finished:
        default_storage.delete(name)
        raise Abandoned
    log_action("print_job.done", job, letters=count)
    logger.info("print job %s: %s items printed", job.pk, count)


class NothingLeft(Exception):
    """No letter waits any more (all withdrawn since the job was started)."""


def _failure_message(exc: Exception, job_id: int, *, done: int, total: int) -> str:
    if isinstance(exc, NothingLeft):
        return job_errors.NOTHING_LEFT.stored()
    if isinstance(exc, ValueError):
        # The renderer's limits (a letter too long, an address with too many lines):
        # its message names the limit, which tells the organiser what to look for.
        return job_errors.NOT_LAID_OUT.stored(done=done, total=total, reason=str(exc))
    return job_errors.SERVER_ERROR.stored(done=done, total=total, job=job_id)
