"""Changing an endorsement through another spelling of the same address: the
confirmation page shows what will change before its button confirms it, and an older
email's link or code never confirms newer details. Through the pages, with every
email going through a real SMTP server (``smtp_sink``) and tasks run by Django's
``ImmediateBackend`` after each commit."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.openletters.conftest import endorse, links_in, path_of
from undersigned.openletters import links
from undersigned.openletters.models import Endorsement, EndorsementStatus, OpenLetter
from undersigned.supporters.models import ConsentPurpose, ConsentRecord


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _submit(client: Client, letter: OpenLetter, smtp_sink: Any, capture: Any, **overrides: str | None) -> Any:
    """Endorse through the form; return the email this submission sent."""
    before = len(smtp_sink.messages)
    with capture(execute=True):
        response = endorse(client, letter, **overrides)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(smtp_sink.messages) == before + 1
    return smtp_sink.parsed()[-1]


def _letter_page(client: Client, letter: OpenLetter) -> str:
    return client.get(reverse("openletters:letter", args=[letter.slug])).content.decode()


def _rows(page: str) -> dict[str, tuple[str, str]]:
    """The before/after table of a confirmation page: {part: (now, after)}."""
    table = re.search(r'<table class="change-table".*?</table>', page, re.S)
    assert table is not None, page
    found = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>', table.group(0))
    return {html.unescape(part): (html.unescape(now), html.unescape(after)) for part, now, after in found}


@pytest.fixture
def confirmed(client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Jane, confirmed with one spelling of her Gmail address: Trustee, Ireland, named."""
    first = _submit(
        client,
        open_letter,
        smtp_sink,
        django_capture_on_commit_callbacks,
        email="Jane.Doe+letters@gmail.com",
        name="Jane Doe",
    )
    assert client.post(path_of(links_in(first)["confirm"])).status_code == 302
    endorsement = Endorsement.objects.get()
    assert endorsement.status == EndorsementStatus.CONFIRMED
    return endorsement


