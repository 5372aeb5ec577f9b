"""Names and text in every script the PDFs must print, and poppler/pypdf checks that
they did: the text comes back, every font is embedded, and no glyph is missing.

typst prints no warning for a character that no font in the fallback list has: it
draws the font's .notdef glyph (an empty box), and the PDF's ToUnicode map still
gives the character back, so ``pdftotext`` alone cannot tell. ``notdef_glyphs``
therefore reads the content streams and counts glyph 0 (.notdef) in each font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject

# (name, a sentence) per script. Some CJK characters are outside the vendored subset
# (髙 and 凜: not JIS X 0208 level 1; 똠: not among KS X 1001's Hangul; 鄧, 臺, 灣:
# Traditional only), listed in OUTSIDE_CJK_SUBSET; they print only with the full font
# from Debian's fonts-noto-cjk.
SCRIPTS: dict[str, tuple[str, str]] = {
    "latin": ("Siobhán Nić Giolla Phádraig", "Łódź, Škoda, Ærøskøbing and Ñandú agree."),
    "cyrillic": ("Анна Кузнецова", "Мы просим вас поддержать закон о чистых реках."),
    "greek": ("Ελένη Παπαδοπούλου", "Σας ζητούμε να στηρίξετε τον νόμο για τα ποτάμια."),
    "arabic": ("فاطمة الزهراء", "نطلب منكم دعم قانون الأنهار النظيفة."),
    # Without niqqud, as names are written: pdftotext puts a point before its letter.
    "hebrew": ("שרה לוי", "אנו מבקשים מכם לתמוך בחוק הנהרות הנקיים."),
    "devanagari": ("प्रिया शर्मा", "हम आपसे स्वच्छ नदी विधेयक का समर्थन करने का अनुरोध करते हैं।"),
    "chinese": ("王秀英", "我们请您支持清洁河流法案。"),
    "japanese": ("髙橋 凜", "きれいな川の法案を支持してください。"),
    "korean": ("김똠이", "깨끗한 강 법안을 지지해 주십시오."),
    "traditional chinese": ("鄧麗君", "臺灣的朋友請支持清潔河流法案。"),
}

OUTSIDE_CJK_SUBSET = "髙凜똠鄧臺灣"

# pdftotext marks right-to-left runs with embedding controls; they are not text.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def tools() -> None:
    """Skip (fail in CI) where poppler-utils is missing."""
    if all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdftoppm")):
        return
    if os.environ.get("CI"):
        pytest.fail("poppler-utils is missing: apt-get install -y poppler-utils", pytrace=False)
    pytest.skip("poppler-utils not installed (apt-get install poppler-utils); in CI this fails instead")


def require_full_cjk() -> None:
    """Skip (fail in CI) where poppler-utils or Debian's fonts-noto-cjk is missing."""
    from undersigned.delivery import pdf  # noqa: PLC0415 (typst loads only for the tests that print)

    tools()
    if not pdf.has_system_cjk():
        if os.environ.get("CI"):
            pytest.fail("fonts-noto-cjk is missing: .ci/run installs it", pytrace=False)
        pytest.skip("fonts-noto-cjk not installed (apt-get install fonts-noto-cjk); in CI this fails instead")


def check_every_script(path: Path) -> None:
    """Every name and sentence of SCRIPTS printed, every font embedded, no glyph missing."""
    printed = text_of(path)
    for name, sentence in SCRIPTS.values():
        assert_prints(printed, name)
        assert_prints(printed, sentence)
    check_fonts(path)


def screenshots(path: Path, tmp_path: Path) -> None:
    """The pages as PNGs at 80 dpi, into UNDERSIGNED_SCREENSHOTS to look at, if set."""
    folder = Path(os.environ.get("UNDERSIGNED_SCREENSHOTS") or tmp_path / "pages")
    assert render_pages(path, folder)


