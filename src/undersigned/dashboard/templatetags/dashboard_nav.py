"""``{% dashboard_nav %}``: the dashboard's navigation, the same on every organiser page."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from undersigned.organisations import access
from undersigned.organisations.access import Action
from undersigned.organisations.models import Organisation

register = template.Library()

# More organisations than this and the navigation links to the list of them instead.
DIRECT_TEAM_LINKS = 1


@register.inclusion_tag("dashboard/_nav.html", takes_context=True)
def dashboard_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not access.is_member(user):
        return {"member": False}
    match = getattr(request, "resolver_match", None)
    organisations = list(access.scope(Organisation.objects.order_by("name"), user, Action.VIEW, via="")[:2])
    only = organisations[0] if len(organisations) == DIRECT_TEAM_LINKS else None
    return {
        "member": True,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "current": match.view_name if match else "",
        "current_org": (match.kwargs.get("organisation", "") if match else ""),
        "organisation": only,
        # With one organisation, its recipients and campaign files are one click away
        # (with several, the dashboard's index links each organisation's).
        "runs_campaigns": only is not None and access.can(user, Action.RUN_CAMPAIGNS, only.pk),
        "demo_mailbox": settings.DEMO_MODE and access.is_operator(user),
    }
