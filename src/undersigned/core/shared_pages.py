"""Public pages that are the same for every visitor say so, so a cache in front can serve a surge.

A page decorated with ``shared_page`` (the home page, a campaign, an open letter, the
lists) answers a visitor without a session ``Cache-Control: public, max-age=0,
s-maxage=N`` (``UNDERSIGNED_PUBLIC_CACHE_SECONDS``, 5 by default): a shared cache such
as nginx may keep it for N seconds, browsers ask again each time. N is short because
the pages carry live counters: a cache turns a surge into one request per page every
N seconds, and a counter is never more than N seconds behind.

What such a page may not carry, because the next visitor would get it too:

- the CSP nonce. Shared answers have none, neither in the page nor in the
  ``Content-Security-Policy`` header; their scripts are files from our own origin, which
  ``script-src 'self'`` allows. (A nonce served to many visitors is no secret.)
- a CSRF token or a form's per-request values. The forms that act for a visitor
  (composer, endorsement, comments) are on their own pages, never shared; the two on
  shared pages take no token: "get my link again" (public/views.py ``my_link``) and the
  language switcher, which sets only the language cookie (core/languages.py).
- anything of a signed-in person: a request with a session cookie gets
  ``Cache-Control: private`` (staff see dashboard links on these pages).
- a cookie: an answer that sets one is never marked shared.

``Vary: Accept-Language, Cookie`` says what else the page depends on (LocaleMiddleware
adds the language); docs/deployment.md shows an nginx cache that keys on the language
and passes requests with a session cookie through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

type View = Callable[..., HttpResponse]


def is_shared(request: HttpRequest) -> bool:
    """Whether this request gets the page every visitor gets (no session, a safe method)."""
    return (
        settings.PUBLIC_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def shared_page(view: View) -> View:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        shared = is_shared(request)
        if shared:
            # No nonce for this request: Django's CSP middleware then leaves it out of the
            # header, the csp context processor gives templates None, and kept pages
            # (public/kept_pages.py) drop their nonce attributes.
            request._csp_nonce = None  # type: ignore[attr-defined]  # django.middleware.csp's attribute
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ("Cookie",))
        if "Cache-Control" in response:  # the view decided (e.g. no-store)
            return response
        if shared and response.status_code == 200 and not response.cookies:
            patch_cache_control(response, public=True, max_age=0, s_maxage=settings.PUBLIC_CACHE_SECONDS)
        else:
            patch_cache_control(response, private=True, max_age=0)
        return response

    return wrapped
