"""The Django admin is for the platform's operators: every page opens for them, and for nobody else."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.factories import LetterFactory, MembershipFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import LetterText
from undersigned.openletters.models import OpenLetter
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


def test_every_admin_list_and_change_page_opens(client: Client, organiser: Any, campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign, version_languages="fr")
    LetterText.objects.create(letter=letter, language="fr", subject="Gardez le chemin", body="Madame, Monsieur")
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


def test_text_saved_in_the_admin_is_stored_with_plain_line_ends(client: Client, organiser: Any) -> None:
    # Browsers send CRLF. An unchanged open letter saved in the admin must make no new
    # version, and no \r may reach the stored text (and so exports and emails). The
    # campaign, template and recipient admins use the same override (TEXT_AS_LINES).
    letter = make_open_letter(organiser.memberships.first().organisation)
    assert letter.current_version is not None
    client.force_login(organiser)
    url = reverse("admin:openletters_openletter_change", args=[letter.pk])
    model_admin = admin.site._registry[OpenLetter]
    request = RequestFactory().get(url)
    request.user = organiser
    fields = model_admin.get_form(request, letter).base_fields
    data: dict[str, Any] = {}
    for name, value in model_to_dict(letter, fields=list(fields)).items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = [getattr(item, "pk", item) for item in value] if name == "recipients" else json.dumps(value)
        elif value is not None:
            data[name] = value
    data.update(
        {
            "summary": "One line.\r\nAnother line.",
            "text": letter.text.replace("\n", "\r\n"),
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(letter.current_version.pk),
            "versions-0-letter": str(letter.pk),
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, re.findall(
        r'<ul class="errorlist[^>]*>.*?</ul>', response.content.decode(), re.S
    )
    letter.refresh_from_db()
    assert "\r" not in letter.text
    assert letter.summary == "One line.\nAnother line."
    assert letter.versions.count() == 1  # nothing changed but the line ends: no new version
