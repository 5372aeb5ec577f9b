"""axe-core finds no serious or critical accessibility problems on the supporter's pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, ContextFactory, assert_no_serious_violations, letter_path
from undersigned.campaigns import placeholders
from undersigned.campaigns.enums import Channel
from undersigned.delivery import services as delivery_services

pytestmark = pytest.mark.browser


def test_campaign_page(axe_page: Page, live_campaign: Any) -> None:
    axe_page.goto(f"/c/{live_campaign.slug}/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Keep the riverside path open")
    assert_no_serious_violations(axe_page)


def test_empty_composer(axe_page: Page, live_campaign: Any) -> None:
    axe_page.goto(f"/c/{live_campaign.slug}/write/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Write your letter")
    assert_no_serious_violations(axe_page)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_composer_with_errors(new_context: ContextFactory, live_campaign: Any, color_scheme: str) -> None:
    # Error messages are the red text most likely to lose contrast on a dark background.
    axe_page = new_context(bypass_csp=True, color_scheme=color_scheme).new_page()
    axe_page.goto(f"/c/{live_campaign.slug}/write/")
    axe_page.get_by_label("Your email address").fill("siobhan@")
    axe_page.get_by_label("Your letter", exact=True).fill("Dear {{ recipient.shoe_size }},")
    axe_page.get_by_role("button", name="Continue to sending").click()
    summary = axe_page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Your name: This field is required.",
            "Your email address: Enter an email address like name@example.org.",
            "Your town or city: This field is required.",
            "Your country: This field is required.",
            "Your letter: We can't fill in {{ recipient.shoe_size }}. Remove it, or use one of: "
            + ", ".join("{{ " + name + " }}" for name in placeholders.KNOWN)
            + ".",
        ]
    )
    expect(axe_page.get_by_label("Your email address")).to_have_attribute("aria-invalid", "true")
    assert_no_serious_violations(axe_page)


def test_send_page(axe_page: Page, saved_letter: Any) -> None:
    axe_page.goto(letter_path(saved_letter))
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    assert_no_serious_violations(axe_page)


def test_send_page_without_a_postal_address(axe_page: Page, saved_letter: Any) -> None:
    saved_letter.sender_address = ""
    saved_letter.save()
    axe_page.goto(letter_path(saved_letter))
    axe_page.get_by_role("button", name="Save my address").click()
    expect(axe_page.locator(".field-error")).to_have_text("Error: A posted letter needs a sender's address.")
    assert_no_serious_violations(axe_page)


def test_thanks_page(axe_page: Page, saved_letter: Any) -> None:
    recipient = saved_letter.campaign.recipients.get()
    delivery_services.record_delivery(letter=saved_letter, recipient=recipient, channel=Channel.WEB_FORM)
    axe_page.goto(letter_path(saved_letter) + "thanks/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Thank you for writing")
    assert_no_serious_violations(axe_page)
    axe_page.get_by_role("button", name="Keep me posted").click()
    expect(axe_page.locator(".field-error")).to_have_text(
        "Error: Tick the box if you would like updates; otherwise there is nothing to save."
    )
    assert_no_serious_violations(axe_page)


def test_axe_cannot_be_injected_under_our_csp(new_context: ContextFactory, live_campaign: Any) -> None:
    """Why ``axe_page`` bypasses the CSP: the site's policy refuses inline scripts."""
    page = new_context(expect_problems=True).new_page()
    page.goto(f"/c/{live_campaign.slug}/")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true;")
    assert page.evaluate("() => window.injected === undefined")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_missing_page_in_the_visitor_s_language_on_a_phone(new_context: ContextFactory, language: str) -> None:
    axe_page = new_context(bypass_csp=True, viewport=PHONE, locale=language).new_page()
    response = axe_page.goto("/no-such-page/")
    assert response is not None
    assert response.status == 404
    expect(axe_page.locator("html")).to_have_attribute("lang", language)
    expect(axe_page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    expect(axe_page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_no_serious_violations(axe_page)
