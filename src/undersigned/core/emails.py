"""Email addresses as identities: one person, one endorsement; one address, one block.

``mailbox_identity`` folds the spellings a mail provider treats as the same mailbox, so
``Jane.Doe+x@Gmail.com`` and ``janedoe@gmail.com`` are one person. Only providers
known to ignore dots or sub-address tags are folded that way; for every other domain
the local part is kept as typed (apart from case: no provider in use today delivers by
case, and people type their address in any case).

``named_address`` and ``MailPolicy`` are the one path every address header and list
header of our mail takes. Python's email package, folding a long header, drops the
quotes around a display name (``"Board, Secretariat" <a@b>`` becomes two addresses,
and a name that contains ``<x@y>`` becomes that address); it also writes
``List-Unsubscribe`` as an RFC 2047 encoded-word, which mail programs do not read as a
link. ``MailPolicy`` writes these headers itself: plain words as they are, other ASCII
names as a quoted string it never folds, non-ASCII names as encoded-words; list
headers go out as written. The mail backends (``core.mailers``) serialise every message with it.
"""

from __future__ import annotations

import base64
import contextlib
import re
from email.headerregistry import Address
from email.policy import EmailPolicy
from typing import Any

from .sanitising import single_line

# Providers that deliver "local+anything" to "local".
_PLUS_TAGS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "posteo.de",
        "mailbox.org",
    }
)
# Providers that ignore dots in the local part.
_NO_DOTS = frozenset({"gmail.com", "googlemail.com"})
# Providers with a second spelling of their domain.
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com", "protonmail.com": "proton.me", "pm.me": "proton.me"}
# Yahoo's disposable addresses use "-" rather than "+".
_DASH_TAGS = frozenset({"yahoo.com", "ymail.com", "rocketmail.com"})


def mailbox_identity(address: str) -> str:
    """A canonical form of ``address`` for comparing people, never for sending mail."""
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    domain = domain.rstrip(".")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in _DASH_TAGS:
        local = local.split("-", 1)[0]
    if domain in _NO_DOTS:
        local = local.replace(".", "")
    domain = _DOMAIN_ALIASES.get(domain, domain)
    return f"{local}@{domain}"


def mailbox_spellings(identity: str) -> tuple[str, frozenset[str]]:
    """What every address ``mailbox_identity`` folds into ``identity`` begins with (a
    prefix of its local part) and the domains it can end with: a narrow database lookup,
    whose rows are then compared by ``mailbox_identity`` itself."""
    local, _, domain = identity.rpartition("@")
    domains = frozenset({domain} | {alias for alias, canonical in _DOMAIN_ALIASES.items() if canonical == domain})
    # Dots may stand anywhere in such a local part: only its first character is certain.
    prefix = local[:1] if domains & _NO_DOTS else local
    return prefix, domains


# Bidi controls (embeddings, overrides, isolates and marks) can make a name read
# differently from what it is, e.g. show someone else's address the wrong way round.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Lone surrogates cannot be written in UTF-8 at all.
_UNWRITABLE = re.compile("[\ud800-\udfff]")
NAME_LIMIT = 150


def display_name(name: str) -> str:
    """The display name a header of our mail carries for ``name``: what a reader should see.

    One line (no user text can add a header), without bidi controls or other invisible
    controls, single spaces, at most 150 characters. Idempotent: the header written for
    a name, parsed back, gives exactly ``display_name(name)``.
    """
    cleaned = _UNWRITABLE.sub("", _BIDI_CONTROLS.sub("", single_line(name)))
    return " ".join(cleaned.split())[:NAME_LIMIT].rstrip()


def named_address(name: str, email: str) -> str:
    """``Name <user@domain>`` for a header of mail the platform sends.

    The name is cleaned by ``display_name``, and quoted unless it is plain words, so
    that Python's parser reads back exactly this name when Django sets the header.
    Given in its two parts, ``Address`` skips parsing the address (three times for every
    email the engine sends, see docs/performance.md); a local part with quotes or backslashes,
    which the parts would format differently, is parsed as a whole.
    """
    display = display_name(name)
    local, at, domain = email.rpartition("@")
    if at and local and '"' not in local and "\\" not in local:
        spec = Address(username=local, domain=domain).addr_spec
    else:
        spec = Address(addr_spec=email).addr_spec
    if not display:
        return spec
    if "=?" in display or not all(_UTF8_ATOM.fullmatch(word) for word in display.split(" ")):
        # Quoted (never as encoded-words here: Python before gh-128110 reads a space
        # between two encoded-words into the name); MailPolicy encodes when it writes.
        display = _quoted(display)
    return f"{display} <{spec}>"


# RFC 5322 atext: a display name made only of these words needs no quoting.
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
# RFC 6532 adds any non-ASCII character; Python's parser reads these words as typed.
_UTF8_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+")


def _quoted(name: str) -> str:
    # ``=?`` is written ``=\\?``: Python's parser decodes an encoded-word even inside quotes.
    return '"' + re.sub(r'(["\\])', r"\\\1", name).replace("=?", "=\\?") + '"'


