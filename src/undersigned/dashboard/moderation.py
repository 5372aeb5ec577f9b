"""The moderation queue: comments waiting for approval or reported by readers, and the
hidden ones (to restore). Moderators approve, hide with a reason, restore, and block an
author's email address or IP hash. Every act goes through a discussion service, which
writes it to the audit log.

Every member of an organisation (owner, organiser, moderator) with dashboard access
moderates its discussions; other people's comments do not exist for them (404).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from undersigned.discussion import queries, services
from undersigned.discussion.models import BlockKind, Comment

from .forms import HideForm
from .permissions import dashboard_user_required

SHOWS = {"waiting": _("Waiting and reported"), "hidden": _("Hidden")}
PAGE_SIZE = 50
DISCUSSIONS_LISTED = 50  # the settings links under the queue, newest first


def _queue(
    request: HttpRequest,
    *,
    show: str,
    errors: dict[int, str] | None = None,
    status: int = 200,
    acted_on: Comment | None = None,
) -> HttpResponse:
    organisation_ids = queries.moderated_organisation_ids(request.user)
    page = Paginator(queries.moderation_queue(organisation_ids, show=show), PAGE_SIZE).get_page(
        request.GET.get("page") or request.POST.get("page")
    )
    comments = list(page)
    if acted_on is not None and acted_on.pk not in {c.pk for c in comments}:
        # The comment whose form had an error stays in view, with its error, whichever list it is in.
        comments.insert(0, acted_on)
    reports = queries.open_reports_of([c.pk for c in comments])
    items = [(comment, reports.get(comment.pk, [])) for comment in comments]
    context = {
        "items": items,
        "show": show,
        "shows": SHOWS,
        "errors": errors or {},
        "page": page,
        "discussions": queries.discussions_of(organisation_ids)[:DISCUSSIONS_LISTED],
    }
    return render(request, "dashboard/moderation.html", context, status=status)


@require_GET
@dashboard_user_required
def queue(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "waiting")
    return _queue(request, show=show if show in SHOWS else "waiting")


@require_POST
@dashboard_user_required
def act(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = queries.moderated_comment(queries.moderated_organisation_ids(request.user), comment_id)
    if comment is None:
        raise Http404("No such comment")
    action = request.POST.get("action", "")
    show = request.POST.get("show", "waiting")
    show = show if show in SHOWS else "waiting"
    if action == "approve":
        services.approve_comment(comment=comment, actor=request.user)
        done = _("Comment approved: it is shown.")
    elif action == "hide":
        form = HideForm(request.POST)
        if not form.is_valid():
            message = " ".join(str(e) for e in form.errors["reason"])
            return _queue(request, show=show, errors={comment.pk: message}, status=400, acted_on=comment)
        services.hide_comment(comment=comment, actor=request.user, reason=form.cleaned_data["reason"])
        done = _("Comment hidden.")
    elif action == "restore":
        services.restore_comment(comment=comment, actor=request.user)
        done = _("Comment restored: it is shown again.")
    elif action in ("block_email", "block_ip"):
        kind = BlockKind.EMAIL if action == "block_email" else BlockKind.IP
        block = services.block_commenter(comment=comment, kind=kind, actor=request.user)
        if block is None:
            done = _("There is no IP hash to block for this comment.")
        elif kind == BlockKind.EMAIL:
            done = _("The author's email address can no longer comment in your discussions.")
        else:
            done = _("Comments from the author's IP address (by its hash) are no longer accepted in your discussions.")
    else:
        return _queue(
            request, show=show, errors={comment.pk: gettext("Choose an action.")}, status=400, acted_on=comment
        )
    messages.success(request, done)
    return HttpResponseRedirect(reverse("dashboard:moderation") + _query(show=show, page=request.POST.get("page")))


def _query(*, show: str, page: str | None) -> str:
    """The queue's query string: which list, and which page (back where the moderator was)."""
    params = {"show": show} if show != "waiting" else {}
    if page and page.isdigit() and page != "1" and len(page) < 9:
        params["page"] = page
    return "?" + urlencode(params) if params else ""
