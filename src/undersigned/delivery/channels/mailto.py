"""Links that open the supporter's own mail program or webmail with the letter filled in.

``mailto:`` URIs follow RFC 6068: header values are UTF-8, percent-encoded, and line
breaks in the body are written as ``%0D%0A``. Mail programs and browsers cut long URIs
(some at about 2,000 characters), so when a link would be longer than
``MAILTO_MAX_LENGTH`` the links carry the recipient, the subject and the copy address
with only a short note as the body (``paste_note``), and the send page shows the text
to copy and paste in. Either way the copy address is in Bcc, so any letter, however
long, can be proven sent by the copy that comes back.
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
    # The letter did not fit: the links carry ``paste_note`` as the body, the text is pasted.
    too_long: bool
    bcc: str = ""


def compose_links(*, to: str, subject: str, body: str, bcc: str = "", paste_note: str = "") -> ComposeLinks:
    """Links for one recipient. ``bcc`` is the letter's copy address: the copy that
    arrives there proves the letter was sent (evidence ``verified_copy``).

    A letter whose link would be longer than ``MAILTO_MAX_LENGTH`` gets links with
    ``paste_note`` (e.g. "Paste your letter here.") as the body instead of the letter.
    """
    copies = [bcc] if bcc else None
    uri = mailto_uri(to=[to], subject=subject, body=body, bcc=copies)
    too_long = len(uri) > MAILTO_MAX_LENGTH
    if too_long:
        body = paste_note
        uri = mailto_uri(to=[to], subject=subject, body=body, bcc=copies)
    return ComposeLinks(
        mailto=uri,
        gmail=gmail_uri(to=[to], subject=subject, body=body, bcc=copies),
        outlook=outlook_uri(to=[to], subject=subject, body=body, bcc=copies),
        too_long=too_long,
        bcc=bcc,
    )
