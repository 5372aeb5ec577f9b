"""A letter to recipients who read different languages, written once per language.

A campaign in English with a French translation goes to an English-reading councillor
and a French-reading mayor. The supporter writes both versions in the composer (over
the HTTP client, without scripts); each recipient then gets the version in their
language: in the email (a real SMTP server), the PDF (read back with pdftotext), the
send page, and the supporter's own letter page, export and erasure.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEMPLATE_BODY, CampaignFactory, RecipientFactory
from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import CampaignTranslation
from undersigned.delivery import digests, print_render
from undersigned.delivery.models import Delivery
from undersigned.delivery.sending import send_queued
from undersigned.delivery.services import delete_letters, record_delivery, request_post
from undersigned.letters import texts as letter_texts
from undersigned.letters.links import sign_token
from undersigned.letters.models import Letter, LetterText
from undersigned.privacy import personal_data, retention

pytestmark = pytest.mark.django_db

FRENCH_SUBJECT = "Gardez le chemin ouvert"
FRENCH_BODY = (
    "Madame, Monsieur {{ recipient.name }},\n\n"
    "J'habite à {{ supporter.town }} et je vous écris au sujet du projet de fermer le chemin.\n\n"
    "Veuillez agréer mes salutations distinguées,\n{{ supporter.name }}"
)
OWN_ENGLISH = TEMPLATE_BODY.replace("Yours sincerely", "My daughter walks it every morning.\n\nYours sincerely")
OWN_FRENCH = FRENCH_BODY.replace("Veuillez", "Ma fille l'emprunte chaque matin pour aller à l'école.\n\nVeuillez")


@pytest.fixture
def two_languages(organisation: Any) -> Any:
    """A campaign in English and French, to an English and a French reader."""
    english = RecipientFactory(organisation=organisation, name="Rowan Ashby", language="en")
    french = RecipientFactory(organisation=organisation, name="Claire Dubois", language="fr-BE")
    campaign = CampaignFactory(organisation=organisation, slug="le-chemin", recipients=[english, french])
    CampaignTranslation.objects.create(
        campaign=campaign, language="fr", subject=FRENCH_SUBJECT, body=FRENCH_BODY, prompts=["Quand l'empruntez-vous ?"]
    )
    return campaign


def _url(campaign: Any, query: str = "") -> str:
    return reverse("public:compose", args=[campaign.slug]) + query


def _data(**overrides: str) -> dict[str, str]:
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Camille Martin",
        "email": "camille@example.fr",
        "town": "Lyon",
        "country": "FR",
        "postal_address": "3 rue des Lilas\n69001 Lyon",
        "text_language": "en",
        "subject": "Please keep the riverside path open",
        "body": OWN_ENGLISH,
        "versions": "1",
        "subject__fr": FRENCH_SUBJECT,
        "body__fr": OWN_FRENCH,
        "action": "continue",
    }
    data.update(overrides)
    return data


def _textarea(page: str, name: str) -> tuple[str, str]:
    """(attributes, text) of the text area ``name``."""
    found = re.search(rf'<textarea name="{re.escape(name)}"([^>]*)>\n?(.*?)</textarea>', page, re.S)
    assert found, f"no {name} field"
    return found.group(1), found.group(2)


def _save(client: Client, campaign: Any, **overrides: str) -> Letter:
    response = client.post(_url(campaign), _data(**overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Letter.objects.get()


def _link(letter: Letter) -> str:
    return sign_token(letter.token)


def test_the_composer_offers_a_version_per_language_and_keeps_what_was_typed(
    client: Client, two_languages: Any
) -> None:
    page = client.get(_url(two_languages)).content.decode()
    assert 'data-testid="versions-offer"' in page
    assert (
        '<button type="submit" name="versions" value="1" class="secondary">Write a version in each language</button>'
        in page
    )

    # The button is part of the letter's form: pressing it (no script) keeps what was typed.
    typed = _data(body="My own words, typed before choosing.", action="")
    del typed["subject__fr"], typed["body__fr"]
    page = client.post(_url(two_languages), typed).content.decode()

    assert _textarea(page, "body")[1] == "My own words, typed before choosing."
    attrs, french = _textarea(page, "body__fr")
    assert french.startswith("Madame, Monsieur {{ recipient.name }},")  # from the French template
    assert 'lang="fr"' in attrs
    assert 'dir="ltr"' in attrs
    assert 'lang="en"' in _textarea(page, "body")[0]
    assert f'name="subject__fr" value="{FRENCH_SUBJECT}"' in page
    assert '<label for="id_body__fr">Your letter in français</label>' in page
    assert '<input type="hidden" name="versions" value="1">' in page
    # Who gets which version, before anything is saved.
    assert re.search(r'data-testid="version-en".*?For 1 recipient: <strong>Rowan Ashby</strong>', page, re.S)
    assert re.search(r'data-testid="version-fr".*?For 1 recipient: <strong>Claire Dubois</strong>', page, re.S)
    assert re.search(r'data-testid="version-preview-fr".*?Madame, Monsieur Claire Dubois,', page, re.S)
    assert 'data-testid="versions-offer"' not in page

    # "One letter for everyone" drops the versions and keeps the main text.
    page = client.post(_url(two_languages), {**_data(action=""), "one_text": "1"}).content.decode()
    assert 'name="body__fr"' not in page
    assert _textarea(page, "body")[1] == OWN_ENGLISH


def test_both_versions_are_saved_and_a_resubmit_changes_nothing_more(client: Client, two_languages: Any) -> None:
    data = _data()
    assert client.post(_url(two_languages), data).status_code == 302
    assert client.post(_url(two_languages), data).status_code == 302  # a double click

    letter = Letter.objects.get()
    assert (letter.text_language, letter.body, letter.version_languages) == ("en", OWN_ENGLISH, "fr")
    [version] = LetterText.objects.filter(letter=letter)
    assert (version.language, version.subject, version.body) == ("fr", FRENCH_SUBJECT, OWN_FRENCH)
    assert 0 < version.uniqueness < 100  # against the French template, not the English one


def test_each_version_is_checked_beside_its_own_fields(client: Client, two_languages: Any) -> None:
    two_languages.min_uniqueness = 10
    two_languages.save()
    data = _data(body__fr=FRENCH_BODY, subject__fr="Un\r\nBcc: tous@example.org")
    response = client.post(_url(two_languages), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'id="id_body__fr_error"><strong>Error:</strong> Your letter is 0 % in your own words', page)
    assert 'id="id_subject__fr_error"' in page
    assert 'id="id_body_error"' not in page  # the English text is the supporter's own
    assert _textarea(page, "body")[1] == OWN_ENGLISH
    assert _textarea(page, "body__fr")[1] == FRENCH_BODY.replace("'", "&#x27;")
    assert Letter.objects.count() == 0

    too_long = client.post(_url(two_languages), _data(body__fr="x" * 20001))
    assert too_long.status_code == 400
    assert 'id="id_body__fr_error"' in too_long.content.decode()
    assert Letter.objects.count() == 0


def test_a_single_language_campaign_has_no_versions(client: Client, campaign: Any) -> None:
    page = client.get(_url(campaign)).content.decode()
    assert "versions" not in page
    # Asked for by hand, there is nothing to write a version in.
    page = client.get(_url(campaign, "?versions=1")).content.decode()
    assert 'name="body__' not in page


def test_each_recipient_gets_the_email_in_their_language(client: Client, two_languages: Any, smtp_sink: Any) -> None:
    letter = _save(client, two_languages)
    link = _link(letter)
    for recipient in two_languages.recipients.all():
        response = client.post(
            reverse("public:letter_send", args=[link]), {"recipient": recipient.pk, "channel": "email"}
        )
        assert response.status_code == 302

    assert send_queued() == 2

    bodies = {
        str(m["To"]).split(" <")[0]: (str(m["Subject"]), m.get_body(preferencelist=("plain",)).get_content())
        for m in smtp_sink.parsed()
    }
    subject, body = bodies["Claire Dubois"]
    assert subject == FRENCH_SUBJECT
    assert body.replace("\r\n", "\n").startswith(
        "Madame, Monsieur Claire Dubois,\n\nJ'habite à Lyon et je vous écris au sujet du projet de fermer le chemin."
    )
    assert "Ma fille l'emprunte chaque matin" in body
    subject, body = bodies["Rowan Ashby"]
    assert subject == "Please keep the riverside path open"
    assert body.replace("\r\n", "\n").startswith("Dear Rowan Ashby,\n\nI live in Lyon")
    assert "Ma fille" not in body


def test_the_french_recipients_pdf_is_the_french_version(client: Client, two_languages: Any, tmp_path: Path) -> None:
    letter = _save(client, two_languages)
    french = two_languages.recipients.get(name="Claire Dubois")
    response = client.get(reverse("public:letter_pdf", args=[_link(letter)]), {"recipient": french.pk, "paper": "a4"})
    assert response.status_code == 200
    path = tmp_path / "letter.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert FRENCH_SUBJECT in text
    assert "Madame, Monsieur Claire Dubois," in text
    assert "riverside" not in text
    # The date is written in French.
    assert re.search(
        r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4}", text
    )


def test_the_letter_page_shows_each_version_and_who_gets_it(client: Client, two_languages: Any) -> None:
    letter = _save(client, two_languages)
    page = client.get(reverse("public:letter", args=[_link(letter)])).content.decode()

    assert "In English — for 1 recipient: Rowan Ashby" in page
    assert "In français — for 1 recipient: Claire Dubois" in page
    assert re.search(r'data-testid="letter-version-fr"><p><strong>Gardez le chemin ouvert</strong>', page)
    # The card for the French recipient carries the French text, for every channel.
    assert 'lang="fr"><p><strong>Gardez le chemin ouvert</strong></p><p>Madame, Monsieur Claire Dubois,' in page
    assert f'value="{FRENCH_SUBJECT}"' in page  # the web form's copy


def test_the_draft_link_edits_the_versions(client: Client, two_languages: Any) -> None:
    letter = _save(client, two_languages)
    link = _link(letter)
    page = client.get(_url(two_languages, f"?draft={link}")).content.decode()
    assert _textarea(page, "body__fr")[1] == OWN_FRENCH.replace("'", "&#x27;")
    assert '<input type="hidden" name="versions" value="1">' in page

    edited = OWN_FRENCH + "\nP.-S. Merci."
    data = _data(submission_key=str(letter.submission_key), body__fr=edited, draft=link)
    assert client.post(_url(two_languages), data).status_code == 302
    assert LetterText.objects.get(letter=letter).body == edited

    # One letter for everyone again: the versions go.
    data = {**_data(submission_key=str(letter.submission_key), draft=link)}
    del data["versions"], data["subject__fr"], data["body__fr"]
    assert client.post(_url(two_languages), data).status_code == 302
    letter.refresh_from_db()
    assert letter.version_languages == ""
    assert not LetterText.objects.filter(letter=letter).exists()


def test_the_supporters_data_lists_the_versions_and_erasure_removes_them(client: Client, two_languages: Any) -> None:
    letter = _save(client, two_languages)
    [row] = personal_data.collect("camille@example.fr")["letters"]
    assert row["versions"] == [{"language": "fr", "subject": FRENCH_SUBJECT, "body": OWN_FRENCH}]

    delete_letters(letter_ids=[letter.pk])
    assert not LetterText.objects.exists()


def test_a_recipient_in_no_versions_language_costs_no_query(
    client: Client, two_languages: Any, django_assert_num_queries: Any
) -> None:
    letter = Letter.objects.select_related("campaign").get(pk=_save(client, two_languages).pk)
    with django_assert_num_queries(0):
        assert letter_texts.text_in(letter, "en-GB").language == "en"
        assert letter_texts.text_in(letter, "").language == "en"
    with django_assert_num_queries(1):
        letter_texts.preload_versions([letter])
    with django_assert_num_queries(0):
        assert letter_texts.text_in(letter, "fr-CA").subject == FRENCH_SUBJECT
    assert Delivery.objects.count() == 0


def test_a_french_recipients_digest_and_its_read_page_carry_the_french_version(
    client: Client, two_languages: Any, smtp_sink: Any
) -> None:
    letter = _save(client, two_languages)
    french = two_languages.recipients.get(name="Claire Dubois")
    type(french).objects.filter(pk=french.pk).update(daily_digest=True)
    client.post(reverse("public:letter_send", args=[_link(letter)]), {"recipient": french.pk, "channel": "email"})
    Delivery.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))

    [digest] = digests.gather()
    assert digests.send_digest(digest.pk)

    [message] = smtp_sink.parsed()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"1. {FRENCH_SUBJECT}" in text
    assert "Ma fille l'emprunte chaque matin pour aller à l'école." in text
    assert "riverside path open." not in text
    # The digest's own words are in the language of the text the recipient gets.
    [link] = re.findall(r"Lisez-la en entier\s: (http://testserver/\S+)", text)
    page = client.get(link.removeprefix("http://testserver")).content.decode()
    assert '<article class="read-letter" lang="fr">' in page
    assert FRENCH_SUBJECT in page


def test_the_preview_while_typing_shows_each_version(client: Client, two_languages: Any) -> None:
    data = _data(action="preview", body__fr=OWN_FRENCH + "\nP.-S. Une phrase tapée à l'instant.")
    html = client.post(_url(two_languages), data, headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<section id="preview-area"')
    assert re.search(r'data-testid="version-preview-fr".*?Une phrase tapée à l&#x27;instant.', html, re.S)
    assert re.search(r'data-testid="version-preview-en".*?Dear Rowan Ashby,', html, re.S)


def test_retention_removes_the_versions_with_the_letters_words(client: Client, two_languages: Any) -> None:
    letter = _save(client, two_languages)

    assert retention.anonymise_letters(two_languages) == 1

    letter.refresh_from_db()
    assert (letter.body, letter.version_languages) == ("", "")
    assert not LetterText.objects.exists()


def test_the_engine_loads_a_batchs_versions_in_one_query(client: Client, two_languages: Any, smtp_sink: Any) -> None:
    for n in range(3):
        letter = _save_another(client, two_languages, email=f"writer{n}@example.fr")
        for recipient in two_languages.recipients.all():
            record_delivery(letter=letter, recipient=recipient, channel=Channel.EMAIL)

    with CaptureQueriesContext(connection) as queries:
        assert send_queued() == 6

    versions = [q["sql"] for q in queries if "letters_lettertext" in q["sql"]]
    assert len(versions) == 1
    french = [m for m in smtp_sink.parsed() if "Claire Dubois" in str(m["To"])]
    assert [str(m["Subject"]) for m in french] == [FRENCH_SUBJECT] * 3


def _save_another(client: Client, campaign: Any, **overrides: str) -> Letter:
    response = client.post(_url(campaign), _data(**overrides))
    assert response.status_code == 302
    return Letter.objects.order_by("-pk")[0]


def test_bulk_printing_gives_each_recipient_their_version(client: Client, two_languages: Any) -> None:
    two_languages.posts_for_supporters = True
    two_languages.save()
    letter = _save(client, two_languages)
    for recipient in two_languages.recipients.all():
        request_post(letter=letter, recipient=recipient)

    total, items = print_render.campaign_items(two_languages.pk, day=datetime.date(2026, 12, 3), created_before=None)

    printed = {printable.recipient_name: printable for _, printable in items}
    assert total == 2
    assert (printed["Claire Dubois"].subject, printed["Claire Dubois"].language) == (FRENCH_SUBJECT, "fr")
    assert printed["Claire Dubois"].date_text == "3 décembre 2026"
    assert printed["Claire Dubois"].body.startswith("Madame, Monsieur Claire Dubois,")
    assert (printed["Rowan Ashby"].language, printed["Rowan Ashby"].date_text) == ("en", "3 December 2026")


def test_a_plain_link_opens_the_composer_with_a_version_per_language(client: Client, two_languages: Any) -> None:
    page = client.get(_url(two_languages, "?versions=1&text_language=fr")).content.decode()

    assert _textarea(page, "body")[1].startswith("Madame, Monsieur {{ recipient.name }},")  # French is the main text
    assert 'lang="fr"' in _textarea(page, "body")[0]
    attrs, english = _textarea(page, "body__en")
    assert english.startswith("Dear {{ recipient.name }},")
    assert 'lang="en"' in attrs
    assert re.search(r'data-testid="version-fr".*?For 1 recipient: <strong>Claire Dubois</strong>', page, re.S)
