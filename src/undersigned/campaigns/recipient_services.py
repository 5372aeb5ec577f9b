"""Writes for an organisation's recipients and recipient groups, from the workspace.

Beside ``services.py`` (campaign files, campaign writes): one recipient created, edited
or deleted, a group made, renamed, its members and their vote weights, and a recipients
CSV applied (``plan_import`` shows what it would change, ``apply_import`` does it in one
transaction). Recipients are checked by the campaign file's rule
(``campaign_files.check_recipient``) before they reach here; these functions keep the
rules that need the database: the group limit, deletions that would break a live
campaign or lose letters, the stamps of kept pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.core.models import log_action
from undersigned.organisations.models import Organisation

from .campaign_files import RecipientData
from .enums import CampaignStatus
from .models import Recipient, RecipientGroup, RecipientGroupMember
from .recipient_csv import CsvRow
from .services import fill_recipient, recipient_data
from .signals import touch_campaigns

# The fields a CSV row sets, with the words the preview uses for each.
CSV_FIELDS: dict[str, str] = {
    "name": "name",
    "role": "role",
    "organisation_name": "organisation",
    "email": "email",
    "web_form_url": "web form",
    "postal_address": "postal address",
    "country": "country",
    "language": "language",
}


class RecipientRefused(Exception):
    """A write the rules refuse, with a message for the person who asked."""


# --- One recipient ---------------------------------------------------------------------


def create_recipient(*, organisation: Organisation, data: RecipientData, actor: Any) -> Recipient:
    with transaction.atomic():
        recipient = Recipient(organisation=organisation)
        fill_recipient(recipient=recipient, entry=data)
        recipient.save()
        log_action("recipient.created", recipient, actor=actor, organisation=organisation.pk)
    return recipient


def update_recipient(*, recipient: Recipient, data: RecipientData, actor: Any) -> bool:
    """Save the recipient's new values; False (and nothing written) when nothing changed."""
    if recipient_data(recipient) == data:
        return False
    with transaction.atomic():
        fill_recipient(recipient=recipient, entry=data)
        recipient.save()  # its signal moves the stamps of the campaigns that list it
        _touch_groups(Recipient.objects.filter(pk=recipient.pk).values_list("groups", flat=True))
        log_action("recipient.updated", recipient, actor=actor)
    return True


@dataclass(frozen=True)
class Usage:
    """Where a recipient is used: what the delete page shows, and why a delete is refused."""

    live_campaigns: list[str]
    other_campaigns: list[str]
    open_letters: list[str]
    groups: list[str]
    deliveries: int

    @property
    def refusal(self) -> str:
        if self.deliveries:
            return _(
                "Letters went to this recipient, so it stays: the campaign's record of deliveries needs it. "
                "Correct its details instead."
            )
        if self.live_campaigns:
            return _("A live campaign writes to this recipient. Remove it from the campaign first.")
        if self.open_letters:
            return _("An open letter is addressed to this recipient. Remove it from the letter first.")
        return ""


def usage(recipient: Recipient) -> Usage:
    campaigns = list(recipient.campaigns.order_by("title").values_list("title", "status"))
    return Usage(
        live_campaigns=[title for title, status in campaigns if status == CampaignStatus.LIVE],
        other_campaigns=[title for title, status in campaigns if status != CampaignStatus.LIVE],
        open_letters=list(recipient.open_letters.order_by("title").values_list("title", flat=True)),
        groups=list(recipient.groups.order_by("name").values_list("name", flat=True)),
        deliveries=recipient.deliveries.count(),
    )


def delete_recipient(*, recipient: Recipient, actor: Any) -> None:
    """Delete a recipient no letter went to and no live campaign or open letter uses.

    It leaves draft and closed campaigns and its groups. Refused otherwise with
    ``RecipientRefused``: deliveries keep their recipient (the evidence of what was sent).
    """
    with transaction.atomic():
        recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
        refusal = usage(recipient).refusal
        if refusal:
            raise RecipientRefused(refusal)
        campaign_ids = list(recipient.campaigns.values_list("pk", flat=True))
        group_ids = list(recipient.groups.values_list("pk", flat=True))
        pk, organisation_id = recipient.pk, recipient.organisation_id
        recipient.delete()  # its links' signals move the campaigns' stamps
        touch_campaigns(pk__in=campaign_ids)
        _touch_groups(group_ids)
        log_action("recipient.deleted", Organisation(pk=organisation_id), actor=actor, recipient=pk)


# --- Groups ----------------------------------------------------------------------------


def _touch_groups(group_ids: Iterable[int | None]) -> None:
    """Move the stamps of open letters addressed to these groups (their pages list the members)."""
    ids = [pk for pk in group_ids if pk is not None]
    if ids:
        # Campaign pages show no groups; this is the open letters' stamp itself.
        stamp = timezone.now()
        RecipientGroup.objects.filter(pk__in=ids).update(updated_at=stamp)  # not on public pages: the stamp itself


