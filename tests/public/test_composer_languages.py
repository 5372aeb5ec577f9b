"""The composer in the campaign's languages: a supporter writing to a French-speaking
recipient starts from the French letter, may choose another, and the letter keeps the
language it was written in; the own-words meter compares with that language's template.
Over the HTTP client; the PDF's language is checked on what ``printable`` gives the renderer."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.campaigns.conftest import make_group_campaign
from tests.factories import TEMPLATE_BODY, CampaignFactory, RecipientFactory
from undersigned.campaigns.models import CampaignTranslation
from undersigned.delivery.channels.post import printable
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db

FRENCH_BODY = (
    "Madame, Monsieur {{ recipient.name }},\n\n"
    "J'habite à {{ supporter.town }} et je vous écris au sujet du projet de fermer le chemin.\n\n"
    "Veuillez agréer mes salutations distinguées,\n{{ supporter.name }}"
)


def _french(campaign: Any) -> CampaignTranslation:
    return CampaignTranslation.objects.create(
        campaign=campaign,
        language="fr",
        subject="Gardez le chemin ouvert",
        body=FRENCH_BODY,
        prompts=["Quand l'empruntez-vous ?"],
    )


@pytest.fixture
def french_campaign(organisation: Any) -> Any:
    """A campaign in English with a French translation, to one French-speaking recipient."""
    campaign = CampaignFactory(organisation=organisation, slug="gardez-le-chemin")
    campaign.recipients.update(language="fr")
    _french(campaign)
    return campaign


def _compose(campaign: Any, query: str = "") -> str:
    return reverse("public:compose", args=[campaign.slug]) + query


def _data(campaign: Any, **overrides: str) -> dict[str, str]:
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Camille Martin",
        "email": "camille@example.fr",
        "town": "Lyon",
        "country": "FR",
        "postal_address": "3 rue des Lilas\n69001 Lyon",
        "subject": "Gardez le chemin ouvert",
        "body": FRENCH_BODY,
        "text_language": "fr",
        "action": "continue",
    }
    data.update(overrides)
    return data


def _body_field(page: str) -> str:
    found = re.search(r'<textarea name="body"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert found, "no body field"
    return found.group(1)


def test_a_letter_to_a_french_recipient_starts_from_the_french_letter(client: Client, french_campaign: Any) -> None:
    page = client.get(_compose(french_campaign)).content.decode()

    assert _body_field(page).startswith("Madame, Monsieur {{ recipient.name }},")
    assert 'value="Gardez le chemin ouvert"' in page
    assert '<input type="hidden" name="text_language" value="fr"' in page
    assert '<option value="fr" lang="fr" selected>français — 1 recipient reads it</option>' in page
    assert '<option value="en" lang="en">English</option>' in page
    assert "Quand l&#x27;empruntez-vous ?" in page
    assert 'data-testid="languages-mixed"' not in page


def test_the_supporter_may_choose_another_language_without_scripts(client: Client, french_campaign: Any) -> None:
    page = client.get(_compose(french_campaign, "?text_language=en")).content.decode()

    assert _body_field(page).startswith("Dear {{ recipient.name }},")
    assert '<input type="hidden" name="text_language" value="en"' in page
    assert '<option value="en" lang="en" selected>English</option>' in page
    # A language the campaign has no text in: the default, the recipient's.
    other = client.get(_compose(french_campaign, "?text_language=de")).content.decode()
    assert '<input type="hidden" name="text_language" value="fr"' in other


def test_the_letter_keeps_its_language_and_own_words_count_against_its_template(
    client: Client, french_campaign: Any
) -> None:
    unchanged = client.post(_compose(french_campaign), _data(french_campaign))
    assert unchanged.status_code == 302
    letter = Letter.objects.get()
    assert (letter.text_language, letter.uniqueness) == ("fr", 0)

    # The same French text sent as if written from the English letter is all "own words".
    client.post(_compose(french_campaign), _data(french_campaign, text_language="en"))
    english = Letter.objects.exclude(pk=letter.pk).get()
    assert english.text_language == "en"
    assert english.uniqueness > 50

    # A code the campaign has no text in is stored as the main language.
    client.post(_compose(french_campaign), _data(french_campaign, text_language="xx"))
    assert Letter.objects.order_by("-pk")[0].text_language == "en"


def test_the_meter_and_the_minimum_use_the_chosen_language(client: Client, french_campaign: Any) -> None:
    french_campaign.min_uniqueness = 30
    french_campaign.save()

    preview = client.post(_compose(french_campaign), _data(french_campaign, action="preview")).content.decode()
    assert re.search(r'data-testid="uniqueness"><strong>0 %</strong> in your own words', preview)
    refused = client.post(_compose(french_campaign), _data(french_campaign))
    assert refused.status_code == 400
    assert "Your letter is 0 % in your own words; this campaign asks for at least 30 %." in refused.content.decode()
    assert not Letter.objects.exists()


def test_the_fresh_composer_in_each_language_is_kept_and_costs_one_query(client: Client, french_campaign: Any) -> None:
    client.get(_compose(french_campaign))
    client.get(_compose(french_campaign, "?text_language=en"))
    with CaptureQueriesContext(connection) as french:
        page = client.get(_compose(french_campaign)).content.decode()
    with CaptureQueriesContext(connection) as english:
        other = client.get(_compose(french_campaign, "?text_language=en")).content.decode()
    assert (len(french), len(english)) == (1, 1)
    assert _body_field(page).startswith("Madame")
    assert _body_field(other).startswith("Dear")


def test_recipients_of_different_languages_start_in_the_main_language_and_are_told(
    client: Client, organisation: Any
) -> None:
    french = RecipientFactory(organisation=organisation, name="Conseillère Élise Marchand", language="fr")
    english = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby", language="en")
    campaign = CampaignFactory(organisation=organisation, slug="two-languages", recipients=[french, english])
    _french(campaign)

    page = client.get(_compose(campaign)).content.decode()

    assert _body_field(page).startswith("Dear {{ recipient.name }},")
    assert 'data-testid="languages-mixed"' in page
    assert '<option value="en" lang="en" selected>English — 1 recipient reads it</option>' in page
    assert '<option value="fr" lang="fr">français — 1 recipient reads it</option>' in page


def test_a_routed_letter_offers_its_member_s_language(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    campaign.recipients.filter(country="FR").update(language="fr")
    _french(campaign)

    step = client.post(
        _compose(campaign), _data(campaign, action="preview", text_language="en", body=TEMPLATE_BODY)
    ).content.decode()

    found = re.search(r'<p data-testid="route-language"><a href="([^"]+)" lang="fr">([^<]+)</a></p>', step)
    assert found, "no offer of the member's language"
    assert found.group(1) == _compose(campaign, "?text_language=fr")
    assert found.group(2) == "Start from the letter in français, the language of this recipient"


def test_the_pdf_is_set_in_the_letter_s_language(client: Client, french_campaign: Any) -> None:
    client.post(_compose(french_campaign), _data(french_campaign))
    letter = Letter.objects.get()

    printed = printable(letter, french_campaign.recipients.get(), day=datetime.date(2031, 3, 5))

    assert printed.language == "fr"
    assert printed.date_text == "5 mars 2031"
