"""A campaign's replies for its organisers (``Action.RUN_CAMPAIGNS``): read them, and
approve quoting those the supporter allowed to be quoted. A reply is correspondence a
supporter shared with the organisation, so members who only view results or moderate
see the counts on the results page, not the text."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from undersigned.core.http import private_file_response
from undersigned.delivery import replies
from undersigned.delivery.models import Reply

from .permissions import dashboard_user_required, managed_campaign_or_404


@require_GET
@dashboard_user_required
def campaign_replies(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    context = {"campaign": campaign, "replies": replies.campaign_replies(campaign.pk)}
    return render(request, "dashboard/replies.html", context)


@require_POST
@dashboard_user_required
def approve_reply(request: HttpRequest, slug: str, reply_id: int) -> HttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    reply = Reply.objects.filter(pk=reply_id, letter__campaign=campaign).first()
    if reply is None:
        raise Http404("No such reply")
    replies.approve_reply(reply=reply, actor=request.user)
    return HttpResponseRedirect(reverse("dashboard:campaign_replies", args=[campaign.slug]) + f"#reply-{reply.pk}")


@require_GET
@dashboard_user_required
def reply_file(request: HttpRequest, slug: str, reply_id: int) -> HttpResponseBase:
    """The file a supporter uploaded as their reply: a private download."""
    campaign = managed_campaign_or_404(request.user, slug)
    reply = Reply.objects.filter(pk=reply_id, letter__campaign=campaign).exclude(file="").first()
    if reply is None:
        raise Http404("No such file")
    return private_file_response(reply.file, reply.file_type, replies.reply_file_download_name(reply))
