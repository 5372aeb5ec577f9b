"""Every PDF we make reads without complaint in poppler, and a posted letter signs once.

Poppler (pdfinfo, pdftotext, the print servers built on it) reports structural problems
on stderr as "Syntax Error"/"Syntax Warning" and still answers 0, so each test reads
stderr. Real typst output, real poppler; the bulk print runs ``undersigned print``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory, printable_letter
from undersigned.delivery import pdf
from undersigned.delivery.channels.post import printable
from undersigned.delivery.pdf_join import join_pdfs
from undersigned.delivery.services import request_post

pytestmark = pytest.mark.skipif(not shutil.which("pdfinfo"), reason="needs poppler-utils")


def poppler_complaints(path: Path) -> list[str]:
    """What pdfinfo says is wrong with the file's structure (nothing, for a good PDF)."""
    result = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return [line for line in result.stderr.splitlines() if line.startswith(("Syntax Error", "Syntax Warning"))]


def text_of(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_letter_pdf_has_no_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf.render_letters([printable_letter("Ana Ruiz")]))
    assert poppler_complaints(path) == []
    assert b"/Suspects false" not in path.read_bytes()


def test_blanking_keeps_every_offset() -> None:
    data = b"%PDF-1.7\n1 0 obj <</MarkInfo<</Marked true/Suspects false>>>> endobj\nxref"
    blanked = pdf.without_false_suspects(data)
    assert len(blanked) == len(data)
    assert blanked == data.replace(b"/Suspects false", b" " * 15)
    assert pdf.without_false_suspects(b"%PDF no entry") == b"%PDF no entry"


def test_joined_pdfs_have_no_syntax_error(tmp_path: Path) -> None:
    sources = []
    for number, name in enumerate(["Ana Ruiz", "Siobhán O'Brien"]):
        part = tmp_path / f"{number}.pdf"
        part.write_bytes(pdf.render_letters([printable_letter(name), printable_letter("Mina Okafor")]))
        sources.append(part)
    out = tmp_path / "joined.pdf"
    with out.open("wb") as handle:
        join_pdfs(sources, handle, title="Post")
    assert poppler_complaints(out) == []


@pytest.mark.django_db
def test_a_bulk_print_has_no_syntax_error_and_signs_each_letter_once(organisation: Any, tmp_path: Path) -> None:
    recipient = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    campaign = CampaignFactory(
        organisation=organisation, slug="post", posts_for_supporters=True, recipients=[recipient]
    )
    # The supporter signed, then added a line of their own: the name stays where they put it.
    body = "Dear {{ recipient.name }},\n\nPlease keep it open.\n\nYours sincerely,\nAna Ruiz\n\nP.S. I walk it daily."
    request_post(letter=LetterFactory(campaign=campaign, sender_name="Ana Ruiz", body=body), recipient=recipient)
    out = tmp_path / "post.pdf"
    call_command("print_letters", "post", "--out", str(out), stdout=io.StringIO())
    assert poppler_complaints(out) == []
    letter_page = text_of(out).split("\f")[1]
    closing = letter_page[letter_page.index("Yours sincerely") :]
    assert closing.count("Ana Ruiz") == 1  # signed once, where the supporter signed
    assert closing.index("Ana Ruiz") < closing.index("P.S.")


@pytest.mark.django_db
def test_a_closing_name_after_a_postscript_is_not_printed_again(campaign: Any) -> None:
    body = "Dear {{ recipient.name }},\n\nPlease.\n\nYours,\nana ruiz\n\nP.S. Thank you."
    page = printable(LetterFactory(campaign=campaign, sender_name="Ana Ruiz", body=body),
                     campaign.recipients.first(), day=timezone.localdate())  # fmt: skip
    assert page.body.endswith("Yours,\nana ruiz\n\nP.S. Thank you.")
    assert page.signature == ""
    unsigned = LetterFactory(campaign=campaign, sender_name="Ana Ruiz", body="Dear {{ recipient.name }},\n\nPlease.")
    assert printable(unsigned, campaign.recipients.first(), day=timezone.localdate()).signature == "Ana Ruiz"
