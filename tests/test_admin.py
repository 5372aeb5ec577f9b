"""The Django admin is for the platform's operators: every page opens for them, and for nobody else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.factories import LetterFactory, MembershipFactory, UserFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery.services import record_delivery
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


def test_every_admin_list_and_change_page_opens(client: Client, organiser: Any, campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign)
    record_delivery(letter=letter, recipient=campaign.recipients.first(), channel=Channel.MAILTO)
    client.force_login(organiser)
    for model, _ in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        first = model._default_manager.first()
        if first is not None:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert change.status_code == 200, info


def test_only_operators_open_the_admin(client: Client, stranger: Any, organisation: Any) -> None:
    url = reverse("admin:campaigns_campaign_changelist")
    response = client.get(url)
    assert response.status_code == 302  # a visitor is asked to sign in
    assert response["Location"].startswith("/admin/login/")
    client.force_login(stranger)
    assert client.get(url).status_code == 403
    # An organisation's own staff organiser, not an operator: the admin knows no
    # organisations, so it would show every other organisation's data.
    member = UserFactory(username="staff-organiser", is_staff=True)
    MembershipFactory(organisation=organisation, user=member, role=Role.OWNER)
    client.force_login(member)
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:index")).status_code == 403
