"""A bulk print's PDF: letters in chunks through typst, the chunk files joined into one.

Plain data in, one PDF out (``print_letters``), used alike by ``undersigned print`` and
by print jobs (``bulk_print``, which claims, watches and finishes them); the
campaign's post queue feeds it (``print_campaign``).

1. Letters stream in recipient order (from the database, or in the benchmark from
   plain data) and are packed into chunks (``_chunks``) of about ``CHUNK_DOCUMENTS``,
   always within typst's limits (``pdf.MAX_LETTERS`` documents, ``pdf.MAX_BATCH_CHARS``
   characters: the rule of ``pdf.batches``, applied to a stream that crosses recipients,
   so many recipients with few letters share a compile).
2. Each chunk is rendered by typst and written at once to a temporary folder on disk,
   so only one chunk's letters and PDF are in memory at a time.
3. The chunk files are joined into one tagged PDF by ``pdf_join``, file by file, in a
   thread that follows the rendering a chunk behind.

Imports typst and pypdf: only workers and commands that print load it.
"""

from __future__ import annotations

import datetime
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import ngettext

from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.languages import email_language

from . import bulk_print, pdf, queries
from .channels.post import printable
from .models import PrintJob
from .pdf_join import Joiner
from .printing import TEMP_PREFIX, Paper, PrintableLetter

# How big a chunk is. typst's memory grows with the pages of a compile, so a chunk
# closes at CHUNK_DOCUMENTS documents (letters and cover sheets), but not before its
# input is big enough for ``pdf`` to empty typst's cache after the compile: below that
# size the cache keeps ten compiles' worth, which costs more than one big compile.
# The input's size is measured letter by letter (``_input_chars``); cover sheets count
# at the least they can add. 100 documents a chunk was as fast as larger chunks up to
# typst's limit of 300, with the lowest peak memory (docs/performance.md).
CHUNK_DOCUMENTS = 100
_COVER_MIN_CHARS = 300  # a cover sheet's JSON besides its label: keys, count, address
_AGE_OUT_CHARS = pdf._AGE_OUT_AFTER_CHARS


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
    # The campaign's language: the cover's words ("3 letters") are in it. Passed along,
    # not taken from the active language, because chunks render in other threads.
    language: str = ""


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


def _count(n: int, *, language: str) -> str:
    with translation.override(email_language(language)):
        # Translators: on the cover sheet in front of one recipient's printed letters.
        return ngettext("%(count)s letter", "%(count)s letters", n) % {"count": n}


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
        count = partial(_count, language=middle[0].cover.language)
        groups = [(run.cover.label, run.letters) for run in middle]
        yield pdf.render_cover_and_letters(groups, paper=paper, count_text=count)
    for run in tail:
        count_text = _always(_count(run.cover.total, language=run.cover.language))
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
    title: str | None = None,
) -> int:
    """Write the letters as one PDF to ``out``, rendered chunk by chunk; return how many.

    ``items`` must come grouped by recipient (all of one cover's letters together).
    ``on_progress`` is called with the number of letters rendered after each chunk,
    ``on_join`` after each chunk file is copied into ``out``. ``title`` names the PDF
    (what a viewer shows and a screen reader reads first). Writes nothing when there
    are no letters.
    """
    done = 0
    # The join runs in a thread of its own, a chunk behind the rendering: typst releases
    # the GIL while it compiles, so on two cores the join costs next to no time. The
    # executor is shut down (every chunk joined) before the folder is removed.
    with (
        tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as folder,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-join") as joining,
    ):
        joiner: Joiner | None = None
        copies: list[Future[None]] = []
        try:
            for number, runs in enumerate(_chunks(items)):
                for part, data in enumerate(_render(runs, paper)):
                    path = Path(folder) / f"{number:06d}-{part}.pdf"
                    path.write_bytes(data)
                    joiner = joiner or Joiner(out, title=title)
                    copies.append(joining.submit(joiner.add, path))
                done += sum(len(run.letters) for run in runs)
                if on_progress is not None:
                    on_progress(done)
                _raise_if_failed(copies)
            for copy in copies:  # the last chunks' joins, after the rendering
                copy.result()
                if on_join is not None:
                    on_join()
        except BaseException:
            joining.shutdown(cancel_futures=True)
            raise
        if joiner is not None:
            joiner.close()
    return done


