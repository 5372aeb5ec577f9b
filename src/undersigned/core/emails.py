"""Email addresses as identities: one person, one address, whatever way they type it.

Stand-in for the shared abuse layer's module of the same name (being written on main);
the merge takes main's version.
"""

from __future__ import annotations

# Providers that deliver ``a.b+tag@`` to ``ab@``; only there may dots and tags be dropped.
_IGNORE_DOTS_AND_TAGS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
_IGNORE_TAGS = {"outlook.com", "hotmail.com", "live.com", "icloud.com", "fastmail.com", "proton.me", "protonmail.com"}


def normalise_email(email: str) -> str:
    local, _, domain = email.strip().casefold().rpartition("@")
    if not local:
        return email.strip().casefold()
    if domain in _IGNORE_DOTS_AND_TAGS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = _IGNORE_DOTS_AND_TAGS[domain]
    elif domain in _IGNORE_TAGS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"
