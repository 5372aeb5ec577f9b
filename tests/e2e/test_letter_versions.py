"""A letter written once per language in a real browser: a supporter writing to an
English, a French and an Arabic reader writes a version in each on a 375 px phone, and
the letter page shows who gets which (right to left for Arabic)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations, screenshot
from tests.e2e.test_supporter_journey import PHONE, _assert_no_horizontal_scroll, _fill_about_you
from tests.factories import CampaignFactory, RecipientFactory
from undersigned.campaigns.models import CampaignTranslation
from undersigned.letters.models import LetterText

pytestmark = pytest.mark.browser

FRENCH_BODY = "Madame, Monsieur {{ recipient.name }},\n\nGardez ce chemin ouvert.\n\n{{ supporter.name }}"
ARABIC_BODY = "السيد {{ recipient.name }}،\n\nأرجو إبقاء الطريق مفتوحاً.\n\n{{ supporter.name }}"


@pytest.fixture
def three_languages(organisation: Any) -> Any:
    people = [
        RecipientFactory(organisation=organisation, name="Rowan Ashby", language="en"),
        RecipientFactory(organisation=organisation, name="Claire Dubois", language="fr"),
        RecipientFactory(organisation=organisation, name="ليلى حداد", language="ar"),
    ]
    campaign = CampaignFactory(organisation=organisation, slug="three-languages", recipients=people)
    CampaignTranslation.objects.create(campaign=campaign, language="fr", subject="Gardez le chemin", body=FRENCH_BODY)
    CampaignTranslation.objects.create(campaign=campaign, language="ar", subject="أبقوا الطريق", body=ARABIC_BODY)
    return campaign


def test_a_supporter_writes_a_version_in_each_language(new_context: ContextFactory, three_languages: Any) -> None:
    page: Page = new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True).new_page()
    page.goto(f"/c/{three_languages.slug}/write/")
    _fill_about_you(page)
    page.get_by_label("Your letter", exact=True).fill("Dear {{ recipient.name }},\n\nMy own English words.")
    page.get_by_role("button", name="Write a version in each language").click()

    # What was typed stays; a subject and a letter per language, each from its template.
    expect(page.get_by_label("Your letter", exact=True)).to_have_value(
        "Dear {{ recipient.name }},\n\nMy own English words."
    )
    french = page.get_by_label("Your letter in français")
    arabic = page.get_by_label("Your letter in العربيّة")
    expect(french).to_have_value(FRENCH_BODY)
    expect(arabic).to_have_value(ARABIC_BODY)
    expect(arabic).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("version-fr")).to_contain_text("For 1 recipient: Claire Dubois")
    french.fill(FRENCH_BODY.replace("Gardez", "Ma fille y passe chaque jour. Gardez"))
    expect(page.get_by_test_id("version-preview-fr")).to_contain_text("Ma fille y passe chaque jour.")
    _assert_no_horizontal_scroll(page)
    assert_no_serious_violations(page)
    screenshot(page, "letter-versions-composer-375.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "letter-versions-composer-1280.png")
    page.set_viewport_size({"width": 375, "height": 812})

    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")
    versions = page.get_by_test_id("letter-versions")
    expect(versions).to_contain_text("In français — for 1 recipient: Claire Dubois")
    expect(versions).to_contain_text("In العربيّة — for 1 recipient: ليلى حداد")
    _assert_no_horizontal_scroll(page)
    screenshot(page, "letter-versions-letter-375.png")
    assert sorted(LetterText.objects.values_list("language", flat=True)) == ["ar", "fr"]
