"""Organiser pages for open letters: counts, moderation (hide/restore with a reason,
featured endorsers), the proof-of-work switch and hand-in packs.

Every change goes through ``openletters.services``, which writes the audit log.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from undersigned.campaigns.models import Recipient
from undersigned.core.csv_export import csv_filename, streamed_csv
from undersigned.delivery.models import PrintJob, PrintJobKind
from undersigned.openletters import handin, queries
from undersigned.openletters.models import Endorsement, EndorsementStatus, OpenLetter
from undersigned.openletters.services import hand_in, moderation
from undersigned.openletters.text import fold

from .forms import HideEndorsementForm
from .permissions import dashboard_user_required, managed_open_letter_or_404
from .views import RECENT_JOBS, _row

PAGE_SIZE = 50
VIEWS = {
    "confirmed": gettext_lazy("Confirmed"),
    "hidden": gettext_lazy("Hidden"),
    "pending": gettext_lazy("Waiting for confirmation"),
    "withdrawn": gettext_lazy("Withdrawn"),
}


def _page_url(letter: OpenLetter, view: str = "") -> str:
    url = reverse("dashboard:open_letter", args=[letter.slug])
    return f"{url}?view={view}" if view else url


@require_GET
@dashboard_user_required
def open_letter_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _open_letter_page(request, managed_open_letter_or_404(request.user, slug))


def _open_letter_page(
    request: HttpRequest, letter: OpenLetter, *, errors: dict[int, str] | None = None, status: int = 200
) -> HttpResponse:
    """The letter's endorsements; ``errors`` (by endorsement id) are shown beside that row's form."""
    view = request.GET.get("view") or request.POST.get("view") or "confirmed"
    if view not in VIEWS:
        view = "confirmed"
    rows = Endorsement.objects.filter(letter=letter)
    rows = rows.filter(hidden=True) if view == "hidden" else rows.filter(status=view, hidden=False)
    search = request.GET.get("q", "").strip()[:100]
    folded = fold(search)
    if folded:
        rows = rows.filter(search_text__contains=folded)
    before = request.GET.get("before", "")
    if before.isdigit() and len(before) < 19:
        rows = rows.filter(id__lt=int(before))
    found = list(rows.order_by("-id")[: PAGE_SIZE + 1])
    now = timezone.now()
    jobs = PrintJob.objects.filter(open_letter=letter, kind=PrintJobKind.HAND_IN).select_related(
        "recipient", "requested_by"
    )[:RECENT_JOBS]
    context = {
        "letter": letter,
        "rows": [_row(job, now) for job in jobs],
        "view": view,
        "views": VIEWS,
        "endorsements": found[:PAGE_SIZE],
        "next_before": found[PAGE_SIZE - 1].pk if len(found) > PAGE_SIZE else None,
        "q": search,
        "hide_form": HideEndorsementForm(),
        "addressees": _addressees(letter),
        "errors": errors or {},
    }
    return render(request, "dashboard/open_letter.html", context, status=status)


def _addressees(letter: OpenLetter) -> list[Recipient]:
    return queries.addressees(letter)


def _recipient(letter: OpenLetter, raw: str | None) -> Recipient | None:
    """The addressee a pack is for (None: the whole letter); 404 for anyone else."""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such addressee")
    for recipient in _addressees(letter):
        if recipient.pk == int(raw):
            return recipient
    raise Http404("No such addressee")


@require_POST
@dashboard_user_required
def start_hand_in(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    recipient = _recipient(letter, request.POST.get("recipient"))
    job = hand_in.start_hand_in(letter=letter, recipient=recipient, actor=request.user)
    messages.success(request, _("The hand-in pack is being built. You can leave this page and come back."))
    return HttpResponseRedirect(f"{_page_url(letter)}#job-{job.pk}")


@require_GET
@dashboard_user_required
def hand_in_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    recipient = _recipient(letter, request.GET.get("recipient"))
    hand_in.record_hand_in_download(letter=letter, recipient=recipient, file_format="csv", actor=request.user)
    who = f"-{recipient.pk}" if recipient else ""
    filename = csv_filename(f"{letter.slug}{who}", "endorsers", timezone.localdate())
    return streamed_csv(handin.csv_rows(handin.Pack(letter, recipient)), filename)


def _endorsement_of(letter: OpenLetter, endorsement_id: int) -> Endorsement:
    endorsement = Endorsement.objects.filter(pk=endorsement_id, letter=letter).first()
    if endorsement is None or endorsement.status == EndorsementStatus.PENDING:
        raise Http404("No such endorsement")
    return endorsement


def _back(request: HttpRequest, letter: OpenLetter) -> HttpResponseRedirect:
    view = request.POST.get("view", "")
    return HttpResponseRedirect(_page_url(letter, view if view in VIEWS else ""))


@require_POST
@dashboard_user_required
def hide_endorsement(request: HttpRequest, slug: str, endorsement_id: int) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    endorsement = _endorsement_of(letter, endorsement_id)
    form = HideEndorsementForm(request.POST)
    if not form.is_valid():
        # The page again, the message beside the endorsement's form (only a tampered
        # request sends no reason: the list offers nothing else).
        return _open_letter_page(
            request, letter, errors={endorsement.pk: gettext("Choose a reason for hiding the endorsement.")}, status=400
        )
    moderation.hide(endorsement=endorsement, reason=form.cleaned_data["reason"], actor=request.user)
    messages.success(request, _("The endorsement is hidden: no longer shown, counted or handed in."))
    return _back(request, letter)


@require_POST
@dashboard_user_required
def restore_endorsement(request: HttpRequest, slug: str, endorsement_id: int) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    endorsement = _endorsement_of(letter, endorsement_id)
    form = HideEndorsementForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else moderation.HideReason.OTHER
    moderation.restore(endorsement=endorsement, reason=reason, actor=request.user)
    messages.success(request, _("The endorsement is restored."))
    return _back(request, letter)


@require_POST
@dashboard_user_required
def feature_endorsement(request: HttpRequest, slug: str, endorsement_id: int) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    endorsement = _endorsement_of(letter, endorsement_id)
    featured = request.POST.get("featured") == "1"
    if not moderation.set_featured(endorsement=endorsement, featured=featured, actor=request.user):
        messages.error(request, _("Only endorsers named publicly can be featured."))
    return _back(request, letter)


@require_POST
@dashboard_user_required
def set_pow(request: HttpRequest, slug: str) -> HttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    required = request.POST.get("pow_required") == "1"
    moderation.set_pow_required(letter=letter, required=required, actor=request.user)
    messages.success(
        request,
        "The proof-of-work challenge is on: every endorser's browser solves a small puzzle."
        if required
        else "The proof-of-work challenge is off.",
    )
    return HttpResponseRedirect(_page_url(letter))
