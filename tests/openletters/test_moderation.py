"""Organisers moderate endorsements from the dashboard: hide and restore with a reason,
feature, switch the proof of work; every act is in the audit log. Others get a 404."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory
from undersigned.core.models import ActionLog
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import endorsing
from undersigned.organisations.models import Role


def _endorsement(letter: OpenLetter, name: str = "Fake Name") -> Endorsement:
    return endorsing.record_confirmed(
        letter=letter,
        data=endorsing.EndorsementInput(
            name=name, country="IE", email=f"{name.split(maxsplit=1)[0].lower()}@example.org"
        ),
    )


def test_organiser_hides_and_restores_with_reason(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    fake = _endorsement(open_letter)
    client.force_login(organiser)
    page = client.get(reverse("dashboard:open_letter", args=[open_letter.slug]))
    assert "Fake Name" in page.content.decode()

    url = reverse("dashboard:endorsement_hide", args=[open_letter.slug, fake.pk])
    response = client.post(url, {"reason": "fake"})
    assert response.status_code == 302
    open_letter.refresh_from_db()
    assert open_letter.verified_count == 0
    public = client.get(reverse("openletters:letter", args=[open_letter.slug])).content.decode()
    assert "Fake Name" not in public
    log = ActionLog.objects.get(action="endorsement.hidden")
    assert (log.actor, log.object_id, log.data["reason"]) == (organiser, str(fake.pk), "fake")
    hidden_view = client.get(reverse("dashboard:open_letter", args=[open_letter.slug]), {"view": "hidden"})
    assert "Hidden: fake" in hidden_view.content.decode()

    client.post(reverse("dashboard:endorsement_restore", args=[open_letter.slug, fake.pk]), {"reason": "other"})
    open_letter.refresh_from_db()
    assert open_letter.verified_count == 1
    assert ActionLog.objects.filter(action="endorsement.restored", actor=organiser).count() == 1
    assert "Fake Name" in client.get(reverse("openletters:letter", args=[open_letter.slug])).content.decode()


def test_hide_needs_a_known_reason(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    fake = _endorsement(open_letter)
    client.force_login(organiser)
    client.post(reverse("dashboard:endorsement_hide", args=[open_letter.slug, fake.pk]), {"reason": "<b>x</b>"})
    fake.refresh_from_db()
    assert not fake.hidden


def test_pow_switch_and_feature_are_logged(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    star = _endorsement(open_letter, "Star Walker")
    client.force_login(organiser)
    client.post(reverse("dashboard:open_letter_pow", args=[open_letter.slug]), {"pow_required": "1"})
    open_letter.refresh_from_db()
    assert open_letter.pow_required
    client.post(reverse("dashboard:endorsement_feature", args=[open_letter.slug, star.pk]), {"featured": "1"})
    star.refresh_from_db()
    assert star.featured
    assert set(ActionLog.objects.filter(actor=organiser).values_list("action", flat=True)) == {
        "open_letter.pow_required",
        "endorsement.featured",
    }


def test_strangers_and_visitors_cannot_moderate(client: Client, open_letter: OpenLetter, stranger: Any) -> None:
    fake = _endorsement(open_letter)
    url = reverse("dashboard:endorsement_hide", args=[open_letter.slug, fake.pk])
    assert client.post(url, {"reason": "fake"}).status_code == 302  # to the sign-in page
    # An owner of another organisation: for them this letter does not exist.
    MembershipFactory(organisation=OrganisationFactory(slug="elsewhere"), user=stranger, role=Role.OWNER)
    client.force_login(stranger)
    assert client.post(url, {"reason": "fake"}).status_code == 404
    assert client.get(reverse("dashboard:open_letter", args=[open_letter.slug])).status_code == 404
    fake.refresh_from_db()
    assert not fake.hidden
