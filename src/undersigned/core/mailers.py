"""The mail backends every message of the platform leaves through.

Django's SMTP and file backends, with two changes: each message is written with
``core.emails.MailPolicy`` (so address and list headers say exactly what we mean), and
signed with DKIM when a key is configured (``UNDERSIGNED_DKIM_*``), so the platform's
own domain passes DKIM and DMARC. ``settings.MAILERS`` names these classes; anything
sent through ``mailers.default`` (letters, digests, confirmations, discussion mail,
allauth's account mail) goes through them.

Signing costs CPU per message: dkimpy computes RSA in Python, more than twice the CPU of
building the message (docs/performance.md, docs/deliverability.md). The engine
builds and signs the next message while the database writes the last one's mark
(``PreparedEmail.prepare``).
"""

from __future__ import annotations

import email.message
import email.policy
import re
import smtplib
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.filebased import EmailBackend as DjangoFileBackend
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend

from .emails import SMTP_POLICY

# Headers covered by the signature. Each is signed once per occurrence and once more
# ("oversigned"), so nobody on the way can add a second From, To or List-Unsubscribe
# without breaking the signature. RFC 8058 requires List-Unsubscribe and
# List-Unsubscribe-Post to be signed for one-click unsubscribe.
SIGNED_HEADERS = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "auto-submitted",
)
_HEADER_NAME = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)


@cache
def _private_key(path: str) -> bytes:
    return Path(path).read_bytes()


def dkim_sign(data: bytes) -> bytes:
    """``data`` (a whole message, CRLF line ends) with a DKIM-Signature header, if configured."""
    if not settings.DKIM_KEY_FILE:
        return data
    # Here: dkim imports dnspython (about 3 MB), which a web worker, that signs nothing, need not hold.
    import dkim  # noqa: PLC0415

    head = data.split(b"\r\n\r\n", 1)[0]
    present = [name.lower() for name in _HEADER_NAME.findall(head)]
    include = [name for name in present if name.decode() in SIGNED_HEADERS]
    include += [name.encode() for name in SIGNED_HEADERS]  # the oversigned copies
    signature = dkim.sign(
        data,
        settings.DKIM_SELECTOR.encode(),
        settings.DKIM_DOMAIN.encode(),
        _private_key(settings.DKIM_KEY_FILE),
        # relaxed/relaxed survives relays that re-fold headers or trailing whitespace.
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return bytes(signature) + data


def wire_bytes(message: EmailMessage, policy: email.policy.EmailPolicy = SMTP_POLICY) -> bytes:
    """The bytes of ``message`` that leave the process: written with ``policy``, signed."""
    if isinstance(message, PreparedEmail):
        return message.wire_bytes(policy)
    return dkim_sign(message.message(policy=policy).as_bytes())


class PreparedEmail(EmailMultiAlternatives):
    """A message whose bytes can be built (and signed) ahead of sending: ``prepare()``.

    The engine prepares the next message while PostgreSQL writes the last one's mark;
    building the MIME form and signing it is most of the work per message. A backend
    asking for the bytes with the prepared policy gets them, once; any other call builds
    anew.
    """

    _prepared: tuple[email.policy.EmailPolicy, bytes] | None = None

    def prepare(self, policy: email.policy.EmailPolicy = SMTP_POLICY) -> None:
        self._prepared = (policy, self._build(policy))

    def wire_bytes(self, policy: email.policy.EmailPolicy = SMTP_POLICY) -> bytes:
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared[0] is policy:
            return prepared[1]
        return self._build(policy)

    def _build(self, policy: email.policy.EmailPolicy) -> bytes:
        return dkim_sign(self.message(policy=policy).as_bytes())


class SmtpBackend(DjangoSmtpBackend):
    """Django's SMTP backend, sending the bytes ``wire_bytes`` makes."""

    policy = SMTP_POLICY

    def _send(self, email_message: Any) -> bool:
        # As Django's own _send, with our policy and the DKIM signature.
        if not email_message.recipients():
            return False
        from_email = self.prep_address(email_message.from_email)
        recipients = [self.prep_address(address) for address in email_message.recipients()]
        assert self.connection is not None  # noqa: S101 (send_messages opened it)
        try:
            self.connection.sendmail(from_email, recipients, wire_bytes(email_message, self.policy))
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True


class FileBackend(DjangoFileBackend):
    """Django's file backend (the demo mailbox), writing the same bytes SMTP would send.

    The file holds the message with ``\\n`` line ends, as Django writes it; the DKIM
    signature is made over the CRLF form an SMTP server would receive.
    """

    def write_message(self, message: Any) -> None:
        stream = cast(BinaryIO, self.stream)  # the file backend opens its file in "ab" mode
        data = wire_bytes(message, SMTP_POLICY).replace(b"\r\n", b"\n")
        stream.write(data + b"\n" + b"-" * 79 + b"\n")
