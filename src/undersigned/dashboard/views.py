"""The organiser back office: the campaigns an organiser runs, printing their post in bulk,
and (in demo mode) the mailbox where sent mail is written.

Views only translate HTTP into calls to the data apps' services and reads; who may see
what is decided in ``permissions``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from undersigned.campaigns import services as campaign_services
from undersigned.campaigns.models import Campaign
from undersigned.core import heartbeats
from undersigned.core.http import personal_page
from undersigned.delivery import bulk_print
from undersigned.delivery import queries as delivery_queries
from undersigned.delivery import services as delivery_services
from undersigned.delivery.models import PrintJob, PrintJobKind, PrintJobStatus
from undersigned.organisations import access

from .forms import PAPER_LABELS, MarkPostedForm, PrintForm
from .permissions import (
    dashboard_user_required,
    managed_campaign_or_404,
    managed_campaigns,
    managed_open_letters,
    managed_organisations,
    managed_print_job_or_404,
    viewable_campaigns,
    viewable_open_letters,
)

# The file backend separates messages in one file with a line of 79 dashes.
_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
MAX_SHOWN = 100
RECENT_JOBS = 10
MAX_CAMPAIGNS_LISTED = 200


@dataclass(frozen=True)
class MailboxMessage:
    subject: str
    sender: str
    to: str
    reply_to: str
    date: str
    body: str


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def read_mailbox(folder: Path, limit: int = MAX_SHOWN) -> list[MailboxMessage]:
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    parser = BytesParser(policy=policy.default)
    messages_: list[MailboxMessage] = []
    for path in files:
        chunks = [c for c in path.read_bytes().split(_SEPARATOR) if c.strip()]
        for chunk in reversed(chunks):
            parsed = parser.parsebytes(chunk.lstrip(b"\n"))
            if not isinstance(parsed, EmailMessage):  # always true with policy.default
                continue
            messages_.append(
                MailboxMessage(
                    subject=str(parsed.get("Subject", "")),
                    sender=str(parsed.get("From", "")),
                    to=str(parsed.get("To", "")),
                    reply_to=str(parsed.get("Reply-To", "")),
                    date=str(parsed.get("Date", "")),
                    body=_text_of(parsed),
                )
            )
            if len(messages_) >= limit:
                return messages_
    return messages_


@require_GET
@personal_page
@dashboard_user_required
def mailbox(request: HttpRequest) -> HttpResponse:
    """Only in demo mode: without an SMTP server, this is where sent mail can be read.

    It holds every organisation's mail, so only operators read it."""
    if not settings.DEMO_MODE or not access.is_operator(request.user):
        raise Http404("The mailbox exists only in demo mode")
    return render(request, "dashboard/mailbox.html", {"messages_": read_mailbox(settings.MAIL_DIR)})


@require_GET
@dashboard_user_required
def index(request: HttpRequest) -> HttpResponse:
    campaigns = list(managed_campaigns(request.user)[:MAX_CAMPAIGNS_LISTED])
    open_letters = list(managed_open_letters(request.user)[:MAX_CAMPAIGNS_LISTED])
    # Where "New campaign", recipients and campaign files are: one set of links per organisation.
    organisations = list(managed_organisations(request.user)[:MAX_CAMPAIGNS_LISTED])
    context = {"campaigns": campaigns, "open_letters": open_letters, "organisations": organisations}
    # Members who follow but don't run campaigns (moderators) see their results here.
    run = {("c", c.pk) for c in campaigns} | {("l", letter.pk) for letter in open_letters}
    context["results_only"] = [
        (c, reverse("dashboard:campaign_results", args=[c.slug]))
        for c in viewable_campaigns(request.user)[:MAX_CAMPAIGNS_LISTED]
        if ("c", c.pk) not in run
    ] + [
        (letter, reverse("dashboard:open_letter_results", args=[letter.slug]))
        for letter in viewable_open_letters(request.user)[:MAX_CAMPAIGNS_LISTED]
        if ("l", letter.pk) not in run
    ]
    if request.user.is_superuser:  # who runs the installation: are the task workers running?
        context["workers"] = heartbeats.workers_alive()
        context["oldest_due_email"] = delivery_queries.oldest_due_email()
    return render(request, "dashboard/index.html", context)


# --- Deliveries ---------------------------------------------------------------------------


