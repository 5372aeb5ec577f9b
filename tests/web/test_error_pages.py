"""The site's own error pages (templates/404.html, 403.html, 400.html, 500.html): in the
visitor's language, with ``<html lang dir>`` right; 500 and 400 without a context (Django
renders them so), without the database.

French and Arabic here are pseudo-translations (tests/languages.py): each message comes
back as ``⟦message⟧``, which shows it went through gettext in that language.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template import loader
from django.test import Client
from django.utils import translation

from tests.languages import pseudo_translations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pseudo(monkeypatch: pytest.MonkeyPatch) -> None:
    pseudo_translations(monkeypatch, "fr", "ar")


def test_a_missing_page_answers_in_french(client: Client) -> None:
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="fr")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="fr" dir="ltr">' in page
    assert "<title>⟦Page not found⟧ — Undersigned</title>" in page
    assert "<h1>⟦Page not found⟧</h1>" in page
    assert 'aria-current="true">Français</button>' in page  # the switcher, as on every page
    assert "Not Found" not in page


def test_a_missing_page_answers_in_arabic_right_to_left(client: Client) -> None:
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "<h1>⟦Page not found⟧</h1>" in page


@pytest.mark.urls("tests.web.fault_urls")
def test_a_fault_of_ours_answers_500_in_french(caplog: pytest.LogCaptureFixture) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/test-fail/", HTTP_ACCEPT_LANGUAGE="fr")
    page = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="fr" dir="ltr">' in page
    assert "<h1>⟦Something went wrong⟧</h1>" in page
    assert "Server Error" not in page
    assert [r.levelname for r in caplog.records if r.name == "django.request"] == ["ERROR"]


@pytest.mark.parametrize("name", ["500.html", "400.html"])
def test_the_pages_django_renders_without_a_context_need_no_database(name: str, django_assert_num_queries: Any) -> None:
    with translation.override("ar"), django_assert_num_queries(0):
        page = loader.get_template(name).render()
    assert '<html lang="ar" dir="rtl">' in page
    assert "⟦" in page.split("<h1>", 1)[1]
