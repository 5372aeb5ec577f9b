"""Reading and joining a discussion: the comments page, the fragment the campaign page
loads, replies, reports, confirming a first comment, and unsubscribing from replies.

Everything works without JavaScript: replying is a link to the page's form with the
comment named, and the campaign page links to the full discussion besides loading it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from undersigned.campaigns.enums import CampaignStatus
from undersigned.core import abuse
from undersigned.core.emails import mailbox_identity
from undersigned.core.http import personal_page
from undersigned.core.security import client_ip, hash_ip
from undersigned.core.templatetags.machine_time import machine_time
from undersigned.discussion import queries, services
from undersigned.discussion.links import (
    BROWSER_COOKIE,
    BROWSER_COOKIE_DAYS,
    BROWSER_COOKIE_SALT,
    LinkExpired,
    LinkInvalid,
    browser_knows,
    browser_remember,
    comment_from_confirm_token,
    comment_from_unsubscribe_token,
)
from undersigned.discussion.models import Comment, CommentStatus, Discussion, FirstComment
from undersigned.discussion.threads import Entry
from undersigned.openletters.models import OpenLetterStatus

from .discussion_forms import CommentForm, ReportForm

PUBLIC_OWNER_STATUSES = (CampaignStatus.LIVE, CampaignStatus.CLOSED)
PUBLIC_LETTER_STATUSES = (OpenLetterStatus.PUBLISHED, OpenLetterStatus.CLOSED)


def _discussion_or_404(discussion_id: int) -> Discussion:
    discussion = queries.discussion_or_none(discussion_id)
    if discussion is None or not discussion.is_shown:
        raise Http404("No such discussion")
    if discussion.campaign is not None and discussion.campaign.status not in PUBLIC_OWNER_STATUSES:
        raise Http404("No such discussion")
    if discussion.open_letter is not None and discussion.open_letter.status not in PUBLIC_LETTER_STATUSES:
        raise Http404("No such discussion")
    return discussion


def owner_url(discussion: Discussion) -> str:
    if discussion.campaign is not None:
        return reverse("public:campaign", args=[discussion.campaign.slug])
    if discussion.open_letter is not None:
        return reverse("openletters:letter", args=[discussion.open_letter.slug])
    return reverse("public:home")


def _id(raw: object) -> int | None:
    """A database id from a query string or form, or None: ASCII digits that fit a bigint."""
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text)


def _before(request: HttpRequest) -> int | None:
    return _id(request.GET.get("before", ""))


def _reply_target(raw: object) -> Comment | None:
    comment_id = _id(raw)
    return queries.visible_comment(comment_id) if comment_id is not None else None


def _display_name(user: Any) -> str:
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full[: settings.COMMENT_NAME_MAX_CHARS]


def _verified_account_email(user: Any) -> bool:
    return bool(user.email) and EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


@dataclass(frozen=True)
class _Words:
    """The comment list's own words in the page's language, looked up once per page.

    Our catalogues' HTML (the visually hidden spans) is trusted as templates' is; the
    people's values put into it are escaped."""

    hidden: str
    in_reply_to: str
    reply: str
    on: str
    report: str

    @classmethod
    def now(cls) -> _Words:
        return cls(
            hidden=escape(gettext("This comment was hidden by the moderators.")),
            in_reply_to=escape(gettext("in reply to %(name)s")),
            reply=gettext('Reply<span class="visually-hidden"> to %(name)s</span>'),
            # Translators: after how long ago a comment was written, for screen readers: ", on 5 May 2026, 14:03 UTC".
            on=escape(gettext(", on %(when)s")),
            report=gettext('Report<span class="visually-hidden"> the comment by %(name)s</span>'),
        )


