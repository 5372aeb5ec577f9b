"""allauth's account pages as the dashboard's sign-in: where a member lands after signing in."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from undersigned.organisations import access


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no type hints
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Members of an organisation go to the dashboard; everyone else where allauth sends them.

        A ``?next=`` (e.g. the dashboard page that asked them to sign in) comes first: allauth
        only asks here when there is none.
        """
        if access.is_member(request.user):
            return reverse("dashboard:index")
        return str(super().get_login_redirect_url(request))
