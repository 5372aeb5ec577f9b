"""Retention: letters of a campaign closed longer than LETTER_RETENTION_DAYS lose their
senders' personal data (worker housekeeping, or the command), a chunk at a time, while
every tally and the public counter stay what they were and equal to a recount."""

from __future__ import annotations

import datetime
import io
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tests.delivery.test_inbound import copy_of
from tests.factories import CampaignFactory, RecipientFactory
from tests.tallies.recount import kept_campaign, recount_campaign
from undersigned.campaigns.enums import CampaignStatus, Channel
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.services import set_campaign_status
from undersigned.core.models import ActionLog
from undersigned.delivery.models import Delivery
from undersigned.delivery.services import record_copy, record_delivery
from undersigned.letters.models import Letter
from undersigned.letters.services import LetterInput, save_letter
from undersigned.ops.management.commands.run_worker import housekeeping
from undersigned.privacy import retention

pytestmark = pytest.mark.django_db(transaction=True)


def _letters(campaign: Campaign, recipient: Any, count: int) -> list[Letter]:
    made = []
    for n in range(count):
        letter = save_letter(
            campaign=campaign,
            submission_key=uuid.uuid4(),
            data=LetterInput(
                name=f"Writer {n} of {campaign.slug}",
                email=f"writer{n}@{campaign.slug}.example.net",
                town="Wendmouth",
                country=("IE", "FR", "")[n % 3],
                postal_address=f"{n} Eastfield Road\nWendmouth",
                subject="Please keep the path open",
                body=f"Dear Chair,\n\nMy own words number {n}.\n\nYours, Writer {n}",
            ),
            ip_hash="f0" * 32,
        )
        record_delivery(letter=letter, recipient=recipient, channel=Channel.WEB_FORM)
        made.append(letter)
    return made


def _personal(campaign: Campaign) -> int:
    return Letter.objects.filter(retention._personal(), campaign=campaign).count()


def test_letters_of_a_campaign_closed_long_ago_lose_their_personal_data(
    organisation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = RecipientFactory(organisation=organisation, name="Wend River Board")
    now = timezone.now()
    # Its deadline passed 400 days ago (and it is still marked live): due.
    expired = CampaignFactory(organisation=organisation, slug="old", recipients=[board], status=CampaignStatus.LIVE)
    # Closed by its organiser today: kept for another year.
    recent = CampaignFactory(organisation=organisation, slug="recent", recipients=[board], status=CampaignStatus.LIVE)
    # Open: kept.
    running = CampaignFactory(organisation=organisation, slug="running", recipients=[board], status=CampaignStatus.LIVE)
    old_letters = _letters(expired, board, 7)
    _letters(recent, board, 2)
    _letters(running, board, 2)
    record_copy(letter_id=old_letters[0].pk, message=copy_of(old_letters[0], to=[board], body="Dear Chair, mine"))
    Campaign.objects.filter(pk=expired.pk).update(deadline=now - datetime.timedelta(days=400))
    set_campaign_status(campaign=recent, status=CampaignStatus.CLOSED, actor=None)
    for campaign in (expired, recent, running):
        campaign.refresh_from_db()
    tallies_before = kept_campaign(expired.pk)
    assert tallies_before == recount_campaign(expired.pk)
    assert tallies_before[("saved", "")] == 7
    sent_before = expired.letters_sent
    assert sent_before == 7
    assert Delivery.objects.filter(letter__campaign=expired).exclude(copy_text="").exists()

    monkeypatch.setattr(retention, "CHUNK", 3)  # 7 letters: three transactions
    with override_settings(LETTER_RETENTION_DAYS=365):
        housekeeping()

    assert _personal(expired) == 0
    assert _personal(recent) == 2
    assert _personal(running) == 2
    for letter in Letter.objects.filter(campaign=expired):
        assert (letter.sender_name, letter.sender_town, letter.sender_address) == ("", "", "")
        assert (letter.subject, letter.body, letter.ip_hash) == ("", "", "")
    assert not Delivery.objects.filter(letter__campaign=expired).exclude(copy_text="").exists()
    # What the results count is untouched: the same tallies, equal to the recount.
    assert kept_campaign(expired.pk) == tallies_before == recount_campaign(expired.pk)
    expired.refresh_from_db()
    assert expired.letters_sent == sent_before
    [log] = ActionLog.objects.filter(action="campaign.letters_anonymised")
    assert (log.object_id, log.data) == (str(expired.pk), {"letters": 7, "days": 365})

    # A year after the organiser closed it, the recent one is due too; the command does it.
    ActionLog.objects.filter(action="campaign.status", object_id=str(recent.pk)).update(
        created_at=now - datetime.timedelta(days=366)
    )
    out = io.StringIO()
    call_command("erase_expired_letters", stdout=out)
    # Its two writers have nothing else kept: their supporter rows are anonymised too.
    assert out.getvalue().strip() == "Anonymised 2 letters.\nAnonymised 2 supporters."
    assert _personal(recent) == 0
    assert _personal(running) == 2
    assert kept_campaign(recent.pk) == recount_campaign(recent.pk)
    # Nothing left to do: a second run changes nothing.
    assert retention.erase_expired_letters() == 0


def test_a_draft_with_a_past_deadline_never_closed(organisation: Any) -> None:
    draft = CampaignFactory(organisation=organisation, slug="draft", status=CampaignStatus.DRAFT)
    Campaign.objects.filter(pk=draft.pk).update(deadline=timezone.now() - datetime.timedelta(days=800))
    draft.refresh_from_db()
    assert retention.closed_at(draft, now=timezone.now()) is None
