"""A body over Django's limits gets a page a person understands (413) and one WARNING line."""

from __future__ import annotations

import html
import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from undersigned.letters.models import Letter

from .conftest import Site

pytestmark = pytest.mark.django_db


def _assert_one_warning(caplog: Any, name: str) -> None:
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in records] == [(name, "WARNING")]
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_a_letter_larger_than_the_limit(client: Client, site: Site, caplog: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    caplog.set_level(logging.DEBUG)
    url = reverse("public:compose", args=[site.campaign.slug])
    response = client.post(url, {"action": "continue", "name": "Ana Ruiz", "body": "Please. " * 20_000})
    assert response.status_code == 413
    page = html.unescape(response.content.decode())
    assert "<h1>That was too much to send at once</h1>" in page
    assert "What you sent is larger than the 97.7\xa0KB we take in one go, so we did not read it" in page
    assert "a letter is at most 20,000 characters" in page
    assert response["Connection"] == "close"
    assert Letter.objects.count() == 1  # the site's own letter only
    _assert_one_warning(caplog, "django.security.RequestDataTooBig")
    assert caplog.records[-1].getMessage() == (
        f"Request refused (Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.): /c/{site.campaign.slug}/write/"
    )


def test_a_plain_body_larger_than_the_limit(client: Client, site: Site, caplog: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    caplog.set_level(logging.DEBUG)
    url = reverse("openletters:endorse", args=[site.open_letter.slug])
    body = "name=" + "x" * 2000
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    _assert_one_warning(caplog, "django.security.RequestDataTooBig")


def test_too_many_fields(client: Client, site: Site, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    url = reverse("public:letter_send", args=[site.letter_link])
    response = client.post(url, {f"field{n}": "1" for n in range(1200)})
    assert response.status_code == 413
    assert "far more fields than any of our forms has" in response.content.decode()
    _assert_one_warning(caplog, "django.security.TooManyFieldsSent")
    assert site.letter_link not in caplog.text  # the path is redacted as in every log line


def test_a_body_within_the_limits_reaches_the_view(client: Client, site: Site) -> None:
    url = reverse("public:compose", args=[site.campaign.slug])
    response = client.post(url, {"action": "continue", "name": "Ana Ruiz", "body": "Please. " * 3000})
    assert response.status_code == 400  # the letter is too long for the form: the form again
    assert "Error:</strong>" in response.content.decode()
