"""The email channel: the platform sends the letter for the supporter.

From is the platform's own address with the supporter's name ("Ana Ruiz via Org
<letters@domain>"), never the supporter's address (that would fail DMARC); Reply-To is
the supporter, so the recipient's answer goes to them. Names are made single-line
before they reach a header, and Django's message class refuses any header value with
a line break, so no user text can add a header.
"""

from __future__ import annotations

import email.message
import email.policy
from email.headerregistry import Address
from email.policy import Policy

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape, linebreaks

from undersigned.core.sanitising import single_line


class _Serialised(email.message.EmailMessage):
    """A built message that keeps the bytes it was turned into, and hands them over again."""

    data = b""

    def as_bytes(self, unixfrom: bool = False, policy: Policy | None = None) -> bytes:
        if self.data and not unixfrom and policy is None:
            return self.data
        return super().as_bytes(unixfrom, policy)


class PreparedEmail(EmailMultiAlternatives):
    """A message that can be serialised before it is sent (``prepare()``).

    Django's SMTP backend turns each message into bytes as it sends it
    (``message(policy=SMTP).as_bytes()``), about 5 ms of CPU. The engine prepares the
    next message in a helper thread while it waits for the database to record the last
    one, and the backend then gets those bytes. Any other backend, or a message not
    prepared, is serialised as usual; the bytes are the same either way.
    """

    _prepared: _Serialised | None = None

    def prepare(self) -> None:
        built = super().message(policy=email.policy.SMTP)
        built.__class__ = _Serialised  # the same object, with as_bytes() remembering its answer
        assert isinstance(built, _Serialised)  # noqa: S101 (for the type checker)
        built.data = built.as_bytes()
        self._prepared = built

    def message(self, *, policy: Policy | None = email.policy.default) -> email.message.EmailMessage:
        if self._prepared is not None and policy is email.policy.SMTP:
            return self._prepared
        return super().message(policy=policy)


def message_id_for(delivery_id: int) -> str:
    # Fixed per delivery: a retry re-sends the same Message-ID, so receiving servers and
    # mail programs can recognise a repeat.
    return f"<delivery-{delivery_id}@{settings.MAIL_DOMAIN}>"


def from_address(*, sender_name: str, organisation: str) -> str:
    display = single_line(f"{sender_name} via {organisation}")[:150]
    return str(Address(display_name=display, addr_spec=f"letters@{settings.MAIL_DOMAIN}"))


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
) -> PreparedEmail:
    to = str(Address(display_name=single_line(recipient_name)[:150], addr_spec=recipient_email))
    reply_to = str(Address(display_name=single_line(sender_name)[:150], addr_spec=sender_email))
    message = PreparedEmail(
        subject=single_line(subject),
        body=body,
        # The envelope sender (Return-Path) is the delivery's own bounce address (VERP),
        # so a bounce tells us which delivery failed; the From header is for people.
        from_email=envelope_sender,
        to=[to],
        cc=[reply_to] if copy_to_sender else [],
        reply_to=[reply_to],
        headers={
            "From": from_address(sender_name=sender_name, organisation=organisation),
            "Message-ID": message_id_for(delivery_id),
        },
    )
    message.attach_alternative(
        f'<!doctype html><html><body><div dir="auto">{linebreaks(escape(body))}</div></body></html>',
        "text/html",
    )
    return message
