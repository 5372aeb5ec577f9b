"""Daily digests: a recipient who asks for one gets one email a day listing the letters."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery.models import Delivery, DeliveryStatus, Digest, Evidence
from undersigned.delivery.services import record_delivery
from undersigned.letters.links import sign_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def digest_campaign(organisation: Any) -> Any:
    recipient = RecipientFactory(organisation=organisation, name="Dr Amal Haddad", daily_digest=True)
    return CampaignFactory(organisation=organisation, recipients=[recipient])


def _queue(campaign: Any, name: str, *, days_ago: int, body: str = "") -> Delivery:
    letter = LetterFactory(campaign=campaign, sender_name=name, **({"body": body} if body else {}))
    delivery = record_delivery(letter=letter, recipient=campaign.recipients.first(), channel=Channel.EMAIL)
    Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return delivery


def test_yesterdays_letters_arrive_as_one_email_with_links_to_each(
    digest_campaign: Any, smtp_sink: Any, run_worker: Any, client: Client
) -> None:
    first = _queue(digest_campaign, "Ana Ruiz", days_ago=1, body="Dear {{ recipient.name }},\n\nThe bus matters to me.")
    second = _queue(digest_campaign, "Siobhán O'Brien", days_ago=1)
    today = _queue(digest_campaign, "Late Writer", days_ago=0)

    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # running again sends nothing more

    [message] = smtp_sink.parsed()
    digest = Digest.objects.get()
    assert str(message["Subject"]).startswith("2 letters for you, ")
    assert str(message["To"]) == f"Dr Amal Haddad <{digest_campaign.recipients.first().email}>"
    assert str(message["Message-ID"]) == f"<digest-{digest.pk}@undersigned.test>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Dr Amal Haddad," in text
    assert "From Ana Ruiz, Wendmouth (Keep the riverside path open)" in text
    assert "The bus matters to me." in text
    assert "From Siobhán O'Brien, Wendmouth" in text
    assert "Late Writer" not in text
    links = re.findall(r"Read it in full: (\S+)", text)
    assert len(links) == 2

    for delivery in (first, second):
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.evidence == Evidence.PLATFORM_DELIVERED
        assert delivery.digest_id == digest.pk
    today.refresh_from_db()
    assert today.status == DeliveryStatus.QUEUED  # waits for tomorrow's digest

    page = client.get(links[0].removeprefix("http://testserver"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "The bus matters to me." in html
    assert "Dear Dr Amal Haddad," in html
    assert page["X-Robots-Tag"] == "noindex"
    assert client.get(links[0].removeprefix("http://testserver")[:-3] + "xx/").status_code == 404


def test_digest_recipients_never_get_letters_one_by_one(digest_campaign: Any, smtp_sink: Any, run_worker: Any) -> None:
    _queue(digest_campaign, "Ana Ruiz", days_ago=0)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    assert smtp_sink.messages == []
    assert Delivery.objects.get().status == DeliveryStatus.QUEUED


def test_the_send_page_says_when_a_letter_waits_for_the_digest(digest_campaign: Any, client: Client) -> None:
    letter = LetterFactory(campaign=digest_campaign)
    link = sign_token(letter.token)
    assert (
        "asked to receive letters as one email a day"
        in client.get(reverse("public:letter", args=[link])).content.decode()
    )
    client.post(reverse("public:letter_send", args=[link]),
                {"recipient": digest_campaign.recipients.first().pk, "channel": "email"})  # fmt: skip
    page = client.get(reverse("public:letter", args=[link])).content.decode()
    assert "so yours goes in tomorrow's digest." in page
