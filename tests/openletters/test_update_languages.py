"""An update in several languages: the compose page adds, edits and removes versions
over HTTP (bad input kept beside its field, the same limits and header checks as the
main text), the preview shows each version with how many people get it, and through a
real worker into a real SMTP server (aiosmtpd) a supporter who wrote in French gets the
French subject, text and footer while one who wrote in English gets the English ones.
A member of another organisation changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import LetterFactory, MembershipFactory, OrganisationFactory, SupporterFactory, UserFactory
from tests.openletters.conftest import endorse
from undersigned.core.models import ActionLog
from undersigned.openletters import queries as openletter_queries
from undersigned.openletters.models import UPDATE_BODY_MAX_CHARS, Update, UpdateTranslation
from undersigned.openletters.services import updates as update_services
from undersigned.organisations.models import Role
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentPurpose, Supporter


def _agree(supporter: Supporter, campaign: Any) -> None:
    supporter_services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.CAMPAIGN_UPDATES,
        granted=True,
        wording="You may send me updates.",
        source="test",
        campaign=campaign,
    )


def _organiser(organisation: Any, role: str = Role.ORGANISER) -> Client:
    user = UserFactory()
    MembershipFactory(organisation=organisation, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _post(**fields: str) -> dict[str, str]:
    """The compose form as the page posts it: the main text and its versions' formset."""
    data = {
        "subject": "The path stays open",
        "body": "The council **listened**.",
        "language": "en",
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "4",
    }
    data.update(fields)
    return data


def _writer(campaign: Any, email: str, language: str) -> Supporter:
    """A supporter who agreed, and wrote to the campaign while the site spoke ``language``."""
    supporter = SupporterFactory(email=email, name=email.split("@", maxsplit=1)[0].title())
    LetterFactory(campaign=campaign, supporter=supporter, language=language)
    _agree(supporter, campaign)
    return supporter


