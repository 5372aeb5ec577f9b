"""The campaign's own pages in the visitor's language: a French visitor reads the French
summary and background, marked ``lang="fr"``; an Arabic one reads right to left; a part a
translation leaves out shows the main language's and says so; links on the page let the
visitor read another of the campaign's languages and lead to the composer in it. Over the
HTTP client, as a browser would ask (Accept-Language, the language cookie, a link's query)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CampaignFactory
from undersigned.campaigns.models import CampaignTranslation

pytestmark = pytest.mark.django_db

ENGLISH_SUMMARY = "The council plans to close the only safe walking route to Wendmouth Primary."
FRENCH_SUMMARY = "La mairie veut fermer le seul chemin sûr vers l'école de Wendmouth."
ARABIC_SUMMARY = "يريد المجلس إغلاق الطريق الآمن الوحيد إلى المدرسة."


@pytest.fixture
def french_campaign(organisation: Any) -> Any:
    """A campaign in English with a French translation (its own summary and background)
    and an Arabic one that has a summary but no background of its own."""
    campaign = CampaignFactory(organisation=organisation, slug="le-chemin")
    CampaignTranslation.objects.create(
        campaign=campaign,
        language="fr",
        summary=FRENCH_SUMMARY,
        background="Le **chemin** relie le quartier d'Eastfield à l'école.",
        subject="Gardez le chemin ouvert",
        body="Madame, Monsieur {{ recipient.name }},\n\nGardez le chemin ouvert.\n\n{{ supporter.name }}",
    )
    CampaignTranslation.objects.create(
        campaign=campaign,
        language="ar",
        summary=ARABIC_SUMMARY,
        subject="أبقوا الطريق مفتوحا",
        body="السيد {{ recipient.name }}،\n\nأبقوا الطريق مفتوحا.\n\n{{ supporter.name }}",
    )
    return campaign


def _page(client: Client, campaign: Any, query: str = "", language: str = "") -> str:
    headers = {"accept-language": language} if language else {}
    response = client.get(reverse("public:campaign", args=[campaign.slug]) + query, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def _element(page: str, css_class: str) -> tuple[str, str, str]:
    """The lang, dir and text of the element with this class."""
    found = re.search(rf'<(p|div) class="{css_class}" lang="([^"]*)" dir="([^"]*)">(.*?)</\1>', page, re.S)
    assert found, css_class
    return found.group(2), found.group(3), html.unescape(re.sub(r"<[^>]+>", "", found.group(4))).strip()


def _compose_link(page: str) -> str:
    found = re.search(r'<a href="([^"]*)" role="button" class="primary-action">', page)
    assert found
    return html.unescape(found.group(1))


def _french_visitor() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


def test_a_french_visitor_reads_the_french_summary_and_background(french_campaign: Any) -> None:
    page = _page(_french_visitor(), french_campaign)
    assert _element(page, "summary") == ("fr", "ltr", FRENCH_SUMMARY)
    assert _element(page, "background") == ("fr", "ltr", "Le chemin relie le quartier d'Eastfield à l'école.")
    assert "<strong>chemin</strong>" in page  # the Markdown, rendered
    assert ENGLISH_SUMMARY not in page
    # The title has no translation: it stays marked as English.
    assert '<div lang="en" dir="ltr">' in page
    # Search results and link previews quote the French summary.
    assert f'<meta name="description" content="{html.escape(FRENCH_SUMMARY)}">' in page
    assert f'<meta property="og:description" content="{html.escape(FRENCH_SUMMARY)}">' in page
    # The composer starts in French.
    assert _compose_link(page) == reverse("public:compose", args=[french_campaign.slug]) + "?text_language=fr"


def test_a_visitor_of_a_regional_french_reads_the_french_text(french_campaign: Any) -> None:
    assert _element(_page(Client(), french_campaign, language="fr-CA,fr;q=0.8"), "summary")[0] == "fr"


def test_an_english_visitor_reads_english_and_the_composer_picks_its_own_language(french_campaign: Any) -> None:
    page = _page(Client(), french_campaign, language="en")
    assert _element(page, "summary") == ("en", "ltr", ENGLISH_SUMMARY)
    assert _element(page, "background") == ("en", "ltr", "The riverside path links the Eastfield estate to the school.")
    assert f'<meta name="description" content="{ENGLISH_SUMMARY}">' in page
    # The letter's language is the composer's to choose, from what the recipients read.
    assert _compose_link(page) == reverse("public:compose", args=[french_campaign.slug])


def test_an_arabic_translation_reads_right_to_left_and_its_missing_background_stays_english(
    french_campaign: Any,
) -> None:
    page = _page(Client(), french_campaign, language="ar")
    assert '<html lang="ar" dir="rtl">' in page
    assert _element(page, "summary") == ("ar", "rtl", ARABIC_SUMMARY)
    # No background in Arabic: the English one, marked as English, left to right.
    assert _element(page, "background") == ("en", "ltr", "The riverside path links the Eastfield estate to the school.")


def test_the_page_names_its_languages_and_links_to_each(french_campaign: Any) -> None:
    page = _page(Client(), french_campaign, language="en")
    nav = re.search(r'<nav class="reading-languages".*?</nav>', page, re.S)
    assert nav
    path = reverse("public:campaign", args=[french_campaign.slug])
    link = r'<a href="([^"]*)" lang="([^"]*)" hreflang="[^"]*" dir="([^"]*)"( aria-current="true")?>([^<]*)</a>'
    links = re.findall(link, nav.group(0))
    assert links == [
        (f"{path}?text=en", "en", "ltr", ' aria-current="true"', "English"),
        (f"{path}?text=ar", "ar", "rtl", "", "العربيّة"),
        (f"{path}?text=fr", "fr", "ltr", "", "français"),
    ]


def test_a_link_reads_the_campaign_in_another_language_and_writes_in_it(french_campaign: Any) -> None:
    client = Client()
    page = _page(client, french_campaign, "?text=fr", language="en")
    assert '<html lang="en" dir="ltr">' in page  # the site's own words stay English
    assert _element(page, "summary") == ("fr", "ltr", FRENCH_SUMMARY)
    assert 'lang="fr" hreflang="fr" dir="ltr" aria-current="true"' in page
    assert _compose_link(page).endswith("?text_language=fr")
    composer = client.get(_compose_link(page), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="Gardez le chemin ouvert"' in composer

    # A French visitor who asks for the English text gets it, and a composer in English.
    page = _page(_french_visitor(), french_campaign, "?text=en")
    assert _element(page, "summary") == ("en", "ltr", ENGLISH_SUMMARY)
    assert _compose_link(page).endswith("?text_language=en")


def test_a_language_the_campaign_lacks_shows_the_visitor_s_text_and_keeps_no_page_for_it(
    french_campaign: Any,
) -> None:
    client = Client()
    plain = _page(client, french_campaign, language="fr")
    for query in ("?text=de", "?text=" + "x" * 5000, "?text=%3Cscript%3E", "?text="):
        page = _page(client, french_campaign, query, language="fr")
        assert page == plain, query  # the same kept page, whatever was asked
        assert "<script>" not in page


def test_the_home_page_shows_the_summary_in_the_visitor_s_language(french_campaign: Any) -> None:
    other = CampaignFactory(organisation=french_campaign.organisation, slug="lights", summary="Dark since March.")
    page = Client().get(reverse("public:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f'<p lang="fr" dir="ltr">{html.escape(FRENCH_SUMMARY)}</p>' in page
    assert '<p lang="en" dir="ltr">Dark since March.</p>' in page  # no French: its English summary
    assert other.slug in page
    english = Client().get(reverse("public:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<p lang="en" dir="ltr">{ENGLISH_SUMMARY}</p>' in english


def test_the_home_page_costs_the_same_queries_with_one_campaign_or_many(french_campaign: Any) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(reverse("public:home"), HTTP_ACCEPT_LANGUAGE="fr").status_code == 200
        return len(queries)

    one = count()
    for n in range(5):
        CampaignTranslation.objects.create(
            campaign=CampaignFactory(organisation=french_campaign.organisation, slug=f"more-{n}"),
            language="fr",
            subject="Sujet",
            body="Corps",
            summary=f"Résumé {n}",
        )
    assert count() == one


def test_the_campaign_page_in_french_costs_the_queries_it_costs_in_english(french_campaign: Any) -> None:
    def count(client: Client, query: str = "") -> int:
        _page(client, french_campaign, query)  # the first view keeps the campaign and its page
        with CaptureQueriesContext(connection) as queries:
            _page(client, french_campaign, query)
        return len(queries)

    english, french = Client(HTTP_ACCEPT_LANGUAGE="en"), _french_visitor()
    assert count(english) == count(french) == count(english, "?text=ar") == 1


def test_a_translation_s_edit_shows_on_the_next_request(french_campaign: Any) -> None:
    client = _french_visitor()
    _page(client, french_campaign)
    french = CampaignTranslation.objects.get(campaign=french_campaign, language="fr")
    french.background = "Un **nouveau** paragraphe."
    french.summary = ""
    french.save()
    page = _page(client, french_campaign)
    assert _element(page, "background") == ("fr", "ltr", "Un nouveau paragraphe.")
    assert _element(page, "summary") == ("en", "ltr", ENGLISH_SUMMARY)


def test_the_composer_marks_prompts_from_the_main_language_as_such(french_campaign: Any) -> None:
    french_campaign.template.prompts = ["When do you walk the path?"]
    french_campaign.template.save()
    response = Client().get(reverse("public:compose", args=[french_campaign.slug]) + "?text_language=fr")
    page = response.content.decode()
    assert '<ul lang="en" dir="ltr"><li dir="auto">When do you walk the path?</li></ul>' in page
