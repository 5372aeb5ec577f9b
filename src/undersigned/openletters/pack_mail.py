"""A member's hand-in pack by email: the message the delivery engine sends for it.

The engine (``delivery.sending``) claims, paces, retries and marks the pack's
``Delivery`` like a letter's; it asks this module (registered by path in ``apps.py``)
for the message. From is the platform with the organisation's name, the envelope sender
the delivery's own bounce address, names go into headers only through
``core.emails.named_address`` (a name with commas, quotes or line breaks stays one name).
The PDF and CSV are attached from the batch's ZIP; when they are larger than
``HAND_IN_ATTACH_MAX_BYTES`` together, the email carries private links instead, signed
and expiring with the batch's file (``PRINT_RETENTION_DAYS``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext, pgettext

from undersigned.core import countries
from undersigned.core.emails import named_address
from undersigned.core.mailers import PreparedEmail
from undersigned.core.sanitising import single_line
from undersigned.delivery.addresses import bounce_address
from undersigned.delivery.channels.email import message_id_for

from . import handin
from .models import HandInPack

_SALT = "undersigned.openletters.pack_mail"


def link_token(pack: HandInPack) -> str:
    return signing.dumps({"p": pack.pk, "j": pack.job_id}, salt=_SALT, compress=True)


def pack_from_token(token: str) -> HandInPack | None:
    """The pack a private link is for, while the link is young and the pack is in the same
    batch's ZIP; otherwise None."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.PRINT_RETENTION_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    pack = HandInPack.objects.select_related("job", "letter").filter(pk=int(data["p"])).first()
    if pack is None or pack.job_id is None or pack.job_id != data.get("j"):
        return None
    return pack


def build_message(delivery: Any) -> PreparedEmail:
    pack = HandInPack.objects.select_related("letter__organisation", "recipient", "job").get(
        pk=int(delivery.hand_in_pack_id)
    )
    letter, recipient = pack.letter, pack.recipient
    organisation = letter.organisation.display_short_name
    attach = pack.pdf_size + pack.csv_size <= settings.HAND_IN_ATTACH_MAX_BYTES
    files = {extension: handin.member_file(pack, extension) if attach else None for extension in ("pdf", "csv")}
    attached = all(data is not None for data in files.values())
    token = link_token(pack)
    # The letter's title as the pack prints it: in the addressee's language when the letter has it.
    printed = handin.printed_version(handin.Pack(letter=letter, recipient=recipient))
    title = printed.title if printed is not None else letter.title
    with translation.override(recipient.language or letter.language or settings.LANGUAGE_CODE):
        country = countries.name(recipient.country) if recipient.country else ""
        context = {
            "letter": letter,
            "title": title,
            "recipient": recipient,
            "organisation": organisation,
            "country": country,
            "verified": pack.verified,
            "named": pack.named,
            "attached": attached,
            "pdf_link": settings.BASE_URL + reverse("public:hand_in_pack_pdf", args=[token]),
            "csv_link": settings.BASE_URL + reverse("public:hand_in_pack_csv", args=[token]),
            # The batch's ZIP is deleted then (bulk_print.delete_expired_files), before the link's
            # own signature expires: the link works until the earlier of the two.
            "expires": (pack.job.finished_at if pack.job and pack.job.finished_at else timezone.now())
            + datetime.timedelta(days=settings.PRINT_RETENTION_DAYS),
        }
        subject = ngettext(
            "Open letter “%(title)s”: %(count)s endorsement from %(country)s",
            "Open letter “%(title)s”: %(count)s endorsements from %(country)s",
            pack.verified,
        ) % {
            "title": title,
            "count": pack.verified,
            "country": country or pgettext("the recipient's country, in a hand-in pack's subject", "your country"),
        }
        body = render_to_string("openletters/email/hand_in_pack.txt", context)
        sender = gettext("%(organisation)s via Undersigned") % {"organisation": organisation}
    message = PreparedEmail(
        subject=single_line(subject),
        body=body,
        from_email=bounce_address(delivery.pk),
        to=[named_address(recipient.name, recipient.email)],
        headers={
            "From": named_address(sender, f"letters@{settings.MAIL_DOMAIN}"),
            "Message-ID": message_id_for(delivery.pk),
        },
    )
    if attached:
        message.attach(f"{pack.arcname}.pdf", files["pdf"], "application/pdf")
        message.attach(f"{pack.arcname}.csv", files["csv"], "text/csv")
    return message
