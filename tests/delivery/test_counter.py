"""The public counter (``Campaign.letters_sent``, delivery/counter.py) counts letters sent.

A letter counts once, when its first delivery reaches self-reported evidence or above;
letters only waiting (a queued email, a post request) do not count yet. The email
engine runs for real against the SMTP sink.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery import counter, sending
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence, PrintJob, PrintJobStatus
from undersigned.delivery.services import mark_print_job_posted, record_delivery, request_post

pytestmark = pytest.mark.django_db

recount = __import__("undersigned.delivery.migrations.0008_recount_letters_sent", fromlist=["recount"]).recount


@pytest.fixture
def two_recipients(organisation: Any) -> Any:
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby", email="ashby@wendmouth.example")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad", email="haddad@wendmouth.example")
    return CampaignFactory(
        organisation=organisation,
        slug="count",
        posts_for_supporters=True,
        recipients=[first, second],
    )


def sent(campaign: Any) -> int:
    campaign.refresh_from_db()
    return int(campaign.letters_sent)


def test_a_letter_reported_by_several_channels_to_one_recipient_counts_once(two_recipients: Any) -> None:
    first, second = two_recipients.recipients.order_by("campaignrecipient__position")
    letter = LetterFactory(campaign=two_recipients)
    record_delivery(letter=letter, recipient=first, channel=Channel.MAILTO)
    assert sent(two_recipients) == 1
    record_delivery(letter=letter, recipient=first, channel=Channel.POST)
    record_delivery(letter=letter, recipient=second, channel=Channel.MAILTO)
    record_delivery(letter=letter, recipient=first, channel=Channel.MAILTO)  # told twice
    assert sent(two_recipients) == 1
    LetterFactory(campaign=two_recipients)  # written, never sent
    assert sent(two_recipients) == 1


def test_an_email_counts_when_the_server_accepts_it(two_recipients: Any, smtp_sink: Any) -> None:
    first, second = two_recipients.recipients.order_by("campaignrecipient__position")
    letter = LetterFactory(campaign=two_recipients)
    record_delivery(letter=letter, recipient=first, channel=Channel.EMAIL)
    record_delivery(letter=letter, recipient=second, channel=Channel.EMAIL)
    assert sent(two_recipients) == 0  # queued: waiting, not sent
    letter.refresh_from_db()
    assert letter.sent_at is not None  # yet its text is frozen from the first delivery on
    assert sending.send_queued() == 2
    assert len(smtp_sink.messages) == 2
    assert sent(two_recipients) == 1  # two emails, one letter
    assert set(Delivery.objects.values_list("evidence", flat=True)) == {Evidence.PLATFORM_DELIVERED}


def test_a_post_request_counts_when_the_organisation_posts_it(two_recipients: Any, organiser: Any) -> None:
    first, second = two_recipients.recipients.order_by("campaignrecipient__position")
    letters = [LetterFactory(campaign=two_recipients) for _ in range(3)]
    for letter in letters:
        request_post(letter=letter, recipient=first)
        request_post(letter=letter, recipient=second)
    record_delivery(letter=letters[0], recipient=first, channel=Channel.MAILTO)  # one sent it already
    assert sent(two_recipients) == 1
    job = PrintJob.objects.create(
        campaign=two_recipients, paper="a4", total=6, done=6, status=PrintJobStatus.DONE,
    )  # fmt: skip
    PrintJob.objects.filter(pk=job.pk).update(created_at=timezone.now() + timedelta(seconds=1))
    job.refresh_from_db()
    assert mark_print_job_posted(job=job, actor=organiser) == 6
    assert sent(two_recipients) == 3
    assert mark_print_job_posted(job=job, actor=organiser) == 6  # a second click
    assert sent(two_recipients) == 3


def test_counting_a_counted_letter_moves_nothing(two_recipients: Any) -> None:
    letter = LetterFactory(campaign=two_recipients)
    assert counter.count_letter(letter_id=letter.pk, campaign_id=two_recipients.pk) is True
    assert counter.count_letter(letter_id=letter.pk, campaign_id=two_recipients.pk) is False
    other = LetterFactory(campaign=two_recipients)
    assert counter.count_letters(letter_ids=[letter.pk, other.pk, other.pk]) == 1
    assert sent(two_recipients) == 2


def test_the_migration_recounts_letters_sent_under_the_new_meaning(two_recipients: Any) -> None:
    first, _ = two_recipients.recipients.order_by("campaignrecipient__position")
    queued_email, requested_post, reported, bounced = (LetterFactory(campaign=two_recipients) for _ in range(4))
    made = {
        queued_email: (Channel.EMAIL, DeliveryStatus.QUEUED, Evidence.NONE),
        requested_post: (Channel.POST, DeliveryStatus.QUEUED, Evidence.NONE),
        reported: (Channel.WEB_FORM, DeliveryStatus.REPORTED, Evidence.SELF_REPORTED),
        bounced: (Channel.EMAIL, DeliveryStatus.BOUNCED, Evidence.NONE),
    }
    for letter, (channel, status, evidence) in made.items():
        Delivery.objects.create(letter=letter, recipient=first, channel=channel, status=status, evidence=evidence)
    type(queued_email).objects.update(sent_at=timezone.now())
    type(two_recipients).objects.filter(pk=two_recipients.pk).update(letters_sent=4)  # the old meaning

    recount(apps, None)

    assert sent(two_recipients) == 2  # the reported letter and the one that went out, then bounced
    counted = set(type(queued_email).objects.filter(counted_at__isnull=False).values_list("pk", flat=True))
    assert counted == {reported.pk, bounced.pk}
