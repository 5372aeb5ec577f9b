"""A supporter in France is routed to the Section of France, sends, and the coverage board
moves from "0 of 3" to "1 of 3" with France's two votes, on the public page and in the
workspace; the board is accessible and fits a phone."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.campaigns.conftest import make_group_campaign
from tests.e2e.conftest import PHONE, ContextFactory, assert_no_serious_violations, screenshot
from tests.factories import TEMPLATE_BODY, LetterFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel, Routing
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import Letter

pytestmark = pytest.mark.browser


def test_a_supporter_is_routed_to_their_section_and_the_board_moves(
    organisation: Any, new_context: ContextFactory, organiser_page: Callable[..., Page]
) -> None:
    vote_day = timezone.localdate() + datetime.timedelta(days=12)
    campaign = make_group_campaign(organisation, decision_date=vote_day)
    page = new_context().new_page()
    page.goto(f"/c/{campaign.slug}/")
    board = page.get_by_test_id("coverage-summary")
    expect(board).to_have_text("0 of 3 members reached — 0 of 6 votes")
    expect(page.get_by_test_id("coverage-countdown")).to_contain_text("12 days to the vote on")
    screenshot(page, "campaign-board-before-1280.png")

    page.get_by_role("button", name="Write your letter").click()
    page.get_by_label("Your name").fill("Camille Martin")
    page.get_by_label("Your email address").fill("camille@example.fr")
    page.get_by_label("Your town or city").fill("Lyon")
    page.get_by_label("Your country").select_option(label="France")
    route = page.get_by_test_id("route-text")
    expect(route).to_have_text("Your letter goes to Section of France, the member for France.")
    _letter = page.get_by_label("Your letter", exact=True)
    _letter.fill(TEMPLATE_BODY + "\n\nOur section's vote decides this.")
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", name="To Section of France")).to_be_visible()
    expect(page.get_by_role("heading", name="To Section of Italy")).to_have_count(0)
    page.get_by_role("button", name="I've submitted it").first.click()
    assert Letter.objects.select_related("addressed_to").get().addressed_to == campaign.recipients.get(
        name="Section of France"
    )

    page.goto(f"/c/{campaign.slug}/")
    expect(board).to_have_text("1 of 3 members reached — 2 of 6 votes")
    reached = page.get_by_test_id("coverage-grid").locator(".is-reached")
    expect(reached).to_have_count(1)
    expect(reached).to_contain_text("Section of France")
    expect(reached).to_contain_text("Reached")  # by text, not only by colour
    screenshot(page, "campaign-board-after-1280.png")

    workspace = organiser_page()
    workspace.goto(f"/dashboard/campaigns/{campaign.slug}/coverage/")
    expect(workspace.get_by_test_id("coverage-summary")).to_have_text("1 of 3 members reached — 2 of 6 votes")
    workspace.get_by_role("link", name="Votes").click()
    expect(workspace.locator('th[aria-sort="descending"]')).to_contain_text("Votes")
    expect(workspace.locator(".coverage-table tbody tr").first).to_contain_text("Section of Italy")
    screenshot(workspace, "workspace-board-1280.png")


def test_the_public_board_is_accessible_and_fits_a_phone(organisation: Any, new_context: ContextFactory) -> None:
    campaign = make_group_campaign(organisation, decision_date=timezone.localdate())
    for viewport, name in (({"width": 1280, "height": 900}, "1280"), (PHONE, "375")):
        page = new_context(bypass_csp=True, viewport=viewport).new_page()
        page.goto(f"/c/{campaign.slug}/?sort=-votes")
        expect(page.get_by_test_id("coverage-countdown")).to_contain_text("The vote is today")
        assert_no_serious_violations(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways at {viewport['width']} px"
        screenshot(page, f"campaign-board-{name}.png")


def test_without_javascript_a_covered_country_is_offered_the_unreached_on_a_phone(
    organisation: Any, new_context: ContextFactory
) -> None:
    campaign = make_group_campaign(organisation, routing=Routing.OWN_OR_UNREACHED)
    france = campaign.recipients.get(name="Section of France")
    earlier = LetterFactory(campaign=campaign, sender_country="FR")
    record_delivery(letter=earlier, recipient=france, channel=Channel.MAILTO)
    page = new_context(java_script_enabled=False, viewport=PHONE, bypass_csp=True).new_page()
    page.goto(f"/c/{campaign.slug}/write/")
    page.get_by_label("Your name").fill("Camille Martin")
    page.get_by_label("Your email address").fill("camille@example.fr")
    page.get_by_label("Your town or city").fill("Lyon")
    page.get_by_label("Your country").select_option(label="France")
    page.get_by_role("button", name="Show whom it goes to").click()  # the server's step
    expect(page.get_by_test_id("route-text")).to_contain_text("has already had many letters")
    choices = page.get_by_test_id("route").get_by_role("radio")
    expect(choices).to_have_count(3)
    screenshot(page, "composer-route-nojs-375.png")
    page.get_by_role("radio", name="Section of Germany").check()
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", name="To Section of Germany")).to_be_visible()
    assert Letter.objects.get(sender_name="Camille Martin").addressed_to == campaign.recipients.get(
        name="Section of Germany"
    )


def test_the_open_letter_page_with_its_board_is_accessible(organisation: Any, new_context: ContextFactory) -> None:
    letter = make_open_letter(organisation)
    page = new_context(bypass_csp=True, viewport=PHONE).new_page()
    page.goto(f"/open-letters/{letter.slug}/")
    expect(page.get_by_test_id("coverage-summary")).to_have_text("0 of 3 members reached — 0 of 3 votes")
    assert_no_serious_violations(page)
    screenshot(page, "open-letter-board-375.png")
    # The composer's choice of member is accessible too (with scripts the first is ticked).
    campaign = make_group_campaign(organisation, routing=Routing.OWN_OR_UNREACHED)
    page.goto(f"/c/{campaign.slug}/write/")
    page.get_by_label("Your country").select_option(label="Portugal")
    expect(page.get_by_test_id("route-text")).to_contain_text("Your country has no member in this group")
    expect(page.get_by_role("radio", name="Section of Italy")).to_be_checked()  # the heaviest vote first
    page.get_by_role("button", name="Continue to sending").click()  # other fields are missing
    expect(page.get_by_role("radio", name="Section of Italy")).to_be_checked()  # kept with the errors
    assert_no_serious_violations(page)
    screenshot(page, "composer-route-375.png")
