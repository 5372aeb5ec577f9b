"""Reading mail that comes back to the platform: what a bounce says, and what a copy holds.

Pure: it takes the message's bytes (or a parsed ``EmailMessage``) and returns plain
data, with no database and no Django models, so every kind of report can be tested on
its own. ``services.record_bounce`` and ``services.record_copy`` write what it finds.
Nothing read from a message reaches a log here.

The standard library's ``email`` package does the MIME work, including RFC 3464's
``message/delivery-status`` (each block of fields arrives as a ``Message``). What it
can't know is what a report means for one letter, and how to read the bounces that
don't follow RFC 3464 (qmail, old Exchange, hosted filters), which are still common:
that is the rest of this module.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from typing import Literal

from django.utils.html import strip_tags

NoticeKind = Literal["failed", "delayed", "other"]


@dataclass(frozen=True)
class Notice:
    """What a delivery status notification says about one address."""

    kind: NoticeKind
    diagnostic: str  # the server's reason on one line ("550 5.1.1 … User unknown"), or "Status 5.2.1"
    addresses: frozenset[str]  # the addresses it is about, in lower case; empty if it doesn't say


@dataclass(frozen=True)
class Bounce:
    """What a message at a delivery's bounce address says about that delivery's recipient."""

    failure: Notice | None  # the first permanent failure about the recipient, if any
    delayed: bool  # a server reported the letter delayed: it is still being tried
    # Whether the failure names the recipient's address as it is now (or names none).
    # False when it names only other addresses: the recipient's address has changed
    # since the letter went, or a forward failed, and flagging the address they have
    # now would send organisers to fix what isn't broken.
    flags_address: bool


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


def parse(message: bytes | EmailMessage) -> EmailMessage:
    """The message parsed with the modern policy (headers as objects, ``get_body``)."""
    if isinstance(message, EmailMessage):
        return message
    return BytesParser(policy=policy.default).parsebytes(message)


def read_bounce(message: bytes | EmailMessage, *, recipient_email: str, supporter_email: str = "") -> Bounce:
    """What the message says about the letter reaching ``recipient_email``.

    A permanent failure (``Action: failed``, or a 5.x.x status) is a failure; a delay
    (``Action: delayed``, 4.x.x) is not, since the sending server is still trying;
    anything else at a bounce address (an auto-reply, a read receipt) says nothing.
    Platform mail goes to the recipient with, optionally, a copy to the supporter in the
    same message, so bounces for both come back to one address: a notice only about the
    supporter's copy is not about the recipient and is left out.
    """
    recipient_email = recipient_email.lower()
    supporter_email = supporter_email.lower()
    known = frozenset({recipient_email, supporter_email} - {""})
    about_recipient = [
        notice
        for notice in notices(parse(message), known=known)
        if not (supporter_email and supporter_email in notice.addresses and recipient_email not in notice.addresses)
    ]
    failure = next((notice for notice in about_recipient if notice.kind == "failed"), None)
    return Bounce(
        failure=failure,
        delayed=any(notice.kind == "delayed" for notice in about_recipient),
        flags_address=failure is not None and (not failure.addresses or recipient_email in failure.addresses),
    )


def notices(message: EmailMessage, *, known: frozenset[str] = frozenset()) -> list[Notice]:
    """The notices in a delivery status notification (RFC 3464), or read from a non-standard bounce.

    ``known`` are the addresses (lower case) a non-standard bounce could be about; a
    notice read from text is about those of them that appear in it.
    """
    if message.get_content_type() == "multipart/report":
        if str(message.get_param("report-type", "")).lower() != "delivery-status":
            return []  # a read receipt or an abuse report says nothing about delivery
        found = _report_notices(message)
        if found:
            return found
    return _text_notices(message, known=known)


def _report_notices(message: EmailMessage) -> list[Notice]:
    found: list[Notice] = []
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
            action = one_line(block.get("Action", "")).lower()
            status = one_line(block.get("Status", ""))
            diagnostic = _DIAGNOSTIC_TYPE.sub("", one_line(block.get("Diagnostic-Code", "")))
            addresses = frozenset(
                address
                for name in ("Final-Recipient", "Original-Recipient")
                if (address := _report_address(block.get(name, "")))
            )
            found.append(
                Notice(
                    kind=_notice_kind(action, status), diagnostic=diagnostic or f"Status {status}", addresses=addresses
                )
            )
    return found


def _report_address(value: object) -> str:
    # "rfc822; chair@council.example" (the address type comes first, RFC 3464 §2.3.2).
    text = one_line(value)
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
    text = text_of(part)
    quoted = _QUOTED_ORIGINAL.search(text)
    return text[: quoted.start()] if quoted else text


def _text_notices(message: EmailMessage, *, known: frozenset[str]) -> list[Notice]:
    text = _readable_text(message)
    best: Notice | None = None
    lowered = text.lower()
    about = frozenset(address for address in known if address in lowered)
    for line in text.splitlines():
        match = _SMTP_REPLY_STATUS.search(line) or _QMAIL_STATUS.search(line)
        if match is None:
            continue
        kind = _STATUS_CLASS[match.group("cls")]
        if best is None or _SEVERITY[kind] > _SEVERITY[best.kind]:
            best = Notice(kind=kind, diagnostic=one_line(line), addresses=about)
    return [best] if best else []


# --- Copies of letters (the BCC of a mailto link) ------------------------------------


def copy_text(message: bytes | EmailMessage, *, max_chars: int) -> str:
    """The letter as the supporter's mail app sent it: the plain-text body, or the HTML one
    as text; at most ``max_chars`` characters."""
    body = parse(message).get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = text_of(body)
    if body.get_content_type() == "text/html":
        # Cut before stripping tags: markup takes room, so four times the limit is plenty.
        text = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>", "\n", text[: max_chars * 4])
        text = html.unescape(strip_tags(text))
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")[:max_chars]


def header_addresses(message: bytes | EmailMessage, *names: str) -> set[str]:
    """The addresses in the named headers (e.g. "to", "cc"), in lower case."""
    parsed = parse(message)
    found: set[str] = set()
    for name in names:
        try:
            for header in parsed.get_all(name, []):
                for address in getattr(header, "addresses", ()):
                    if address.addr_spec:
                        found.add(address.addr_spec.lower())
        except (HeaderParseError, IndexError, TypeError, ValueError):
            # A header the parser can't read names nobody we could match.
            continue
    return found


def one_line(value: object) -> str:
    # PostgreSQL text can't hold NUL; folded header lines become single spaces.
    return " ".join(str(value).replace("\x00", "").split())


def text_of(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        # An unknown or wrong charset: keep what can be read rather than lose the message.
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
    return content if isinstance(content, str) else ""