def _comment_item(entry: Entry, *, page_url: str, accepts: bool, words: _Words) -> str:
    """One comment's ``<li>``, built in Python.

    A page shows up to a few hundred comments; through the template engine (an include,
    ``date`` three times, ``naturaltime`` and ``url`` per comment) a page cost several
    times the CPU it costs built here (see docs/performance.md, bench/discussion.py).
    Every value from people goes through ``escape``; ``body_html``
    was sanitised by nh3 when the comment was written.
    """
    comment = cast(Comment, entry.comment)
    pk = comment.pk
    if not comment.is_visible:
        return (
            f'<li class="comment indent-{entry.indent}" id="comment-{pk}">'
            f'<p class="comment-hidden">{words.hidden}</p></li>'
        )
    created = timezone.localtime(comment.created_at)
    exact = escape(dateformat.format(created, "j F Y, H:i e"))
    name = escape(comment.author_name)
    if entry.in_reply_to:
        replied = words.in_reply_to % {"name": f"<bdi>{escape(entry.in_reply_to)}</bdi>"}
        reply_to = f'<span class="in-reply-to">{replied}</span>'
    elif entry.parent_name:
        replied = words.in_reply_to % {"name": f"<bdi>{escape(entry.parent_name)}</bdi>"}
        reply_to = f'<span class="visually-hidden">{replied}</span>'
    else:
        reply_to = ""
    bdi_name = f"<bdi>{name}</bdi>"
    on = words.on % {"when": exact}
    reply = f'<a href="{page_url}?reply={pk}#comment-form">{words.reply % {"name": bdi_name}}</a>' if accepts else ""
    return (
        f'<li class="comment indent-{entry.indent}" id="comment-{pk}">'
        f'<article aria-labelledby="comment-{pk}-by">'
        f'<header class="comment-meta"><strong id="comment-{pk}-by"><bdi>{name}</bdi></strong>{reply_to}'
        f'<a class="permalink" href="{page_url}#comment-{pk}"><time datetime="{machine_time(created)}" '
        f'title="{exact}">{escape(naturaltime(created))}<span class="visually-hidden">{on}</span></time></a>'
        "</header>"
        f'<div class="comment-body" dir="auto">{comment.body_html}</div>'
        f'<footer class="comment-actions">{reply}'
        f'<a href="{page_url}report/{pk}/" class="secondary">{words.report % {"name": bdi_name}}</a></footer>'
        "</article></li>"
    )


def _comments_html(entries: list[Entry], *, page_url: str, accepts: bool) -> SafeString:
    words = _Words.now()
    return mark_safe(  # noqa: S308 (each part escaped in _comment_item; body_html sanitised by nh3)
        "\n".join(_comment_item(entry, page_url=page_url, accepts=accepts, words=words) for entry in entries)
    )


def _thread_context(discussion: Discussion, request: HttpRequest) -> dict[str, Any]:
    page = queries.thread_page(discussion, before=_before(request))
    accepts = discussion.accepts_comments(timezone.now())
    page_url = reverse("public:discussion", args=[discussion.pk])
    return {
        "discussion": discussion,
        "comments_html": _comments_html(page.entries, page_url=page_url, accepts=accepts),
        "next_before": page.next_before,
        "paged": _before(request) is not None,
        "accepts": accepts,
        "page_url": page_url,
        # The comments alone, inside another page (the campaign's): they link to the form.
        "fragment": False,
    }


@require_GET
def discussion_comments(request: HttpRequest, discussion_id: int) -> HttpResponse:
    """The comments alone: loaded into the campaign page by htmx, or a plain page of them."""
    discussion = _discussion_or_404(discussion_id)
    context = {**_thread_context(discussion, request), "fragment": True}
    return render(request, "discussion/page.html#thread", context)


def _wait(request: HttpRequest, scope: str, *, key: str | None = None) -> int:
    return abuse.rate_limit(request, scope, settings.RATE_LIMITS[scope], key=key)


class _Limited(Exception):
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds


