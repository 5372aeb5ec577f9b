"""The Django admin, for the platform's operators only.

The admin shows every organisation's campaigns, letters, open letters and supporters'
email addresses: it has no idea of organisations. So only operators (active
superusers, ``access.is_operator``) may use it; organisers work in the dashboard,
where ``organisations.access`` scopes everything. A signed-in person who is not an
operator gets a plain 403 instead of the admin's sign-in page again. The admin's
sign-in page itself stays open: it is where organisers sign in for the dashboard
(``LOGIN_URL``) until the workspace has its own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from . import access


class OperatorsAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return access.is_operator(request.user)

    def admin_view[V: Callable[..., Any]](self, view: V, cacheable: bool = False) -> V:
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def refuse_members(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The admin is for the platform's operators.")
            response: HttpResponseBase = inner(request, *args, **kwargs)
            return response

        return cast(V, refuse_members)
