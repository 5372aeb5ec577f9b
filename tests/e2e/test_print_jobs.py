"""An organiser prints a campaign's post in a real browser: starts it, leaves, comes back, downloads."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_serious_violations
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.delivery.models import PrintJob
from undersigned.delivery.services import request_post

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
TITLE = "Keep the riverside path open"
# Long enough for a worker started by the test (a new process: Django, typst's fonts).
WORKER_TIMEOUT_MS = 120_000


@pytest.fixture
def posting_campaign(organisation: Any) -> Any:
    """Six letters waiting to be posted, to two recipients."""
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    campaign = CampaignFactory(
        organisation=organisation,
        slug="keep-the-riverside-path-open",
        posts_for_supporters=True,
        recipients=[first, second],
    )
    for name in ("Ana Ruiz", "Siobhán O'Brien", "Jana Šimůnková"):
        letter = LetterFactory(campaign=campaign, sender_name=name)
        request_post(letter=letter, recipient=first)
        request_post(letter=letter, recipient=second)
    return campaign


def _open_print_page(page: Page) -> None:
    page.goto("/dashboard/")
    page.get_by_role("link", name=f"Print posted letters of “{TITLE}”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Print posted letters")


def _pdf_pages(path: Path) -> tuple[int, str]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    size = re.search(r"^Page size:\s+(.+)$", info, re.MULTILINE)
    assert pages, info
    assert size, info
    return int(pages.group(1)), size.group(1)


def test_an_organiser_prints_leaves_comes_back_and_downloads(
    organiser_page: Callable[..., Page], posting_campaign: Any, run_worker: Any, tmp_path: Path
) -> None:
    page = organiser_page(viewport=PHONE, accept_downloads=True)
    _open_print_page(page)
    expect(page.get_by_test_id("waiting")).to_have_text(f"6 letters wait to be posted in “{TITLE}”.")

    # By keyboard: choose the paper, then Tab to the button and press Enter.
    page.get_by_label("US Letter").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("US Letter")).to_be_checked()
    page.keyboard.press("Tab")
    start = page.get_by_role("button", name="Print all posted letters")
    expect(start).to_be_focused()
    page.keyboard.press("Enter")

    job = page.locator("article.print-job").first
    expect(page.get_by_role("status")).to_contain_text("Printing has started.")
    expect(job.get_by_role("heading", level=3)).to_contain_text("US Letter print")
    expect(job.locator(".job-status")).to_have_text("Waiting to start: 0 of 6 letters printed.")
    expect(job.get_by_role("progressbar")).to_have_attribute("value", "0")
    expect(job.get_by_role("link", name="Refresh")).to_be_visible()

    # The organiser leaves; the worker prints meanwhile; they come back later.
    page.goto("/")
    run_worker()
    _open_print_page(page)
    job = page.locator("article.print-job").first
    expect(job.locator(".job-status")).to_have_text("Ready: 6 of 6 letters, in one PDF.")
    expect(job.get_by_role("progressbar")).to_have_attribute("value", "6")
    with page.expect_download() as started:
        job.get_by_role("link", name="Download the PDF of the US Letter print").click()
    download = started.value
    saved = PrintJob.objects.get()
    assert download.suggested_filename == f"keep-the-riverside-path-open-letters-us-letter-{saved.pk}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    assert _pdf_pages(path) == (8, "612 x 792 pts (letter)")  # two covers and six letters

    # The letters are in the post: the organiser says so, by keyboard. Forgetting the
    # box first shows what to do next to it.
    mark = job.get_by_role("button", name=re.compile(r"^Mark as posted"))
    mark.focus()
    page.keyboard.press("Enter")
    job = page.locator("article.print-job").first
    box = job.get_by_label("These letters are in the post")
    expect(job.locator(".field-error")).to_have_text(
        "Error: Tick this box once the letters of this print are in the post."
    )
    expect(box).to_have_attribute("aria-invalid", "true")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.keyboard.press("Tab")
    expect(job.get_by_role("button", name=re.compile(r"^Mark as posted"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("6 letters marked as sent by post.")
    job = page.locator("article.print-job").first
    expect(job.locator(".posted")).to_contain_text("Posted: 6 letters marked as sent by post on")
    expect(job.get_by_role("button", name=re.compile(r"^Mark as posted"))).to_have_count(0)
    expect(page.get_by_test_id("waiting")).to_have_text(f"No letters are waiting to be posted in “{TITLE}”.")
    assert {d.status for d in posting_campaign.letters.first().deliveries.all()} == {"sent"}


def test_the_print_page_follows_a_job_by_itself(
    organiser_page: Callable[..., Page], posting_campaign: Any, run_worker: Any
) -> None:
    """With JavaScript, htmx polls the job and updates the page without a reload, under the real CSP."""
    page = organiser_page()
    _open_print_page(page)
    page.get_by_role("button", name="Print all posted letters").click()
    status = page.locator("article.print-job .job-status").first
    expect(status).to_have_text("Waiting to start: 0 of 6 letters printed.")
    expect(status).to_have_attribute("aria-live", "polite")
    # Polls replace the text inside the live region, never the region itself (screen
    # readers announce changes only in a region that was already there).
    status.evaluate("element => { element.dataset.original = 'yes'; }")
    url = page.url

    finished: list[Any] = []
    worker = threading.Thread(target=lambda: finished.append(run_worker()))
    worker.start()
    try:
        expect(status).to_have_text("Ready: 6 of 6 letters, in one PDF.", timeout=WORKER_TIMEOUT_MS)
    finally:
        worker.join()
    assert finished, "the worker did not finish"
    assert page.url == url  # no reload
    expect(status).to_have_attribute("data-original", "yes")
    expect(page.get_by_role("link", name="Download the PDF of the A4 print")).to_be_visible()
    expect(page.get_by_role("link", name="Refresh")).to_have_count(0)


def test_print_page_accessibility(organiser_page: Callable[..., Page], posting_campaign: Any) -> None:
    # One job in each state the page can show, at a phone's width.
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    jobs = [
        PrintJob.objects.create(campaign=posting_campaign, paper="a4", status="done", total=6, done=6, file="x.pdf"),
        PrintJob.objects.create(
            campaign=posting_campaign, paper="a4", status="failed", total=6, done=2, error="Failed."
        ),
        PrintJob.objects.create(campaign=posting_campaign, paper="us-letter", status="running", total=6, done=2),
        PrintJob.objects.create(campaign=posting_campaign, paper="a4", status="running", total=6, done=3),
    ]
    now = timezone.now()
    jobs += [
        # Posted, and its PDF since deleted after the retention period.
        PrintJob.objects.create(campaign=posting_campaign, paper="us-letter", status="done", total=6, done=6,
                                posted_at=now, posted_count=6, file_deleted_at=now),
        # Failed by the worker's housekeeping.
        PrintJob.objects.create(campaign=posting_campaign, paper="a4", status="failed", total=6, done=1,
                                error="Stopped: no progress for 10 minutes, so the worker printing it has probably "
                                "stopped. No letter was marked as posted. Start the print again."),
    ]  # fmt: skip
    PrintJob.objects.filter(pk=jobs[2].pk).update(updated_at=long_ago)  # stalled
    page = organiser_page(bypass_csp=True, viewport=PHONE)
    _open_print_page(page)
    expect(page.locator("article.print-job")).to_have_count(6)
    expect(page.get_by_role("button", name="Start this print again")).to_be_visible()
    expect(page.get_by_label("These letters are in the post")).to_have_count(1)
    assert_no_serious_violations(page)
    # Nothing spills out sideways on a 375 px screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    if shots := os.environ.get("UNDERSIGNED_SCREENSHOTS"):  # for people looking at the page
        page.screenshot(path=f"{shots}/print-page-375.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=f"{shots}/print-page-1280.png", full_page=True)
    page.goto("/dashboard/")
    assert_no_serious_violations(page)
