"""Placeholders in letter templates: ``{{ supporter.name }}`` and friends.

Pure functions over plain data. Rendering never evaluates anything: a placeholder is a
fixed name looked up in a dict, so a template (or a supporter's letter) cannot reach
code or data beyond the names listed here. Unknown names are refused by
``unknown_placeholders`` at import and when a supporter saves a letter, so they are never
printed into a letter.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# What each means, for the people who write templates (translated when shown).
KNOWN: dict[str, StrOrPromise] = {
    "supporter.name": _("your name"),
    "supporter.first_name": _("your first name"),
    "supporter.town": _("your town"),
    "supporter.country": _("your country"),
    "recipient.name": _("the recipient's name"),
    "recipient.role": _("the recipient's role"),
    "recipient.organisation": _("the recipient's organisation"),
    "campaign.title": _("the campaign's title"),
}


def placeholders_in(text: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def unknown_placeholders(text: str) -> list[str]:
    seen: list[str] = []
    for name in placeholders_in(text):
        if name not in KNOWN and name not in seen:
            seen.append(name)
    return seen


@dataclass(frozen=True)
class UnknownPlaceholder:
    name: str
    suggestion: str  # the known name it is close to, or ""


def check_placeholders(text: str) -> list[UnknownPlaceholder]:
    """Each unknown placeholder of ``text`` once, with the known one it most likely meant.

    The one check: ``undersigned import`` and the workspace's editor both report these,
    each in its own words.
    """
    found = []
    for name in unknown_placeholders(text):
        # A high cutoff: placeholders share long prefixes ("supporter."), which would
        # make every typo look close to something.
        close = difflib.get_close_matches(name, list(KNOWN), n=1, cutoff=0.8)
        found.append(UnknownPlaceholder(name, close[0] if close else ""))
    return found


@dataclass(frozen=True)
class BrokenPlaceholder:
    piece: str  # the text as written, e.g. "{{ supporter.name" or "{supporter.town}"
    suggestion: str  # the placeholder it most likely meant, e.g. "supporter.name", or ""


# What is left of a line once its whole placeholders are taken out: an opening "{{" with
# its name, a name with its closing "}}", or a name in single braces.
_OPENED = re.compile(r"\{\{\s*([^{}\n]{0,40}?)\s*(?=\{|\}|$)")
_CLOSED = re.compile(r"(?<!\})\s*([A-Za-z_.]{1,40})?\s*\}\}")
_SINGLE = re.compile(r"(?<!\{)\{\s*([A-Za-z_]+\.[A-Za-z_]+)\s*\}(?!\})")


def _closest(name: str) -> str:
    name = name.strip()
    if name in KNOWN:
        return name
    close = difflib.get_close_matches(name, list(KNOWN), n=1, cutoff=0.8)
    return close[0] if close else ""


def broken_placeholders(text: str) -> list[BrokenPlaceholder]:
    """What looks meant as a placeholder but is not one, each once, in the order written:
    ``{{`` without its ``}}`` on the same line, ``}}`` without its ``{{``, or a known
    name in single braces. Such text would be printed as typed into every letter.
    """
    found: list[BrokenPlaceholder] = []
    for line in text.split("\n"):
        rest = PLACEHOLDER.sub(lambda _: "\0", line)  # whole placeholders are fine
        for match in _OPENED.finditer(rest):
            broken = BrokenPlaceholder(("{{ " + match.group(1).strip()).strip(), _closest(match.group(1)))
            if broken not in found:
                found.append(broken)
        for match in _SINGLE.finditer(rest):
            broken = BrokenPlaceholder(match.group(0).strip(), _closest(match.group(1)))
            if broken not in found:
                found.append(broken)
        for match in _CLOSED.finditer(rest.replace("{{", "")):
            name = match.group(1) or ""
            broken = BrokenPlaceholder((name + " }}").strip(), _closest(name))
            if broken not in found:
                found.append(broken)
    return found


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace each known placeholder by its value; a missing value shows as ``[your town]``."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name, "")
        if value:
            return value
        return f"[{KNOWN.get(name, name)}]"

    return PLACEHOLDER.sub(substitute, text)


def values_for(
    *,
    supporter_name: str = "",
    supporter_town: str = "",
    supporter_country: str = "",
    recipient_name: str = "",
    recipient_role: str = "",
    recipient_organisation: str = "",
    campaign_title: str = "",
) -> dict[str, str]:
    first = supporter_name.split(maxsplit=1)[0] if supporter_name.split() else ""
    return {
        "supporter.name": supporter_name,
        "supporter.first_name": first,
        "supporter.town": supporter_town,
        "supporter.country": supporter_country,
        "recipient.name": recipient_name,
        "recipient.role": recipient_role,
        "recipient.organisation": recipient_organisation,
        "campaign.title": campaign_title,
    }
