"""A reply, in a real browser: a supporter writes and sends a letter, gets the "Did you
get a reply?" email at a real SMTP server some days later (the worker's round, run
here), answers yes, pastes the reply and uploads it as a PDF (a text file named .pdf refused
first); the organiser then sees and downloads it.
Screenshots at 1280 and 375 px go to ``UNDERSIGNED_SHOTS`` when it is set."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.dashboard.test_results import table
from tests.delivery.test_reply_files import pdf_bytes
from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.e2e.test_hearing_back import private_link, wait_for_messages
from undersigned.delivery import replies
from undersigned.delivery.models import Delivery, Evidence, Reply
from undersigned.letters.models import Letter

pytestmark = pytest.mark.browser

PDF = pdf_bytes()
REPLY = "Dear Ms O’Brien,\nThank you for your letter. The council will keep the path open."


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("UNDERSIGNED_SHOTS")
    if not folder:
        return
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_supporter_reports_a_reply_and_the_organiser_sees_it(
    page: Page, new_context: ContextFactory, organiser_page: Any, live_campaign: Any, smtp_sink: Any
) -> None:
    page.goto(f"/c/{live_campaign.slug}/")
    page.get_by_role("button", name="Write your letter").click()
    page.get_by_label("Your name").fill("Siobhán O’Brien")
    page.get_by_label("Your email address").fill("siobhan.obrien@example.ie")
    page.get_by_label("Your town or city").fill("Cork")
    page.get_by_label("Your country").select_option(label="Ireland")
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    page.get_by_role("button", name="I've submitted it").first.click()
    wait_for_messages(smtp_sink, 1)  # the confirmation

    # Fifteen days later, the worker's round asks.
    Letter.objects.update(sent_at=timezone.now() - datetime.timedelta(days=15))
    assert replies.send_due_asks() == 1
    [_, ask] = wait_for_messages(smtp_sink, 2)
    assert ask["Subject"] == "Did you get a reply to your letter about “Keep the riverside path open”?"
    text = str(ask.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    yes = next(line.strip() for line in text.splitlines() if "/answer/yes/" in line)

    elsewhere = new_context(bypass_csp=True).new_page()  # for axe-core
    elsewhere.goto("/" + yes.split("/", 3)[3])
    shoot(elsewhere, "reply-answer")
    elsewhere.get_by_role("button", name="Answer: Yes").click()
    expect(elsewhere.get_by_role("heading", level=1)).to_have_text("Add the reply you got")
    elsewhere.get_by_role("button", name="Save the reply").click()  # empty: the error by the field
    expect(elsewhere.get_by_text("Paste the text of the reply, or upload it as a file.").first).to_be_visible()
    shoot(elsewhere, "reply-form-error")
    elsewhere.get_by_label("The reply").fill(REPLY)
    # A text file named .pdf is refused by its bytes; what was typed stays.
    elsewhere.get_by_label("Or upload it as a file").set_input_files(
        {"name": "reply.pdf", "mimeType": "application/pdf", "buffer": b"Dear Ms O'Brien, thank you."}
    )
    elsewhere.get_by_role("button", name="Save the reply").click()
    expect(elsewhere.locator("#id_file_error")).to_contain_text("This file is not a PDF, PNG or JPEG.")
    expect(elsewhere.get_by_label("The reply")).to_have_value(REPLY)
    assert_no_serious_violations(elsewhere)
    shoot(elsewhere, "reply-file-error")
    elsewhere.get_by_label("Or upload it as a file").set_input_files(
        {"name": "council-letter.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    elsewhere.get_by_label("The organisers may quote this reply publicly").check()
    elsewhere.get_by_role("button", name="Save the reply").click()
    expect(elsewhere.get_by_test_id("reply-saved")).to_be_visible()
    assert_no_serious_violations(elsewhere)
    shoot(elsewhere, "reply-saved")
    assert Delivery.objects.get().evidence == Evidence.REPLY_RECEIVED
    assert Reply.objects.get().file_type == "application/pdf"
    with elsewhere.expect_download() as mine:
        elsewhere.get_by_test_id("saved-reply-file").click()
    assert Path(mine.value.path()).read_bytes() == PDF
    # The private link's page leads there too.
    elsewhere.goto(private_link(wait_for_messages(smtp_sink, 2)[0]))
    expect(elsewhere.get_by_test_id("add-reply")).to_be_visible()

    organiser = organiser_page(bypass_csp=True)  # for axe-core
    organiser.goto(f"/dashboard/campaigns/{live_campaign.slug}/results/")
    html = organiser.content()
    assert ["Reply received", "1"] in table(html, "funnel")
    assert table(html, "responsiveness")[1][:3] == ["Councillor Rowan Ashby", "1", "1"]
    organiser.get_by_test_id("responsiveness").scroll_into_view_if_needed()
    shoot(organiser, "results")
    organiser.get_by_test_id("replies-link").click()
    expect(organiser.get_by_test_id("reply")).to_contain_text("The council will keep the path open.")
    with organiser.expect_download() as theirs:
        organiser.get_by_test_id("reply-file").click()
    assert Path(theirs.value.path()).read_bytes() == PDF
    assert_no_serious_violations(organiser)
    organiser.get_by_role("button", name="Approve for quoting").click()
    expect(organiser.get_by_test_id("approved")).to_be_visible()
    shoot(organiser, "replies")
    assert Reply.objects.get().approved_at is not None
