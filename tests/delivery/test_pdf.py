"""The typst letter renderer, checked through poppler's view of the PDF it makes.

No database: the renderer is a pure function of ``PrintableLetter`` values (and of the
translations, for the few words it adds itself).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.languages import pseudo_translations
from undersigned.delivery import pdf
from undersigned.delivery.printing import PAPERS, Paper, PrintableLetter

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm")),
    reason="poppler-utils not installed",
)

PAGE_SIZES = {"a4": (595.3, 841.9), "us-letter": (612.0, 792.0)}
ARABIC_NAME = "فاطمة الزهراء"
# pdftotext marks right-to-left runs with embedding controls; they are not text.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
PAGE_NUMBER = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$", re.MULTILINE)


def make_letter(**changes: object) -> PrintableLetter:
    letter = PrintableLetter(
        sender_name="Jana Šimůnková",
        sender_address=["Vinohradská 12", "120 00 Praha 2", "Czech Republic"],
        recipient_name="Siobhán O'Brien",
        recipient_address=["Member of Parliament", "House of Commons", "London SW1A 0AA", "United Kingdom"],
        date_text="23 November 2026",
        place="Prague",
        subject="Clean rivers bill",
        body="Dear Ms O'Brien,\n\nPlease support the clean rivers bill.\n\nYours sincerely,",
        signature="Jana Šimůnková",
        language="en",
    )
    return replace(letter, **changes)  # type: ignore[arg-type]


def long_body(paragraphs: int = 40) -> str:
    return "\n\n".join(f"Paragraph {i}. " + "The river needs our care and attention. " * 10 for i in range(paragraphs))


def write(tmp_path: Path, data: bytes, name: str = "out.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def text_pages(path: Path) -> list[str]:
    # stderr is dropped: poppler grumbles about typst's tagged-PDF "Suspects" flag.
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    pages = out.decode().split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text.translate(BIDI_CONTROLS))


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def words_by_page(path: Path) -> list[list[Word]]:
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True).stdout
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(out)  # noqa: S314 - poppler's rendering of a PDF we just made
    return [
        [
            Word(w.text or "", *(float(w.attrib[k]) for k in ("xMin", "yMin", "xMax", "yMax")))
            for w in page.iterfind("x:word", ns)
        ]
        for page in root.iterfind(".//x:page", ns)
    ]


def page_sizes(path: Path) -> list[tuple[float, float]]:
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(path)], capture_output=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", out.decode())]


def corner_pixel(path: Path) -> tuple[int, int, int]:
    """The top-left pixel of page 1, rendered at a low resolution."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", "10", "-f", "1", "-l", "1", str(path)], capture_output=True, check=True
    ).stdout
    header = re.match(rb"P6\s+\d+\s+\d+\s+255\s", ppm)  # binary PPM, one byte per channel
    assert header is not None
    r, g, b = ppm[header.end() : header.end() + 3]
    return (r, g, b)