def _post(request: HttpRequest, discussion: Discussion, form: CommentForm) -> HttpResponse | int:
    """Post the comment; a redirect when it was taken, else the status to show the form with.

    Rate limits (per IP hash, then per normalised email) re-show the form with what was
    typed and a message, with status 429 and ``Retry-After``.
    """
    if wait := _wait(request, "comment"):
        raise _Limited(wait)
    if not form.is_valid():
        return 400
    data = form.cleaned_data
    user = request.user
    email = str(getattr(user, "email", "")) if form.signed_in else data["email"]
    if not email:
        form.add_error(None, _("Your account has no email address; add one in your account settings first."))
        return 400
    if wait := _wait(request, "comment_email", key=mailbox_identity(email)):
        raise _Limited(wait)
    parent = None
    if data.get("parent"):
        parent = _reply_target(data["parent"])
        if parent is None or parent.discussion_id != discussion.pk:
            form.add_error(None, _("The comment you are replying to is not shown any more."))
            return 409
    try:
        comment = services.post_comment(
            discussion=discussion,
            parent=parent,
            data=services.CommentInput(
                name=data["name"], email=email, body=data["body"], notify_replies=data["notify_replies"]
            ),
            submission_key=data["submission_key"],
            ip_hash=hash_ip(client_ip(request)),
            user=user if form.signed_in else None,
            verified_email=form.signed_in and _verified_account_email(user),
            same_browser=_same_browser(request, email),
        )
    except services.CommentRefused as exc:
        form.add_error(None, str(exc))
        return 403
    url = reverse("public:discussion", args=[discussion.pk])
    if comment.status == CommentStatus.PUBLISHED:
        return HttpResponseRedirect(f"{url}#comment-{comment.pk}")
    waiting = "confirm" if comment.status == CommentStatus.UNCONFIRMED else "moderation"
    return HttpResponseRedirect(f"{url}?sent={waiting}#comment-form")


def _cookie_path() -> str:
    """The discussion pages' common path (``/d/``): the cookie goes nowhere else."""
    page = reverse("public:discussion", args=[0])
    confirm = reverse("public:comment_confirm", args=["x"])
    common = page[: next((i for i, (a, b) in enumerate(zip(page, confirm, strict=False)) if a != b), len(page))]
    return common[: common.rindex("/") + 1]


def _browser_cookie(request: HttpRequest) -> str | None:
    value: str | None = request.get_signed_cookie(
        BROWSER_COOKIE, default=None, salt=BROWSER_COOKIE_SALT, max_age=BROWSER_COOKIE_DAYS * 86400
    )
    return value


def _same_browser(request: HttpRequest, email: str) -> bool:
    """Whether this browser confirmed a comment with this mailbox before (the signed cookie)."""
    return browser_knows(_browser_cookie(request), mailbox_identity(email))


def _remember_browser(request: HttpRequest, response: HttpResponse, comment: Comment) -> None:
    """After a confirmation: this browser may publish with this mailbox at once from now on.

    The cookie holds a signed keyed hash of the mailbox identity, nothing readable, and is
    sent only to the discussion pages; it keeps a few mailboxes, the oldest dropped first.
    """
    response.set_signed_cookie(
        BROWSER_COOKIE,
        browser_remember(_browser_cookie(request), comment.email_key),
        salt=BROWSER_COOKIE_SALT,
        max_age=BROWSER_COOKIE_DAYS * 86400,
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
        path=_cookie_path(),
    )


def _form_options(discussion: Discussion, signed_in: bool) -> dict[str, Any]:
    return {
        "signed_in": signed_in,
        "pow_required": discussion.pow_required,
        "confirm_by_email": discussion.first_comment == FirstComment.CONFIRM_EMAIL,
    }


