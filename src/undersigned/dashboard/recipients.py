"""Workspace pages for an organisation's recipients and recipient groups, and the CSV import.

Every page is under ``organisations/<slug>/``: it exists only for members who may run
the organisation's campaigns (``permissions.managed_organisation_or_404``), and every
object on it is looked up within that organisation, so another organisation's
recipient or group is a 404. Writes go through ``campaigns.recipient_services``.

The CSV import has two steps. The upload is read and checked, and the preview shows
what would change; the checked rows travel to the confirmation in a signed, compressed
hidden field whose signature is bound to the organisation and the member who uploaded
it and expires after an hour, so the file is not needed again and nobody else can
apply it.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from undersigned.campaigns import recipient_queries, recipient_services
from undersigned.campaigns.campaign_files import RecipientData
from undersigned.campaigns.models import Recipient, RecipientGroup
from undersigned.campaigns.recipient_csv import DOCUMENTED, CsvFileError, CsvImport, CsvRow, parse
from undersigned.campaigns.services import recipient_data
from undersigned.organisations.models import Organisation

from .permissions import dashboard_user_required, managed_organisation_or_404
from .recipient_forms import AddToGroupForm, CsvUploadForm, GroupForm, RecipientForm, weight_field

PAGE_SIZE = 50
PREVIEW_ROWS_SHOWN = 500
IMPORT_SALT = "undersigned.dashboard.recipient-import"
IMPORT_MAX_AGE = 60 * 60


def _recipient_or_404(organisation: Organisation, recipient_id: int) -> Recipient:
    recipient = Recipient.objects.filter(pk=recipient_id, organisation=organisation).first()
    if recipient is None:
        raise Http404("No such recipient")
    return recipient


def _group_or_404(organisation: Organisation, group_id: int) -> RecipientGroup:
    group = RecipientGroup.objects.filter(pk=group_id, organisation=organisation).first()
    if group is None:
        raise Http404("No such group")
    return group


def _group_choices(organisation: Organisation) -> list[tuple[int, str]]:
    return [(g.pk, g.name) for g in recipient_queries.organisation_groups(organisation)]


# --- Recipients ------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
@dashboard_user_required
def recipient_list(request: HttpRequest, organisation: str) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    search = request.GET.get("q", "").strip()[: recipient_queries.SEARCH_MAX_CHARS]
    page = Paginator(recipient_queries.organisation_recipients(org, search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "organisation": org,
        "page": page,
        "q": search,
        "query": f"q={search}&" if search else "",
        "groups": recipient_queries.organisation_groups(org)[:50],
    }
    return render(request, "dashboard/recipients/list.html", context)


def _form_page(
    request: HttpRequest,
    org: Organisation,
    form: RecipientForm,
    recipient: Recipient | None,
    *,
    status: int = 200,
    add_form: AddToGroupForm | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {"organisation": org, "form": form, "recipient": recipient}
    if recipient is not None:
        context["memberships"] = list(recipient_queries.memberships(recipient))
        context["add_form"] = add_form or AddToGroupForm(groups=_group_choices(org))
    return render(request, "dashboard/recipients/form.html", context, status=status)


def _initial(recipient: Recipient) -> dict[str, Any]:
    data = recipient_data(recipient)
    return {
        "name": data.name,
        "role": data.role,
        "organisation": data.organisation,
        "email": data.email,
        "web_form_url": data.web_form_url,
        "postal_address": data.postal_address,
        "country": data.country,
        "language": data.language,
        "max_emails_per_minute": data.max_emails_per_minute,
        "daily_digest": data.daily_digest,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def recipient_new(request: HttpRequest, organisation: str) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    if request.method != "POST":
        return _form_page(request, org, RecipientForm(initial={"max_emails_per_minute": 0}), None)
    form = RecipientForm(request.POST)
    if not form.is_valid() or form.data_checked is None:
        return _form_page(request, org, form, None, status=400)
    recipient = recipient_services.create_recipient(organisation=org, data=form.data_checked, actor=request.user)
    messages.success(request, _("The recipient is saved."))
    return HttpResponseRedirect(reverse("dashboard:recipient", args=[org.slug, recipient.pk]))


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def recipient_edit(request: HttpRequest, organisation: str, recipient_id: int) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    recipient = _recipient_or_404(org, recipient_id)
    if request.method != "POST":
        return _form_page(request, org, RecipientForm(initial=_initial(recipient)), recipient)
    form = RecipientForm(request.POST)
    if not form.is_valid() or form.data_checked is None:
        return _form_page(request, org, form, recipient, status=400)
    changed = recipient_services.update_recipient(recipient=recipient, data=form.data_checked, actor=request.user)
    messages.success(request, _("The recipient is saved.") if changed else _("Nothing changed."))
    return HttpResponseRedirect(reverse("dashboard:recipient", args=[org.slug, recipient.pk]))


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def recipient_delete(request: HttpRequest, organisation: str, recipient_id: int) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    recipient = _recipient_or_404(org, recipient_id)
    usage = recipient_services.usage(recipient)
    status = 200
    if request.method == "POST":
        try:
            recipient_services.delete_recipient(recipient=recipient, actor=request.user)
        except recipient_services.RecipientRefused:
            status = 409  # the page again, with the reason it says anyway
        else:
            messages.success(request, _("The recipient is deleted."))
            return HttpResponseRedirect(reverse("dashboard:recipients", args=[org.slug]))
    context = {"organisation": org, "recipient": recipient, "usage": usage}
    return render(request, "dashboard/recipients/delete.html", context, status=status)


@require_POST
@dashboard_user_required
def recipient_add_to_group(request: HttpRequest, organisation: str, recipient_id: int) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    recipient = _recipient_or_404(org, recipient_id)
    form = AddToGroupForm(request.POST, groups=_group_choices(org))
    if form.is_valid():
        group = _group_or_404(org, form.cleaned_data["group"])
        try:
            recipient_services.add_member(
                group=group, recipient=recipient, vote_weight=form.cleaned_data["vote_weight"], actor=request.user
            )
        except recipient_services.RecipientRefused as exc:
            form.add_error("group", str(exc))
        else:
            messages.success(request, _("%(name)s is in the group.") % {"name": recipient.name})
            return HttpResponseRedirect(reverse("dashboard:recipient", args=[org.slug, recipient.pk]))
    return _form_page(request, org, RecipientForm(initial=_initial(recipient)), recipient, status=400, add_form=form)


# --- Groups ----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def group_list(request: HttpRequest, organisation: str) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = recipient_services.create_group(
            organisation=org,
            name=form.cleaned_data["name"],
            decision_date=form.cleaned_data["decision_date"],
            actor=request.user,
        )
        messages.success(request, _("The group is made. Add recipients from their pages or from a CSV file."))
        return HttpResponseRedirect(reverse("dashboard:recipient_group", args=[org.slug, group.pk]))
    context = {"organisation": org, "groups": recipient_queries.organisation_groups(org), "form": form}
    return render(request, "dashboard/recipients/groups.html", context, status=400 if form.errors else 200)


class _Members:
    """The group page's member table: one weight field per member, shown again with its errors."""

    def __init__(self, group: RecipientGroup, data: Any = None) -> None:
        self.rows = []
        self.errors: dict[int, str] = {}
        self.weights: dict[int, int] = {}
        self.remove: list[int] = []
        for member in recipient_queries.group_members(group):
            key = f"weight-{member.recipient_id}"
            typed = data.get(key, "") if data is not None else str(member.vote_weight)
            if data is not None:
                field = weight_field(_("Vote weight"))
                try:
                    self.weights[member.recipient_id] = int(field.clean(typed))
                except ValidationError as exc:
                    self.errors[member.recipient_id] = " ".join(exc.messages)
                if data.get(f"remove-{member.recipient_id}"):
                    self.remove.append(member.recipient_id)
            self.rows.append(
                {
                    "member": member,
                    "typed": typed,
                    "error": self.errors.get(member.recipient_id, ""),
                    "removing": member.recipient_id in self.remove,
                }
            )


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def group_page(request: HttpRequest, organisation: str, group_id: int) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    group = _group_or_404(org, group_id)
    action = request.POST.get("action", "")
    form = GroupForm(
        request.POST if action == "rename" else None,
        initial={"name": group.name, "decision_date": group.decision_date},
    )
    members = _Members(group, request.POST if action == "members" else None)
    url = reverse("dashboard:recipient_group", args=[org.slug, group.pk])
    status = 200
    if request.method == "POST":
        if action == "rename" and form.is_valid():
            recipient_services.update_group(
                group=group,
                name=form.cleaned_data["name"],
                decision_date=form.cleaned_data["decision_date"],
                actor=request.user,
            )
            messages.success(request, _("The group is saved."))
            return HttpResponseRedirect(url)
        if action == "members" and not members.errors:
            changed = recipient_services.set_members(
                group=group, weights=members.weights, remove=members.remove, actor=request.user
            )
            messages.success(request, _("The members are saved.") if changed else _("Nothing changed."))
            return HttpResponseRedirect(url)
        status = 400
    context = {"organisation": org, "group": group, "form": form, "members": members}
    return render(request, "dashboard/recipients/group.html", context, status=status)


