"""The workspace's campaign editor: create, edit, preview, publish, close, archive, duplicate.

For members who may run campaigns (``Action.RUN_CAMPAIGNS``) of the campaign's
organisation; another organisation's campaign is a 404 (``permissions``). Writes go
through ``campaigns.services``; a "Preview" submit shows the page and the letter as
supporters will see them without saving anything.
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
from undersigned.campaigns import services as campaign_services
from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.placeholders import render as render_placeholders
from undersigned.campaigns.placeholders import values_for
from undersigned.core.sanitising import markdown_to_html
from undersigned.organisations.models import Organisation

from .campaign_languages import language_tabs
from .editor_forms import PLACEHOLDERS, CampaignForm, DuplicateForm, campaign_initial
from .permissions import dashboard_user_required, managed_campaign_or_404, managed_organisation_or_404

# What each status button does, in the editor's words.
STATUS_ACTIONS: dict[CampaignStatus, Any] = {
    CampaignStatus.LIVE: gettext_lazy("Publish"),
    CampaignStatus.CLOSED: gettext_lazy("Close: stop taking letters"),
    CampaignStatus.ARCHIVED: gettext_lazy("Archive"),
    CampaignStatus.DRAFT: gettext_lazy("Back to drafts"),
}
STATUS_MEANINGS: dict[CampaignStatus, Any] = {
    CampaignStatus.DRAFT: gettext_lazy("Draft: only your team can open its page; supporters cannot write yet."),
    CampaignStatus.LIVE: gettext_lazy("Live: listed on the home page and taking letters."),
    CampaignStatus.CLOSED: gettext_lazy("Closed: its page stays up, but it takes no more letters."),
    CampaignStatus.ARCHIVED: gettext_lazy(
        "Archived: gone from the lists and its page (only your team can still open it). "
        "Letters already written keep their own links."
    ),
}


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CampaignStatus.choices)


def _forms_args(organisation_id: int, chosen: list[int]) -> dict[str, Any]:
    return {
        "recipients": campaign_queries.organisation_recipients(organisation_id),
        "groups": campaign_queries.organisation_groups(organisation_id),
        "chosen": chosen,
    }


def _preview(form: CampaignForm, organisation: Organisation) -> dict[str, Any]:
    """The page's background and the letter as a supporter first sees it, from what was typed."""
    data = form.data
    body = str(data.get("body", "")).replace("\r\n", "\n")
    chosen = form.recipient_choice.chosen
    first = next((r for r in form.recipient_list if chosen and r.pk == chosen[0]), None)
    values = values_for(
        supporter_name=_("Ana Ruiz"),
        supporter_town=_("Wendmouth"),
        supporter_country="",
        recipient_name=first.name if first else "",
        recipient_role=first.role if first else "",
        recipient_organisation=first.organisation_name if first else "",
        campaign_title=str(data.get("title", "")),
    )
    return {
        "background_html": markdown_to_html(str(data.get("background", "")).replace("\r\n", "\n")),
        "subject": render_placeholders(str(data.get("subject", "")), values),
        "body": render_placeholders(body, values),
        "organisation": organisation,
    }


def _page(
    request: HttpRequest,
    form: CampaignForm,
    *,
    organisation: Organisation,
    campaign: Campaign | None = None,
    preview: bool = False,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "organisation": organisation,
        "campaign": campaign,
        "placeholders": PLACEHOLDERS,
        "preview": _preview(form, organisation) if preview else None,
    }
    if campaign is not None:
        context["duplicate_form"] = DuplicateForm(initial={"submission_key": uuid.uuid4()})
        context["status_meaning"] = STATUS_MEANINGS.get(CampaignStatus(campaign.status), "")
        moves = campaign_services.STATUS_MOVES
        context["status_actions"] = [
            (str(target), label) for target, label in STATUS_ACTIONS.items() if campaign.status in moves[target]
        ]
        context["tabs"] = language_tabs(campaign, campaign.language)
        context["publish_problems"] = (
            campaign_services.publish_problems(campaign) if campaign.status == CampaignStatus.DRAFT else []
        )
    return render(request, "dashboard/editor/campaign.html", context, status=status)