def create_group(*, organisation: Organisation, name: str, decision_date: date | None, actor: Any) -> RecipientGroup:
    with transaction.atomic():
        group = RecipientGroup.objects.create(organisation=organisation, name=name, decision_date=decision_date)
        log_action("recipient_group.created", group, actor=actor, organisation=organisation.pk)
    return group


def update_group(*, group: RecipientGroup, name: str, decision_date: date | None, actor: Any) -> None:
    with transaction.atomic():
        group.name = name
        group.decision_date = decision_date
        group.save(update_fields=["name", "decision_date", "updated_at"])
        log_action("recipient_group.updated", group, actor=actor)


def _check_group_size(group: RecipientGroup, adding: int) -> None:
    most = settings.RECIPIENT_GROUP_MEMBERS_MAX
    count = RecipientGroupMember.objects.filter(group=group).count()
    if count + adding > most:
        raise RecipientRefused(
            _("A group has at most %(most)s members; %(name)s would have %(count)s.")
            % {"most": most, "name": group.name, "count": count + adding}
        )


def add_member(*, group: RecipientGroup, recipient: Recipient, vote_weight: int, actor: Any) -> None:
    """Put ``recipient`` in ``group`` with ``vote_weight``, or set its weight if it is in already."""
    with transaction.atomic():
        group = RecipientGroup.objects.select_for_update().get(pk=group.pk)
        member = RecipientGroupMember.objects.filter(group=group, recipient=recipient).first()
        if member is None:
            _check_group_size(group, 1)
            RecipientGroupMember.objects.create(group=group, recipient=recipient, vote_weight=vote_weight)
        elif member.vote_weight != vote_weight:
            member.vote_weight = vote_weight
            member.save(update_fields=["vote_weight"])
        else:
            return
        _touch_groups([group.pk])
        log_action("recipient_group.member_set", group, actor=actor, recipient=recipient.pk, vote_weight=vote_weight)


def set_members(*, group: RecipientGroup, weights: dict[int, int], remove: Sequence[int], actor: Any) -> int:
    """Change members' vote weights (by recipient id) and remove some; returns how many changed."""
    with transaction.atomic():
        members = {m.recipient_id: m for m in RecipientGroupMember.objects.select_for_update().filter(group=group)}
        gone = [pk for pk in remove if pk in members]
        kept = {pk: weight for pk, weight in weights.items() if pk in members and pk not in gone}
        changed = [members[pk] for pk, weight in kept.items() if members[pk].vote_weight != weight]
        for member in changed:
            member.vote_weight = weights[member.recipient_id]
        RecipientGroupMember.objects.bulk_update(changed, ["vote_weight"])  # not on public pages: _touch_groups below
        RecipientGroupMember.objects.filter(group=group, recipient_id__in=gone).delete()
        if changed or gone:
            _touch_groups([group.pk])
            log_action(
                "recipient_group.members_changed",
                group,
                actor=actor,
                weights={m.recipient_id: m.vote_weight for m in changed},
                removed=gone,
            )
    return len(changed) + len(gone)


# --- A recipients CSV ------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRow:
    row: int
    data: RecipientData
    outcome: str  # "new", "updated" or "unchanged"
    recipient_id: int | None
    changed: tuple[str, ...]  # the fields an update changes, in the preview's words
    group: str  # "" (no group, or no change), "added" or "weight"
    vote_weight: int  # in the group after the import (when there is a group)


@dataclass(frozen=True)
class ImportPlan:
    rows: list[PlannedRow]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def group_changes(self) -> int:
        return sum(1 for row in self.rows if row.group)


def _csv_values(recipient: Recipient) -> dict[str, str]:
    return {field: str(getattr(recipient, field)) for field in CSV_FIELDS}


def _entry_values(data: RecipientData) -> dict[str, str]:
    return {
        "name": data.name,
        "role": data.role,
        "organisation_name": data.organisation,
        "email": data.email,
        "web_form_url": data.web_form_url,
        "postal_address": data.postal_address,
        "country": data.country,
        "language": data.language,
    }


