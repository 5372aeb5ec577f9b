"""Writes for deliveries: recording how a letter went to a recipient, and sending email.

Every channel records a ``Delivery``. For the channels the supporter carries out
themselves (mailto, web form, post) it is ``reported`` with ``self_reported``
evidence when they tell us; for ``email`` it is queued and a worker sends it.
Mail that comes back to the platform (``undersigned inbound``) is recorded here too:
a copy of a mailto letter verifies its delivery, a bounce marks one failed.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from functools import partial
from typing import Literal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.html import strip_tags

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.models import ActionLog, log_action
from undersigned.letters.models import Letter

from . import queries
from .models import Delivery, DeliveryStatus, Evidence, PrintJob, PrintJobStatus


class ChannelUnavailable(Exception):
    """This channel can't carry this letter to this recipient; the message says why."""


def check_channel(*, letter: Letter, recipient: Recipient, channel: Channel) -> None:
    campaign = letter.campaign
    if channel not in campaign.template.allowed_channels:
        raise ChannelUnavailable("This campaign does not offer that way of sending.")
    if not campaign.recipients.filter(pk=recipient.pk).exists():
        raise ChannelUnavailable("That recipient is not part of this campaign.")
    if channel in (Channel.EMAIL, Channel.MAILTO) and not recipient.email:
        raise ChannelUnavailable(f"We have no email address for {recipient.name}.")
    if channel == Channel.WEB_FORM and not recipient.web_form_url:
        raise ChannelUnavailable(f"{recipient.name} has no web form.")
    if channel == Channel.POST:
        if not recipient.postal_address:
            raise ChannelUnavailable(f"We have no postal address for {recipient.name}.")
        if not letter.sender_address.strip():
            raise ChannelUnavailable("Add your postal address first: a posted letter needs a sender's address.")


def _mark_letter_sent(letter: Letter) -> None:
    # Conditional update: only the first delivery of a letter counts it, however many
    # requests race here; the campaign's counter moves by exactly one per letter.
    now = timezone.now()
    if Letter.objects.filter(pk=letter.pk, sent_at__isnull=True).update(sent_at=now):
        Campaign.objects.filter(pk=letter.campaign_id).update(letters_sent=F("letters_sent") + 1)
        letter.sent_at = now


def request_post(*, letter: Letter, recipient: Recipient) -> Delivery:
    """The supporter asks the organisation to print and post the letter for them.

    The delivery waits as ``queued`` until organisers print the campaign's post in bulk.
    If the supporter already posted it themselves, nothing changes.
    """
    if not letter.campaign.posts_for_supporters:
        raise ChannelUnavailable("This campaign's organisers don't post letters for supporters.")
    check_channel(letter=letter, recipient=recipient, channel=Channel.POST)
    with transaction.atomic():
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            letter=letter, recipient=recipient, channel=Channel.POST, defaults={"status": DeliveryStatus.QUEUED}
        )
        if created:
            log_action("delivery.post_requested", delivery)
        _mark_letter_sent(letter)
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
    with transaction.atomic():
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            letter=letter,
            recipient=recipient,
            channel=channel,
            defaults={"status": DeliveryStatus.QUEUED, "copy_to_sender": copy_to_sender and channel == Channel.EMAIL},
        )
        if channel == Channel.EMAIL:
            if created:
                log_action("delivery.queued", delivery, channel=str(channel))
                from .sending import wake_senders

                transaction.on_commit(wake_senders)
        elif delivery.reported_at is None:
            delivery.status = DeliveryStatus.REPORTED
            delivery.evidence = max(delivery.evidence, Evidence.SELF_REPORTED)
            delivery.reported_at = timezone.now()
            delivery.save(update_fields=["status", "evidence", "reported_at", "updated_at"])
            log_action("delivery.reported", delivery, channel=str(channel))
        _mark_letter_sent(letter)
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
    parsed = _parse_mail(message)
    letter = Letter.objects.select_related("campaign").filter(pk=letter_id).first()
    if letter is None:
        # Deleted (e.g. the supporter erased their data): there is nothing left to prove.
        logger.info("copy for letter %s: no such letter, nothing stored", letter_id)
        return []
    named = _header_addresses(parsed, "to", "cc")
    text = _copy_text(parsed)[:COPY_TEXT_MAX_CHARS]
    verified: list[Delivery] = []
    with transaction.atomic():
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
            _mark_letter_sent(letter)
    if not verified:
        logger.info("copy for letter %s names none of its campaign's recipients, nothing stored", letter_id)
    else:
        logger.info("copy for letter %s: %d deliveries verified", letter_id, len(verified))
    return verified


