"""The language switcher every page carries (templates/core/_languages.html).

A visitor's ``Accept-Language`` chooses the interface's language (LocaleMiddleware)
until they pick one here; the choice is kept in the language cookie
(``settings.LANGUAGE_COOKIE_*``), a preference that carries nothing else, never in a
session. The form is a plain POST that works without JavaScript.

Why not Django's ``set_language``: the switcher is on the shared pages too (the home
page, campaigns, open letters; ``core/shared_pages.py``), which carry no CSRF token,
and Django's view needs one. This view changes nothing but that cookie: a request forged
from another site could only switch its visitor's interface to another of our languages,
which they see and can switch back. Browsers that say so (``Sec-Fetch-Site:
cross-site``) are refused all the same. ``next`` is kept only when it is a path of this
site; anything else (another host, a scheme, ``//host``, a backslash) goes home.
"""

from __future__ import annotations

from typing import Literal, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

NEXT_MAX_CHARS = 2000


def safe_next(raw: str | None) -> str:
    """``raw`` when it is a path of this site (``/…``, not ``//…``), else the home page."""
    value = (raw or "").strip()
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or len(value) > NEXT_MAX_CHARS
        or not url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return "/"
    return value


@csrf_exempt  # why: the module's docstring
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return HttpResponseForbidden()
    response = HttpResponseRedirect(safe_next(request.POST.get("next")))
    code = request.POST.get("language", "")
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=cast(Literal["Lax", "Strict", "None"], settings.LANGUAGE_COOKIE_SAMESITE),
        )
    return response