def _editor_url(campaign: Campaign) -> str:
    return reverse("dashboard:campaign_edit", args=[campaign.slug])


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_new(request: HttpRequest, organisation: str) -> HttpResponse:
    found = managed_organisation_or_404(request.user, organisation)
    args = _forms_args(found.pk, [])
    if request.method != "POST":
        initial = {"language": "en", "min_uniqueness": 0, "channels": campaign_initial_channels()}
        return _page(request, CampaignForm(initial=initial, **args), organisation=found)
    form = CampaignForm(request.POST, **args)
    if not form.is_valid():
        return _page(request, form, organisation=found, preview=request.POST.get("action") == "preview", status=400)
    if request.POST.get("action") == "preview":
        return _page(request, form, organisation=found, preview=True)
    try:
        campaign, created = campaign_services.create_campaign(
            organisation=found, data=form.to_input(), actor=request.user
        )
    except campaign_services.SlugTaken:
        form.add_error("slug", _("This address is taken by another campaign: choose another."))
        return _page(request, form, organisation=found, status=400)
    if created:
        messages.success(request, _("The campaign is saved as a draft. Preview it, then publish it."))
    else:
        messages.info(request, _("This campaign had already been created; here it is."))
    return HttpResponseRedirect(_editor_url(campaign))


def campaign_initial_channels() -> list[str]:
    return [value for value, _label in CampaignForm.base_fields["channels"].choices]  # type: ignore[attr-defined]


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_edit(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    organisation = campaign.organisation
    slug_fixed = campaign.status != CampaignStatus.DRAFT
    if request.method != "POST":
        template = campaign_queries.template_of(campaign)
        args = _forms_args(organisation.pk, campaign_queries.campaign_recipient_ids(campaign))
        form = CampaignForm(initial=campaign_initial(campaign, template), slug_fixed=slug_fixed, **args)
        return _page(request, form, organisation=organisation, campaign=campaign)
    args = _forms_args(organisation.pk, [])
    form = CampaignForm(
        request.POST,
        initial={"slug": campaign.slug},
        slug_fixed=slug_fixed,
        other_languages=[t.language for t in campaign_queries.translations_of(campaign)],
        **args,
    )
    preview = request.POST.get("action") == "preview"
    if not form.is_valid():
        return _page(request, form, organisation=organisation, campaign=campaign, preview=preview, status=400)
    if preview:
        return _page(request, form, organisation=organisation, campaign=campaign, preview=True)
    try:
        campaign = campaign_services.update_campaign(campaign=campaign, data=form.to_input(), actor=request.user)
    except campaign_services.SlugTaken:
        form.add_error("slug", _("This address is taken by another campaign: choose another."))
        return _page(request, form, organisation=organisation, campaign=campaign, status=400)
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(_editor_url(campaign))


@require_POST
@dashboard_user_required
def campaign_status(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do with the campaign."))
        return HttpResponseRedirect(_editor_url(campaign))
    target = CampaignStatus(form.cleaned_data["status"])
    try:
        changed = campaign_services.set_campaign_status(campaign=campaign, status=target, actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_editor_url(campaign))
    if changed:
        messages.success(request, str(STATUS_MEANINGS[target]))
    return HttpResponseRedirect(_editor_url(campaign))


@require_POST
@dashboard_user_required
def campaign_duplicate(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    copy, made = campaign_services.duplicate_campaign(
        campaign=campaign, actor=request.user, key=DuplicateForm(request.POST).key()
    )
    if made:
        messages.success(request, _("This is a copy, saved as a draft with its own address. Change what you like."))
    else:
        messages.info(request, _("This copy had already been made; here it is."))
    return HttpResponseRedirect(_editor_url(copy))
