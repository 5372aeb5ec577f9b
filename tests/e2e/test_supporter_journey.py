"""The supporter's journey in a real browser: with JavaScript, without it, by keyboard, on a phone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ContextFactory, letter_path
from tests.factories import TEMPLATE_BODY
from undersigned.letters.uniqueness import own_words_percent

pytestmark = pytest.mark.browser

NAME = "Siobhán O'Brien"
EMAIL = "siobhan.obrien@example.ie"
TOWN = "Cork"
ADDRESS_LINES = ["4 Shandon Street", "Cork", "T23 AB12"]
# Short enough to stay on one line of the printed letter, so pdftotext gives it back whole.
PARAGRAPH = "My daughter walks to Wendmouth Primary along this path."
PHONE = {"width": 375, "height": 812}


def _campaign_path(campaign: Any) -> str:
    return f"/c/{campaign.slug}/"


def _fill_about_you(page: Page) -> None:
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Your email address").fill(EMAIL)
    page.get_by_label("Your town or city").fill(TOWN)
    page.get_by_label("Your country").select_option(label="Ireland")
    page.get_by_label("Your postal address").fill("\n".join(ADDRESS_LINES))


def _letter_body(page: Page) -> Locator:
    return page.get_by_label("Your letter", exact=True)


def _expected_score() -> int:
    return own_words_percent(TEMPLATE_BODY + "\n\n" + PARAGRAPH, TEMPLATE_BODY)


def _pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        message = "pdftotext is missing: install it with `apt-get install -y poppler-utils`"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)  # CI installs it: missing means broken set-up
        pytest.skip(message)
    result = subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


def _tab_to(page: Page, target: Locator, *, limit: int = 150) -> None:
    """Press Tab until the target has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} never received the focus after {limit} presses of Tab")


def _assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a {PHONE['width']} px screen"


def test_a_supporter_writes_downloads_posts_and_is_counted(page: Page, live_campaign: Any, tmp_path: Path) -> None:
    page.goto(_campaign_path(live_campaign))
    expect(page.locator(".counter")).to_have_text("0 letters sent so far")
    page.get_by_role("button", name="Write your letter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Write your letter")
    meter = page.get_by_test_id("uniqueness")
    preview = page.get_by_test_id("preview")
    expect(meter).to_have_text("0 % in your own words")
    expect(preview).to_contain_text("I live in [your town] and")

    _fill_about_you(page)
    body = _letter_body(page)
    body.press("Control+End")
    body.press_sequentially("\n\n" + PARAGRAPH)

    score = _expected_score()
    assert score > 0
    expect(meter).to_have_text(f"{score} % in your own words")
    expect(page.locator("#uniqueness-meter")).to_have_attribute("value", str(score))
    expect(preview).to_contain_text(f"I live in {TOWN} and")
    expect(preview).to_contain_text("Dear Councillor Rowan Ashby,")
    expect(preview).to_contain_text(PARAGRAPH)
    expect(preview).to_contain_text(NAME)

    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    expect(page.get_by_role("button", name="Copy letter")).to_be_visible()  # JavaScript shows it

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF (A4)").click()
    download = download_info.value
    recipient = live_campaign.recipients.get()
    assert download.suggested_filename == f"letter-{live_campaign.slug}-{recipient.pk}-a4.pdf"
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = _pdf_text(pdf)
    assert NAME in text
    assert PARAGRAPH in text
    assert "Dear Councillor Rowan Ashby," in text

    page.get_by_role("button", name="I've posted it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for writing")
    expect(page.get_by_text("Your letter counts:")).to_have_text(
        "Your letter counts: 1 letter sent in this campaign so far."
    )
    expect(page.locator(".deliveries li")).to_have_text(["Councillor Rowan Ashby — By post: reported by the supporter"])

    page.goto(_campaign_path(live_campaign))
    expect(page.locator(".counter")).to_have_text("1 letter sent so far")


