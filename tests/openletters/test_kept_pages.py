"""The open letter's pages kept in each worker (``public/open_letter_cache``, ``core/kept_pages``)
and the endorsement's one-statement write on PostgreSQL: what a visitor sees stays
per visitor and follows every edit; a new endorsement writes the same rows either way.
Run on SQLite and on PostgreSQL (``DATABASE_URL``), which takes the one-statement path."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from tests.openletters.conftest import form_data
from undersigned.core import abuse
from undersigned.core.models import ActionLog
from undersigned.openletters.models import Endorsement, EndorsementStatus, OpenLetter
from undersigned.openletters.services import endorsing, moderation


def _values(response: Any) -> tuple[str, str, str]:
    page = response.content.decode()
    started = re.search(r'name="form_started" value="([^"]+)"', page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    nonces = set(re.findall(r'nonce="([^"]+)"', page))
    assert started is not None
    assert token is not None
    assert len(nonces) == 1
    (nonce,) = nonces
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert abuse._started_at(started.group(1)) is not None
    return started.group(1), token.group(1), nonce


def test_each_visitor_gets_their_own_token_time_and_nonce_and_can_endorse(open_letter: OpenLetter) -> None:
    url = reverse("openletters:endorse", args=[open_letter.slug])
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    seen = [_values(client.get(url)) for client in (first, second)]
    assert all(a != b for a, b in zip(*seen, strict=True))  # nothing shared between visitors
    started, token, _nonce = seen[0]
    response = first.post(url, {**form_data(), "csrfmiddlewaretoken": token, "form_started": started, "homepage": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("openletters:sent", args=[open_letter.slug])


def test_a_new_endorsement_waits_with_its_audit_row(client: Client, open_letter: OpenLetter) -> None:
    url = reverse("openletters:endorse", args=[open_letter.slug])
    assert client.post(url, form_data(statement="Buses bring walkers.")).status_code == 302
    endorsement = Endorsement.objects.get()
    assert endorsement.status == EndorsementStatus.PENDING
    assert endorsement.email_normalised == "siobhan@example.ie"
    assert endorsement.search_text == "siobhanobrien friendsofthewend"
    assert endorsement.version == open_letter.current_version
    assert endorsement.text_hash == open_letter.current_version.text_hash
    assert len(endorsement.confirm_nonce) == 32
    assert len(endorsement.withdraw_secret) == 32
    assert endorsement.confirm_expires_at is not None
    assert endorsement.confirmation_sent_at is None
    assert not endorsement.is_listed
    log = ActionLog.objects.get(action="endorsement.submitted")
    assert log.object_id == str(endorsement.pk)
    assert log.data == {"letter": open_letter.pk, "created": True}
    # Signing again with the same address updates the same row.
    assert client.post(url, form_data(name="Siobhán Ní Bhriain")).status_code == 302
    assert Endorsement.objects.get().name == "Siobhán Ní Bhriain"
    assert ActionLog.objects.filter(action="endorsement.submitted").count() == 2


def test_kept_pages_follow_edits(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    endorse_url = reverse("openletters:endorse", args=[open_letter.slug])
    page_url = reverse("openletters:letter", args=[open_letter.slug])
    assert "Walkers for Resolution 7" in client.get(endorse_url).content.decode()
    organisation = open_letter.organisation
    organisation.name = "Wend Valley Walkers"
    organisation.save()
    # The consent's wording names the organisation as it is now.
    assert "Yes, Wend Valley Walkers may email me updates" in client.get(endorse_url).content.decode()
    moderation.set_pow_required(letter=open_letter, required=True, actor=organiser)
    assert "altcha-widget" in client.get(endorse_url).content.decode()
    assert 'data-testid="verified-count">0<' in client.get(page_url).content.decode()
    endorsing.record_confirmed(
        letter=open_letter, data=endorsing.EndorsementInput(name="Ana Ruiz", email="ana@example.net")
    )
    assert 'data-testid="verified-count">1<' in client.get(page_url).content.decode()
    OpenLetter.objects.filter(pk=open_letter.pk).update(status="closed")
    assert "This letter is no longer open for endorsement." in client.get(page_url).content.decode()
    staff = Client()
    staff.force_login(organiser)
    assert "Dashboard" in staff.get(page_url).content.decode()  # kept per kind of visitor
    assert "Dashboard" not in client.get(page_url).content.decode()
