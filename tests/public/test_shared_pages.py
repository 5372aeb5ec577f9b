"""Pages the same for every visitor say so to caches in front; nothing per visitor is in them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.models import Campaign

SHARED = "public, max-age=0, s-maxage=5"
PRIVATE = "private, max-age=0"


def shared_urls(campaign: Any, organisation: Any) -> list[str]:
    letter = make_open_letter(organisation)
    return [
        reverse("public:home"),
        reverse("public:campaign", args=[campaign.slug]),
        reverse("openletters:index"),
        reverse("openletters:letter", args=[letter.slug]),
        reverse("openletters:letter", args=[letter.slug]) + "?country=IE",
        reverse("openletters:versions", args=[letter.slug]),
    ]


def vary(response: Any) -> set[str]:
    return {item.strip() for item in response["Vary"].split(",")}


@pytest.mark.django_db
def test_a_visitor_without_a_session_gets_the_page_every_visitor_gets(campaign: Any, organisation: Any) -> None:
    for url in shared_urls(campaign, organisation):
        first, second = Client().get(url), Client().get(url, headers={"cookie": "csrftoken=abc; _pk_id=42"})
        assert (first.status_code, first["Cache-Control"]) == (200, SHARED), url
        assert vary(first) == {"Accept-Language", "Cookie"}, url
        assert first.cookies == {}, url
        # Byte for byte the same for two visitors: no nonce, token or anything of theirs.
        assert first.content == second.content, url
        assert "nonce" not in first.content.decode(), url
        assert "'nonce-" not in first["Content-Security-Policy"], url
        assert "csrfmiddlewaretoken" not in first.content.decode(), url


@pytest.mark.django_db
def test_a_signed_in_visitor_gets_a_private_page_with_a_fresh_nonce(
    campaign: Any, organisation: Any, organiser: Any
) -> None:
    staff = Client()
    staff.force_login(organiser)
    for url in shared_urls(campaign, organisation):
        response = staff.get(url)
        assert (response.status_code, response["Cache-Control"]) == (200, PRIVATE), url
        assert "Cookie" in vary(response), url
        (nonce,) = set(re.findall(r'nonce="([^"]+)"', response.content.decode()))
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"], url
        assert "Dashboard" in response.content.decode(), url


@pytest.mark.django_db
def test_pages_with_a_form_or_a_visitor_s_own_data_are_never_shared(campaign: Any) -> None:
    composer = Client().get(reverse("public:compose", args=[campaign.slug]))
    assert composer.status_code == 200
    assert "public" not in composer.get("Cache-Control", "")
    missing = Client().get(reverse("public:campaign", args=["no-such-campaign"]))
    assert missing.status_code == 404
    assert "public" not in missing.get("Cache-Control", "")


@pytest.mark.django_db
def test_the_counter_in_a_shared_page_is_read_fresh_by_the_origin(campaign: Any) -> None:
    url = reverse("public:campaign", args=[campaign.slug])
    assert 'data-testid="letters-sent">0</strong>' in Client().get(url).content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=1234)
    assert 'data-testid="letters-sent">1,234</strong> letters sent' in Client().get(url).content.decode()


@pytest.mark.django_db
@override_settings(PUBLIC_CACHE_SECONDS=0)
def test_with_the_cache_time_set_to_zero_nothing_is_shared(campaign: Any) -> None:
    response = Client().get(reverse("public:campaign", args=[campaign.slug]))
    assert response["Cache-Control"] == PRIVATE
    (nonce,) = set(re.findall(r'nonce="([^"]+)"', response.content.decode()))
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
