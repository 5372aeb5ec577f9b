"""Writes for deliveries: recording how a letter went to a recipient, and sending email.

Every channel records a ``Delivery``. For the channels the supporter carries out
themselves (mailto, web form, post) it is ``reported`` with ``self_reported``
evidence when they tell us; for ``email`` it is queued and a worker sends it.
Mail that comes back to the platform (``undersigned inbound``) is recorded here too:
a copy of a mailto letter verifies its delivery, a bounce marks one failed.
"""

from __future__ import annotations

import logging
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.models import ActionLog, log_action
from undersigned.letters import tallies as letter_tallies
from undersigned.letters.models import Letter

from . import bounces, bulk_print, counter, job_errors, queries
from .models import Delivery, DeliveryStatus, Evidence, PrintJob, PrintJobStatus
from .printing import PAPERS
from .sending import wake_senders
from .tallies import tallying
from .tasks import build_print_job, send_posted_notices


class ChannelUnavailable(Exception):
    """This channel can't carry this letter to this recipient; the message says why."""


def check_channel(*, letter: Letter, recipient: Recipient, channel: Channel) -> None:
    campaign = letter.campaign
    if channel not in campaign.template.allowed_channels:
        raise ChannelUnavailable(_("This campaign does not offer that way of sending."))
    if not campaign.recipients.filter(pk=recipient.pk).exists():
        raise ChannelUnavailable(_("That recipient is not part of this campaign."))
    if letter.addressed_to_id is not None and recipient.pk != letter.addressed_to_id:
        # A routed letter goes to the one member the composer addressed (campaigns/routing.py).
        raise ChannelUnavailable(_("This letter is addressed to another member of the group."))
    if channel in (Channel.EMAIL, Channel.MAILTO) and not recipient.email:
        raise ChannelUnavailable(_("We have no email address for %(name)s.") % {"name": recipient.name})
    if channel == Channel.WEB_FORM and not recipient.web_form_url:
        raise ChannelUnavailable(_("%(name)s has no web form.") % {"name": recipient.name})
    if channel == Channel.POST:
        if not recipient.postal_address:
            raise ChannelUnavailable(_("We have no postal address for %(name)s.") % {"name": recipient.name})
        if not letter.sender_address.strip():
            raise ChannelUnavailable(_("Add your postal address first: a posted letter needs a sender's address."))


def _mark_letter_sent(letter: Letter, *, count: bool) -> None:
    """The letter's first delivery is recorded: its text is frozen (``sent_at``).

    ``count``: the delivery reached self-reported evidence or above, so the letter counts
    in the public counter (``counter``); a queued email or a post request does not yet.
    """
    now = timezone.now()
    if Letter.objects.filter(pk=letter.pk, sent_at__isnull=True).update(sent_at=now):
        letter.sent_at = now
    if count:
        counter.count_letter(letter_id=letter.pk, campaign_id=letter.campaign_id, now=now)


def request_post(*, letter: Letter, recipient: Recipient) -> Delivery:
    """The supporter asks the organisation to print and post the letter for them.

    The delivery waits as ``queued`` until organisers print the campaign's post in bulk.
    If the supporter already posted it themselves, nothing changes.
    """
    if not letter.campaign.posts_for_supporters:
        raise ChannelUnavailable(_("This campaign's organisers don't post letters for supporters."))
    check_channel(letter=letter, recipient=recipient, channel=Channel.POST)
    with tallying([letter.pk]):
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            letter=letter, recipient=recipient, channel=Channel.POST, defaults={"status": DeliveryStatus.QUEUED}
        )
        if created:
            log_action("delivery.post_requested", delivery)
        _mark_letter_sent(letter, count=False)  # counted when the organisation posts it
    return delivery


def record_delivery(
    *, letter: Letter, recipient: Recipient, channel: Channel, copy_to_sender: bool = False
) -> Delivery:
    """Record that the letter went (or should go) to the recipient through the channel.

    Idempotent: asking twice for the same letter, recipient and channel returns the same
    delivery and counts the letter once. ``copy_to_sender`` (email only) copies the
    supporter on the message we send.
    """
    check_channel(letter=letter, recipient=recipient, channel=channel)
    with tallying([letter.pk]):
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            letter=letter,
            recipient=recipient,
            channel=channel,
            defaults={"status": DeliveryStatus.QUEUED, "copy_to_sender": copy_to_sender and channel == Channel.EMAIL},
        )
        if channel == Channel.EMAIL:
            if created:
                log_action("delivery.queued", delivery, channel=str(channel))
                # robust: the delivery is committed; a wake-up lost to a dropped connection
                # is made good by the worker's housekeeping (schedule_due), so it must not
                # turn a recorded letter into an error page.
                transaction.on_commit(wake_senders, robust=True)
        elif delivery.reported_at is None:
            delivery.status = DeliveryStatus.REPORTED
            delivery.evidence = max(delivery.evidence, Evidence.SELF_REPORTED)
            delivery.reported_at = timezone.now()
            delivery.save(update_fields=["status", "evidence", "reported_at", "updated_at"])
            log_action("delivery.reported", delivery, channel=str(channel))
        # An email counts when our mail server accepts it (sending.py), not when queued.
        _mark_letter_sent(letter, count=channel != Channel.EMAIL)
    return delivery


