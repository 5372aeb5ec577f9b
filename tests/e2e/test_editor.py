"""The workspace's editor in Chromium: an organiser creates a campaign with prompts and two
recipients, previews it, publishes it; the pages pass axe at a phone's width and a desktop's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_serious_violations
from tests.factories import RecipientFactory
from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign

pytestmark = pytest.mark.browser

# UNDERSIGNED_SCREENSHOTS=<folder> keeps screenshots of the editor to look at.
SCREENSHOTS = os.environ.get("UNDERSIGNED_SCREENSHOTS", "")


def _shoot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [375, 1280])
def test_an_organiser_creates_previews_and_publishes_a_campaign(
    organiser_page: Callable[..., Page], organisation: Any, width: int
) -> None:
    RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    page = organiser_page(bypass_csp=True, viewport={"width": width, "height": 900})
    page.goto("/dashboard/")
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("New campaign")
    assert_no_serious_violations(page)
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_label("Title").fill("Light the Eastfield underpass")
    page.get_by_label("Background").fill("The **underpass** is dark.")
    page.get_by_label("Tags").fill("safety, lighting")
    page.get_by_label("Subject of the letter").fill("Please light the underpass")
    body = "Dear {{ recipient.name }},\n\nPlease light it.\n\n{{ supporter.name }}"
    page.get_by_label("Text of the letter").fill(body)
    page.get_by_label("Writing prompts").fill("How do you use it?\nWhen is it darkest?")
    page.get_by_role("checkbox", name="Councillor Rowan Ashby").check()
    page.get_by_role("checkbox", name="Dr Amal Haddad").check()
    page.get_by_label("Order Dr Amal Haddad").fill("1")
    slider = page.locator("input[type=range]")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("uniqueness-value")).to_have_text("5")

    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview")).to_contain_text("Dear Dr Amal Haddad,")
    expect(page.get_by_label("Title")).to_have_value("Light the Eastfield underpass")
    _shoot(page, f"editor-preview-{width}")
    assert_no_serious_violations(page)

    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit campaign")
    _shoot(page, f"editor-draft-{width}")
    assert_no_serious_violations(page)
    campaign = Campaign.objects.get(slug="light-the-eastfield-underpass")
    assert [r.name for r in campaign.recipients.order_by("campaignrecipient__position")] == [
        "Dr Amal Haddad",
        "Councillor Rowan Ashby",
    ]
    assert campaign.min_uniqueness == 5

    page.get_by_role("link", name="Open its page as your team sees it").click()
    expect(page.get_by_test_id("draft-banner")).to_contain_text("Draft — only your team can see this.")
    _shoot(page, f"draft-page-{width}")
    assert_no_serious_violations(page)
    page.get_by_role("link", name="Back to the editor").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("status-meaning")).to_contain_text("Live")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.LIVE
