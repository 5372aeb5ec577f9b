""" "Your data" in a real browser: a supporter writes a letter, asks for their data from
the footer, receives the link at a real SMTP server, sees the letter listed, downloads
the JSON, erases everything, and a dump of the whole database then holds no trace of the
address or the name. Screenshots of each page at 1280 and 375 px go to the test's
temporary folder, for a person to look at."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.e2e.test_hearing_back import wait_for_messages

pytestmark = pytest.mark.browser

NAME = "Siobhán Quillfeather"
EMAIL = "Siobhan.Quillfeather@example.ie"


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", format="json", stdout=out)
    return out.getvalue().lower()


def _shots(page: Page, folder: Path, name: str) -> None:
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_supporter_sees_downloads_and_erases_their_data(
    new_context: ContextFactory, live_campaign: Any, smtp_sink: Any, tmp_path: Path
) -> None:
    page = new_context(bypass_csp=True).new_page()  # axe-core is injected
    page.goto(f"/c/{live_campaign.slug}/")
    page.get_by_role("button", name="Write your letter").click()
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Your email address").fill(EMAIL)
    page.get_by_label("Your town or city").fill("Cork")
    page.get_by_label("Your country").select_option(label="Ireland")
    body = page.get_by_label("Your letter", exact=True)
    body.press("Control+End")
    body.press_sequentially("\n\nMy daughter walks to Wendmouth Primary along this path.")
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    wait_for_messages(smtp_sink, 1)  # the letter's confirmation

    page.get_by_role("link", name="your data", exact=True).click()  # the letter page's own
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    assert_no_serious_violations(page)
    _shots(page, tmp_path, "1-ask")
    page.get_by_label("Your email address").fill(EMAIL.lower())
    page.get_by_role("button", name="Email me the link").click()
    expect(page.get_by_test_id("my-data-sent")).to_be_visible()
    _, message = wait_for_messages(smtp_sink, 2)
    assert message["Subject"] == "Your data on Undersigned"
    text = str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    link = next(line.strip() for line in text.splitlines() if "/my-data/open/" in line)

    # The link in another browser, as it would be opened from a mail app.
    mine = new_context(bypass_csp=True).new_page()
    mine.goto("/" + link.split("/", 3)[3])
    mine.get_by_role("button", name="Show my data").click()
    expect(mine.get_by_role("heading", level=1)).to_have_text("Your data")
    expect(mine.get_by_role("heading", name="Letters and their deliveries (1)")).to_be_visible()
    expect(mine.locator("main")).to_contain_text(NAME)
    assert_no_serious_violations(mine)
    _shots(mine, tmp_path, "2-yours")
    with mine.expect_download() as download:
        mine.get_by_role("button", name="Download as JSON").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert [letter["sender_name"] for letter in data["letters"]] == [NAME]

    assert EMAIL.lower() in _dump()
    mine.get_by_role("button", name="Erase my data").click()  # without the tick: refused
    expect(mine.locator("main")).to_contain_text("Tick the box to confirm the erasure.")
    mine.get_by_label("Yes, erase everything listed here").check()
    mine.get_by_role("button", name="Erase my data").click()
    expect(mine.get_by_test_id("my-data-erased")).to_be_visible()
    _shots(mine, tmp_path, "3-erased")
    dump = _dump()
    assert EMAIL.lower() not in dump
    assert NAME.lower() not in dump
    assert "quillfeather" not in dump
    print(f"screenshots in {tmp_path}")
