"""Defences against automated abuse that need no third party.

Every public form that writes something (a letter, an endorsement, a comment, a report)
uses the same layer:

- ``GuardedForm`` adds a honeypot field that people never see and naive bots fill in,
  and a signed timestamp that tells how long the form took to fill in: a form sent
  sooner than ``FORM_MIN_FILL_SECONDS`` after it was shown was not filled in by a
  person. Constructed with ``pow_required=True`` (an organiser's switch for when a
  campaign is under attack), it also asks for a self-hosted ALTCHA proof of work,
  verified here, each solution accepted once.
- ``rate_limit`` counts requests per salted hash of the IP address (or per any other
  key, such as a normalised email address) in fixed windows kept in the cache, and
  tells how long to wait once the limit is reached. Views answer 429 with a message a
  person understands; forms re-render with what was typed so nothing is lost.

Nothing personal reaches the cache: keys are keyed hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import altcha
from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .rates import parse_rate
from .security import client_ip, hash_ip

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

HONEYPOT_FIELD = "homepage"
STARTED_FIELD = "form_started"
POW_FIELD = "altcha"

_STARTED_SALT = "undersigned.core.abuse.form-started"
_STARTED_MAX_AGE = 24 * 3600  # a form left open overnight still works; older ones are refreshed
_POW_ALGORITHM = "PBKDF2/SHA-256"
_POW_TTL = 20 * 60


# --- Rate limits ----------------------------------------------------------------------


def _keyed(value: str) -> str:
    return hmac.new(settings.IP_HASH_SALT.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def rate_limit(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> int:
    """Count one request in ``scope``; return 0 if allowed, else the seconds to wait.

    By default the count is per salted hash of the client's IP address; pass ``key``
    (a normalised email address, an account id) to count per that instead.
    """
    return rate_limits(request, (scope, rate, key))


def rate_limits(request: HttpRequest, *checks: tuple[str, str, str | None]) -> int:
    """``rate_limit`` for several limits at once, each ``(scope, rate, key)``, in order.

    A later limit counts the request only if every earlier one allowed it, so a burst
    turned away per address uses up nothing of, say, the per-email limit of the address
    it typed. With the database cache the whole chain is one statement on PostgreSQL.
    Returns 0 if every limit allows the request, else the seconds to wait.
    """
    now = time.time()
    counters: list[tuple[str, int, int]] = []
    windows: list[tuple[int, int]] = []
    ip_hash = ""
    for scope, rate, key in checks:
        limit, period = parse_rate(rate)
        if key is None:
            ip_hash = ip_hash or hash_ip(client_ip(request))
        window = int(now // period)
        counters.append((f"rl:{scope}:{_keyed(key) if key is not None else ip_hash}:{window}", period + 5, limit))
        windows.append((window, period))
    count_chain = getattr(cache, "count_chain", None)  # the database cache's one-statement counters
    counts = count_chain(counters) if count_chain is not None else _count_chain(counters)
    for count, (_, _, limit), (window, period) in zip(counts, counters, windows, strict=True):
        if count is None or count <= limit:
            continue
        return max(1, math.ceil((window + 1) * period - now))
    return 0


def _count_chain(counters: list[tuple[str, int, int]]) -> list[int | None]:
    """What ``DatabaseCache.count_chain`` does, with any other cache (``add``, ``incr``)."""
    counts: list[int | None] = []
    for cache_key, timeout, limit in counters:
        if cache.add(cache_key, 1, timeout=timeout):
            count = 1
        else:
            try:
                count = cache.incr(cache_key)
            except ValueError:  # expired between add() and incr()
                cache.set(cache_key, 1, timeout=timeout)
                count = 1
        counts.append(count)
        if count > limit:
            break
    return counts + [None] * (len(counters) - len(counts))


def wait_phrase(seconds: int) -> str:
    if seconds < 90:
        return "a minute" if seconds > 45 else "a few seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"


def rate_limit_message(seconds: int) -> str:
    return (
        "You have sent this many times in a short while. To keep automated spam out, "
        f"please wait {wait_phrase(seconds)} and send it again. Nothing you typed is lost."
    )


def form_again_later(form: forms.Form, seconds: int, page: Callable[[int], HttpResponse]) -> HttpResponse:
    """A rate-limited form shown again: what was typed, its field errors and the wait, as a 429.

    ``page(status)`` renders the form's page; nothing was saved.
    """
    form.is_valid()  # errors next to the fields still show
    form.add_error(None, rate_limit_message(seconds))
    response = page(429)
    response["Retry-After"] = str(seconds)
    return response


def too_many_requests(request: HttpRequest, seconds: int, *, message: str | None = None) -> HttpResponse:
    """A 429 page a person understands, with ``Retry-After``.

    Views that show a form should rather show it again (``form_again_later``), so what
    was typed stays on the page.
    """
    response = render(
        request,
        "core/too_many.html",
        {"message": message or rate_limit_message(seconds), "wait": wait_phrase(seconds)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


# --- Proof of work (ALTCHA, self-hosted) ---------------------------------------------------


def _pow_secret() -> str:
    return _keyed("altcha-hmac")


@never_cache
@require_GET
def pow_challenge(request: HttpRequest) -> HttpResponse:
    """A fresh, signed challenge for the ALTCHA widget; stateless until it is solved."""
    challenge = altcha.create_challenge(
        algorithm=_POW_ALGORITHM,
        cost=settings.POW_COST,
        expires_at=int(time.time()) + _POW_TTL,
        hmac_secret=_pow_secret(),
    )
    return JsonResponse(challenge.to_dict())


def verify_pow(payload: str) -> str | None:
    """None if ``payload`` is a valid, unexpired, unused solution; else what went wrong."""
    if not payload or len(payload) > 4096:
        return "The anti-spam check did not finish. Wait until it says it is done, then send again."
    try:
        result = altcha.verify_solution(payload, _pow_secret())
    except Exception:  # a malformed payload is the sender's problem, not a server error
        result = None
    if result is None or not result.verified:
        if result is not None and result.expired:
            return "The anti-spam check expired. Please run it again, then send."
        return "The anti-spam check failed. Please run it again, then send."
    digest = hashlib.sha256(payload.encode()).hexdigest()
    if not cache.add(f"pow-used:{digest}", 1, timeout=_POW_TTL + 60):
        return "This anti-spam check was already used. Please run it again, then send."
    return None


# --- Forms ------------------------------------------------------------------------------


def started_token(seconds_ago: float = 0) -> str:
    """The signed value of the form-started field (tests pass ``seconds_ago``)."""
    return signing.dumps(round(time.time() - seconds_ago, 3), salt=_STARTED_SALT, compress=False)


def _started_at(token: str) -> float | None:
    try:
        value = signing.loads(token, salt=_STARTED_SALT, max_age=_STARTED_MAX_AGE)
    except signing.BadSignature:
        return None
    return float(value) if isinstance(value, (int, float)) else None


class GuardedForm(forms.Form):
    """A public form with a honeypot, a minimum fill time and, if asked, a proof of work.

    Render the guard fields with ``{% include "core/_guard_fields.html" %}`` inside the
    ``<form>``; show ``form.non_field_errors`` as the other errors are shown. After
    ``is_valid()``, ``caught_bot`` is True when the honeypot was filled in: store nothing.
    """

    honeypot_label: ClassVar[StrOrPromise] = gettext_lazy("Leave this field empty")
    # False for a form on a page every visitor shares (core/shared_pages.py), which can
    # carry no per-request start time; such a form leans on the honeypot and its limits.
    checks_fill_time: ClassVar[bool] = True

    def __init__(self, *args: Any, pow_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pow_required = pow_required
        self.caught_bot = False
        self.fields[HONEYPOT_FIELD] = forms.CharField(required=False, max_length=200)
        self.fields[STARTED_FIELD] = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
        self.initial.setdefault(STARTED_FIELD, started_token())
        if pow_required:
            self.fields[POW_FIELD] = forms.CharField(required=False, max_length=4096, widget=forms.HiddenInput)

    def _refresh_started(self) -> None:
        # A re-rendered form carries a fresh, valid timestamp, so the person's next
        # attempt is judged on its own.
        if self.is_bound:
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            data[self.add_prefix(STARTED_FIELD)] = started_token()
            self.data = data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get(HONEYPOT_FIELD):
            self.caught_bot = True
            raise forms.ValidationError(
                "This form could not be sent because a hidden anti-spam field was filled in (some "
                "browsers' autofill does that). Please send it again.",
                code="honeypot",
            )
        minimum = settings.FORM_MIN_FILL_SECONDS
        token = cleaned.get(STARTED_FIELD) or ""
        started = _started_at(token) if token else None
        if self.checks_fill_time and (minimum > 0 or token):
            if started is None:
                self._refresh_started()
                raise forms.ValidationError(
                    "This form was open too long or was changed on the way. Please check your entries and send again.",
                    code="form_started",
                )
            if time.time() - started < minimum:
                raise forms.ValidationError(
                    "That was quicker than a person can fill this form. Please check your entries and send again.",
                    code="too_fast",
                )
        if self.pow_required:
            problem = verify_pow(cleaned.get(POW_FIELD) or "")
            if problem:
                raise forms.ValidationError(problem, code="pow")
        return cleaned
