"""Links that open the supporter's own mail program or webmail with the letter filled in.

``mailto:`` URIs follow RFC 6068: header values are UTF-8, percent-encoded, and line
breaks in the body are written as ``%0D%0A``. Mail programs and browsers cut long URIs
(some at about 2,000 characters), so when a link would be longer than
``MAILTO_MAX_LENGTH`` the composer says so and offers copying instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

MAILTO_MAX_LENGTH = 2000


def _encode(value: str) -> str:
    return quote(value, safe="")


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def mailto_uri(*, to: list[str], subject: str, body: str, bcc: list[str] | None = None) -> str:
    # Addresses keep "@" readable; everything else in them is encoded (RFC 6068 §2).
    address_part = ",".join(quote(a, safe="@") for a in to)
    fields = [("subject", subject), ("body", normalise_newlines(body))]
    if bcc:
        fields.insert(0, ("bcc", ",".join(bcc)))
    query = "&".join(f"{name}={_encode(value)}" for name, value in fields)
    return f"mailto:{address_part}?{query}"


def gmail_uri(*, to: list[str], subject: str, body: str, bcc: list[str] | None = None) -> str:
    params = {"view": "cm", "fs": "1", "to": ",".join(to), "su": subject, "body": body}
    if bcc:
        params["bcc"] = ",".join(bcc)
    return "https://mail.google.com/mail/?" + urlencode(params, quote_via=quote)


def outlook_uri(*, to: list[str], subject: str, body: str, bcc: list[str] | None = None) -> str:
    params = {"to": ",".join(to), "subject": subject, "body": body}
    if bcc:
        params["bcc"] = ",".join(bcc)
    return "https://outlook.office.com/mail/deeplink/compose?" + urlencode(params, quote_via=quote)


@dataclass(frozen=True)
class ComposeLinks:
    mailto: str
    gmail: str
    outlook: str
    too_long: bool


def compose_links(*, to: str, subject: str, body: str, bcc: str = "") -> ComposeLinks:
    """Links for one recipient. ``bcc`` is the letter's copy address: the copy that
    arrives there proves the letter was sent (evidence ``verified_copy``)."""
    copies = [bcc] if bcc else None
    uri = mailto_uri(to=[to], subject=subject, body=body, bcc=copies)
    return ComposeLinks(
        mailto=uri,
        gmail=gmail_uri(to=[to], subject=subject, body=body, bcc=copies),
        outlook=outlook_uri(to=[to], subject=subject, body=body, bcc=copies),
        too_long=len(uri) > MAILTO_MAX_LENGTH,
    )
