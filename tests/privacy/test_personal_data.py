"""Everything kept about one address is collected, and erased without a trace: a dump
of the whole database afterwards holds neither the address (in any of its spellings)
nor the name, while every kept tally and counter still equals a recount."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.factories import CampaignFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from tests.tallies.recount import kept_campaign, kept_open_letter, recount_campaign, recount_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.core.emails import mailbox_identity
from undersigned.core.models import ActionLog
from undersigned.delivery import replies, sending
from undersigned.delivery.models import Reply
from undersigned.delivery.services import record_delivery
from undersigned.discussion.models import BlockKind, Comment, KnownEmail
from undersigned.discussion.services import CommentInput, block_commenter, discussion_for, is_blocked, post_comment
from undersigned.letters.models import Letter
from undersigned.letters.services import LetterInput, save_letter
from undersigned.openletters.models import (
    Endorsement,
    EndorsementCountry,
    EndorsementStatus,
    OpenLetter,
    OpenLetterStatus,
)
from undersigned.openletters.services import endorsing, versions
from undersigned.openletters.services import updates as update_services
from undersigned.privacy.personal_data import KINDS, collect, erase
from undersigned.supporters.models import ConsentPurpose, ConsentRecord, Supporter
from undersigned.supporters.services import record_consent

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Ada Quillfeather"
# One Gmail mailbox, spelt four ways on four forms; she asks with a fifth.
LETTER_EMAIL = "Ada.Quillfeather+letters@Gmail.com"
ENDORSE_EMAIL = "ada.quillfeather@googlemail.com"
COMMENT_EMAIL = "ADAQUILLFEATHER+talk@gmail.com"
ASKED_WITH = "adaquill.feather@gmail.com"
SPELLINGS = [LETTER_EMAIL, ENDORSE_EMAIL, COMMENT_EMAIL, "adaquillfeather@gmail.com", "quillfeather"]


def _letter(campaign: Any, *, email: str, name: str, country: str = "IE") -> Letter:
    return save_letter(
        campaign=campaign,
        submission_key=uuid.uuid4(),
        data=LetterInput(
            name=name,
            email=email,
            town="Wendmouth",
            country=country,
            postal_address="12 Eastfield Road\nWendmouth",
            subject="Please keep the riverside path open",
            body=f"Dear Chair,\n\nThe path matters to me.\n\nYours, {name}",
        ),
        ip_hash="a1" * 32,
    )


def _person_everywhere(organisation: Any) -> dict[str, Any]:
    board = RecipientFactory(organisation=organisation, name="Wend River Board")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board])
    mine = _letter(campaign, email=LETTER_EMAIL, name=NAME)
    other = _letter(campaign, email="someone.else@example.org", name="Bram Otherly", country="FR")
    record_delivery(letter=mine, recipient=board, channel=Channel.MAILTO)
    record_delivery(letter=other, recipient=board, channel=Channel.WEB_FORM)
    # The board answered her, and she pasted the answer with a photo of the printed reply.
    photo = SimpleUploadedFile("reply.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
    replies.record_supporter_reply(
        letter=mine, recipient=board, text=f"Dear {NAME}, the board will reply in full.", may_quote=True, upload=photo
    )
    record_consent(
        supporter=mine.supporter,
        purpose=ConsentPurpose.CAMPAIGN_UPDATES,
        granted=True,
        wording="Send me updates about this campaign.",
        source="thank-you page",
        campaign=campaign,
        ip_hash="b2" * 32,
    )
    # An update of the campaign reaches her (she agreed), sent by the engine into the sink.
    update = update_services.save_draft(
        actor=None, campaign=campaign, subject="The path stays open", body="Thank you.", language="en", countries=[]
    )
    update_services.queue(update=update, actor=None)
    update_services.fan_out(update.pk)
    assert sending.send_queued() == 1

    open_letter = make_open_letter(organisation)
    hers = endorsing.endorse(
        letter=open_letter,
        data=endorsing.EndorsementInput(
            name=NAME, email=ENDORSE_EMAIL, country="IE", statement=f"I am {NAME}.", wants_updates=True
        ),
        ip_hash="e5" * 32,
    )
    hers.refresh_from_db()
    endorsing.confirm(endorsement_id=hers.pk, nonce=hers.confirm_nonce)  # records her updates consent
    endorsing.record_confirmed(
        letter=open_letter, data=endorsing.EndorsementInput(name="Bram Otherly", email="b@example.org", country="FR")
    )
    second = OpenLetter.objects.create(
        organisation=organisation,
        slug="second-letter",
        title="A second letter",
        text="Keep the ferry running.",
        status=OpenLetterStatus.PUBLISHED,
    )
    versions.record_version(letter=second)
    second.refresh_from_db()
    endorsing.endorse(letter=second, data=endorsing.EndorsementInput(name=NAME, email=LETTER_EMAIL, country="IE"))

    discussion = discussion_for(campaign)
    comment = post_comment(
        discussion=discussion,
        parent=None,
        data=CommentInput(name=NAME, email=COMMENT_EMAIL, body=f"Signed, {NAME}. See you at the path."),
        submission_key=uuid.uuid4(),
        ip_hash="c3" * 32,
        verified_email=True,
    )
    post_comment(
        discussion=discussion,
        parent=comment,
        data=CommentInput(name="Bram Otherly", email="b@example.org", body="Me too."),
        submission_key=uuid.uuid4(),
        ip_hash="d4" * 32,
        verified_email=True,
    )
    return {"campaign": campaign, "open_letter": open_letter, "second": second, "discussion": discussion}


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", format="json", stdout=out)
    return out.getvalue().lower()


def test_collect_lists_everything_of_every_spelling_of_the_mailbox(organisation: Any, smtp_sink: Any) -> None:
    campaign = _person_everywhere(organisation)["campaign"]
    data = collect(ASKED_WITH)

    assert list(data) == [kind.key for kind in KINDS]
    assert json.loads(json.dumps(data)) == data  # the download is plain JSON
    assert sorted(s["email"] for s in data["supporter"]) == [
        "ada.quillfeather+letters@gmail.com",  # her letter's
        "ada.quillfeather@googlemail.com",  # her endorsement's updates consent
    ]
    [letter] = data["letters"]
    assert (letter["sender_name"], letter["campaign"]) == (NAME, campaign.title)
    assert [(d["recipient"], d["channel"], d["evidence"]) for d in letter["deliveries"]] == [
        ("Wend River Board", "mailto", "Reply received")  # self-reported, then her pasted reply
    ]
    assert sorted((e["open_letter"], e["status"]) for e in data["endorsements"]) == sorted(
        (title, status)
        for title, status in OpenLetter.objects.filter(endorsements__name=NAME).values_list(
            "title", "endorsements__status"
        )
    )
    assert len(data["endorsements"]) == 2
    [comment] = data["comments"]
    assert comment["body"] == f"Signed, {NAME}. See you at the path."
    assert [k["via"] for k in data["known_addresses"]] == ["account"]
    wordings = sorted(c["wording"] for c in data["consents"])
    assert len(wordings) == 2
    assert wordings[0] == "Send me updates about this campaign."
    assert wordings[1].startswith("Yes, Friends of the River Wend may email me updates about the open letter")
    [sent] = data["update_sends"]
    assert (sent["subject"], sent["about"], sent["status"]) == ("The path stays open", campaign.title, "sent")
    [reply] = data["replies"]
    assert (reply["recipient"], reply["text"], reply["file_type"]) == (
        "Wend River Board",
        f"Dear {NAME}, the board will reply in full.",
        "image/png",
    )
    assert (reply["file_bytes"], reply["may_quote"]) == (72, True)
    assert reply["file"].startswith("reply-")
    # Nobody else's.
    assert "Bram Otherly" not in json.dumps(data)


def test_erase_leaves_no_trace_in_a_dump_and_every_count_right(organisation: Any, smtp_sink: Any) -> None:
    made = _person_everywhere(organisation)
    campaign, open_letter, discussion = made["campaign"], made["open_letter"], made["discussion"]
    before = _dump()
    for spelling in SPELLINGS:
        assert spelling.lower() in before  # the dump check below is not an empty match
    assert NAME.lower() in before
    open_letter.refresh_from_db()
    assert (open_letter.verified_count, open_letter.withdrawn_count) == (2, 0)
    discussion.refresh_from_db()
    comments_shown = discussion.comment_count
    # A moderator blocked her address: the block stays after erasure (it is the
    # organisation's, not hers to lift), holding only a keyed hash and a masked hint.
    hers = Comment.objects.get(email_key=mailbox_identity(COMMENT_EMAIL))
    assert block_commenter(comment=hers, kind=BlockKind.EMAIL, actor=None) is not None
    [stored] = Reply.objects.values_list("file", flat=True)
    assert default_storage.exists(stored)

    audit = erase(ASKED_WITH)

    dump = _dump()
    for spelling in SPELLINGS:
        assert spelling.lower() not in dump
    assert NAME.lower() not in dump
    assert "ada" not in json.dumps(audit.data).lower()
    # The block still stops her address, by its hash.
    assert is_blocked(organisation_id=organisation.pk, email=COMMENT_EMAIL, ip_hash="")
    assert not default_storage.exists(stored)  # the reply's file went with it
    assert not Reply.objects.exists()
    assert audit.data == {
        "replies": 1,
        "letters": 1,
        "endorsements": 2,
        "comments": 1,
        "known_addresses": 1,
        "consents": 2,
        "supporter": 2,
        "update_sends": 1,
    }
    assert collect(ASKED_WITH) == {kind.key: [] for kind in KINDS}

    # Counts stay right: the results' tallies equal the recount, the open letter counts
    # her endorsement among the withdrawn, the thread keeps its shape and its count.
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)
    assert recount_campaign(campaign.pk)[("saved", "")] == 1
    for letter in (open_letter, made["second"]):
        assert kept_open_letter(letter.pk) == recount_open_letter(letter.pk)
    open_letter.refresh_from_db()
    assert (open_letter.verified_count, open_letter.withdrawn_count) == (1, 1)
    assert dict(EndorsementCountry.objects.filter(letter=open_letter).values_list("country", "count")) == {
        "IE": 0,
        "FR": 1,
    }
    assert Endorsement.objects.filter(letter=open_letter, status=EndorsementStatus.WITHDRAWN).count() == 1
    assert not Endorsement.objects.filter(letter=made["second"]).exists()  # never confirmed: gone
    discussion.refresh_from_db()
    assert discussion.comment_count == comments_shown
    erased = Comment.objects.get(author_name="")
    assert erased.replies.count() == 1
    assert (erased.email, erased.ip_hash) == ("", "")
    assert not KnownEmail.objects.filter(email__contains="quill").exists()
    assert list(Supporter.objects.values_list("email", flat=True)) == ["someone.else@example.org"]
    assert ConsentRecord.objects.count() == 0
    assert ActionLog.objects.filter(action="personal_data.erased").count() == 1
    # Erasing again finds nothing more and breaks nothing.
    assert set(erase(ASKED_WITH).data.values()) == {0}