def inside(word: Word, rect: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = rect
    return word.x0 >= x0 and word.x1 <= x1 and word.y0 >= y0 and word.y1 <= y1


def find_line(words: Sequence[Word], line: str) -> list[Word]:
    """The words of one line of text, matched in order on one baseline."""
    parts = line.split()
    for i in range(len(words)):
        candidate = list(words[i : i + len(parts)])
        if [w.text for w in candidate] == parts and len({round(w.y1, 1) for w in candidate}) == 1:
            return candidate
    raise AssertionError(f"{line!r} not found on the page")


@pytest.mark.parametrize("paper", PAPERS)
def test_page_size_and_recipient_in_window(tmp_path: Path, paper: Paper) -> None:
    letter = make_letter()
    path = write(tmp_path, pdf.render_letters([letter], paper=paper))

    assert page_sizes(path) == [pytest.approx(PAGE_SIZES[paper], abs=0.1)]
    words = words_by_page(path)[0]
    window = pdf.WINDOWS[paper]
    recipient = [find_line(words, line) for line in [letter.recipient_name, *letter.recipient_address]]
    for line in recipient:
        for word in line:
            assert inside(word, window), (word, window)
    # Lines in order, top to bottom, flush on the left.
    tops = [line[0].y0 for line in recipient]
    assert tops == sorted(tops)
    assert len({round(line[0].x0, 1) for line in recipient}) == 1

    # Nothing but the address (and on A4 the return line above it) shows in the window.
    in_window = [w for w in words if inside(w, window) or _overlaps(w, window)]
    expected = {id(w) for line in recipient for w in line}
    others = [w for w in in_window if id(w) not in expected]
    if paper == "a4":
        return_line = " · ".join([letter.sender_name, *letter.sender_address])
        assert [w.text for w in others] == return_line.split()
        assert all(inside(w, window) and w.y1 <= recipient[0][0].y1 for w in others)
    else:
        assert others == []


def _overlaps(word: Word, rect: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = rect
    return word.x0 < x1 and word.x1 > x0 and word.y0 < y1 and word.y1 > y0


@pytest.mark.parametrize("paper", PAPERS)
def test_longest_allowed_address_still_fits_the_window(tmp_path: Path, paper: Paper) -> None:
    address = [f"Address line {i}" for i in range(1, pdf.MAX_RECIPIENT_LINES + 1)]
    letter = make_letter(recipient_name="Professor Siobhán O'Brien-Šimůnková", recipient_address=address)
    words = words_by_page(write(tmp_path, pdf.render_letters([letter], paper=paper)))[0]
    for line in [letter.recipient_name, *address]:
        assert all(inside(w, pdf.WINDOWS[paper]) for w in find_line(words, line)), line


@pytest.mark.parametrize("paper", PAPERS)
def test_long_sender_address_is_folded_and_keeps_out_of_the_window(tmp_path: Path, paper: Paper) -> None:
    address = [f"Sender line {i}" for i in range(1, 13)]
    path = write(tmp_path, pdf.render_letters([make_letter(sender_address=address)], paper=paper))
    text = " ".join(text_pages(path)[0].split())
    folded = "Sender line 7 Sender line 8, Sender line 9, Sender line 10, Sender line 11, Sender line 12"
    assert folded in text  # the eighth line takes the rest (it may wrap)
    # Every word of the sender block lies above the date and clear of the window.
    words = words_by_page(path)[0]
    date = find_line(words, "Prague, 23 November 2026")
    window = pdf.WINDOWS[paper]
    clear = [w.text for w in words if w.y1 < date[0].y0 and not _overlaps(w, window)]
    expected = " ".join(["Jana Šimůnková", *address[:7], ", ".join(address[7:])]).split()
    assert sorted(clear) == sorted(expected)


def test_a4_recipient_sits_in_the_address_zone_below_the_return_line(tmp_path: Path) -> None:
    # DIN 5008 form B: the recipient's lines go into the lower 27.3 mm of the field.
    mm = 72 / 25.4
    letter = make_letter(recipient_address=["Line 2", "Line 3", "Line 4", "Line 5", "Line 6"])
    words = words_by_page(write(tmp_path, pdf.render_letters([letter])))[0]
    name = find_line(words, letter.recipient_name)
    last = find_line(words, "Line 6")
    # poppler's boxes reach up to the font's ascender, above the zone's cap-height top;
    # the baselines (about yMax minus the descender) must lie in 62.7-90 mm.
    assert 62.7 * mm < name[0].y1 - 2
    assert last[0].y1 - 3 < 90 * mm


@pytest.mark.parametrize("paper", PAPERS)
def test_arabic_recipient_reads_right_to_left_in_the_window(tmp_path: Path, paper: Paper) -> None:
    letter = make_letter(
        language="ar",
        recipient_name=ARABIC_NAME,
        recipient_address=["شارع الملك فهد ١٢", "الرياض ١١٥٦٤"],
        subject="رسالة بخصوص الأنهار",
        body="السيدة فاطمة الزهراء المحترمة،\n\nأكتب إليكم بخصوص الأنهار النظيفة.",
        place="الرياض",
        date_text="٢٣ نوفمبر ٢٠٢٦",
    )
    path = write(tmp_path, pdf.render_letters([letter], paper=paper))

    text = plain(text_pages(path)[0])
    lines = [line.strip() for line in text.splitlines()]
    # pdftotext gives Arabic in logical order once its embedding marks are removed, and
    # typst's text carries the base letters, so the comparison is exact.
    assert ARABIC_NAME in lines
    assert "شارع الملك فهد ١٢" in lines
    assert "رسالة بخصوص الأنهار" in lines
    # The Latin sender address inside the Arabic letter keeps its own order.
    assert "120 00 Praha 2" in lines

    window = pdf.WINDOWS[paper]
    arabic = [w for w in words_by_page(path)[0] if re.search("[\u0600-\u06ff]", w.text) and w.y1 < window[3] + 20]
    assert arabic
    assert all(inside(w, window) for w in arabic)
    # Right-to-left text starts on the right of the window.
    assert max(w.x1 for w in arabic) > (window[0] + window[2]) / 2


def test_names_in_many_scripts_come_out_intact(tmp_path: Path) -> None:
    letters = [
        make_letter(recipient_name="Siobhán O'Brien"),
        make_letter(recipient_name="Eva Šimůnková", recipient_address=["Ελένη Παπαδοπούλου", "Анна Кузнецова"]),
        make_letter(recipient_name="王秀英", language="zh", body="尊敬的王秀英女士：\n\n我写信是关于河流保护的问题。"),
        make_letter(recipient_name=ARABIC_NAME),  # in an English letter: bidi inside LTR
    ]
    path = write(tmp_path, pdf.render_letters(letters))
    pages = [plain(page) for page in text_pages(path)]
    assert len(pages) == 4
    assert "Siobhán O'Brien" in pages[0].splitlines()
    assert {"Eva Šimůnková", "Ελένη Παπαδοπούλου", "Анна Кузнецова"} <= set(pages[1].splitlines())
    assert "王秀英" in pages[2].splitlines()
    assert "我写信是关于河流保护的问题。" in pages[2]
    assert ARABIC_NAME in [line.strip() for line in pages[3].splitlines()]


def test_only_vendored_fonts_are_embedded(tmp_path: Path) -> None:
    letters = [make_letter(recipient_name="王秀英"), make_letter(recipient_name=ARABIC_NAME)]
    path = write(tmp_path, pdf.render_letters(letters))
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout.decode()
    names = {line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:]}
    assert names == {
        "NotoSerif-Regular",
        "NotoSerif-Bold",
        "NotoNaskhArabic-Regular",
        "NotoSerifCJKsc-Regular-Identity-H",
    }


def test_long_letter_numbers_its_pages_and_short_one_does_not(tmp_path: Path) -> None:
    letters = [make_letter(subject="Short"), make_letter(subject="Long", body=long_body()), make_letter()]
    path = write(tmp_path, pdf.render_letters(letters))
    pages = text_pages(path)
    assert len(pages) >= 5

    numbers = [PAGE_NUMBER.findall(page) for page in pages]
    assert numbers[0] == []  # the one-page letter
    assert numbers[-1] == []  # another one-page letter, after the long one
    long_pages = numbers[1:-1]
    total = len(long_pages)
    assert total >= 3
    # Restarted for the long letter, on every one of its pages, with its own total.
    assert long_pages == [[(str(i), str(total))] for i in range(1, total + 1)]
    assert "Paragraph 39." in pages[-2]


def test_each_letter_starts_on_a_new_page(tmp_path: Path) -> None:
    letters = [make_letter(subject=f"Subject {i}", body="Short.") for i in range(3)]
    pages = text_pages(write(tmp_path, pdf.render_letters(letters, paper="us-letter")))
    assert len(pages) == 3
    for i, page in enumerate(pages):
        assert f"Subject {i}" in page


MARKUP = [
    "#set page(fill: red)",
    "$x^2$",
    "*bold* and _under_",
    "<label>",
    "@ref",
    "back\\slash",
    "] closing [ bracket",
    '#"str"',
    "// not a comment",
    "#{ panic() }",
    "`raw`",
]


def test_markup_in_user_text_comes_out_literally(tmp_path: Path) -> None:
    letter = make_letter(
        recipient_name="#set text(red) Ann",
        recipient_address=["@ref $x$ <a>", "\\ ] ["],
        subject="*Subject* $y$ #x",
        body="\n\n".join(MARKUP),
        signature="#signature()",
        place="#place",
    )
    path = write(tmp_path, pdf.render_letters([letter]))
    text = text_pages(path)[0]
    lines = [line.strip() for line in text.splitlines()]
    for snippet in MARKUP:
        assert snippet in lines
    for snippet in ["#set text(red) Ann", "@ref $x$ <a>", "*Subject* $y$ #x", "#signature()"]:
        assert snippet in lines
    # typst writes no space glyphs; pdftotext guesses spaces from gaps and misses the
    # narrow ones around the backslash and brackets, so that line is compared without.
    assert "\\][" in lines
    assert "#place, 23 November 2026" in lines
    assert corner_pixel(path) == (255, 255, 255)  # "#set page(fill: red)" did nothing


def test_date_and_subject_appear(tmp_path: Path) -> None:
    letter = make_letter(place="Leeds", date_text="23 November 2026", subject="Save our library")
    page = text_pages(write(tmp_path, pdf.render_letters([letter])))[0]
    lines = [line.strip() for line in page.splitlines()]
    assert "Leeds, 23 November 2026" in lines
    assert "Save our library" in lines
    assert lines.index("Leeds, 23 November 2026") < lines.index("Save our library") < lines.index("Dear Ms O'Brien,")
    assert "Jana Šimůnková" in lines


def test_cover_sheets_precede_each_recipients_letters(tmp_path: Path) -> None:
    first = make_letter(recipient_name="Ann Example", extra={"Constituency": "Leeds Central"})
    second = make_letter(recipient_name="Bo Example")
    groups = [
        ("Ann Example MP", [first, replace(first, subject="Second to Ann", body=long_body(20))]),
        ("Bo Example MP", [second]),
    ]
    path = write(tmp_path, pdf.render_cover_and_letters(groups, paper="a4"))
    pages = text_pages(path)
    covers = [i for i, page in enumerate(pages) if "Ann Example MP" in page or "Bo Example MP" in page]
    assert covers[0] == 0
    assert "2 letters" in pages[0]
    assert "Constituency: Leeds Central" in pages[0]
    assert "1 letter" in pages[covers[1]].splitlines()
    second_to_ann = next(i for i, page in enumerate(pages) if "Second to Ann" in page)
    assert covers[0] + 1 < second_to_ann < covers[1]  # cover, first letter, second letter
    assert "Bo Example" in pages[covers[1] + 1]
    assert len(pages) == covers[1] + 2
    # The cover carries the address in the window, so the bundle fits a window envelope.
    words = words_by_page(path)[0]
    assert all(inside(w, pdf.WINDOWS["a4"]) for w in find_line(words, "Ann Example"))
    # Cover sheets carry no page number, and the letters' numbers ignore them.
    assert PAGE_NUMBER.findall(pages[0]) == []
    assert PAGE_NUMBER.findall(pages[2])[0][0] == "1"


def test_cover_count_text_can_be_translated(tmp_path: Path) -> None:
    data = pdf.render_cover_and_letters([("Ann", [make_letter()])], count_text=lambda n: f"{n} Brief")
    assert "1 Brief" in text_pages(write(tmp_path, data))[0].splitlines()


def _title(path: Path) -> str:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Title:"))


def test_the_title_of_several_letters_is_in_the_letters_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pseudo_translations(monkeypatch, "fr")  # French that shows it came from the French catalogue
    french = [make_letter(language="fr"), make_letter(language="fr", subject="Deuxième")]
    assert _title(write(tmp_path, pdf.render_letters(french), "letters.pdf")) == "⟦Letters⟧"
    bundle = pdf.render_cover_and_letters([("Ann", french)])
    assert _title(write(tmp_path, bundle, "bundle.pdf")) == "⟦Letters⟧"
    assert _title(write(tmp_path, pdf.render_letters([make_letter(), make_letter()]), "en.pdf")) == "Letters"
    assert _title(write(tmp_path, pdf.render_letters([french[1]]), "one.pdf")) == "Deuxième"  # one: its subject


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"body": "x" * (pdf.MAX_BODY_CHARS + 1)}, "body"),
        ({"recipient_name": "x" * (pdf.MAX_FIELD_CHARS + 1)}, "recipient name"),
        ({"recipient_address": ["line"] * (pdf.MAX_RECIPIENT_LINES + 1)}, "recipient address"),
        ({"sender_address": ["a long line of an address"] * 30}, "sender address"),
    ],
)
def test_oversized_input_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pdf.render_letters([make_letter(**changes)])


