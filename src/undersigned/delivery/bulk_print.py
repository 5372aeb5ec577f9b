"""Printing a campaign's post in bulk: one PDF, a cover sheet per recipient, then their letters.

Owns the whole path from the queue of post deliveries to one PDF file, used alike by
``undersigned print`` and by print jobs (``PrintJob``, built by a worker task):

1. Letters stream from the database (or, in the benchmark, from plain data) in
   recipient order and are packed into chunks (``_chunks``) of about
   ``CHUNK_DOCUMENTS``, always within typst's limits (``pdf.MAX_LETTERS`` documents,
   ``pdf.MAX_BATCH_CHARS`` characters: the rule of ``pdf.batches``, applied to a stream
   that crosses recipients, so many recipients with few letters share a compile).
2. Each chunk is rendered by typst and written at once to a temporary folder on disk,
   so only one chunk's letters and PDF are in memory at a time.
3. The chunk files are joined into one PDF by ``join_pdfs``, which copies one chunk's
   objects at a time straight to the output. pypdf's ``PdfWriter`` keeps every page
   of every chunk in memory until it writes (about 250 MB for 10,000 letters, growing
   with the campaign), which is what this module exists to avoid.

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
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import shutil
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign, CampaignRecipient, Recipient
from undersigned.core.models import log_action

from . import pdf, printing
from .channels.post import printable
from .models import Delivery, DeliveryStatus, PrintJob, PrintJobStatus
from .printing import Paper, PrintableLetter

logger = logging.getLogger(__name__)

# A job whose row has not moved for this long belongs to a worker that died (or to a
# task that was lost). A chunk takes seconds, so ten minutes without progress is no
# slow chunk; shorter would risk restarting a job that is merely queued behind others.
STALL_AFTER = datetime.timedelta(minutes=10)
# While the chunk files are joined, progress no longer moves; the row is touched this
# often so that a long join is not taken for a stalled job.
_HEARTBEAT_SECONDS = 30.0

# How big a chunk is. typst's memory grows with the pages of a compile, so a chunk
# closes at CHUNK_DOCUMENTS documents (letters and cover sheets), but not before its
# input is big enough for ``pdf`` to empty typst's cache after the compile: below that
# size the cache keeps ten compiles' worth, which costs more than one big compile.
# The input's size is measured letter by letter (``_input_chars``); cover sheets count
# at the least they can add. Measured on 1,500 one-page letters: 100
# documents a chunk peaked at 175-205 MB, 150 at 210-220 MB, 300 (typst's limit) at
# 310-390 MB, and 100 was as fast as any.
CHUNK_DOCUMENTS = 100
_COVER_MIN_CHARS = 300  # a cover sheet's JSON besides its label: keys, count, address
_AGE_OUT_CHARS = pdf._AGE_OUT_AFTER_CHARS

# Where the finished PDFs go, relative to the media folder (STORAGES "default").
FOLDER = "print-jobs"


# --- Plain data in, one PDF out: no database below this line until the next one ------


@dataclass(frozen=True)
class Cover:
    """The cover sheet in front of one recipient's letters.

    ``key`` tells recipients apart (a new key starts a new cover sheet); ``total`` is
    how many letters that recipient gets in the whole print, which the cover states
    even when the letters fill several chunks.
    """

    key: int
    label: str
    total: int


@dataclass
class _Run:
    """One recipient's letters within one chunk."""

    cover: Cover
    letters: list[PrintableLetter] = field(default_factory=list)
    with_cover: bool = True  # False when the run continues the previous chunk's last run
    split: bool = False  # True when the next chunk continues it