@require_GET
@dashboard_user_required
def deliveries_page(request: HttpRequest, slug: str) -> HttpResponse:
    """How a campaign's letters are getting to their recipients.

    Counts by channel and status, the progress of the emails the platform sends, the
    latest failures and bounces with the server's reason, and the recipients whose
    address bounced. The counts are kept a few seconds (``delivery_counts``); while emails
    are on their way, htmx polls for them (a 204 when nothing changed), and a Refresh link
    does the same without JavaScript.
    """
    campaign = managed_campaign_or_404(request.user, slug)
    polling = bool(getattr(request, "htmx", False))  # set by django_htmx's middleware
    data = delivery_queries.campaign_deliveries(campaign, details=not polling)
    context = {"campaign": campaign, "data": data, "statuses": delivery_queries.SHOWN_STATUSES}
    if polling:
        if request.GET.get("seen") == data.stamp:
            return HttpResponse(status=204)
        return render(request, "dashboard/deliveries.html#update", context)
    return render(request, "dashboard/deliveries.html", context)


@require_POST
@dashboard_user_required
def campaign_pow(request: HttpRequest, slug: str) -> HttpResponse:
    """The composer's proof-of-work switch, on the deliveries page (like an open letter's)."""
    campaign = managed_campaign_or_404(request.user, slug)
    required = request.POST.get("pow_required") == "1"
    campaign_services.set_pow_required(campaign=campaign, required=required, actor=request.user)
    messages.success(
        request,
        _("The proof-of-work challenge is on: every supporter's browser solves a small puzzle before sending.")
        if required
        else _("The proof-of-work challenge is off."),
    )
    return HttpResponseRedirect(reverse("dashboard:deliveries", args=[campaign.slug]))


# --- Printing in bulk ------------------------------------------------------------------


@dataclass(frozen=True)
class JobRow:
    """A print job as the print page shows it."""

    job: PrintJob
    stalled: bool
    posted_form: MarkPostedForm

    @property
    def paper_label(self) -> str:
        return str(PAPER_LABELS.get(self.job.paper, self.job.paper))

    @property
    def polling(self) -> bool:
        # A stalled job keeps being watched too: a worker that comes back moves it on.
        return self.job.status in bulk_print.ACTIVE

    @property
    def joining(self) -> bool:
        return self.job.status == PrintJobStatus.RUNNING and 0 < self.job.total <= self.job.done

    @property
    def seen(self) -> str:
        """What the page shows of the job; a poll that finds the same answers 204 and swaps nothing,
        so screen readers don't hear an unchanged status again every two seconds."""
        return f"{self.job.status}-{self.job.done}-{self.job.total}-{int(self.stalled)}"


def _row(job: PrintJob, now: datetime.datetime, posted_form: MarkPostedForm | None = None) -> JobRow:
    return JobRow(
        job=job,
        stalled=bulk_print.is_stalled(job, now=now),
        posted_form=posted_form or MarkPostedForm(prefix=f"job{job.pk}"),
    )


def _print_page_url(campaign: Campaign, job: PrintJob | None = None) -> str:
    url = reverse("dashboard:print", args=[campaign.slug])
    return f"{url}#job-{job.pk}" if job else url


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def print_page(request: HttpRequest, slug: str) -> HttpResponse:
    """How many letters wait to be posted, a form to print them all, and the recent print jobs.

    The jobs are read from the database on every visit, so an organiser who leaves while
    a job prints finds it where it has got to when they come back.
    """
    campaign = managed_campaign_or_404(request.user, slug)
    form = PrintForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            paper = form.cleaned_data["paper"]
            running = bulk_print.active_job(campaign.pk, paper)
            try:
                job = delivery_services.start_print_job(campaign=campaign, paper=paper, actor=request.user)
            except delivery_services.NothingToPrint as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                if running is not None and running.pk == job.pk:
                    messages.info(request, _("This print had already been started; it is shown below."))
                else:
                    messages.success(
                        request,
                        "Printing has started. You can leave this page: the print goes on, "
                        "and this page shows how far it has got when you come back.",
                    )
                return HttpResponseRedirect(_print_page_url(campaign, job))
        else:
            status = 400
    return _render_print_page(request, campaign, form=form, status=status)


