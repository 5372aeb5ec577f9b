"""Replies (delivery/replies.py): the "Did you get a reply?" email through a real SMTP
server, its signed answer links, and the supporter's pasted reply over HTTP."""

from __future__ import annotations

import datetime
import re
import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from tests.letters.test_supporter_emails import html, plain
from tests.tallies.recount import kept_campaign, recount_campaign
from undersigned.campaigns.enums import Channel
from undersigned.delivery import addresses, replies
from undersigned.delivery.models import Delivery, Evidence, Reply
from undersigned.delivery.services import delete_letters, record_delivery, request_post
from undersigned.letters.links import sign_token
from undersigned.letters.models import Letter, ReplyAnswer
from undersigned.supporters.services import anonymise_supporters

pytestmark = pytest.mark.django_db

_ANSWER = re.compile(r"https?://\S+/l/[^/\s]+/answer/[a-z_]+/")


@pytest.fixture
def council(organisation: Any) -> Any:
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    return CampaignFactory(organisation=organisation, slug="council", posts_for_supporters=True,
                           recipients=[first, second])  # fmt: skip


def sent(campaign: Any, *, days_ago: float, channel: Channel = Channel.MAILTO, **kwargs: Any) -> Letter:
    letter = LetterFactory(campaign=campaign, **kwargs)
    recipient = campaign.recipients.order_by("pk").first()
    if channel == Channel.POST:
        request_post(letter=letter, recipient=recipient)
    else:
        record_delivery(letter=letter, recipient=recipient, channel=channel)
    Letter.objects.filter(pk=letter.pk).update(sent_at=timezone.now() - datetime.timedelta(days=days_ago))
    letter.refresh_from_db()
    return letter


def test_the_question_goes_once_to_letters_sent_long_enough_ago(council: Any, smtp_sink: Any, settings: Any) -> None:
    settings.REPLY_ASK_AFTER_DAYS = 14
    due = sent(council, days_ago=15, supporter__email="ana.ruiz@example.net")
    sent(council, days_ago=3)  # too soon
    sent(council, days_ago=15, supporter__email="")  # no address to ask
    sent(council, days_ago=15, channel=Channel.POST)  # waits to be posted: it has not gone
    sent(council, days_ago=400)  # long before the question existed

    assert replies.send_due_asks() == 1
    assert replies.send_due_asks() == 0  # a second round (or a second worker) sends nothing
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == ["ana.ruiz@example.net"]
    [message] = smtp_sink.parsed()
    assert message["Subject"] == "Did you get a reply to your letter about “Keep the riverside path open”?"
    assert message["Auto-Submitted"] == "auto-generated"
    links = _ANSWER.findall(plain(message))
    assert [link.rsplit("/", 2)[1] for link in links] == ["yes", "not_yet", "no"]
    for link in links:
        assert f'href="{link}"' in html(message)
    due.refresh_from_db()
    assert due.reply_asked_at is not None


def test_a_refused_message_is_asked_again_at_the_next_round(council: Any, smtp_sink: Any) -> None:
    letter = sent(council, days_ago=15)
    smtp_sink.answer = "451 4.3.0 Try later"
    assert replies.send_due_asks() == 0
    assert Letter.objects.get(pk=letter.pk).reply_asked_at is None
    smtp_sink.answer = ""
    assert replies.send_due_asks() == 1


def test_an_anonymised_supporter_is_never_asked(council: Any, smtp_sink: Any) -> None:
    # Retention anonymises a supporter whose letters it keeps: the address left
    # ("erased-N@invalid") names nobody and is never written to, so no round tries it.
    kept = sent(council, days_ago=15, supporter__email="gone@example.net")
    anonymise_supporters(supporter_ids=[kept.supporter_id])
    assert replies.due_asks() == []
    assert replies.send_due_asks() == 0
    assert smtp_sink.messages == []
    assert Letter.objects.get(pk=kept.pk).reply_asked_at is None


def test_odd_titles_and_names_make_safe_headers(council: Any, smtp_sink: Any) -> None:
    council.title = "Keep it open\r\nBcc: victim@example.org"
    council.save()
    sent(council, days_ago=15, sender_name="Ana\r\nBcc: victim@example.org", supporter__email="ana@example.net")
    assert replies.send_due_asks() == 1
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == ["ana@example.net"]
    [message] = smtp_sink.parsed()
    assert "victim" not in str(message["Bcc"] or "")
    assert "\n" not in str(message["Subject"])


def test_answer_links_are_signed_and_answers_idempotent(client: Client, council: Any) -> None:
    letter = sent(council, days_ago=15)
    link = sign_token(letter.token)
    url = reverse("public:reply_answer", args=[link, "not_yet"])
    # Opening the link (a mail scanner does) records nothing; the button does.
    page = client.get(url)
    assert page.status_code == 200
    assert Letter.objects.get(pk=letter.pk).reply_answer == ""
    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200  # a double click
    letter.refresh_from_db()
    assert letter.reply_answer == ReplyAnswer.NOT_YET
    first_at = letter.reply_answered_at

    tampered = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    assert client.post(reverse("public:reply_answer", args=[tampered, "no"])).status_code == 404
    assert client.post(reverse("public:reply_answer", args=[link, "maybe"])).status_code == 404
    assert Letter.objects.get(pk=letter.pk).reply_answered_at == first_at

    answer = client.post(reverse("public:reply_answer", args=[link, "yes"]))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("public:letter_reply", args=[link])
    assert Letter.objects.get(pk=letter.pk).reply_answer == ReplyAnswer.YES


