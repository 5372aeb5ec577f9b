"""The page that confirms a change to an endorsement, in a real browser on a phone:
what it says now beside what it will say, readable at 375 px by keyboard, and axe-core
finds nothing serious; its button confirms the change."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.openletters.conftest import make_open_letter
from undersigned.openletters import links
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import endorsing

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
SHOTS = os.environ.get("UNDERSIGNED_SCREENSHOTS", "")
LONG_STATEMENT = (
    "Our walkers have used the Wend path every Sunday for forty years; closing it would cut the valley in two "
    "and send children along the main road to school."
)


@pytest.fixture
def open_letter(organisation: Any) -> OpenLetter:
    return make_open_letter(organisation)


def _details(**changes: Any) -> endorsing.EndorsementInput:
    data: dict[str, Any] = {
        "name": "Siobhán O'Brien",
        "role": "Trustee",
        "organisation": "Friends of the Wend",
        "country": "IE",
        "email": "Siobhan.OBrien@gmail.com",
    }
    data.update(changes)
    return endorsing.EndorsementInput(**data)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_changes_page_on_a_phone(new_context: ContextFactory, open_letter: OpenLetter, color_scheme: str) -> None:
    first = endorsing.endorse(letter=open_letter, data=_details())
    endorsing.confirm(endorsement_id=first.pk, nonce=first.confirm_nonce)
    change = endorsing.endorse(
        letter=open_letter,
        data=_details(
            email="siobhanobrien@googlemail.com",
            role="Chair of the board of trustees",
            statement=LONG_STATEMENT,
            show_publicly=False,
            wants_updates=True,
        ),
    )
    path = f"/open-letters/{open_letter.slug}/confirm/{links.confirm_token(change.pk, change.confirm_nonce)}/"

    page = new_context(bypass_csp=True, viewport=PHONE, color_scheme=color_scheme).new_page()
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the changes to your endorsement")
    table = page.get_by_role("table", name="What will change")
    expect(table.get_by_role("row")).to_have_count(5)  # the header and four changes
    row = table.get_by_role("row", name="Role or title")
    expect(row.get_by_role("cell").nth(0)).to_have_text("Trustee")
    expect(row.get_by_role("cell").nth(1)).to_have_text("Chair of the board of trustees")
    expect(table.get_by_role("row", name="Statement")).to_contain_text(LONG_STATEMENT)
    assert_no_serious_violations(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    if SHOTS:  # for people looking at the page
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"endorsement-changes-{color_scheme}.png"), full_page=True)

    # By keyboard: the button is reached with Tab and pressed with Enter.
    button = page.get_by_role("button", name="Confirm the changes")
    for _ in range(30):
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirmed-notice")).to_be_visible()
    endorsement = Endorsement.objects.get()
    assert (endorsement.role, endorsement.show_publicly) == ("Chair of the board of trustees", False)


def test_an_older_emails_link_on_a_phone(new_context: ContextFactory, open_letter: OpenLetter) -> None:
    first = endorsing.endorse(letter=open_letter, data=_details())
    endorsing.confirm(endorsement_id=first.pk, nonce=first.confirm_nonce)
    older = endorsing.endorse(letter=open_letter, data=_details(role="Chair"))
    old_path = f"/open-letters/{open_letter.slug}/confirm/{links.confirm_token(older.pk, older.confirm_nonce)}/"
    endorsing.endorse(letter=open_letter, data=_details(role="Treasurer"))

    page = new_context(bypass_csp=True, viewport=PHONE).new_page()
    response = page.goto(old_path)
    assert response is not None
    assert response.status == 409
    expect(page.get_by_role("heading", level=1)).to_have_text("A newer change is waiting")
    expect(page.get_by_text("The newest email we sent you has the right link")).to_be_visible()
    # Nothing to press in the page's content (the language switcher has its buttons): this link confirms nothing.
    expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
    assert_no_serious_violations(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "endorsement-older-link.png"), full_page=True)
    assert Endorsement.objects.get().role == "Trustee"
