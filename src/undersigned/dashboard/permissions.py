"""The organiser pages' side of access: sign-in, and objects found only where the user may act.

Members of an organisation and the platform's operators use the dashboard; a staff flag
alone opens nothing (the admin is for operators, ``organisations.admin_site``). A
member of an organisation that requires two-factor sign-in who has not set it up is
sent to do that first, from every dashboard page.

What each role may do is decided in ``organisations.access``; this module only turns
its answers into HTTP. An object of an organisation the user may not act for does not
exist here (404), so nobody learns which campaigns, print jobs or files another
organisation has.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse

from undersigned.campaigns.models import Campaign
from undersigned.core.http import personal_page
from undersigned.delivery.models import PrintJob
from undersigned.openletters.models import OpenLetter
from undersigned.organisations import access
from undersigned.organisations.access import Action, User
from undersigned.organisations.models import Invitation, Membership, Organisation


def may_use_dashboard(user: User) -> bool:
    """Members of an organisation and operators; nobody else (a staff flag alone is not enough)."""
    return access.is_member(user)


def organisation_or_404(user: User, slug: str, action: Action = Action.VIEW) -> Organisation:
    """An organisation for which the user may do ``action``; any other is a 404."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None or not access.can(user, action, organisation.pk):
        raise Http404("No such organisation")
    return organisation


def member_or_404(organisation: Organisation, membership_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(pk=membership_id, organisation=organisation).first()
    if membership is None:
        raise Http404("No such member")
    return membership


def invitation_or_404(organisation: Organisation, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(pk=invitation_id, organisation=organisation).first()
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def managed_open_letters(user: User) -> QuerySet[OpenLetter]:
    """The open letters of the organisations the user organises, newest first."""
    letters = OpenLetter.objects.select_related("organisation").order_by("-created_at", "-id")
    return access.scope(letters, user, Action.RUN_CAMPAIGNS, via="organisation")


def managed_open_letter_or_404(user: User, slug: str, action: Action = Action.RUN_CAMPAIGNS) -> OpenLetter:
    """An open letter of an organisation for which the user may do ``action``; any other is a 404."""
    letter = OpenLetter.objects.select_related("organisation", "current_version").filter(slug=slug).first()
    if letter is None or not access.can(user, action, letter.organisation_id):
        raise Http404("No such open letter")
    return letter


def managed_campaigns(user: User) -> QuerySet[Campaign]:
    """The campaigns the user organises, newest first."""
    campaigns = Campaign.objects.select_related("organisation").order_by("-created_at", "-id")
    return access.scope(campaigns, user, Action.RUN_CAMPAIGNS, via="organisation")


def managed_campaign_or_404(user: User, slug: str, action: Action = Action.RUN_CAMPAIGNS) -> Campaign:
    """A campaign of an organisation for which the user may do ``action``; any other is a 404."""
    campaign = Campaign.objects.select_related("organisation").filter(slug=slug).first()
    if campaign is None or not access.can(user, action, campaign.organisation_id):
        raise Http404("No such campaign")
    return campaign


def viewable_campaign_or_404(user: User, slug: str) -> Campaign:
    """A campaign whose progress the user may see (``Action.VIEW``: every role); 404 for any other."""
    campaign = Campaign.objects.select_related("organisation").filter(slug=slug).first()
    if campaign is None or not access.can(user, Action.VIEW, campaign.organisation_id):
        raise Http404("No such campaign")
    return campaign


def viewable_open_letter_or_404(user: User, slug: str) -> OpenLetter:
    """An open letter whose progress the user may see (``Action.VIEW``); 404 for any other."""
    letter = OpenLetter.objects.select_related("organisation").filter(slug=slug).first()
    if letter is None or not access.can(user, Action.VIEW, letter.organisation_id):
        raise Http404("No such open letter")
    return letter


def viewable_campaigns(user: User) -> QuerySet[Campaign]:
    """The campaigns whose progress the user may see, newest first."""
    campaigns = Campaign.objects.select_related("organisation").order_by("-created_at", "-id")
    return access.scope(campaigns, user, Action.VIEW, via="organisation")


def viewable_open_letters(user: User) -> QuerySet[OpenLetter]:
    """The open letters whose progress the user may see, newest first."""
    letters = OpenLetter.objects.select_related("organisation").order_by("-created_at", "-id")
    return access.scope(letters, user, Action.VIEW, via="organisation")


def managed_print_job_or_404(user: User, job_id: int) -> PrintJob:
    job = PrintJob.objects.select_related("campaign", "open_letter", "requested_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("No such print job")
    owner = job.campaign or job.open_letter
    if owner is None or not access.can(user, Action.RUN_CAMPAIGNS, owner.organisation_id):
        raise Http404("No such print job")
    return job


View = Callable[..., HttpResponseBase]


def dashboard_user_required(view: View) -> View:
    """Sends visitors who are not signed in to the sign-in page; refuses signed-in people
    who are not members (403), instead of asking them to sign in again; sends members
    whose organisation requires two-factor sign-in to set it up first.

    Every dashboard page shows supporters' data, so each answer is marked personal.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_use_dashboard(request.user):
            raise PermissionDenied("Only organisers can use the dashboard.")
        if access.organisations_missing_two_factor(request.user):
            return HttpResponseRedirect(reverse("dashboard:two_factor_required"))
        return view(request, *args, **kwargs)

    return personal_page(wrapped)


def managed_organisation_or_404(user: User, slug: str) -> Organisation:
    """An organisation whose campaigns (recipients, campaign files) the user runs; 404 for any other."""
    return organisation_or_404(user, slug, Action.RUN_CAMPAIGNS)


def managed_organisations(user: User) -> QuerySet[Organisation]:
    """The organisations whose campaigns the user runs, by name."""
    return access.scope(Organisation.objects.order_by("name", "pk"), user, Action.RUN_CAMPAIGNS, via="")
