"""An organiser watches a campaign's emails go out in a real browser, on a phone too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_serious_violations
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery.models import Delivery, DeliveryStatus
from undersigned.delivery.queries import forget_delivery_counts
from undersigned.delivery.services import record_delivery

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
TITLE = "Keep the riverside path open"


@pytest.fixture
def emailing_campaign(organisation: Any) -> Any:
    """Four letters by email: one sent, two waiting for the worker, one refused for good."""
    board = RecipientFactory(organisation=organisation, name="Wend River Board", email="board@wend.example")
    campaign = CampaignFactory(organisation=organisation, slug="keep-the-riverside-path-open", recipients=[board])
    for n, status in enumerate([DeliveryStatus.SENT, DeliveryStatus.QUEUED, DeliveryStatus.QUEUED,
                                DeliveryStatus.FAILED]):  # fmt: skip
        delivery = record_delivery(letter=LetterFactory(campaign=campaign, sender_name=f"Writer {n}"), recipient=board,
                                   channel=Channel.EMAIL)  # fmt: skip
        reason = "550 5.1.1 mailbox unavailable" if status == DeliveryStatus.FAILED else ""
        Delivery.objects.filter(pk=delivery.pk).update(status=status, last_error=reason)
    return campaign


def test_the_organiser_watches_the_emails_go_out(organiser_page: Callable[..., Page], emailing_campaign: Any) -> None:
    page = organiser_page(viewport=PHONE, bypass_csp=True)
    page.goto("/dashboard/")
    page.get_by_role("link", name=f"Deliveries of “{TITLE}”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deliveries")
    summary = page.get_by_test_id("email-summary")
    expect(summary).to_have_text("1 of 4 emails sent; 2 on their way; 1 failed.")
    expect(page.get_by_test_id("problems")).to_contain_text("550 5.1.1 mailbox unavailable")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert_no_serious_violations(page)

    # The worker sends the two waiting letters; the page, left open, catches up by itself.
    Delivery.objects.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.SENT)
    expect(summary).to_have_text("3 of 4 emails sent; 1 failed.", timeout=15_000)
    expect(page.get_by_role("link", name="Refresh")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "deliveries-phone.png"), full_page=True)


def test_without_javascript_a_refresh_link_shows_where_things_stand(
    organiser_page: Callable[..., Page], emailing_campaign: Any
) -> None:
    page = organiser_page(java_script_enabled=False)
    page.goto(f"/dashboard/campaigns/{emailing_campaign.slug}/deliveries/")
    Delivery.objects.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.SENT)
    forget_delivery_counts(emailing_campaign.pk)  # as if the few seconds the counts are kept had passed
    refresh = page.get_by_role("link", name="Refresh")
    refresh.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("email-summary")).to_have_text("3 of 4 emails sent; 1 failed.")
