"""The interface's language: Accept-Language first, the switcher's cookie over it.

The switcher (core/languages.py, templates/core/_languages.html) is a plain POST form on
every page, without JavaScript and without a CSRF token (shared pages carry none); it
sets the language cookie, never a session, and only ever sends the visitor on to a path
of this site. Kept and shared pages are kept per language and say what they vary on.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from undersigned.core import kept_pages
from undersigned.core.templatetags.text_direction import text_direction

pytestmark = pytest.mark.django_db

SWITCH = "/language/"


def _html_tag(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match, page[:200]
    return match.group(0)


def test_accept_language_chooses_the_language_and_arabic_is_right_to_left(client: Client) -> None:
    assert _html_tag(client.get("/").content.decode()) == '<html lang="en" dir="ltr">'
    french = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    assert _html_tag(french.content.decode()) == '<html lang="fr" dir="ltr">'
    arabic = client.get("/", HTTP_ACCEPT_LANGUAGE="ar")
    assert _html_tag(arabic.content.decode()) == '<html lang="ar" dir="rtl">'
    # A language we don't ship falls back to English.
    assert 'lang="en"' in _html_tag(client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode())


def test_the_switcher_sets_the_cookie_and_the_next_page_is_in_that_language(client: Client) -> None:
    response = client.post(SWITCH, {"language": "fr", "next": "/open-letters/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Location"]) == (302, "/open-letters/")
    cookie = response.cookies[django_settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr"
    assert cookie["max-age"] == 60 * 60 * 24 * 365
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"] is True
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies  # a cookie, not a session
    # The cookie wins over the browser's Accept-Language from now on.
    page = client.get("/open-letters/", HTTP_ACCEPT_LANGUAGE="en-GB,en")
    assert _html_tag(page.content.decode()) == '<html lang="fr" dir="ltr">'
    client.post(SWITCH, {"language": "ar", "next": "/"})
    assert _html_tag(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()) == '<html lang="ar" dir="rtl">'


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        "/" + "a" * 3000,
    ],
)
def test_an_unsafe_next_goes_home(client: Client, unsafe: str) -> None:
    response = client.post(SWITCH, {"language": "de", "next": unsafe})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_an_unknown_language_sets_nothing_and_only_post_is_accepted(client: Client) -> None:
    response = client.post(SWITCH, {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get(SWITCH).status_code == 405


def test_a_cross_site_post_is_refused_where_the_browser_says_so(client: Client) -> None:
    response = client.post(SWITCH, {"language": "ar", "next": "/"}, HTTP_SEC_FETCH_SITE="cross-site")
    assert response.status_code == 403
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    same = client.post(SWITCH, {"language": "ar", "next": "/"}, HTTP_SEC_FETCH_SITE="same-origin")
    assert same.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ar"


def test_the_cookie_is_secure_when_the_site_is_https(settings: Any, client: Client) -> None:
    settings.LANGUAGE_COOKIE_SECURE = True
    response = client.post(SWITCH, {"language": "es", "next": "/"})
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME]["secure"] is True


def test_the_switcher_is_on_the_page_marked_for_screen_readers(client: Client, campaign: Any) -> None:
    page = client.get(reverse("public:campaign", args=[campaign.slug]), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    form = re.search(r'<form method="post" action="/language/" class="languages">.*?</form>', page, re.S)
    assert form, "no switcher on the campaign page"
    switcher = form.group(0)
    assert f'<input type="hidden" name="next" value="/c/{campaign.slug}/">' in switcher
    assert "csrfmiddlewaretoken" not in switcher  # the shared page carries no token
    buttons = re.findall(r"<button [^>]*>[^<]*</button>", switcher)
    assert buttons == [
        '<button type="submit" name="language" value="en" lang="en">English</button>',
        '<button type="submit" name="language" value="fr" lang="fr">Français</button>',
        '<button type="submit" name="language" value="es" lang="es">Español</button>',
        '<button type="submit" name="language" value="de" lang="de" aria-current="true">Deutsch</button>',
        '<button type="submit" name="language" value="ar" lang="ar">العربية</button>',
    ]


@pytest.mark.parametrize(
    ("code", "kingdom"),
    [("en", "United Kingdom"), ("fr", "Royaume-Uni"), ("es", "Reino Unido"), ("de", "Vereinigtes Königreich"),
     ("ar", "المملكة المتحدة")],
)  # fmt: skip
def test_country_names_are_in_the_pages_language(client: Client, campaign: Any, code: str, kingdom: str) -> None:
    """The composer's country list comes from django-countries' own catalogues, loaded with its app."""
    page = client.get(reverse("public:compose", args=[campaign.slug]), HTTP_ACCEPT_LANGUAGE=code).content.decode()
    assert f'<option value="GB">{kingdom}</option>' in page


def test_the_switcher_is_on_the_dashboard_too(client: Client, organiser: Any) -> None:
    client.force_login(organiser)
    page = client.get(reverse("dashboard:index"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert 'value="ar" lang="ar" aria-current="true"' in page
    assert '<input type="hidden" name="next" value="/dashboard/">' in page


def test_a_kept_page_is_kept_once_per_language_and_says_what_it_varies_on(client: Client, campaign: Any) -> None:
    url = reverse("public:campaign", args=[campaign.slug])
    before = set(kept_pages._kept_pages)
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    made = [key for key in kept_pages._kept_pages if key not in before]
    assert len(made) == 2, made
    assert {"en", "fr"} == {value for key in made for value in key if value in ("en", "fr")}
    for response in (english, french):
        vary = {part.strip() for part in response["Vary"].split(",")}
        assert {"Accept-Language", "Cookie"} <= vary, response["Vary"]
        assert "public" in response["Cache-Control"]
    # Each language is served its own copy, at one query a page, however they alternate;
    # the cookie decides the same way the header does.
    cookie_reader = Client()
    cookie_reader.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"
    for reader, header, language in [
        (client, "en", "en"),
        (client, "fr", "fr"),
        (cookie_reader, "en", "fr"),
        (client, "en", "en"),
    ]:
        with CaptureQueriesContext(connection) as queries:
            page = reader.get(url, HTTP_ACCEPT_LANGUAGE=header).content.decode()
        assert _html_tag(page) == f'<html lang="{language}" dir="ltr">'
        assert len(queries) == 1
    assert len([key for key in kept_pages._kept_pages if key not in before]) == 2


@pytest.mark.parametrize(
    ("code", "direction"),
    [
        ("en", "ltr"),
        ("fr", "ltr"),
        ("pt-br", "ltr"),
        ("ar", "rtl"),
        ("he", "rtl"),
        ("fa", "rtl"),
        ("ur", "rtl"),
        ("ar-EG", "rtl"),
        ("ps", "rtl"),
        ("xx", "ltr"),
        ("", "auto"),
        (None, "auto"),
    ],
)
def test_content_keeps_the_direction_of_its_own_language(code: str | None, direction: str) -> None:
    assert text_direction(code) == direction
