"""Endorser search folds what people type differently: apostrophes of every shape, accents,
case and punctuation inside names, on the public list and the organisers' list alike;
the stored text of rows saved before is refolded by a migration; on PostgreSQL the
trigram index still answers the folded search."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory
from undersigned.openletters import queries
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import endorsing
from undersigned.openletters.text import fold, search_text

from .conftest import make_open_letter


def _add(letter: OpenLetter, name: str, email: str, **fields: Any) -> Endorsement:
    return endorsing.record_confirmed(letter=letter, data=endorsing.EndorsementInput(name=name, email=email, **fields))


def _names(client: Client, url: str, q: str) -> str:
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("o'brien", "Siobhán O’Brien"),  # a phone's curly apostrophe, found by a straight one
        ("O’Brien", "Siobhán O'Brien"),
        ("o‘brien", "Siobhán Oʼbrien"),
        ("obrien", "Siobhán O’Brien"),
        ("siobhan", "Siobhán O’Brien"),
        ("SIOBHÁN O BRIEN", "Siobhán O’Brien"),
        ("jean pierre", "Jean-Pierre Dupré"),
        ("dupre", "Jean-Pierre Dupré"),
        ("jrr tolkien", "J.R.R. Tolkien"),
        ("strasse", "Anna Straße"),
        ("soren", "Søren Kierkegaard"),
        ("lukasz", "Łukasz Nowak"),
        ("Smith Jr", "Smith, Jr."),
        ("山田", "山田 太郎"),
    ],
)
def test_fold_makes_both_sides_meet(typed: str, stored: str) -> None:
    assert fold(typed) in search_text(stored, "", "")


def test_fold_keeps_fields_apart_and_bounds_the_length() -> None:
    assert search_text("Ana Lima", "Wend-Walkers", "") == "analima wendwalkers"
    assert fold("lima wend") not in search_text("Ana Lima", "Wend-Walkers", "")  # never across two fields
    assert len(search_text("a" * 300, "b" * 300, "c" * 300)) == 420
    assert fold("' - . ,") == ""


def test_public_search_finds_a_curly_apostrophe_by_a_straight_one(client: Client, open_letter: OpenLetter) -> None:
    _add(open_letter, "Siobhán O’Brien", "s@example.ie", organisation="Friends of the Wend", country="IE")
    _add(open_letter, "Jean-Pierre Dupré", "jp@example.fr", organisation="Rand'eau", country="FR")
    _add(open_letter, "Ana Lima", "a@example.pt", country="PT")
    url = reverse("openletters:letter", args=[open_letter.slug])
    for typed in ("o'brien", "O’BRIEN", "siobhan obrien", "Siobhán O‘Brien"):
        page = _names(client, url, typed)
        assert "Siobhán O’Brien" in page, typed
        assert "Ana Lima" not in page
    page = _names(client, url, "jean pierre dupre")
    assert "Jean-Pierre Dupré" in page
    assert "Siobhán O’Brien" not in page
    assert "Jean-Pierre Dupré" in _names(client, url, "randeau")  # an organisation's name too
    # A search of punctuation alone is no search: everyone is listed.
    page = _names(client, url, "'")
    assert "Ana Lima" in page
    assert "Siobhán O’Brien" in page
    assert "No named endorser matches" in _names(client, url, "o'neill")


def test_organisers_search_folds_too(client: Client, open_letter: OpenLetter, organiser: Any, stranger: Any) -> None:
    _add(open_letter, "Siobhán O’Brien", "s@example.ie", country="IE")
    _add(open_letter, "Ana Lima", "a@example.pt", country="PT")
    url = reverse("dashboard:open_letter", args=[open_letter.slug])
    client.force_login(organiser)
    page = _names(client, url, "siobhan o'brien")
    assert "Siobhán O’Brien" in page
    assert "Ana Lima" not in page
    # A member of another organisation finds nothing to search.
    MembershipFactory(organisation=OrganisationFactory(slug="other-organisation"), user=stranger)
    client.force_login(stranger)
    assert client.get(url, {"q": "o'brien"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_migration_refolds_what_was_stored_before(organisation: Any) -> None:
    letter = make_open_letter(organisation)
    curly = _add(letter, "Siobhán O’Brien", "s@example.ie", organisation="Friends of the Wend")
    plain = _add(letter, "Ana Lima", "a@example.pt")
    # As the rows were before 0005: lower-cased as typed.
    Endorsement.objects.filter(pk=curly.pk).update(search_text="siobhán o’brien friends of the wend")
    Endorsement.objects.filter(pk=plain.pk).update(search_text="ana lima")
    assert queries.public_endorsers(letter, search="o'brien").endorsements == []

    executor = MigrationExecutor(connection)
    executor.migrate([("openletters", "0004_hand_in_by_version")])
    executor = MigrationExecutor(connection)
    # Every app's latest, not only openletters': going back also unapplied migrations of
    # other apps that depend on openletters' later ones (delivery's hand-in pack emails),
    # and the tests after this one need the whole schema.
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Endorsement.objects.get(pk=curly.pk).search_text == "siobhanobrien friendsofthewend"
    assert Endorsement.objects.get(pk=plain.pk).search_text == "analima"
    assert [e.pk for e in queries.public_endorsers(letter, search="o'brien").endorsements] == [curly.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index exists only on PostgreSQL")
@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_the_trigram_index_answers_the_folded_search(organisation: Any) -> None:
    open_letter = make_open_letter(organisation)
    curly = _add(open_letter, "Siobhán O’Brien", "s@example.ie")
    version = open_letter.current_version
    assert version is not None
    # Enough other named endorsers that reading them all costs more than the index.
    Endorsement.objects.bulk_create(
        Endorsement(
            letter=open_letter,
            name=f"Walker {n}",
            email=f"walker{n}@example.org",
            email_normalised=f"walker{n}@example.org",
            status="confirmed",
            is_listed=True,
            search_text=search_text(f"Walker {n}", "Wend Ramblers", ""),
            version=version,
            text_hash=version.text_hash,
            withdraw_secret="x" * 32,
        )
        for n in range(5000)
    )
    with connection.cursor() as cursor:
        # What autovacuum does on a live table: statistics, and the GIN index's own.
        cursor.execute("VACUUM ANALYZE openletters_endorsement")
    rows = Endorsement.objects.filter(letter=open_letter, is_listed=True, search_text__contains=fold("O'Brien"))
    plan = rows.explain()
    assert "endorsement_search_trgm" in plan, plan
    assert [e.pk for e in queries.public_endorsers(open_letter, search="o'brien").endorsements] == [curly.pk]
