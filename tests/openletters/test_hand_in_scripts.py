"""Hand-in packs with endorsers and text in every script the PDFs must print (issue 13),
built by the real ``handin.write_pdf`` (typst, then the tagged join) and read back with
poppler; tests/pdf_scripts.py says what is compared and how missing glyphs are found."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import ngettext

from tests.delivery.test_pdf import words_by_page
from tests.openletters.test_hand_in import _add
from tests.pdf_scripts import (
    SCRIPTS,
    assert_prints,
    check_every_script,
    check_fonts,
    normalised,
    require_full_cjk,
    screenshots,
    text_of,
)
from undersigned.delivery import pdf
from undersigned.openletters import handin
from undersigned.openletters.models import OpenLetter, OpenLetterStatus
from undersigned.openletters.services import versions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def full_cjk() -> None:
    require_full_cjk()


def _letter(organisation: Any, *, slug: str, title: str, text: str, language: str) -> OpenLetter:
    letter = OpenLetter.objects.create(
        organisation=organisation,
        slug=slug,
        title=title,
        text=text,
        language=language,
        status=OpenLetterStatus.PUBLISHED,
    )
    versions.record_version(letter=letter)
    letter.refresh_from_db()
    return letter


def _pack(letter: OpenLetter, tmp_path: Path, name: str) -> Path:
    letter.refresh_from_db()  # the endorsement counts
    out = io.BytesIO()
    handin.write_pdf(handin.Pack(letter, None), out, day=letter.created_at.date())
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(out.getvalue())
    screenshots(path, tmp_path)
    return path


def test_a_pack_names_endorsers_in_every_script(organisation: Any, tmp_path: Path) -> None:
    text = "\n\n".join(sentence for _, sentence in SCRIPTS.values())
    letter = _letter(organisation, slug="every-script", title="Clean rivers", text=text, language="en")
    for i, (name, sentence) in enumerate(SCRIPTS.values()):
        # The role is a short phrase in the same script: the sentence's first words.
        _add(letter, name, f"e{i}@example.org", role=" ".join(sentence.split()[:2]), country="IE")
    path = _pack(letter, tmp_path, "handin-scripts")

    check_every_script(path)


def _letters_only(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())


def test_an_arabic_pack_runs_right_to_left(organisation: Any, tmp_path: Path) -> None:
    name, sentence = SCRIPTS["arabic"]
    letter = _letter(organisation, slug="arabic", title="الأنهار النظيفة", text=f"{sentence}\n\nقصير", language="ar")
    _add(letter, name, "f@example.org", country="EG")
    path = _pack(letter, tmp_path, "handin-arabic")

    printed = text_of(path)
    assert_prints(printed, sentence)
    assert_prints(printed, name)
    # The pack's own words are in the letter's language, Arabic here (the catalogue's
    # wording, read through gettext), and a Latin run inside an Arabic line keeps its
    # order (each line takes its own direction: "0 verified endorsements" once came out
    # "verified endorsements 0").
    with translation.override("ar"):
        counted = ngettext("%(count)s verified endorsement", "%(count)s verified endorsements", 1) % {"count": "1"}
    assert counted != "1 verified endorsement"
    # Word by word, leaving out words that carry an Arabic mark (damma, shadda): poppler
    # reads a marked word back with a letter twice ("مُتحقق" as "ُمُمتحقق"), not what is
    # printed (look at the page); the unmarked words must all be there.
    plain = [word for word in counted.split() if not any(unicodedata.combining(c) for c in word)]
    assert plain
    for plain_word in plain:
        assert _letters_only(plain_word) in _letters_only(printed), plain_word
    assert_prints(printed, organisation.name)
    check_fonts(path)
    # The short paragraph sits at the right margin (A4, 16 mm), where a right-to-left
    # paragraph starts. Words compared by their letters (poppler's drawn order).
    short = sorted(normalised("قصير"))
    word = next(w for w in words_by_page(path)[0] if sorted(normalised(w.text)) == short)
    assert abs(word.x1 - (210 - 16) * pdf.MM) < 3


def test_a_pack_prints_the_letter_s_list_items_in_either_direction(organisation: Any, tmp_path: Path) -> None:
    # A list item once printed nothing at all (a padded block inside a paragraph).
    english = _letter(
        organisation,
        slug="listed",
        title="Three asks",
        text="We ask you to:\n\n- publish\n- share timetables",
        language="en",
    )
    printed = text_of(_pack(english, tmp_path, "handin-list"))
    assert "• publish" in printed
    assert "• share timetables" in printed
    arabic = _letter(
        organisation,
        slug="listed-ar",
        title="طلبات",
        text="نطلب منكم:\n\n- النشر\n- تبادل الجداول",
        language="ar",
    )
    path = _pack(arabic, tmp_path, "handin-list-arabic")
    assert_prints(text_of(path), "النشر")
    assert_prints(text_of(path), "تبادل الجداول")
    # The item's bullet and indent sit at the right, where a right-to-left line starts.
    item = next(w for w in words_by_page(path)[0] if sorted(normalised(w.text)) == sorted(normalised("النشر")))
    assert item.x1 < (210 - 16) * pdf.MM - 4