def test_a_change_shows_before_and_after_and_an_older_link_confirms_nothing(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any, confirmed: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    # Two changes through another spelling of the same mailbox, each with its own email.
    older = _submit(client, open_letter, smtp_sink, capture, email="janedoe@gmail.com", name="Jane Doe", role="Chair")
    newer = _submit(
        client,
        open_letter,
        smtp_sink,
        capture,
        email="JaneDoe@googlemail.com",
        name="Jane Doe",
        role="Treasurer",
        country="FR",
        show_publicly=None,
        wants_updates="on",
    )
    for message in (older, newer):
        assert "Please confirm the changes to your endorsement" in message["Subject"]
        assert "The confirmation page shows what will change." in message.get_body(("plain",)).get_content()
    old_links, new_links = links_in(older), links_in(newer)
    assert old_links["confirm"] != new_links["confirm"]
    assert old_links["code"] != new_links["code"]

    # The older email's link: a clear page, nothing confirmed, neither by GET nor by its button.
    for response in (client.get(path_of(old_links["confirm"])), client.post(path_of(old_links["confirm"]))):
        assert response.status_code == 409
        page = response.content.decode()
        assert "A newer change is waiting" in page
        assert "The newest email we sent you has the right link" in page
        assert "Nothing was confirmed or changed." in page
    confirmed.refresh_from_db()
    assert (confirmed.role, confirmed.country, confirmed.show_publicly) == ("Trustee", "IE", True)
    assert confirmed.confirm_nonce  # the newer change still waits
    assert "Jane Doe</bdi></strong>, <bdi>Trustee</bdi>" in _letter_page(client, open_letter)

    # The newest link shows what will change, and only that; opening it changes nothing.
    response = client.get(path_of(new_links["confirm"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Confirm the changes to your endorsement" in page
    assert _rows(page) == {
        "Role or title": ("Trustee", "Treasurer"),
        "Country": ("Ireland", "France"),
        "Name shown publicly": ("Yes", "No — counted, not named"),
        "Updates by email": ("No", "Yes"),
    }
    assert "Chair" not in page  # the older change is gone, not merged in
    confirmed.refresh_from_db()
    assert confirmed.role == "Trustee"

    # Its button confirms exactly what it showed.
    assert client.post(path_of(new_links["confirm"])).status_code == 302
    confirmed.refresh_from_db()
    assert (confirmed.role, confirmed.country, confirmed.show_publicly, confirmed.wants_updates) == (
        "Treasurer",
        "FR",
        False,
        True,
    )
    assert not confirmed.pending_update
    assert not confirmed.confirm_nonce
    assert Endorsement.objects.count() == 1
    open_letter.refresh_from_db()
    assert open_letter.verified_count == 1
    assert "Jane Doe</strong>" not in _letter_page(client, open_letter)  # counted, no longer named
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.granted) == (ConsentPurpose.OPEN_LETTER_UPDATES, True)
    # The older link still confirms nothing, now that nothing waits.
    assert client.post(path_of(old_links["confirm"])).status_code == 302  # "already confirmed", unchanged
    confirmed.refresh_from_db()
    assert confirmed.role == "Treasurer"


def test_the_same_submission_twice_keeps_the_first_emails_link_working(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any, confirmed: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    first = _submit(client, open_letter, smtp_sink, capture, email="janedoe@gmail.com", name="Jane Doe", role="Chair")
    again = _submit(client, open_letter, smtp_sink, capture, email="janedoe@gmail.com", name="Jane Doe", role="Chair")
    assert links_in(first)["confirm"] == links_in(again)["confirm"]  # a double click: one change, one link
    assert client.post(path_of(links_in(first)["confirm"])).status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.role == "Chair"


def test_a_first_endorsement_sent_again_with_other_details_takes_only_the_newest_link(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    older = links_in(_submit(client, open_letter, smtp_sink, capture, name="Jane Doe", role="Chair"))
    newer = links_in(_submit(client, open_letter, smtp_sink, capture, name="Jane Doe", role="Secretary"))
    assert client.post(path_of(older["confirm"])).status_code == 409
    assert Endorsement.objects.get().status == EndorsementStatus.PENDING
    page = client.get(path_of(newer["confirm"])).content.decode()
    assert "Secretary" in page
    assert "Chair" not in page
    assert client.post(path_of(newer["confirm"])).status_code == 302
    endorsement = Endorsement.objects.get()
    assert (endorsement.status, endorsement.role) == (EndorsementStatus.CONFIRMED, "Secretary")


def test_an_older_code_confirms_nothing_and_the_newest_code_shows_the_changes_first(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any, confirmed: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    older = links_in(_submit(client, open_letter, smtp_sink, capture, email="janedoe@gmail.com", name="J. Doe"))
    newer = links_in(_submit(client, open_letter, smtp_sink, capture, email="janedoe@gmail.com", name="Dr Jane Doe"))
    url = reverse("openletters:confirm_code", args=[open_letter.slug])

    response = client.post(url, {"email": "janedoe@gmail.com", "code": older["code"]})
    assert response.status_code == 400
    assert "use the code in the newest email" in response.content.decode()
    confirmed.refresh_from_db()
    assert confirmed.name == "Jane Doe"

    # The right code leads to the confirmation page; nothing changes before its button.
    response = client.post(url, {"email": "jane.doe@gmail.com", "code": newer["code"]})
    assert response.status_code == 303
    # A link of the same submission as the newest email's (signed now, so not byte for byte the same).
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    assert links.read_confirm_token(token) == links.read_confirm_token(newer["confirm"].rstrip("/").rsplit("/", 1)[1])
    assert _rows(client.get(response["Location"]).content.decode()) == {"Name": ("Jane Doe", "Dr Jane Doe")}
    confirmed.refresh_from_db()
    assert confirmed.name == "Jane Doe"
    assert client.post(response["Location"]).status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.name == "Dr Jane Doe"


def test_a_confirmed_change_that_unticks_updates_withdraws_the_opt_in(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    first = links_in(_submit(client, open_letter, smtp_sink, capture, name="Jane Doe", wants_updates="on"))
    client.post(path_of(first["confirm"]))
    change = links_in(_submit(client, open_letter, smtp_sink, capture, name="Jane Doe"))
    # Until the change is confirmed, the opt-in stands.
    assert Endorsement.objects.get().wants_updates is True
    assert _rows(client.get(path_of(change["confirm"])).content.decode()) == {"Updates by email": ("Yes", "No")}
    client.post(path_of(change["confirm"]))
    assert Endorsement.objects.get().wants_updates is False
    assert list(ConsentRecord.objects.values_list("granted", "source")) == [
        (True, "open letter endorsement form"),
        (False, "open letter endorsement changed"),
    ]
