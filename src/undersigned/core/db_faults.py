"""A request whose database connection dropped: retried when that is safe, else a 503 that keeps what was typed.

A PostgreSQL restart, a failover or a killed backend leaves each web worker with a
dead connection; the next request on it failed with a bare 500. ``DatabaseFaultsMiddleware``
sees the exception a view raised, and only when the connection behind it is really
gone (a probe on the raw connection fails):

- ``GET``/``HEAD`` change nothing, so the broken connection is closed and the view runs
  once more on a fresh one;
- anything else may have written part of its work, so it is not repeated: the person
  gets a 503 with ``Retry-After`` and what they typed. A view decorated with
  ``form_again_when_unavailable`` shows its own form again with their values; any other
  gets a page that re-posts the fields as they were, with one button.

No traceback reaches the person; one WARNING line (path redacted, settings.LOGGING)
reaches the log.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .http import mark_personal

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = _("We could not save this just now. Nothing is lost: your text is below. Press Send again.")
# The fields a re-post must not carry as they were: a fresh CSRF token is put in their place.
_NOT_REPOSTED = frozenset({"csrfmiddlewaretoken"})

type FormAgain = Callable[..., HttpResponse]


def _dead(raw: Any) -> bool:
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception:  # whatever the driver raises, the connection cannot serve
        return True
    return False


def lost_connections(exc: BaseException) -> list[str]:
    """The aliases whose connection is gone, when ``exc`` is a database error; else none."""
    if not isinstance(exc, DatabaseError):
        return []
    return [conn.alias for conn in connections.all(initialized_only=True) if conn.connection and _dead(conn.connection)]


def close_lost(aliases: list[str]) -> None:
    for alias in aliases:
        conn = connections[alias]
        with contextlib.suppress(DatabaseError):  # closing a dead connection may fail
            conn.close()
        # Whatever Django thought of the old connection, the next query opens a new one.
        conn.connection = None


def form_again_when_unavailable(form_again: FormAgain) -> Callable[[Any], Any]:
    """Let a view show its own form again, with what was typed, when its write could not be made.

    ``form_again(request, *args, message=..., **kwargs)`` is called with the view's own
    arguments and returns the form page (its status is set to 503 here).
    """

    def mark(view: Any) -> Any:
        view.form_again_when_unavailable = form_again
        return view

    return mark


def _repost_page(request: HttpRequest) -> HttpResponse:
    fields = [(name, value) for name, values in request.POST.lists() if name not in _NOT_REPOSTED for value in values]
    # No user from the session: the database may still be down, and this page needs none.
    context = {"fields": fields, "action": request.get_full_path(), "message": MESSAGE, "user": AnonymousUser()}
    return render(request, "core/unavailable.html", context)


class DatabaseFaultsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        lost = lost_connections(exception)
        if not lost:
            return None
        close_lost(lost)
        match = request.resolver_match
        if match is None:
            return None
        if request.method in ("GET", "HEAD") and not getattr(request, "_database_retried", False):
            request._database_retried = True  # type: ignore[attr-defined]
            logger.warning("database connection lost during %s %s; running it again", request.method, request.path)
            try:
                response: HttpResponseBase = match.func(request, *match.args, **match.kwargs)
            except DatabaseError as again:
                close_lost(lost_connections(again))
                return self.unavailable(request, None)
            return response
        logger.warning("database connection lost during %s %s; answered 503", request.method, request.path)
        return self.unavailable(request, getattr(match.func, "form_again_when_unavailable", None), match)

    def unavailable(self, request: HttpRequest, form_again: FormAgain | None, match: Any = None) -> HttpResponse:
        response: HttpResponse | None = None
        if request.method == "POST" and form_again is not None and match is not None:
            try:
                response = form_again(request, *match.args, message=str(MESSAGE), **match.kwargs)
            except DatabaseError:
                close_lost(lost_connections(DatabaseError()))
                response = None  # the database is still away: the page below needs none
        if response is None and request.method == "POST":
            response = _repost_page(request)
        if response is None:
            message = _("This page could not be shown just now. Please try again in a moment.")
            context = {"fields": None, "message": message, "user": AnonymousUser()}
            response = render(request, "core/unavailable.html", context)
        response.status_code = 503
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        mark_personal(response)  # what was typed, or a page nobody should keep
        return response