def _chunks(items: Iterable[tuple[Cover, PrintableLetter]]) -> Iterator[list[_Run]]:
    """Pack the stream of (cover, letter) into chunks of runs, in order."""
    runs: list[_Run] = []
    documents = chars = size = 0
    current: Cover | None = None
    for cover, letter in items:
        new_recipient = current is None or cover.key != current.key
        weight = len(letter.body)
        needed = 2 if new_recipient else 1
        full = (
            documents + needed > pdf.MAX_LETTERS
            or chars + weight > pdf.MAX_BATCH_CHARS
            or (documents + needed > CHUNK_DOCUMENTS and size > _AGE_OUT_CHARS)
        )
        if runs and full:
            if not new_recipient:
                runs[-1].split = True
            yield runs
            runs, documents, chars, size = [], 0, 0, 0
        if new_recipient:
            runs.append(_Run(cover))
            documents += 1
            size += _COVER_MIN_CHARS + len(cover.label)
            current = cover
        elif not runs:
            runs.append(_Run(cover, with_cover=False))
        runs[-1].letters.append(letter)
        documents += 1
        chars += weight
        size += _input_chars(letter)
    if runs:
        yield runs


def _input_chars(letter: PrintableLetter) -> int:
    """The characters this letter adds to typst's input, exactly as ``pdf`` will build it.

    Costs a few hundredths of a millisecond, against about ten milliseconds to compile
    the letter; an estimate from the fields alone came out a third short, enough for a
    chunk to miss the cache threshold.
    """
    return len(json.dumps(pdf._letter_data(letter), ensure_ascii=False))


def _count(n: int) -> str:
    return f"{n} letter" if n == 1 else f"{n} letters"


def _render(runs: Sequence[_Run], paper: Paper) -> Iterator[bytes]:
    """The PDFs of one chunk, in order: at most three compiles, usually one.

    A run that continues from the previous chunk has no cover sheet, so it is rendered
    on its own. A run that goes on in the next chunk is rendered on its own too, with a
    cover that counts all of that recipient's letters (``render_cover_and_letters``
    words one count for every group it renders from the group's own letters).
    """
    head = [] if runs[0].with_cover else [runs[0]]
    tail = [runs[-1]] if runs[-1].with_cover and runs[-1].split else []
    middle = runs[len(head) : len(runs) - len(tail)]
    for run in head:
        yield pdf.render_letters(run.letters, paper=paper)
    if middle:
        yield pdf.render_cover_and_letters([(run.cover.label, run.letters) for run in middle], paper=paper)
    for run in tail:
        count_text = _always(_count(run.cover.total))
        yield pdf.render_cover_and_letters([(run.cover.label, run.letters)], paper=paper, count_text=count_text)


def _always(text: str) -> Callable[[int], str]:
    return lambda _n: text


def print_letters(
    items: Iterable[tuple[Cover, PrintableLetter]],
    out: BinaryIO,
    *,
    paper: Paper = "a4",
    on_progress: Callable[[int], None] | None = None,
    on_join: Callable[[], None] | None = None,
) -> int:
    """Write the letters as one PDF to ``out``, rendered chunk by chunk; return how many.

    ``items`` must come grouped by recipient (all of one cover's letters together).
    ``on_progress`` is called with the number of letters rendered after each chunk,
    ``on_join`` after each chunk file is copied into ``out``. Writes nothing when there
    are no letters.
    """
    done = 0
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as folder:
        parts: list[Path] = []
        for number, runs in enumerate(_chunks(items)):
            for part, data in enumerate(_render(runs, paper)):
                path = Path(folder) / f"{number:06d}-{part}.pdf"
                path.write_bytes(data)
                parts.append(path)
            done += sum(len(run.letters) for run in runs)
            if on_progress is not None:
                on_progress(done)
        if done:
            join_pdfs(parts, out, on_part=on_join)
    return done