def _render_print_page(
    request: HttpRequest,
    campaign: Campaign,
    *,
    form: PrintForm | None = None,
    posted_form: MarkPostedForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    rows = [
        _row(job, now, posted_form if posted_form is not None and posted_form.prefix == f"job{job.pk}" else None)
        for job in bulk_print.recent_jobs(campaign.pk, limit=RECENT_JOBS)
    ]
    context = {
        "campaign": campaign,
        "form": form or PrintForm(),
        "waiting": delivery_queries.letters_waiting(campaign.pk),
        "rows": rows,
        "retention_days": settings.PRINT_RETENTION_DAYS,
    }
    return render(request, "dashboard/print.html", context, status=status)


@require_POST
@dashboard_user_required
def print_job_posted(request: HttpRequest, job_id: int) -> HttpResponse:
    """The organiser confirms a finished print is in the post: its letters are marked sent."""
    job = managed_print_job_or_404(request.user, job_id)
    if job.campaign is None:
        # A hand-in pack is handed in, not posted letter by letter.
        raise Http404("Only a print of posted letters can be marked as posted")
    form = MarkPostedForm(request.POST, prefix=f"job{job.pk}")
    if job.status != PrintJobStatus.DONE:
        # Only from a page left open while the job changed: say so at the top of the page.
        messages.error(request, _("Only a finished print can be marked as posted."))
        return _render_print_page(request, job.campaign, status=409)
    if not form.is_valid():
        return _render_print_page(request, job.campaign, posted_form=form, status=400)
    already = job.posted_at is not None
    count = delivery_services.mark_print_job_posted(job=job, actor=request.user)
    if already:
        messages.info(request, _("This print had already been marked as posted."))
    else:
        messages.success(
            request,
            ngettext("%(count)s letter marked as sent by post.", "%(count)s letters marked as sent by post.", count)
            % {"count": count},
        )
    return HttpResponseRedirect(_print_page_url(job.campaign, job))


@require_GET
@dashboard_user_required
def print_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """One job's progress, for htmx polling; without htmx, the print page at that job."""
    job = managed_print_job_or_404(request.user, job_id)
    if job.kind == PrintJobKind.SECTIONS and job.open_letter is not None:
        # Every section's packs: their own page, which refreshes itself while they build.
        return HttpResponseRedirect(reverse("dashboard:hand_in_sections", args=[job.open_letter.slug]))
    if job.campaign is None and job.open_letter is not None:
        # An open letter's hand-in pack: the same job, shown on the open letter's page.
        if not getattr(request, "htmx", False):
            url = reverse("dashboard:open_letter", args=[job.open_letter.slug])
            return HttpResponseRedirect(f"{url}#job-{job.pk}")
        row = _row(job, timezone.now())
        if row.polling and request.GET.get("seen") == row.seen:
            return HttpResponse(status=204)
        return render(request, "dashboard/_hand_in.html#job-update", {"row": row, "letter": job.open_letter})
    if job.campaign is None:
        raise Http404("No such print job")
    if not getattr(request, "htmx", False):  # set by django_htmx's middleware
        return HttpResponseRedirect(_print_page_url(job.campaign, job))
    row = _row(job, timezone.now())
    if row.polling and request.GET.get("seen") == row.seen:
        return HttpResponse(status=204)
    return render(request, "dashboard/print.html#job-update", {"row": row, "campaign": job.campaign})


def _download_name(job: PrintJob) -> str:
    if job.campaign is not None:
        return f"{job.campaign.slug}-letters-{job.paper}-{job.pk}.pdf"
    slug = job.open_letter.slug if job.open_letter else "open-letter"
    if job.kind == PrintJobKind.SECTIONS:
        return f"{slug}-every-section-{job.pk}.zip"
    return f"{slug}-hand-in-{job.pk}.pdf"


@require_GET
@dashboard_user_required
def print_job_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = managed_print_job_or_404(request.user, job_id)
    if job.status != PrintJobStatus.DONE or not job.file:
        raise Http404("This print is not ready")
    try:
        handle = default_storage.open(job.file, "rb")
    except FileNotFoundError:
        raise Http404("The file of this print is gone") from None
    delivery_services.record_print_job_download(job=job, actor=request.user)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(job),
        content_type="application/zip" if job.kind == PrintJobKind.SECTIONS else "application/pdf",
    )
    # Names and home addresses: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response
