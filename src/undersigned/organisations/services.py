"""Writes to organisations: the team (invitations, roles, removals) and the organisation's settings.

Every function is keyword-only, runs in its own transaction, asks ``access`` whether the
actor may do it, and writes an ``ActionLog`` row with ids and kinds only (never an
address). The rules that keep an organisation usable live here: it always keeps at
least one owner, and an address has at most one open invitation per organisation.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.utils import generate_unique_username
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.mail import mailers
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from undersigned.core.models import log_action

from . import access
from .access import Action, User
from .emails import invitation_message
from .links import LinkInvalid, read_invitation_token
from .models import Invitation, Membership, Organisation, Role

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7


class TeamError(Exception):
    """A change the team's rules don't allow; the message says why, for the person who tried."""


LAST_OWNER = _("An organisation needs at least one owner: make someone else an owner first.")


def _require(actor: User, action: Action, organisation_id: int) -> None:
    if not access.can(actor, action, organisation_id):
        raise PermissionDenied("Not allowed for this organisation.")


def _email_key(email: str) -> str:
    return email.strip().lower()


def _is_last_owner(membership: Membership) -> bool:
    """Whether ``membership`` is its organisation's only owner (the owners' rows are locked)."""
    if membership.role != Role.OWNER:
        return False
    owners = list(
        Membership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    return owners == [membership.pk]


# --- Invitations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteResult:
    invitation: Invitation
    created: bool  # False: the address's open invitation was sent again


def invite(*, organisation: Organisation, email: str, role: str, actor: User) -> InviteResult:
    """Invite ``email`` to ``organisation`` with ``role`` and send the email once that is saved.

    An address that already has an open invitation gets that one again, with the role
    chosen now, a new expiry and a new link (the old link stops working): inviting twice
    never makes two invitations. A member's address is refused.
    """
    _require(actor, Action.MANAGE_TEAM, organisation.pk)
    key = _email_key(email)
    role = Role(role)
    now = timezone.now()
    with transaction.atomic():
        if Membership.objects.filter(organisation=organisation, user__email__iexact=key).exists():
            raise TeamError(_("This person is already a member of the organisation."))
        invitation = (
            Invitation.objects.select_for_update()
            .filter(organisation=organisation, email_key=key, accepted_at=None, revoked_at=None)
            .first()
        )
        created = invitation is None
        if invitation is None:
            invitation = Invitation(organisation=organisation, email=email.strip(), email_key=key)
        invitation.role = role
        invitation.nonce = secrets.token_urlsafe(16)
        invitation.invited_by_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        invitation.expires_at = now + timedelta(days=INVITATION_DAYS)
        invitation.sent_at = None
        invitation.save()
        log_action(
            "invitation.created" if created else "invitation.renewed",
            invitation,
            actor=actor,
            organisation=organisation.pk,
            role=str(role),
        )
    # Saved first, then sent: a mail server that fails leaves an invitation to send again.
    if send_invitation(invitation_id=invitation.pk):
        invitation.refresh_from_db(fields=["sent_at"])
    return InviteResult(invitation=invitation, created=created)


def send_invitation(*, invitation_id: int) -> bool:
    """Email an open invitation its link; True if the mail server took it.

    Sent in the request, after the invitation is saved (an owner invites a handful of
    people, not thousands). A failure is logged without the address and left for the
    owner to see on the team page ("not sent yet") and send again.
    """
    invitation = Invitation.objects.select_related("organisation").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open(timezone.now()):
        return False
    try:
        mailers.default.send_messages([invitation_message(invitation)])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("invitation %s not sent: %s", invitation_id, type(exc).__name__)
        return False
    Invitation.objects.filter(pk=invitation_id, nonce=invitation.nonce).update(sent_at=timezone.now())
    return True


def revoke_invitation(*, invitation: Invitation, actor: User) -> bool:
    """Withdraw an invitation; its link then opens nothing. False if it was no longer open."""
    _require(actor, Action.MANAGE_TEAM, invitation.organisation_id)
    with transaction.atomic():
        changed = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if changed:
            log_action("invitation.revoked", invitation, actor=actor, organisation=invitation.organisation_id)
    return bool(changed)


class InvitationProblem(Exception):
    """Why an invitation link opens nothing: ``reason`` is invalid, expired, revoked or used."""

    def __init__(self, reason: str, invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def invitation_for_token(token: str) -> Invitation:
    """The open invitation a link stands for, or ``InvitationProblem`` saying why not."""
    try:
        invitation_id, nonce = read_invitation_token(token)
    except LinkInvalid:
        raise InvitationProblem("invalid") from None
    invitation = Invitation.objects.select_related("organisation").filter(pk=invitation_id).first()
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        raise InvitationProblem("invalid")  # unknown, or replaced by a newer email
    if invitation.accepted_at is not None:
        raise InvitationProblem("used", invitation)
    if invitation.revoked_at is not None:
        raise InvitationProblem("revoked", invitation)
    if invitation.expires_at <= timezone.now():
        raise InvitationProblem("expired", invitation)
    return invitation


def account_exists(email: str) -> bool:
    """Whether someone already has an account with this address (then they sign in to accept)."""
    users = get_user_model().objects.filter(email__iexact=email.strip())
    return users.exists() or EmailAddress.objects.filter(email__iexact=email.strip()).exists()


def accept_invitation(*, invitation: Invitation, user: Any) -> Membership:
    """``user`` (signed in, with the invited address) joins with the invited role.

    Idempotent: pressing Accept twice, or a second tab, finds the invitation used by
    this same person and returns their membership. Someone who is already a member
    keeps the role they have.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        existing = Membership.objects.filter(organisation_id=locked.organisation_id, user_id=user.pk).first()
        if locked.accepted_at is not None and locked.accepted_by_id == user.pk and existing is not None:
            return existing
        if not locked.is_open(timezone.now()) or locked.nonce != invitation.nonce:
            raise InvitationProblem("used" if locked.accepted_at else "invalid", locked)
        if _email_key(getattr(user, "email", "")) != locked.email_key:
            raise PermissionDenied("The invitation is for another address.")
        membership = existing
        if membership is None:
            membership = Membership.objects.create(organisation_id=locked.organisation_id, user=user, role=locked.role)
            log_action("membership.created", membership, actor=user, role=membership.role, invitation=locked.pk)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        log_action("invitation.accepted", locked, actor=user, organisation=locked.organisation_id)
        # The link proves the address: mark it verified, so sign-in doesn't ask again.
        EmailAddress.objects.filter(user=user, email__iexact=locked.email).update(verified=True)
    return membership


