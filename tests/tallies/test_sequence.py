"""Fence (a): after a realistic run of writes through the real services (letters saved and
edited, every channel, evidence climbing and a bounce stepping down, the email engine
sending through a real SMTP server, a posted print, letters deleted, endorsements
confirmed, withdrawn, hidden, restored and expired), every kept tally equals the recount
from the rows (``tests/tallies/recount.py``), and the results read from them say the same."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.utils import timezone

from tests.delivery.test_inbound import copy_of, dsn
from tests.factories import CampaignFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from tests.tallies.recount import (
    kept_campaign,
    kept_open_letter,
    recount_campaign,
    recount_letters_by_recipient,
    recount_open_letter,
)
from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign
from undersigned.delivery import queries
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence
from undersigned.delivery.replies import record_supporter_reply
from undersigned.delivery.sending import send_queued
from undersigned.delivery.services import delete_letters, record_bounce, record_copy, record_delivery, request_post
from undersigned.delivery.tallies import rebuild_campaign
from undersigned.letters.models import Letter
from undersigned.letters.services import LetterInput, save_letter
from undersigned.openletters import queries as letter_queries
from undersigned.openletters.models import Endorsement
from undersigned.openletters.services import endorsing, moderation
from undersigned.openletters.services.counters import rebuild_tallies

pytestmark = pytest.mark.django_db(transaction=True)

COUNTRIES = ("GB", "IE", "FR", "", "DE")


def _input(n: int, *, country: str, own_words: str = "") -> LetterInput:
    return LetterInput(
        name=f"Writer {n}",
        email=f"writer{n}@example.net",
        town="Wendmouth",
        country=country,
        postal_address="12 Eastfield Road\nWendmouth",
        subject="Please keep the riverside path open",
        body=f"Dear Chair,\n\nThe path matters to us. {own_words}\n\nYours, Writer {n}",
    )


def test_every_tally_equals_the_recount_after_a_run_of_real_writes(organisation: Any, smtp_sink: Any) -> None:
    board = RecipientFactory(organisation=organisation, name="Wend River Board")
    chair = RecipientFactory(organisation=organisation, name="Chair of the Council")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])
    campaign.refresh_from_db()
    other = CampaignFactory(organisation=organisation, slug="elsewhere", recipients=[board])
    other.refresh_from_db()

    keys = [uuid.uuid4() for _ in range(12)]
    letters = [
        save_letter(campaign=campaign, submission_key=key, data=_input(n, country=COUNTRIES[n % 5]))
        for n, key in enumerate(keys)
    ]
    save_letter(campaign=other, submission_key=uuid.uuid4(), data=_input(99, country="FR"))
    # Edits: the same form back with another country and more of the supporter's own words.
    words = "My children walk this path to school every single morning, in all weathers, and so do I."
    save_letter(campaign=campaign, submission_key=keys[0], data=_input(0, country="IE", own_words=words))
    save_letter(campaign=campaign, submission_key=keys[1], data=_input(1, country="CZ", own_words=words * 3))
    save_letter(campaign=campaign, submission_key=keys[1], data=_input(1, country="CZ", own_words=words * 3))

    # Every channel, two recipients, one letter by two channels to one recipient.
    record_delivery(letter=letters[0], recipient=board, channel=Channel.EMAIL)
    record_delivery(letter=letters[0], recipient=board, channel=Channel.WEB_FORM)
    record_delivery(letter=letters[1], recipient=chair, channel=Channel.MAILTO)
    record_delivery(letter=letters[1], recipient=chair, channel=Channel.MAILTO)  # a second click
    record_delivery(letter=letters[2], recipient=board, channel=Channel.EMAIL)
    record_delivery(letter=letters[2], recipient=chair, channel=Channel.EMAIL)
    record_delivery(letter=letters[3], recipient=board, channel=Channel.POST)
    Campaign.objects.filter(pk=campaign.pk).update(posts_for_supporters=True)
    campaign.refresh_from_db()
    request_post(letter=letters[4], recipient=chair)  # waits to be printed: no evidence yet
    record_delivery(letter=letters[5], recipient=chair, channel=Channel.WEB_FORM)
    record_delivery(letter=letters[6], recipient=board, channel=Channel.EMAIL)
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)

    # Climbing: the copies come back, the engine sends the email through a real server.
    record_copy(letter_id=letters[1].pk, message=copy_of(letters[1], to=[chair], body="Dear Chair"))
    record_copy(letter_id=letters[7].pk, message=copy_of(letters[7], to=[board, chair], body="Dear both"))
    record_copy(letter_id=letters[7].pk, message=copy_of(letters[7], to=[board], body="Again"))  # repeated
    assert send_queued() == 4
    assert len(smtp_sink.messages) == 4
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)

    # A bounce steps one email back down to no evidence; a delay changes nothing.
    bounced = Delivery.objects.get(letter=letters[2], recipient=chair, channel=Channel.EMAIL)
    record_bounce(delivery_id=bounced.pk, message=dsn(delivery=bounced))
    delayed = Delivery.objects.get(letter=letters[6], channel=Channel.EMAIL)
    record_bounce(delivery_id=delayed.pk, message=dsn(delivery=delayed, action="delayed", status="4.4.1"))
    assert Delivery.objects.get(pk=bounced.pk).evidence == Evidence.NONE
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)

    # Replies: every delivery of the letter to that recipient that went climbs to the top
    # (an email and a web form to the board; a verified copy to the chair); pasted twice, once.
    record_supporter_reply(letter=letters[0], recipient=board, text="Thank you for writing.", may_quote=False)
    record_supporter_reply(letter=letters[7], recipient=chair, text="We will look.", may_quote=True)
    record_supporter_reply(letter=letters[7], recipient=chair, text="We will look.", may_quote=True)
    assert Delivery.objects.filter(evidence=Evidence.REPLY_RECEIVED).count() == 3
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)

    # Letters deleted (an erasure): one with deliveries, one without.
    assert delete_letters(letter_ids=[letters[5].pk, letters[11].pk, 10**9]) == 2
    assert not Letter.objects.filter(pk__in=[letters[5].pk, letters[11].pk]).exists()

    kept, recounted = kept_campaign(campaign.pk), recount_campaign(campaign.pk)
    assert kept == recounted
    assert kept_campaign(other.pk) == recount_campaign(other.pk)
    # The tallies hold what this run wrote, not an empty match.
    assert recounted[("saved", "")] == 10
    assert recounted[("best", "", Evidence.PLATFORM_DELIVERED)] == 2  # letters 2 (its board email) and 6
    assert recounted[("best", "", Evidence.REPLY_RECEIVED)] == 2  # letters 0 and 7
    assert recounted[("channel", Channel.MAILTO.value, Evidence.VERIFIED_COPY)] == 2
    assert recounted[("reached", str(chair.pk), Evidence.REPLY_RECEIVED)] == 1
    assert recounted[("country", "CZ")] == 1
    assert queries.letters_by_recipient(campaign.pk) == recount_letters_by_recipient(campaign.pk)
    assert queries.letters_by_recipient(campaign.pk) == {board.pk: 5, chair.pk: 2}

    # The results page's figures, from the tallies, are the rows' figures.
    results = queries.campaign_results(campaign)
    assert results.saved == Letter.objects.filter(campaign=campaign).count()
    assert dict(results.countries) == {
        country: Letter.objects.filter(campaign=campaign, sender_country=country).count()
        for country in ("GB", "IE", "FR", "", "DE", "CZ")
        if Letter.objects.filter(campaign=campaign, sender_country=country).exists()
    }
    mean = sum(Letter.objects.filter(campaign=campaign).values_list("uniqueness", flat=True)) / results.saved
    assert results.own_words_mean == pytest.approx(mean)
    email = next(c for c in results.channels if c.channel == Channel.EMAIL)
    assert email.by_evidence == {
        level: Delivery.objects.filter(letter__campaign=campaign, channel=Channel.EMAIL, evidence=level).count()
        for level in (Evidence.NONE, Evidence.PLATFORM_DELIVERED, Evidence.REPLY_RECEIVED)
    }
    assert [day.saved for day in results.days] == [10]

    # Counting again from the rows (for bulk loads and repairs) gives the same tallies.
    rebuild_campaign(campaign.pk)
    assert kept_campaign(campaign.pk) == recounted


def test_endorsement_tallies_equal_the_recount(organisation: Any, smtp_sink: Any) -> None:
    letter = make_open_letter(organisation)
    made = [
        endorsing.endorse(
            letter=letter,
            data=endorsing.EndorsementInput(name=f"Endorser {n}", email=f"e{n}@example.org", country="IE"),
        )
        for n in range(8)
    ]
    endorsing.endorse(letter=letter, data=endorsing.EndorsementInput(name="Again", email="e0@example.org"))
    for endorsement in made[:5]:
        endorsement.refresh_from_db()
        endorsing.confirm(endorsement_id=endorsement.pk, nonce=endorsement.confirm_nonce)
    recorded = endorsing.record_confirmed(
        letter=letter, data=endorsing.EndorsementInput(name="On paper", email="paper@example.org", country="CZ")
    )
    made[0].refresh_from_db()
    endorsing.withdraw(endorsement_id=made[0].pk, secret=made[0].withdraw_secret)  # confirmed: withdrawn
    made[5].refresh_from_db()
    endorsing.withdraw(endorsement_id=made[5].pk, secret=made[5].withdraw_secret)  # pending: deleted
    moderation.hide(endorsement=made[1], reason="spam", actor=None)
    moderation.hide(endorsement=made[6], reason="spam", actor=None)  # a pending one
    moderation.hide(endorsement=made[2], reason="spam", actor=None)
    moderation.restore(endorsement=made[2], reason="not spam", actor=None)
    # One waiting endorsement runs out of time and is removed.
    Endorsement.objects.filter(pk=made[7].pk).update(confirm_expires_at=timezone.now() - datetime.timedelta(hours=1))
    assert endorsing.remove_expired() == 1

    kept, recounted = kept_open_letter(letter.pk), recount_open_letter(letter.pk)
    assert kept == recounted
    rebuild_tallies(letter.pk)
    assert kept_open_letter(letter.pk) == recounted
    assert recounted == {("hidden", ""): 2, ("day", timezone.localdate().isoformat()): 6}
    letter.refresh_from_db()
    results = letter_queries.letter_results(letter)
    assert (results.confirmed, results.withdrawn, results.hidden, results.pending) == (4, 1, 2, 0)
    assert results.days == [(timezone.localdate(), 6)]
    assert recorded.status == "confirmed"
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 0
