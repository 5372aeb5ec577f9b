"""A campaign in several languages in a real browser: a supporter writing to a French
recipient starts from the French letter and downloads it as a PDF in French; an
organiser adds a language in the editor's tabs. Both on a 375 px phone screen too."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.e2e.test_supporter_journey import PHONE, _assert_no_horizontal_scroll, _fill_about_you, _pdf_text
from undersigned.campaigns.models import CampaignTranslation

pytestmark = pytest.mark.browser

# UNDERSIGNED_SCREENSHOTS=<folder> keeps screenshots of these pages to look at.
SCREENSHOTS = os.environ.get("UNDERSIGNED_SCREENSHOTS", "")
# Lines short enough to stay whole on the printed page, so pdftotext gives them back.
FRENCH_BODY = (
    "Madame, Monsieur {{ recipient.name }},\n\n"
    "Je vous écris depuis {{ supporter.town }}.\n\n"
    "Gardez ce chemin ouvert, s'il vous plaît.\n\n"
    "Veuillez agréer mes salutations,\n{{ supporter.name }}"
)


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def french_campaign(live_campaign: Any) -> Any:
    live_campaign.recipients.update(language="fr")
    CampaignTranslation.objects.create(
        campaign=live_campaign,
        language="fr",
        subject="Gardez le chemin ouvert",
        body=FRENCH_BODY,
        prompts=["Quand empruntez-vous ce chemin ?"],
    )
    return live_campaign


def test_a_supporter_writes_in_french_and_the_pdf_is_in_french(
    new_context: ContextFactory, french_campaign: Any, tmp_path: Path
) -> None:
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True).new_page()
    page.goto(f"/c/{french_campaign.slug}/write/")

    expect(page.get_by_label("Language of the letter")).to_have_value("fr")
    expect(page.get_by_label("Your letter", exact=True)).to_have_value(FRENCH_BODY)
    expect(page.get_by_label("Subject")).to_have_value("Gardez le chemin ouvert")
    expect(page.get_by_text("Quand empruntez-vous ce chemin ?")).to_be_visible()
    _assert_no_horizontal_scroll(page)
    assert_no_serious_violations(page)
    _shot(page, "composer-french-375")

    # Another language, without any script: the GET form starts the letter again.
    page.get_by_label("Language of the letter").select_option("en")
    page.get_by_role("button", name="Start from this letter").click()
    expect(page.get_by_label("Your letter", exact=True)).to_have_value(french_campaign.template.body)
    page.get_by_label("Language of the letter").select_option("fr")
    page.get_by_role("button", name="Start from this letter").click()
    expect(page.get_by_label("Your letter", exact=True)).to_have_value(FRENCH_BODY)

    _fill_about_you(page)
    expect(page.get_by_test_id("preview")).to_contain_text("Je vous écris depuis Cork.")
    page.get_by_role("button", name="Continue to sending").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send your letter")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF (A4)").click()
    pdf = tmp_path / "letter.pdf"
    download_info.value.save_as(pdf)
    text = _pdf_text(pdf)
    assert "Madame, Monsieur Councillor Rowan Ashby," in text
    assert "Je vous écris depuis Cork." in text
    assert "Gardez ce chemin ouvert, s'il vous plaît." in text
    assert "Veuillez agréer mes salutations," in text


def test_an_organiser_adds_a_language_in_the_editor_s_tabs(
    organiser_page: Callable[..., Page], french_campaign: Any
) -> None:
    page = organiser_page(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    page.goto(f"/dashboard/campaigns/{french_campaign.slug}/edit/")
    tabs = page.get_by_test_id("language-tabs")
    expect(tabs.get_by_role("link")).to_have_text(["English (en) main", "French (fr)", "+ Add a language"])
    _assert_no_horizontal_scroll(page)
    _shot(page, "editor-tabs-375")

    tabs.get_by_role("link", name="+ Add a language").click()
    page.get_by_label("Language code").fill("de")
    page.get_by_role("button", name="Add and write the text").click()
    expect(page.get_by_test_id("not-saved")).to_be_visible()
    page.get_by_label("Subject of the letter").fill("Halten Sie den Weg offen")
    page.get_by_label("Text of the letter").fill("Sehr geehrte {{ recipient.nme }},")
    page.get_by_role("button", name="Save").click()
    # Refused beside the field, with what was typed kept.
    expect(page.locator("#id_body_error")).to_contain_text("did you mean {{ recipient.name }}?")
    expect(page.get_by_label("Text of the letter")).to_have_value("Sehr geehrte {{ recipient.nme }},")
    _assert_no_horizontal_scroll(page)
    assert_no_serious_violations(page)
    _shot(page, "editor-language-error-375")

    page.get_by_label("Text of the letter").fill("Sehr geehrte {{ recipient.name }},")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The text in de is saved.")).to_be_visible()
    expect(page.get_by_test_id("language-tabs").get_by_role("link")).to_have_text(
        ["English (en) main", "German (de)", "French (fr)", "+ Add a language"]
    )
    assert list(CampaignTranslation.objects.order_by("language").values_list("language", flat=True)) == ["de", "fr"]


def test_a_french_reader_reads_the_campaign_in_french_and_writes_in_french(
    new_context: ContextFactory, french_campaign: Any
) -> None:
    CampaignTranslation.objects.filter(campaign=french_campaign, language="fr").update(
        summary="La mairie veut fermer le seul chemin sûr vers l'école.",
        background="Le **chemin** relie le quartier d'Eastfield à l'école.\n\nIl est éclairé et sûr.",
    )
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    page.goto(f"/c/{french_campaign.slug}/")

    summary = page.locator("p.summary")
    expect(summary).to_have_text("La mairie veut fermer le seul chemin sûr vers l'école.")
    expect(summary).to_have_attribute("lang", "fr")
    expect(page.locator("div.background")).to_have_attribute("lang", "fr")
    languages = page.get_by_test_id("reading-languages").get_by_role("link")
    expect(languages).to_have_text(["English", "français"])
    _assert_no_horizontal_scroll(page)
    assert_no_serious_violations(page)
    _shot(page, "campaign-french-375")

    # The English text, by a plain link; the site's own words stay French.
    languages.first.click()
    expect(summary).to_have_text(french_campaign.summary)
    expect(summary).to_have_attribute("lang", "en")
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    page.get_by_test_id("reading-languages").get_by_role("link", name="français").click()
    page.locator("a.primary-action").click()
    expect(page.locator("#text-language")).to_have_value("fr")
    expect(page.locator("textarea[name=body]")).to_have_value(FRENCH_BODY)