# --- Mail that comes back to the platform: copies of mailto letters, and bounces ------
# `undersigned inbound` (delivery/inbound.py) receives it and calls the two services below.

logger = logging.getLogger(__name__)

# A copy is kept as proof of what was sent, not as a mailbox: long enough for any letter
# (the composer caps a letter at 20,000 characters) plus a supporter's additions, short
# enough that a mail app quoting a whole thread below the letter can't fill the database.
COPY_TEXT_MAX_CHARS = 50_000
_LAST_ERROR_MAX_CHARS = 2000  # as for a refused send
_FLAG_REASON_MAX_CHARS = 500  # Recipient.email_flag_reason's max_length


def record_copy(*, letter_id: int, message: bytes) -> list[Delivery]:
    """A copy of a letter came back to the letter's BCC address: the supporter really sent it.

    Each campaign recipient named in the copy's To or Cc gets a mailto delivery (created if
    the supporter never told us they had sent it) with ``verified_copy`` evidence and the
    text their mail app actually sent, edits included. The first copy per delivery is the
    record: a repeat (a second send, or the same message delivered again after a
    temporary failure) changes nothing and never counts the letter twice.

    A copy for a letter that no longer exists, or naming none of the campaign's
    recipients, stores nothing.
    """
    parsed = bounces.parse(message)
    letter = Letter.objects.select_related("campaign").filter(pk=letter_id).first()
    if letter is None:
        # Deleted (e.g. the supporter erased their data): there is nothing left to prove.
        logger.info("copy for letter %s: no such letter, nothing stored", letter_id)
        return []
    named = bounces.header_addresses(parsed, "to", "cc")
    text = bounces.copy_text(parsed, max_chars=COPY_TEXT_MAX_CHARS)
    verified: list[Delivery] = []
    with tallying([letter.pk]):
        recipients = list(
            Recipient.objects.filter(campaigns=letter.campaign_id)
            .annotate(email_lower=Lower("email"))
            .filter(email_lower__in=named)
            .order_by("pk")
        )
        now = timezone.now()
        for recipient in recipients:
            delivery, created = Delivery.objects.select_for_update().get_or_create(
                letter=letter,
                recipient=recipient,
                channel=Channel.MAILTO,
                defaults={"status": DeliveryStatus.SENT},
            )
            verified.append(delivery)
            if delivery.verified_at is not None:
                log_action("delivery.copy_repeated", delivery, channel=str(Channel.MAILTO))
                continue
            if delivery.status in (DeliveryStatus.QUEUED, DeliveryStatus.REPORTED):
                delivery.status = DeliveryStatus.SENT
            delivery.evidence = max(delivery.evidence, Evidence.VERIFIED_COPY)
            delivery.verified_at = now
            delivery.copy_text = text
            delivery.save(update_fields=["status", "evidence", "verified_at", "copy_text", "updated_at"])
            log_action("delivery.copy_verified", delivery, channel=str(Channel.MAILTO), created=created)
        if verified:
            _mark_letter_sent(letter, count=True)
    if not verified:
        logger.info("copy for letter %s names none of its campaign's recipients, nothing stored", letter_id)
    else:
        logger.info("copy for letter %s: %d deliveries verified", letter_id, len(verified))
    return verified


def _update_address(delivery: Delivery) -> str:
    """The supporter's address an update's email went to."""
    return delivery.supporter.email if delivery.supporter is not None else ""


