"""Retention leaves no supporter behind: once every letter of a supporter is anonymised,
a supporter with no endorsement, no comment and no consent in force is anonymised too,
and a dump of the whole database holds no trace of their address or name. Consent
records stay as they were (append-only); the results and the counter do not move."""

from __future__ import annotations

import datetime
import io
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tests.factories import CampaignFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from tests.tallies.recount import kept_campaign, recount_campaign
from undersigned.campaigns.enums import CampaignStatus, Channel
from undersigned.campaigns.models import Campaign
from undersigned.core.models import ActionLog
from undersigned.delivery.services import record_delivery
from undersigned.discussion.services import CommentInput, discussion_for, post_comment
from undersigned.letters.services import LetterInput, save_letter
from undersigned.openletters.services import endorsing
from undersigned.privacy import retention
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentPurpose, ConsentRecord, Supporter

pytestmark = pytest.mark.django_db(transaction=True)

GONE = "gone.writer@example.net"
GONE_NAME = "Philippa Quillbrook"


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", format="json", stdout=out)
    return out.getvalue().lower()


def _write(campaign: Campaign, recipient: Any, email: str, name: str) -> None:
    letter = save_letter(
        campaign=campaign,
        submission_key=uuid.uuid4(),
        data=LetterInput(
            name=name,
            email=email,
            town="Wendmouth",
            country="IE",
            postal_address="1 Eastfield Road\nWendmouth",
            subject="Please keep the path open",
            body="Dear Chair,\n\nIn my own words.\n\nYours",
        ),
        ip_hash="f0" * 32,
    )
    record_delivery(letter=letter, recipient=recipient, channel=Channel.WEB_FORM)


def _consent(email: str, campaign: Campaign, *, granted: bool) -> None:
    supporter_services.record_consent(
        supporter=Supporter.objects.get(email=email),
        purpose=ConsentPurpose.CAMPAIGN_UPDATES,
        granted=granted,
        wording=supporter_services.campaign_updates_wording(campaign) if granted else "No more updates.",
        source="test",
        campaign=campaign,
    )


def test_supporters_left_with_nothing_are_anonymised_and_no_trace_of_them_stays(organisation: Any) -> None:
    board = RecipientFactory(organisation=organisation, name="Wend River Board")
    expired = CampaignFactory(organisation=organisation, slug="old", recipients=[board], status=CampaignStatus.LIVE)
    running = CampaignFactory(organisation=organisation, slug="open", recipients=[board], status=CampaignStatus.LIVE)
    # Gone: one old letter, and an updates opt-in given then withdrawn.
    _write(expired, board, GONE, GONE_NAME)
    _consent(GONE, expired, granted=True)
    _consent(GONE, expired, granted=False)
    # Each of these still has something that needs the row.
    _write(expired, board, "also.writing@example.net", "Writes Again")
    _write(running, board, "also.writing@example.net", "Writes Again")
    _write(expired, board, "wants.news@example.net", "Wants News")
    _consent("wants.news@example.net", expired, granted=True)
    _write(expired, board, "endorses@gmail.com", "Endorses Too")
    endorsing.record_confirmed(
        letter=make_open_letter(organisation),
        data=endorsing.EndorsementInput(name="Endorses Too", email="En.Dorses+letters@gmail.com"),
    )
    _write(expired, board, "comments@example.net", "Comments Too")
    post_comment(
        discussion=discussion_for(running),
        parent=None,
        data=CommentInput(name="Comments Too", email="Comments@example.net", body="Keep it open."),
        submission_key=uuid.uuid4(),
        ip_hash="",
        verified_email=True,
    )
    Campaign.objects.filter(pk=expired.pk).update(deadline=timezone.now() - datetime.timedelta(days=400))
    expired.refresh_from_db()
    tallies_before, sent_before = kept_campaign(expired.pk), expired.letters_sent
    assert GONE in _dump()
    consents_before = ConsentRecord.objects.count()

    out = io.StringIO()
    with override_settings(LETTER_RETENTION_DAYS=365):
        call_command("erase_expired_letters", stdout=out)
    assert out.getvalue().splitlines() == ["Anonymised 5 letters.", "Anonymised 1 supporter."]

    dump = _dump()
    for trace in (GONE, "gone.writer", GONE_NAME.lower(), "quillbrook"):
        assert trace not in dump, trace
    for kept in ("also.writing@example.net", "wants.news@example.net", "endorses@gmail.com", "comments@example.net"):
        assert kept in dump, kept
    gone = Supporter.objects.get(email__endswith="@invalid")
    assert (gone.name, gone.town, gone.country, gone.postal_address) == ("", "", "", "")
    assert gone.letters.count() == 1  # still counted in the results, naming nobody
    # Consent records are append-only: both rows stay as they were, with the anonymised row.
    assert ConsentRecord.objects.count() == consents_before
    assert list(gone.consents.values_list("granted", flat=True)) == [True, False]
    # The results and the public counter do not move.
    expired.refresh_from_db()
    assert kept_campaign(expired.pk) == tallies_before == recount_campaign(expired.pk)
    assert expired.letters_sent == sent_before
    log = ActionLog.objects.get(action="supporters.anonymised")
    assert log.data == {"supporters": 1}

    # A second run changes nothing; once the last reason goes, that supporter goes too.
    assert retention.erase_expired() == retention.Erased(letters=0, supporters=0)
    _consent("wants.news@example.net", expired, granted=False)
    assert retention.erase_unneeded_supporters() == 1
    assert "wants.news@example.net" not in _dump()
