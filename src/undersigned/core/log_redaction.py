"""Keep private links out of logs: a logging filter that redacts tokens in paths.

Private letter links, confirmation, withdrawal and unsubscribe links carry their secret
in the path (``/l/<link>/``), drafts in the query (``?draft=…``). Django logs the path of
every CSRF failure and every 500, and anything may log a URL. ``settings.LOGGING`` puts
``RedactTokens`` on every handler and on the loggers that write paths (so records are
already redacted when they reach any handler, a test's included).

What is a secret comes from the URL patterns themselves, so a new tokenised URL is
covered without a list to keep: a path parameter captured as ``str`` or ``path`` (or a
named group of a regex pattern, as allauth's keys are) is a secret; ``int`` and ``slug``
parameters are public identifiers and stay readable. Every query value is redacted.
"""

from __future__ import annotations

import logging
import re

from django.http import HttpRequest
from django.urls import Resolver404, resolve

REDACTED = "[redacted]"
# Converters whose values are public ids (a campaign's slug, a comment's number).
_PUBLIC_CONVERTERS = frozenset({"int", "slug"})
_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>")
# A URL or an absolute path inside free text ("Forbidden (…): /l/abc/send/").
_URL = re.compile(r"(?:https?://[^/\s\"'<>]+)?(?P<path>/[^\s\"'<>?#]*)(?:\?(?P<query>[^\s\"'<>#]*))?")
_QUERY_VALUE = re.compile(r"(?P<key>[^&=;]+)=(?P<value>[^&;]*)")
# Shorter values are not replaced outside their place in a path: "1" or "en" would
# garble the message, and a secret is never that short.
_MIN_SECRET = 8


def secret_names(route: str) -> set[str]:
    """The names of the parameters in a URL pattern's ``route`` whose values are secrets."""
    names = {m["name"] for m in _ROUTE_PARAM.finditer(route) if (m["converter"] or "str") not in _PUBLIC_CONVERTERS}
    return names | {m["name"] for m in _REGEX_GROUP.finditer(route)}


def secrets_in_path(path: str) -> list[str]:
    """The values in ``path`` that its URL pattern captures as secrets (see the module docstring)."""
    try:
        match = resolve(path)
    except Resolver404:
        return []
    except Exception:  # a filter must never break logging; nothing to redact then
        return []
    names = secret_names(match.route)
    return [str(value) for name, value in match.kwargs.items() if name in names and value]


def _redact_query(query: str) -> str:
    return _QUERY_VALUE.sub(lambda m: f"{m['key']}={REDACTED}" if m["value"] else m[0], query)


def _redact_url(match: re.Match[str]) -> str:
    text, path = match[0], match["path"]
    start = match.start("path") - match.start()
    redacted_path = path
    for secret in secrets_in_path(path):
        redacted_path = redacted_path.replace(secret, REDACTED)
    result = text[:start] + redacted_path
    if match["query"] is not None:
        result += "?" + _redact_query(match["query"])
    return result


def redact(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every tokenised path segment, query value and ``extra_secrets`` replaced."""
    for secret in extra_secrets:
        text = text.replace(secret, REDACTED)
    if "/" not in text:
        return text
    return _URL.sub(_redact_url, text)


def _request_secrets(request: object) -> tuple[str, ...]:
    """The request's own secrets, to be redacted wherever they appear (an exception's text too)."""
    if not isinstance(request, HttpRequest):
        return ()
    found = list(secrets_in_path(request.path_info))
    found += [value for values in request.GET.lists() for value in values[1]]
    return tuple(sorted((s for s in found if len(s) >= _MIN_SECRET), key=len, reverse=True))


class RedactTokens(logging.Filter):
    """Rewrite a record's message (and traceback text) with its secrets redacted; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_undersigned_redacted", False):  # a logger's filter and a handler's
            return True
        extra = _request_secrets(getattr(record, "request", None))
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it as usual
            return True
        record.msg, record.args = redact(message, extra), ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set; an exception's text may hold the path.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, extra)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, extra)
        record._undersigned_redacted = True
        return True
