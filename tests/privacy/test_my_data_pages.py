""" "My data" over HTTP: the same answer for a known and an unknown address, a one-use
link that expires and cannot be forged, the list and its JSON download, and the erase
step. A real SMTP server receives the links."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from tests.factories import LetterFactory, SupporterFactory
from undersigned.core import abuse
from undersigned.core.models import ActionLog
from undersigned.letters.links import sign_token
from undersigned.letters.models import Letter
from undersigned.privacy import links
from undersigned.supporters.models import Supporter

pytestmark = pytest.mark.django_db

ASK = reverse("public:my_data")
_LINK = re.compile(r"https?://\S+(/my-data/open/[^/\s]+/)")


def ask(client: Client, email: str, **extra: str) -> Any:
    return client.post(ASK, {"email": email, abuse.STARTED_FIELD: abuse.started_token(10), **extra})


def link_in(message: Any) -> str:
    found = _LINK.search(message.get_body(preferencelist=("plain",)).get_content())
    assert found, "no link in the email"
    return found.group(1)


@pytest.fixture
def ana(campaign: Any) -> Any:
    supporter = SupporterFactory(email="ana.ruiz@example.net", name="Ana Ruiz")
    LetterFactory(campaign=campaign, supporter=supporter, subject="Keep the path", sender_name="Ana Ruiz")
    LetterFactory(campaign=campaign, subject="Someone else's")
    return supporter


def test_a_known_and_an_unknown_address_get_the_same_answer_and_the_same_email(
    client: Client, ana: Any, smtp_sink: Any
) -> None:
    known, unknown = ask(client, "Ana.Ruiz@example.net"), ask(client, "nobody@example.net")
    assert (
        (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"]) == (302, ASK + "?sent=1")
    )
    page = client.get(ASK + "?sent=1").content.decode()
    assert "We have emailed a link to that address." in page
    first, second = smtp_sink.parsed()
    assert (first["To"], second["To"]) == ("Ana.Ruiz@example.net", "nobody@example.net")
    assert first["Subject"] == second["Subject"] == "Your data on Undersigned"
    strip = lambda m: _LINK.sub("LINK", m.get_body(preferencelist=("plain",)).get_content())  # noqa: E731
    assert strip(first) == strip(second)


def test_validation_beside_the_field_honeypot_and_rate_limit(
    client: Client, ana: Any, smtp_sink: Any, settings: Any
) -> None:
    bad = ask(client, "ana.ruiz at example")
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'value="ana.ruiz at example"' in page
    assert "Enter an email address like name@example.org." in page
    assert 'aria-invalid="true"' in page
    assert ask(client, "ana.ruiz@example.net", homepage="http://spam.example").status_code == 400
    assert smtp_sink.messages == []
    assert ask(client, "ana.ruiz@example.net").status_code == 302
    assert ask(client, "ana.ruiz@example.net").status_code == 302  # a double click: one email
    assert len(smtp_sink.messages) == 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "my_data": "4/10m"}
    limited = ask(client, "other@example.net")
    assert limited.status_code == 429
    assert 'value="other@example.net"' in limited.content.decode()
    assert len(smtp_sink.messages) == 1


def test_the_link_lists_downloads_and_erases_once(client: Client, ana: Any, smtp_sink: Any) -> None:
    ask(client, "ana.ruiz@example.net")
    link = link_in(smtp_sink.parsed()[0])
    # Following the link (a mail scanner too) uses nothing up: a button does.
    assert client.get(link).status_code == 200
    opened = client.post(link)
    assert (opened.status_code, opened["Location"]) == (302, reverse("public:my_data_yours"))
    page = client.get(reverse("public:my_data_yours"))
    assert page.status_code == 200
    assert "private" in page["Cache-Control"]
    html = page.content.decode()
    assert "Keep the path" in html
    assert "Someone else" not in html
    download = client.get(reverse("public:my_data_json"))
    assert download["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(download.content)
    assert data["email"] == "ana.ruiz@example.net"
    assert [letter["subject"] for letter in data["letters"]] == ["Keep the path"]
    assert [s["name"] for s in data["supporter"]] == ["Ana Ruiz"]

    # Used: a second browser (or the same one again) gets nothing from the link.
    assert Client().post(link).status_code == 410
    assert client.post(link).status_code == 410

    unconfirmed = client.post(reverse("public:my_data_erase"), {})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm the erasure." in unconfirmed.content.decode()
    assert Supporter.objects.filter(pk=ana.pk).exists()
    erased = client.post(reverse("public:my_data_erase"), {"confirm": "on"})
    assert erased.status_code == 200
    assert "Your data is erased" in erased.content.decode()
    assert not Supporter.objects.filter(email="ana.ruiz@example.net").exists()
    assert list(Letter.objects.values_list("subject", flat=True)) == ["Someone else's"]
    assert ActionLog.objects.filter(action="personal_data.erased").count() == 1
    # The cookie is gone: the page asks for a new link.
    assert client.get(reverse("public:my_data_yours")).status_code == 410


def test_expired_and_tampered_links_open_nothing(client: Client, ana: Any, settings: Any, monkeypatch: Any) -> None:
    token = links.make_token("ana.ruiz@example.net")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(reverse("public:my_data_open", args=[forged])).status_code == 410
    other = signing.dumps({"e": "ana.ruiz@example.net", "n": "x"}, salt="another.salt", compress=True)
    assert client.post(reverse("public:my_data_open", args=[other])).status_code == 410
    settings.MY_DATA_LINK_MINUTES = 1
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)  # the clock, 61 seconds on
    assert client.post(reverse("public:my_data_open", args=[token])).status_code == 410
    monkeypatch.setattr(time, "time", real_time)
    assert client.post(reverse("public:my_data_open", args=[token])).status_code == 302  # not used up by the refusals
    assert client.get(reverse("public:my_data_yours")).status_code == 200
    # Without the link, no page: a cookie made up by hand is refused.
    stranger = Client()
    stranger.cookies[links.COOKIE] = "ana.ruiz@example.net"
    assert stranger.get(reverse("public:my_data_yours")).status_code == 410
    assert stranger.get(reverse("public:my_data_json")).status_code == 410
    assert stranger.post(reverse("public:my_data_erase"), {"confirm": "on"}).status_code == 410
    assert Supporter.objects.filter(pk=ana.pk).exists()


def test_the_footer_and_the_letter_page_link_to_it(client: Client, ana: Any) -> None:
    assert f'href="{ASK}"' in client.get(reverse("public:home")).content.decode()
    letter = Letter.objects.get(supporter=ana)
    page = client.get(reverse("public:letter", args=[sign_token(letter.token)]))
    assert page.status_code == 200
    assert page.content.decode().count(f'href="{ASK}"') == 2  # the footer's and the page's own
