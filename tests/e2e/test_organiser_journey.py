"""The organiser's whole loop in Chromium, on a phone, without the admin: an owner joins
through an invitation, imports two recipients from a CSV file, creates a campaign with a
template and prompts, previews the draft, publishes it; a supporter then writes to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.factories import UserFactory
from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign
from undersigned.delivery.models import Delivery
from undersigned.letters.models import Letter
from undersigned.organisations import services as organisation_services
from undersigned.organisations.models import Membership, Role

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 812}
# An official's long name with commas, and a name typed on a phone (curly apostrophe).
RECIPIENTS_CSV = (
    "name,role,organisation,email,postal address,country,language\n"
    '"Dr Amal Haddad, Chair of the Transport, Environment and Rivers Committee",Chair,'
    'Wendmouth Council,amal.haddad@wendmouth.example,"Town Hall\nHigh Street\nWendmouth WE1 1AA",GB,en\n'
    "Councillor Rowan O’Neill,Ward councillor,Wendmouth Council,rowan.oneill@wendmouth.example,"
    '"Town Hall\nHigh Street\nWendmouth WE1 1AA",GB,en\n'
)
TEMPLATE = "Dear {{ recipient.name }},\n\nPlease light the Eastfield underpass.\n\nYours,\n{{ supporter.name }}"


def fits(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a {PHONE['width']} px screen"


def test_an_invited_owner_runs_a_campaign_from_start_to_a_supporters_letter(
    new_context: ContextFactory, live_server: Any, organisation: Any, smtp_sink: Any, tmp_path: Path
) -> None:
    operator = UserFactory(username="operator", email="ops@example.net", is_superuser=True, is_staff=True)
    organisation_services.invite(
        organisation=organisation, email="olive.okonjo@example.org", role=Role.OWNER, actor=operator
    )
    [mail] = smtp_sink.parsed()
    link = re.search(r"http://testserver(/dashboard/invitations/\S+/)", mail.get_body().get_content())
    assert link is not None

    # The owner joins through the link and lands on the dashboard.
    owner = new_context(viewport=PHONE, bypass_csp=True).new_page()
    owner.goto(link[1])
    owner.get_by_label("Choose a password").fill("a long walk by the river")
    owner.get_by_label("The password again").fill("a long walk by the river")
    owner.get_by_role("button", name="Create the account and join").click()
    expect(owner).to_have_url(re.compile(r"/dashboard/$"))
    assert Membership.objects.get(user__email="olive.okonjo@example.org").role == Role.OWNER

    # Two recipients from a CSV file: checked, previewed, applied.
    csv_file = tmp_path / "council.csv"
    csv_file.write_text(RECIPIENTS_CSV, encoding="utf-8")
    nav = owner.get_by_role("navigation", name="Dashboard")
    nav.get_by_role("link", name="Recipients").click()
    owner.get_by_role("link", name="Import from a CSV file").click()
    owner.get_by_label("CSV file").set_input_files(str(csv_file))
    owner.get_by_role("button", name="Check the file").click()
    expect(owner.get_by_test_id("preview-counts")).to_contain_text("2 new")
    fits(owner)
    assert_no_serious_violations(owner)
    owner.get_by_role("button", name="Apply these changes").click()
    expect(owner.get_by_role("status")).to_contain_text("Imported: 2 new, 0 updated, 0 unchanged.")

    # A campaign with its template, prompts and both recipients; previewed, then a draft.
    nav.get_by_role("link", name="Campaigns").click()
    owner.get_by_role("link", name="New campaign").click()
    owner.get_by_label("Title").fill("Light the Eastfield underpass")
    owner.get_by_label("Summary").fill("The underpass is the only way to school, and it is dark.")
    owner.get_by_label("Subject of the letter").fill("Please light the Eastfield underpass")
    owner.get_by_label("Text of the letter").fill(TEMPLATE)
    owner.get_by_label("Writing prompts").fill("How do you use the underpass?\nWhen is it darkest?")
    owner.get_by_role("checkbox", name=re.compile("Dr Amal Haddad")).check()
    owner.get_by_role("checkbox", name=re.compile("Councillor Rowan O’Neill")).check()
    owner.get_by_role("button", name="Preview").click()
    # The letter as its first recipient gets it, the placeholders filled in.
    first = re.escape("Dr Amal Haddad, Chair of the Transport, Environment and Rivers Committee")
    expect(owner.get_by_test_id("preview")).to_contain_text(re.compile(rf"Dear ({first}|Councillor Rowan O’Neill),"))
    expect(owner.get_by_test_id("preview")).to_contain_text("Please light the Eastfield underpass.")
    fits(owner)
    assert_no_serious_violations(owner)
    owner.get_by_role("button", name="Create draft").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Edit campaign")
    campaign = Campaign.objects.get(slug="light-the-eastfield-underpass")
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.template.prompts == ["How do you use the underpass?", "When is it darkest?"]
    assert campaign.recipients.count() == 2

    # Nobody but the team sees the draft.
    visitor = new_context(viewport=PHONE).new_page()
    answer = visitor.goto(f"/c/{campaign.slug}/")
    assert answer is not None
    assert answer.status == 404
    owner.get_by_role("link", name="Open its page as your team sees it").click()
    expect(owner.get_by_test_id("draft-banner")).to_contain_text("Draft — only your team can see this.")
    fits(owner)
    owner.get_by_role("link", name="Back to the editor").click()
    owner.get_by_role("button", name="Publish").click()
    expect(owner.get_by_test_id("status-meaning")).to_contain_text("Live")

    # A supporter writes to it and asks the platform to send it.
    supporter = new_context(viewport=PHONE).new_page()
    supporter.goto(f"/c/{campaign.slug}/")
    expect(supporter.get_by_role("heading", level=1)).to_have_text("Light the Eastfield underpass")
    supporter.get_by_role("button", name="Write your letter").click()
    supporter.get_by_label("Your name").fill("Siobhán O’Brien")
    supporter.get_by_label("Your email address").fill("siobhan@example.ie")
    supporter.get_by_label("Your town or city").fill("Wendmouth")
    supporter.get_by_label("Your country").select_option(label="United Kingdom")
    expect(supporter.get_by_text("How do you use the underpass?")).to_be_visible()
    body = supporter.get_by_label("Your letter", exact=True)
    body.press("Control+End")
    body.press_sequentially("\n\nMy son walks through it at six every winter morning.")
    supporter.get_by_role("button", name="Continue to sending").click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text("Send your letter")
    supporter.get_by_role("button", name="Send it for me").first.click()
    expect(supporter.get_by_role("heading", level=1)).to_have_text("Thank you for writing")
    letter = Letter.objects.get(campaign=campaign)
    assert letter.sender_name == "Siobhán O’Brien"
    assert Delivery.objects.filter(letter=letter, channel="email").count() == 1

    # The owner sees it on the campaign's deliveries.
    owner.goto(f"/dashboard/campaigns/{campaign.slug}/deliveries/")
    expect(owner.locator("main")).to_contain_text("Sent by the platform")
    fits(owner)
    assert_no_serious_violations(owner)