def record_bounce(*, delivery_id: int, message: bytes) -> Delivery | None:
    """A delivery status notification came back for a letter the platform emailed.

    A permanent failure (``Action: failed`` or a 5.x.x status) marks the delivery
    bounced with the server's reason and flags the recipient's address for organisers
    to fix. A delay (``Action: delayed``, 4.x.x) changes nothing: the sending server is
    still trying. Anything else at a bounce address (an auto-reply, a read receipt) is
    ignored. Returns the delivery, or None when there is no such delivery.
    """
    parsed = _parse_mail(message)
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("recipient", "letter__supporter")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            logger.info("bounce for delivery %s: no such delivery, nothing stored", delivery_id)
            return None
        if delivery.channel != Channel.EMAIL:
            logger.info("bounce for delivery %s: not a platform email, ignored", delivery.pk)
            return delivery
        recipient_email = delivery.recipient.email.lower()
        supporter_email = delivery.letter.supporter.email.lower()
        notices = [
            notice
            for notice in _delivery_notices(parsed, known=frozenset({recipient_email, supporter_email} - {""}))
            if _about_the_recipient(notice, recipient_email=recipient_email, supporter_email=supporter_email)
        ]
        failure = next((notice for notice in notices if notice.kind == "failed"), None)
        if failure is None:
            if any(notice.kind == "delayed" for notice in notices):
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
        if not failure.addresses or recipient_email in failure.addresses:
            # The flag shows only on the organisers' deliveries page, never on a kept page.
            Recipient.objects.filter(pk=delivery.recipient_id).update(  # not on public pages: a flag
                email_flagged_at=Coalesce(F("email_flagged_at"), Value(now)),
                email_flag_reason=failure.diagnostic[:_FLAG_REASON_MAX_CHARS],
                updated_at=now,
            )
            log_action("recipient.email_flagged", delivery.recipient, delivery=delivery.pk)
        else:
            # The report names other addresses only: the recipient's address has changed
            # since this letter went out, or a forward failed. Flagging the address they
            # have now would send organisers to fix what isn't broken.
            logger.info("bounce for delivery %s names another address; recipient not flagged", delivery.pk)
    delivery.recipient.refresh_from_db(fields=["email_flagged_at", "email_flag_reason", "updated_at"])
    logger.info("delivery %s bounced", delivery.pk)
    return delivery


# Reading inbound mail. Everything here takes a parsed message and returns plain data;
# nothing from the message reaches a log.

NoticeKind = Literal["failed", "delayed", "other"]


@dataclass(frozen=True)
class _Notice:
    """What a delivery status notification says about one address."""

    kind: NoticeKind
    diagnostic: str
    addresses: frozenset[str]  # the addresses it is about, in lower case; empty if it doesn't say


# A status in the text of a non-standard bounce: an SMTP reply with an enhanced status
# code ("550 5.1.1", "452-4.2.2") or qmail's "#5.1.1". A bare "5.1.1" is not enough: an
# auto-reply saying "back on 5.1.25" would read as a failure.
_SMTP_REPLY_STATUS = re.compile(r"\b(?P<cls>[245])\d\d[ -](?P=cls)\.\d{1,3}\.\d{1,3}\b")
_QMAIL_STATUS = re.compile(r"#(?P<cls>[245])\.\d{1,3}\.\d{1,3}\b")
# Where a non-standard bounce starts quoting the original message: the supporter's
# letter, whose text could contain anything, including something that looks like a status.
_QUOTED_ORIGINAL = re.compile(
    r"^[\s-]*(below this line is a copy of the message|this is a copy of the message"
    r"|original message|a copy of the original message)",
    re.IGNORECASE | re.MULTILINE,
)
_DIAGNOSTIC_TYPE = re.compile(r"^[a-z0-9-]+\s*;\s*", re.IGNORECASE)  # "smtp; 550 …"
_SEVERITY: dict[NoticeKind, int] = {"failed": 2, "delayed": 1, "other": 0}
_STATUS_CLASS: dict[str, NoticeKind] = {"5": "failed", "4": "delayed", "2": "other"}


