"""HTTP behaviour every page shares: HEAD like GET, 413 for oversize bodies, 400 for form errors,
the marks of a personal page.

Lives in ``core`` because every audience app (public pages, open letters, dashboard)
uses it; it imports nothing from them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.storage import default_storage
from django.forms import BaseForm, BaseFormSet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse

type View = Callable[..., HttpResponseBase]


class HeadAsGetMiddleware:
    """Answer ``HEAD`` wherever ``GET`` is answered, with the same status and headers.

    Views guard their methods with ``require_GET`` / ``require_http_methods(["GET",
    "POST"])`` and ``if request.method == "POST"``; uptime monitors and link-preview bots
    send ``HEAD`` and got 405 from every page. Rather than teach each view (and every new
    one) about ``HEAD``, the view sees a ``GET`` — as Django's class-based ``View`` does
    when it has no ``head`` method — and the body is dropped here. ``REQUEST_METHOD`` in
    ``request.META`` stays ``HEAD`` for anything that needs the truth.

    It comes first in ``MIDDLEWARE``, so every other middleware (whitenoise, CSRF,
    ``CommonMiddleware``'s ``Content-Length``) sees the ``GET`` it answers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            # Not read at all: a streamed CSV is not built for a HEAD (the server closes
            # the response, and with it any file, as usual).
            response.streaming_content = []  # type: ignore[attr-defined]
        elif isinstance(response, HttpResponse):
            length = len(response.content)
            response.content = b""
            response["Content-Length"] = str(length)
        return response


PERSONAL_CACHE_CONTROL = "private, no-store"


def mark_personal(response: HttpResponseBase) -> HttpResponseBase:
    """Say that this response shows someone's personal data: no shared or stored copy, no index."""
    response["Cache-Control"] = PERSONAL_CACHE_CONTROL
    response["X-Robots-Tag"] = "noindex"
    return response


def personal_page[V: View](view: V) -> V:
    """Mark every answer of ``view`` as personal (``mark_personal``), error pages included.

    For pages reached through a private link (a letter, a confirmation) or showing what
    someone typed: a proxy or the browser's back-forward cache must not keep them, and a
    search engine that was given the link must not list it.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return mark_personal(view(request, *args, **kwargs))

    wrapped.personal_page = True  # type: ignore[attr-defined]  # tests find the marked views
    return wrapped  # type: ignore[return-value]


def private_file_response(name: str, content_type: str, filename: str) -> HttpResponseBase:
    """A stored private file (``default_storage``) as a download: never shown inline by
    the browser, never sniffed into another type, never kept by a cache (``mark_personal``).

    404 if the file is gone from storage."""
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("No such file") from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return mark_personal(response)


def _has_errors(value: object) -> bool:
    form = getattr(value, "form", value)  # the admin wraps its form in an AdminForm
    if isinstance(form, BaseForm):
        return form.is_bound and bool(form.errors)
    if isinstance(form, BaseFormSet):
        return form.is_bound and form.total_error_count() > 0
    return False


class FormErrorsMiddleware:
    """A form shown again with errors answers 400, also in views we do not write ourselves.

    Our views pass the status to ``render`` (400 for errors, 409 or 429 where that says
    more); allauth's sign-in and sign-up and Django's admin answer a rejected form with
    200 through a ``TemplateResponse``, whose context is still readable here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_template_response(self, request: HttpRequest, response: TemplateResponse) -> TemplateResponse:
        context = response.context_data if isinstance(response.context_data, dict) else {}
        shown_again = request.method == "POST" and response.status_code == 200
        if shown_again and any(_has_errors(value) for value in context.values()):
            response.status_code = 400
        return response


TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


class BodyLimitsMiddleware:
    """A request body over Django's limits gets a page saying so (413), not a bare 400.

    Django raises ``RequestDataTooBig`` (and ``TooManyFieldsSent``) wherever the body is
    first read, usually in the CSRF check, and logs it at ERROR with a traceback; a pasted
    novel or a bot's junk then looked like a fault of ours in every log. The body is read
    here instead, before the CSRF check (which reads it anyway), so the limits are met in
    one place: one WARNING line without a traceback, and a page a person understands.
    Nothing of the body is kept: it was never read past the limit.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 (parse now: the limits are met here, not deep in a view)
            except TOO_LARGE as exc:
                return self.too_large(request, exc)
        return self.get_response(request)

    def too_large(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        # Django's own logger for this, at WARNING, with its redacting filter (settings.LOGGING).
        logging.getLogger(f"django.security.{type(exc).__name__}").warning(
            "Request refused (%s): %s", exc, request.path, extra={"status_code": 413, "request": request}
        )
        context = {
            "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
            "letter_limit": intcomma(settings.LETTER_BODY_MAX_CHARS),
            "too_many_fields": isinstance(exc, TooManyFieldsSent | TooManyFilesSent),
        }
        response = render(request, "core/too_large.html", context, status=413)
        # The body was not read to its end: the connection cannot carry another request.
        response["Connection"] = "close"
        return response