def _raise_if_failed(copies: list[Future[None]]) -> None:
    """Stop at the first join that failed, rather than render the rest for nothing."""
    for copy in copies:
        if copy.done() and copy.exception() is not None:
            copy.result()


def _label(recipient: Recipient) -> str:
    return f"{recipient.name}, {recipient.role}" if recipient.role else recipient.name


def campaign_items(
    campaign_id: int, *, day: datetime.date, created_before: datetime.datetime | None
) -> tuple[int, Iterator[tuple[Cover, PrintableLetter]]]:
    """The number of letters, and the letters as (cover, letter) in print order, streamed."""
    counts = (
        queries.waiting_post(campaign_id, created_before).order_by().values_list("recipient_id").annotate(n=Count("id"))
    )
    totals: dict[int, int] = dict(counts.values_list("recipient_id", "n"))

    def items() -> Iterator[tuple[Cover, PrintableLetter]]:
        cover: Cover | None = None
        queue = queries.post_queue(campaign_id, created_before=created_before)
        rows = (
            queue.select_related("letter__campaign__template", "recipient")
            # A letter written once per language: each recipient's PDF is in their version.
            .prefetch_related("letter__versions")
            .iterator(chunk_size=500)
        )
        for delivery in rows:
            recipient = delivery.sent_recipient
            if cover is None or cover.key != recipient.pk:
                cover = Cover(
                    key=recipient.pk,
                    label=_label(recipient),
                    total=totals.get(recipient.pk, 0),
                    language=delivery.sent_letter.campaign.language,
                )
            yield cover, printable(delivery.sent_letter, recipient, day=day)

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
    _, items = campaign_items(campaign.pk, day=day, created_before=created_before)
    return print_letters(items, out, paper=paper, on_progress=on_progress, on_join=on_join, title=campaign.title)


# --- The print job of kind "post" -------------------------------------------------------


def build_job(job: PrintJob, progress: dict[str, int]) -> None:
    """Build a post ``PrintJob``'s PDF (``bulk_print`` claims the job and calls this)."""
    if job.campaign is None:
        raise ValueError("a post print job needs a campaign")
    campaign = job.campaign
    day = timezone.localdate(job.created_at)
    total, items = campaign_items(campaign.pk, day=day, created_before=job.created_at)
    # The count when the job starts, not when it was requested: letters may have been
    # withdrawn (erased) while it waited.
    bulk_print.touch(job.pk, total=total, done=0)
    progress["total"] = total
    if not total:
        raise bulk_print.NothingLeft
    last_beat = time.monotonic()

    def on_progress(done: int) -> None:
        progress["done"] = done
        bulk_print.touch(job.pk, done=done)

    def on_join() -> None:
        nonlocal last_beat
        if time.monotonic() - last_beat > bulk_print.HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            bulk_print.touch(job.pk)

    name = f"{bulk_print.FOLDER}/{job.pk}-{campaign.slug}-{job.paper}.pdf"
    # An unnamed temporary file: the operating system removes it even if the worker is
    # killed. The media folder only ever receives a complete file.
    with tempfile.TemporaryFile() as out:
        count = print_letters(
            items, out, paper=_paper(job.paper), on_progress=on_progress, on_join=on_join, title=campaign.title
        )
        if not count:
            raise bulk_print.NothingLeft
        bulk_print.finish(job, out, name, count)


def _paper(value: str) -> Paper:
    if value == "us-letter":
        return "us-letter"
    if value == "a4":
        return "a4"
    raise ValueError(f"unknown paper {value!r}")
