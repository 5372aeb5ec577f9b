"""Public pages of an open letter: the letter, endorsing, confirming, withdrawing, versions.

Views translate HTTP into calls to ``services`` and ``queries``. Nothing changes on a
GET: the links in emails lead to pages with a button, because mail scanners open links.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from undersigned.campaigns.coverage import clean_sort
from undersigned.campaigns.coverage import countdown as vote_countdown
from undersigned.campaigns.languages import find_text, language_name
from undersigned.core import abuse, countries
from undersigned.core.db_faults import form_again_when_unavailable
from undersigned.core.emails import mailbox_identity
from undersigned.core.http import personal_page
from undersigned.core.kept_pages import MARK, kept_page, nonce
from undersigned.core.sanitising import markdown_to_html
from undersigned.core.security import client_ip, hash_ip
from undersigned.core.shared_pages import shared_page
from undersigned.discussion.services import discussion_for
from undersigned.openletters import links, queries
from undersigned.openletters.models import Endorsement, EndorsementStatus, EndorserKind, OpenLetter
from undersigned.openletters.services import endorsing
from undersigned.openletters.text import changes
from undersigned.organisations.access import organiser_kind

from . import open_letter_cache as letter_cache
from .open_letter_forms import ConfirmCodeForm, EndorseForm, EndorserSearchForm
from .views import draft_page, member_may_preview


@lru_cache(maxsize=256)
def version_html(version_id: int, text: str) -> str:
    """A version's text as HTML; versions never change, so once per process is enough."""
    return markdown_to_html(text)


def _kept_letter_or_404(slug: str) -> tuple[OpenLetter, tuple[Any, ...]]:
    """The kept letter (read-only, ``letter_cache``) and its stamp."""
    found = letter_cache.letter_and_stamp(slug)
    if found is None:
        raise Http404("No such open letter")
    return found


def _letter_or_404(slug: str) -> OpenLetter:
    return _kept_letter_or_404(slug)[0]


def _visitor(request: HttpRequest) -> str:
    """The kind of visitor, part of a kept page's key (what base.html's header shows)."""
    return organiser_kind(getattr(request, "user", None))


def _page_key(request: HttpRequest, what: str, letter: OpenLetter, stamp: tuple[Any, ...]) -> tuple[Any, ...]:
    return (what, letter.slug, stamp, letter.is_open, translation.get_language(), _visitor(request))


def _text_for(request: HttpRequest, letter: OpenLetter) -> tuple[queries.LetterText, list[dict[str, Any]]]:
    """The text the visitor reads and links to the letter's other texts.

    The one asked for (``?text=fr``), else the one in the visitor's language, else the
    main language's. From the kept letter: no query."""
    texts = queries.published_texts(letter)
    asked = str(request.GET.get("text", ""))[:16]
    chosen = (
        next((t for t in texts if asked and t.language == asked), None)
        or find_text(texts, translation.get_language() or "")
        or texts[0]
    )
    others = [
        {"language": t.language, "name": language_name(t.language, local=True), "query": f"?text={t.language}"}
        for t in texts
        if t is not chosen
    ]
    return chosen, others


