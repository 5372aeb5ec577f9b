"""Every form shown again with errors answers 400, with the messages and what was typed."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import Site

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_the_composer(client: Client, site: Site) -> None:
    url = reverse("public:compose", args=[site.campaign.slug])
    response = client.post(
        url, {"action": "continue", "name": "Ana Ruiz", "email": "ana.ruiz@", "subject": "Keep it open", "body": ""}
    )
    assert response.status_code == 400
    page = text(response)
    assert 'value="Ana Ruiz"' in page
    assert 'value="ana.ruiz@"' in page
    assert "Error:</strong> Enter an email address like name@example.org." in page


def test_the_endorsement_form(client: Client, site: Site) -> None:
    url = reverse("openletters:endorse", args=[site.open_letter.slug])
    response = client.post(url, {"kind": "person", "name": "Jana Dvořák", "country": "CZ", "email": "jana@"})
    assert response.status_code == 400
    page = text(response)
    assert 'value="Jana Dvořák"' in page
    assert "Error:</strong> Enter an email address like name@example.org." in page


def test_the_comment_form(client: Client, site: Site) -> None:
    url = reverse("public:discussion", args=[site.discussion.pk])
    response = client.post(url, {"name": "Tomás Ferreira", "email": "tomas@example.pt", "body": ""})
    assert response.status_code == 400
    page = text(response)
    assert 'value="Tomás Ferreira"' in page
    assert "This field is required." in page


def test_the_report_form(client: Client, site: Site) -> None:
    url = reverse("public:comment_report", args=[site.discussion.pk, site.comment.pk])
    response = client.post(url, {"reason": "Spam " * 200})
    assert response.status_code == 400
    assert "Error:</strong> The reason is too long: 999 characters, the limit is 500." in text(response)


def test_confirming_with_a_code(client: Client, site: Site) -> None:
    url = reverse("openletters:confirm_code", args=[site.open_letter.slug])
    response = client.post(url, {"email": "jan@example.cz", "code": "AAAA2222"})
    assert response.status_code == 400
    page = text(response)
    assert 'value="jan@example.cz"' in page
    assert "This code does not match that email address." in page


def test_the_sender_address_and_the_updates_box(client: Client, site: Site) -> None:
    site.letter.sender_address = ""  # the form shows only while the letter has no address
    site.letter.save()
    address = client.post(reverse("public:letter_address", args=[site.letter_link]), {"postal_address": ""})
    assert address.status_code == 400
    assert "A posted letter needs a sender's address." in text(address)
    thanks = client.post(reverse("public:thanks", args=[site.letter_link]), {})
    assert thanks.status_code == 400
    assert "Tick the box if you would like updates" in text(thanks)


def test_the_dashboard_forms(client: Client, site: Site) -> None:
    client.force_login(site.organiser)
    printing = client.post(reverse("dashboard:print", args=[site.campaign.slug]), {"paper": "a3"})
    assert printing.status_code == 400
    assert "Error:</strong> Choose A4 or US Letter." in text(printing)
    hide = reverse("dashboard:endorsement_hide", args=[site.open_letter.slug, site.endorsement.pk])
    hidden = client.post(hide, {"reason": "", "view": "confirmed"})
    assert hidden.status_code == 400
    page = text(hidden)
    assert f'<p class="field-error" id="reason-{site.endorsement.pk}-error"><strong>Error:</strong> Choose' in page
    site.endorsement.refresh_from_db()
    assert site.endorsement.hidden is False
    act = client.post(reverse("dashboard:moderation_act", args=[site.comment.pk]), {"action": "hide", "reason": ""})
    assert act.status_code == 400


def test_forms_we_did_not_write(client: Client, site: Site) -> None:
    """allauth's sign-in and the admin's answer a rejected form with 400 too (core.http.FormErrorsMiddleware)."""
    login = client.post(reverse("account_login"), {"login": "mina@example.org", "password": "wrong"})
    assert login.status_code == 400
    assert 'value="mina@example.org"' in text(login)
    admin = client.post(reverse("admin:login"), {"username": "organiser", "password": "wrong"})
    assert admin.status_code == 400
    assert "Please enter the correct username and password" in text(admin)


def test_the_recipient_form(client: Client, site: Site) -> None:
    client.force_login(site.organiser)
    url = reverse("dashboard:recipient_new", args=[site.campaign.organisation.slug])
    response = client.post(url, {"name": "Máire O’Dwyer", "email": "maire@", "country": "IE"})
    assert response.status_code == 400
    page = text(response)
    assert 'value="Máire O’Dwyer"' in page
    assert 'value="maire@"' in page
    assert 'Error:</strong> email "maire@" is not a valid email address' in page


def test_the_recipient_group_form(client: Client, site: Site) -> None:
    client.force_login(site.organiser)
    url = reverse("dashboard:recipient_groups", args=[site.campaign.organisation.slug])
    response = client.post(url, {"name": "", "decision_date": "24 April"})
    assert response.status_code == 400
    page = text(response)
    assert 'value="24 April"' in page
    assert "Error:</strong> Enter a date such as 2027-04-24." in page
