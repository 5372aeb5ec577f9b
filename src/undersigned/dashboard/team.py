"""The team of an organisation: who is in it with which role, invitations, and the organisation's settings.

Every member sees the team and what each role may do; only those who may manage the
team (``Action.MANAGE_TEAM``, owners) invite, change roles, remove people and change
the settings. The rules (the last owner stays, one open invitation per address) are
``organisations.services``'; these views only translate HTTP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from undersigned.core.http import personal_page
from undersigned.organisations import access, services
from undersigned.organisations.access import ACTION_LABELS, ROLE_ACTIONS, Action
from undersigned.organisations.models import Invitation, Membership, Organisation, Role

from .forms import InviteForm, NewAccountForm, OrganisationSettingsForm, RoleForm
from .permissions import dashboard_user_required, invitation_or_404, member_or_404, organisation_or_404

MAX_MEMBERS_SHOWN = 500


def _role_table() -> list[dict[str, Any]]:
    """Each role with what it may do, as the team page shows it."""
    return [
        {"role": role, "label": role.label, "actions": [ACTION_LABELS[a] for a in Action if a in ROLE_ACTIONS[role]]}
        for role in Role
    ]


def _team_page(
    request: HttpRequest,
    organisation: Organisation,
    *,
    invite_form: InviteForm | None = None,
    member_errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    manages = access.can(request.user, Action.MANAGE_TEAM, organisation.pk)
    members = list(
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("role", "user__email", "pk")[:MAX_MEMBERS_SHOWN]
    )
    role_order = {str(role): number for number, role in enumerate(Role)}
    members.sort(key=lambda m: (role_order.get(m.role, 99), (m.user.email or m.user.get_username()).lower()))
    now = timezone.now()
    invitations = (
        list(Invitation.objects.filter(organisation=organisation, accepted_at=None, revoked_at=None)[:200])
        if manages
        else []
    )
    context = {
        "organisation": organisation,
        "manages": manages,
        "members": members,
        "member_errors": member_errors or {},
        "owners": sum(1 for m in members if m.role == Role.OWNER),
        "roles": _role_table(),
        "role_choices": list(Role),
        "invite_form": invite_form or InviteForm(),
        "invitations": [(invitation, invitation.expires_at > now) for invitation in invitations],
        "invitation_days": services.INVITATION_DAYS,
    }
    return render(request, "dashboard/team.html", context, status=status)


@require_GET
@dashboard_user_required
def organisations(request: HttpRequest) -> HttpResponse:
    """The organisations the user is a member of, with links to their team and settings."""
    listed = access.scope(Organisation.objects.order_by("name"), request.user, Action.VIEW, via="")[:200]
    return render(request, "dashboard/organisations.html", {"organisations": list(listed)})


@require_GET
@dashboard_user_required
def team(request: HttpRequest, organisation: str) -> HttpResponse:
    return _team_page(request, organisation_or_404(request.user, organisation))


def _back_to_team(organisation: Organisation, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("dashboard:team", args=[organisation.slug]) + anchor)


@require_POST
@dashboard_user_required
def invite(request: HttpRequest, organisation: str) -> HttpResponse:
    org = organisation_or_404(request.user, organisation, Action.MANAGE_TEAM)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, org, invite_form=form, status=400)
    try:
        result = services.invite(
            organisation=org,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except services.TeamError as error:
        form.add_error("email", str(error))
        return _team_page(request, org, invite_form=form, status=400)
    if result.invitation.sent_at is None:
        messages.warning(
            request,
            _("The invitation is saved, but the email could not be sent just now. Try “Send again” in a moment."),
        )
    elif result.created:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": result.invitation.email})
    else:
        messages.success(
            request,
            _("%(email)s was invited already: the invitation was sent again with a new link.")
            % {"email": result.invitation.email},
        )
    return _back_to_team(org, "#invitations")


@require_POST
@dashboard_user_required
def resend_invitation(request: HttpRequest, organisation: str, invitation_id: int) -> HttpResponse:
    org = organisation_or_404(request.user, organisation, Action.MANAGE_TEAM)
    invitation = invitation_or_404(org, invitation_id)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        try:
            result = services.invite(organisation=org, email=invitation.email, role=invitation.role, actor=request.user)
        except services.TeamError as error:
            messages.error(request, str(error))
        else:
            if result.invitation.sent_at is None:
                messages.warning(request, _("The email could not be sent just now. Try again in a moment."))
            else:
                messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return _back_to_team(org, "#invitations")


@require_POST
@dashboard_user_required
def revoke_invitation(request: HttpRequest, organisation: str, invitation_id: int) -> HttpResponse:
    org = organisation_or_404(request.user, organisation, Action.MANAGE_TEAM)
    invitation = invitation_or_404(org, invitation_id)
    if services.revoke_invitation(invitation=invitation, actor=request.user):
        messages.success(request, _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email})
    return _back_to_team(org, "#invitations")


@require_POST
@dashboard_user_required
def change_role(request: HttpRequest, organisation: str, membership_id: int) -> HttpResponse:
    org = organisation_or_404(request.user, organisation, Action.MANAGE_TEAM)
    membership = member_or_404(org, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _team_page(request, org, member_errors={membership.pk: str(form.errors["role"][0])}, status=400)
    try:
        changed = services.change_role(membership=membership, role=form.cleaned_data["role"], actor=request.user)
    except services.TeamError as error:
        return _team_page(request, org, member_errors={membership.pk: str(error)}, status=400)
    if changed:
        messages.success(
            request,
            _("%(member)s is now %(role)s.")
            % {"member": _member_name(membership), "role": Role(membership.role).label},
        )
    if not access.can(request.user, Action.VIEW, org.pk):
        return HttpResponseRedirect(reverse("dashboard:index"))
    return _back_to_team(org, f"#member-{membership.pk}")


@require_POST
@dashboard_user_required
def remove_member(request: HttpRequest, organisation: str, membership_id: int) -> HttpResponse:
    org = organisation_or_404(request.user, organisation, Action.MANAGE_TEAM)
    membership = member_or_404(org, membership_id)
    try:
        removed = services.remove_member(membership=membership, actor=request.user)
    except services.TeamError as error:
        return _team_page(request, org, member_errors={membership.pk: str(error)}, status=400)
    if removed:
        messages.success(request, _("%(member)s is no longer on the team.") % {"member": _member_name(membership)})
    if membership.user_id == request.user.pk:  # removed themselves
        return HttpResponseRedirect(reverse("dashboard:index"))
    return _back_to_team(org)


def _member_name(membership: Membership) -> str:
    user = membership.user
    return user.get_full_name() or user.email or user.get_username()


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def organisation_settings(request: HttpRequest, organisation: str) -> HttpResponse:
    org = organisation_or_404(request.user, organisation, Action.MANAGE_TEAM)
    initial = {"require_two_factor": org.require_two_factor}
    form = OrganisationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.set_require_two_factor(
                organisation=org, required=form.cleaned_data["require_two_factor"], actor=request.user
            )
        except services.TeamError as error:
            form.add_error("require_two_factor", str(error))
        else:
            if changed:
                messages.success(request, _("The settings are saved."))
            return HttpResponseRedirect(reverse("dashboard:organisation_settings", args=[org.slug]))
    status = 400 if form.errors else 200
    context = {"organisation": org, "form": form, "has_two_factor": access.has_two_factor(request.user)}
    return render(request, "dashboard/organisation_settings.html", context, status=status)


@require_GET
@personal_page
def two_factor_required(request: HttpRequest) -> HttpResponse:
    """Where a member is sent when an organisation of theirs requires two-factor they haven't set up."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not access.is_member(request.user):
        raise PermissionDenied("Only organisers can use the dashboard.")
    missing = access.organisations_missing_two_factor(request.user)
    return render(request, "dashboard/two_factor_required.html", {"organisations": missing})