def normalised(text: str) -> str:
    """What is compared: bidi controls dropped, NFKC (Arabic presentation forms to their
    base letters, should a PDF carry them), whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFKC", text.translate(BIDI_CONTROLS)).split())


def _key(text: str) -> str:
    return "".join(normalised(text).split())


def assert_prints(text: str, expected: str) -> None:
    """``expected`` is in ``text`` (from ``text_of``), compared without whitespace: poppler
    moves the space between a right-to-left run and the Latin after it. Two more
    liberties, both poppler's reading and not what is printed (look at the pages):
    - a right-to-left paragraph's final full stop comes back in front of it (poppler
      reads with a left-to-right base), so it is left out of the comparison;
    - Devanagari words with a reph (र् written over the next cluster) come back with
      the cluster twice ("शर्मा" as "शर्मार्मा"), so those words are left out and the
      others compared one by one."""
    if "\u0900" <= expected.lstrip()[:1] <= "\u097f" or "र्" in expected:
        for word in normalised(expected).split():
            if "र्" not in word:
                assert _key(word) in _key(text), word
        return
    first_strong = next((c for c in expected if unicodedata.bidirectional(c) in ("L", "R", "AL")), "")
    if first_strong and unicodedata.bidirectional(first_strong) in ("R", "AL"):
        expected = expected.rstrip().removesuffix(".")
    assert _key(expected) in _key(text), expected


def text_of(path: Path) -> str:
    """``pdftotext`` in its default (reading order) mode, normalised. Not ``-raw``: that
    gives the words of a right-to-left line in the order they are drawn, left to right
    (reversed), so "فاطمة الزهراء" came back as "الزهراء فاطمة"; the default mode runs
    the bidi algorithm and gives logical order back, which is what is compared."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return normalised(out.stdout.decode())


def fonts(path: Path) -> list[dict[str, str]]:
    """pdffonts' table: name (without the subset tag), type, emb. Read from the right:
    a long name runs into the type column."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout.decode()
    table = []
    for row in out.splitlines()[2:]:
        cells = row.split()  # name, type (words), encoding, emb, sub, uni, object, generation
        table.append({"name": cells[0].split("+", 1)[-1], "type": " ".join(cells[1:-6]), "emb": cells[-5]})
    return table


def _font_is_two_byte(font: Any) -> bool:
    return bool(font.get("/Subtype") == "/Type0")


def notdef_glyphs(path: Path) -> dict[str, int]:
    """How many times each font draws glyph 0 (.notdef, the empty box), over every page
    and form XObject. typst writes its fonts as Type0 with 2-byte glyph codes."""
    found: dict[str, int] = {}

    def walk(content: Any, resources: Any) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        font_dict = resources.get("/Font")
        font_dict = font_dict.get_object() if font_dict is not None else DictionaryObject()
        font: Any = None
        for operands, operator in ContentStream(content, reader).operations:
            if operator == b"Tf":
                font = font_dict[operands[0]].get_object()
            elif operator in (b"Tj", b"TJ", b"'", b'"'):
                strings = operands[0] if operator == b"TJ" else [operands[-1]]
                for item in strings:
                    if not hasattr(item, "get_original_bytes") and not isinstance(item, bytes):
                        continue  # a kerning number in TJ
                    data = item.get_original_bytes() if hasattr(item, "get_original_bytes") else bytes(item)
                    step = 2 if _font_is_two_byte(font) else 1
                    zeros = sum(1 for i in range(0, len(data), step) if not any(data[i : i + step]))
                    if zeros:
                        name = str(font.get("/BaseFont"))
                        found[name] = found.get(name, 0) + zeros
        xobjects = resources.get("/XObject")
        for ref in (xobjects.get_object() if xobjects is not None else {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject, xobject.get("/Resources"))

    reader = PdfReader(path)
    for page in reader.pages:
        walk(page.get_contents(), page.get("/Resources"))
    return found


def check_fonts(path: Path) -> None:
    """Every font embedded, none a Type 3 (typst's stand-in for glyphs it draws itself),
    no glyph missing."""
    table = fonts(path)
    assert table
    assert [row for row in table if row["emb"] != "yes"] == []
    assert [row for row in table if row["type"].startswith("Type 3")] == []
    assert notdef_glyphs(path) == {}


def render_pages(path: Path, out_dir: Path) -> list[Path]:
    """PNGs of every page at 80 dpi (to look at; a test checks only that they render)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(path), str(out_dir / path.stem)], check=True)
    return sorted(out_dir.glob(f"{path.stem}*.png"))
