"""The campaign editor's language tabs: an organiser adds a language, writes the letter
and the page's text in it, fixes what the form refuses, and removes it again; nobody of
another organisation reaches any of it. Plain links and forms, over the HTTP client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory
from undersigned.campaigns.models import Campaign, CampaignTranslation
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _tab(campaign: Any, language: str) -> str:
    return reverse("dashboard:campaign_language", args=[campaign.slug, language])


FRENCH = {
    "subject": "Gardez le chemin ouvert",
    "body": "Madame, Monsieur {{ recipient.name }},\r\n\r\nGardez-le ouvert.\r\n\r\n{{ supporter.name }}",
    "prompts": "Quand l'empruntez-vous ?\r\n\r\n",
    "summary": "Le conseil veut fermer le chemin.",
    "background": "Le **chemin** relie Eastfield à l'école.",
    "action": "save",
}


def test_add_write_and_remove_a_language(client_of: Client, campaign: Any) -> None:
    editor = client_of.get(reverse("dashboard:campaign_edit", args=[campaign.slug]))
    assert editor.status_code == 200
    assert 'aria-current="page" lang="en">English (en) <small>main</small></a>' in editor.text
    assert reverse("dashboard:campaign_languages", args=[campaign.slug]) in editor.text

    added = client_of.post(reverse("dashboard:campaign_languages", args=[campaign.slug]), {"language": "fr"})
    assert added.status_code == 302
    assert added["Location"] == _tab(campaign, "fr")

    # Not saved yet: the tab starts from the main language's text, to translate in place.
    fresh = client_of.get(_tab(campaign, "fr"))
    assert fresh.status_code == 200
    assert 'data-testid="not-saved"' in fresh.text
    assert "Please keep the riverside path open" in fresh.text
    assert not CampaignTranslation.objects.exists()

    saved = client_of.post(_tab(campaign, "fr"), FRENCH)
    assert saved.status_code == 302
    row = CampaignTranslation.objects.get(campaign=campaign)
    assert (row.language, row.subject, row.body, row.prompts, row.summary, row.background) == (
        "fr",
        "Gardez le chemin ouvert",
        "Madame, Monsieur {{ recipient.name }},\n\nGardez-le ouvert.\n\n{{ supporter.name }}",
        ["Quand l'empruntez-vous ?"],
        "Le conseil veut fermer le chemin.",
        "Le **chemin** relie Eastfield à l'école.",
    )
    page = client_of.get(_tab(campaign, "fr"))
    assert "The text in fr is saved." in page.text
    assert 'aria-current="page" lang="fr">French (fr)</a>' in page.text
    assert 'data-testid="remove-language"' in page.text
    assert "Gardez le chemin ouvert" in page.text
    # The main editor lists the tab too.
    assert _tab(campaign, "fr") in client_of.get(reverse("dashboard:campaign_edit", args=[campaign.slug])).text

    removed = client_of.post(_tab(campaign, "fr"), {"action": "remove"})
    assert removed.status_code == 302
    assert not CampaignTranslation.objects.exists()
    # A second click on Remove finds nothing to remove, and says nothing wrong.
    assert client_of.post(_tab(campaign, "fr"), {"action": "remove"}).status_code == 302


def test_bad_text_is_kept_beside_its_field(client_of: Client, campaign: Any) -> None:
    response = client_of.post(
        _tab(campaign, "fr"),
        {**FRENCH, "body": "Bonjour {{ recipient.nme }} <b>et</b> merci", "subject": ""},
    )

    assert response.status_code == 400
    assert "Bonjour {{ recipient.nme }} &lt;b&gt;et&lt;/b&gt; merci</textarea>" in response.text
    assert "Unknown placeholder {{ recipient.nme }}: did you mean {{ recipient.name }}?" in response.text
    assert 'id="id_subject_error"' in response.text
    assert 'id="id_body_error"' in response.text
    assert not CampaignTranslation.objects.exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("en", "en is the campaign&#x27;s main language: its text is on the first tab."),
        ("French", "Give a language code such as fr, de or pt-BR."),
        ("DE", "The campaign already has a tab for DE."),
        ("", "Give a language code, such as fr."),
    ],
)
def test_a_language_that_cannot_be_added_is_said_beside_the_field(
    client_of: Client, campaign: Any, code: str, message: str
) -> None:
    CampaignTranslation.objects.create(campaign=campaign, language="de", subject="Bitte", body="Text")

    response = client_of.post(reverse("dashboard:campaign_languages", args=[campaign.slug]), {"language": code})

    assert response.status_code == 400
    assert message in response.text
    if code:  # what was typed stays in the field
        assert f'value="{code}"' in response.text


def test_the_main_language_cannot_become_one_that_has_a_tab(client_of: Client, campaign: Any) -> None:
    CampaignTranslation.objects.create(campaign=campaign, language="fr", subject="Objet", body="Texte")
    page = client_of.get(reverse("dashboard:campaign_edit", args=[campaign.slug]))
    assert page.status_code == 200
    form = {
        "title": campaign.title,
        "slug": campaign.slug,
        "language": "fr",
        "subject": "Please",
        "body": "Text",
        "channels": ["email"],
        "min_uniqueness": "0",
        "action": "save",
    }

    response = client_of.post(reverse("dashboard:campaign_edit", args=[campaign.slug]), form)

    assert response.status_code == 400
    assert "The campaign has a tab for fr already." in response.text
    assert Campaign.objects.get(pk=campaign.pk).language == "en"


def test_the_main_language_s_tab_is_the_editor_and_a_code_in_capitals_finds_its_tab(
    client_of: Client, campaign: Any
) -> None:
    CampaignTranslation.objects.create(campaign=campaign, language="fr", subject="Objet", body="Texte")

    assert client_of.get(_tab(campaign, "en"))["Location"] == reverse("dashboard:campaign_edit", args=[campaign.slug])
    assert client_of.get(_tab(campaign, "FR"))["Location"] == _tab(campaign, "fr")
    assert client_of.get(_tab(campaign, "not a code")).status_code == 404


def test_another_organisation_reaches_no_language_tab(campaign: Any) -> None:
    CampaignTranslation.objects.create(campaign=campaign, language="fr", subject="Objet", body="Texte")
    other = UserFactory(username="b-owner")
    MembershipFactory(organisation=OrganisationFactory(slug="organisation-b"), user=other, role=Role.OWNER)
    client = Client()
    client.force_login(other)
    own_campaign = CampaignFactory(organisation=other.memberships.get().organisation)

    assert client.get(_tab(campaign, "fr")).status_code == 404
    assert client.post(_tab(campaign, "fr"), {"action": "remove"}).status_code == 404
    assert client.post(_tab(campaign, "de"), FRENCH).status_code == 404
    assert client.get(reverse("dashboard:campaign_languages", args=[campaign.slug])).status_code == 404
    assert (
        client.post(reverse("dashboard:campaign_languages", args=[campaign.slug]), {"language": "de"}).status_code
        == 404
    )
    assert list(CampaignTranslation.objects.values_list("language", flat=True)) == ["fr"]
    # Their own campaign's tabs open.
    assert client.get(_tab(own_campaign, "fr")).status_code == 200


def test_a_tab_s_fields_are_written_in_its_language_and_its_words_in_the_organiser_s(
    client_of: Client, campaign: Any
) -> None:
    # An Arabic tab on a French workspace: each text field reads right to left and is
    # marked Arabic; the labels stay French (the form itself claims no language); the
    # language's name inside a French sentence is written in lower case.
    page = client_of.get(_tab(campaign, "ar"), HTTP_ACCEPT_LANGUAGE="fr").text
    assert re.search(r'<input type="text" name="subject"[^>]* lang="ar" dir="rtl"', page)
    assert re.search(r'<textarea name="body"[^>]* lang="ar" dir="rtl"', page)
    assert '<form method="post" class="editor" novalidate>' in page
    assert "<h1>La campagne en arabe (ar)</h1>" in page
    french = client_of.get(_tab(campaign, "fr")).text
    assert re.search(r'<textarea name="background"[^>]* lang="fr" dir="ltr"', french)
