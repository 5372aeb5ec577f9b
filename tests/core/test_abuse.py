"""The shared abuse layer: honeypot, minimum fill time, rate limits, proof of work."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import altcha
import pytest
from django.test import Client, override_settings

from tests.core import guarded_app
from undersigned.core import abuse
from undersigned.core.emails import mailbox_identity
from undersigned.core.rates import parse_rate

pytestmark = [pytest.mark.urls("tests.core.guarded_app"), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _accepted() -> Any:
    guarded_app.ACCEPTED.clear()
    yield guarded_app.ACCEPTED
    guarded_app.ACCEPTED.clear()


def field_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no {name} field in the page"
    return match.group(1) or match.group(2)


def test_a_person_gets_through_and_sees_no_trap(client: Client) -> None:
    page = client.get("/guarded/").content.decode()
    assert "Leave this field empty" in page  # the honeypot's label, for anyone who meets it
    assert 'aria-hidden="true"' in page
    assert 'tabindex="-1"' in page
    started = field_value(page, "form_started")
    response = client.post("/guarded/", {"name": "Siobhán", "homepage": "", "form_started": started})
    assert response.content == b"Accepted 1"


def test_the_honeypot_catches_a_naive_bot_and_keeps_nothing(client: Client) -> None:
    response = client.post("/guarded/", {"name": "Buy now", "homepage": "http://spam.example"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "hidden anti-spam field was filled in" in page
    assert guarded_app.ACCEPTED == []
    # The re-shown form keeps what was typed and an empty trap, so a person can resend.
    assert 'value="Buy now"' in page
    assert 'name="homepage" id="id_homepage" value=""' in page


@override_settings(FORM_MIN_FILL_SECONDS=3)
def test_a_form_sent_too_fast_is_refused_then_accepted_once_time_has_passed(client: Client) -> None:
    fresh = client.post("/guarded/", {"name": "Quick", "form_started": abuse.started_token()})
    assert "quicker than a person" in fresh.content.decode()
    assert guarded_app.ACCEPTED == []
    later = client.post("/guarded/", {"name": "Quick", "form_started": abuse.started_token(seconds_ago=4)})
    assert later.content == b"Accepted 1"


@override_settings(FORM_MIN_FILL_SECONDS=3)
def test_a_missing_or_forged_timestamp_is_refused_and_the_new_form_works(client: Client) -> None:
    missing = client.post("/guarded/", {"name": "Forger"})
    assert "was changed on the way" in missing.content.decode()
    forged = client.post("/guarded/", {"name": "Forger", "form_started": "12345:forged"})
    page = forged.content.decode()
    assert "was changed on the way" in page
    renewed = field_value(page, "form_started")
    assert renewed != "12345:forged"
    assert abuse._started_at(renewed) is not None


def test_a_burst_from_one_address_gets_429_with_a_human_message_and_what_was_typed(client: Client) -> None:
    limit, _period = parse_rate("10/10m")
    with override_settings(RATE_LIMITS={"endorse": "10/10m"}):
        for number in range(limit):
            assert client.post("/guarded/", {"name": f"Person {number}"}).status_code == 200
        refused = client.post("/guarded/", {"name": "One too many"})
        other_address = client.post("/guarded/", {"name": "Someone else"}, REMOTE_ADDR="203.0.113.9")
    page = refused.content.decode()
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "please wait" in page
    assert "Nothing you typed is lost" in page
    assert 'value="One too many"' in page
    assert other_address.status_code == 200
    assert len(guarded_app.ACCEPTED) == limit + 1


def test_too_many_requests_page(client: Client) -> None:
    assert client.get("/busy/").status_code == 200
    assert client.get("/busy/").status_code == 200
    refused = client.get("/busy/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Please wait" in refused.content.decode()


def test_rate_limits_count_per_key_when_given(rf: Any) -> None:
    request = rf.post("/")
    assert abuse.rate_limit(request, "comment_email", "2/h", key="jane@example.org") == 0
    assert abuse.rate_limit(request, "comment_email", "2/h", key="jane@example.org") == 0
    assert abuse.rate_limit(request, "comment_email", "2/h", key="jane@example.org") > 0
    assert abuse.rate_limit(request, "comment_email", "2/h", key="john@example.org") == 0


def solve_pow(client: Client) -> str:
    """Fetch a challenge from the site and solve it, as the browser widget does."""
    challenge = altcha.v2.Challenge.from_dict(client.get("/altcha/challenge/").json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return base64.b64encode(json.dumps(altcha.Payload(challenge, solution).to_dict()).encode()).decode()


def test_proof_of_work_when_switched_on(client: Client) -> None:
    page = client.get("/guarded/?pow=1").content.decode()
    assert "<altcha-widget" in page
    assert "needs JavaScript just now" in page
    assert "<altcha-widget" not in client.get("/guarded/").content.decode()

    unsolved = client.post("/guarded/?pow=1", {"name": "No work"})
    assert "anti-spam check did not finish" in unsolved.content.decode()
    payload = solve_pow(client)
    assert client.post("/guarded/?pow=1", {"name": "Worked", "altcha": payload}).content == b"Accepted 1"
    replay = client.post("/guarded/?pow=1", {"name": "Replayed", "altcha": payload})
    assert "already used" in replay.content.decode()
    garbage = client.post("/guarded/?pow=1", {"name": "Garbage", "altcha": "bm90IGpzb24="})
    assert "check failed" in garbage.content.decode()
    assert guarded_app.ACCEPTED == ["Worked"]


def test_a_challenge_signed_with_another_key_is_refused(client: Client) -> None:
    challenge = altcha.create_challenge(algorithm="PBKDF2/SHA-256", cost=10, hmac_secret="not ours")
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    payload = base64.b64encode(json.dumps(altcha.Payload(challenge, solution).to_dict()).encode()).decode()
    refused = client.post("/guarded/?pow=1", {"name": "Forged", "altcha": payload})
    assert "check failed" in refused.content.decode()
    assert guarded_app.ACCEPTED == []


def test_challenges_are_not_cached(client: Client) -> None:
    response = client.get("/altcha/challenge/")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.get("/altcha/challenge/").json() != response.json()


@pytest.mark.parametrize(
    ("typed", "person"),
    [
        ("Jane.Doe+x@gmail.com", "janedoe@gmail.com"),
        ("JANEDOE@GoogleMail.com", "janedoe@gmail.com"),
        ("jane.doe+news@outlook.com", "jane.doe@outlook.com"),
        ("jane.doe+news@example.org", "jane.doe+news@example.org"),  # unknown provider: kept
        ("  Jane@Example.ORG ", "jane@example.org"),
        ("jane-list@yahoo.com", "jane@yahoo.com"),
        ("someone@bücher.example", "someone@xn--bcher-kva.example"),
    ],
)
def test_mailbox_identity(typed: str, person: str) -> None:
    assert mailbox_identity(typed) == person


@pytest.mark.parametrize("bad", ["ten/m", "5/w", "0/m", "5/0m", "endorse"])
def test_bad_rates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="a rate looks like"):
        parse_rate(bad)


def test_a_chain_of_rate_limits_stops_at_the_first_that_refuses(rf: Any) -> None:
    # With the test settings' in-memory cache: the add/incr path.
    request = rf.post("/", REMOTE_ADDR="198.51.100.4")
    jane = ("endorse-email", "5/h", "jane@example.org")
    assert abuse.rate_limits(request, ("endorse", "1/h", None), jane) == 0
    assert abuse.rate_limits(request, ("endorse", "1/h", None), jane) > 0
    # The refused request did not count against jane's address.
    other = rf.post("/", REMOTE_ADDR="198.51.100.5")
    for _ in range(4):
        assert abuse.rate_limit(other, "endorse-email", "5/h", key="jane@example.org") == 0
    assert abuse.rate_limit(other, "endorse-email", "5/h", key="jane@example.org") > 0
