"""Campaign files in the workspace: download a campaign's or open letter's file, upload one.

The same format, checks and messages as ``undersigned export`` and ``undersigned
import`` (docs/campaign-files.md): the download is what ``export`` writes, the upload
goes through the same ``parse_any`` and the same import services. An upload creates or
updates only in the organisation of the page's address: a slug another organisation
uses is refused by the services, with the command's message.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from undersigned.campaigns.campaign_files import CampaignFileError, OpenLetterFile, dump, parse_any
from undersigned.campaigns.services import export_campaign, import_campaign
from undersigned.openletters.services.files import export_open_letter, import_open_letter
from undersigned.organisations.models import Organisation

from .permissions import (
    dashboard_user_required,
    managed_campaign_or_404,
    managed_campaigns,
    managed_open_letter_or_404,
    managed_open_letters,
    managed_organisation_or_404,
)
from .recipient_forms import CampaignFileUploadForm

LISTED = 200


def _page(
    request: HttpRequest, org: Organisation, form: CampaignFileUploadForm, problems: list[str], status: int
) -> HttpResponse:
    context = {
        "organisation": org,
        "form": form,
        "problems": problems,
        "campaigns": managed_campaigns(request.user).filter(organisation=org)[:LISTED],
        "open_letters": managed_open_letters(request.user).filter(organisation=org)[:LISTED],
    }
    return render(request, "dashboard/campaign_files.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def campaign_files(request: HttpRequest, organisation: str) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    if request.method != "POST":
        return _page(request, org, CampaignFileUploadForm(), [], 200)
    form = CampaignFileUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, org, form, [], 400)
    upload = form.cleaned_data["file"]
    label = str(upload.name or "upload")[:100]
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        # The command's words (import_campaign.Command.read).
        form.add_error("file", _("%(file)s: not UTF-8 text; save the file as UTF-8 and try again.") % {"file": label})
        return _page(request, org, form, [], 400)
    try:
        data = parse_any(text)
        if isinstance(data, OpenLetterFile):
            letter, created = import_open_letter(organisation=org, data=data, actor=request.user)
            done = (
                _("Created open letter “%(title)s” (%(slug)s, %(status)s).")
                if created
                else _("Updated open letter “%(title)s” (%(slug)s, %(status)s).")
            ) % {"title": letter.title, "slug": letter.slug, "status": letter.status}
        else:
            campaign, created = import_campaign(organisation=org, data=data, actor=request.user)
            done = (
                _("Created campaign “%(title)s” (%(slug)s, %(status)s).")
                if created
                else _("Updated campaign “%(title)s” (%(slug)s, %(status)s).")
            ) % {"title": campaign.title, "slug": campaign.slug, "status": campaign.status}
    except CampaignFileError as exc:
        count = len(exc.messages)
        # As the command ends: "FILE: N problems; nothing was imported."
        summary = ngettext(
            "%(file)s: %(count)d problem; nothing was imported.",
            "%(file)s: %(count)d problems; nothing was imported.",
            count,
        ) % {"file": label, "count": count}
        form.add_error("file", summary)
        return _page(request, org, form, exc.messages, 400)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("dashboard:campaign_files", args=[org.slug]))


def _toml(text: str, slug: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="application/toml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.toml"'
    return response


@require_GET
@dashboard_user_required
def campaign_file(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    return _toml(dump(export_campaign(campaign)), campaign.slug)


@require_GET
@dashboard_user_required
def open_letter_file(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    return _toml(dump(export_open_letter(letter)), letter.slug)
