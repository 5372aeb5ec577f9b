"""Printing a campaign's post in bulk: one PDF, a cover sheet per recipient, then their letters.

Letters are rendered in chunks (typst holds a whole document in memory) and the chunks
are joined with pypdf, so a campaign of any size prints with bounded memory per chunk.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Iterator
from itertools import groupby
from typing import BinaryIO

from pypdf import PdfWriter

from undersigned.campaigns.models import Campaign, Recipient

from . import pdf
from .channels.post import printable
from .models import Delivery
from .printing import Paper, PrintableLetter
from .queries import post_to_print


def _groups(deliveries: Iterator[Delivery], day: datetime.date) -> Iterator[tuple[Recipient, list[PrintableLetter]]]:
    for _, items in groupby(deliveries, key=lambda d: d.recipient_id):
        batch = list(items)
        recipient = batch[0].recipient
        yield recipient, [printable(d.letter, recipient, day=day) for d in batch]


def print_campaign(campaign: Campaign, out: BinaryIO, *, paper: Paper = "a4", day: datetime.date) -> int:
    """Write the campaign's queued post as one PDF to ``out``; return the number of letters."""
    writer = PdfWriter()
    count = 0
    deliveries = post_to_print(campaign.pk).iterator(chunk_size=500)
    for recipient, letters in _groups(deliveries, day):
        label = f"{recipient.name}, {recipient.role}" if recipient.role else recipient.name
        total = _count(len(letters))
        for number, chunk in enumerate(pdf.batches(letters, covers=1)):
            if number == 0:
                # The cover counts all of this recipient's letters, not just the first chunk.
                data = pdf.render_cover_and_letters([(label, chunk)], paper=paper, count_text=_always(total))
            else:
                data = pdf.render_letters(chunk, paper=paper)
            writer.append(io.BytesIO(data))
            count += len(chunk)
    if count:
        writer.write(out)
    return count


def _always(text: str) -> Callable[[int], str]:
    return lambda _n: text


def _count(n: int) -> str:
    return f"{n} letter" if n == 1 else f"{n} letters"
