"""Open letters in the Django admin: the pages open, and editing a published letter's
text there makes a new version (with the audit log naming the organiser)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from undersigned.core.models import ActionLog
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import endorsing


def test_admin_pages_open_and_an_edit_makes_a_version(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    endorsement = endorsing.record_confirmed(
        letter=open_letter, data=endorsing.EndorsementInput(name="Aoife Byrne", email="a@example.org")
    )
    client.force_login(organiser)
    assert client.get(reverse("admin:openletters_endorsement_change", args=[endorsement.pk])).status_code == 200
    url = reverse("admin:openletters_openletter_change", args=[open_letter.pk])
    assert client.get(url).status_code == 200
    data = {
        "organisation": open_letter.organisation_id,
        "slug": open_letter.slug,
        "title": open_letter.title,
        "summary": "",
        "text": open_letter.text + "\n\nPlease reply before the vote.",
        "status": "published",
        "language": "en",
        "tags": "[]",
        "authors": "[]",
        "recipient_group": open_letter.recipient_group_id,
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "1",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
        "versions-0-id": open_letter.current_version_id,
        "versions-0-letter": open_letter.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    open_letter.refresh_from_db()
    assert open_letter.current_version is not None
    assert open_letter.current_version.number == 2
    assert open_letter.current_version.text.endswith("Please reply before the vote.")
    log = ActionLog.objects.get(action="open_letter.version", data__version=2)
    assert log.actor == organiser
