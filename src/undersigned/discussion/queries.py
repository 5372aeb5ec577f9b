"""Reads for discussions. A page of comments costs two queries, whatever the discussion's size."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from undersigned.organisations import access
from undersigned.organisations.access import Action, User

from .models import Comment, CommentStatus, Discussion, Report
from .threads import Entry, layout

THREADS_PER_PAGE = 10
# A page never loads more replies than this, however long its threads grow.
MAX_REPLIES_PER_PAGE = 500
SHOWN = [CommentStatus.PUBLISHED, CommentStatus.HIDDEN]
_COLUMNS = (
    "id",
    "discussion_id",
    "parent_id",
    "thread_root_id",
    "depth",
    "author_name",
    "body_html",
    "status",
    "created_at",
    "published_at",
)


# URL converters accept any length of digits; a bigint holds no more than this.
MAX_ID = 2**63 - 1


def discussion_or_none(discussion_id: int) -> Discussion | None:
    if not 0 < discussion_id <= MAX_ID:
        return None
    return Discussion.objects.select_related("organisation", "campaign", "open_letter").filter(pk=discussion_id).first()


@dataclass(frozen=True)
class ThreadPage:
    entries: list[Entry]
    # Keyset pagination: the id to pass as ``before`` for the next (older) page; None at the end.
    next_before: int | None


def thread_page(discussion: Discussion, *, before: int | None = None, per_page: int = THREADS_PER_PAGE) -> ThreadPage:
    """One page of threads, newest thread first, each with its replies oldest first.

    Keyset pagination (``id < before``) needs no count, so the cost of a page does not
    grow with the discussion.
    """
    roots_query = Comment.objects.filter(discussion=discussion, parent__isnull=True, status__in=SHOWN)
    if before is not None:
        roots_query = roots_query.filter(pk__lt=before)
    roots = list(roots_query.only(*_COLUMNS).order_by("-id")[: per_page + 1])
    more = len(roots) > per_page
    roots = roots[:per_page]
    replies: list[Comment] = []
    if roots:
        # Filtered by thread only; statuses are checked here. With ``status`` in the WHERE
        # clause SQLite chose the status index and scanned every comment of that status
        # (many times slower than the thread_root index at size; docs/performance.md).
        replies = [
            reply
            for reply in Comment.objects.filter(thread_root_id__in=[r.pk for r in roots])
            .only(*_COLUMNS)
            .order_by("id")[:MAX_REPLIES_PER_PAGE]
            if reply.status in SHOWN
        ]
    return ThreadPage(entries=layout(roots, replies), next_before=roots[-1].pk if more and roots else None)


def visible_comment(comment_id: int) -> Comment | None:
    if not 0 < comment_id <= MAX_ID:
        return None
    return Comment.objects.filter(pk=comment_id, status=CommentStatus.PUBLISHED).first()


# --- Moderation -------------------------------------------------------------------------------


def moderated_organisation_ids(user: User) -> list[int] | None:
    """Organisations whose discussions the user moderates; None means all (operators)."""
    return access.organisation_ids(user, Action.MODERATE)


def discussions_of(organisation_ids: list[int] | None) -> QuerySet[Discussion]:
    """The discussions of these organisations (None: all) with their owners, newest first."""
    found = Discussion.objects.select_related("campaign", "open_letter", "organisation").order_by("-created_at", "-id")
    return found if organisation_ids is None else found.filter(organisation_id__in=organisation_ids)


def _in_organisations(query: QuerySet[Comment], organisation_ids: list[int] | None) -> QuerySet[Comment]:
    if organisation_ids is None:
        return query
    return query.filter(discussion__organisation_id__in=organisation_ids)


def moderation_queue(organisation_ids: list[int] | None, *, show: str = "waiting") -> QuerySet[Comment]:
    """Comments for moderators: waiting for approval or reported (oldest first), or hidden
    (to restore; last hidden first)."""
    query = Comment.objects.select_related("discussion__campaign", "parent")
    if show == "hidden":
        query = query.filter(status=CommentStatus.HIDDEN).order_by("-updated_at", "-id")
    else:
        query = query.filter(
            Q(status=CommentStatus.PENDING) | Q(status=CommentStatus.PUBLISHED, open_reports__gt=0)
        ).order_by("id")
    return _in_organisations(query, organisation_ids)


def moderated_comment(organisation_ids: list[int] | None, comment_id: int) -> Comment | None:
    if not 0 < comment_id <= MAX_ID:
        return None
    query = Comment.objects.select_related("discussion").filter(pk=comment_id)
    return _in_organisations(query, organisation_ids).first()


def open_reports_of(comment_ids: list[int]) -> dict[int, list[str]]:
    reasons: dict[int, list[str]] = {}
    for comment_id, reason in Report.objects.filter(comment_id__in=comment_ids, resolved_at__isnull=True).values_list(
        "comment_id", "reason"
    ):
        reasons.setdefault(comment_id, []).append(reason)
    return reasons
