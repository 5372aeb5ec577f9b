"""A request whose database connection drops: GET runs again, a write answers 503 keeping what was typed.

The connection is really broken in the middle of the request: on PostgreSQL its backend
is ended with ``pg_terminate_backend`` from a second connection, on SQLite the
underlying connection is closed. Runs on both (the suite runs once on each in CI).
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import DatabaseError, connection, transaction
from django.db import utils as django_db_errors
from django.test import Client
from django.urls import reverse

from tests.conftest import database_url
from tests.openletters.conftest import form_data
from undersigned.campaigns import queries as campaign_queries
from undersigned.core.db_faults import says_connection_lost
from undersigned.delivery import services as delivery_services
from undersigned.delivery.models import Delivery
from undersigned.discussion import services as discussion_services
from undersigned.discussion.models import Comment
from undersigned.letters import services as letter_services
from undersigned.letters.models import Letter
from undersigned.openletters.models import Endorsement
from undersigned.openletters.services import endorsing

from .conftest import Site

# Killing the connection ends the test's own transaction, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def break_the_connection() -> None:
    """End this process's database connection from outside, as a restart or failover would."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        pid = connection.connection.info.backend_pid
        with psycopg.connect(database_url(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(200):  # the backend ends a moment after the signal
                if other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone() is None:
                    break
                time.sleep(0.01)
    else:
        connection.connection.close()


def breaking_once(function: Callable[..., Any]) -> tuple[Callable[..., Any], list[int]]:
    """``function`` that breaks the connection before its first call; and the count of calls."""
    calls: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            break_the_connection()
        return function(*args, **kwargs)

    return wrapper, calls


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_a_page_is_shown_after_its_connection_dropped(
    client: Client, site: Site, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    wrapper, calls = breaking_once(campaign_queries.public_campaigns)
    monkeypatch.setattr(campaign_queries, "public_campaigns", wrapper)
    caplog.set_level(logging.WARNING)
    response = client.get(reverse("public:home"))
    assert response.status_code == 200
    assert "Keep the riverside path open" in page(response)
    assert len(calls) == 2
    assert [r.getMessage() for r in caplog.records] == ["database connection lost during GET /; running it again"]
    assert "Traceback" not in caplog.text


def test_a_letter_that_could_not_be_saved_comes_back_with_what_was_typed(
    client: Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper, calls = breaking_once(letter_services.save_letter)
    monkeypatch.setattr(letter_services, "save_letter", wrapper)
    url = reverse("public:compose", args=[site.campaign.slug])
    form = client.get(url).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(submission_key|form_started)" value="([^"]*)"', form))
    data = {
        **fields,
        "action": "continue",
        "name": "Ana Ruiz",
        "email": "ana.garcia@example.net",
        "town": "Wendmouth",
        "country": "GB",
        "subject": "Please keep the riverside path open",
        "body": "Dear councillor,\n\nThe path is how my children walk to school.\n\nAna",
    }
    response = client.post(url, data)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "private, no-store"
    shown = page(response)
    assert "We could not save this just now. Nothing is lost: your text is below. Press Send again." in shown
    assert 'value="Ana Ruiz"' in shown
    assert "The path is how my children walk to school." in shown
    assert "Traceback" not in shown
    assert Letter.objects.filter(sender_name="Ana Ruiz", supporter__email="ana.garcia@example.net").count() == 0
    # Pressing Send again saves it, once.
    again = client.post(url, data)
    assert again.status_code == 302
    assert (
        Letter.objects.filter(supporter__email="ana.garcia@example.net", body__contains="walk to school").count() == 1
    )
    assert len(calls) == 2


def test_an_endorsement_that_could_not_be_saved_comes_back_with_what_was_typed(
    client: Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper, _calls = breaking_once(endorsing.endorse)
    monkeypatch.setattr(endorsing, "endorse", wrapper)
    url = reverse("openletters:endorse", args=[site.open_letter.slug])
    data = form_data(name="Máire Ní Bhriain", email="maire@example.ie")
    response = client.post(url, data)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    shown = page(response)
    assert 'value="Máire Ní Bhriain"' in shown
    assert "Press Send again." in shown
    assert not Endorsement.objects.filter(email="maire@example.ie").exists()
    assert client.post(url, data).status_code == 302
    assert Endorsement.objects.filter(email="maire@example.ie").count() == 1


def test_any_other_form_is_posted_again_as_it_was(client: Client, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper, _calls = breaking_once(discussion_services.post_comment)
    monkeypatch.setattr(discussion_services, "post_comment", wrapper)
    url = reverse("public:discussion", args=[site.discussion.pk])
    fields = {"name": "Rui Costa", "email": "rui@example.pt", "body": 'A "quoted" <b>reply</b> & more'}
    fields["submission_key"] = "5b0a7d1e-98a4-4c3b-9a57-2f1f0f7c9d11"
    response = client.post(url, fields)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    shown = response.content.decode()
    assert f'<form method="post" action="{url}">' in shown
    assert '<input type="hidden" name="body" value="A &quot;quoted&quot; &lt;b&gt;reply&lt;/b&gt; &amp; more">' in shown
    assert '<button type="submit">Send again</button>' in shown
    reposted = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', shown))
    reposted = {name: html.unescape(value) for name, value in reposted.items()}
    assert {k: reposted[k] for k in fields} == fields
    assert client.post(url, reposted).status_code == 302
    assert Comment.objects.filter(email="rui@example.pt").count() == 1


def test_other_database_errors_are_not_hidden(client: Client, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> Any:
        raise DatabaseError("a query that is wrong")

    monkeypatch.setattr(campaign_queries, "public_campaigns", fail)
    client.raise_request_exception = False
    assert client.get(reverse("public:home")).status_code == 500


def test_a_connection_that_drops_inside_a_transaction_still_answers_503(
    client: Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two statements of one transaction: the rollback fails, Django drops the
    connection and opens a new one as the block ends, so a probe afterwards finds a live
    connection. The error itself says the connection was lost; the answer is still a 503."""

    def record_in_two_statements(**kwargs: Any) -> Any:
        with transaction.atomic():
            Delivery.objects.count()
            break_the_connection()
            Delivery.objects.count()
        raise AssertionError("the second statement must fail")  # pragma: no cover

    monkeypatch.setattr(delivery_services, "record_delivery", record_in_two_statements)
    recipient = site.campaign.recipients.first()
    url = reverse("public:letter_send", args=[site.letter_link])
    before = Delivery.objects.count()
    response = client.post(url, {"recipient": str(recipient.pk), "channel": "email"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert '<button type="submit">Send again</button>' in response.content.decode()
    assert Delivery.objects.count() == before


def _two_statements_across_a_drop() -> None:
    with transaction.atomic():
        Delivery.objects.count()
        break_the_connection()
        Delivery.objects.count()


def test_only_errors_about_the_connection_count_as_lost() -> None:
    with pytest.raises(DatabaseError) as wrong_query, connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM no_such_table")
    assert not says_connection_lost(wrong_query.value)
    with pytest.raises(DatabaseError) as lost:
        _two_statements_across_a_drop()
    assert says_connection_lost(lost.value)


@pytest.mark.urls("tests.web.fault_urls")
def test_a_connection_lost_after_the_view_answers_503_not_500(
    client: Client, site: Site, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The session is saved after the view has answered, outside its error handling."""
    wrapper, calls = breaking_once(SessionStore.save)
    monkeypatch.setattr(SessionStore, "save", wrapper)
    client.raise_request_exception = False
    caplog.set_level(logging.WARNING)
    response = client.post("/test-remember/", {"note": "Ana’s note"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "private, no-store"
    shown = page(response)
    assert '<input type="hidden" name="note" value="Ana’s note">' in shown
    assert '<button type="submit">Send again</button>' in shown
    assert "database connection lost during POST /test-remember/; answered 503" in caplog.text
    assert len(calls) == 1
    # The next request finds a working connection.
    assert client.post("/test-remember/", {"note": "again"}).status_code == 200
    assert client.get("/").status_code == 200


def test_a_connection_closed_without_a_word_from_the_server_counts_as_lost() -> None:
    """What psycopg raises when the socket closes under a query (a killed backend, a cut
    network): no SQLSTATE. Seen under tests/delivery/test_faults.py's load; made here as
    the driver makes it, wrapped by Django the same way."""
    from_the_server = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
    assert not says_connection_lost(_as_django_raises_it(from_the_server))
    for message in ("consuming input failed: server closed the connection unexpectedly", "the connection is lost"):
        assert says_connection_lost(_as_django_raises_it(psycopg.OperationalError(message)))


def _as_django_raises_it(driver_error: psycopg.Error) -> DatabaseError:
    """As django.db.utils.DatabaseErrorWrapper does on PostgreSQL: the same class of
    Django's, the driver's error as its cause."""
    assert isinstance(driver_error, psycopg.OperationalError)  # a lock timeout is one too
    error = django_db_errors.OperationalError(*driver_error.args)
    error.__cause__ = driver_error
    return error