@pytest.mark.django_db
def test_compose_a_french_version_over_http_bad_input_kept(campaign: Any) -> None:
    client = _organiser(campaign.organisation)
    new_url = reverse("dashboard:campaign_update_new", args=[campaign.slug])
    page = client.get(new_url)
    assert page.status_code == 200
    assert 'name="versions-0-language"' in page.text
    assert '<option value="fr">' in page.text

    # A header injection in the version's subject, an empty text: kept, shown beside the fields.
    injected = "Bonjour\r\nBcc: tout-le-monde@example.org"
    response = client.post(new_url, _post(**{"versions-0-language": "fr", "versions-0-subject": injected}))
    assert response.status_code == 400
    version = response.context["versions"].forms[0]
    assert version.errors["subject"] == ["Keep the subject on one line."]
    assert version.errors["body"] == ["Write the update."]
    assert 'id="id_versions-0-subject_error"' in response.text
    assert "Bcc: tout-le-monde@example.org" in response.text  # what was typed, kept
    assert 'id="versions-error-summary"' in response.text
    # Too long, in the main language, in an unknown one: refused, what was typed kept.
    huge = "x" * (UPDATE_BODY_MAX_CHARS + 1)
    for language, expected in (("fr", "body"), ("en", "language"), ("xx", "language")):
        response = client.post(
            new_url,
            _post(
                **{
                    "versions-0-language": language,
                    "versions-0-subject": "Le chemin reste ouvert",
                    "versions-0-body": huge if expected == "body" else "Le conseil a **écouté**.",
                }
            ),
        )
        assert response.status_code == 400, language
        assert set(response.context["versions"].forms[0].errors) == {expected}, language
        assert response.context["versions"].forms[0]["subject"].value() == "Le chemin reste ouvert"
    # The same language twice.
    twice = _post(
        **{
            "versions-TOTAL_FORMS": "2",
            **{
                f"versions-{n}-{name}": value
                for n in (0, 1)
                for name, value in (("language", "fr"), ("subject", "S"), ("body", "B"))
            },
        }
    )
    response = client.post(new_url, twice)
    assert response.status_code == 400
    assert response.context["versions"].forms[1].errors["language"] == ["There is a version in this language already."]
    # A forged form count builds no more forms than there are languages.
    response = client.post(new_url, _post(**{"versions-TOTAL_FORMS": "1000"}))
    assert response.status_code == 400
    assert not Update.objects.exists()

    # A good draft with a French version; the blank extra version is ignored.
    response = client.post(
        new_url,
        _post(
            **{
                "versions-TOTAL_FORMS": "2",
                "versions-0-language": "fr",
                "versions-0-subject": "Le chemin reste ouvert",
                "versions-0-body": "Le conseil a **écouté**.",
            }
        ),
    )
    assert response.status_code == 302
    update = Update.objects.get()
    assert {(t.language, t.subject, t.body) for t in update.translations.all()} == {
        ("fr", "Le chemin reste ouvert", "Le conseil a **écouté**.")
    }
    assert ActionLog.objects.get(action="update.created").data == {"versions": ["fr"]}  # codes, no text

    # Edit again: the French version is there, with a box to remove it and a blank one to add.
    edit_url = reverse("dashboard:campaign_update_edit", args=[campaign.slug, update.pk])
    edit = client.get(edit_url)
    versions = edit.context["versions"]
    assert [form["language"].value() for form in versions.forms] == ["fr", None]
    assert 'name="versions-0-DELETE"' in edit.text
    assert "Le conseil a **écouté**." in edit.text
    # Change the French, add German.
    client.post(
        edit_url,
        _post(
            **{
                "versions-TOTAL_FORMS": "2",
                "versions-INITIAL_FORMS": "1",
                "versions-0-language": "fr",
                "versions-0-subject": "Le chemin est sauvé",
                "versions-0-body": "Merci.",
                "versions-1-language": "de",
                "versions-1-subject": "Der Weg bleibt offen",
                "versions-1-body": "Danke.",
            }
        ),
    )
    assert dict(update.translations.values_list("language", "subject")) == {
        "fr": "Le chemin est sauvé",
        "de": "Der Weg bleibt offen",
    }
    # Remove the French (an invalid text in a removed version does not matter).
    client.post(
        edit_url,
        _post(
            **{
                "versions-TOTAL_FORMS": "2",
                "versions-INITIAL_FORMS": "2",
                "versions-0-language": "de",
                "versions-0-subject": "Der Weg bleibt offen",
                "versions-0-body": "Danke.",
                "versions-1-language": "fr",
                "versions-1-subject": "Le chemin est sauvé",
                "versions-1-body": "",
                "versions-1-DELETE": "on",
            }
        ),
    )
    assert list(update.translations.values_list("language", flat=True)) == ["de"]


@pytest.mark.django_db
def test_the_preview_shows_each_version_and_how_many_get_it(campaign: Any) -> None:
    _writer(campaign, "amelie@example.net", "fr")
    _writer(campaign, "bruno@example.net", "fr-ca")  # a regional code: the French version
    _writer(campaign, "carla@example.net", "en")
    _writer(campaign, "dieter@example.net", "es")  # no Spanish version: the main one
    older = _writer(campaign, "eve@example.net", "en")
    LetterFactory(campaign=campaign, supporter=older, language="fr")  # her latest letter: French
    update = update_services.save_draft(
        actor=None,
        campaign=campaign,
        subject="The path stays open",
        body="The council **listened**.",
        language="en",
        countries=[],
        translations={
            "fr": ("Le chemin reste ouvert", "Le conseil a **écouté**."),
            "de": ("Der Weg", "Danke."),
            "ar": ("الطريق", "شكرا."),
        },
    )
    client = _organiser(campaign.organisation)
    page = client.get(reverse("dashboard:campaign_update", args=[campaign.slug, update.pk]))
    assert page.status_code == 200
    assert [(language, count) for language, _name, count, _mail in page.context["mails"]] == [
        ("en", 2),
        ("ar", 0),
        ("de", 0),
        ("fr", 3),
    ]
    assert "This update will reach 5 people." in page.text
    assert "3 people will get this version." in page.text
    assert "<strong>écouté</strong>" in page.text
    assert "Le chemin reste ouvert" in page.text
    # The French version's footer is in French, the organiser's page in English.
    assert "Ne plus recevoir de nouvelles de cette organisation" in page.text
    assert "Receive no more updates from this organisation" in page.text
    assert 'lang="fr" dir="ltr"' in page.text
    assert 'lang="ar" dir="rtl"' in page.text  # the Arabic version reads right to left


