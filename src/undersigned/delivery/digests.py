"""Daily digests: one email a day, listing that day's letters, for recipients who ask.

A recipient with ``daily_digest`` never gets letters one by one. Each day (in
``TIME_ZONE``), the letters queued for them the day before are gathered into one
``Digest`` and sent as a single email with a link to read each letter in full. As with
single letters, the rows are the truth: a digest is claimed with a conditional update
and its letters are marked sent only after the server accepted it.
"""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Recipient
from undersigned.core.emails import named_address
from undersigned.core.languages import email_language
from undersigned.core.models import log_action
from undersigned.core.sanitising import single_line
from undersigned.letters import texts as letter_texts
from undersigned.letters.queries import text_for

from . import counter
from .addresses import bounce_address
from .models import Delivery, DeliveryStatus, Digest, Evidence
from .tallies import tallying

logger = logging.getLogger(__name__)

_READ_SALT = "undersigned.delivery.read"
READ_LINK_MAX_AGE = datetime.timedelta(days=400)


def read_link(delivery_id: int) -> str:
    """A recipient's link to read one letter in full (signed; works for about a year)."""
    token = signing.TimestampSigner(salt=_READ_SALT).sign(str(delivery_id))
    return settings.BASE_URL + reverse("public:read_letter", args=[token])


def delivery_from_read_token(token: str) -> int | None:
    try:
        return int(signing.TimestampSigner(salt=_READ_SALT).unsign(token, max_age=READ_LINK_MAX_AGE))
    except (signing.BadSignature, ValueError):
        return None


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def gather(*, today: datetime.date | None = None) -> list[Digest]:
    """Put every digest recipient's letters queued before today into the digest of their day."""
    today = today or timezone.localdate()
    cutoff = _start_of(today)
    digests: list[Digest] = []
    waiting = (
        Delivery.objects.filter(
            channel=Channel.EMAIL, status=DeliveryStatus.QUEUED, digest__isnull=True,
            recipient__daily_digest=True, created_at__lt=cutoff, letter__isnull=False,
        )
        .values_list("recipient_id", flat=True)
        .distinct()
    )  # fmt: skip
    for recipient_id in list(waiting):
        with transaction.atomic():
            digest, _ = Digest.objects.get_or_create(recipient_id=recipient_id, day=today - datetime.timedelta(days=1))
            Delivery.objects.filter(
                recipient_id=recipient_id, channel=Channel.EMAIL, status=DeliveryStatus.QUEUED,
                digest__isnull=True, created_at__lt=cutoff, letter__isnull=False,
            ).update(digest=digest, updated_at=timezone.now())  # fmt: skip
            if digest.status == DeliveryStatus.SENT:
                # Letters that arrived late for a digest already sent go in a digest the next day.
                Delivery.objects.filter(digest=digest, status=DeliveryStatus.QUEUED).update(digest=None)
                continue
            digests.append(digest)
    return digests


def build_message(digest: Digest, deliveries: list[Delivery]) -> EmailMultiAlternatives:
    """To a recipient: in the language of the first letter's text they get, else theirs."""
    first = deliveries[0].sent_letter
    language = email_language(
        letter_texts.text_in(first, digest.recipient.language).language, digest.recipient.language
    )
    with translation.override(language):
        return _build_message(digest, deliveries)


def _build_message(digest: Digest, deliveries: list[Delivery]) -> EmailMultiAlternatives:
    recipient: Recipient = digest.recipient
    items = [
        {"delivery": d, "text": text, "link": read_link(d.pk), "excerpt": _excerpt(text.body)}
        for d in deliveries
        for text in [text_for(d.sent_letter, d.sent_recipient)]
    ]
    context = {"recipient": recipient, "digest": digest, "items": items, "count": len(items)}
    organisations = sorted({d.sent_letter.campaign.organisation.display_short_name for d in deliveries})
    day = formats.date_format(digest.day, "d F Y")
    subject = single_line(
        ngettext("%(count)s letter for you, %(day)s", "%(count)s letters for you, %(day)s", len(items))
        % {"count": len(items), "day": day}
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("delivery/digest.txt", context),
        from_email=bounce_address(deliveries[0].pk),
        to=[named_address(recipient.name, recipient.email)],
        headers={
            "From": named_address(
                gettext("Letters via %(organisations)s") % {"organisations": ", ".join(organisations)},
                f"letters@{settings.MAIL_DOMAIN}",
            ),
            "Message-ID": f"<digest-{digest.pk}@{settings.MAIL_DOMAIN}>",
        },
    )  # fmt: skip
    message.attach_alternative(render_to_string("delivery/digest.html", context), "text/html")
    return message


def _excerpt(body: str, limit: int = 280) -> str:
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    # Skip the salutation: the first paragraph that says something.
    text = " ".join(paragraphs[1:3] if len(paragraphs) > 1 else paragraphs)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def send_digest(digest_id: int) -> bool:
    now = timezone.now()
    claimed = Digest.objects.filter(pk=digest_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRY]).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    if not claimed:
        return False
    digest = Digest.objects.select_related("recipient").get(pk=digest_id)
    deliveries = list(
        Delivery.objects.filter(digest=digest, status=DeliveryStatus.QUEUED)
        .select_related("letter__campaign__organisation", "letter__supporter", "recipient")
        .order_by("created_at", "id")
    )
    letter_texts.preload_versions(d.letter for d in deliveries)
    if not deliveries:
        Digest.objects.filter(pk=digest.pk).update(status=DeliveryStatus.SENT, sent_at=now)
        return False
    try:
        mailers.default.send_messages([build_message(digest, deliveries)])
    except (OSError, smtplib.SMTPException) as exc:
        permanent = isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
        Digest.objects.filter(pk=digest.pk).update(
            status=DeliveryStatus.FAILED if permanent else DeliveryStatus.RETRY,
            last_error=f"{type(exc).__name__}: {exc}"[:2000], updated_at=timezone.now(),
        )  # fmt: skip
        logger.warning("digest %s not sent", digest.pk)
        return False
    now = timezone.now()
    with tallying(d.letter_id for d in deliveries):  # the campaigns' tallies move with the evidence
        Digest.objects.filter(pk=digest.pk).update(status=DeliveryStatus.SENT, sent_at=now, last_error="")
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            status=DeliveryStatus.SENT, evidence=Evidence.PLATFORM_DELIVERED, sent_at=now,
            message_id=f"<digest-{digest.pk}@{settings.MAIL_DOMAIN}>", updated_at=now,
        )  # fmt: skip
        log_action("digest.sent", digest, letters=len(deliveries))
        counter.count_letters(letter_ids={d.letter_id for d in deliveries if d.letter_id is not None}, now=now)
    return True


def send_due_digests(*, today: datetime.date | None = None) -> int:
    """Gather yesterday's letters and send every digest that is waiting; return how many went."""
    gather(today=today)
    waiting = Digest.objects.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRY]).values_list(
        "pk", flat=True
    )
    return sum(1 for pk in list(waiting) if send_digest(pk))
