"""Letters in every script the PDFs must print (issue 13): Latin, Cyrillic, Greek,
Arabic, Hebrew, Devanagari, Chinese, Japanese and Korean, as names in a Latin letter
and as letters of their own, read back with ``pdftotext`` and checked for embedded
fonts and missing glyphs (tests/pdf_scripts.py says what is compared).

The full CJK font comes from Debian's fonts-noto-cjk (.ci/run installs it); without it
the tests that need it skip here and fail in CI. One test takes it away on purpose
(by pointing pdf.py at an empty folder) to check the fallback to the vendored subset.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.delivery.test_pdf import inside, make_letter, words_by_page, write
from tests.pdf_scripts import (
    OUTSIDE_CJK_SUBSET,
    SCRIPTS,
    assert_prints,
    check_every_script,
    check_fonts,
    normalised,
    notdef_glyphs,
    require_full_cjk,
    screenshots,
    text_of,
    tools,
)
from undersigned.delivery import pdf

LANGUAGES = {
    "latin": "en",
    "cyrillic": "ru",
    "greek": "el",
    "arabic": "ar",
    "hebrew": "he",
    "devanagari": "hi",
    "chinese": "zh",
    "japanese": "ja",
    "korean": "ko",
    "traditional chinese": "zh-TW",
}


def _clear_font_caches() -> None:
    pdf._fonts.cache_clear()
    pdf._compiler.cache_clear()
    pdf._template_compiler.cache_clear()


@pytest.fixture
def full_cjk() -> None:
    require_full_cjk()


@pytest.fixture
def without_full_cjk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine without fonts-noto-cjk, as after the quick start: pdf.py is pointed at
    an empty folder instead of Debian's, and its cached compilers are made again."""
    tools()
    monkeypatch.setattr(pdf, "SYSTEM_CJK_DIR", tmp_path / "no-such-fonts")
    _clear_font_caches()
    yield
    monkeypatch.undo()
    _clear_font_caches()


def test_a_letter_in_each_script_prints_every_character(full_cjk: None, tmp_path: Path) -> None:
    letters = [
        make_letter(
            language=LANGUAGES[script],
            recipient_name=name,
            subject=sentence,  # a bold line: CJK bold comes from the full font
            body=f"{name},\n\n{sentence}\n\n{sentence} {sentence}",
            signature=name,
        )
        for script, (name, sentence) in SCRIPTS.items()
    ]
    path = write(tmp_path, pdf.render_letters(letters), "scripts.pdf")
    screenshots(path, tmp_path)

    check_every_script(path)


def test_names_in_every_script_in_a_latin_letter(full_cjk: None, tmp_path: Path) -> None:
    names = [name for name, _ in SCRIPTS.values()]
    # The recipient block takes a name and up to seven lines; the rest go in the body.
    letter = make_letter(
        recipient_name=names[3],  # Arabic, in an English letter's window
        recipient_address=names[4:],
        sender_name=names[5],
        body="Dear friends,\n\n" + "\n".join(f"{name} signs this letter." for name in names),
    )
    path = write(tmp_path, pdf.render_letters([letter]), "names.pdf")
    screenshots(path, tmp_path)

    text = text_of(path)
    for name in names:
        assert_prints(text, f"{name} signs this letter.")
    check_fonts(path)
    # The window still holds the whole address block, whatever the scripts' heights.
    window = pdf.WINDOWS["a4"]
    page = words_by_page(path)[0]
    # Words compared by their letters: poppler may give a right-to-left word's letters
    # in drawn order. Below the sender block (which has the Devanagari name too).
    # A Devanagari word with a reph comes back garbled (tests/pdf_scripts.py): left out.
    address = {
        tuple(sorted(word)) for line in (names[3], *names[4:]) for word in normalised(line).split() if "र्" not in word
    }
    in_window = [
        w for w in page if tuple(sorted(normalised(w.text))) in address and window[1] - 20 < w.y0 < window[3] + 20
    ]
    assert {tuple(sorted(normalised(w.text))) for w in in_window} == address
    assert all(inside(w, window) for w in in_window)


@pytest.mark.parametrize("script", ["arabic", "hebrew"])
def test_right_to_left_letters_run_right_to_left(full_cjk: None, tmp_path: Path, script: str) -> None:
    name, sentence = SCRIPTS[script]
    letter = make_letter(
        language=LANGUAGES[script],
        recipient_name=name,
        body=f"{sentence}\n\nقصير" if script == "arabic" else f"{sentence}\n\nקצר",
    )
    path = write(tmp_path, pdf.render_letters([letter]), f"{script}.pdf")
    screenshots(path, tmp_path)
    text = text_of(path)
    assert_prints(text, sentence)
    check_fonts(path)
    # The short last paragraph sits at the right margin, where a right-to-left
    # paragraph starts, not at the left one.
    short = normalised("قصير" if script == "arabic" else "קצר")
    # (poppler's bounding-box words may carry the letters in drawn order.)
    word = next(w for w in words_by_page(path)[0] if sorted(normalised(w.text)) == sorted(short))
    right_margin = 210 * pdf.MM - 20 * pdf.MM
    assert abs(word.x1 - right_margin) < 3


def test_without_the_full_cjk_font_the_subset_prints_and_the_rest_are_boxes(
    without_full_cjk: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert pdf.CJK_SUBSET_DIR in pdf.font_dirs()
    letters = [
        make_letter(language=LANGUAGES[script], recipient_name=SCRIPTS[script][0], body=SCRIPTS[script][1])
        for script in ("chinese", "japanese", "korean", "hebrew", "devanagari")
    ]
    with caplog.at_level(logging.WARNING, logger="undersigned.delivery.pdf"):
        path = write(tmp_path, pdf.render_letters(letters), "subset.pdf")
    screenshots(path, tmp_path)
    assert "fonts-noto-cjk" in caplog.text
    text = text_of(path)
    for script in ("chinese", "japanese", "korean", "hebrew", "devanagari"):
        assert_prints(text, SCRIPTS[script][1])
    # Every character outside the subset (and only those) is a .notdef box: the
    # names' (in the window), not the sentences', which are all inside it.
    outside = sum(SCRIPTS[s][0].count(c) for s in ("japanese", "korean") for c in OUTSIDE_CJK_SUBSET)
    assert sum(notdef_glyphs(path).values()) == outside


def test_the_full_cjk_font_replaces_the_subset(full_cjk: None) -> None:
    # The same family name twice would leave typst to pick one; only Serif CJK is
    # scanned from Debian's folder (not Sans, not fonts-noto-cjk-extra's weights).
    files = {Path(font.path).name for font in pdf._fonts().fonts() if font.path}
    assert "NotoSerifCJKsc-Regular-subset.otf" not in files
    assert {"NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc"} <= files
    assert not {name for name in files if "Sans" in name}


def test_a_killed_process_links_folder_is_removed_by_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead = tmp_path / f"undersigned-fonts-{int(gone.stdout)}-abc"
    live = tmp_path / f"undersigned-fonts-{os.getpid()}-def"
    other = tmp_path / "undersigned-print-123-ghi"
    for folder in (dead, live, other):
        folder.mkdir()
    pdf._remove_dead_links()
    assert not dead.exists()
    assert live.exists()
    assert other.exists()
