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
    return {
        "member": True,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "current": match.view_name if match else "",
        "current_org": (match.kwargs.get("org_slug", "") if match else ""),
        "organisation": organisations[0] if len(organisations) == DIRECT_TEAM_LINKS else None,
        "demo_mailbox": settings.DEMO_MODE and access.is_operator(user),
    }
