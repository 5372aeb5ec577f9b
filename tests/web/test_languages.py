"""Every page renders in every shipped language, with the right ``<html lang dir>``.

The walk takes every URL pattern from the resolver, filled by the realistic ``site``
(tests/web/conftest.py), as the organiser and as a visitor, in English, then in every
other language of ``settings.LANGUAGES`` (French, Spanish, German left to right, Arabic
right to left): each page answers as it does in English, and every HTML page says its
language and direction, the site's error pages too (tests/web/test_error_pages.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.translation import get_language_info

from .conftest import Site, all_routes

pytestmark = pytest.mark.django_db

HTML_TAG = re.compile(r"<html[^>]*>")


def pages(client: Client, site: Site, language: str) -> Iterator[tuple[str, Any]]:
    """Every page but Django's admin, by URL name, asked for in ``language`` (also tests/web/test_untranslated.py)."""
    for route in all_routes():
        if route.name.startswith("admin:"):
            continue  # Django's own admin templates
        url = reverse(route.name, kwargs=site.kwargs_for(route))
        yield route.name, client.get(url, HTTP_ACCEPT_LANGUAGE=language)


def _walk(client: Client, site: Site, language: str) -> dict[str, tuple[int, str | None]]:
    seen: dict[str, tuple[int, str | None]] = {}
    for name, response in pages(client, site, language):
        tag = None
        if not response.streaming and response.get("Content-Type", "").startswith("text/html"):
            found = HTML_TAG.search(response.content.decode())
            tag = found.group(0) if found else None
        seen[name] = (response.status_code, tag)  # signed links differ between walks
    return seen


@pytest.mark.parametrize("signed_in", [True, False], ids=["organiser", "visitor"])
def test_every_page_answers_in_every_language_as_in_english(client: Client, site: Site, signed_in: bool) -> None:
    if signed_in:
        client.force_login(site.organiser)
    english = _walk(client, site, "en")
    documents = [name for name, (status, tag) in english.items() if tag is not None and status == 200]
    assert len(documents) > (40 if signed_in else 20)
    for language, _name in settings.LANGUAGES[1:]:
        direction = "rtl" if get_language_info(language)["bidi"] else "ltr"
        other = _walk(client, site, language)
        assert {name: status for name, (status, _tag) in other.items()} == {
            name: status for name, (status, _tag) in english.items()
        }, language
        wrong = {
            name: tag
            for name, (status, tag) in other.items()
            # Every HTML page, its error pages (404.html, 403.html) too.
            if tag is not None and f'lang="{language}" dir="{direction}"' not in tag
        }
        assert not wrong, "\n".join(f"{k}: {v}" for k, v in wrong.items())


def test_admin_pages_answer_in_arabic(client: Client, site: Any) -> None:
    client.force_login(site.organiser)
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 200
    assert 'dir="rtl"' in HTML_TAG.search(response.content.decode()).group(0)  # type: ignore[union-attr]


def test_a_missing_page_speaks_the_visitor_s_language(client: Client) -> None:
    """The site's 404.html, with the shipped catalogues (tests/web/test_error_pages.py has the rest)."""
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert HTML_TAG.search(page).group(0) == '<html lang="fr" dir="ltr">'  # type: ignore[union-attr]
    assert "<h1>Page introuvable</h1>" in page  # our catalogue's wording, not Django's
    assert "Vos données" in page  # the site's layout, its footer in French
