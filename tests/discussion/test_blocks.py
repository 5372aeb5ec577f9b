"""A block by email address keeps a keyed hash of the mailbox and a masked hint, never the
address: it still stops every spelling of that mailbox, the migration hashes the blocks
kept before, and the admin where blocks are lifted finds one by the whole address."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core import serializers
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.discussion.conftest import known_here, post_comment
from tests.factories import OrganisationFactory
from undersigned.core.security import hash_ip, keyed_hash
from undersigned.discussion import services
from undersigned.discussion.links import blocked_email_hash
from undersigned.discussion.models import Block, BlockKind, Comment, Discussion

pytestmark = pytest.mark.django_db

ADDRESS = "Ana.Ruiz@Example.net"


def _blocks_dumped() -> str:
    return str(serializers.serialize("json", Block.objects.all()))


def test_an_email_block_keeps_a_keyed_hash_that_stops_every_spelling(
    client: Client, discussion: Discussion, organiser: Any, settings: Any
) -> None:
    known_here(client, "ana.ruiz@example.net")
    post_comment(client, discussion, email=ADDRESS, body="Rude words.")
    block = services.block_commenter(comment=Comment.objects.get(), kind=BlockKind.EMAIL, actor=organiser)
    assert block is not None
    assert (block.kind, block.hint) == (BlockKind.EMAIL, "a•••@e•••.net")
    assert len(block.value) == 64
    assert "ana" not in _blocks_dumped().lower()
    # Keyed for its own purpose: not the hash an IP address or another use would give.
    assert block.value not in {hash_ip("ana.ruiz@example.net"), keyed_hash("ana.ruiz@example.net", purpose="other")}

    organisation_id = discussion.organisation_id
    for spelling in ("ana.ruiz@example.net", "ANA.RUIZ@EXAMPLE.NET", " Ana.Ruiz@example.net "):
        assert services.is_blocked(organisation_id=organisation_id, email=spelling, ip_hash="")
    assert not services.is_blocked(organisation_id=organisation_id, email="ana@example.net", ip_hash="")
    other = OrganisationFactory(slug="elsewhere")
    assert not services.is_blocked(organisation_id=other.pk, email=ADDRESS, ip_hash="")
    # Through the page too: the blocked address is refused, from another IP address.
    response = post_comment(client, discussion, email="ana.ruiz@example.net", body="Back again.", ip="198.51.100.3")
    assert response.status_code == 403
    # Keyed: with another key the same address gives another hash, so the table alone tells nothing.
    settings.IP_HASH_SALT = "another key entirely"
    assert blocked_email_hash(ADDRESS) != block.value


def test_the_migration_hashes_the_addresses_of_blocks_kept_before(discussion: Discussion) -> None:
    organisation = discussion.organisation
    Block.objects.create(organisation=organisation, kind=BlockKind.EMAIL, value="troll@gmail.com", reason="abuse")
    Block.objects.create(organisation=organisation, kind=BlockKind.EMAIL, value="x@localhost")
    Block.objects.create(organisation=organisation, kind=BlockKind.IP, value="c" * 32)

    module = importlib.import_module("undersigned.discussion.migrations.0003_block_email_hash")
    module.hash_blocked_addresses(apps, SimpleNamespace(connection=connection))
    module.hash_blocked_addresses(apps, SimpleNamespace(connection=connection))  # run again: nothing changes

    rows = sorted(Block.objects.values_list("kind", "value", "hint", "reason"))
    assert rows == sorted(
        [
            (BlockKind.EMAIL, blocked_email_hash("troll@gmail.com"), "t•••@g•••.com", "abuse"),
            (BlockKind.EMAIL, blocked_email_hash("x@localhost"), "x•••@l•••", ""),
            (BlockKind.IP, "c" * 32, "", ""),
        ]
    )
    assert "@" not in "".join(value for _kind, value, _hint, _reason in rows)
    # The hashed blocks still stop the mailbox, in any spelling.
    assert services.is_blocked(organisation_id=organisation.pk, email="T.roll+x@googlemail.com", ip_hash="")


def test_the_admin_shows_the_hint_and_finds_a_block_by_the_whole_address(
    client: Client, discussion: Discussion, organiser: Any
) -> None:
    organisation = discussion.organisation
    for address in ("troll@gmail.com", "spam@example.org"):
        Block.objects.create(
            organisation=organisation,
            kind=BlockKind.EMAIL,
            value=blocked_email_hash(address),
            hint=f"{address[0]}•••@{address.split('@')[1][0]}•••",
        )
    client.force_login(organiser)
    url = reverse("admin:discussion_block_changelist")
    page = client.get(url).content.decode()
    assert "t•••@g•••" in page
    assert "s•••@e•••" in page
    found = client.get(url, {"q": "T.Roll@gmail.com"}).content.decode()
    assert "t•••@g•••" in found
    assert "s•••@e•••" not in found
    nothing = client.get(url, {"q": "nobody@example.org"}).content.decode()
    assert "t•••@g•••" not in nothing
