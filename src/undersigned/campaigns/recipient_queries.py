"""Reads for an organisation's recipients and recipient groups (the workspace's pages)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from undersigned.organisations.models import Organisation

from .models import Recipient, RecipientGroup, RecipientGroupMember

SEARCH_MAX_CHARS = 100


def organisation_recipients(organisation: Organisation, search: str = "") -> QuerySet[Recipient]:
    """The organisation's recipients by name; ``search`` finds a part of the name, any case.

    Matched in Python on the names alone: SQLite's LIKE ignores case only for ASCII, and
    "šimůnk" must find "Šimůnková". One organisation's names are a few thousand short
    strings, read only when someone searches.
    """
    recipients = Recipient.objects.filter(organisation=organisation).order_by("name", "pk")
    wanted = search.strip()[:SEARCH_MAX_CHARS].casefold()
    if not wanted:
        return recipients
    names = recipients.values_list("pk", "name").iterator(chunk_size=2000)
    return recipients.filter(pk__in=[pk for pk, name in names if wanted in name.casefold()])


def organisation_groups(organisation: Organisation) -> QuerySet[RecipientGroup]:
    """The organisation's groups by name, each with ``member_count`` (at most a few hundred each)."""
    return (
        RecipientGroup.objects.filter(organisation=organisation)
        .annotate(member_count=Count("recipientgroupmember"))
        .order_by("name", "pk")
    )


def group_members(group: RecipientGroup) -> QuerySet[RecipientGroupMember]:
    members = RecipientGroupMember.objects.filter(group=group).select_related("recipient")
    return members.order_by("recipient__name", "pk")


def memberships(recipient: Recipient) -> QuerySet[RecipientGroupMember]:
    return RecipientGroupMember.objects.filter(recipient=recipient).select_related("group").order_by("group__name")
