"""Supporters hear back, in a real browser: the confirmation email with the private link,
and "get my link again" giving the same answer for a known and an unknown address.

The email goes through a real SMTP server (``smtp_sink``); tasks run with Django's
``ImmediateBackend`` in the live server's thread, after each commit.
"""

from __future__ import annotations

import time
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations, letter_path

pytestmark = pytest.mark.browser

NAME = "Siobhán O’Brien, Cork"  # a comma and a curly apostrophe: one display name all the same
EMAIL = "siobhan.obrien@example.ie"
PARAGRAPH = "My daughter walks to Wendmouth Primary along this path."


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def wait_for_messages(sink: Any, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + 10
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    parsed: list[EmailMessage] = sink.parsed()
    assert len(parsed) == count
    return parsed


def private_link(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text = str(part.get_content())
    line = next(line for line in text.splitlines() if "/l/" in line)
    return "/" + line.strip().split("/", 3)[3]


def test_a_supporter_gets_the_link_by_email_and_opens_their_letter(
    page: Page, new_context: ContextFactory, live_campaign: Any, smtp_sink: Any
) -> None:
    page.goto(f"/c/{live_campaign.slug}/")
    page.get_by_role("button", name="Write your letter").click()
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Your email address").fill(EMAIL)
    page.get_by_label("Your town or city").fill("Cork")
    page.get_by_label("Your country").select_option(label="Ireland")
    body = page.get_by_label("Your letter", exact=True)
    body.press("Control+End")
    body.press_sequentially("\n\n" + PARAGRAPH)
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")

    [message] = wait_for_messages(smtp_sink, 1)
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (NAME, EMAIL)
    assert message["Subject"] == "Your letter to “Keep the riverside path open”: your private link"

    # The link from the email, in another browser (no cookie of the first one): the letter.
    elsewhere = new_context().new_page()
    elsewhere.goto(private_link(message))
    expect(elsewhere.get_by_role("heading", level=1)).to_have_text("Send your letter")
    elsewhere.get_by_text("Read the letter to Councillor Rowan Ashby").click()
    expect(elsewhere.locator(".letter-text")).to_contain_text(PARAGRAPH)
    expect(elsewhere.locator(".letter-text")).to_contain_text("Dear Councillor Rowan Ashby,")


def test_get_my_link_again_answers_the_same_for_any_address_without_javascript(
    new_context: ContextFactory, live_campaign: Any, saved_letter: Any, smtp_sink: Any
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    answers = []
    for address in (saved_letter.supporter.email, "nobody@example.org"):
        page.goto(f"/c/{live_campaign.slug}/")
        page.get_by_text("Wrote a letter already? Get its link again").click()
        page.get_by_label("Your email address").fill(address)
        page.get_by_role("button", name="Email me my link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("The link to your letter")
        answers.append((page.url, page.get_by_test_id("my-link-sent").inner_text()))
    assert answers[0] == answers[1]
    assert answers[0][1].startswith("If we have letters from this address for this campaign, we have emailed")

    [message] = wait_for_messages(smtp_sink, 1)  # the known address only
    assert message["To"].addresses[0].addr_spec == saved_letter.supporter.email
    page.goto(private_link(message))
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")

    # A mistyped address: the message beside the field, what was typed kept.
    page.goto(f"/c/{live_campaign.slug}/my-link/")
    page.get_by_label("Your email address").fill("siobhan at example")
    page.get_by_role("button", name="Email me my link").click()
    expect(page.get_by_label("Your email address")).to_have_value("siobhan at example")
    expect(page.get_by_label("Your email address")).to_have_attribute("aria-invalid", "true")


def test_the_new_parts_pass_axe(axe_page: Page, live_campaign: Any, saved_letter: Any) -> None:
    axe_page.goto(f"/c/{live_campaign.slug}/")
    axe_page.get_by_text("Wrote a letter already? Get its link again").click()
    assert_no_serious_violations(axe_page)
    axe_page.get_by_role("button", name="Email me my link").click()  # empty: the message beside the field
    expect(axe_page.get_by_label("Your email address")).to_have_attribute("aria-invalid", "true")
    assert_no_serious_violations(axe_page)
    axe_page.goto(letter_path(saved_letter))
    expect(axe_page.get_by_test_id("copy-address")).to_contain_text("Keep this address in Bcc:")
    assert_no_serious_violations(axe_page)
