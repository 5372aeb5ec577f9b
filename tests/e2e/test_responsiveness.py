"""An organiser sets a campaign's reply settings in the editor on a phone, makes the
responsiveness public, and a visitor reads "Who replies" on the campaign page at 375 px:
keyboard-reachable, no serious axe violation, nothing wider than the screen."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.campaigns.conftest import make_group_campaign
from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.factories import LetterFactory
from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign
from undersigned.delivery import replies
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import Letter

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}
# Screenshots for a person to look at, when asked for (never in the repository).
SHOTS = os.environ.get("UNDERSIGNED_SCREENSHOTS", "")


def _shot(page: Page, name: str, *, element: str = "") -> None:
    if not SHOTS:
        return
    if element:
        page.locator(element).screenshot(path=str(Path(SHOTS) / name))
    else:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"


def _answered(campaign: Any, recipient: Any, days: int | None) -> None:
    letter = LetterFactory(campaign=campaign)
    record_delivery(letter=letter, recipient=recipient, channel=Channel.MAILTO)
    Letter.objects.filter(pk=letter.pk).update(sent_at=timezone.now() - datetime.timedelta(days=30))
    letter.refresh_from_db()
    if days is not None:
        replies.record_supporter_reply(letter=letter, recipient=recipient, text="We agree.", may_quote=False)


def test_reply_settings_in_the_editor_and_public_responsiveness_on_a_phone(
    organisation: Any, new_context: ContextFactory, organiser_page: Callable[..., Page]
) -> None:
    campaign = make_group_campaign(organisation)
    germany = campaign.recipients.get(name="Section of Germany")
    italy = campaign.recipients.get(name="Section of Italy")
    for after in (3, 5):
        _answered(campaign, germany, after)
    _answered(campaign, italy, None)

    editor = organiser_page(viewport=PHONE)
    edit_url = reverse("dashboard:campaign_edit", args=[campaign.slug])
    editor.goto(edit_url)
    settings = editor.get_by_test_id("reply-settings")
    settings.scroll_into_view_if_needed()
    days = editor.get_by_label("Ask supporters about a reply after (days)")
    expect(days).to_have_value("14")
    days.fill("400")
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator("#field-reply_ask_days .field-error")).to_contain_text(
        "Give a whole number of days from 1 to 180."
    )
    expect(editor.get_by_label("Ask supporters about a reply after (days)")).to_have_value("400")  # as typed
    editor.get_by_label("Ask supporters about a reply after (days)").fill("21")
    editor.get_by_label("In Cc: the recipient sees the address, and answering all reaches it").check()
    editor.get_by_label("Show how responsive recipients are on the campaign page").check()
    editor.get_by_test_id("reply-settings").scroll_into_view_if_needed()
    _fits(editor)
    _shot(editor, "editor-reply-settings-375.png", element="[data-testid=reply-settings]")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_text("Saved.")).to_be_visible()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert (campaign.reply_ask_days, campaign.reply_address, campaign.responsiveness_public) == (21, "cc", True)

    visitor = new_context(viewport=PHONE, bypass_csp=True).new_page()  # for axe-core only
    visitor.goto(reverse("public:campaign", args=[campaign.slug]))
    heading = visitor.get_by_role("heading", name="Who replies")
    expect(heading).to_be_visible()
    table = visitor.get_by_test_id("responsiveness")
    expect(table.get_by_role("row", name="Section of Germany")).to_contain_text("2")
    expect(table).not_to_contain_text("We agree.")
    # The table scrolls inside its own region, reachable by keyboard; the page never scrolls sideways.
    region = visitor.get_by_role("region", name="Letters that reached each member")
    region.focus()
    expect(region).to_be_focused()
    _fits(visitor)
    assert_no_serious_violations(visitor)
    heading.scroll_into_view_if_needed()
    _shot(visitor, "public-responsiveness-375.png", element="section.responsiveness")
    _shot(visitor, "public-campaign-375.png")