# --- Accepting an invitation -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@personal_page
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invitation email links to.

    Without an account, a person chooses a password here and is signed in as a member
    (the address is the invited one and counts as verified: the link proves it). With
    an account, they sign in and accept with one button. A link that is expired,
    withdrawn or used says so (410); one that was never valid is a 404.
    """
    try:
        found = services.invitation_for_token(token)
    except services.InvitationProblem as problem:
        status = 404 if problem.reason == "invalid" else 410
        used = problem.reason == "used" and problem.invitation is not None and request.user.is_authenticated
        if used and problem.invitation is not None and problem.invitation.accepted_by_id == request.user.pk:
            return HttpResponseRedirect(reverse("dashboard:index"))  # their own second click
        problem_context = {"reason": problem.reason, "invitation": problem.invitation}
        return render(request, "dashboard/invitation_problem.html", problem_context, status=status)
    user = request.user
    signed_in = user.is_authenticated
    email_matches = signed_in and (getattr(user, "email", "") or "").strip().lower() == found.email_key
    has_account = signed_in or services.account_exists(found.email)
    form = NewAccountForm(request.POST or None, email=found.email) if not has_account else None
    if request.method == "POST":
        if email_matches:
            services.accept_invitation(invitation=found, user=user)
            messages.success(request, _("Welcome to %(organisation)s.") % {"organisation": found.organisation.name})
            return HttpResponseRedirect(reverse("dashboard:index"))
        if form is not None and form.is_valid():
            try:
                new_user, _membership = services.create_account_and_accept(
                    invitation=found, password=form.cleaned_data["password1"]
                )
            except services.TeamError as error:
                form.add_error(None, str(error))
            else:
                login(request, new_user, backend="allauth.account.auth_backends.AuthenticationBackend")
                messages.success(request, _("Welcome to %(organisation)s.") % {"organisation": found.organisation.name})
                return HttpResponseRedirect(reverse("dashboard:index"))
    context: dict[str, Any] = {
        "invitation": found,
        "signed_in": signed_in,
        "email_matches": email_matches,
        "has_account": has_account,
        "form": form,
        "login_url": reverse("account_login") + "?" + urlencode({"next": request.path}),
    }
    status = 400 if form is not None and form.errors else (403 if request.method == "POST" else 200)
    return render(request, "dashboard/invitation.html", context, status=status)
