"""The supporter's journey through the HTTP client: what a person sees on each page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import TEMPLATE_BODY
from undersigned.core.models import ActionLog
from undersigned.letters.models import Letter
from undersigned.letters.queries import letter_from_link
from undersigned.supporters.models import Supporter

pytestmark = pytest.mark.django_db


def _valid(campaign: Any, **overrides: str) -> dict[str, str]:
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Ana Ruiz",
        "email": "ana.ruiz@example.net",
        "town": "Wendmouth",
        "country": "GB",
        "postal_address": "12 Eastfield Road\nWendmouth\nWM2 3BB",
        "subject": campaign.template.subject,
        "body": TEMPLATE_BODY + "\n\nMy son walks this path to school every morning.",
        "action": "continue",
    }
    data.update(overrides)
    return data


def _compose_url(campaign: Any) -> str:
    return reverse("public:compose", args=[campaign.slug])


def test_the_campaign_page_shows_what_a_supporter_needs(client: Client, campaign: Any) -> None:
    campaign.background = "The **path** matters.\n\n<script>alert('x')</script>\n\n[Map](javascript:alert(1))"
    campaign.save()
    page = client.get(reverse("public:campaign", args=[campaign.slug])).content.decode()
    assert "<h1>Keep the riverside path open</h1>" in page
    assert "<strong>path</strong>" in page
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page
    assert 'data-testid="letters-sent">0</strong> letters sent so far' in page
    assert "Councillor Rowan Ashby" in page
    assert "Mina Okafor" in page
    assert "Write your letter" in page
    assert "https://bsky.app/intent/compose?text=" in page
    assert "https://wa.me/?text=" in page


def test_the_composer_starts_from_the_template_with_prompts(client: Client, campaign: Any) -> None:
    page = client.get(_compose_url(campaign)).content.decode()
    assert "How do you use the path?" in page
    assert "Dear {{ recipient.name }}," in page  # the editable text keeps its placeholders
    assert re.search(r'data-testid="uniqueness"><strong>0 %</strong> in your own words', page)
    assert "I live in [your town]" in page  # the preview shows what still needs filling in


def test_preview_without_javascript_fills_in_details_and_keeps_what_was_typed(client: Client, campaign: Any) -> None:
    data = _valid(campaign, action="preview", name="Siobhán O'Brien", town="Cork", email="not-an-email")
    page = client.post(_compose_url(campaign), data).content.decode()
    assert "I live in Cork and" in page
    assert "Dear Councillor Rowan Ashby" in page
    assert 'value="Siobhán O&#x27;Brien"' in page
    assert 'value="not-an-email"' in page
    assert "Error:" not in page  # a preview never scolds: the person is still writing
    assert Letter.objects.count() == 0


def test_htmx_preview_returns_only_the_preview_area(client: Client, campaign: Any) -> None:
    data = _valid(campaign, action="preview", body="Something completely my own to say here today.")
    response = client.post(_compose_url(campaign), data, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="preview-area"')
    assert "<html" not in html
    assert "<strong>100 %</strong> in your own words" in html


def test_invalid_input_is_refused_next_to_each_field_and_nothing_is_lost(client: Client, campaign: Any) -> None:
    data = _valid(campaign, email="ana@", name="", country="XX", body="x" * 20_001)
    page = client.post(_compose_url(campaign), data).content.decode()
    assert 'id="id_email_error"' in page
    assert "Enter an email address like name@example.org." in page
    assert 'id="id_name_error"' in page
    assert "Select a valid choice." in page
    assert "Your letter is too long: 20001 characters, the limit is 20000." in page
    assert 'aria-invalid="true"' in page
    assert 'value="ana@"' in page
    assert "x" * 20_001 in page  # kept, so they can shorten it rather than retype it
    assert Letter.objects.count() == 0


@pytest.mark.parametrize("field", ["name", "subject", "town"])
def test_line_breaks_in_one_line_fields_are_refused(client: Client, campaign: Any, field: str) -> None:
    data = _valid(campaign, **{field: "Ana\r\nBcc: everyone@example.org"})
    page = client.post(_compose_url(campaign), data).content.decode()
    assert f'id="id_{field}_error"' in page
    assert "Please keep this on one line" in page
    assert Letter.objects.count() == 0


def test_unknown_placeholders_are_refused_with_the_known_ones_listed(client: Client, campaign: Any) -> None:
    data = _valid(campaign, body="Dear {{ recipient.shoe_size }}, hello from {{ supporter.town }}.")
    page = client.post(_compose_url(campaign), data).content.decode()
    assert "We can&#x27;t fill in {{ recipient.shoe_size }}. Remove it, or use one of:" in page
    assert Letter.objects.count() == 0


def test_a_campaign_minimum_asks_for_own_words(client: Client, campaign: Any) -> None:
    campaign.min_uniqueness = 30
    campaign.save()
    page = client.post(_compose_url(campaign), _valid(campaign, body=TEMPLATE_BODY)).content.decode()
    assert "Your letter is 0 % in your own words; this campaign asks for at least 30 %." in page
    assert Letter.objects.count() == 0
    own = TEMPLATE_BODY + "\n\n" + "My son and his friends walk this path to school every single morning, " * 2
    response = client.post(_compose_url(campaign), _valid(campaign, body=own))
    assert response.status_code == 302


def test_markup_typed_anywhere_is_shown_as_text(client: Client, campaign: Any) -> None:
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    data = _valid(campaign, name=attack, town=attack, subject=attack, body=attack + "\n\nPlease keep the path.")
    page = client.post(_compose_url(campaign), {**data, "action": "preview"}).content.decode()
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = client.post(_compose_url(campaign), data)
    letter_page = client.get(response["Location"]).content.decode()
    assert "<script>alert(1)" not in letter_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in letter_page


def test_a_double_click_or_reload_never_creates_a_second_letter(client: Client, campaign: Any) -> None:
    data = _valid(campaign)
    first = client.post(_compose_url(campaign), data)
    second = client.post(_compose_url(campaign), data)
    edited = client.post(_compose_url(campaign), {**data, "body": data["body"] + " Thank you."})
    assert first.status_code == second.status_code == edited.status_code == 302
    assert Letter.objects.count() == 1
    token = Letter.objects.get().token
    letters = {letter_from_link(r["Location"].split("/")[2]) for r in (first, second, edited)}
    assert {letter.token for letter in letters if letter} == {token}
    letter = Letter.objects.get()
    assert letter.body.endswith("every morning. Thank you.")
    assert letter.supporter.email == "ana.ruiz@example.net"
    assert letter.sender_name == "Ana Ruiz"


def test_the_private_link_brings_the_draft_back_for_editing(client: Client, campaign: Any) -> None:
    response = client.post(_compose_url(campaign), _valid(campaign))
    link = response["Location"].split("/")[2]
    page = client.get(_compose_url(campaign) + f"?draft={link}").content.decode()
    assert "My son walks this path to school every morning." in page
    assert 'value="ana.ruiz@example.net"' in page
    data = _valid(campaign, body="A new text of my own, entirely rewritten.", draft=link)
    data["submission_key"] = str(Letter.objects.get().submission_key)
    client.post(_compose_url(campaign), data)
    assert Letter.objects.count() == 1
    assert Letter.objects.get().body == "A new text of my own, entirely rewritten."


def test_a_tampered_or_expired_link_is_refused_plainly(client: Client, campaign: Any, monkeypatch: Any) -> None:
    response = client.post(_compose_url(campaign), _valid(campaign))
    link = response["Location"].split("/")[2]
    tampered = client.get(reverse("public:letter", args=[link[:-2] + "xx"]))
    assert tampered.status_code == 404
    assert "We can't find that letter" in tampered.content.decode()
    monkeypatch.setattr("django.core.signing.time.time", lambda: 10**10)
    expired = client.get(reverse("public:letter", args=[link]))
    assert expired.status_code == 410
    assert "This link has expired" in expired.content.decode()


def test_a_closed_campaign_takes_no_letters(client: Client, campaign: Any) -> None:
    campaign.status = "closed"
    campaign.save()
    page = client.get(_compose_url(campaign)).content.decode()
    assert "This campaign is not taking letters any more." in page
    client.post(_compose_url(campaign), _valid(campaign))
    assert Letter.objects.count() == 0


def test_a_draft_campaign_is_not_public(client: Client, campaign: Any) -> None:
    campaign.status = "draft"
    campaign.save()
    assert client.get(reverse("public:campaign", args=[campaign.slug])).status_code == 404
    assert client.get(_compose_url(campaign)).status_code == 404


def test_a_sent_letter_does_not_change_when_its_form_comes_back(client: Client, campaign: Any) -> None:
    data = _valid(campaign)
    link = client.post(_compose_url(campaign), data)["Location"].split("/")[2]
    recipient = campaign.recipients.get()
    sent = client.post(reverse("public:letter_send", args=[link]), {"recipient": recipient.pk, "channel": "mailto"})
    assert sent.status_code == 302
    again = client.post(_compose_url(campaign), {**data, "body": "Something else entirely, written later on."})
    assert again.status_code == 409
    assert "This letter has already been sent, so it can&#x27;t change any more." in again.content.decode()
    assert 'value="Ana Ruiz"' in again.content.decode()  # what was typed stays
    letter = Letter.objects.get()
    assert letter.body == data["body"].replace("\r\n", "\n")


def test_a_second_letter_from_the_same_address_keeps_the_supporter_and_their_details(
    client: Client, campaign: Any
) -> None:

    client.post(_compose_url(campaign), _valid(campaign))
    other = _valid(campaign, name="Someone Else", town="Elsewhere", email="  Ana.Ruiz@Example.NET ")
    assert client.post(_compose_url(campaign), other).status_code == 302
    supporter = Supporter.objects.get()
    assert (supporter.email, supporter.name, supporter.town) == ("ana.ruiz@example.net", "Ana Ruiz", "Wendmouth")
    letters = list(Letter.objects.order_by("created_at"))
    assert [letter.supporter_id for letter in letters] == [supporter.pk, supporter.pk]
    assert [letter.sender_name for letter in letters] == ["Ana Ruiz", "Someone Else"]  # as written on each
    created = ActionLog.objects.filter(action="letter.created").values_list("object_id", flat=True)
    assert sorted(created) == sorted(str(letter.pk) for letter in letters)


def test_a_new_letter_is_four_inserts_and_no_reads_of_letters(client: Client, campaign: Any) -> None:
    client.get(_compose_url(campaign))  # the campaign is kept by this worker from now on
    with CaptureQueriesContext(connection) as captured:
        response = client.post(_compose_url(campaign), _valid(campaign))
    assert response.status_code == 302
    sql = [q["sql"] for q in captured.captured_queries]
    writes = [text for text in sql if "INSERT INTO" in text and "undersigned_cache" not in text]
    # Supporter (upsert), letter, audit row, and the campaign's tallies (one upsert of its rows).
    assert sum(text.count("INSERT INTO") for text in writes) == 4
    assert "letters_lettertally" in writes[-1]
    if connection.vendor == "postgresql":
        assert len(writes) == 2  # the letter's one statement and the tallies', in one transaction
    assert [text for text in sql if text.startswith("SELECT")] == [sql[0]]  # the campaign's stamp only
    assert not any('FROM "letters_letter"' in text for text in sql)
    letter = Letter.objects.get()
    assert (letter.supporter.email, letter.sender_name, letter.campaign_id) == (
        "ana.ruiz@example.net",
        "Ana Ruiz",
        campaign.pk,
    )
    assert letter.uniqueness > 0
    assert letter.created_at is not None
    assert letter_from_link(response["Location"].split("/")[2]) == letter
    log = ActionLog.objects.get(action="letter.created")
    assert (log.object_type, log.object_id, log.data) == ("letters.letter", str(letter.pk), {"campaign": campaign.pk})
