"""Plain data for printed letters; the PDF renderer (``delivery.pdf``) takes only these."""

from __future__ import annotations

import unicodedata
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


# Languages written in the Arabic script (their lists take the Arabic comma) and those
# written right to left: a document's base direction, used for lines that have no
# strongly directional character of their own (such as a date in digits).
ARABIC_SCRIPT_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "sd", "ug", "ckb"})
RTL_LANGUAGES = ARABIC_SCRIPT_LANGUAGES | {"he", "yi", "dv", "syr"}


def direction(text: str, rtl: bool) -> Literal["ltr", "rtl"]:
    """The base direction of a line by its first strong character, like HTML's
    dir="auto": a Latin address in an Arabic letter must not be reordered as Arabic
    ("120 00 Praha 2" would come out "Praha 2 00 120"), nor the reverse. ``rtl`` is the
    document's direction, for a line with no strong character."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "rtl" if rtl else "ltr"


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
