"""The email channel: the platform sends the letter for the supporter.

From is the platform's own address with the supporter's name ("Ana Ruiz via Org
<letters@domain>"), never the supporter's address (that would fail DMARC); Reply-To is
the supporter, so the recipient's answer goes to them. Names are made single-line
before they reach a header, and Django's message class refuses any header value with
a line break, so no user text can add a header.

The delivery's own reply address (``addresses.reply_address``) goes where the campaign's
organisers chose (``campaigns.enums.ReplyAddress``): after the supporter in Reply-To (a
reply goes to both), in Cc, or nowhere. An answer sent there reaches ``undersigned
inbound``, which keeps it with the letter (``replies.record_inbound_reply``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.html import escape, linebreaks
from django.utils.translation import pgettext

from undersigned.campaigns.enums import ReplyAddress
from undersigned.core.emails import named_address
from undersigned.core.mailers import PreparedEmail
from undersigned.core.sanitising import single_line


def message_id_for(delivery_id: int) -> str:
    # Fixed per delivery: a retry re-sends the same Message-ID, so receiving servers and
    # mail programs can recognise a repeat.
    return f"<delivery-{delivery_id}@{settings.MAIL_DOMAIN}>"


def from_address(*, sender_name: str, organisation: str) -> str:
    # Translators: the From name of a letter's email, e.g. "Ana Ruiz via Amnesty Ireland".
    name = pgettext("email sender", "%(sender)s via %(organisation)s") % {
        "sender": sender_name,
        "organisation": organisation,
    }
    return named_address(name, f"letters@{settings.MAIL_DOMAIN}")


class LetterEmail(PreparedEmail):
    """A letter's email, whose bytes the engine builds and signs ahead of sending.

    ``header_only``: addresses shown in Cc that the message is not sent to. The letter's
    own reply address is one: sending the letter there would only bring it back to
    ``undersigned inbound`` as if the recipient had answered.
    """

    header_only: tuple[str, ...] = ()

    def recipients(self) -> list[str]:
        return [address for address in super().recipients() if address not in self.header_only]


def build_message(
    *,
    delivery_id: int,
    envelope_sender: str,
    sender_name: str,
    sender_email: str,
    organisation: str,
    recipient_name: str,
    recipient_email: str,
    subject: str,
    body: str,
    copy_to_sender: bool = False,
    reply_address: str = "",
    reply_address_in: str = ReplyAddress.OFF,
) -> LetterEmail:
    to = named_address(recipient_name, recipient_email)
    reply_to = named_address(sender_name, sender_email)
    cc = [reply_to] if copy_to_sender else []
    replies_to = [reply_to]
    if reply_address and reply_address_in == ReplyAddress.REPLY_TO:
        replies_to.append(reply_address)
    elif reply_address and reply_address_in == ReplyAddress.CC:
        cc.append(reply_address)
    message = LetterEmail(
        subject=single_line(subject),
        body=body,
        # The envelope sender (Return-Path) is the delivery's own bounce address (VERP),
        # so a bounce tells us which delivery failed; the From header is for people.
        from_email=envelope_sender,
        to=[to],
        cc=cc,
        reply_to=replies_to,
        headers={
            "From": from_address(sender_name=sender_name, organisation=organisation),
            "Message-ID": message_id_for(delivery_id),
        },
    )
    if reply_address and reply_address_in == ReplyAddress.CC:
        message.header_only = (reply_address,)
    message.attach_alternative(
        f'<!doctype html><html><body><div dir="auto">{linebreaks(escape(body))}</div></body></html>',
        "text/html",
    )
    return message
