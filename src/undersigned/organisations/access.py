"""Who may do what for which organisation: the one place that decides.

Every organiser page, the admin, the commands and any later API ask here, so a rule
changes in one place and a new page cannot forget it. A member acts for an
organisation by their role; what each role may do is the written list ``ROLE_ACTIONS``
below (the workspace's team page shows it to owners). Platform operators
(active superusers) may do everything for every organisation. Nobody else may do
anything: an anonymous visitor, an inactive account, a staff flag without a
membership.

An organisation may require two-factor sign-in (``Organisation.require_two_factor``):
then a member without a TOTP authenticator may do nothing for it, whatever their role,
until they set one up (the dashboard sends them to do so,
``organisations_missing_two_factor``).

Two shapes of answer: ``can(user, action, organisation_id)`` for one object, and
``scope(queryset, user, action, via=...)`` for lists, which filters any queryset by the
path from its model to the organisation (``"organisation"``, ``"campaign__organisation"``
…), so a list never holds another organisation's rows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Membership, Organisation, Role

type User = AbstractBaseUser | AnonymousUser


class Action(StrEnum):
    """What a member may be allowed to do for their organisation."""

    # See the organiser pages at all: the dashboard's lists, a campaign's or open letter's
    # deliveries and results. Every role.
    VIEW = "view"
    # Approve, hide and restore comments; block addresses in discussions; a discussion's
    # settings (open, closed or off, pre- or post-moderation, the first-comment check, the
    # proof of work against comment spam).
    MODERATE = "moderate"
    # Create, edit, publish, close and archive campaigns and open letters, their
    # recipients and templates; print letters, build hand-in packs, hide endorsements,
    # switch on the proof of work; import and export campaign files.
    RUN_CAMPAIGNS = "run_campaigns"
    # Invite people, change their roles, remove them; the organisation's own settings.
    MANAGE_TEAM = "manage_team"


ACTION_LABELS = {
    Action.VIEW: _("See the organisation's campaigns, open letters and their progress"),
    Action.MODERATE: _(
        "Moderate discussions: approve, hide and restore comments, block addresses, "
        "and choose each discussion's settings"
    ),
    Action.RUN_CAMPAIGNS: _(
        "Create, edit, publish and close campaigns and open letters; print letters and hand in open letters"
    ),
    Action.MANAGE_TEAM: _("Invite people, change their roles and remove them"),
}

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.ORGANISER: frozenset({Action.VIEW, Action.MODERATE, Action.RUN_CAMPAIGNS}),
    Role.MODERATOR: frozenset({Action.VIEW, Action.MODERATE}),
}


def roles_that(action: Action) -> list[str]:
    """The roles whose members may do ``action``."""
    return [str(role) for role, actions in ROLE_ACTIONS.items() if action in actions]


def is_operator(user: User) -> bool:
    """A platform operator: may do everything for every organisation (and use the admin)."""
    return bool(user.is_active and getattr(user, "is_superuser", False))


def is_member(user: User) -> bool:
    """Whether the user may use the organiser pages at all: an operator or a member of some organisation."""
    if is_operator(user):
        return True
    if not user.is_active or user.pk is None:
        return False
    return Membership.objects.filter(user_id=user.pk).exists()


def organiser_kind(user: User | None) -> str:
    """What the public pages' header shows of a visitor: ``"operator"`` (links to the
    dashboard and the operators' admin), ``"member"`` (a link to the dashboard) or ``""``.

    Also part of the key of the pages kept whole in each worker (``core/kept_pages.py``),
    so a page rendered for a member is never shown to anyone else. An anonymous visitor
    costs no query (the hot path): ``is_authenticated`` is read first. ``None`` is a
    request the authentication middleware never saw (an error page rendered early).
    """
    if user is None or not user.is_authenticated:
        return ""
    if is_operator(user):
        return "operator"
    return "member" if is_member(user) else ""


def has_two_factor(user: User) -> bool:
    """Whether the user signs in with an authenticator app (allauth.mfa's TOTP)."""
    if user.pk is None:
        return False
    return bool(Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists())


def _two_factor_met() -> Q:
    """Memberships whose organisation does not require two-factor, or whose user has it."""
    has_totp = Exists(Authenticator.objects.filter(user_id=OuterRef("user_id"), type=Authenticator.Type.TOTP))
    return Q(organisation__require_two_factor=False) | Q(has_totp)


def can(user: User, action: Action, organisation_id: int | None) -> bool:
    """Whether ``user`` may do ``action`` for the organisation ``organisation_id``."""
    if is_operator(user):
        return True
    if organisation_id is None or not user.is_active or user.pk is None:
        return False
    return (
        Membership.objects.filter(user_id=user.pk, organisation_id=organisation_id, role__in=roles_that(action))
        .filter(_two_factor_met())
        .exists()
    )


def organisation_ids(user: User, action: Action) -> list[int] | None:
    """The organisations for which ``user`` may do ``action``; None means every one (operators)."""
    if is_operator(user):
        return None
    if not user.is_active or user.pk is None:
        return []
    return list(
        Membership.objects.filter(user_id=user.pk, role__in=roles_that(action))
        .filter(_two_factor_met())
        .order_by("organisation_id")
        .values_list("organisation_id", flat=True)
    )


def organisations_missing_two_factor(user: User) -> list[Organisation]:
    """The organisations of which ``user`` is a member that require two-factor they haven't set up."""
    if is_operator(user) or not user.is_active or user.pk is None or has_two_factor(user):
        return []
    return list(Organisation.objects.filter(memberships__user_id=user.pk, require_two_factor=True).order_by("name"))


def scope[M: Model](queryset: QuerySet[M, Any], user: User, action: Action, *, via: str) -> QuerySet[M, Any]:
    """``queryset`` narrowed to the rows of organisations for which ``user`` may do ``action``.

    ``via`` is the lookup path from the queryset's model to its organisation, e.g.
    ``"organisation"`` for a campaign or ``"letter__campaign__organisation"`` for a
    delivery. One membership per user and organisation, so the join repeats no row.
    """
    if is_operator(user):
        return queryset
    if not user.is_active or user.pk is None:
        return queryset.none()
    path = f"{via}__memberships" if via else "memberships"  # via="" for organisations themselves
    # One filter() call: the role and the two-factor rule are about the same membership.
    conditions: dict[str, Any] = {f"{path}__user_id": user.pk, f"{path}__role__in": roles_that(action)}
    if not has_two_factor(user):
        conditions[f"{path}__organisation__require_two_factor"] = False
    return queryset.filter(**conditions)
