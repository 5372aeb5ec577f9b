"""`undersigned print`: the letters supporters asked the organisation to post, as one PDF."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.delivery.models import Delivery, DeliveryStatus
from undersigned.delivery.services import ChannelUnavailable, record_delivery, request_post
from undersigned.letters.links import sign_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def posting_campaign(organisation: Any) -> Any:
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    return CampaignFactory(
        organisation=organisation, slug="bulk", posts_for_supporters=True, recipients=[first, second]
    )


def _pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def test_print_groups_letters_by_recipient_behind_a_cover_sheet(posting_campaign: Any, tmp_path: Path) -> None:
    first, second = posting_campaign.recipients.order_by("campaignrecipient__position")
    names = ["Ana Ruiz", "Siobhán O'Brien", "Jana Šimůnková"]
    for name in names:
        letter = LetterFactory(campaign=posting_campaign, sender_name=name)
        request_post(letter=letter, recipient=second)
        request_post(letter=letter, recipient=first)
    self_posted = LetterFactory(campaign=posting_campaign, sender_name="Not Printed")
    record_delivery(letter=self_posted, recipient=first, channel="post")  # type: ignore[arg-type]

    out = tmp_path / "post.pdf"
    stdout = io.StringIO()
    call_command("print_letters", "bulk", "--out", str(out), stdout=stdout)
    assert stdout.getvalue() == f"Printed 6 letters of “Keep the riverside path open” to {out}.\n"
    pages = _pages(out)
    assert len(pages) == 8  # two cover sheets and six one-page letters
    assert "Councillor Rowan Ashby" in pages[0]
    assert "3 letters" in pages[0]
    for page, name in zip(pages[1:4], names, strict=True):
        assert "Dear Councillor Rowan Ashby," in page
        assert name in page
    assert "Dr Amal Haddad" in pages[4]
    for page, name in zip(pages[5:8], names, strict=True):
        assert "Dear Dr Amal Haddad," in page
        assert name in page
    assert all("Not Printed" not in page for page in pages)


def test_big_batches_are_printed_in_chunks_that_join_up(
    posting_campaign: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("undersigned.delivery.pdf.MAX_LETTERS", 3)  # a cover and two letters per chunk
    recipient = posting_campaign.recipients.first()
    for n in range(5):
        request_post(letter=LetterFactory(campaign=posting_campaign, sender_name=f"Writer {n}"), recipient=recipient)
    out = tmp_path / "post.pdf"
    call_command("print_letters", "bulk", "--out", str(out), "--paper", "us-letter", stdout=io.StringIO())
    pages = _pages(out)
    assert len(pages) == 6
    assert "5 letters" in pages[0]
    assert [next(f"Writer {n}" for n in range(5) if f"Writer {n}" in page) for page in pages[1:]] == [
        f"Writer {n}" for n in range(5)
    ]
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info


def test_nothing_to_print_writes_no_file(posting_campaign: Any, tmp_path: Path) -> None:
    out = tmp_path / "post.pdf"
    stdout = io.StringIO()
    call_command("print_letters", "bulk", "--out", str(out), stdout=stdout)
    assert stdout.getvalue() == "No letters are waiting to be posted in “Keep the riverside path open”.\n"
    assert not out.exists()


def test_supporters_ask_for_post_on_the_send_page(client: Client, posting_campaign: Any) -> None:
    letter = LetterFactory(campaign=posting_campaign)
    recipient = posting_campaign.recipients.first()
    link = sign_token(letter.token)
    page = client.get(reverse("public:letter", args=[link])).content.decode()
    assert "Ask Friends of the River Wend to post it for me" in page
    response = client.post(reverse("public:letter_post_for_me", args=[link]), {"recipient": recipient.pk})
    client.post(reverse("public:letter_post_for_me", args=[link]), {"recipient": recipient.pk})
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.channel == "post"
    posting_campaign.refresh_from_db()
    assert posting_campaign.letters_sent == 1
    page = client.get(reverse("public:letter", args=[link])).content.decode()
    assert "Friends of the River Wend will print and post it for you." in page


def test_campaigns_that_do_not_post_refuse_the_request(campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign)
    with pytest.raises(ChannelUnavailable, match="don't post letters for supporters"):
        request_post(letter=letter, recipient=campaign.recipients.first())
    assert not Delivery.objects.exists()


def test_a_closing_name_is_printed_once_under_the_signing_space(campaign: Any) -> None:
    from undersigned.delivery.channels.post import printable

    letter = LetterFactory(campaign=campaign, body="Dear {{ recipient.name }},\n\nPlease.\n\nYours,\nAna Ruiz\n")
    page = printable(letter, campaign.recipients.first(), day=timezone.localdate())
    assert page.body.endswith("Please.\n\nYours,")
    assert page.signature == "Ana Ruiz"
    other = LetterFactory(campaign=campaign, body="Dear {{ recipient.name }},\n\nPlease.\n\nYours,\nA. R.")
    assert printable(other, campaign.recipients.first(), day=timezone.localdate()).body.endswith("Yours,\nA. R.")