def record_bounce(*, delivery_id: int, message: bytes) -> Delivery | None:
    """A delivery status notification came back for a letter the platform emailed.

    A permanent failure (``Action: failed`` or a 5.x.x status) marks the delivery
    bounced with the server's reason and flags the recipient's address for organisers
    to fix. A delay (``Action: delayed``, 4.x.x) changes nothing: the sending server is
    still trying. Anything else at a bounce address (an auto-reply, a read receipt) is
    ignored. Returns the delivery, or None when there is no such delivery.
    """
    parsed = bounces.parse(message)  # before the row is locked: reading needs no row
    # The letter's row first, then the delivery's, as every other delivery write locks them.
    letter_id = Delivery.objects.filter(pk=delivery_id).values_list("letter_id", flat=True).first()
    with tallying([letter_id] if letter_id is not None else []):
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("recipient", "letter__supporter", "supporter")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            logger.info("bounce for delivery %s: no such delivery, nothing stored", delivery_id)
            return None
        if delivery.channel != Channel.EMAIL:
            logger.info("bounce for delivery %s: not a platform email, ignored", delivery.pk)
            return delivery
        report = bounces.read_bounce(
            parsed,
            # An update's email went to a supporter, not to a recipient.
            recipient_email=delivery.recipient.email if delivery.recipient is not None else _update_address(delivery),
            # A hand-in pack's email has no supporter behind it.
            supporter_email=delivery.letter.supporter.email if delivery.letter is not None else "",
        )
        failure = report.failure
        if failure is None:
            if report.delayed:
                logger.info("bounce for delivery %s: delivery delayed, nothing changed", delivery.pk)
            else:
                logger.info("mail for delivery %s is no failure report, ignored", delivery.pk)
            return delivery
        if delivery.evidence >= Evidence.REPLY_RECEIVED:
            # The recipient answered this letter, so it reached them; the failure is about
            # another copy (a forward, an old address) and must not undo that proof.
            logger.info("bounce for delivery %s after a reply, ignored", delivery.pk)
            return delivery
        now = timezone.now()
        delivery.status = DeliveryStatus.BOUNCED
        delivery.bounced_at = delivery.bounced_at or now
        delivery.last_error = failure.diagnostic[:_LAST_ERROR_MAX_CHARS]
        # The one step down the evidence ladder. `platform_delivered` only ever meant "a
        # mail server accepted it"; a bounce is a server saying the letter never reached
        # the recipient. Counting it as delivered would put a letter nobody received into
        # the organisers' proof, so the evidence goes back to NONE (a later reply could
        # raise it again). The campaign's `letters_sent` stays: it counts letters
        # supporters sent, and this supporter did.
        delivery.evidence = Evidence.NONE
        delivery.save(update_fields=["status", "bounced_at", "last_error", "evidence", "updated_at"])
        log_action("delivery.bounced", delivery, channel=delivery.channel)
        if report.flags_address and delivery.recipient is not None:
            # The flag shows only on the organisers' deliveries page, never on a kept page.
            Recipient.objects.filter(pk=delivery.recipient.pk).update(  # not on public pages: a flag
                email_flagged_at=Coalesce(F("email_flagged_at"), Value(now)),
                email_flag_reason=failure.diagnostic[:_FLAG_REASON_MAX_CHARS],
                updated_at=now,
            )
            log_action("recipient.email_flagged", delivery.sent_recipient, delivery=delivery.pk)
        else:
            # The report names other addresses only: the recipient's address has changed
            # since this letter went out, or a forward failed. Flagging the address they
            # have now would send organisers to fix what isn't broken.
            logger.info("bounce for delivery %s names another address; recipient not flagged", delivery.pk)
    if delivery.recipient is not None:
        delivery.recipient.refresh_from_db(fields=["email_flagged_at", "email_flag_reason", "updated_at"])
    logger.info("delivery %s bounced", delivery.pk)
    return delivery


# --- Printing in bulk: print jobs, built by a worker in chunks (delivery/bulk_print.py) ---


class NothingToPrint(Exception):
    """No letter of the campaign waits to be posted."""


def start_print_job(*, campaign: Campaign, paper: str, actor: object) -> PrintJob:
    """Start printing every letter of the campaign that waits to be posted, as one PDF.

    Idempotent for a double click: while a job for the same campaign and paper waits or
    prints, that job is returned and no second one starts. A job that has stopped
    moving (its worker died, or its task was lost; see ``bulk_print.is_stalled``) is
    marked failed and a new one starts, which is how organisers restart a print.
    Raises ``NothingToPrint`` when no letter waits, ``ValueError`` for an unknown paper.
    """
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}")
    user_model = get_user_model()
    requested_by = actor if isinstance(actor, user_model) and actor.is_authenticated else None
    with transaction.atomic():
        # Two clicks that arrive together queue up on the campaign's row (PostgreSQL; on
        # SQLite every write transaction is exclusive), so the second sees the first's job.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk", flat=True).first()
        active = bulk_print.active_job(campaign.pk, paper)
        if active is not None:
            if not bulk_print.is_stalled(active):
                return active
            reason = job_errors.RESTARTED.stored()
            if not bulk_print.fail_stalled(active, reason=reason, actor=actor):
                return PrintJob.objects.get(pk=active.pk)
        total = queries.letters_waiting(campaign.pk)
        if not total:
            raise NothingToPrint(_("No letters are waiting to be posted."))
        job = PrintJob.objects.create(campaign=campaign, paper=paper, total=total, requested_by=requested_by)
        log_action("print_job.started", job, actor=actor, paper=paper, total=total)
        # robust: a job whose task is lost stalls and is failed by housekeeping, to be started again.
        transaction.on_commit(partial(build_print_job.enqueue, job.pk), robust=True)
    return job


