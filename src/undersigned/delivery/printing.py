"""Plain data for printed letters; the PDF renderer (``delivery.pdf``) takes only these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Paper = Literal["a4", "us-letter"]
PAPERS: tuple[Paper, ...] = ("a4", "us-letter")


@dataclass(frozen=True)
class PrintableLetter:
    sender_name: str
    sender_address: list[str]  # lines, without the name
    recipient_name: str
    recipient_address: list[str]  # lines, without the name (role/organisation first if any)
    date_text: str  # already written in the letter's language, e.g. "23. November 2026"
    place: str  # the sender's town, printed before the date ("Leeds, 23 November 2026")
    subject: str
    body: str  # final text, placeholders already filled; paragraphs split by blank lines
    signature: str  # usually the sender's name
    language: str = "en"  # BCP 47, sets hyphenation and text direction
    # Printed under the recipient's name for the cover sheet of a bulk print.
    extra: dict[str, str] = field(default_factory=dict)


# Kinds of print job other than "post" (PrintJob.kind) and the dotted path of the
# function that builds each. Registered by path, from an app's ready(), so that a web
# worker that never builds a job never imports typst, pypdf or the builder.
_BUILDERS: dict[str, str] = {}


def register_builder(kind: str, path: str) -> None:
    _BUILDERS[kind] = path


def builder_path(kind: str) -> str | None:
    return _BUILDERS.get(kind)


# The prefix of the temporary folders that hold a print's parts (chunk files of a bulk
# print, a hand-in pack's parts) while it is built; the worker's housekeeping removes
# the ones a killed worker left behind (``bulk_print.remove_abandoned_temp_folders``).
TEMP_PREFIX = "undersigned-print-"
