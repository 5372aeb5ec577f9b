"""The proof-of-work check in a real browser: it solves under our strict CSP, sends, and
nothing about it hides the form from keyboard or screen-reader users."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.core import guarded_app
from tests.e2e.conftest import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.core.guarded_app")]


@pytest.fixture(autouse=True)
def _accepted() -> Any:
    guarded_app.ACCEPTED.clear()
    yield
    guarded_app.ACCEPTED.clear()


def test_chromium_solves_the_proof_of_work_and_the_form_is_accepted(page: Page, tmp_path: Any) -> None:
    screenshot_dir = tmp_path
    page.goto("/guarded/?pow=1")
    page.get_by_label("Your name").fill("Siobhán O'Brien")
    # The widget starts its calculation as soon as the form gets focus; no click needed.
    expect(page.locator("input[name=altcha]")).not_to_have_value("", timeout=30_000)
    expect(page.locator("altcha-widget")).to_contain_text("verified", ignore_case=True)
    page.screenshot(path=str(screenshot_dir / "pow-solved.png"), full_page=True)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("body")).to_have_text("Accepted 1")
    assert guarded_app.ACCEPTED == ["Siobhán O'Brien"]


def test_the_guarded_form_has_no_serious_accessibility_problems(axe_page: Page) -> None:
    axe_page.goto("/guarded/?pow=1")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Guarded")
    assert_no_serious_violations(axe_page)
    # The honeypot is out of the tab order: Tab goes from the page to the real field.
    axe_page.get_by_label("Your name").focus()
    axe_page.keyboard.press("Shift+Tab")
    assert axe_page.evaluate("document.activeElement.name") != "homepage"