def create_account_and_accept(*, invitation: Invitation, password: str) -> tuple[Any, Membership]:
    """A new account for the invited address (verified: the link proves it), and its membership.

    The password has been checked by the form (``AUTH_PASSWORD_VALIDATORS``).
    """
    user_model = get_user_model()
    with transaction.atomic():
        if account_exists(invitation.email):
            raise TeamError(_("An account with this address exists already: sign in to accept the invitation."))
        email = invitation.email.lower()  # as allauth keeps addresses, so signing in finds it
        user = user_model(username=generate_unique_username([email.split("@", 1)[0], "member"]), email=email)
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        log_action("user.created", user, invitation=invitation.pk)
        membership = accept_invitation(invitation=invitation, user=user)
    return user, membership


# --- Members ---------------------------------------------------------------------------------


def change_role(*, membership: Membership, role: str, actor: User) -> bool:
    """Give a member another role; False if it was already theirs. The last owner stays owner."""
    _require(actor, Action.MANAGE_TEAM, membership.organisation_id)
    role = Role(role)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == role:
            return False
        if _is_last_owner(locked):
            raise TeamError(LAST_OWNER)
        previous = locked.role
        locked.role = role
        locked.save(update_fields=["role", "updated_at"])
        log_action("membership.role_changed", locked, actor=actor, previous=str(previous), role=str(role))
    membership.role = role
    return True


def remove_member(*, membership: Membership, actor: User) -> bool:
    """Take someone off the team; False if they had gone already. The last owner stays."""
    _require(actor, Action.MANAGE_TEAM, membership.organisation_id)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if locked is None:
            return False
        if _is_last_owner(locked):
            raise TeamError(LAST_OWNER)
        log_action(
            "membership.removed", locked, actor=actor, organisation=locked.organisation_id, role=str(locked.role)
        )
        locked.delete()
    return True


# --- The organisation's settings ------------------------------------------------------------


def set_require_two_factor(*, organisation: Organisation, required: bool, actor: User) -> bool:
    """Require (or stop requiring) two-factor sign-in of every member; False if unchanged.

    Only someone who uses two-factor themselves may require it, so nobody locks the
    organisation's pages in front of themselves by accident.
    """
    _require(actor, Action.MANAGE_TEAM, organisation.pk)
    if required and not access.has_two_factor(actor) and not access.is_operator(actor):
        raise TeamError(_("Set up two-factor sign-in for your own account first."))
    with transaction.atomic():
        changed = Organisation.objects.filter(pk=organisation.pk).exclude(require_two_factor=required)
        if not changed.update(require_two_factor=required):
            return False
        log_action("organisation.two_factor_required", organisation, actor=actor, required=required)
    organisation.require_two_factor = required
    return True