@require_http_methods(["GET", "POST"])
def discussion_page(request: HttpRequest, discussion_id: int) -> HttpResponse:
    discussion = _discussion_or_404(discussion_id)
    signed_in = bool(request.user.is_authenticated)
    status = 200
    retry_after = 0
    if request.method == "POST":
        form = CommentForm(request.POST, **_form_options(discussion, signed_in))
        if not discussion.accepts_comments(timezone.now()):
            form.add_error(None, _("This discussion is closed: it takes no new comments."))
            status = 409
        else:
            try:
                result = _post(request, discussion, form)
            except _Limited as limited:
                retry_after = limited.seconds
                form.add_error(None, abuse.rate_limit_message(limited.seconds))
                status = 429
            else:
                if isinstance(result, HttpResponse):
                    return result
                status = result
        reply_to = _reply_target(request.POST.get("parent", ""))
    else:
        reply_to = _reply_target(request.GET["reply"]) if request.GET.get("reply") else None
        if reply_to is not None and reply_to.discussion_id != discussion.pk:
            reply_to = None
        initial = {
            "submission_key": uuid.uuid4(),
            "parent": reply_to.pk if reply_to else None,
            "name": _display_name(request.user) if signed_in else "",
        }
        form = CommentForm(initial=initial, **_form_options(discussion, signed_in))
    context = {
        **_thread_context(discussion, request),
        "form": form,
        "reply_to": reply_to,
        "sent": request.GET.get("sent", ""),
        "owner_url": owner_url(discussion),
    }
    response = render(request, "discussion/page.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _comment_or_404(discussion_id: int, comment_id: int) -> Comment:
    comment = queries.visible_comment(comment_id)
    if comment is None or comment.discussion_id != discussion_id:
        raise Http404("No such comment")
    _discussion_or_404(comment.discussion_id)
    return comment


@require_http_methods(["GET", "POST"])
def report_comment(request: HttpRequest, discussion_id: int, comment_id: int) -> HttpResponse:
    comment = _comment_or_404(discussion_id, comment_id)
    form = ReportForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"comment": comment, "form": form, "back": _back(comment)}
    if request.method == "POST":
        if wait := _wait(request, "report"):
            return abuse.too_many_requests(request, wait)
        if form.is_valid():
            services.report_comment(
                comment=comment, reason=form.cleaned_data["reason"], ip_hash=hash_ip(client_ip(request))
            )
            return render(request, "discussion/reported.html", context)
        return render(request, "discussion/report.html", context, status=400)
    return render(request, "discussion/report.html", context)


def _back(comment: Comment) -> str:
    return reverse("public:discussion", args=[comment.discussion_id]) + f"#comment-{comment.pk}"


@personal_page
@require_http_methods(["GET", "POST"])
def confirm_comment(request: HttpRequest, token: str) -> HttpResponse:
    """A GET only shows a button: mail scanners follow links, and must not confirm anything."""
    try:
        comment_id = comment_from_confirm_token(token)
    except LinkExpired:
        return render(request, "discussion/link_problem.html", {"expired": True}, status=410)
    except LinkInvalid:
        return render(request, "discussion/link_problem.html", {}, status=404)
    comment = Comment.objects.select_related("discussion").filter(pk=comment_id).first()
    if comment is None:
        return render(request, "discussion/link_problem.html", {}, status=404)
    if request.method == "POST":
        comment = services.confirm_comment(comment=comment)
    confirmed = comment.status != CommentStatus.UNCONFIRMED
    response = render(
        request, "discussion/confirm.html", {"comment": comment, "confirmed": confirmed, "back": _back(comment)}
    )
    if request.method == "POST" and confirmed:
        _remember_browser(request, response, comment)
    return response


@personal_page
@csrf_exempt  # One-click unsubscribe (RFC 8058) is a POST from a mail program, without our cookie.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; POST (the button, or a mail program's one-click) unsubscribes.

    CSRF protection is off on purpose: the signed token is the proof, and the worst a
    forged request can do is stop emails the token's owner could stop anyway.
    """
    try:
        comment_id = comment_from_unsubscribe_token(token)
    except LinkInvalid:
        return render(request, "discussion/link_problem.html", {}, status=404)
    comment = Comment.objects.filter(pk=comment_id).first()
    if comment is None:
        return render(request, "discussion/link_problem.html", {}, status=404)
    done = False
    if request.method == "POST":
        services.unsubscribe_replies(comment=comment)
        done = True
    return render(request, "discussion/unsubscribe.html", {"done": done, "token": token})
