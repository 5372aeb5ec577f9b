"""Organisers manage campaigns in the Django admin: every page there opens."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.factories import LetterFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery.services import record_delivery

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


def test_strangers_cannot_open_the_admin(client: Client, stranger: Any) -> None:
    client.force_login(stranger)
    response = client.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
