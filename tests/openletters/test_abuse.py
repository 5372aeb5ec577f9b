"""The endorsement form's defences: a rate limit per address (429), the honeypot, the
organiser's proof-of-work switch, and a limit on guessing confirmation codes."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.openletters.conftest import endorse
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import moderation


def test_a_burst_from_one_address_is_limited_with_429(client: Client, open_letter: OpenLetter, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "endorse": "5/10m"}
    for number in range(5):
        response = endorse(client, open_letter, email=f"person{number}@example.org")
        assert response.status_code == 302
    response = endorse(client, open_letter, email="person5@example.org", name="Sixth Person")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "please wait" in html
    assert 'value="Sixth Person"' in html  # nothing typed is lost
    assert Endorsement.objects.count() == 5


def test_one_email_cannot_be_flooded_with_confirmations(client: Client, open_letter: OpenLetter, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "endorse": "3/10m"}
    other = Client(REMOTE_ADDR="192.0.2.7")
    for browser in (client, other, client):
        assert endorse(browser, open_letter, email="Jane.Doe+x@gmail.com").status_code == 302
    # From a fourth address, but the same (normalised) inbox.
    assert endorse(Client(REMOTE_ADDR="192.0.2.8"), open_letter, email="janedoe@gmail.com").status_code == 429


def test_the_honeypot_catches_a_naive_bot(client: Client, open_letter: OpenLetter) -> None:
    response = endorse(client, open_letter, homepage="http://spam.example")
    assert response.status_code == 400
    assert "hidden anti-spam field was filled in" in response.content.decode()
    assert not Endorsement.objects.exists()


def test_the_form_renders_the_guard_fields(client: Client, open_letter: OpenLetter) -> None:
    html = client.get(reverse("openletters:endorse", args=[open_letter.slug])).content.decode()
    assert 'name="homepage"' in html
    assert 'name="form_started"' in html
    assert "altcha-widget" not in html


def test_proof_of_work_when_organisers_switch_it_on(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    moderation.set_pow_required(letter=open_letter, required=True, actor=organiser)
    html = client.get(reverse("openletters:endorse", args=[open_letter.slug])).content.decode()
    assert "<altcha-widget" in html
    response = endorse(client, open_letter)
    assert response.status_code == 400
    assert "The anti-spam check did not finish" in response.content.decode()
    assert not Endorsement.objects.exists()


def test_guessing_codes_is_limited(client: Client, open_letter: OpenLetter, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "endorse": "3/10m"}
    url = reverse("openletters:confirm_code", args=[open_letter.slug])
    statuses = [client.post(url, {"email": "a@example.org", "code": "ABCDEFGH"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
