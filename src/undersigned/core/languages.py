"""Languages: the switcher every page carries, and the language an email is written in.

The switcher (templates/core/_languages.html): a visitor's ``Accept-Language`` chooses
the interface's language (LocaleMiddleware) until they pick one here; the choice is kept
in the language cookie (``settings.LANGUAGE_COOKIE_*``), a preference that carries
nothing else, never in a session. The form is a plain POST that works without JavaScript.

Why not Django's ``set_language``: the switcher is on the shared pages too (the home
page, campaigns, open letters; ``core/shared_pages.py``), which carry no CSRF token,
and Django's view needs one. This view changes nothing but that cookie: a request forged
from another site could only switch its visitor's interface to another of our languages,
which they see and can switch back. Browsers that say so (``Sec-Fetch-Site:
cross-site``) are refused all the same. ``next`` is kept only when it is a path of this
site; anything else (another host, a scheme, ``//host``, a backslash) goes home.

Emails: a supporter, endorser or commenter is written to in the language the site spoke
to them when they wrote (``Letter.language``, ``Endorsement.language``,
``Comment.language``, recorded with ``active_language``); a recipient in the letter's
language (the campaign's). ``email_language`` picks the first of these that is known,
and the site's default otherwise, for ``translation.override``.
"""

from __future__ import annotations

from typing import Literal, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

NEXT_MAX_CHARS = 2000
# The longest language code we keep (e.g. "zh-hant-tw"); the model fields share it.
LANGUAGE_MAX_LENGTH = 16


def active_language() -> str:
    """The language of the page being answered ("" outside a request with none active)."""
    return (translation.get_language() or "")[:LANGUAGE_MAX_LENGTH]


def email_language(*preferred: str | None) -> str:
    """The first language of ``preferred`` that is set, else the site's default."""
    return next((language for language in preferred if language), settings.LANGUAGE_CODE)


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
