""" "Get my link again" on a campaign page: the same answer for any address, one email per
ask, validation beside the field. A real SMTP server; tasks run immediately after commit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import LetterFactory, SupporterFactory
from undersigned.core import abuse

pytestmark = pytest.mark.django_db

_URL = re.compile(r"https?://\S+/l/[^/\s]+/")


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def url(campaign: Any) -> str:
    return reverse("public:my_link", args=[campaign.slug])


def ask(client: Client, campaign: Any, email: str, **extra: str) -> Any:
    return client.post(url(campaign), {"email": email, abuse.STARTED_FIELD: abuse.started_token(10), **extra})


@pytest.fixture
def letters(campaign: Any) -> Any:
    ana = SupporterFactory(email="ana.ruiz@example.net")
    first = LetterFactory(campaign=campaign, supporter=ana, subject="First")
    second = LetterFactory(campaign=campaign, supporter=ana, subject="Second")
    LetterFactory(campaign=campaign, subject="Someone else's")
    return first, second


def test_the_campaign_page_carries_the_form_without_javascript(
    client: Client, campaign: Any, letters: Any, smtp_sink: Any, settings: Any
) -> None:
    page = client.get(reverse("public:campaign", args=[campaign.slug])).content.decode()
    assert f'<form method="post" action="{url(campaign)}" novalidate class="my-link-form">' in page
    assert 'type="email" name="email"' in page
    assert 'name="form_started" value=""' not in page  # nothing per request: the page is shared
    # The form as the page gives it is accepted, even with a minimum fill time set.
    settings.FORM_MIN_FILL_SECONDS = 3
    sent = client.post(url(campaign), {"email": "ana.ruiz@example.net", "homepage": ""})
    assert sent.status_code == 302
    assert len(smtp_sink.messages) == 1


def test_a_known_and_an_unknown_address_get_the_same_answer(
    client: Client, campaign: Any, letters: Any, smtp_sink: Any
) -> None:
    known = ask(client, campaign, "Ana.Ruiz@example.net")
    unknown = ask(client, campaign, "nobody@example.net")
    assert (known.status_code, known["Location"]) == (302, url(campaign) + "?sent=1")
    assert (unknown.status_code, unknown["Location"]) == (302, url(campaign) + "?sent=1")
    page = client.get(url(campaign) + "?sent=1").content.decode()
    assert "If we have letters from this address for this campaign, we have emailed their links to it." in page

    [message] = smtp_sink.parsed()  # only the known address gets mail
    assert message["To"] == "Ana Ruiz <ana.ruiz@example.net>"
    assert message["Subject"] == "Your letters to “Keep the riverside path open”"
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = _URL.findall(text)
    assert len(links) == 2
    assert text.index("“Second”") < text.index("“First”")  # the newest first
    assert "Someone else" not in text
    for link in links:
        assert client.get("/" + link.split("/", 3)[3]).status_code == 200


def test_asking_twice_sends_one_email(client: Client, campaign: Any, letters: Any, smtp_sink: Any) -> None:
    assert ask(client, campaign, "ana.ruiz@example.net").status_code == 302
    assert ask(client, campaign, "ana.ruiz@example.net").status_code == 302  # a double click
    assert len(smtp_sink.messages) == 1


def test_a_bad_address_is_shown_beside_the_field_with_what_was_typed(client: Client, campaign: Any) -> None:
    response = ask(client, campaign, "ana.ruiz at example")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="ana.ruiz at example"' in page
    assert "Enter an email address like name@example.org." in page
    assert 'aria-invalid="true"' in page
    assert "private" in response["Cache-Control"]


def test_the_honeypot_and_the_rate_limit(client: Client, campaign: Any, letters: Any, smtp_sink: Any,
                                         settings: Any) -> None:  # fmt: skip
    caught = ask(client, campaign, "ana.ruiz@example.net", homepage="http://spam.example")
    assert caught.status_code == 400
    assert smtp_sink.messages == []
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "my_link": "2/10m"}
    ask(client, campaign, "one@example.net")
    limited = ask(client, campaign, "ana.ruiz@example.net")
    assert limited.status_code == 429
    assert 'value="ana.ruiz@example.net"' in limited.content.decode()
    assert smtp_sink.messages == []


def test_no_form_for_a_campaign_that_does_not_exist(client: Client) -> None:
    assert client.get(reverse("public:my_link", args=["nothing-here"])).status_code == 404
