"""Whole journeys in French and Arabic in Chromium: an Arabic visitor writes a letter on
a phone and downloads it as a PDF; French and Arabic visitors endorse an open letter and
confirm it from the email a real worker sends to the real SMTP sink.

Every interface text the tests look for comes from the catalogues (gettext under
``translation.override``), never typed here: a missing or wrong translation fails them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext
from django_countries import countries
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, ContextFactory, assert_no_serious_violations, screenshot
from tests.e2e.test_supporter_journey import _assert_no_horizontal_scroll, _tab_to
from tests.openletters.conftest import links_in, make_open_letter, path_of
from tests.pdf_scripts import assert_prints, text_of, tools
from undersigned.campaigns.models import CampaignTranslation
from undersigned.letters.models import Letter
from undersigned.openletters.models import Endorsement, OpenLetter

pytestmark = pytest.mark.browser

ARABIC_NAME = "فاطمة الزهراء"
ARABIC_TOWN = "الإسكندرية"
ARABIC_ADDRESS = ["١٢ شارع النصر", "الإسكندرية ٢١٥٠٠"]
# The campaign's own Arabic text (``CampaignTranslation``); lines short enough to stay whole
# on the page, and no tanween: poppler reads "مفتوحاً" back with its mark split off,
# though the PDF prints it right (look at the page).
ARABIC_BODY = (
    "السيد {{ recipient.name }} المحترم،\n\n"
    "أكتب إليكم من {{ supporter.town }}.\n\n"
    "نرجو ألا تغلقوا طريق النهر.\n\n"
    "مع خالص التحية،\n{{ supporter.name }}"
)
ARABIC_SUBJECT = "لا تغلقوا طريق النهر"
# What the writer adds by keyboard.
ARABIC_PARAGRAPH = "تمشي ابنتي إلى المدرسة على هذا الطريق كل يوم"
# (locale Chromium announces, language of the interface, endorser's name, email)
ENDORSERS = {
    "fr": ("fr-FR", "Étienne Dupré", "etienne@example.fr"),
    "ar": ("ar", ARABIC_NAME, "fatima@example.org"),
}


def _(language: str, message: str) -> str:
    """``message`` as the catalogue of ``language`` has it."""
    with translation.override(language):
        return gettext(message)


def _assert_language(page: Page, language: str, direction: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", direction)


@pytest.fixture
def arabic_campaign(live_campaign: Any) -> Any:
    live_campaign.recipients.update(language="ar")
    CampaignTranslation.objects.create(
        campaign=live_campaign, language="ar", subject=ARABIC_SUBJECT, body=ARABIC_BODY, prompts=[]
    )
    return live_campaign


def test_an_arabic_visitor_writes_by_keyboard_on_a_phone_and_gets_the_pdf(
    new_context: ContextFactory, arabic_campaign: Any, tmp_path: Path
) -> None:
    tools()
    # bypass_csp: axe-core is injected.
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="ar", bypass_csp=True).new_page()
    keyboard = page.keyboard
    page.goto(f"/c/{arabic_campaign.slug}/")
    _assert_language(page, "ar", "rtl")
    _assert_no_horizontal_scroll(page)
    screenshot(page, "journey-campaign-ar-375.png")
    assert_no_serious_violations(page)

    write = page.get_by_role("button", name=_("ar", "Write your letter"))
    _tab_to(page, write)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(_("ar", "Write your letter"))
    _assert_language(page, "ar", "rtl")
    body = page.get_by_label(_("ar", "Your letter"), exact=True)
    expect(body).to_have_value(ARABIC_BODY)  # the recipient reads Arabic: the campaign's Arabic text
    expect(page.get_by_label(_("ar", "Subject"), exact=True)).to_have_value(ARABIC_SUBJECT)
    # The translation has no prompts of its own: the campaign's English ones keep their direction.
    expect(page.locator(".prompts li")).to_have_count(len(arabic_campaign.template.prompts))
    expect(page.locator(".prompts li").first).to_have_attribute("dir", "auto")

    _tab_to(page, page.get_by_label(_("ar", "Your name"), exact=True))
    keyboard.type(ARABIC_NAME)
    for label, text in (
        (_("ar", "Your email address"), "fatima@example.org"),
        (_("ar", "Your town or city"), ARABIC_TOWN),
    ):
        keyboard.press("Tab")
        expect(page.get_by_label(label, exact=True)).to_be_focused()
        keyboard.type(text)
    keyboard.press("Tab")
    country = page.get_by_label(_("ar", "Your country"), exact=True)
    expect(country).to_be_focused()
    with translation.override("ar"):
        egypt = countries.name("EG")  # the name the Arabic page lists
    # Chromium's type-ahead in a closed select answers key presses, and Playwright types
    # Arabic letters as inserted text, not key presses: the option is chosen by its name.
    country.select_option(label=egypt)
    expect(country).to_have_value("EG")
    keyboard.press("Tab")
    expect(page.locator("#id_postal_address")).to_be_focused()
    for number, line in enumerate(ARABIC_ADDRESS):
        if number:
            keyboard.press("Enter")
        keyboard.type(line)

    _tab_to(page, body)
    keyboard.press("Control+End")
    keyboard.press("Enter")
    keyboard.press("Enter")
    keyboard.type(ARABIC_PARAGRAPH)
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text(ARABIC_PARAGRAPH)
    expect(preview).to_contain_text(f"أكتب إليكم من {ARABIC_TOWN}.")
    expect(preview).to_contain_text(ARABIC_NAME)
    _assert_no_horizontal_scroll(page)
    screenshot(page, "journey-composer-ar-375.png")
    assert_no_serious_violations(page)

    _tab_to(page, page.get_by_role("button", name=_("ar", "Continue to sending")))
    keyboard.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text(_("ar", "Send your letter"))
    _assert_language(page, "ar", "rtl")
    _assert_no_horizontal_scroll(page)
    screenshot(page, "journey-send-ar-375.png")
    assert_no_serious_violations(page)
    letter = Letter.objects.get()
    assert letter.language == "ar"  # the site spoke Arabic
    assert letter.text_language == "ar"  # written from the campaign's Arabic text
    assert letter.sender_name == ARABIC_NAME

    with page.expect_download() as download_info:
        page.get_by_role("button", name=_("ar", "Download PDF (A4)")).click()
    pdf = tmp_path / "letter.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    printed = text_of(pdf)
    assert_prints(printed, ARABIC_NAME)
    assert_prints(printed, ARABIC_PARAGRAPH)
    assert_prints(printed, f"أكتب إليكم من {ARABIC_TOWN}.")
    assert_prints(printed, "نرجو ألا تغلقوا طريق النهر.")
    assert_prints(printed, ARABIC_SUBJECT)
    assert_prints(printed, ARABIC_ADDRESS[0])


@pytest.fixture
def open_letter(organisation: Any) -> OpenLetter:
    return make_open_letter(organisation)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_endorse_an_open_letter_and_confirm_from_the_email_in_the_visitor_s_language(
    new_context: ContextFactory, open_letter: OpenLetter, smtp_sink: Any, run_worker: Any, language: str
) -> None:
    locale, name, email = ENDORSERS[language]
    direction = "rtl" if language == "ar" else "ltr"
    page = new_context(viewport=PHONE, locale=locale, bypass_csp=True).new_page()  # bypass: axe-core
    page.goto(f"/open-letters/{open_letter.slug}/")
    _assert_language(page, language, direction)
    page.get_by_role("button", name=_(language, "Endorse this letter")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(_(language, "Endorse this open letter"))
    _assert_language(page, language, direction)
    # The letter is in English: its title in the breadcrumb and the updates wording keep their direction.
    expect(page.locator(".breadcrumb a")).to_have_attribute("dir", "ltr")
    expect(page.locator("#field-wants_updates label span")).to_have_attribute("dir", "auto")
    page.get_by_label(_(language, "Your name, or your organisation's name"), exact=True).fill(name)
    optional = _(language, "(optional)")  # the form marks fields not required so
    page.get_by_label(f"{_(language, 'Role or title')} {optional}", exact=True).fill("Trustee")
    page.get_by_label(_(language, "Country"), exact=True).select_option("IE")
    page.get_by_label(_(language, "Your email address"), exact=True).fill(email)
    _assert_no_horizontal_scroll(page)
    screenshot(page, f"journey-endorse-{language}-375.png")
    assert_no_serious_violations(page)
    page.get_by_role("button", name=_(language, "Endorse this letter")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(_(language, "Check your email"))
    endorsement = Endorsement.objects.get()
    assert endorsement.language == language
    assert endorsement.status == "pending"

    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    (message,) = smtp_sink.parsed()
    subject = _(language, "Please confirm your endorsement of “%(title)s”") % {"title": open_letter.title}
    assert subject != "Please confirm your endorsement of “Walkers for Resolution 7”"  # translated
    assert message["Subject"] == subject
    assert message["To"].addresses[0].addr_spec == email

    page.goto(path_of(links_in(message)["confirm"]))
    expect(page.get_by_role("heading", level=1)).to_have_text(_(language, "Confirm your endorsement"))
    _assert_language(page, language, direction)
    assert Endorsement.objects.get().status == "pending"  # opening the link confirmed nothing
    _assert_no_horizontal_scroll(page)
    screenshot(page, f"journey-confirm-{language}-375.png")
    assert_no_serious_violations(page)
    page.get_by_role("button", name=_(language, "Confirm"), exact=True).click()

    expect(page.get_by_test_id("confirmed-notice")).to_have_text(
        _(language, "Thank you: your endorsement is confirmed.")
    )
    _assert_language(page, language, direction)
    expect(page.get_by_test_id("verified-count")).to_have_text("1")
    expect(page.get_by_test_id("endorsers")).to_contain_text(name)
    _assert_no_horizontal_scroll(page)
    screenshot(page, f"journey-confirmed-{language}-375.png")
    assert_no_serious_violations(page)
    confirmed = Endorsement.objects.get()
    assert confirmed.status == "confirmed"
    assert confirmed.language == language