class _CountingWriter:
    """Writes to a binary stream and knows how many bytes it wrote (for the xref table),
    so the output need not be seekable."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.position = 0

    def write(self, data: bytes | memoryview) -> int:
        self.out.write(data)
        self.position += len(data)
        return len(data)


# The joined file's own objects: the page tree's root and the catalogue. Every copied
# object is numbered after them.
_PAGES_ROOT = 1
_CATALOG = 2


def join_pdfs(parts: Iterable[Path], out: BinaryIO, *, on_part: Callable[[], None] | None = None) -> int:
    """Join PDF files into one, in order, holding one file's objects at a time; return the page count.

    Each file's pages are copied with everything they use (content, fonts, images),
    renumbered after the objects already written, and written out straight away; only
    the byte offset of each object and the list of pages stay in memory until the end,
    where the page tree, the catalogue and the cross-reference table are written.
    Document-level parts of the files (outline, tag structure, metadata) are not copied:
    a bulk print is for paper. Fonts are not shared between files, as in any join.
    """
    writer = _CountingWriter(out)
    # The binary comment line tells transfer programs the file is binary (PDF 1.7, 7.5.2).
    writer.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = [0, 0, 0]  # by object number; 1 and 2 are written last
    kids: list[int] = []
    for path in parts:
        reader = PdfReader(path)
        numbers: dict[int, int] = {}
        queue: deque[int] = deque()

        def renumber(reference: IndirectObject, numbers: dict[int, int] = numbers, queue: deque[int] = queue) -> int:
            if reference.idnum not in numbers:
                numbers[reference.idnum] = len(offsets)
                offsets.append(0)
                queue.append(reference.idnum)
            return numbers[reference.idnum]

        for page in reader.pages:
            if page.indirect_reference is None:  # only pages made in memory lack one
                raise ValueError(f"{path.name} has a page that is not an object of its own")
            kids.append(renumber(page.indirect_reference))
        while queue:
            number = queue.popleft()
            obj = reader.get_object(number)
            if obj is None:
                raise ValueError(f"{path.name} refers to object {number}, which it does not have")
            if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Page":
                # The page now hangs from the joined file's page tree; its marked-content
                # key pointed into its own file's tag structure, which is not copied.
                obj[NameObject("/Parent")] = IndirectObject(_PAGES_ROOT, 0, None)
                obj.pop("/StructParents", None)
            body = io.BytesIO()
            _renumbered(obj, renumber).write_to_stream(body)
            offsets[numbers[number]] = writer.position
            writer.write(b"%d 0 obj\n" % numbers[number])
            writer.write(body.getbuffer())
            writer.write(b"\nendobj\n")
        del reader  # the next file's objects replace this one's
        if on_part is not None:
            on_part()
    offsets[_PAGES_ROOT] = writer.position
    writer.write(b"%d 0 obj\n<< /Type /Pages /Count %d /Kids [" % (_PAGES_ROOT, len(kids)))
    for kid in kids:
        writer.write(b" %d 0 R" % kid)
    writer.write(b" ] >>\nendobj\n")
    offsets[_CATALOG] = writer.position
    writer.write(b"%d 0 obj\n<< /Type /Catalog /Pages %d 0 R >>\nendobj\n" % (_CATALOG, _PAGES_ROOT))
    xref = writer.position
    writer.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(offsets))
    for offset in offsets[1:]:
        writer.write(b"%010d 00000 n \n" % offset)
    writer.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets), _CATALOG, xref))
    return len(kids)


def _renumbered(obj: PdfObject, renumber: Callable[[IndirectObject], int]) -> PdfObject:
    """``obj`` with every reference pointing to its number in the joined file.

    Changes the object in place (it belongs to a reader that is thrown away after its
    file is copied), so streams keep their encoded bytes untouched.
    """
    if isinstance(obj, IndirectObject):
        return IndirectObject(renumber(obj), 0, None)
    if isinstance(obj, DictionaryObject):  # streams are dictionaries too
        for key in list(obj.keys()):
            obj[NameObject(key)] = _renumbered(obj.raw_get(key), renumber)
        return obj
    if isinstance(obj, ArrayObject):
        for index, item in enumerate(obj):
            obj[index] = _renumbered(item, renumber)
        return obj
    return obj


# --- From the database: the campaign's post queue -------------------------------------


def post_queue(campaign_id: int, *, created_before: datetime.datetime | None = None) -> QuerySet[Delivery]:
    """The campaign's post deliveries waiting to be printed, in the campaign's recipient order.

    Ordering by ``recipient__campaignrecipient__position`` would join every campaign the
    recipient belongs to, printing each letter once per campaign (an earlier version did).
    Here the position comes from this campaign's row only.
    ``created_before`` keeps a print job to the letters that waited when it was started,
    so its progress can't run past its total.
    """
    position = CampaignRecipient.objects.filter(campaign_id=campaign_id, recipient_id=OuterRef("recipient_id"))
    queue = _waiting(campaign_id, created_before).annotate(position=Subquery(position.values("position")[:1]))
    # A recipient taken off the campaign after a letter was written has no position;
    # their letters still print, last, the same on SQLite and PostgreSQL.
    return queue.order_by(F("position").asc(nulls_last=True), "recipient_id", "created_at", "id")


def _waiting(campaign_id: int, created_before: datetime.datetime | None) -> QuerySet[Delivery]:
    queue = Delivery.objects.filter(letter__campaign_id=campaign_id, channel=Channel.POST, status=DeliveryStatus.QUEUED)
    return queue if created_before is None else queue.filter(created_at__lte=created_before)


def letters_waiting(campaign_id: int, *, created_before: datetime.datetime | None = None) -> int:
    """How many letters wait to be posted: a count, for organiser pages and job starts only."""
    return _waiting(campaign_id, created_before).count()


def _label(recipient: Recipient) -> str:
    return f"{recipient.name}, {recipient.role}" if recipient.role else recipient.name


def _campaign_items(
    campaign_id: int, *, day: datetime.date, created_before: datetime.datetime | None
) -> tuple[int, Iterator[tuple[Cover, PrintableLetter]]]:
    """The number of letters, and the letters as (cover, letter) in print order, streamed."""
    counts = _waiting(campaign_id, created_before).order_by().values_list("recipient_id").annotate(n=Count("id"))
    totals: dict[int, int] = dict(counts.values_list("recipient_id", "n"))

    def items() -> Iterator[tuple[Cover, PrintableLetter]]:
        cover: Cover | None = None
        queue = post_queue(campaign_id, created_before=created_before)
        rows = queue.select_related("letter__campaign__template", "recipient").iterator(chunk_size=500)
        for delivery in rows:
            recipient = delivery.recipient
            if cover is None or cover.key != recipient.pk:
                cover = Cover(key=recipient.pk, label=_label(recipient), total=totals.get(recipient.pk, 0))
            yield cover, printable(delivery.letter, recipient, day=day)

    return sum(totals.values()), items()


def print_campaign(
    campaign: Campaign,
    out: BinaryIO,
    *,
    paper: Paper = "a4",
    day: datetime.date,
    created_before: datetime.datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_join: Callable[[], None] | None = None,
) -> int:
    """Write the campaign's queued post as one PDF to ``out``; return the number of letters."""
    _, items = _campaign_items(campaign.pk, day=day, created_before=created_before)
    return print_letters(items, out, paper=paper, on_progress=on_progress, on_join=on_join)


