"""`undersigned print`: the letters supporters asked the organisation to post, as one PDF."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory, printable_letter
from undersigned.delivery import bulk_print, pdf, print_render, queries
from undersigned.delivery.channels.post import printable
from undersigned.delivery.models import Delivery, DeliveryStatus, PrintJob
from undersigned.delivery.pdf_join import join_pdfs
from undersigned.delivery.printing import PrintableLetter
from undersigned.delivery.services import ChannelUnavailable, record_delivery, request_post, start_print_job
from undersigned.letters.links import sign_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def posting_campaign(organisation: Any) -> Any:
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    return CampaignFactory(
        organisation=organisation, slug="bulk", posts_for_supporters=True, recipients=[first, second]
    )


def _pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def test_print_groups_letters_by_recipient_behind_a_cover_sheet(posting_campaign: Any, tmp_path: Path) -> None:
    first, second = posting_campaign.recipients.order_by("campaignrecipient__position")
    names = ["Ana Ruiz", "Siobhán O'Brien", "Jana Šimůnková"]
    for name in names:
        letter = LetterFactory(campaign=posting_campaign, sender_name=name)
        request_post(letter=letter, recipient=second)
        request_post(letter=letter, recipient=first)
    self_posted = LetterFactory(campaign=posting_campaign, sender_name="Not Printed")
    record_delivery(letter=self_posted, recipient=first, channel="post")  # type: ignore[arg-type]

    out = tmp_path / "post.pdf"
    stdout = io.StringIO()
    call_command("print_letters", "bulk", "--out", str(out), stdout=stdout)
    assert stdout.getvalue() == f"Printed 6 letters of “Keep the riverside path open” to {out}.\n"
    pages = _pages(out)
    assert len(pages) == 8  # two cover sheets and six one-page letters
    assert "Councillor Rowan Ashby" in pages[0]
    assert "3 letters" in pages[0]
    for page, name in zip(pages[1:4], names, strict=True):
        assert "Dear Councillor Rowan Ashby," in page
        assert name in page
    assert "Dr Amal Haddad" in pages[4]
    for page, name in zip(pages[5:8], names, strict=True):
        assert "Dear Dr Amal Haddad," in page
        assert name in page
    assert all("Not Printed" not in page for page in pages)


def test_big_batches_are_printed_in_chunks_that_join_up(
    posting_campaign: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("undersigned.delivery.pdf.MAX_LETTERS", 3)  # a cover and two letters per chunk
    recipient = posting_campaign.recipients.first()
    for n in range(5):
        request_post(letter=LetterFactory(campaign=posting_campaign, sender_name=f"Writer {n}"), recipient=recipient)
    out = tmp_path / "post.pdf"
    call_command("print_letters", "bulk", "--out", str(out), "--paper", "us-letter", stdout=io.StringIO())
    pages = _pages(out)
    assert len(pages) == 6
    assert "5 letters" in pages[0]
    assert [next(f"Writer {n}" for n in range(5) if f"Writer {n}" in page) for page in pages[1:]] == [
        f"Writer {n}" for n in range(5)
    ]
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info


def test_nothing_to_print_writes_no_file(posting_campaign: Any, tmp_path: Path) -> None:
    out = tmp_path / "post.pdf"
    stdout = io.StringIO()
    call_command("print_letters", "bulk", "--out", str(out), stdout=stdout)
    assert stdout.getvalue() == "No letters are waiting to be posted in “Keep the riverside path open”.\n"
    assert not out.exists()


def test_supporters_ask_for_post_on_the_send_page(client: Client, posting_campaign: Any) -> None:
    letter = LetterFactory(campaign=posting_campaign)
    recipient = posting_campaign.recipients.first()
    link = sign_token(letter.token)
    page = client.get(reverse("public:letter", args=[link])).content.decode()
    assert "Ask Friends of the River Wend to post it for me" in page
    response = client.post(reverse("public:letter_post_for_me", args=[link]), {"recipient": recipient.pk})
    client.post(reverse("public:letter_post_for_me", args=[link]), {"recipient": recipient.pk})
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.channel == "post"
    posting_campaign.refresh_from_db()
    assert posting_campaign.letters_sent == 0  # only waiting to be posted: counted once posted
    page = client.get(reverse("public:letter", args=[link])).content.decode()
    assert "Friends of the River Wend will print and post it for you." in page


def test_campaigns_that_do_not_post_refuse_the_request(campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign)
    with pytest.raises(ChannelUnavailable, match="don't post letters for supporters"):
        request_post(letter=letter, recipient=campaign.recipients.first())
    assert not Delivery.objects.exists()


def test_a_closing_name_is_printed_once_under_the_signing_space(campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign, body="Dear {{ recipient.name }},\n\nPlease.\n\nYours,\nAna Ruiz\n")
    page = printable(letter, campaign.recipients.first(), day=timezone.localdate())
    assert page.body.endswith("Please.\n\nYours,")
    assert page.signature == "Ana Ruiz"
    other = LetterFactory(campaign=campaign, body="Dear {{ recipient.name }},\n\nPlease.\n\nYours,\nA. R.")
    assert printable(other, campaign.recipients.first(), day=timezone.localdate()).body.endswith("Yours,\nA. R.")


# --- Print jobs: the same path, built by a worker in chunks --------------------------


def _pdfinfo_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def _media(name: str) -> Path:
    return Path(default_storage.path(name))


@pytest.mark.django_db(transaction=True)
def test_a_print_job_of_300_letters_built_by_a_worker(
    organisation: Any, organiser: Any, run_worker: Any, tmp_path: Path
) -> None:

    # Campaign order differs from creation order, so the covers must follow the campaign's.
    ashby = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    haddad = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    wang = RecipientFactory(organisation=organisation, name="Wang Xiuying")
    campaign = CampaignFactory(
        organisation=organisation, slug="bulk-300", posts_for_supporters=True, recipients=[wang, ashby, haddad]
    )
    plan = [(ashby, 40), (wang, 200), (haddad, 60)]  # 303 documents: more than one chunk holds
    for recipient, count in plan:
        for n in range(count):
            letter = LetterFactory(campaign=campaign, sender_name=f"Writer {recipient.pk}-{n}")
            request_post(letter=letter, recipient=recipient)

    job = start_print_job(campaign=campaign, paper="a4", actor=organiser)
    assert (job.status, job.total) == ("queued", 300)
    worker = run_worker(UNDERSIGNED_VAR_DIR=str(tmp_path))  # its media folder: tmp_path / "media"

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.error) == ("done", 300, 300, ""), worker.stderr
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.file == f"print-jobs/{job.pk}-bulk-300-a4.pdf"
    path = tmp_path / "media" / job.file
    assert _pdfinfo_pages(path) == 303  # 300 one-page letters and three cover sheets
    # Joined from chunks, the print is still tagged, in its language, titled by the campaign.
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert info.stderr == ""
    assert "Tagged:          yes\n" in info.stdout
    assert f"Title:           {campaign.title}\n" in info.stdout
    pages = _pages(path)
    covers = [number for number, page in enumerate(pages) if "Dear " not in page]
    assert covers == [0, 201, 242]
    expected = [(wang, 200), (ashby, 40), (haddad, 60)]
    for start, (recipient, count) in zip(covers, expected, strict=True):
        assert recipient.name in pages[start]
        assert f"{count} letters" in pages[start]  # the whole count, though Wang's letters span two chunks
        letters = pages[start + 1 : start + 1 + count]
        assert all(f"Dear {recipient.name}," in page for page in letters)
        assert [f"Writer {recipient.pk}-{n}" in page for n, page in enumerate(letters)] == [True] * count
    assert PrintJob.objects.count() == 1


def _job(campaign: Any, **fields: Any) -> Any:
    return PrintJob.objects.create(campaign=campaign, paper=fields.pop("paper", "a4"), **fields)


def test_a_job_reports_progress_after_each_chunk(posting_campaign: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("undersigned.delivery.pdf.MAX_LETTERS", 3)  # a cover and two letters, then three letters
    recipient = posting_campaign.recipients.first()
    for n in range(5):
        request_post(letter=LetterFactory(campaign=posting_campaign, sender_name=f"Writer {n}"), recipient=recipient)
    job = _job(posting_campaign, total=5)
    seen: list[int] = []
    touch = bulk_print.touch

    def record(job_id: int, **fields: Any) -> None:
        touch(job_id, **fields)
        if "done" in fields:
            seen.append(int(fields["done"]))

    monkeypatch.setattr(bulk_print, "touch", record)
    assert bulk_print.build_print_job(job.pk) == "done"
    assert seen == [0, 2, 5]
    job.refresh_from_db()
    assert (job.done, job.total) == (5, 5)
    assert _pdfinfo_pages(_media(job.file)) == 6

    # A repeated task finds nothing waiting and changes nothing.
    assert bulk_print.build_print_job(job.pk) == "done"
    assert seen == [0, 2, 5]


def test_a_failed_print_says_why_and_logs_only_ids(posting_campaign: Any, monkeypatch: Any, caplog: Any) -> None:
    recipient = posting_campaign.recipients.first()
    request_post(letter=LetterFactory(campaign=posting_campaign, sender_name="Ana Ruiz"), recipient=recipient)

    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise ValueError("letter body is longer than 24000 characters")

    monkeypatch.setattr("undersigned.delivery.pdf.render_cover_and_letters", refuse)
    job = _job(posting_campaign, total=1)
    assert bulk_print.build_print_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == (
        "Printing stopped after 0 of 1 letter: a letter could not be laid out for printing "
        "(letter body is longer than 24000 characters)."
    )
    assert job.finished_at is not None

    # As if an error's message carried personal data. (Built here, not written in the
    # raise, because the logged traceback quotes the raising line of code.)
    personal = ", ".join(["Councillor Rowan Ashby", "1 Market Square"])

    def crash(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError(personal)

    monkeypatch.setattr("undersigned.delivery.pdf.render_cover_and_letters", crash)
    caplog.clear()
    job = _job(posting_campaign, total=1)
    assert bulk_print.build_print_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error == (
        "Printing stopped after 0 of 1 letter because of an error on the server. Start the print again; "
        f"if it fails again, your administrator will find the details in the worker's log under print job {job.pk}."
    )
    assert (
        f"print job {job.pk} (campaign {posting_campaign.pk}) failed after 0 letters with RuntimeError" in caplog.text
    )
    assert "Ashby" not in caplog.text
    assert "Market Square" not in caplog.text


def test_a_job_restarted_elsewhere_stops_without_a_file(posting_campaign: Any, monkeypatch: Any) -> None:
    recipient = posting_campaign.recipients.first()
    request_post(letter=LetterFactory(campaign=posting_campaign), recipient=recipient)
    job = _job(posting_campaign, total=1)
    original = print_render.print_letters

    def taken_over(*args: Any, **kwargs: Any) -> int:
        # An organiser restarted the job as stalled while this worker was still at it.
        PrintJob.objects.filter(pk=job.pk).update(status="failed", error="restarted")
        return original(*args, **kwargs)

    monkeypatch.setattr(print_render, "print_letters", taken_over)
    files_before = set(_media("print-jobs").glob("*"))  # the folder is shared by the whole test run
    assert bulk_print.build_print_job(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.error, job.file, job.done) == ("restarted", "", 0)
    assert set(_media("print-jobs").glob("*")) == files_before


def test_letters_that_arrive_during_a_job_wait_for_the_next(posting_campaign: Any) -> None:
    recipient = posting_campaign.recipients.first()
    request_post(letter=LetterFactory(campaign=posting_campaign), recipient=recipient)
    job = _job(posting_campaign, total=1)
    request_post(letter=LetterFactory(campaign=posting_campaign), recipient=recipient)
    assert bulk_print.build_print_job(job.pk) == "done"
    job.refresh_from_db()
    assert (job.done, job.total) == (1, 1)
    assert queries.letters_waiting(posting_campaign.pk) == 2


def test_a_recipient_in_two_campaigns_gets_each_letter_once(organisation: Any, tmp_path: Path) -> None:
    chair = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    other = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    campaign = CampaignFactory(organisation=organisation, slug="one", posts_for_supporters=True, recipients=[chair])
    CampaignFactory(organisation=organisation, slug="two", posts_for_supporters=True, recipients=[other, chair])
    request_post(letter=LetterFactory(campaign=campaign, sender_name="Ana Ruiz"), recipient=chair)
    out = tmp_path / "post.pdf"
    call_command("print_letters", "one", "--out", str(out), stdout=io.StringIO())
    assert _pdfinfo_pages(out) == 2


def test_covers_count_each_recipients_letters_across_chunks(
    organisation: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("undersigned.delivery.pdf.MAX_LETTERS", 4)
    people = [RecipientFactory(organisation=organisation, name=name) for name in ("Amal", "Bea", "Chidi")]
    campaign = CampaignFactory(organisation=organisation, slug="mixed", posts_for_supporters=True, recipients=people)
    for recipient, count in zip(people, (1, 3, 2), strict=True):
        for n in range(count):
            request_post(letter=LetterFactory(campaign=campaign, sender_name=f"Writer {n}"), recipient=recipient)
    out = tmp_path / "post.pdf"
    call_command("print_letters", "mixed", "--out", str(out), stdout=io.StringIO())
    pages = _pages(out)
    # Chunks: [Amal's cover and letter, Bea's cover and first letter], [Bea's two others,
    # Chidi's cover and first letter], [Chidi's second letter].
    assert [("Dear " not in page) for page in pages] == [True, False, True, False, False, False, True, False, False]
    assert "1 letter\n" in pages[0] or pages[0].rstrip().endswith("1 letter")
    assert "3 letters" in pages[2]
    assert "2 letters" in pages[6]


def test_join_keeps_pages_and_their_order(tmp_path: Path) -> None:
    parts = []
    for number, names in enumerate([["Ana Ruiz", "Siobhán O'Brien"], ["Jana Šimůnková"], ["王秀英", "Mina Okafor"]]):
        part = tmp_path / f"{number}.pdf"
        part.write_bytes(pdf.render_letters([printable_letter(name) for name in names]))
        parts.append(part)
    out = tmp_path / "joined.pdf"
    with out.open("wb") as handle:
        assert join_pdfs(parts, handle) == 5
    reader = PdfReader(out, strict=True)
    texts = [page.extract_text() for page in reader.pages]
    order = ["Ana Ruiz", "Siobhán O'Brien", "Jana Šimůnková", "王秀英", "Mina Okafor"]
    assert [next(name for name in order if name in text) for text in texts] == order
    check = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    assert check.stderr == ""


def test_chunks_are_small_but_big_enough_to_empty_typsts_cache() -> None:
    def letter(body_chars: int) -> PrintableLetter:
        return PrintableLetter(
            sender_name="Ana Ruiz",
            sender_address=["12 Eastfield Road", "Wendmouth", "WM2 3BB"],
            recipient_name="Councillor Rowan Ashby",
            recipient_address=["Town Hall", "Wendmouth"],
            date_text="23 November 2026",
            place="Wendmouth",
            subject="Please keep the riverside path open",
            body="Please keep it open. " * (body_chars // 21),
            signature="Ana Ruiz",
        )

    def documents(body_chars: int) -> list[int]:
        cover = print_render.Cover(key=1, label="Councillor Rowan Ashby", total=250)
        chunks = print_render._chunks((cover, letter(body_chars)) for _ in range(250))
        return [sum(len(run.letters) + run.with_cover for run in runs) for runs in chunks]

    # A page-long letter: chunks of CHUNK_DOCUMENTS (the first one's cover included).
    assert documents(1500) == [100, 100, 51]
    # Notes of a line each: a chunk grows until its input passes the cache threshold.
    short = documents(40)
    assert len(short) == 2
    assert all(size > print_render.CHUNK_DOCUMENTS for size in short[:-1])
    assert max(short) <= pdf.MAX_LETTERS
    assert sum(short) == 251