# Characters an encoded-word in a phrase may carry as themselves (RFC 2047, 5 (3)).
_Q_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_EW_ROOM = 75 - len("=?utf-8?q??=")  # an encoded-word is at most 75 characters
_B_ROOM = _EW_ROOM // 4 * 3  # bytes whose base64 fits in one encoded-word


def phrase_words(name: str) -> list[str]:
    """``name`` as the words of an RFC 5322 phrase that no folding can change.

    Plain ASCII words stay as they are. Other ASCII becomes one quoted string, which
    ``MailPolicy`` never folds (``=?`` is written ``=\\?`` in it, since Python's parser
    would decode an encoded-word even inside quotes). Anything non-ASCII becomes UTF-8
    encoded-words of whole characters, at most 75 long each, Q or B (the shorter).
    """
    if not name:
        return []
    words = name.split(" ")
    if "=?" not in name and all(_ATOM.fullmatch(word) for word in words):
        return words
    if name.isascii():
        return [_quoted(name)]
    q_words = _q_words(name)
    b_words = _b_words(name)
    return q_words if sum(map(len, q_words)) <= sum(map(len, b_words)) else b_words


def _q_words(name: str) -> list[str]:
    words, current = [], ""
    for char in name:
        if char == " ":
            piece = "_"
        elif char in _Q_PLAIN:
            piece = char
        else:
            piece = "".join(f"={byte:02X}" for byte in char.encode())
        if len(current) + len(piece) > _EW_ROOM:
            words.append(current)
            current = ""
        current += piece
    words.append(current)
    return [f"=?utf-8?q?{word}?=" for word in words]


def _b_words(name: str) -> list[str]:
    chunks, current = [], b""
    for char in name:
        piece = char.encode()
        if len(current) + len(piece) > _B_ROOM:
            chunks.append(current)
            current = b""
        current += piece
    chunks.append(current)
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode()}?=" for chunk in chunks]


_ADDRESS_HEADERS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc"}
)
# Headers whose value is a list of <URL>s or a fixed token, to be written as they are.
_LITERAL_HEADERS = frozenset(
    {
        "list-unsubscribe",
        "list-unsubscribe-post",
        "list-id",
        "list-help",
        "list-subscribe",
        "list-post",
        "list-owner",
        "list-archive",
        "archived-at",
        "in-reply-to",
        "references",
    }
)


class MailPolicy(EmailPolicy):
    """``email.policy.default`` (or ``SMTP``), except for address and list headers.

    Address headers are written from their parsed addresses: each name through
    ``display_name`` and ``phrase_words``, folded only between words and before
    ``<address>``. List headers (``List-Unsubscribe`` etc.) are written literally,
    folded only at spaces. Anything this cannot write safely (a named group, a
    non-ASCII local part, a non-ASCII list header) falls back to the stock folding.
    """

    def fold(self, name: str, value: Any) -> str:
        folded = self._fold_exactly(name, value)
        return folded if folded is not None else super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        folded = self._fold_exactly(name, value)
        return folded.encode("ascii") if folded is not None else super().fold_binary(name, value)

    def _fold_exactly(self, name: str, value: Any) -> str | None:
        key = name.lower()
        if key in _ADDRESS_HEADERS:
            tokens = _address_tokens(value)
        elif key in _LITERAL_HEADERS:
            text = str(value)
            ascii_line = text.isascii() and "\r" not in text and "\n" not in text
            tokens = text.split() if ascii_line else None
        else:
            return None
        if not tokens:
            return None
        # A list header's first <URL> stays on the name's line: some readers (Python's
        # among them) keep the line break as a leading space of an unstructured value.
        return _fold_tokens(
            name, tokens, limit=self.max_line_length or 78, linesep=self.linesep, fold_first=key in _ADDRESS_HEADERS
        )


def _address_tokens(header: Any) -> list[str] | None:
    groups = getattr(header, "groups", None)
    if not groups or any(group.display_name is not None for group in groups):
        return None
    addresses = [address for group in groups for address in group.addresses]
    tokens: list[str] = []
    for index, address in enumerate(addresses):
        spec = address.addr_spec
        if not spec.isascii() or not spec or spec == "<>":
            return None
        words = phrase_words(display_name(address.display_name))
        parts = [*words, f"<{spec}>"] if words else [spec]
        if index < len(addresses) - 1:
            parts[-1] += ","
        tokens.extend(parts)
    return tokens


def _fold_tokens(name: str, tokens: list[str], *, limit: int, linesep: str, fold_first: bool) -> str:
    """``Name: token token…``, breaking lines only between tokens, before ``limit``."""
    start = f"{name}:"
    lines = [start]
    for token in tokens:
        if len(lines[-1]) + 1 + len(token) > limit and (fold_first or lines[-1] != start):
            lines.append(" " + token)
        else:
            lines[-1] += " " + token
    return linesep.join(lines) + linesep


# Serialising policies for the mail backends: files (\n) and SMTP (\r\n).
POLICY = MailPolicy()
SMTP_POLICY = MailPolicy(linesep="\r\n")
