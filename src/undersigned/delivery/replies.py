"""Replies: the top of the evidence ladder, reached when a recipient answers a letter.

- **The question** (``send_due_asks``, run by the worker's housekeeping every minute):
  the campaign's ``reply_ask_days`` (the editor's; new campaigns start from
  ``REPLY_ASK_AFTER_DAYS``) after a letter was first sent, a supporter who gave an email
  and whose letter went by some channel (a delivery at self-reported evidence or above)
  gets one email, "Did you get a reply?", with three signed links (``letters.emails``).
  Each letter is claimed by a conditional update before its email goes, so two workers
  never send it twice. Letters sent long before the question existed are not asked
  (``ASK_WINDOW_DAYS``): nobody gets a question about a letter they forgot.
- **The answer** (``record_answer``): yes / not yet / no, kept on the letter; answering
  again replaces the answer (the last click is what the supporter means). "Not yet" is
  not asked again: one email per letter, and the private link's reply page stays open
  for whenever the reply comes.
- **The reply** (``record_supporter_reply``): the supporter pastes the text or uploads
  the reply as a file (PDF, PNG or JPEG by its bytes, stored privately under a random
  name, deleted with the reply); the letter's
  deliveries to that recipient that went (self-reported or above) climb to
  ``REPLY_RECEIVED`` inside ``tallying``, so the kept results move with them.
- **For organisers** (``responsiveness``, ``campaign_replies``, ``approve_reply``): a
  reply is quoted nowhere unless the supporter allowed it and an organiser approved it.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.models import log_action
from undersigned.letters import emails as letter_emails
from undersigned.letters.models import Letter, ReplyAnswer
from undersigned.supporters.models import erased

from . import addresses, bounces, queries
from .channels.email import message_id_for
from .models import Delivery, DeliveryTally, DeliveryTallyKind, Evidence, Reply, ReplySource
from .tallies import tallying

logger = logging.getLogger(__name__)

ASK_BATCH = 200  # questions sent per housekeeping round
ASK_WINDOW_DAYS = 30  # letters sent longer than this before they were due are never asked


def _went(letter_ref: OuterRef | str = "pk") -> Exists:
    return Exists(
        Delivery.objects.filter(letter_id=OuterRef(letter_ref), evidence__gte=Evidence.SELF_REPORTED).order_by()
    )


def _due_by_campaign_delay(now: datetime.datetime) -> Q:
    """Letters whose campaign's ``reply_ask_days`` have passed since they were sent (and
    not more than ``ASK_WINDOW_DAYS`` beyond). One condition per delay in use: campaigns
    share the few values organisers pick, so the condition stays short (at most the
    editor's 180 values) and the letters are found in one query."""
    delays = Campaign.objects.order_by().values_list("reply_ask_days", flat=True).distinct()
    due = Q(pk__in=[])
    for days in delays:
        moment = now - datetime.timedelta(days=days)
        due |= Q(
            campaign__reply_ask_days=days,
            sent_at__lte=moment,
            sent_at__gt=moment - datetime.timedelta(days=ASK_WINDOW_DAYS),
        )
    return due


def due_asks(now: datetime.datetime | None = None, limit: int = ASK_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        Letter.objects.filter(_due_by_campaign_delay(now), reply_asked_at__isnull=True)
        .exclude(supporter__email="")
        .exclude(erased("supporter__"))
        .filter(_went())
        .order_by("sent_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def send_due_asks(now: datetime.datetime | None = None) -> int:
    """Send the "Did you get a reply?" emails that are due; returns how many went."""
    sent = sum(1 for letter_id in due_asks(now) if letter_emails.send_reply_ask(letter_id))
    if sent:
        logger.info("reply questions sent: %d", sent)
    return sent


def record_answer(*, letter: Letter, answer: str) -> None:
    """Keep the supporter's answer. Idempotent: the same answer twice changes nothing."""
    if answer not in ReplyAnswer.values:
        raise ValueError(f"unknown answer {answer!r}")
    if letter.reply_answer == answer:
        return
    now = timezone.now()
    Letter.objects.filter(pk=letter.pk).update(reply_answer=answer, reply_answered_at=now)
    letter.reply_answer, letter.reply_answered_at = answer, now
    log_action("letter.reply_answered", letter, answer=answer)


def replied_recipients(letter: Letter) -> list[Recipient]:
    """The recipients this letter went to (self-reported or above): who could have replied."""
    ids = Delivery.objects.filter(letter=letter, evidence__gte=Evidence.SELF_REPORTED).values_list(
        "recipient_id", flat=True
    )
    return list(Recipient.objects.filter(pk__in=ids).order_by("name", "pk"))


def forward_addresses(letter: Letter) -> list[tuple[str, str]]:
    """(recipient's name, the address to forward their reply to), one per recipient the letter went to."""
    rows = (
        Delivery.objects.filter(letter=letter, evidence__gte=Evidence.SELF_REPORTED)
        .order_by("recipient__name", "recipient_id", "pk")
        .values_list("pk", "recipient_id", "recipient__name")
    )
    out: dict[int, tuple[str, str]] = {}
    for pk, recipient_id, name in rows:
        out.setdefault(recipient_id, (name, addresses.reply_address(pk)))
    return list(out.values())


# --- A reply uploaded as a file ---------------------------------------------------------

# The types a reply file may have, told by the file's first bytes (never by its name or
# the browser's word): what it is stored and served as.
REPLY_FILE_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
REPLY_FILE_FOLDER = "replies"  # in the default (private media) storage


def reply_file_type(head: bytes) -> str | None:
    """The content type a file's first bytes show (PDF, PNG, JPEG), or None."""
    return next((kind for signature, kind in _SIGNATURES if head.startswith(signature)), None)


def uploaded_file_type(upload: File[Any]) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return reply_file_type(head)


def _store_reply_file(upload: File[Any], kind: str) -> str:
    """Save an upload under a random name (nothing of the supporter's file name is kept)."""
    name = f"{REPLY_FILE_FOLDER}/{secrets.token_urlsafe(24)}{REPLY_FILE_TYPES[kind]}"
    upload.seek(0)
    return default_storage.save(name, File(upload, name=name))


def reply_file_download_name(reply: Reply) -> str:
    """The name a reply's file is downloaded under: nothing the supporter typed."""
    return f"reply-{reply.pk}{REPLY_FILE_TYPES.get(reply.file_type, '')}"


def record_supporter_reply(
    *, letter: Letter, recipient: Recipient, text: str, may_quote: bool, upload: File[Any] | None = None
) -> Reply:
    """The supporter pasted the reply a recipient sent them, or uploaded it as a file (or both).

    Idempotent: sent again (a double click, a correction) it updates the one reply of
    that letter and recipient; a new file replaces the old one (deleted), no file keeps
    it. The file's type comes from its bytes; ``ValueError`` if it is not a PDF, PNG or
    JPEG, or if the letter never went to this recipient (nothing is stored then).
    """
    stored, kind = "", ""
    if upload is not None:
        kind = uploaded_file_type(upload) or ""
        if not kind:
            raise ValueError("the file is not a PDF, PNG or JPEG")
        stored = _store_reply_file(upload, kind)
    try:
        reply = _record_supporter_reply(
            letter=letter, recipient=recipient, text=text, may_quote=may_quote, file=(stored, kind)
        )
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    if letter.reply_answer != ReplyAnswer.YES:
        record_answer(letter=letter, answer=ReplyAnswer.YES)
    return reply


def _record_supporter_reply(
    *, letter: Letter, recipient: Recipient, text: str, may_quote: bool, file: tuple[str, str]
) -> Reply:
    stored, kind = file
    with tallying([letter.pk], replies=True):
        deliveries = Delivery.objects.select_for_update().filter(
            letter=letter, recipient=recipient, evidence__gte=Evidence.SELF_REPORTED
        )
        if not deliveries.exists():
            raise ValueError("the letter did not go to this recipient")
        now = timezone.now()
        reply, created = Reply.objects.get_or_create(
            letter=letter,
            recipient=recipient,
            source=ReplySource.SUPPORTER,
            defaults={"text": text, "may_quote": may_quote, "received_at": now, "file": stored, "file_type": kind},
        )
        if not created and ((reply.text, reply.may_quote) != (text, may_quote) or stored):
            replaced = reply.file if stored else ""
            reply.text, reply.may_quote = text, may_quote
            if stored:
                reply.file, reply.file_type = stored, kind
            if not may_quote:
                reply.approved_at, reply.approved_by = None, None
            reply.save(
                update_fields=["text", "may_quote", "file", "file_type", "approved_at", "approved_by", "updated_at"]
            )
            if replaced:
                transaction.on_commit(lambda: default_storage.delete(replaced))
        deliveries.filter(evidence__lt=Evidence.REPLY_RECEIVED).update(evidence=Evidence.REPLY_RECEIVED, updated_at=now)
        if created:
            log_action("delivery.reply_received", reply, source=ReplySource.SUPPORTER)
    return reply


# --- For organisers: who answers, and how fast ----------------------------------------


@dataclass(frozen=True)
class Responsiveness:
    recipient_id: int
    name: str
    letters: int  # letters that reached the recipient (self-reported or above)
    replied: int  # of those, letters the recipient answered
    median_days: float | None  # from the letter's sending to the reply's arrival


def responsiveness(
    campaign_id: int, *, names: Mapping[int, str] | None = None, everyone: bool = False
) -> list[Responsiveness]:
    """Per recipient the letters reached: letters sent, letters answered, median days to a reply.

    ``names``: recipient id → name, when the caller has them (a kept page's recipients, a
    group's members), saving their query; with ``everyone``, each of them has a row, a
    member no letter reached too (a group's coverage: every section counts).

    All from the kept tallies, never the letters or the replies: letters and answers from
    ``DeliveryTallyKind.REACHED``, the days from ``DeliveryTallyKind.REPLY_DAYS`` (answered
    letters by whole days to their first reply), so the page costs the same few queries
    for ten letters as for a hundred thousand, and a public page may show it. A pasted
    reply's arrival is when the supporter pasted it: an upper bound of the real delay.
    """
    letters = queries.letters_by_recipient(campaign_id)
    tallies = DeliveryTally.objects.filter(
        campaign_id=campaign_id,
        kind__in=[DeliveryTallyKind.REACHED, DeliveryTallyKind.REPLY_DAYS],
        evidence=Evidence.REPLY_RECEIVED,
        count__gt=0,
    ).values_list("kind", "key", "count")
    replied: dict[int, int] = {}
    days: dict[int, dict[int, int]] = {}
    for kind, key, count in tallies:
        if kind == DeliveryTallyKind.REACHED:
            replied[int(key)] = count
        else:
            recipient, _, n = key.partition(":")
            days.setdefault(int(recipient), {})[int(n)] = count
    if names is None:
        names = dict(Recipient.objects.filter(pk__in=list(letters)).values_list("pk", "name"))
    ids = list(names) if everyone else list(letters)
    out = [
        Responsiveness(
            recipient_id=pk,
            name=names.get(pk, ""),
            letters=letters.get(pk, 0),
            replied=replied.get(pk, 0),
            median_days=median_of_counts(days.get(pk, {})),
        )
        for pk in ids
    ]
    out.sort(key=lambda row: (-row.replied, row.name, row.recipient_id))
    return out


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as value → how many times (None when there are none)."""
    total = sum(n for n in counts.values() if n > 0)
    if not total:
        return None
    wanted = {(total - 1) // 2, total // 2}  # the middle one, or the middle two
    found: list[int] = []
    seen = 0
    for value in sorted(counts):
        n = counts[value]
        if n <= 0:
            continue
        found.extend(value for position in wanted if seen <= position < seen + n)
        seen += n
    return round(sum(found) / len(found), 1)


def campaign_replies(campaign_id: int) -> list[Reply]:
    """A campaign's replies for its organisers, newest first (private: never on a public page)."""
    return list(
        Reply.objects.filter(letter__campaign_id=campaign_id)
        .select_related("recipient", "approved_by")
        .order_by("-received_at", "-pk")
    )


def approve_reply(*, reply: Reply, actor: object) -> bool:
    """An organiser approves quoting a reply the supporter said may be quoted. Idempotent;
    a reply the supporter did not allow to be quoted is never approved."""
    if not reply.may_quote:
        return False
    user_model = get_user_model()
    approved_by = actor if isinstance(actor, user_model) and actor.is_authenticated else None
    now = timezone.now()
    if Reply.objects.filter(pk=reply.pk, may_quote=True, approved_at__isnull=True).update(
        approved_at=now, approved_by=approved_by, updated_at=now
    ):
        log_action("reply.approved", reply, actor=actor)
    reply.refresh_from_db()
    return reply.approved_at is not None


def record_inbound_reply(*, delivery_id: int, message: bytes) -> Reply | None:
    """A reply arrived at a delivery's reply address (``addresses.reply_address``): the
    recipient answered a letter the platform sent (the address is in its Reply-To or Cc,
    as the campaign chose), or the supporter forwarded what the recipient answered them.
    The letter itself coming back there (its own Message-ID) is no reply. The text is kept (at most
    ``REPLY_TEXT_MAX_CHARS``; attachments are not kept) and the delivery climbs to
    ``REPLY_RECEIVED`` even from a bounce: an answer proves the letter arrived.

    An automatic message (``Auto-Submitted`` other than "no": an out-of-office, a
    read receipt) is no reply and is ignored; the same text twice is stored once; a
    delivery that is gone stores nothing. Nothing of the message reaches the log.
    """
    parsed = bounces.parse(message)
    if str(parsed.get("Auto-Submitted", "no")).strip().lower() not in ("", "no"):
        logger.info("automatic message for delivery %s, not a reply", delivery_id)
        return None
    if str(parsed.get("Message-ID", "")).strip() == message_id_for(delivery_id):
        # The letter itself, come back (a mail server that sent a Cc after all): no answer.
        logger.info("the letter of delivery %s came back to its reply address, not a reply", delivery_id)
        return None
    text = bounces.copy_text(parsed, max_chars=settings.REPLY_TEXT_MAX_CHARS)
    letter_id = Delivery.objects.filter(pk=delivery_id).values_list("letter_id", flat=True).first()
    if letter_id is None:
        logger.info("reply for delivery %s: no such delivery or no letter, nothing stored", delivery_id)
        return None
    with tallying([letter_id], replies=True):
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.letter_id is None or delivery.recipient_id is None:
            return None
        existing = Reply.objects.filter(
            letter_id=delivery.letter_id, recipient_id=delivery.recipient_id, source=ReplySource.INBOUND, text=text
        ).first()
        if existing is not None:
            logger.info("reply for delivery %s repeated, nothing changed", delivery_id)
            return existing
        now = timezone.now()
        reply = Reply.objects.create(
            letter_id=delivery.letter_id,
            recipient_id=delivery.recipient_id,
            text=text,
            received_at=now,
            source=ReplySource.INBOUND,
        )
        Delivery.objects.filter(pk=delivery.pk, evidence__lt=Evidence.REPLY_RECEIVED).update(
            evidence=Evidence.REPLY_RECEIVED, updated_at=now
        )
        log_action("delivery.reply_received", reply, source=ReplySource.INBOUND)
    logger.info("reply for delivery %s stored", delivery_id)
    return reply


def supporter_replies(letter_ids: list[int]) -> list[Reply]:
    """The replies to these letters (a person's "my data"), oldest first."""
    return list(
        Reply.objects.filter(letter_id__in=letter_ids)
        .select_related("recipient", "letter")
        .order_by("received_at", "pk")
    )


def erase_replies(*, letter_ids: list[int]) -> int:
    """Delete the replies to these letters (an erasure), their files with them once
    committed; the campaigns' days-to-reply tallies move down. Returns how many went.
    The deliveries keep their evidence: a reply was received, whatever it said."""
    ids = sorted(set(Reply.objects.filter(letter_id__in=letter_ids).values_list("letter_id", flat=True)))
    if not ids:
        return 0
    with tallying(ids, replies=True):
        # The erasure's own audit row (``privacy``) keeps how many; no row here names the letters.
        deleted: int = Reply.objects.filter(letter_id__in=ids).delete()[1].get("delivery.Reply", 0)
    return deleted