@pytest.mark.django_db
def test_an_endorsers_language_is_that_of_their_endorsement(open_letter: Any) -> None:
    endorse(Client(HTTP_ACCEPT_LANGUAGE="fr"), open_letter, email="Siobhan@Example.ie")
    endorse(Client(HTTP_ACCEPT_LANGUAGE="de"), open_letter, email="chen@example.org", name="Chen Wei")
    french = SupporterFactory(email="siobhan@example.ie")
    german = SupporterFactory(email="chen@example.org")
    nobody = SupporterFactory(email="never@example.org")
    people = [(s.pk, s.email) for s in (french, german, nobody)]
    assert openletter_queries.supporter_languages(supporters=people, open_letter_id=open_letter.pk) == {
        french.pk: "fr",
        german.pk: "de",
    }


@pytest.mark.django_db
def test_another_organisations_member_changes_no_version(campaign: Any) -> None:
    update = update_services.save_draft(
        actor=None,
        campaign=campaign,
        subject="S",
        body="B",
        language="en",
        countries=[],
        translations={"fr": ("Sujet", "Texte")},
    )
    for client in (_organiser(OrganisationFactory()), _organiser(campaign.organisation, Role.MODERATOR)):
        edit_url = reverse("dashboard:campaign_update_edit", args=[campaign.slug, update.pk])
        assert client.get(edit_url).status_code == 404
        posted = _post(
            **{
                "versions-INITIAL_FORMS": "1",
                "versions-0-language": "fr",
                "versions-0-subject": "Piraté",
                "versions-0-body": "x",
                "versions-0-DELETE": "on",
            }
        )
        assert client.post(edit_url, posted).status_code == 404
        preview_url = reverse("dashboard:campaign_update", args=[campaign.slug, update.pk])
        assert client.get(preview_url).status_code == 404
    assert list(UpdateTranslation.objects.values_list("language", "subject")) == [("fr", "Sujet")]


@pytest.mark.django_db(transaction=True)
def test_each_supporter_gets_the_version_in_their_language_by_real_smtp(
    campaign: Any, smtp_sink: Any, run_worker: Any
) -> None:
    _writer(campaign, "amelie@example.net", "fr")
    _writer(campaign, "carla@example.net", "en")
    client = _organiser(campaign.organisation)
    client.post(
        reverse("dashboard:campaign_update_new", args=[campaign.slug]),
        _post(
            **{
                "body": "The council **listened**.\n\nThank you.",
                "versions-0-language": "fr",
                "versions-0-subject": "Le chemin reste ouvert",
                "versions-0-body": "Le conseil a **écouté**.\n\nMerci.",
            }
        ),
    )
    update = Update.objects.get()
    assert update_services.queue(update=update, actor=None)
    update_services.fan_out(update.pk)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)

    messages = {str(m["To"]): m for m in smtp_sink.parsed()}
    assert set(messages) == {"Amelie <amelie@example.net>", "Carla <carla@example.net>"}
    french, english = messages["Amelie <amelie@example.net>"], messages["Carla <carla@example.net>"]
    assert french["Subject"] == "Le chemin reste ouvert"
    assert english["Subject"] == "The path stays open"
    french_text = french.get_body(("plain",)).get_content()
    french_html = french.get_body(("html",)).get_content()
    assert "Le conseil a **écouté**." in french_text
    assert "Bonjour Amelie," in french_text
    assert "Vous recevez cette nouvelle de" in french_text
    assert "<strong>écouté</strong>" in french_html
    assert "Ne plus recevoir de nouvelles de cette organisation" in french_html
    assert '<html lang="fr" dir="ltr">' in french_html
    assert "listened" not in french_text
    english_text = english.get_body(("plain",)).get_content()
    english_html = english.get_body(("html",)).get_content()
    assert "The council **listened**." in english_text
    assert "Hello Carla," in english_text
    assert "Receive no more updates from this organisation" in english_html
    assert "écouté" not in english_text
    # Both carry the one-click unsubscribe, whatever their language.
    assert french["List-Unsubscribe-Post"] == english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
