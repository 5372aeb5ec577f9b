"""Who may use the organiser pages, and for which campaigns.

An organiser is a staff user with an owner or organiser membership in the campaign's
organisation (``Membership.can_manage_campaigns``); superusers may act for every
organisation. Moderators and members of other organisations are not organisers of a
campaign: for them its pages do not exist (404), so nobody learns which campaigns,
print jobs or files another organisation has.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase

from undersigned.campaigns.models import Campaign
from undersigned.core.http import personal_page
from undersigned.delivery.models import PrintJob
from undersigned.openletters.models import OpenLetter
from undersigned.organisations.models import Membership, Role

# The roles that run campaigns; keep in step with Membership.can_manage_campaigns.
MANAGING_ROLES = (Role.OWNER, Role.ORGANISER)

User = AbstractBaseUser | AnonymousUser


def is_superuser(user: User) -> bool:
    return bool(user.is_active and getattr(user, "is_superuser", False))


def may_use_dashboard(user: User) -> bool:
    return bool(user.is_active and (getattr(user, "is_staff", False) or is_superuser(user)))


def can_manage_organisation(user: User, organisation_id: int) -> bool:
    if not may_use_dashboard(user):
        return False
    if is_superuser(user):
        return True
    if user.pk is None:
        return False
    return Membership.objects.filter(user_id=user.pk, organisation_id=organisation_id, role__in=MANAGING_ROLES).exists()


def can_manage_campaign(user: User, campaign: Campaign) -> bool:
    return can_manage_organisation(user, campaign.organisation_id)


def managed_open_letters(user: User) -> QuerySet[OpenLetter]:
    """The open letters of the organisations the user organises, newest first."""
    letters = OpenLetter.objects.select_related("organisation").order_by("-created_at", "-id")
    if is_superuser(user):
        return letters
    if not may_use_dashboard(user) or user.pk is None:
        return letters.none()
    return letters.filter(
        organisation__memberships__user_id=user.pk, organisation__memberships__role__in=MANAGING_ROLES
    )


def managed_open_letter_or_404(user: User, slug: str) -> OpenLetter:
    letter = OpenLetter.objects.select_related("organisation", "current_version").filter(slug=slug).first()
    if letter is None or not can_manage_organisation(user, letter.organisation_id):
        raise Http404("No such open letter")
    return letter


def managed_campaigns(user: User) -> QuerySet[Campaign]:
    """The campaigns the user organises, newest first."""
    campaigns = Campaign.objects.select_related("organisation").order_by("-created_at", "-id")
    if is_superuser(user):
        return campaigns
    if not may_use_dashboard(user) or user.pk is None:
        return campaigns.none()
    # One membership per user and organisation, so the join repeats no campaign.
    return campaigns.filter(
        organisation__memberships__user_id=user.pk, organisation__memberships__role__in=MANAGING_ROLES
    )


def managed_campaign_or_404(user: User, slug: str) -> Campaign:
    campaign = Campaign.objects.select_related("organisation").filter(slug=slug).first()
    if campaign is None or not can_manage_campaign(user, campaign):
        raise Http404("No such campaign")
    return campaign


def managed_print_job_or_404(user: User, job_id: int) -> PrintJob:
    job = PrintJob.objects.select_related("campaign", "open_letter", "requested_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("No such print job")
    owner = job.campaign or job.open_letter
    if owner is None or not can_manage_organisation(user, owner.organisation_id):
        raise Http404("No such print job")
    return job


View = Callable[..., HttpResponseBase]


def dashboard_user_required(view: View) -> View:
    """Sends visitors who are not signed in to the sign-in page; refuses signed-in people
    who are not staff (403), instead of asking them to sign in again.

    Every dashboard page shows supporters' data, so each answer is marked personal.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_use_dashboard(request.user):
            raise PermissionDenied("Only organisers can use the dashboard.")
        return view(request, *args, **kwargs)

    return personal_page(wrapped)
