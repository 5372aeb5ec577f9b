""" "My data": anyone types an email address and gets a one-use link to everything the
platform keeps about it (``privacy.personal_data``), to read, download as JSON and erase.

The form answers the same for every address (an email goes to each, known or not); the
link opens nothing by GET (a mail scanner following it would use it up): its page has
a button, whose POST uses the link and sets a signed cookie for the pages that follow.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from undersigned.core import abuse
from undersigned.core.emails import mailbox_identity
from undersigned.core.http import mark_personal, personal_page
from undersigned.privacy import emails, links, personal_data


class MyDataForm(abuse.GuardedForm):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We email a link to it. Only someone who can read that mailbox sees the data."),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address like name@example.org."),
            "max_length": _("An email address has at most 254 characters."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, erase everything listed here. I understand this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the erasure.")},
    )


def _ask_page(request: HttpRequest, form: MyDataForm, *, sent: bool = False, status: int = 200) -> HttpResponse:
    response = render(request, "public/my_data.html", {"form": form, "sent": sent}, status=status)
    if form.is_bound:
        mark_personal(response)
    return response


@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _ask_page(request, MyDataForm(), sent=request.GET.get("sent") == "1")
    form = MyDataForm(request.POST)
    wait = abuse.rate_limit(request, "my_data", settings.RATE_LIMITS["my_data"])
    if wait:
        return abuse.form_again_later(form, wait, lambda status: _ask_page(request, form, status=status))
    if not form.is_valid():
        return _ask_page(request, form, status=400)
    if not form.caught_bot:
        email = form.cleaned_data["email"]
        key = mailbox_identity(email)
        if not abuse.rate_limit(request, "my_data_email", settings.RATE_LIMITS["my_data_email"], key=key):
            emails.send_link(email)
    return HttpResponseRedirect(reverse("public:my_data") + "?sent=1")


def _signed_in(request: HttpRequest) -> str | None:
    try:
        return request.get_signed_cookie(links.COOKIE, salt=links.COOKIE_SALT, max_age=links.max_age())
    except (KeyError, signing.BadSignature):
        return None


def _link_gone(request: HttpRequest) -> HttpResponse:
    return render(request, "public/my_data_gone.html", status=410)


@personal_page
@require_http_methods(["GET", "POST"])
def my_data_open(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return render(request, "public/my_data_open.html", {"token": token})
    email = links.use_token(token)
    if email is None:
        return _link_gone(request)
    response = HttpResponseRedirect(reverse("public:my_data_yours"))
    response.set_signed_cookie(
        links.COOKIE,
        email,
        salt=links.COOKIE_SALT,
        max_age=links.max_age(),
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
        path=reverse("public:my_data"),
    )
    return response


# The labels of the fields ``personal_data`` lists; a field without one shows its key.
LABELS = {
    "email": _("Email address"),
    "name": _("Name"),
    "town": _("Town"),
    "country": _("Country"),
    "postal_address": _("Postal address"),
    "created_at": _("Saved"),
    "campaign": _("Campaign"),
    "sender_name": _("Name on the letter"),
    "sender_town": _("Town"),
    "sender_country": _("Country"),
    "sender_address": _("Address"),
    "subject": _("Subject"),
    "body": _("Text"),
    # Translators: a letter written again in other languages, for recipients who read them.
    "versions": _("Versions in other languages"),
    "language": _("Language"),
    # Translators: a column of dates (when each was sent), not a status.
    "sent_at": pgettext_lazy("date column", "Sent"),
    "deliveries": _("Deliveries"),
    "open_letter": _("Open letter"),
    "status": _("Status"),
    "kind": _("Kind"),
    "role": _("Role"),
    "organisation": _("Organisation"),
    "statement": _("Statement"),
    "website": _("Website"),
    "signatory": _("Signed for the organisation by"),
    "show_publicly": _("Named publicly"),
    "wants_updates": _("Wants updates"),
    "confirmed_at": _("Confirmed"),
    "withdrawn_at": _("Withdrawn"),
    "author_name": _("Name"),
    "notify_replies": _("Emails about replies"),
    "published_at": _("Published"),
    "via": _("Confirmed by"),
    "purpose": _("Purpose"),
    "granted": _("Agreed"),
    "wording": _("Wording shown"),
    "source": _("Where"),
    "recipient": _("Recipient"),
    "channel": _("Channel"),
    "evidence": _("Evidence"),
    "reported_at": _("Reported"),
    "verified_at": _("Verified"),
    "copy_text": _("Copy received"),
    "letter": _("Letter"),
    "text": _("Text"),
    "file": _("File"),
    "file_type": _("File type"),
    "file_bytes": _("File size (bytes)"),
    "may_quote": _("May be quoted"),
    "approved_at": _("Approved for quoting"),
    "received_at": _("Received"),
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    when = parse_datetime(value) if isinstance(value, str) and len(value) > 18 and value[4] == "-" else None
    if when is not None:
        return date_format(timezone.localtime(when), "DATETIME_FORMAT")
    return str(value)


def _fields(row: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(label, text, items) of each field with a value: a list (a letter's deliveries)
    becomes items, one line each."""
    out = []
    for key, value in row.items():
        if value in ("", None, []):
            continue
        label = str(LABELS.get(key, key))
        if isinstance(value, list):
            items = [
                " · ".join(f"{LABELS.get(k, k)}: {_text(v)}" for k, v in item.items() if v not in ("", None))
                for item in value
            ]
            out.append((label, "", items))
        else:
            out.append((label, _text(value), []))
    return out


def _sections(data: dict[str, list[dict[str, Any]]]) -> list[tuple[str, list[list[tuple[str, str, list[str]]]]]]:
    return [(str(kind.title()), [_fields(row) for row in data[kind.key]]) for kind in personal_data.KINDS]


@personal_page
@require_http_methods(["GET"])
def my_data_yours(request: HttpRequest) -> HttpResponse:
    email = _signed_in(request)
    if email is None:
        return _link_gone(request)
    data = personal_data.collect(email)
    context = {"email": email, "sections": _sections(data), "empty": not any(data.values()), "form": EraseForm()}
    return render(request, "public/my_data_yours.html", context)


@personal_page
@require_http_methods(["GET"])
def my_data_json(request: HttpRequest) -> HttpResponse:
    email = _signed_in(request)
    if email is None:
        return _link_gone(request)
    body = json.dumps({"email": email, **personal_data.collect(email)}, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@personal_page
@require_http_methods(["POST"])
def my_data_erase(request: HttpRequest) -> HttpResponse:
    email = _signed_in(request)
    if email is None:
        return _link_gone(request)
    form = EraseForm(request.POST)
    if not form.is_valid():
        data = personal_data.collect(email)
        context = {"email": email, "sections": _sections(data), "empty": not any(data.values()), "form": form}
        return render(request, "public/my_data_yours.html", context, status=400)
    personal_data.erase(email)
    response = render(request, "public/my_data_erased.html")
    response.delete_cookie(links.COOKIE, path=reverse("public:my_data"))
    return response
