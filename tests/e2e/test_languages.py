"""The language switcher in Chromium: by keyboard, without JavaScript, right to left at 375 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, ContextFactory, assert_no_serious_violations, screenshot

pytestmark = pytest.mark.browser


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    pytest.fail(f"{selector} is not reached by Tab")


def _fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_switching_to_arabic_by_keyboard_mirrors_the_campaign_page(
    new_context: ContextFactory, live_campaign: Any
) -> None:
    page = new_context(bypass_csp=True, viewport=PHONE).new_page()  # bypass: axe-core is injected
    page.goto(f"/c/{live_campaign.slug}/")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    _tab_to(page, 'button[name="language"][value="ar"]')
    expect(page.locator(":focus")).to_have_attribute("lang", "ar")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    assert page.url.endswith(f"/c/{live_campaign.slug}/")  # back on the same page
    expect(page.locator('button[value="ar"]')).to_have_attribute("aria-current", "true")
    # Mirrored: the page starts at the right, nothing spills sideways at 375 px.
    header = page.locator(".site-header .brand").bounding_box()
    assert header is not None
    assert header["x"] > PHONE["width"] / 2, header
    assert _fits_the_width(page)
    # The campaign is written in English: its text keeps its own direction.
    expect(page.locator("article.campaign > header > div")).to_have_attribute("dir", "ltr")  # tags and title
    expect(page.locator("article.campaign .summary")).to_have_attribute("dir", "ltr")
    expect(page.locator("article.campaign .background")).to_have_attribute("dir", "ltr")
    screenshot(page, "campaign-ar-375.png")
    assert_no_serious_violations(page)
    # The choice is remembered: a new visit to another page is in Arabic too.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "home-ar-375.png")


def test_the_switcher_works_without_javascript(new_context: ContextFactory, live_campaign: Any) -> None:
    page = new_context(java_script_enabled=False, viewport=PHONE, locale="fr-FR").new_page()
    page.goto(f"/c/{live_campaign.slug}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")  # the browser's language first
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Deutsch")).to_have_attribute("aria-current", "true")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert _fits_the_width(page)
    screenshot(page, "campaign-en-375.png")