def record_print_job_download(*, job: PrintJob, actor: object) -> None:
    """A print job's PDF holds supporters' names and addresses: who downloads it is kept."""
    log_action("print_job.downloaded", job, actor=actor)


def record_campaign_export(*, campaign: Campaign, what: str, actor: object) -> None:
    """A campaign's export (letters, deliveries, supporters who agreed to hear more) may
    name people: who downloads one, and which, is kept."""
    log_action("export.downloaded", campaign, actor=actor, what=what)


POSTED_CHUNK = 500  # deliveries updated, and audit rows written, per statement


def mark_print_job_posted(*, job: PrintJob, actor: object) -> int:
    """The organiser has posted a finished print: its letters' deliveries become sent by post.

    The letters are those the job printed: the campaign's post deliveries that were
    waiting when it was started and still are. Each becomes ``sent`` with
    ``platform_delivered`` evidence (the organisation put it in the post itself) and
    gets an audit row; the job keeps who marked it, when, and how many. Idempotent: a
    second click (or a second organiser) changes nothing and returns the first count.
    Raises ``ValueError`` for a job that has not finished printing.
    """
    if job.status != PrintJobStatus.DONE:
        raise ValueError("Only a finished print can be marked as posted.")
    user_model = get_user_model()
    posted_by = actor if isinstance(actor, user_model) and actor.is_authenticated else None
    with transaction.atomic():
        now = timezone.now()
        # The gate: only the first request gets past this conditional update.
        if not PrintJob.objects.filter(pk=job.pk, posted_at__isnull=True).update(
            posted_at=now, posted_by=posted_by, updated_at=now
        ):
            job.refresh_from_db()
            return job.posted_count
        printed = list(bulk_print.printed_by(job).values_list("pk", "letter_id"))
        ids = [pk for pk, _ in printed]
        for start in range(0, len(ids), POSTED_CHUNK):
            chunk = ids[start : start + POSTED_CHUNK]
            with tallying(letter_id for _, letter_id in printed[start : start + POSTED_CHUNK]):
                Delivery.objects.filter(pk__in=chunk, status=DeliveryStatus.QUEUED).update(
                    status=DeliveryStatus.SENT, evidence=Evidence.PLATFORM_DELIVERED, sent_at=now, updated_at=now
                )
            ActionLog.objects.bulk_create(
                ActionLog(
                    action="delivery.posted",
                    object_type=Delivery._meta.label_lower,
                    object_id=str(pk),
                    actor=posted_by,
                    data={"channel": str(Channel.POST), "print_job": job.pk},
                )
                for pk in chunk
            )
        posted_letters = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENT).values_list(
            "letter_id", flat=True
        )
        counter.count_letters(letter_ids=set(posted_letters), now=now)
        PrintJob.objects.filter(pk=job.pk).update(posted_count=len(ids))
        log_action("print_job.posted", job, actor=actor, letters=len(ids))
        # robust: the letters are marked posted whatever happens to the notices' task.
        transaction.on_commit(partial(send_posted_notices.enqueue, job.pk), robust=True)
        if job.campaign_id is not None:  # the deliveries page shows them sent at once
            transaction.on_commit(partial(queries.forget_delivery_counts, job.campaign_id))
    job.refresh_from_db()
    return len(ids)


DELETE_CHUNK = 500  # letters deleted, and their tallies moved, per transaction


def delete_letters(*, letter_ids: list[int], actor: object = None) -> int:
    """Delete letters with their deliveries (an erasure, an organiser's or operator's
    clean-up), moving the campaign's tallies with them; returns how many were deleted.

    The one way to delete letters: a plain ``delete()`` (or the admin's) would leave
    the results counting letters that are gone. Deleting a whole campaign needs no
    help: its tallies go with it.
    """
    deleted = 0
    ids = sorted(set(letter_ids))
    for start in range(0, len(ids), DELETE_CHUNK):
        chunk = ids[start : start + DELETE_CHUNK]
        with tallying(chunk, replies=True):  # their replies go with them
            letters = list(
                Letter.objects.filter(pk__in=chunk).only(
                    "id", "campaign_id", "sender_country", "uniqueness", "created_at"
                )
            )
            letter_tallies.count_letters(letters, sign=-1)
            Delivery.objects.filter(letter_id__in=chunk).delete()
            Letter.objects.filter(pk__in=chunk).delete()
            for letter in letters:
                log_action("letter.deleted", letter, actor=actor, campaign=letter.campaign_id)
            deleted += len(letters)
    return deleted
