"""A campaign's or open letter's discussion settings: open, closed or off, moderation
before or after, what happens to a first comment, links, and the proof of work.

For members who moderate the organisation's discussions (``Action.MODERATE``: owners,
organisers and moderators); another organisation's campaign or letter is a 404. The
change goes through ``discussion.services.update_settings``, which writes the audit log
and moves the owner's stamp so the public pages show it at once.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from undersigned.campaigns.models import Campaign
from undersigned.discussion.services import SETTING_FIELDS, discussion_for, update_settings
from undersigned.openletters.models import OpenLetter
from undersigned.organisations import access
from undersigned.organisations.access import Action

from .forms import DiscussionSettingsForm
from .permissions import dashboard_user_required, managed_campaign_or_404, managed_open_letter_or_404


def _settings_page(request: HttpRequest, owner: Campaign | OpenLetter, *, url: str, editor_url: str) -> HttpResponse:
    discussion = discussion_for(owner)
    status = 200
    if request.method == "POST":
        form = DiscussionSettingsForm(request.POST)
        if form.is_valid():
            changed = update_settings(discussion=discussion, settings=form.to_settings(), actor=request.user)
            messages.success(request, _("The discussion's settings are saved.") if changed else _("Nothing changed."))
            return HttpResponseRedirect(url)
        status = 400
    else:
        form = DiscussionSettingsForm(initial={name: getattr(discussion, name) for name in SETTING_FIELDS})
    organisation_id = owner.organisation_id
    context = {
        "owner": owner,
        "discussion": discussion,
        "form": form,
        "editor_url": editor_url if access.can(request.user, Action.RUN_CAMPAIGNS, organisation_id) else "",
    }
    return render(request, "dashboard/discussion_settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_discussion(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug, Action.MODERATE)
    return _settings_page(
        request,
        campaign,
        url=reverse("dashboard:campaign_discussion", args=[campaign.slug]),
        editor_url=reverse("dashboard:campaign_edit", args=[campaign.slug]),
    )


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_discussion(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug, Action.MODERATE)
    return _settings_page(
        request,
        letter,
        url=reverse("dashboard:open_letter_discussion", args=[letter.slug]),
        editor_url=reverse("dashboard:open_letter_edit", args=[letter.slug]),
    )