def test_body_at_the_limit_renders(tmp_path: Path) -> None:
    body = ("word " * (pdf.MAX_BODY_CHARS // 5))[: pdf.MAX_BODY_CHARS]
    assert text_pages(write(tmp_path, pdf.render_letters([make_letter(body=body)])))


def test_too_many_letters_and_empty_input_are_refused() -> None:
    with pytest.raises(ValueError, match="no letters"):
        pdf.render_letters([])
    with pytest.raises(ValueError, match="split"):
        pdf.render_letters([make_letter()] * (pdf.MAX_LETTERS + 1))
    long = make_letter(body="x" * pdf.MAX_BODY_CHARS)
    with pytest.raises(ValueError, match="split"):
        pdf.render_letters([long] * (pdf.MAX_BATCH_CHARS // pdf.MAX_BODY_CHARS + 1))
    with pytest.raises(ValueError, match="has no letters"):
        pdf.render_cover_and_letters([("Nobody", [])])


def test_batches_respect_both_limits() -> None:
    short = make_letter(body="x" * 100)
    long = make_letter(body="x" * pdf.MAX_BODY_CHARS)
    runs = list(pdf.batches([short] * (2 * pdf.MAX_LETTERS), covers=1))
    assert [len(run) for run in runs] == [pdf.MAX_LETTERS - 1, pdf.MAX_LETTERS - 1, 2]
    per_batch = pdf.MAX_BATCH_CHARS // pdf.MAX_BODY_CHARS
    runs = list(pdf.batches([long] * (per_batch + 1)))
    assert [len(run) for run in runs] == [per_batch, 1]
    assert list(pdf.batches([])) == []


def test_control_characters_are_dropped(tmp_path: Path) -> None:
    letter = make_letter(recipient_name="Ann\x00 Exa\x1bmple", body="One\x07 line.\r\n\r\nTwo.")
    lines = [line.strip() for line in text_pages(write(tmp_path, pdf.render_letters([letter])))[0].splitlines()]
    assert {"Ann Example", "One line.", "Two."} <= set(lines)


def test_concurrent_renders_share_one_compiler(tmp_path: Path) -> None:
    letters = [make_letter(subject=f"Thread {i}") for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda letter: pdf.render_letters([letter]), letters))
    for i, data in enumerate(results):
        assert f"Thread {i}" in text_pages(write(tmp_path, data, f"{i}.pdf"))[0]
