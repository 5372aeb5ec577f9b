"""Fixtures for open letters: a published letter addressed to three national sections."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import RecipientFactory
from undersigned.campaigns.models import RecipientGroup, RecipientGroupMember
from undersigned.openletters.models import OpenLetter, OpenLetterStatus
from undersigned.openletters.services import versions

LETTER_TEXT = """Dear members of the Federation,

We, the undersigned, ask you to **vote for Resolution 7** on 24 April.

Rural buses are being cut one by one."""


@pytest.fixture
def open_letter(organisation: Any) -> OpenLetter:
    return make_open_letter(organisation)


def make_open_letter(organisation: Any) -> OpenLetter:
    """A published letter to three national sections (in CZ, IE and JP)."""
    group = RecipientGroup.objects.create(organisation=organisation, name="National sections")
    for name, country in (("Jana Šimůnková", "CZ"), ("Máire O'Dwyer", "IE"), ("Chihiro Nakamura", "JP")):
        RecipientGroupMember.objects.create(
            group=group, recipient=RecipientFactory(organisation=organisation, name=name, country=country)
        )
    letter = OpenLetter.objects.create(
        organisation=organisation,
        slug="walkers-for-resolution-7",
        title="Walkers for Resolution 7",
        text=LETTER_TEXT,
        status=OpenLetterStatus.PUBLISHED,
        recipient_group=group,
    )
    versions.record_version(letter=letter)
    letter.refresh_from_db()
    return letter


def form_data(**overrides: str | None) -> dict[str, str]:
    data: dict[str, str | None] = {
        "kind": "person",
        "name": "Siobhán O'Brien",
        "role": "Trustee",
        "organisation": "Friends of the Wend",
        "country": "IE",
        "statement": "",
        "email": "siobhan@example.ie",
        "show_publicly": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def endorse(client: Client, letter: OpenLetter, **overrides: str | None) -> Any:
    return client.post(reverse("openletters:endorse", args=[letter.slug]), form_data(**overrides))


_LINK = re.compile(r"^(http://testserver/open-letters/[^\s]+/(confirm|withdraw)/[^\s]+/)$", re.MULTILINE)
_CODE = re.compile(r"^([A-Z2-9]{8})$", re.MULTILINE)


def links_in(message: Any) -> dict[str, str]:
    """The confirmation and withdrawal links and the code in a confirmation email."""
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    found = {kind: url for url, kind in _LINK.findall(text)}
    code = _CODE.search(text)
    assert code is not None, text
    found["code"] = code.group(1)
    return found


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")
