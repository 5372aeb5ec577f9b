"""Print-ready PDFs of letters for window envelopes, rendered with typst.

Pure module: it takes ``PrintableLetter`` values and returns PDF bytes; it touches no
database and imports nothing from Django, so it can run in a worker or a test alone.

Safety: user text reaches typst only as JSON data in ``sys.inputs`` and is read with
``json(bytes(sys.inputs.data))`` by a fixed template, where strings are shown as text.
It is never spliced into typst markup, so ``#set page(...)``, ``$x$`` or ``<label>`` in
a letter are printed literally and cannot run code.

Time and memory: the typst binding cannot stop a running compile, so instead the
input is bounded (the ``MAX_*`` constants; ``ValueError`` beyond them). The template's
work is linear in the input, so bounded input bounds compile time and memory (the
figures at the limits are in docs/performance.md). Callers
printing more split the work with ``batches()`` and render several PDFs.

Fonts come from the vendored ``fonts/`` folder (see its README for coverage: Latin,
Greek, Cyrillic, Arabic script, Hebrew, Devanagari and a CJK subset) and, where
Debian's ``fonts-noto-cjk`` is installed, its full Noto Serif CJK in place of the
subset; never from anywhere else on the system, so a PDF looks the same on every
machine that has the same packages. Without the package, a CJK character outside the
subset prints as an empty box, and the first compile logs a warning saying so.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typst
from django.utils import translation
from django.utils.translation import gettext, ngettext

from .printing import ARABIC_SCRIPT_LANGUAGES, RTL_LANGUAGES, Paper, PrintableLetter, direction

__all__ = [
    "MAX_BATCH_CHARS",
    "MAX_BODY_CHARS",
    "MAX_FIELD_CHARS",
    "MAX_LETTERS",
    "WINDOWS",
    "batches",
    "render_cover_and_letters",
    "render_letters",
]

_HERE = Path(__file__).resolve().parent
FONTS_DIR = _HERE / "fonts"
# Beside, not inside, FONTS_DIR (typst searches folders recursively): used only where
# the full font below is missing, as the two have the same family name.
CJK_SUBSET_DIR = _HERE / "fonts-cjk-subset"
# Debian's fonts-noto-cjk (.ci/run installs it): every CJK character, regular and bold.
SYSTEM_CJK_DIR = Path("/usr/share/fonts/opentype/noto")
SYSTEM_CJK_FONTS = ("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc")

logger = logging.getLogger(__name__)
TEMPLATE = _HERE / "templates_typst" / "letter.typ"

MM = 72 / 25.4  # PDF points per millimetre
INCH = 72.0

# Input bounds; together they bound compile time, since the binding has no timeout.
# The letter form allows 20,000 characters before personalisation; filled-in
# placeholders may lengthen it a little, and that must still print.
MAX_BODY_CHARS = 24_000
MAX_SUBJECT_CHARS = 300
MAX_FIELD_CHARS = 200  # names, address lines, date, place, signature, extras
MAX_ADDRESS_CHARS = 500  # a whole address, as the letter form allows
MAX_SENDER_LINES = 8  # address lines without the name; more are folded into the last
MAX_RECIPIENT_LINES = 7  # address lines without the name; 6 lines in all fit at 10 pt,
# 8 at the smallest size the window allows
MAX_EXTRA_ITEMS = 10
MAX_LETTERS = 300  # documents (letters and cover sheets) per PDF
MAX_BATCH_CHARS = 1_000_000  # letter bodies per PDF: about 300 pages (memory: docs/performance.md)

# typst-py evicts typst's memo cache after each compile but keeps what the last ten
# compiles used; after a big batch that is hundreds of MB held for nothing. Ten empty
# compiles (cheap) age it out, so a long-lived worker does not grow batch by batch.
_AGE_OUT_AFTER_CHARS = 100_000
_AGE_OUT_COMPILES = 10

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points from top-left


@dataclass(frozen=True)
class _Layout:
    """Where things go on the first page of a letter, in points from the top-left."""

    width: float
    height: float
    margin_left: float
    margin_right: float
    margin_top: float
    margin_bottom: float
    window: Rect  # the envelope window (what tests check placement against)
    return_zone: Rect | None  # one small line with the sender's return address
    recipient_zone: Rect  # the recipient's name and address, inset in the window
    sender_zone: Rect  # the sender block, top right
    body_top: float  # where place and date start on the first page
    fold_marks: tuple[float, ...]  # y positions of short marks at the left edge
    hole_mark: float | None  # y of the punch mark (centre of the sheet)

    def as_data(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "margin": {
                "left": self.margin_left,
                "right": self.margin_right,
                "top": self.margin_top,
                "bottom": self.margin_bottom,
            },
            "window": list(self.window),
            "return_zone": list(self.return_zone) if self.return_zone else None,
            "recipient_zone": list(self.recipient_zone),
            "sender_zone": list(self.sender_zone),
            "body_top": self.body_top,
            "fold_marks": list(self.fold_marks),
            "hole_mark": self.hole_mark,
        }


# A4, DIN 5008 form B: address field 20 mm from the left, 45 mm from the top,
# 85 x 45 mm; its top 17.7 mm take the return address, the lower 27.3 mm (six lines)
# the recipient. Text in the field starts 5 mm in, flush with the 25 mm body margin.
_A4 = _Layout(
    width=210 * MM,
    height=297 * MM,
    margin_left=25 * MM,
    margin_right=20 * MM,
    margin_top=20 * MM,
    margin_bottom=22 * MM,
    window=(20 * MM, 45 * MM, 105 * MM, 90 * MM),
    return_zone=(25 * MM, 50 * MM, 100 * MM, 61.7 * MM),
    recipient_zone=(25 * MM, 62.7 * MM, 100 * MM, 90 * MM),
    # Top right, and free to run down beside the address field for a long address.
    sender_zone=(110 * MM, 18 * MM, 190 * MM, 88 * MM),
    body_top=98 * MM,
    fold_marks=(105 * MM, 210 * MM),
    hole_mark=148.5 * MM,
)

# US Letter folded in three for a #10 window envelope: the window shows the sheet at
# x 0.875-5.375 in, y about 2.04-3.17 in. The sheet can slide in the envelope, so the
# recipient block keeps a margin inside the window on every side. There is no room
# for a return line in the window; US post wants it on the envelope's corner anyway.
_US_LETTER = _Layout(
    width=8.5 * INCH,
    height=11 * INCH,
    margin_left=1.125 * INCH,  # flush with the recipient block in the window
    margin_right=0.875 * INCH,
    margin_top=20 * MM,
    margin_bottom=22 * MM,
    window=(0.875 * INCH, 2.04 * INCH, 5.375 * INCH, 3.17 * INCH),
    return_zone=None,
    recipient_zone=(1.125 * INCH, 2.15 * INCH, 5.125 * INCH, 3.10 * INCH),
    sender_zone=(4.6 * INCH, 0.7 * INCH, 7.625 * INCH, 1.9 * INCH),
    body_top=3.4 * INCH,
    fold_marks=(11 / 3 * INCH, 22 / 3 * INCH),
    hole_mark=None,
)

_LAYOUTS: dict[Paper, _Layout] = {"a4": _A4, "us-letter": _US_LETTER}

WINDOWS: dict[Paper, Rect] = {paper: layout.window for paper, layout in _LAYOUTS.items()}


_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:-[a-z]{4})?(?:-([a-z]{2}))?(?:-.*)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")

# typst's compile is not re-entrant; threads take turns on the one compiler.
_lock = threading.Lock()


def render_letters(letters: Sequence[PrintableLetter], *, paper: Paper = "a4") -> bytes:
    """One PDF with each letter starting on a new page.

    Page numbers ("2 / 3") restart with each letter and are printed only on letters
    that run to more than one page. Raises ``ValueError`` for input beyond the limits.
    """
    if not letters:
        raise ValueError("no letters to render")
    _check_batch(len(letters), letters)
    documents = [_letter_data(letter) for letter in letters]
    title = letters[0].subject if len(letters) == 1 else _letters_title(letters[0].language)
    return _compile(documents, paper=paper, title=title)


def render_cover_and_letters(
    groups: Sequence[tuple[str, Sequence[PrintableLetter]]],
    *,
    paper: Paper = "a4",
    count_text: Callable[[int], str] | None = None,
) -> bytes:
    """A bulk print: per recipient a cover sheet, then that recipient's letters.

    Each group is (recipient label, letters). The cover sheet carries the recipient's
    address in the window (from the group's first letter), so the bundle can go in one
    large window envelope, and shows the label, the number of letters and the first
    letter's ``extra`` items. ``count_text`` words the count ("3 letters"); by default
    in the active language of the calling thread (print_render passes the campaign's).
    """
    if not groups:
        raise ValueError("no groups to render")
    every_letter = [letter for _, letters in groups for letter in letters]
    _check_batch(len(every_letter) + len(groups), every_letter)
    count_text = count_text or _count_in_active_language
    documents: list[dict[str, Any]] = []
    for label, letters in groups:
        if not letters:
            raise ValueError(f"group {label!r} has no letters")
        first = letters[0]
        if len(first.extra) > MAX_EXTRA_ITEMS:
            raise ValueError(f"more than {MAX_EXTRA_ITEMS} extra items for {label!r}")
        language = _language_data(first.language)
        rtl = language["dir"] == "rtl"
        documents.append(
            {
                "kind": "cover",
                "label": _directed(_line(label, "group label"), rtl),
                "count": _directed(_line(count_text(len(letters)), "count text"), rtl),
                "extra": [
                    _directed(f"{_line(key, 'extra key')}: {_line(value, 'extra value')}", rtl)
                    for key, value in first.extra.items()
                ],
                "recipient": [_directed(line, rtl) for line in _recipient_lines(first)],
                "return_line": None,  # the bundle's sender is whoever posts it, not a letter's
                **language,
            }
        )
        documents.extend(_letter_data(letter) for letter in letters)
    return _compile(documents, paper=paper, title=_letters_title(every_letter[0].language))


def batches(letters: Sequence[PrintableLetter], *, covers: int = 0) -> Iterator[Sequence[PrintableLetter]]:
    """Consecutive runs of ``letters``, each small enough for one PDF with ``covers``
    cover sheets added: within ``MAX_LETTERS`` documents and ``MAX_BATCH_CHARS``."""
    start, chars = 0, 0
    for end, letter in enumerate(letters):
        if end > start and (end - start + covers >= MAX_LETTERS or chars + len(letter.body) > MAX_BATCH_CHARS):
            yield letters[start:end]
            start, chars = end, 0
        chars += len(letter.body)
    if start < len(letters):
        yield letters[start:]


def _letters_title(language: str) -> str:
    """The PDF's title (its metadata: a viewer's window title) when it holds several
    letters, in the language of its first letter, as the document's language is."""
    with translation.override(_language_data(language)["lang"]):
        return gettext("Letters")


def _count_in_active_language(n: int) -> str:
    return ngettext("%(count)s letter", "%(count)s letters", n) % {"count": n}


def _check_batch(documents: int, letters: Sequence[PrintableLetter]) -> None:
    if documents > MAX_LETTERS:
        raise ValueError(f"{documents} documents in one PDF; split the batch into at most {MAX_LETTERS}")
    if sum(len(letter.body) for letter in letters) > MAX_BATCH_CHARS:
        raise ValueError(f"letters longer than {MAX_BATCH_CHARS} characters in all; split the batch")


def _clean(text: str) -> str:
    # Control characters have no place on paper and some upset PDF text extraction.
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def _line(text: str, what: str, limit: int = MAX_FIELD_CHARS) -> str:
    text = " ".join(_clean(text).split())  # one line: a newline would spill out of its zone
    if len(text) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return text


def _lines(lines: Sequence[str], what: str, limit: int) -> list[str]:
    kept = [line for line in (_line(raw, what) for raw in lines) if line]
    if len(kept) > limit:
        raise ValueError(f"{what} has more than {limit} lines")
    return kept


def _folded(lines: Sequence[str], what: str, limit: int) -> list[str]:
    """At most ``limit`` lines, the surplus joined onto the last: the sender's address
    comes from a free-text field, and a letter must print whatever its shape."""
    kept = [line for line in (_line(raw, what) for raw in lines) if line]
    if len(kept) > limit:
        kept[limit - 1 :] = [_line(", ".join(kept[limit - 1 :]), what, MAX_ADDRESS_CHARS)]
    return kept


def _recipient_lines(letter: PrintableLetter) -> list[str]:
    name = _line(letter.recipient_name, "recipient name")
    address = _lines(letter.recipient_address, "recipient address", MAX_RECIPIENT_LINES)
    return [name, *address] if name else address


def _directed(text: str, rtl: bool) -> dict[str, str]:
    return {"text": text, "dir": direction(text, rtl)}


def _paragraphs(body: str, rtl: bool) -> list[dict[str, Any]]:
    """Paragraphs split at blank lines; a single newline is a line break in one."""
    body = _clean(body)
    if len(body) > MAX_BODY_CHARS:
        raise ValueError(f"letter body is longer than {MAX_BODY_CHARS} characters")
    paragraphs = []
    for chunk in _BLANK_LINE.split(body.strip()):
        lines = [line.strip() for line in chunk.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            paragraphs.append({"lines": lines, "dir": direction("".join(lines), rtl)})
    return paragraphs


def _language_data(language: str) -> dict[str, Any]:
    """typst wants the language and region apart ("de-CH" -> "de", "CH")."""
    match = _LANGUAGE_TAG.match((language or "").strip().lower().replace("_", "-"))
    lang = match.group(1) if match else None
    region = match.group(2).upper() if match and match.group(2) else None
    return {
        "lang": lang,
        "region": region,
        "dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
    }


def _letter_data(letter: PrintableLetter) -> dict[str, Any]:
    language = _language_data(letter.language)
    rtl = language["dir"] == "rtl"
    sender_name = _line(letter.sender_name, "sender name")
    sender_lines = _folded(letter.sender_address, "sender address", MAX_SENDER_LINES)
    place = _line(letter.place, "place")
    date = _line(letter.date_text, "date")
    comma = "، " if language["lang"] in ARABIC_SCRIPT_LANGUAGES else ", "
    dateline = comma.join(part for part in (place, date) if part)
    # DIN 5008 return line: the sender on one line, parts apart by a middle dot; the
    # template drops parts from the end if they do not fit.
    parts = [part for part in (sender_name, *sender_lines) if part]
    return_line = {"parts": parts, "dir": direction(" ".join(parts), rtl)} if parts else None
    return {
        "kind": "letter",
        "sender_name": _directed(sender_name, rtl) if sender_name else None,
        "sender": [_directed(line, rtl) for line in sender_lines],
        "return_line": return_line,
        "recipient": [_directed(line, rtl) for line in _recipient_lines(letter)],
        "dateline": _directed(dateline, rtl) if dateline else None,
        "subject": _directed(_line(letter.subject, "subject", MAX_SUBJECT_CHARS), rtl),
        "paragraphs": _paragraphs(letter.body, rtl),
        "signature": _directed(_line(letter.signature, "signature"), rtl),
        **language,
    }


def _compile(documents: list[dict[str, Any]], *, paper: Paper, title: str) -> bytes:
    try:
        layout = _LAYOUTS[paper]
    except KeyError:
        raise ValueError(f"unknown paper {paper!r}") from None
    data = json.dumps(
        {"layout": layout.as_data(), "title": _line(title, "title", MAX_SUBJECT_CHARS), "documents": documents},
        ensure_ascii=False,
    )
    with _lock:
        compiler = _compiler()
        result = compiler.compile(format="pdf", sys_inputs={"data": data})
        if len(data) > _AGE_OUT_AFTER_CHARS:
            empty = json.dumps({"layout": layout.as_data(), "title": "", "documents": []})
            for _ in range(_AGE_OUT_COMPILES):
                compiler.compile(format="pdf", sys_inputs={"data": empty})
    if not isinstance(result, bytes):  # a list only comes back for multi-page PNG/SVG
        raise RuntimeError("typst returned no PDF")
    return without_false_suspects(result)


# Typst writes ``/MarkInfo<</Marked true/Suspects false>>`` in the catalog. That is valid
# PDF (Suspects is an optional boolean, false by default), but poppler (pdfinfo,
# pdftotext, print servers built on it) reports "Syntax Error: Suspects object is wrong
# type (boolean)" for a false value. Blanking the entry with spaces of the same length
# keeps every byte offset (the cross-reference table stays right) and means the same.
# tests/delivery/test_pdf_structure.py runs pdfinfo on every kind of PDF we make; if a
# newer typst stops writing the entry, this does nothing.
_FALSE_SUSPECTS = b"/Suspects false"


def without_false_suspects(data: bytes) -> bytes:
    """``data`` with the catalog's ``/Suspects false`` blanked. Searched from the end, where
    typst writes the catalog; page content is compressed, so no letter text can match."""
    at = data.rfind(_FALSE_SUSPECTS)
    if at < 0:
        return data
    return data[:at] + b" " * len(_FALSE_SUSPECTS) + data[at + len(_FALSE_SUSPECTS) :]


def render_data(template: Path, data: dict[str, Any]) -> bytes:
    """Compile another fixed typst template of ours (e.g. an open letter's hand-in pack)
    with ``data`` as JSON in ``sys.inputs.data``, with the same vendored fonts and the
    same lock. Callers bound their input, as ``render_letters`` does, since a compile
    cannot be stopped."""
    payload = json.dumps(data, ensure_ascii=False)
    with _lock:
        result = _template_compiler(template).compile(format="pdf", sys_inputs={"data": payload})
    if not isinstance(result, bytes):
        raise RuntimeError("typst returned no PDF")
    return without_false_suspects(result)


@functools.cache
def _template_compiler(template: Path) -> typst.Compiler:
    if template == TEMPLATE:
        return _compiler()
    return typst.Compiler(template, root=template.parent, font_paths=_fonts(), ignore_system_fonts=True)


@functools.cache
def _compiler() -> typst.Compiler:
    """The process's one compiler, made on first use (under ``_lock``): the first
    compile scans the fonts, later ones reuse typst's caches. Only our fonts, not even
    typst's built-in ones, so nothing falls back to a font we did not check."""
    return typst.Compiler(TEMPLATE, root=TEMPLATE.parent, font_paths=_fonts(), ignore_system_fonts=True)


def has_system_cjk() -> bool:
    return (SYSTEM_CJK_DIR / SYSTEM_CJK_FONTS[0]).is_file()


def font_dirs() -> list[Path]:
    """The folders typst takes fonts from: the vendored ones, then the full Noto Serif
    CJK from Debian's fonts-noto-cjk where it is installed, else the vendored subset."""
    return [FONTS_DIR, _system_cjk_links() if has_system_cjk() else CJK_SUBSET_DIR]


# Kept for the life of the process; removed when the interpreter exits.
_links: Path | None = None
_LINKS_PREFIX = "undersigned-fonts-"


def _remove_dead_links() -> None:
    """Remove the links folders of processes that are gone: a PDF helper that is killed
    (pdf_process stops a stuck one so) cannot remove its own. The folder name carries
    the process id; a folder whose id is in use again is left, which is harmless."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_LINKS_PREFIX}*-*"):
        pid = folder.name.removeprefix(_LINKS_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _system_cjk_links() -> Path:
    """A folder of links to the Serif CJK files alone. typst scans every font in a
    folder it is given (each face's character map, on the first compile), and Debian's
    folder also holds Noto Sans CJK and, with fonts-noto-cjk-extra, every weight:
    scanning it all took more than twice as long (docs/performance.md)."""
    global _links  # noqa: PLW0603 (one folder per process, made on first use)
    if _links is None:
        _remove_dead_links()
        _links = Path(tempfile.mkdtemp(prefix=f"{_LINKS_PREFIX}{os.getpid()}-"))
        atexit.register(shutil.rmtree, _links, ignore_errors=True)
        for name in SYSTEM_CJK_FONTS:
            if (SYSTEM_CJK_DIR / name).is_file():
                (_links / name).symlink_to(SYSTEM_CJK_DIR / name)
    return _links


@functools.cache
def _fonts() -> typst.Fonts:
    dirs = font_dirs()
    if not has_system_cjk():
        # Said once per process: nothing personal, and the operator can act on it.
        logger.warning(
            "PDF fonts: %s not found (Debian package fonts-noto-cjk); Chinese, Japanese "
            "and Korean characters outside the vendored subset will print as empty boxes, "
            "and CJK text in bold lines in the regular weight",
            SYSTEM_CJK_DIR / SYSTEM_CJK_FONTS[0],
        )
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=dirs)