# --- CSV import ------------------------------------------------------------------------


def _salt(org: Organisation, request: HttpRequest) -> str:
    return f"{IMPORT_SALT}:{org.pk}:{request.user.pk}"


def _sign(org: Organisation, request: HttpRequest, rows: list[CsvRow], group_id: int | None, new_group: str) -> str:
    payload = {"g": group_id, "n": new_group, "r": [[row.row, row.vote_weight, *astuple(row.data)] for row in rows]}
    return signing.dumps(payload, salt=_salt(org, request), compress=True)


def _unsign(org: Organisation, request: HttpRequest, token: str) -> tuple[list[CsvRow], int | None, str]:
    payload = signing.loads(token, salt=_salt(org, request), max_age=IMPORT_MAX_AGE)
    rows = []
    for number, weight, *values in payload["r"]:
        rows.append(CsvRow(number, RecipientData(**dict(zip(_DATA_FIELDS, values, strict=True))), weight))
    return rows, payload["g"], payload["n"]


_DATA_FIELDS = tuple(RecipientData.__dataclass_fields__)


def _import_page(request: HttpRequest, org: Organisation, context: dict[str, Any], status: int) -> HttpResponse:
    context = {"organisation": org, "columns": DOCUMENTED, **context}
    return render(request, "dashboard/recipients/import.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@dashboard_user_required
def recipient_import(request: HttpRequest, organisation: str) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    groups = _group_choices(org)
    if request.method != "POST":
        return _import_page(request, org, {"form": CsvUploadForm(groups=groups)}, 200)
    form = CsvUploadForm(request.POST, request.FILES, groups=groups)
    if not form.is_valid():
        return _import_page(request, org, {"form": form}, 400)
    group = _group_or_404(org, form.cleaned_data["group"]) if form.cleaned_data["group"] else None
    try:
        parsed: CsvImport = parse(form.cleaned_data["file"].read())
    except CsvFileError as exc:
        form.add_error("file", str(exc))
        return _import_page(request, org, {"form": form}, 400)
    if not parsed.rows and not parsed.errors:
        form.add_error("file", _("The file has a header but no rows of recipients."))
        return _import_page(request, org, {"form": form}, 400)
    if parsed.errors:
        return _import_page(request, org, {"form": form, "row_errors": parsed.errors}, 400)
    new_group = form.cleaned_data["new_group"]
    plan = recipient_services.plan_import(organisation=org, rows=parsed.rows, group=group)
    changing = [row for row in plan.rows if row.outcome != "unchanged" or row.group]
    context = {
        "form": form,
        "plan": plan,
        "new_count": plan.count("new"),
        "updated_count": plan.count("updated"),
        "unchanged_count": plan.count("unchanged"),
        "changing_count": len(changing),
        "shown": changing[:PREVIEW_ROWS_SHOWN],
        "group": group,
        "new_group": new_group,
        "token": _sign(org, request, parsed.rows, group.pk if group else None, new_group),
    }
    return _import_page(request, org, context, 200)


@require_POST
@dashboard_user_required
def recipient_import_apply(request: HttpRequest, organisation: str) -> HttpResponse:
    org = managed_organisation_or_404(request.user, organisation)
    try:
        rows, group_id, new_group = _unsign(org, request, request.POST.get("preview", ""))
    except signing.BadSignature:  # also an expired one
        form = CsvUploadForm(groups=_group_choices(org))
        context = {
            "form": form,
            "expired": _("This preview has expired or was not made for you. Upload the file again."),
        }
        return _import_page(request, org, context, 400)
    group = _group_or_404(org, group_id) if group_id else None
    try:
        result = recipient_services.apply_import(
            organisation=org, rows=rows, group=group, new_group_name=new_group, actor=request.user
        )
    except recipient_services.RecipientRefused as exc:
        return _import_page(request, org, {"form": CsvUploadForm(groups=_group_choices(org)), "expired": str(exc)}, 400)
    messages.success(
        request,
        _("Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.")
        % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
    )
    if result.group is not None:
        return HttpResponseRedirect(reverse("dashboard:recipient_group", args=[org.slug, result.group.pk]))
    return HttpResponseRedirect(reverse("dashboard:recipients", args=[org.slug]))
