"""An update, in Chromium: the organiser composes it (a bad subject kept beside its
field) with a French version, previews it with its reach and each version, edits it
again and sends it; a real worker sends
it into a real SMTP server (aiosmtpd), which shows it only to those who agreed; the
one-click unsubscribe POST, without cookies, records the withdrawal. axe-core checks
the pages; ``UNDERSIGNED_SCREENSHOTS=<folder>`` keeps screenshots at 1280 and 375 px."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.factories import SupporterFactory
from undersigned.supporters import services
from undersigned.supporters.models import ConsentPurpose, ConsentRecord

SHOTS = os.environ.get("UNDERSIGNED_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_an_update_reaches_only_those_who_agreed_and_one_click_unsubscribes(
    organiser_page: Callable[..., Page],
    new_context: ContextFactory,
    live_campaign: Any,
    run_worker: Any,
    smtp_sink: Any,
) -> None:
    for email, country, agreed in (
        ("ines@example.net", "IE", True), ("gareth@example.net", "GB", True), ("nora@example.net", "IE", False),
    ):  # fmt: skip
        supporter = SupporterFactory(email=email, country=country, name=email.split("@")[0].title())
        services.record_consent(
            supporter=supporter,
            purpose=ConsentPurpose.CAMPAIGN_UPDATES,
            granted=agreed,
            wording=services.campaign_updates_wording(live_campaign),
            source="test",
            campaign=live_campaign,
        )
    for width in (1280, 375):
        page = organiser_page(bypass_csp=True, viewport={"width": width, "height": 900})
        page.goto("/dashboard/")
        page.get_by_role("link", name=f"Updates “{live_campaign.title}”").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Updates")
        assert_no_serious_violations(page)
        page.get_by_role("link", name="Write an update").click()
        expect(page.get_by_test_id("agreed")).to_have_text("2 people agreed to hear more.")
        if width == 375:
            _shot(page, "update-compose-375")
            page.close()
            continue
        page.get_by_label("Text", exact=True).fill("")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#id_body_error")).to_contain_text("Write the update.")
        assert_no_serious_violations(page)
        page.get_by_label("Subject", exact=True).fill("The path stays open")
        page.get_by_label("Text", exact=True).fill("# Good news\n\nThe council **listened**. Thank you.")
        page.get_by_label("Ireland (1)").check()
        page.get_by_label("Language of this version").select_option("fr")
        page.get_by_label("Subject in this language").fill("Le chemin reste ouvert")
        page.get_by_label("Text in this language").fill("Le conseil a **écouté**. Merci.")
        _shot(page, "update-compose-1280")
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_test_id("reach")).to_contain_text("This update will reach 1 person.")
        expect(page.get_by_test_id("preview-body").first.locator("strong")).to_have_text("listened")
        expect(page.get_by_test_id("preview-body").nth(1).locator("strong")).to_have_text("écouté")
        expect(page.get_by_test_id("version-reach").nth(1)).to_have_text("0 people will get this version.")
        assert_no_serious_violations(page)
        page.get_by_role("link", name="Edit again").click()
        expect(page.get_by_label("Subject", exact=True)).to_have_value("The path stays open")
        expect(page.get_by_label("Subject in this language").first).to_have_value("Le chemin reste ouvert")
        _shot(page, "update-edit-versions-1280")
        expect(page.get_by_label("Ireland (1)")).to_be_checked()
        page.get_by_label("Ireland (1)").uncheck()
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_test_id("reach")).to_contain_text("This update will reach 2 people.")
        _shot(page, "update-preview-1280")
        page.set_viewport_size({"width": 375, "height": 900})  # the same preview on a phone
        assert_no_serious_violations(page)
        _shot(page, "update-preview-375")
        preview_url = page.url
        page.get_by_role("button", name="Send to 2 people").click()
        expect(page.get_by_role("status")).to_contain_text("The update is on its way.")

    phone = organiser_page(viewport={"width": 375, "height": 900})
    phone.goto(preview_url)
    expect(phone.get_by_test_id("sent-counts")).to_contain_text("Queued: its emails are being prepared")
    _shot(phone, "update-sent-375")

    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # the fan-out, then the engine's sends
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.parsed()}
    assert sorted(received) == ["gareth@example.net", "ines@example.net"]
    message = received["ines@example.net"]
    assert message["Subject"] == "The path stays open"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip("<>")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    # The mail program's one-click POST: a context that never visited the site, no cookie.
    mail_program = new_context().request
    answer = mail_program.post(
        path,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200
    record = ConsentRecord.objects.get(purpose=ConsentPurpose.ORGANISATION_UPDATES)
    assert (record.supporter.email, record.granted) == ("ines@example.net", False)