# --- Print jobs ----------------------------------------------------------------------


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
    return _waiting(job.campaign_id, job.created_at)


def fail_stalled(job: PrintJob, *, reason: str, actor: object = None) -> bool:
    """Mark a stalled job failed with ``reason``, if it still has not moved; return whether it was.

    A worker that was only slow finds the job failed at its next progress update and
    stops (``_touch``).
    """
    now = timezone.now()
    stopped = PrintJob.objects.filter(pk=job.pk, status=job.status, updated_at=job.updated_at).update(
        status=PrintJobStatus.FAILED, error=reason, finished_at=now, updated_at=now
    )
    if stopped:
        log_action("print_job.stalled", job, actor=actor, done=job.done)
    return bool(stopped)


STALLED_REASON = (
    "Stopped: no progress for {minutes} minutes, so the worker printing it has probably stopped. "
    "No letter was marked as posted. Start the print again."
)


def fail_stalled_jobs(*, now: datetime.datetime | None = None) -> int:
    """Housekeeping: every job waiting or printing that has not moved for ``STALL_AFTER`` fails.

    The organiser then sees why on the print page and can start it again, instead of a
    progress bar that never moves.
    """
    cutoff = (now or timezone.now()) - STALL_AFTER
    reason = STALLED_REASON.format(minutes=int(STALL_AFTER.total_seconds() // 60))
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


# Chunk files live in a temporary folder that is removed when a print ends, even with an
# error; only a worker killed mid-print leaves one behind. No print runs anywhere near
# this long (10,000 letters take about a minute), so an older folder is abandoned.
TEMP_PREFIX = "undersigned-print-"
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


class _Abandoned(Exception):
    """The job is no longer this worker's (it was restarted as stalled): stop quietly."""


def _touch(job_id: int, **fields: object) -> None:
    """Update the running job; raise ``_Abandoned`` if it is not running any more."""
    if not PrintJob.objects.filter(pk=job_id, status=PrintJobStatus.RUNNING).update(
        updated_at=timezone.now(), **fields
    ):
        raise _Abandoned


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
    except _Abandoned:
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


def _builder(kind: str) -> Builder:
    """How a job of this kind is built: "post" here, other kinds where they registered.

    A builder claims nothing and finishes nothing itself: it reports progress with
    ``touch`` and hands its finished file to ``finish``, so every kind of job is
    claimed, watched for stalls and finished the same way.
    """
    path = printing.builder_path(kind)
    return import_string(path) if path else _build


touch = _touch
Abandoned = _Abandoned


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
        raise _Abandoned
    log_action("print_job.done", job, letters=count)
    logger.info("print job %s: %s items printed", job.pk, count)


def _build(job: PrintJob, progress: dict[str, int]) -> None:
    if job.campaign is None:
        raise ValueError("a post print job needs a campaign")
    campaign = job.campaign
    day = timezone.localdate(job.created_at)
    total, items = _campaign_items(campaign.pk, day=day, created_before=job.created_at)
    # The count when the job starts, not when it was requested: letters may have been
    # withdrawn (erased) while it waited.
    _touch(job.pk, total=total, done=0)
    progress["total"] = total
    if not total:
        raise _NothingLeft
    last_beat = time.monotonic()

    def on_progress(done: int) -> None:
        progress["done"] = done
        _touch(job.pk, done=done)

    def on_join() -> None:
        nonlocal last_beat
        if time.monotonic() - last_beat > _HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            _touch(job.pk)

    name = f"{FOLDER}/{job.pk}-{campaign.slug}-{job.paper}.pdf"
    # An unnamed temporary file: the operating system removes it even if the worker is
    # killed. The media folder only ever receives a complete file.
    with tempfile.TemporaryFile() as out:
        count = print_letters(items, out, paper=_paper(job.paper), on_progress=on_progress, on_join=on_join)
        if not count:
            raise _NothingLeft
        finish(job, out, name, count)


def _paper(value: str) -> Paper:
    if value == "us-letter":
        return "us-letter"
    if value == "a4":
        return "a4"
    raise ValueError(f"unknown paper {value!r}")


class _NothingLeft(Exception):
    """No letter waits any more (all withdrawn since the job was started)."""


def _failure_message(exc: Exception, job_id: int, *, done: int, total: int) -> str:
    if isinstance(exc, _NothingLeft):
        return "No letters were waiting to be posted any more when the print started."
    stopped = f"Printing stopped after {done} of {total} letters"
    if isinstance(exc, ValueError):
        # The renderer's limits (a letter too long, an address with too many lines):
        # its message names the limit, which tells the organiser what to look for.
        return f"{stopped}: a letter could not be laid out for printing ({exc})."
    return (
        f"{stopped} because of an error on the server. Start the print again; if it fails again, "
        f"your administrator will find the details in the worker's log under print job {job_id}."
    )