def _before(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


INDEX_PAGE_SIZE = 20


@require_GET
@shared_page
def index(request: HttpRequest) -> HttpResponse:
    """Every published open letter, newest first, 20 a page (``?page=N``; a bad N shows the nearest page)."""
    page = Paginator(queries.public_letters(), INDEX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "openletters/index.html", {"page": page})


def _draft_letter_page(request: HttpRequest, slug: str) -> HttpResponse:
    letter = queries.draft_for_members(slug)
    if letter is None or not member_may_preview(request, letter.organisation_id):
        raise Http404("No such open letter")
    context = {
        "letter": letter,
        "owner": letter,
        "text_html": markdown_to_html(letter.text),
        "addressees": queries.addressees(letter),
        "editor_url": reverse("dashboard:open_letter_edit", args=[letter.slug]),
    }
    return draft_page(request, "openletters/draft.html", context)


@require_GET
@shared_page
def letter_page(request: HttpRequest, slug: str) -> HttpResponse:
    found = letter_cache.letter_and_stamp(slug)
    if found is None:
        # A draft is shown to its organisation's members only, at its real address.
        return _draft_letter_page(request, slug)
    letter, stamp = found
    if letter.current_version is None:  # letter_for_page only returns letters with a version
        raise Http404("No such open letter")
    shown, other_texts = _text_for(request, letter)
    version = shown.version
    search = EndorserSearchForm(request.GET)
    q = country = ""
    if search.is_valid():
        q = search.cleaned_data["q"].strip()
        country = search.cleaned_data["country"].upper()
    before = _before(request.GET.get("before"))
    filtered = bool(q or country or before)
    group, sort = letter.recipient_group, clean_sort(request.GET.get("sort"))
    # The part below the counter is the same for every visitor until an endorsement or
    # the letter changes (both move ``letter.updated_at``), so the unfiltered page's is
    # cached; the reads are lazy and run only when it is rendered.
    context = {
        "letter": letter,
        "version": version,
        "shown": shown,
        "other_texts": other_texts,
        "versions_url": reverse("openletters:versions", args=[letter.slug])
        + ("" if shown.main else f"?text={shown.language}"),
        "text_html": version_html(version.pk, version.text),
        "addressees": SimpleLazyObject(lambda: queries.addressees(letter)),
        "featured": SimpleLazyObject(lambda: queries.featured(letter)),
        "page": SimpleLazyObject(lambda: queries.public_endorsers(letter, search=q, country=country, before=before)),
        "q": q,
        "country": country,
        "filtered": filtered,
        "countries": SimpleLazyObject(
            lambda: [(code, countries.name(code)) for code in queries.countries_with_endorsers(letter)]
        ),
        "unnamed": lambda: queries.unnamed_count(letter),
        "confirmed": request.GET.get("confirmed") == "1",
        "cache_key": "" if filtered else f"{letter.pk}:{letter.updated_at.timestamp()}",
        # Read with the letter (select_related); created, open, on the letter's first view.
        "discussion": discussion_for(letter),
        # The group's coverage board: kept counters, read only when the page is rendered.
        # The stamp moves with every verified endorsement and every change to the group.
        "board": SimpleLazyObject(lambda: queries.letter_board(letter, sort=sort)) if group else None,
        "vote_countdown": vote_countdown(group.decision_date, timezone.localdate()) if group else "",
    }
    if filtered:
        return render(request, "openletters/letter.html", context)
    # The unfiltered page is the same for everyone until the stamp moves: kept whole in
    # the worker, only the CSP nonce filled in per request (``core/kept_pages.py``).
    key = (
        *_page_key(request, "letter", letter, stamp),
        shown.language,
        context["confirmed"],
        sort,
        context["vote_countdown"],
    )
    page = partial(render, request, "openletters/letter.html", {**context, "csp_nonce": MARK["nonce"]})
    return kept_page(key, page, {"nonce": nonce(request)})


@require_GET
@shared_page
def versions_page(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter_or_404(slug)
    text, _others = _text_for(request, letter)
    shown = []
    previous = None
    for version in (v for v in queries.versions(letter) if v.language == text.language):
        shown.append(
            {
                "version": version,
                "html": version_html(version.pk, version.text),
                "changes": changes(previous.text, version.text) if previous else [],
                "title_changed": previous is not None and previous.title != version.title,
            }
        )
        previous = version
    shown.reverse()
    return render(request, "openletters/versions.html", {"letter": letter, "versions": shown})


def _endorse_form(letter: OpenLetter, data: Any = None) -> EndorseForm:
    return EndorseForm(data, updates_wording=endorsing.updates_wording(letter), pow_required=letter.pow_required)


def _posted_text(request: HttpRequest, letter: OpenLetter) -> queries.LetterText:
    """The text the endorsement form was shown with (its ``text`` field), else the main one."""
    texts = queries.published_texts(letter)
    asked = str(request.POST.get("text", ""))[:16]
    return next((t for t in texts if asked and t.language == asked), texts[0])


def _posted_version(request: HttpRequest) -> int | None:
    raw = str(request.POST.get("text_version", ""))
    return int(raw) if raw.isdigit() and len(raw) < 9 else None


def _endorse_context(letter: OpenLetter, form: EndorseForm, text: queries.LetterText) -> dict[str, Any]:
    name = language_name(text.language, in_sentence=True)
    return {"letter": letter, "form": form, "text": text, "text_language_name": name}


def _limited(request: HttpRequest, scope: str, email: str = "") -> int:
    """Seconds to wait if this address (or this email) has sent too often, else 0."""
    rate = settings.RATE_LIMITS["endorse"]
    if not email:
        return abuse.rate_limit(request, scope, rate)
    # Per normalised email too, counted only when the address is allowed: nobody can
    # flood someone's inbox with confirmations. One statement for both.
    return abuse.rate_limits(request, (scope, rate, None), (f"{scope}-email", rate, mailbox_identity(email)))


def _endorse_again(request: HttpRequest, slug: str, *, message: str) -> HttpResponse:
    """The endorsement form with what was typed and ``message``, when it could not be saved."""
    letter = _letter_or_404(slug)
    form = _endorse_form(letter, request.POST)
    form.add_error(None, message)
    return render(
        request, "openletters/endorse.html", _endorse_context(letter, form, _posted_text(request, letter)), status=503
    )


@form_again_when_unavailable(_endorse_again)
@require_http_methods(["GET", "POST"])
def endorse(request: HttpRequest, slug: str) -> HttpResponse:
    letter, stamp = _kept_letter_or_404(slug)
    if not letter.is_open:
        return render(request, "openletters/closed.html", {"letter": letter})
    if request.method != "POST":
        return _fresh_endorse_form(request, letter, stamp)
    form = _endorse_form(letter, request.POST)
    text = _posted_text(request, letter)
    wait = _limited(request, "endorse", str(request.POST.get("email", ""))[:254])
    if wait:  # the form again, with what was typed, so nothing is lost

        def page(status: int) -> HttpResponse:
            return render(request, "openletters/endorse.html", _endorse_context(letter, form, text), status=status)

        return abuse.form_again_later(form, wait, page)
    if not form.is_valid():
        # A filled honeypot (form.caught_bot) lands here too: nothing is stored.
        return render(request, "openletters/endorse.html", _endorse_context(letter, form, text), status=400)
    data = form.cleaned_data
    try:
        endorsing.endorse(
            letter=letter,
            data=endorsing.EndorsementInput(
                kind=data["kind"],
                name=data["name"],
                role=data["role"],
                organisation=data["organisation"],
                country=data["country"],
                statement=data["statement"],
                website=data["website"],
                signatory=data["signatory"],
                email=data["email"],
                show_publicly=data["show_publicly"],
                wants_updates=data["wants_updates"],
                text_language=text.language,
                text_version=_posted_version(request),
            ),
            ip_hash=hash_ip(client_ip(request)),
        )
    except endorsing.TextChanged:
        # The text changed while they read it: the form again, with what they typed and
        # the current text's version, so they endorse only a text they were shown.
        form.add_error(
            None,
            _(
                "The text of this letter changed after you opened this page. Read the current text "
                "(version %(number)s) before you endorse it."
            )
            % {"number": text.version.number},
        )
        return render(request, "openletters/endorse.html", _endorse_context(letter, form, text), status=409)
    except endorsing.LetterClosed:
        return render(request, "openletters/closed.html", {"letter": letter})
    return HttpResponseRedirect(reverse("openletters:sent", args=[letter.slug]))


def _fresh_endorse_form(request: HttpRequest, letter: OpenLetter, stamp: tuple[Any, ...]) -> HttpResponse:
    """The empty form, kept whole in the worker; the CSRF token, the signed start time and
    the CSP nonce are filled in per request (``core/kept_pages.py``)."""

    text, _others = _text_for(request, letter)

    def page() -> HttpResponse:
        form = EndorseForm(
            initial={abuse.STARTED_FIELD: MARK["started"]},
            updates_wording=endorsing.updates_wording(letter),
            pow_required=letter.pow_required,
        )
        context = {**_endorse_context(letter, form, text), "csrf_token": MARK["csrf"], "csp_nonce": MARK["nonce"]}
        return render(request, "openletters/endorse.html", context)

    values = {"csrf": get_token(request), "started": abuse.started_token(), "nonce": nonce(request)}
    return kept_page((*_page_key(request, "endorse", letter, stamp), text.language), page, values)


@require_GET
def sent(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter_or_404(slug)
    return render(request, "openletters/sent.html", {"letter": letter, "form": ConfirmCodeForm()})


def _problem(
    request: HttpRequest, letter: OpenLetter, *, expired: bool = False, superseded: bool = False, status: int
) -> HttpResponse:
    """The page of a link that confirms nothing: expired (410), replaced by a newer
    submission's (409: the newest email has the right link) or broken (404)."""
    context = {"letter": letter, "expired": expired, "superseded": superseded}
    return render(request, "openletters/link_problem.html", context, status=status)


def _confirmed(letter: OpenLetter) -> HttpResponse:
    return HttpResponseRedirect(reverse("openletters:letter", args=[letter.slug]) + "?confirmed=1")


# What an endorsement holds, as the confirmation page names it (``endorsing.PROPOSED``).
_LABELS = {
    "kind": gettext_lazy("Endorsing as"),
    "name": gettext_lazy("Name"),
    "role": gettext_lazy("Role or title"),
    "organisation": gettext_lazy("Organisation"),
    "signatory": gettext_lazy("Signed for the organisation by"),
    "website": gettext_lazy("Website"),
    "country": gettext_lazy("Country"),
    "statement": gettext_lazy("Statement"),
    "show_publicly": gettext_lazy("Name shown publicly"),
    "wants_updates": gettext_lazy("Updates by email"),
    "version": gettext_lazy("Version of the letter endorsed"),
}


def _shown(field: str, value: Any, versions: dict[int, Any]) -> str:
    """One part of an endorsement as a person reads it."""
    if field == "kind":
        return _("An organisation") if value == EndorserKind.ORGANISATION else _("A person")
    if field == "show_publicly":
        return _("Yes") if value else _("No — counted, not named")
    if field == "wants_updates":
        return _("Yes") if value else _("No")
    if field == "country":
        return countries.name(value) or _("(none)")
    if field == "version":
        version = versions.get(value)
        if version is None:
            return _("(none)")
        return _("Version %(number)s of the text in %(language)s") % {
            "number": version.number,
            "language": language_name(version.language, in_sentence=True),
        }
    return str(value or "") or _("(none)")


def _summary(endorsement: Endorsement) -> list[tuple[str, str]]:
    """What confirming makes a first (or withdrawn) endorsement show: ``(label, value)``."""
    after = endorsing.proposed(endorsement)
    if after["kind"] != EndorserKind.ORGANISATION:
        after["signatory"] = after["website"] = ""
    rows = []
    for field in ("name", "role", "organisation", "signatory", "website", "country", "statement"):
        if after[field]:
            rows.append((str(_LABELS[field]), _shown(field, after[field], {})))
    for field in ("show_publicly", "wants_updates"):
        rows.append((str(_LABELS[field]), _shown(field, after[field], {})))
    return rows


def _changes(letter: OpenLetter, endorsement: Endorsement) -> list[tuple[str, str, str]]:
    """What confirming changes on a confirmed endorsement: ``(label, now, after)``."""
    waiting = endorsing.waiting_changes(endorsement)
    versions: dict[int, Any] = {}
    if any(field == "version" for field, _now, _after in waiting):
        versions = {v.pk: v for v in queries.versions(letter)}
    return [
        (str(_LABELS[field]), _shown(field, now, versions), _shown(field, after, versions))
        for field, now, after in waiting
    ]


@personal_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET shows what confirming does (for a change, what it changes); only the button's
    POST confirms, so a mail scanner opening the link does nothing. A genuine link whose
    submission a newer one replaced confirms nothing (409)."""
    letter = _letter_or_404(slug)
    try:
        endorsement_id, nonce = links.read_confirm_token(token)
    except links.LinkExpired:
        return _problem(request, letter, expired=True, status=410)
    except links.LinkInvalid:
        return _problem(request, letter, status=404)
    endorsement = Endorsement.objects.filter(pk=endorsement_id, letter=letter).first()
    if endorsement is None:
        return _problem(request, letter, status=404)
    if request.method == "POST":
        return _confirm_post(request, letter, endorsement, nonce)
    already = endorsement.status == EndorsementStatus.CONFIRMED and not endorsement.confirm_nonce
    if not already and endorsement.confirm_nonce != nonce:
        # Signed by us for this endorsement, so an older email's: a newer submission waits.
        return _problem(request, letter, superseded=bool(endorsement.confirm_nonce), status=409)
    if not already and (endorsement.confirm_expires_at is None or endorsement.confirm_expires_at <= timezone.now()):
        return _problem(request, letter, expired=True, status=410)
    change = not already and endorsement.status == EndorsementStatus.CONFIRMED
    return render(
        request,
        "openletters/confirm.html",
        {
            "letter": letter,
            "endorsement": endorsement,
            "already": already,
            "change": change,
            "changes": _changes(letter, endorsement) if change else [],
            "summary": [] if already or change else _summary(endorsement),
        },
    )


def _confirm_post(request: HttpRequest, letter: OpenLetter, endorsement: Endorsement, nonce: str) -> HttpResponse:
    try:
        endorsing.confirm(endorsement_id=endorsement.pk, nonce=nonce, ip_hash=hash_ip(client_ip(request)))
    except endorsing.ConfirmationExpired:
        return _problem(request, letter, expired=True, status=410)
    except endorsing.ConfirmationSuperseded:
        return _problem(request, letter, superseded=True, status=409)
    except endorsing.ConfirmationInvalid:
        return _problem(request, letter, status=404)
    return _confirmed(letter)


@require_http_methods(["GET", "POST"])
def confirm_code(request: HttpRequest, slug: str) -> HttpResponse:
    """The code from the email, typed with the address. A first endorsement is confirmed at
    once; a change to a confirmed one goes to its confirmation page first, which shows
    what will change and confirms with its button."""
    letter = _letter_or_404(slug)
    form = ConfirmCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and (
        wait := _limited(request, "confirm-code", str(request.POST.get("email", ""))[:254])
    ):
        # Codes are short: a limit per address and per email keeps guessing hopeless.
        return abuse.too_many_requests(request, wait)
    if request.method == "POST" and form.is_valid():
        email, code = form.cleaned_data["email"], form.cleaned_data["code"]
        try:
            endorsement = endorsing.endorsement_for_code(letter=letter, email=email, code=code)
            if endorsement.status == EndorsementStatus.CONFIRMED and endorsement.confirm_nonce:
                token = links.confirm_token(endorsement.pk, endorsement.confirm_nonce)
                return HttpResponseRedirect(reverse("openletters:confirm", args=[letter.slug, token]), status=303)
            endorsing.confirm_by_code(letter=letter, email=email, code=code, ip_hash=hash_ip(client_ip(request)))
        except endorsing.ConfirmationExpired:
            form.add_error("code", _("This code has expired. Endorse the letter again to get a new one."))
        except endorsing.ConfirmationInvalid:
            form.add_error(
                "code",
                _(
                    "This code does not match that email address. Check both and try again. If you endorsed "
                    "more than once, use the code in the newest email."
                ),
            )
        else:
            return _confirmed(letter)
    status = 400 if form.is_bound else 200
    return render(request, "openletters/confirm_code.html", {"letter": letter, "form": form}, status=status)


@personal_page
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    letter = _letter_or_404(slug)
    try:
        endorsement_id, secret = links.read_withdraw_token(token)
    except links.LinkInvalid:
        return _problem(request, letter, expired=False, status=404)
    endorsement = Endorsement.objects.filter(pk=endorsement_id, letter=letter).first()
    if request.method == "POST":
        endorsing.withdraw(endorsement_id=endorsement_id, secret=secret)
        return render(request, "openletters/withdrawn.html", {"letter": letter})
    if endorsement is None:
        # Withdrawn before it was ever confirmed (deleted), or never existed.
        return render(request, "openletters/withdrawn.html", {"letter": letter})
    if endorsement.status == EndorsementStatus.WITHDRAWN:
        return render(request, "openletters/withdrawn.html", {"letter": letter})
    return render(request, "openletters/withdraw.html", {"letter": letter, "endorsement": endorsement})