def plan_import(*, organisation: Organisation, rows: Sequence[CsvRow], group: RecipientGroup | None) -> ImportPlan:
    """What applying ``rows`` would change, row by row; writes nothing.

    A row is the organisation's recipient with the same email (case ignored; among
    several, the one with the same name), or without an email the one with the same
    name and organisation (one without an email first). Each existing recipient is
    matched by one row at most.
    """
    existing = list(Recipient.objects.filter(organisation=organisation).order_by("pk"))
    by_email: dict[str, list[Recipient]] = {}
    by_name: dict[tuple[str, str], list[Recipient]] = {}
    for recipient in existing:
        if recipient.email:
            by_email.setdefault(recipient.email.casefold(), []).append(recipient)
        by_name.setdefault((recipient.name, recipient.organisation_name), []).append(recipient)
    weights: dict[int, int] = {}
    if group is not None:
        weights = dict(RecipientGroupMember.objects.filter(group=group).values_list("recipient_id", "vote_weight"))
    used: set[int] = set()
    planned = []
    for row in rows:
        data = row.data
        if data.email:
            candidates = by_email.get(data.email.casefold(), [])
            candidates = sorted(candidates, key=lambda r: r.name != data.name)
        else:
            candidates = sorted(by_name.get((data.name, data.organisation), []), key=lambda r: bool(r.email))
        match = next((r for r in candidates if r.pk not in used), None)
        group_change, weight = "", row.vote_weight or 1
        changed: tuple[str, ...] = ()
        if match is None:
            outcome = "new"
            group_change = "added" if group is not None else ""
        else:
            used.add(match.pk)
            before, after = _csv_values(match), _entry_values(data)
            changed = tuple(CSV_FIELDS[f] for f in CSV_FIELDS if before[f] != after[f])
            outcome = "updated" if changed else "unchanged"
            if group is not None:
                if match.pk not in weights:
                    group_change = "added"
                elif row.vote_weight is None:
                    weight = weights[match.pk]  # an empty cell keeps the weight
                elif weights[match.pk] != row.vote_weight:
                    group_change = "weight"
        planned.append(
            PlannedRow(
                row=row.row,
                data=data,
                outcome=outcome,
                recipient_id=match.pk if match else None,
                changed=changed,
                group=group_change,
                vote_weight=weight,
            )
        )
    return ImportPlan(planned)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    group: RecipientGroup | None
    group_changes: int


def apply_import(
    *,
    organisation: Organisation,
    rows: Sequence[CsvRow],
    group: RecipientGroup | None = None,
    new_group_name: str = "",
    actor: Any,
) -> ImportResult:
    """Create and update the rows' recipients, and put them in a group, all at once.

    Planned again inside the transaction, on the rows as they are now, so applying the
    same preview twice changes nothing the second time. A recipient's pace and digest
    (not CSV columns) keep their values. Refused with ``RecipientRefused`` (nothing
    written) when the group would outgrow its limit.
    """
    with transaction.atomic():
        # One import at a time per organisation: two at once could both create a row.
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if new_group_name:
            group = RecipientGroup.objects.create(organisation=organisation, name=new_group_name)
            log_action("recipient_group.created", group, actor=actor, organisation=organisation.pk)
        plan = plan_import(organisation=organisation, rows=rows, group=group)
        current = Recipient.objects.in_bulk([p.recipient_id for p in plan.rows if p.recipient_id is not None])
        created: list[Recipient] = []
        updated: list[Recipient] = []
        for planned in plan.rows:
            if planned.outcome == "unchanged":
                continue
            recipient = current[planned.recipient_id] if planned.recipient_id else Recipient(organisation=organisation)
            entry = replace(
                planned.data,
                max_emails_per_minute=recipient.max_emails_per_minute or 0,
                daily_digest=recipient.daily_digest and bool(planned.data.email),
            )
            fill_recipient(recipient=recipient, entry=entry)
            (updated if recipient.pk else created).append(recipient)
        now = timezone.now()
        for recipient in updated:
            recipient.updated_at = now
        Recipient.objects.bulk_create(created)  # new: on no campaign yet
        Recipient.objects.bulk_update(updated, [*CSV_FIELDS, "email_flagged_at", "daily_digest", "updated_at"])
        touch_campaigns(recipients__in=[r.pk for r in updated])
        _touch_groups(RecipientGroupMember.objects.filter(recipient__in=updated).values_list("group_id", flat=True))
        changes = 0
        if group is not None:
            changes = _apply_group(group=group, plan=plan, created=created)
        log_action(
            "recipients.imported",
            organisation,
            actor=actor,
            created=[r.pk for r in created],
            updated=[r.pk for r in updated],
            group=group.pk if group else None,
        )
    return ImportResult(
        created=len(created),
        updated=len(updated),
        unchanged=plan.count("unchanged"),
        group=group,
        group_changes=changes,
    )


def _apply_group(*, group: RecipientGroup, plan: ImportPlan, created: list[Recipient]) -> int:
    new_ids = iter(r.pk for r in created)
    members = {m.recipient_id: m for m in RecipientGroupMember.objects.filter(group=group)}
    adding: list[RecipientGroupMember] = []
    reweighed: list[RecipientGroupMember] = []
    for planned in plan.rows:
        recipient_id = planned.recipient_id if planned.recipient_id is not None else next(new_ids)
        if planned.group == "added":
            adding.append(RecipientGroupMember(group=group, recipient_id=recipient_id, vote_weight=planned.vote_weight))
        elif planned.group == "weight":
            member = members[recipient_id]
            member.vote_weight = planned.vote_weight
            reweighed.append(member)
    _check_group_size(group, len(adding))
    RecipientGroupMember.objects.bulk_create(adding)  # not on public pages: _touch_groups below
    RecipientGroupMember.objects.bulk_update(reweighed, ["vote_weight"])  # not on public pages: _touch_groups below
    if adding or reweighed:
        _touch_groups([group.pk])
    return len(adding) + len(reweighed)
