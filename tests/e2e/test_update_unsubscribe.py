"""The unsubscribe link of an update, in Chromium: readable and usable without JavaScript
on a phone, passes axe-core, and the button stops the organisation's updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.factories import SupporterFactory
from undersigned.supporters import services, updates
from undersigned.supporters.models import ConsentPurpose, ConsentRecord

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_unsubscribe_without_javascript_on_a_phone(new_context: ContextFactory, live_campaign: Any) -> None:
    supporter = SupporterFactory()
    services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.CAMPAIGN_UPDATES,
        granted=True,
        wording=services.campaign_updates_wording(live_campaign),
        source="test",
        campaign=live_campaign,
    )
    organisation = live_campaign.organisation
    token = updates.unsubscribe_token(supporter_id=supporter.pk, organisation_id=organisation.pk)
    target = updates.Audience(organisation_id=organisation.pk, campaign_id=live_campaign.pk)
    assert updates.audience_size(target) == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        checked = new_context(bypass_csp=True, viewport={"width": width, "height": 800}).new_page()
        checked.goto(f"/u/{token}/")
        expect(checked.get_by_role("heading", level=1)).to_have_text(f"Stop updates from {organisation.name}")
        assert_no_serious_violations(checked)
        checked.screenshot(path=str(SCREENSHOTS / f"update-unsubscribe-{width}.png"), full_page=True)
    page = new_context(java_script_enabled=False, viewport={"width": 375, "height": 800}).new_page()
    page.goto(f"/u/{token}/")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_have_text(f"{organisation.name} will send you no further updates.")
    page.screenshot(path=str(SCREENSHOTS / "update-unsubscribed-375.png"), full_page=True)
    record = ConsentRecord.objects.get(purpose=ConsentPurpose.ORGANISATION_UPDATES)
    assert (record.granted, record.wording) == (False, updates.unsubscribe_wording(organisation))
    assert updates.audience_size(target) == 0
