"""Endorsing an open letter in a real browser: the form, the email from the real worker,
confirming by the button, the name on the page; axe-core on the letter and the form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.openletters.conftest import links_in, make_open_letter, path_of
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import endorsing

pytestmark = pytest.mark.browser

NAME = "Siobhán O'Brien"
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def open_letter(organisation: Any) -> OpenLetter:
    return make_open_letter(organisation)


def _fill(page: Page) -> None:
    page.get_by_label("Your name, or your organisation's name").fill(NAME)
    page.get_by_label("Role or title").fill("Trustee")
    page.get_by_label("Organisation (optional)", exact=True).fill("Friends of the Wend")
    page.get_by_label("Country", exact=True).select_option(label="Ireland")
    page.get_by_label("Your email address").fill("siobhan@example.ie")


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_endorse_confirm_and_see_the_name(
    new_context: ContextFactory, open_letter: OpenLetter, smtp_sink: Any, run_worker: Any
) -> None:
    page = new_context().new_page()
    page.goto(f"/open-letters/{open_letter.slug}/")
    expect(page.get_by_test_id("verified-count")).to_have_text("0")
    page.get_by_role("button", name="Endorse this letter").click()
    _fill(page)
    page.get_by_role("button", name="Endorse this letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    (message,) = smtp_sink.parsed()
    found = links_in(message)
    page.goto(path_of(found["confirm"]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your endorsement")
    assert Endorsement.objects.get().status == "pending"  # opening the link confirmed nothing
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_test_id("confirmed-notice")).to_be_visible()
    expect(page.get_by_test_id("verified-count")).to_have_text("1")
    endorsers = page.get_by_test_id("endorsers")
    expect(endorsers).to_contain_text(f"{NAME}, Trustee, Friends of the Wend — Ireland")
    _shot(page, "open-letter-desktop.png")


def test_letter_page_on_a_phone_without_javascript(new_context: ContextFactory, open_letter: OpenLetter) -> None:
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    page.goto(f"/open-letters/{open_letter.slug}/")
    page.get_by_role("button", name="Endorse this letter").click()
    page.get_by_role("button", name="Endorse this letter").click()
    expect(page.locator("#error-summary")).to_contain_text("Please give your name")
    _shot(page, "open-letter-form-errors-phone.png")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_axe_letter_page(axe_page: Page, open_letter: OpenLetter) -> None:
    axe_page.goto(f"/open-letters/{open_letter.slug}/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Walkers for Resolution 7")
    assert_no_serious_violations(axe_page)


def test_the_open_letters_page_on_a_phone_by_keyboard(
    new_context: ContextFactory, axe_page: Page, open_letter: OpenLetter
) -> None:
    axe_page.goto("/open-letters/")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Open letters")
    assert_no_serious_violations(axe_page)

    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    page.goto("/")
    link = page.get_by_role("link", name="All open letters")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open letters")
    page.get_by_role("link", name="Walkers for Resolution 7").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Walkers for Resolution 7")
    page.go_back()
    _shot(page, "open-letters-phone.png")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_endorsement_form(new_context: ContextFactory, open_letter: OpenLetter, color_scheme: str) -> None:
    page = new_context(bypass_csp=True, color_scheme=color_scheme).new_page()
    page.goto(f"/open-letters/{open_letter.slug}/endorse/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Endorse this open letter")
    assert_no_serious_violations(page)
    page.get_by_label("Your email address").fill("siobhan@")
    page.get_by_role("button", name="Endorse this letter").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_no_serious_violations(page)


def test_organiser_hides_an_endorsement_and_builds_a_pack(
    new_context: ContextFactory, live_server: Any, organiser: Any, open_letter: OpenLetter, run_worker: Any
) -> None:

    endorsing.record_confirmed(
        letter=open_letter,
        data=endorsing.EndorsementInput(name="Mickey Mouse", role="Fake", country="IE", email="m@example.org"),
    )
    endorsing.record_confirmed(
        letter=open_letter,
        data=endorsing.EndorsementInput(name="Aoife Byrne", role="Warden", country="IE", email="a@example.org"),
    )
    context = new_context(bypass_csp=True, viewport=PHONE)
    client = Client()
    client.force_login(organiser)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto("/dashboard/")
    page.get_by_role("link", name="Moderate and hand in “Walkers for Resolution 7”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Walkers for Resolution 7")
    assert_no_serious_violations(page)
    page.get_by_label("Reason for hiding Mickey Mouse").select_option("fake")
    page.get_by_role("button", name="Hide Mickey Mouse").click()
    expect(page.get_by_role("status")).to_contain_text("The endorsement is hidden")
    expect(page.get_by_test_id("verified-count")).to_have_text("1")
    page.get_by_role("button", name="Build the PDF for the whole letter").click()
    expect(page.get_by_text("Waiting to start.")).to_be_visible()
    run_worker()
    expect(page.get_by_text("Ready: 1 named endorser")).to_be_visible()  # htmx polling picked it up
    _shot(page, "open-letter-dashboard-phone.png")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
