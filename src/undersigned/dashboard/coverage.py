"""The coverage board of a campaign or open letter addressed to a recipient group, in the
workspace, for every member of its organisation (``Action.VIEW``): the same board as the
public page (``templates/core/_coverage_board.html``), reached members weighted by their
vote, the countdown to the group's decision, sortable with ``?sort=``; and for a
campaign, who replies member by member (letters, replies, median days to a reply)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from undersigned.campaigns.coverage import Board, clean_sort, countdown
from undersigned.delivery import replies
from undersigned.delivery.coverage import campaign_board
from undersigned.openletters import queries as letter_queries

from .permissions import dashboard_user_required, viewable_campaign_or_404, viewable_open_letter_or_404


def _page(
    request: HttpRequest,
    *,
    item: object,
    kind: str,
    board: Board | None,
    endorsements: bool,
    responsiveness: list[replies.Responsiveness] | None = None,
) -> HttpResponse:
    vote = countdown(board.decision_date, timezone.localdate()) if board else ""
    context = {"item": item, "kind": kind, "board": board, "vote_countdown": vote, "endorsements": endorsements}
    context["responsiveness"] = responsiveness
    return render(request, "dashboard/coverage.html", context)


@require_GET
@dashboard_user_required
def campaign_coverage(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = viewable_campaign_or_404(request.user, slug)
    board = campaign_board(campaign, sort=clean_sort(request.GET.get("sort")))
    # Per section: every member of the group, in the board's order, a member nobody reached too.
    rows = (
        replies.responsiveness(campaign.pk, names={m.recipient_id: m.name for m in board.members}, everyone=True)
        if board
        else None
    )
    if rows is not None and board is not None:
        order = {m.recipient_id: i for i, m in enumerate(board.members)}
        rows.sort(key=lambda row: order[row.recipient_id])
    return _page(request, item=campaign, kind="campaign", board=board, endorsements=False, responsiveness=rows)


@require_GET
@dashboard_user_required
def open_letter_coverage(request: HttpRequest, slug: str) -> HttpResponse:
    letter = viewable_open_letter_or_404(request.user, slug)
    board = letter_queries.letter_board(letter, sort=clean_sort(request.GET.get("sort")))
    return _page(request, item=letter, kind="open_letter", board=board, endorsements=True)
