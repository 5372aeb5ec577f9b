"""A request whose database connection dropped: retried when that is safe, else a 503 that keeps what was typed.

A PostgreSQL restart, a failover or a killed backend leaves each web worker with a
dead connection; the next request on it failed with a bare 500. ``DatabaseFaultsMiddleware``
sees the exception a view raised, and only when the connection behind it is really
gone: a probe on the raw connection fails, or the error itself says the connection was
lost (when it dropped inside ``atomic()``, Django's failed rollback closes it and the
block's end opens a new one, so a probe afterwards finds a live connection):

- ``GET``/``HEAD`` change nothing, so the broken connection is closed and the view runs
  once more on a fresh one;
- anything else may have written part of its work, so it is not repeated: the person
  gets a 503 with ``Retry-After`` and what they typed. A view decorated with
  ``form_again_when_unavailable`` shows its own form again with their values; any other
  gets a page that re-posts the fields as they were, with one button.

The connection may also drop outside the view: in a middleware before it, or while a
session is saved after it. Django turns such an error into a 500 itself, so
``note_lost_connection`` (on ``got_request_exception``) marks the request, and
``DatabaseFaultsEdgeMiddleware``, outside the sessions, puts a 503 in the 500's place:
for a write, the page that re-posts what was typed.

No traceback reaches the person; one WARNING line (path redacted, settings.LOGGING)
reaches the log (and, for an error outside the view, Django's own ERROR line).
"""

from __future__ import annotations

import contextlib
import logging
import sys
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


# PostgreSQL's codes for a connection that is gone: class 08 (connection exception), and
# the server shutting down or ending this backend (57P01–57P03).
_LOST_STATES = ("08", "57P01", "57P02", "57P03")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def says_connection_lost(exc: BaseException) -> bool:
    """Whether the driver's error behind ``exc`` is about a connection that is gone
    (not a wrong query, a constraint or a lock): psycopg's SQLSTATE, an operational error
    of psycopg's own or the state of its connection when it raised, SQLite's closed
    database.

    A driver's error exists only once its module is imported, so neither is imported here:
    a worker on SQLite never loads psycopg (about 7 MB with its libraries; bench/web_memory.py).
    """
    psycopg = sys.modules.get("psycopg")
    sqlite3 = sys.modules.get("sqlite3")
    for error in _chain(exc):
        if psycopg is not None and isinstance(error, psycopg.Error):
            if error.sqlstate is not None and error.sqlstate.startswith(_LOST_STATES):
                return True
            # Raised by psycopg itself, not by the server: "consuming input failed: server
            # closed the connection unexpectedly", "the connection is lost". (Every error the
            # server sends, a lock timeout or a cancelled query included, has a SQLSTATE.)
            if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
                return True
            pgconn = error.pgconn
            if pgconn is not None and pgconn.status == psycopg.pq.ConnStatus.BAD:
                return True
        if sqlite3 is not None and isinstance(error, sqlite3.ProgrammingError) and "closed database" in str(error):
            return True
    return False


def lost_connections(exc: BaseException) -> list[str]:
    """The aliases whose connection is gone, when ``exc`` is a database error; else none.

    A connection that answers the probe is counted too when the error says it was lost:
    it is the new one Django opened after dropping the old, and closing it costs nothing.
    """
    if not isinstance(exc, DatabaseError):
        return []
    opened = [conn for conn in connections.all(initialized_only=True) if conn.connection]
    dead = [conn.alias for conn in opened if _dead(conn.connection)]
    if dead or not says_connection_lost(exc):
        return dead
    return [conn.alias for conn in opened] or [connections.all()[0].alias]


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


def unavailable(request: HttpRequest, form_again: FormAgain | None, match: Any = None) -> HttpResponse:
    """The 503 page: the view's own form again, or a page that re-posts what was sent, or a short apology."""
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
                return unavailable(request, None)
            return response
        logger.warning("database connection lost during %s %s; answered 503", request.method, request.path)
        return unavailable(request, getattr(match.func, "form_again_when_unavailable", None), match)


def note_lost_connection(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """On ``got_request_exception``: when the error being turned into a 500 is a lost
    connection, close it and mark the request, for ``DatabaseFaultsEdgeMiddleware``."""
    exception = sys.exception()
    if request is None or exception is None:
        return
    lost = lost_connections(exception)
    if lost:
        close_lost(lost)
        request._database_lost = True  # type: ignore[attr-defined]


class DatabaseFaultsEdgeMiddleware:
    """A 500 whose cause was a lost connection, outside the view, answered as a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code != 500 or not getattr(request, "_database_lost", False):
            return response
        logger.warning("database connection lost during %s %s; answered 503", request.method, request.path)
        return unavailable(request, None)