def _parse_mail(message: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(message)


def _one_line(value: object) -> str:
    # PostgreSQL text can't hold NUL; folded header lines become single spaces.
    return " ".join(str(value).replace("\x00", "").split())


def _text_of(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        # An unknown or wrong charset: keep what can be read rather than lose the message.
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
    return content if isinstance(content, str) else ""


def _copy_text(message: EmailMessage) -> str:
    """The letter as the supporter's mail app sent it: the plain-text body, or the HTML one as text."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _text_of(body)
    if body.get_content_type() == "text/html":
        text = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>", "\n", text[: COPY_TEXT_MAX_CHARS * 4])
        text = html.unescape(strip_tags(text))
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _header_addresses(message: EmailMessage, *names: str) -> set[str]:
    found: set[str] = set()
    for name in names:
        try:
            headers = message.get_all(name, [])
            for header in headers:
                for address in getattr(header, "addresses", ()):
                    if address.addr_spec:
                        found.add(address.addr_spec.lower())
        except (HeaderParseError, IndexError, TypeError, ValueError):
            # A header the parser can't read names nobody we could match.
            continue
    return found


def _delivery_notices(message: EmailMessage, *, known: frozenset[str]) -> list[_Notice]:
    """The notices in a delivery status notification (RFC 3464), or read from a non-standard bounce.

    ``known`` are the addresses a non-standard bounce could be about; it says which of
    them appear in its text.
    """
    if message.get_content_type() == "multipart/report":
        if str(message.get_param("report-type", "")).lower() != "delivery-status":
            return []  # a read receipt or an abuse report says nothing about delivery
        notices = _report_notices(message)
        if notices:
            return notices
    return _text_notices(message, known=known)


def _report_notices(message: EmailMessage) -> list[_Notice]:
    notices: list[_Notice] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            # The first block is about the report itself (Reporting-MTA, Arrival-Date);
            # each of the others is about one address.
            if not isinstance(block, Message) or (block.get("Action") is None and block.get("Final-Recipient") is None):
                continue
            action = _one_line(block.get("Action", "")).lower()
            status = _one_line(block.get("Status", ""))
            diagnostic = _DIAGNOSTIC_TYPE.sub("", _one_line(block.get("Diagnostic-Code", "")))
            addresses = frozenset(
                address
                for name in ("Final-Recipient", "Original-Recipient")
                if (address := _report_address(block.get(name, "")))
            )
            notices.append(
                _Notice(
                    kind=_notice_kind(action, status),
                    diagnostic=diagnostic or f"Status {status}",
                    addresses=addresses,
                )
            )
    return notices


def _report_address(value: object) -> str:
    # "rfc822; chair@council.example" (the address type comes first, RFC 3464 §2.3.2).
    text = _one_line(value)
    return text.split(";", 1)[-1].strip().strip("<>").lower()


def _notice_kind(action: str, status: str) -> NoticeKind:
    if action == "failed":
        return "failed"
    if action == "delayed":
        return "delayed"
    if action in ("delivered", "relayed", "expanded"):
        return "other"
    # No (known) action: the status class decides.
    if status.startswith("5."):
        return "failed"
    if status.startswith("4."):
        return "delayed"
    return "other"


def _readable_text(part: MIMEPart) -> str:
    """What the reporting server wrote: text parts, without any message it attached."""
    if part.get_content_maintype() == "message":
        return ""
    if part.is_multipart():
        return "\n".join(_readable_text(child) for child in part.iter_parts())
    if part.get_content_type() != "text/plain":
        return ""
    text = _text_of(part)
    quoted = _QUOTED_ORIGINAL.search(text)
    return text[: quoted.start()] if quoted else text


def _text_notices(message: EmailMessage, *, known: frozenset[str]) -> list[_Notice]:
    text = _readable_text(message)
    best: _Notice | None = None
    lowered = text.lower()
    about = frozenset(address for address in known if address in lowered)
    for line in text.splitlines():
        match = _SMTP_REPLY_STATUS.search(line) or _QMAIL_STATUS.search(line)
        if match is None:
            continue
        kind = _STATUS_CLASS[match.group("cls")]
        if best is None or _SEVERITY[kind] > _SEVERITY[best.kind]:
            best = _Notice(kind=kind, diagnostic=_one_line(line), addresses=about)
    return [best] if best else []


def _about_the_recipient(notice: _Notice, *, recipient_email: str, supporter_email: str) -> bool:
    # Platform mail goes to the recipient with, optionally, a copy to the supporter in the
    # same message, so bounces for both come back to this delivery's address. A notice
    # only about the supporter's copy says nothing about the letter reaching the recipient.
    return not (supporter_email in notice.addresses and recipient_email not in notice.addresses)


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
    from . import bulk_print
    from .printing import PAPERS
    from .tasks import build_print_job

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
            reason = "Stopped making progress (its worker may have stopped), so it was started again."
            if not bulk_print.fail_stalled(active, reason=reason, actor=actor):
                return PrintJob.objects.get(pk=active.pk)
        total = bulk_print.letters_waiting(campaign.pk)
        if not total:
            raise NothingToPrint("No letters are waiting to be posted.")
        job = PrintJob.objects.create(campaign=campaign, paper=paper, total=total, requested_by=requested_by)
        log_action("print_job.started", job, actor=actor, paper=paper, total=total)
        transaction.on_commit(partial(build_print_job.enqueue, job.pk))
    return job


def record_print_job_download(*, job: PrintJob, actor: object) -> None:
    """A print job's PDF holds supporters' names and addresses: who downloads it is kept."""
    log_action("print_job.downloaded", job, actor=actor)


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
    from . import bulk_print

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
        ids = list(bulk_print.printed_by(job).values_list("pk", flat=True))
        for start in range(0, len(ids), POSTED_CHUNK):
            chunk = ids[start : start + POSTED_CHUNK]
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
        PrintJob.objects.filter(pk=job.pk).update(posted_count=len(ids))
        log_action("print_job.posted", job, actor=actor, letters=len(ids))
        if job.campaign_id is not None:  # the deliveries page shows them sent at once
            transaction.on_commit(partial(queries.forget_delivery_counts, job.campaign_id))
    job.refresh_from_db()
    return len(ids)
