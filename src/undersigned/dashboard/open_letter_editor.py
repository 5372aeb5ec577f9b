"""The workspace's open-letter editor: create, edit, preview, publish, close, archive, duplicate.

Editing a letter that people have endorsed says how many endorsed the current text
and that a changed text becomes a new version (``openletters.services.editing``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from undersigned.campaigns import queries as campaign_queries
from undersigned.core.sanitising import markdown_to_html
from undersigned.openletters import queries as letter_queries
from undersigned.openletters.models import OpenLetter, OpenLetterStatus
from undersigned.openletters.services import editing
from undersigned.openletters.text import text_hash
from undersigned.organisations.models import Organisation

from .editor_forms import DuplicateForm, OpenLetterForm, open_letter_initial
from .open_letter_languages import letter_language_tabs
from .permissions import (
    dashboard_user_required,
    managed_campaigns,
    managed_open_letter_or_404,
    managed_organisation_or_404,
)

STATUS_ACTIONS: dict[OpenLetterStatus, Any] = {
    OpenLetterStatus.PUBLISHED: gettext_lazy("Publish"),
    OpenLetterStatus.CLOSED: gettext_lazy("Close: stop taking endorsements"),
    OpenLetterStatus.ARCHIVED: gettext_lazy("Archive"),
    OpenLetterStatus.DRAFT: gettext_lazy("Back to drafts"),
}
STATUS_MEANINGS: dict[OpenLetterStatus, Any] = {
    OpenLetterStatus.DRAFT: gettext_lazy("Draft: only your team can open its page; nobody can endorse it yet."),
    OpenLetterStatus.PUBLISHED: gettext_lazy("Published: listed and open for endorsement."),
    OpenLetterStatus.CLOSED: gettext_lazy("Closed: its page stays up, but it takes no more endorsements."),
    OpenLetterStatus.ARCHIVED: gettext_lazy(
        "Archived: gone from the lists and its page (only your team can still open it). "
        "Its versions and endorsements are kept."
    ),
}


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=OpenLetterStatus.choices)


def _forms_args(user: Any, organisation_id: int, chosen: list[int]) -> dict[str, Any]:
    campaigns = list(managed_campaigns(user).filter(organisation_id=organisation_id))
    return {
        "recipients": campaign_queries.organisation_recipients(organisation_id),
        "groups": campaign_queries.organisation_groups(organisation_id),
        "campaigns": campaigns,
        "chosen": chosen,
    }


def _page(
    request: HttpRequest,
    form: OpenLetterForm,
    *,
    organisation: Organisation,
    letter: OpenLetter | None = None,
    preview: bool = False,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "organisation": organisation,
        "letter": letter,
        "preview": None,
        "version": None,
        "publish_problems": [],
    }
    if preview:
        context["preview"] = {
            "text_html": markdown_to_html(str(form.data.get("text", "")).replace("\r\n", "\n")),
        }
    if letter is not None:
        context["tabs"] = letter_language_tabs(letter, letter.language)
        context["open_letter_tabs"] = True
        context["duplicate_form"] = DuplicateForm(initial={"submission_key": uuid.uuid4()})
        context["status_meaning"] = STATUS_MEANINGS.get(OpenLetterStatus(letter.status), "")
        context["status_actions"] = [
            (str(target), label)
            for target, label in STATUS_ACTIONS.items()
            if letter.status in editing.STATUS_MOVES[target]
        ]
        version = letter.current_version
        if version is not None:
            context["version"] = version
            context["endorsed_current"] = letter_queries.endorsed_version_count(letter)
            if form.is_bound:
                typed = str(form.data.get("text", "")).replace("\r\n", "\n").replace("\r", "\n")
                context["text_changed"] = text_hash(str(form.data.get("title", "")), typed) != version.text_hash
    return render(request, "dashboard/editor/open_letter.html", context, status=status)


def _editor_url(letter: OpenLetter) -> str:
    return reverse("dashboard:open_letter_edit", args=[letter.slug])


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_new(request: HttpRequest, organisation: str) -> HttpResponse:
    found = managed_organisation_or_404(request.user, organisation)
    args = _forms_args(request.user, found.pk, [])
    if request.method != "POST":
        return _page(request, OpenLetterForm(initial={"language": "en"}, **args), organisation=found)
    form = OpenLetterForm(request.POST, **args)
    preview = request.POST.get("action") == "preview"
    if not form.is_valid():
        return _page(request, form, organisation=found, preview=preview, status=400)
    if preview:
        return _page(request, form, organisation=found, preview=True)
    try:
        letter, created = editing.create_open_letter(organisation=found, data=form.to_input(), actor=request.user)
    except editing.SlugTaken:
        form.add_error("slug", _("This address is taken by another open letter: choose another."))
        return _page(request, form, organisation=found, status=400)
    if created:
        messages.success(request, _("The open letter is saved as a draft. Preview it, then publish it."))
    else:
        messages.info(request, _("This open letter had already been created; here it is."))
    return HttpResponseRedirect(_editor_url(letter))


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_edit(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    organisation = letter.organisation
    slug_fixed = letter.status != OpenLetterStatus.DRAFT
    if request.method != "POST":
        chosen = list(letter.recipients.order_by("name", "id").values_list("pk", flat=True))
        args = _forms_args(request.user, organisation.pk, chosen)
        form = OpenLetterForm(initial=open_letter_initial(letter), slug_fixed=slug_fixed, **args)
        return _page(request, form, organisation=organisation, letter=letter)
    args = _forms_args(request.user, organisation.pk, [])
    form = OpenLetterForm(
        request.POST,
        initial={"slug": letter.slug},
        slug_fixed=slug_fixed,
        other_languages=[t.language for t in letter_queries.translations_of(letter)],
        **args,
    )
    preview = request.POST.get("action") == "preview"
    if not form.is_valid():
        return _page(request, form, organisation=organisation, letter=letter, preview=preview, status=400)
    if preview:
        return _page(request, form, organisation=organisation, letter=letter, preview=True)
    try:
        number = editing.update_open_letter(letter=letter, data=form.to_input(), actor=request.user)
    except editing.SlugTaken:
        form.add_error("slug", _("This address is taken by another open letter: choose another."))
        return _page(request, form, organisation=organisation, letter=letter, status=400)
    if number is not None:
        messages.success(request, _("Saved as version %(number)d of the letter.") % {"number": number})
    else:
        messages.success(request, _("Saved."))
    return HttpResponseRedirect(_editor_url(letter))


@require_POST
@dashboard_user_required
def open_letter_status(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the open letter."))
        return HttpResponseRedirect(_editor_url(letter))
    target = OpenLetterStatus(form.cleaned_data["status"])
    try:
        changed = editing.set_open_letter_status(letter=letter, status=target, actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_editor_url(letter))
    if changed:
        messages.success(request, str(STATUS_MEANINGS[target]))
    return HttpResponseRedirect(_editor_url(letter))


@require_POST
@dashboard_user_required
def open_letter_duplicate(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    copy, made = editing.duplicate_open_letter(letter=letter, actor=request.user, key=DuplicateForm(request.POST).key())
    if made:
        messages.success(request, _("This is a copy, saved as a draft with its own address. Change what you like."))
    else:
        messages.info(request, _("This copy had already been made; here it is."))
    return HttpResponseRedirect(_editor_url(copy))
