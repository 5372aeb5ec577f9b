"""The organiser back office. For now: the demo mailbox (mail written to ./var/mail/)."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

# The file backend separates messages in one file with a line of 79 dashes.
_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
MAX_SHOWN = 100


@dataclass(frozen=True)
class MailboxMessage:
    subject: str
    sender: str
    to: str
    reply_to: str
    date: str
    body: str


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def read_mailbox(folder: Path, limit: int = MAX_SHOWN) -> list[MailboxMessage]:
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    parser = BytesParser(policy=policy.default)
    messages: list[MailboxMessage] = []
    for path in files:
        chunks = [c for c in path.read_bytes().split(_SEPARATOR) if c.strip()]
        for chunk in reversed(chunks):
            parsed = parser.parsebytes(chunk.lstrip(b"\n"))
            if not isinstance(parsed, EmailMessage):  # always true with policy.default
                continue
            messages.append(
                MailboxMessage(
                    subject=str(parsed.get("Subject", "")),
                    sender=str(parsed.get("From", "")),
                    to=str(parsed.get("To", "")),
                    reply_to=str(parsed.get("Reply-To", "")),
                    date=str(parsed.get("Date", "")),
                    body=_text_of(parsed),
                )
            )
            if len(messages) >= limit:
                return messages
    return messages


@staff_member_required
def mailbox(request: HttpRequest) -> HttpResponse:
    """Only in demo mode: without an SMTP server, this is where sent mail can be read."""
    if not settings.DEMO_MODE:
        raise Http404("The mailbox exists only in demo mode")
    return render(request, "dashboard/mailbox.html", {"messages_": read_mailbox(settings.MAIL_DIR)})