def test_without_javascript_the_preview_button_and_web_form_report_work(
    new_context: ContextFactory, live_campaign: Any
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(_campaign_path(live_campaign))
    page.get_by_role("button", name="Write your letter").click()

    _fill_about_you(page)
    body = _letter_body(page)
    body.fill(body.input_value() + "\n\n" + PARAGRAPH)
    page.get_by_role("button", name="Update preview").click()

    # A whole new page: the server filled in the preview and kept everything typed.
    expect(page.get_by_test_id("preview")).to_contain_text(f"I live in {TOWN} and")
    expect(page.get_by_test_id("preview")).to_contain_text(PARAGRAPH)
    expect(page.get_by_test_id("uniqueness")).to_have_text(f"{_expected_score()} % in your own words")
    expect(page.get_by_label("Your name")).to_have_value(NAME)
    expect(page.get_by_label("Your country")).to_have_value("IE")
    expect(page.locator(".field-error")).to_have_count(0)

    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    # Without JavaScript the copy buttons stay hidden; the read-only fields are there to copy from.
    copy_button = page.get_by_role("button", name="Copy letter", include_hidden=True)
    expect(copy_button).to_have_count(1)
    expect(copy_button).to_be_hidden()
    expect(page.get_by_role("textbox", name="Letter", exact=True)).to_have_value(
        re.compile(re.escape(PARAGRAPH) + r"$")
    )

    page.get_by_role("button", name="I've submitted it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for writing")
    expect(page.locator(".deliveries li")).to_have_text(
        ["Councillor Rowan Ashby — Their web form: reported by the supporter"]
    )


def test_keyboard_only_from_the_campaign_to_a_posted_letter(page: Page, live_campaign: Any) -> None:
    keyboard = page.keyboard
    page.goto(_campaign_path(live_campaign))
    _tab_to(page, page.get_by_role("button", name="Write your letter"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Write your letter")

    _tab_to(page, page.get_by_label("Your name"))
    keyboard.type(NAME)
    for label, text in (("Your email address", EMAIL), ("Your town or city", TOWN)):
        keyboard.press("Tab")
        expect(page.get_by_label(label)).to_be_focused()
        keyboard.type(text)
    keyboard.press("Tab")
    country = page.get_by_label("Your country")
    expect(country).to_be_focused()
    keyboard.type("Ireland")  # a closed select jumps to the option typed
    expect(country).to_have_value("IE")
    keyboard.press("Tab")
    expect(page.get_by_label("Your postal address")).to_be_focused()
    for number, line in enumerate(ADDRESS_LINES):
        if number:
            keyboard.press("Enter")
        keyboard.type(line)

    _tab_to(page, _letter_body(page))
    keyboard.press("Control+End")
    keyboard.press("Enter")
    keyboard.press("Enter")
    keyboard.type(PARAGRAPH)
    expect(page.get_by_test_id("preview")).to_contain_text(PARAGRAPH)

    _tab_to(page, page.get_by_role("button", name="Continue to sending"))
    keyboard.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")

    _tab_to(page, page.get_by_role("button", name="I've posted it"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for writing")
    expect(page.locator(".deliveries li")).to_have_text(["Councillor Rowan Ashby — By post: reported by the supporter"])


def test_a_phone_screen_never_scrolls_sideways(
    new_context: ContextFactory, live_campaign: Any, saved_letter: Any
) -> None:
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()

    page.goto(_campaign_path(live_campaign))
    expect(page.get_by_role("button", name="Write your letter")).to_be_visible()
    _assert_no_horizontal_scroll(page)

    page.get_by_role("button", name="Write your letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write your letter")
    _assert_no_horizontal_scroll(page)

    page.get_by_label("Your email address").fill("not an address")
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.locator("#error-summary")).to_be_visible()
    _assert_no_horizontal_scroll(page)

    page.goto(letter_path(saved_letter))
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    _assert_no_horizontal_scroll(page)

    page.goto(letter_path(saved_letter) + "thanks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for writing")
    _assert_no_horizontal_scroll(page)
