"""A campaign at the most recipients a file may list, on a phone: both pages stay usable."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.campaigns.test_campaign_file_limits import campaign_text
from undersigned.campaigns.campaign_files import parse
from undersigned.campaigns.services import get_default_organisation, import_campaign

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_campaign_of_500_recipients_on_a_phone(new_context: Any, live_server: Any) -> None:
    import_campaign(organisation=get_default_organisation(), data=parse(campaign_text(500)))
    page = new_context(viewport=PHONE).new_page()

    page.goto(f"{live_server.url}/c/full-council/")
    expect(page.get_by_role("button", name="Write your letter")).to_be_in_viewport()
    # The names are folded away, so the background follows the count, not 500 lines.
    expect(page.locator("ul.recipients li").first).to_be_hidden()
    page.get_by_text("500 recipients").click()
    expect(page.locator("ul.recipients li")).to_have_count(500)
    expect(page.locator("ul.recipients li").last).to_have_text("Councillor 500")
    assert _page_width(page) == PHONE["width"]
    page.get_by_text("500 recipients").click()
    expect(page.get_by_role("heading", name="Background")).to_be_in_viewport()

    page.get_by_role("button", name="Write your letter").click()
    expect(page.get_by_role("heading", name="Write your letter")).to_be_visible()
    # The names are folded away, so the form comes right after one sentence.
    expect(page.get_by_text("It goes to 500 recipients.")).to_be_in_viewport()
    expect(page.get_by_label("Your name")).to_be_in_viewport()
    expect(page.locator(".recipient-list li").first).to_be_hidden()
    assert _page_width(page) == PHONE["width"]

    page.get_by_text("Who they are").click()
    expect(page.locator(".recipient-list li")).to_have_count(500)
    expect(page.locator(".recipient-list li").last).to_have_text("Councillor 500")
    assert _page_width(page) == PHONE["width"]