def test_a_pasted_reply_climbs_to_reply_received(client: Client, council: Any) -> None:
    letter = sent(council, days_ago=15)
    recipient = council.recipients.order_by("pk").first()
    link = sign_token(letter.token)
    url = reverse("public:letter_reply", args=[link])
    page = client.get(url)
    assert page.status_code == 200
    assert "Councillor Rowan Ashby" in page.content.decode()
    assert "Dr Amal Haddad" not in page.content.decode()  # the letter never went to her

    # Errors next to the field, what was typed kept.
    empty = client.post(url, {"recipient": recipient.pk, "text": "", "may_quote": "on"})
    assert empty.status_code == 400
    assert "Paste the text of the reply, or upload it as a file." in empty.content.decode()
    long = client.post(url, {"recipient": recipient.pk, "text": "x" * 20_001})
    assert long.status_code == 400
    assert "The reply is too long" in long.content.decode()
    other = council.recipients.order_by("pk").last()
    assert client.post(url, {"recipient": other.pk, "text": "Hello"}).status_code == 400

    data = {"recipient": recipient.pk, "text": "Dear Ana,\n<script>alert(1)</script> we will keep it open."}
    saved = client.post(url, data)
    assert saved.status_code == 302
    assert client.post(url, data).status_code == 302  # a double click: one reply
    [reply] = Reply.objects.all()
    assert (reply.letter_id, reply.recipient_id, reply.source) == (letter.pk, recipient.pk, "supporter")
    assert (reply.may_quote, reply.approved_at) == (False, None)
    assert Delivery.objects.get(letter=letter).evidence == Evidence.REPLY_RECEIVED
    assert Letter.objects.get(pk=letter.pk).reply_answer == ReplyAnswer.YES
    assert kept_campaign(council.pk) == recount_campaign(council.pk)
    shown = client.get(saved["Location"]).content.decode()
    assert "the reply is saved" in shown
    assert "<script>alert(1)</script>" not in shown

    # Erasing the letter erases its replies.
    delete_letters(letter_ids=[letter.pk])
    assert not Reply.objects.exists()


def test_expired_and_tampered_links_are_refused(client: Client, council: Any) -> None:
    letter = sent(council, days_ago=15)
    link = sign_token(letter.token)
    assert client.get(reverse("public:letter_reply", args=[link + "x"])).status_code == 404
    assert client.post(reverse("public:letter_reply", args=["nothing"]), {"text": "Hi"}).status_code == 404
    assert not Reply.objects.exists()


def _forwarded(text: str, *, auto: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Ruiz <ana.ruiz@example.net>"
    message["To"] = "replies@example.org"
    message["Subject"] = "Fwd: Your letter about the riverside path"
    if auto:
        message["Auto-Submitted"] = auto
    message.set_content(text)
    return bytes(message)


@pytest.mark.django_db(transaction=True)  # the receiver stores from its own thread and connection
def test_a_forwarded_reply_arrives_through_a_real_smtp_session(client: Client, council: Any, inbound: Any) -> None:
    letter = sent(council, days_ago=15, channel=Channel.EMAIL)
    delivery = Delivery.objects.get(letter=letter)
    assert delivery.evidence == Evidence.NONE  # queued, never sent: a reply proves it arrived all the same
    page = client.get(reverse("public:letter_reply", args=[sign_token(letter.token)])).content.decode()
    assert replies.forward_addresses(letter) == []  # not gone yet: nothing to forward
    assert "forward-addresses" not in page

    record_delivery(letter=letter, recipient=delivery.sent_recipient, channel=Channel.MAILTO)
    mailto = Delivery.objects.get(letter=letter, channel=Channel.MAILTO)
    [(name, address)] = replies.forward_addresses(letter)
    assert (name, address) == ("Councillor Rowan Ashby", addresses.reply_address(mailto.pk))
    page = client.get(reverse("public:letter_reply", args=[sign_token(letter.token)])).content.decode()
    assert address in page

    assert inbound.send(_forwarded("Out of office until Monday.", auto="auto-replied"), to=[address]) == {}
    assert not Reply.objects.exists()
    assert inbound.send(_forwarded("We will keep the path open.\n-- Rowan"), to=[address]) == {}
    assert inbound.send(_forwarded("We will keep the path open.\n-- Rowan"), to=[address]) == {}  # again
    [reply] = Reply.objects.all()
    assert (reply.source, reply.recipient_id, reply.may_quote) == ("inbound", mailto.recipient_id, False)
    assert "We will keep the path open." in reply.text
    assert Delivery.objects.get(pk=mailto.pk).evidence == Evidence.REPLY_RECEIVED
    assert kept_campaign(council.pk) == recount_campaign(council.pk)

    # Made-up and tampered addresses are refused at RCPT, saying nothing of any letter.
    for wrong in (address.replace("replies+", "replies+9"), "replies+1-000000000000@" + address.split("@")[1]):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            inbound.send(_forwarded("Hello"), to=[wrong])
        assert refused.value.recipients[wrong][0] == 550
    assert Reply.objects.count() == 1
