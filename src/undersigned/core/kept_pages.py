"""Whole pages kept in each web worker, with markers filled in per request.

Some public pages are the same for every visitor but for a few values: the CSP nonce,
the CSRF token, a counter, the composer's submission key and the signed start time of
a guarded form. Each such page is rendered once per version of what it shows (the
caller's key: a campaign's or open letter's stamp, the language, the kind of visitor
as ``organisations.access.organiser_kind`` tells it, clock-dependent text) with a
random marker in place of each value, and the markers are filled in, escaped, per
request. Used by the campaign page, the fresh composer, the
open letter's page and its endorsement form (docs/performance.md has the figures).
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.utils.html import escape

MARK = {name: f"m{secrets.token_hex(12)}{name}" for name in ("csrf", "key", "started", "nonce", "count")}
_MARK_BYTES = {name: mark.encode() for name, mark in MARK.items()}
_NO_NONCE = f' nonce="{MARK["nonce"]}"'.encode()
# Pages are kept as the UTF-8 bytes of the response, not as str: every page names the
# languages in their own script (the switcher's "العربية"), and a str with one character
# beyond Latin-1 takes 2 bytes (4 with an emoji) for every character of the page. As
# bytes a page takes about half (bench/web_memory.py: 20 pages, 0.51 MB as str).
_kept_pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
PAGES_KEPT = 256


def nonce(request: HttpRequest) -> str:
    value = get_nonce(request)
    return str(value) if value is not None else ""  # a LazyNonce is falsy until first read


def kept_page(key: tuple[Any, ...], render_page: Callable[[], HttpResponse], values: dict[str, str]) -> HttpResponse:
    page = _kept_pages.get(key)
    if page is None:
        page = render_page().content  # UTF-8 (DEFAULT_CHARSET), as the response sends it
        _kept_pages[key] = page
        while len(_kept_pages) > PAGES_KEPT:
            _kept_pages.popitem(last=False)
    if values.get("nonce") == "":
        # A shared answer has no nonce (core/shared_pages.py): drop the attribute, not
        # just its value.
        page = page.replace(_NO_NONCE, b"")
    for name, value in values.items():
        page = page.replace(_MARK_BYTES[name], escape(value).encode())
    return HttpResponse(page)
