"""The composer behind the shared abuse layer: honeypot, minimum fill time, rate limit."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.core.test_abuse import solve_pow
from tests.factories import TEMPLATE_BODY
from undersigned.core import abuse
from undersigned.letters.models import Letter
from undersigned.supporters.models import Supporter

pytestmark = pytest.mark.django_db

_INPUT = re.compile(r"<input\b([^>]*)>")
_TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', re.S)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def _url(campaign: Any) -> str:
    return reverse("public:compose", args=[campaign.slug])


def _form_fields(page: str) -> dict[str, str]:
    """Every field of the composer as a browser would send it untouched."""
    form = page.split('class="composer"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, str] = {}
    for raw in _INPUT.findall(form):
        attrs = dict(_ATTR.findall(raw))
        if "name" in attrs:
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    for name, text in _TEXTAREA.findall(form):
        fields[name] = unescape(text)
    fields["country"] = "GB"
    return fields


def _as_a_person(page: str, n: int = 0) -> dict[str, str]:
    data = _form_fields(page)
    data.update(
        name="Ana Ruiz",
        email=f"ana.ruiz+{n}@example.net",
        town="Wendmouth",
        body=TEMPLATE_BODY + f"\n\nMy son walks this path to school every morning ({n}).",
        action="continue",
    )
    return data


def test_the_composer_carries_the_guard_fields_and_a_person_gets_through(client: Client, campaign: Any) -> None:
    page = client.get(_url(campaign)).content.decode()
    assert 'name="homepage"' in page
    assert 'tabindex="-1"' in page
    assert 'aria-hidden="true"' in page
    assert abuse._started_at(_form_fields(page)["form_started"]) is not None
    response = client.post(_url(campaign), _as_a_person(page))
    assert response.status_code == 302
    assert Letter.objects.count() == 1


def test_the_honeypot_catches_a_naive_bot_and_nothing_is_stored(client: Client, campaign: Any) -> None:
    page = client.get(_url(campaign)).content.decode()
    # A naive bot fills in every text field it finds, the hidden trap included.
    data = {
        name: (value or "http://cheap-pills.example")
        for name, value in _form_fields(page).items()
        if name not in ("csrfmiddlewaretoken", "submission_key", "form_started")
    }
    data.update(
        csrfmiddlewaretoken=_form_fields(page)["csrfmiddlewaretoken"],
        submission_key=_form_fields(page)["submission_key"],
        form_started=_form_fields(page)["form_started"],
        email="bot@spam.example",
        action="continue",
    )
    response = client.post(_url(campaign), data)
    assert response.status_code == 400
    assert "hidden anti-spam field was filled in" in response.content.decode()
    assert Letter.objects.count() == 0
    assert Supporter.objects.count() == 0


@override_settings(FORM_MIN_FILL_SECONDS=3)
def test_a_letter_sent_faster_than_a_person_can_write_is_refused_with_what_was_typed(
    client: Client, campaign: Any
) -> None:
    page = client.get(_url(campaign)).content.decode()
    response = client.post(_url(campaign), _as_a_person(page))
    html = response.content.decode()
    assert response.status_code == 400
    assert "quicker than a person can fill this form" in html
    assert 'value="Ana Ruiz"' in html
    assert Letter.objects.count() == 0
    later = {**_as_a_person(page), "form_started": abuse.started_token(seconds_ago=60)}
    assert client.post(_url(campaign), later).status_code == 302


def test_previews_never_count_towards_the_limit(client: Client, campaign: Any) -> None:
    page = client.get(_url(campaign)).content.decode()
    with override_settings(RATE_LIMITS={"compose": "2/10m"}):
        for _ in range(5):
            preview = client.post(_url(campaign), {**_as_a_person(page), "action": "preview"})
            assert preview.status_code == 200
        assert client.post(_url(campaign), _as_a_person(page, 1)).status_code == 302


def test_a_burst_of_letters_gets_429_with_a_human_message_and_keeps_what_was_typed(
    client: Client, campaign: Any
) -> None:
    page = client.get(_url(campaign)).content.decode()
    with override_settings(RATE_LIMITS={"compose": "3/10m"}):
        for n in range(3):
            fresh = client.get(_url(campaign)).content.decode()
            assert client.post(_url(campaign), _as_a_person(fresh, n)).status_code == 302
        response = client.post(_url(campaign), _as_a_person(page, 99))
    html = response.content.decode()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "please wait" in html
    assert "Nothing you typed is lost." in html
    assert 'value="ana.ruiz+99@example.net"' in html
    assert "My son walks this path to school every morning (99)." in html
    assert Letter.objects.count() == 3


def test_an_organiser_switches_on_the_proof_of_work_during_an_attack(client: Client, campaign: Any) -> None:
    campaign.pow_required = True
    campaign.save()
    page = client.get(_url(campaign)).content.decode()
    assert "<altcha-widget" in page
    assert "needs JavaScript just now" in page  # said plainly to people without it

    unsolved = client.post(_url(campaign), _as_a_person(page))
    assert "anti-spam check did not finish" in unsolved.content.decode()
    assert not Letter.objects.exists()

    solved = client.post(_url(campaign), {**_as_a_person(page), "altcha": solve_pow(client)})
    assert solved.status_code == 302
    assert Letter.objects.count() == 1

    campaign.pow_required = False
    campaign.save()
    assert "<altcha-widget" not in client.get(_url(campaign)).content.decode()
