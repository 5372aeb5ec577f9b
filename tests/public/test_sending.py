"""Sending a saved letter: each channel as the supporter uses it, and the thanks page."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from tests.factories import LetterFactory, RecipientFactory
from tests.languages import pseudo_translations
from undersigned.campaigns.models import Campaign
from undersigned.delivery import services
from undersigned.delivery.addresses import letter_copy_address, reply_address
from undersigned.delivery.models import Delivery, Evidence
from undersigned.letters.links import sign_token, unsign_token
from undersigned.supporters.models import ConsentRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(campaign: Any) -> Any:
    return LetterFactory(campaign=campaign, supporter__email="ana.ruiz@example.net")


def _link(letter: Any) -> str:
    return sign_token(letter.token)


def _page(client: Client, letter: Any) -> str:
    return client.get(reverse("public:letter", args=[_link(letter)])).content.decode()


def _report(client: Client, letter: Any, channel: str, recipient: Any = None) -> Any:
    recipient = recipient or letter.campaign.recipients.first()
    return client.post(
        reverse("public:letter_send", args=[_link(letter)]), {"recipient": recipient.pk, "channel": channel}
    )


def test_the_mailto_link_carries_the_personalised_letter(client: Client, letter: Any) -> None:
    page = _page(client, letter)
    href = html.unescape(re.search(r'href="(mailto:[^"]+)" role="button"', page).group(1))  # type: ignore[union-attr]
    parts = urlsplit(href)
    fields = {k: v[0] for k, v in parse_qs(parts.query).items()}
    recipient = letter.campaign.recipients.first()
    assert parts.path == recipient.email
    assert fields["bcc"] == letter_copy_address(letter.pk)
    assert fields["subject"] == "Please keep the riverside path open"
    assert fields["body"].startswith(f"Dear {recipient.name},\r\n\r\nI live in Wendmouth and")
    assert fields["body"].endswith("My children walk this path every day.")
    assert "https://mail.google.com/mail/?view=cm" in page


def test_a_letter_too_long_for_a_link_still_gets_links_with_the_copy_address(client: Client, campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign, body="A long letter. " * 400)
    recipient = campaign.recipients.first()
    page = _page(client, letter)
    assert "Your letter is too long to hand to an email app in one link." in page
    # The text to copy, in full.
    assert f'<textarea readonly rows="8" id="mailto-body-{recipient.pk}">A long letter. A long letter.' in page
    # A link all the same: recipient, subject and the copy address, with a note to paste the text.
    href = html.unescape(re.search(r'href="(mailto:[^"]+)" role="button"', page).group(1))  # type: ignore[union-attr]
    parts = urlsplit(href)
    fields = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == recipient.email
    assert fields == {
        "bcc": letter_copy_address(letter.pk),
        "subject": "Please keep the riverside path open",
        "body": "Paste the text of your letter here, in place of this line.",
    }
    assert len(href) < 2000
    for webmail in ("https://mail.google.com/mail/?", "https://outlook.office.com/mail/deeplink/compose?"):
        found = re.search(f'href="({re.escape(webmail)}[^"]+)"', page)
        assert found is not None
        query = parse_qs(urlsplit(html.unescape(found.group(1))).query)
        assert query["bcc"] == [letter_copy_address(letter.pk)]
        assert "A long letter" not in found.group(1)
    assert f"Keep this address in Bcc: <code>{letter_copy_address(letter.pk)}</code>." in page


def test_the_copy_address_is_shown_for_a_short_letter_too(client: Client, letter: Any) -> None:
    page = _page(client, letter)
    assert f"Keep this address in Bcc: <code>{letter_copy_address(letter.pk)}</code>." in page
    assert "Your letter is too long" not in page


def test_reporting_a_send_counts_the_letter_once(client: Client, letter: Any, campaign: Any) -> None:
    response = _report(client, letter, "mailto")
    assert response.status_code == 302
    # The link is signed with the time of signing, so compare the letter it leads to.
    thanks_link = response["Location"].removeprefix("/l/").removesuffix("/thanks/")
    assert response["Location"] == reverse("public:thanks", args=[thanks_link])
    assert unsign_token(thanks_link) == letter.token
    _report(client, letter, "mailto")
    _report(client, letter, "web_form")
    campaign.refresh_from_db()
    assert campaign.letters_sent == 1
    deliveries = {d.channel: d for d in Delivery.objects.filter(letter=letter)}
    assert set(deliveries) == {"mailto", "web_form"}
    assert deliveries["mailto"].evidence == Evidence.SELF_REPORTED
    assert deliveries["mailto"].status == "reported"
    page = client.get(reverse("public:campaign", args=[campaign.slug])).content.decode()
    assert 'data-testid="letters-sent">1</strong> letter sent so far' in page
    assert "Thank you: you told us on" in _page(client, letter)


def test_a_channel_the_campaign_does_not_offer_is_refused(client: Client, letter: Any, campaign: Any) -> None:
    campaign.template.channels = ["mailto"]
    campaign.template.save()
    response = _report(client, letter, "post")
    assert response.status_code == 409
    assert "This campaign does not offer that way of sending." in response.content.decode()
    assert not Delivery.objects.exists()
    assert Campaign.objects.get(pk=campaign.pk).letters_sent == 0


def test_a_recipient_of_another_campaign_is_refused(client: Client, letter: Any) -> None:
    other = RecipientFactory()
    response = _report(client, letter, "mailto", recipient=other)
    assert response.status_code == 400
    assert "We couldn&#x27;t tell which recipient or way of sending you chose." in response.content.decode()
    assert not Delivery.objects.exists()


def test_post_needs_the_senders_address_first(client: Client, campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign, sender_address="")
    page = _page(client, letter)
    assert "A posted letter needs your address as the sender's." in page
    assert "Download PDF" not in page
    refused = _report(client, letter, "post")
    assert refused.status_code == 409
    empty = client.post(reverse("public:letter_address", args=[_link(letter)]), {"postal_address": "  "})
    assert empty.status_code == 400
    assert "A posted letter needs a sender&#x27;s address." in empty.content.decode()
    too_long = client.post(reverse("public:letter_address", args=[_link(letter)]), {"postal_address": "x" * 501})
    assert "Your address is too long: 501 characters, the limit is 500." in too_long.content.decode()
    saved = client.post(
        reverse("public:letter_address", args=[_link(letter)]),
        {"postal_address": "3 Mill Lane\r\nWendmouth\r\nWM3 4CC"},
    )
    assert saved.status_code == 302
    assert "Download PDF (A4)" in _page(client, letter)


def test_the_pdf_download_is_the_printed_letter(client: Client, letter: Any, tmp_path: Any) -> None:
    recipient = letter.campaign.recipients.first()
    response = client.get(
        reverse("public:letter_pdf", args=[_link(letter)]), {"recipient": recipient.pk, "paper": "a4"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="letter-keep-the-riverside-path-open-')
    path = tmp_path / "letter.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert recipient.name in text
    assert "12 Eastfield Road" in text
    assert "Please keep the riverside path open" in text
    assert "I live in Wendmouth and I am writing" in text
    assert "My children walk this path every day." in text
    bad = client.get(reverse("public:letter_pdf", args=[_link(letter)]), {"recipient": recipient.pk, "paper": "a3"})
    assert bad.status_code == 404


def test_the_pdf_is_rendered_outside_the_web_process(
    client: Client, letter: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    # typst and its fonts would stay in a web worker's memory for good: here they cannot
    # even be imported, and the download still works, made by a child process.
    monkeypatch.setitem(sys.modules, "typst", None)
    monkeypatch.setitem(sys.modules, "undersigned.delivery.pdf", None)
    recipient = letter.campaign.recipients.first()
    response = client.get(
        reverse("public:letter_pdf", args=[_link(letter)]), {"recipient": recipient.pk, "paper": "us-letter"}
    )
    assert response.status_code == 200
    path = tmp_path / "letter.pdf"
    path.write_bytes(response.content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert recipient.name in text


@pytest.mark.django_db(transaction=True)
def test_send_it_for_me_queues_an_email_that_a_worker_sends(
    client: Client, letter: Any, campaign: Any, smtp_sink: Any, run_worker: Any
) -> None:
    recipient = campaign.recipients.first()
    _report(client, letter, "email")
    _report(client, letter, "email")  # a second click queues nothing more
    assert "Queued: it will go out shortly." in _page(client, letter)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    [message] = smtp_sink.parsed()
    delivery = Delivery.objects.get(letter=letter, channel="email")
    assert str(message["From"]) == "Ana Ruiz via Friends of the Wend <letters@undersigned.test>"
    # The supporter, then the delivery's reply address (the campaign's default placement).
    assert str(message["Reply-To"]) == f"Ana Ruiz <ana.ruiz@example.net>, {reply_address(delivery.pk)}"
    assert str(message["To"]) == f"{recipient.name} <{recipient.email}>"
    assert str(message["Message-ID"]) == f"<delivery-{delivery.pk}@undersigned.test>"
    body = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith(f"Dear {recipient.name},\n\nI live in Wendmouth")
    assert delivery.status == "sent"
    assert delivery.evidence == Evidence.PLATFORM_DELIVERED
    assert Campaign.objects.get(pk=campaign.pk).letters_sent == 1
    assert f"Sent to {recipient.name}." in _page(client, letter)


def test_the_thanks_page_records_consent_with_its_wording_once(client: Client, letter: Any, campaign: Any) -> None:
    _report(client, letter, "web_form")
    url = reverse("public:thanks", args=[_link(letter)])
    page = client.get(url).content.decode()
    wording = (
        "Yes, Friends of the River Wend may email me updates about “Keep the riverside path open”. "
        "I can unsubscribe at any time with the link in every update."
    )
    assert wording in page
    refused = client.post(url, {})
    assert "Tick the box if you would like updates" in refused.content.decode()
    assert not ConsentRecord.objects.exists()
    client.post(url, {"agree": "on"})
    client.post(url, {"agree": "on"})
    record = ConsentRecord.objects.get()
    assert record.wording == wording
    assert record.granted is True
    assert record.supporter.email == "ana.ruiz@example.net"
    assert len(record.ip_hash) == 32
    assert record.ip_hash != "127.0.0.1"
    assert "You'll get updates about this campaign." in client.get(url).content.decode()
    assert record.language == "en"


def test_a_french_visitor_s_consent_records_the_french_wording_shown(
    client: Client, letter: Any, campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(client, letter, "web_form")
    pseudo_translations(monkeypatch, "fr")  # French that shows it came from the French catalogue
    url = reverse("public:thanks", args=[_link(letter)])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    wording = (
        "⟦Yes, Friends of the River Wend may email me updates about “Keep the riverside path open”. "
        "I can unsubscribe at any time with the link in every update.⟧"
    )
    assert wording in page
    client.post(url, {"agree": "on"}, HTTP_ACCEPT_LANGUAGE="fr")
    record = ConsentRecord.objects.get()
    assert (record.wording, record.language) == (wording, "fr")


def test_an_address_too_long_for_the_window_is_explained_not_crashed(client: Client, letter: Any) -> None:
    recipient = letter.campaign.recipients.first()
    recipient.postal_address = "\n".join(f"Line {n}" for n in range(12))
    recipient.save()
    response = client.get(reverse("public:letter_pdf", args=[_link(letter)]), {"recipient": recipient.pk})
    assert response.status_code == 409
    assert "the recipient&#x27;s address is too long for the envelope window" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_supporter_can_ask_for_a_copy(
    client: Client, letter: Any, campaign: Any, smtp_sink: Any, run_worker: Any
) -> None:
    recipient = campaign.recipients.first()
    assert "Send me a copy" in _page(client, letter)
    client.post(
        reverse("public:letter_send", args=[_link(letter)]),
        {"recipient": recipient.pk, "channel": "email", "copy": "on"},
    )
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    [envelope] = smtp_sink.messages
    assert sorted(envelope.rcpt_tos) == sorted([recipient.email, "ana.ruiz@example.net"])
    [message] = smtp_sink.parsed()
    assert str(message["Cc"]) == "Ana Ruiz <ana.ruiz@example.net>"
    assert str(message["To"]) == f"{recipient.name} <{recipient.email}>"


def test_a_wake_up_lost_after_the_commit_still_thanks_the_supporter(
    client: Client, letter: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    # The delivery is committed; waking a sender then fails (the connection dropped, as in
    # tests/delivery/test_faults.py). The supporter must not see an error for a letter that
    # is queued: the worker's housekeeping wakes a sender for due work anyway.

    def lost(*args: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "wake_senders", lost)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _report(client, letter, "email")
    assert len(callbacks) == 1
    assert response.status_code == 302
    assert Delivery.objects.get(letter=letter, channel="email").status == "queued"
    assert "Queued: it will go out shortly." in _page(client, letter)
    assert any("on_commit" in record.getMessage() for record in caplog.records)


def test_the_thanks_page_says_a_queued_letter_counts_once_it_has_gone_out(client: Client, letter: Any) -> None:
    response = _report(client, letter, "email")
    page = client.get(response["Location"]).content.decode()
    assert (
        "Your letter counts as soon as it has gone out. So far, <strong>0</strong> letters have been sent "
        "in this campaign." in page
    )
