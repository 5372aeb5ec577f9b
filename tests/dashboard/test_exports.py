"""CSV exports an organiser downloads: a campaign's letters (with their evidence), its
deliveries and the supporters who agreed to hear more; an open letter's endorsements and
the endorsers who agreed. Read back with csv; formula-safe; only for who runs the
organisation's campaigns; never the letter's text or the supporter's address."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    RecipientFactory,
    SupporterFactory,
    UserFactory,
)
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.core.models import ActionLog
from undersigned.delivery import queries as delivery_queries
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence
from undersigned.delivery.services import record_delivery
from undersigned.delivery.tallies import tallying
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import endorsing, moderation, versions
from undersigned.organisations.models import Role
from undersigned.supporters.models import ConsentPurpose, Supporter
from undersigned.supporters.services import campaign_updates_wording, record_consent
from undersigned.supporters.updates import unsubscribe

pytestmark = pytest.mark.django_db

PERSONAL = ("My children walk this path every day", "Eastfield Road", "WM2 3BB", "Please keep the riverside")


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def campaign(organisation: Any) -> Any:
    """Letters that got as far as each rung of the ladder, and supporters who said yes or no."""
    board = RecipientFactory(organisation=organisation, name="Wend River Board", country="GB")
    chair = RecipientFactory(organisation=organisation, name='=HYPERLINK("http://evil.example")', country="IE")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])
    now = timezone.now()

    emailed = LetterFactory(campaign=campaign, sender_country="GB", uniqueness=42)
    delivery = record_delivery(letter=emailed, recipient=board, channel=Channel.EMAIL)
    with tallying([emailed.pk]):  # as the email engine marks it sent
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, evidence=Evidence.PLATFORM_DELIVERED, sent_at=now
        )
    record_delivery(letter=emailed, recipient=board, channel=Channel.WEB_FORM)  # and reported a web form too

    copied = LetterFactory(campaign=campaign, sender_country="IE", uniqueness=7)
    delivery = record_delivery(letter=copied, recipient=chair, channel=Channel.MAILTO)
    with tallying([copied.pk]):  # as a copy coming back verifies it
        Delivery.objects.filter(pk=delivery.pk).update(evidence=Evidence.VERIFIED_COPY, verified_at=now)

    LetterFactory(campaign=campaign, sender_country="", uniqueness=0)  # saved, not sent yet

    wording = campaign_updates_wording(campaign)
    yes = SupporterFactory(email="ana@example.net", name="Ana Ruiz", country="GB")
    record_consent(supporter=yes, purpose=ConsentPurpose.CAMPAIGN_UPDATES, granted=True, wording=wording,
                   source="thank-you page", campaign=campaign)  # fmt: skip
    formula = SupporterFactory(email="f@example.net", name="@SUM(A1:A9)", country="IE")
    record_consent(supporter=formula, purpose=ConsentPurpose.CAMPAIGN_UPDATES, granted=True, wording=wording,
                   source="thank-you page", campaign=campaign)  # fmt: skip
    changed = SupporterFactory(email="changed@example.net", name="Changed Mind")
    for granted in (True, False):
        record_consent(supporter=changed, purpose=ConsentPurpose.CAMPAIGN_UPDATES, granted=granted, wording=wording,
                       source="thank-you page", campaign=campaign)  # fmt: skip
    elsewhere = CampaignFactory(organisation=organisation, slug="elsewhere")
    other = SupporterFactory(email="other@example.net", name="Other Campaign")
    record_consent(supporter=other, purpose=ConsentPurpose.CAMPAIGN_UPDATES, granted=True, wording="other words",
                   source="thank-you page", campaign=elsewhere)  # fmt: skip
    return campaign


def test_letters_with_their_evidence_and_nothing_personal(client: Client, campaign: Any, member: Any) -> None:
    client.force_login(member)
    response = client.get(reverse("dashboard:export_letters", args=[campaign.slug]))
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="riverside-letters-{today}.csv"'
    rows = _csv(response)
    assert [(r["sender_country"], r["own_words_percent"], r["recipients"], r["channels"], r["evidence_reached"])
            for r in rows] == [
        ("GB", "42", "1", "email web_form", "Platform delivered"),
        ("IE", "7", "1", "mailto", "Verified copy"),
        ("", "0", "0", "", "None yet"),
    ]  # fmt: skip
    assert rows[0]["platform_delivered_at"].startswith(today)
    assert rows[0]["self_reported_at"].startswith(today)  # the web form the supporter reported
    assert rows[0]["first_sent_at"]
    assert rows[1]["verified_copy_at"].startswith(today)
    assert rows[1]["platform_delivered_at"] == ""
    assert rows[2]["first_sent_at"] == ""
    body = str(rows)
    for personal in (*PERSONAL, "Ana Ruiz", "supporter"):
        assert personal not in body
    log = ActionLog.objects.get(action="export.downloaded")
    assert (log.actor_id, log.data) == (member.pk, {"what": "letters"})


def test_letters_are_read_in_one_query_whatever_the_chunks(
    client: Client, campaign: Any, member: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The letters CSV reads plain rows (a letter joined to its deliveries) through one
    cursor, ``EXPORT_CHUNK`` rows at a time: no query per chunk and no prefetch, which kept
    a queryset per letter and held the export about 40 MB above the process it runs in
    (docs/performance.md). A letter's deliveries stay one row across a chunk's edge."""
    monkeypatch.setattr(delivery_queries, "EXPORT_CHUNK", 2)
    board = campaign.recipients.get(name="Wend River Board")
    for country in ("FR", "DE"):
        letter = LetterFactory(campaign=campaign, sender_country=country, uniqueness=5)
        for channel in (Channel.WEB_FORM, Channel.MAILTO, Channel.POST):
            record_delivery(letter=letter, recipient=board, channel=channel)
    client.force_login(member)
    response = client.get(reverse("dashboard:export_letters", args=[campaign.slug]))
    with CaptureQueriesContext(connection) as captured:
        rows = _csv(response)
    (query,) = captured.captured_queries  # the letters and their deliveries, joined
    assert "letters_letter" in query["sql"]
    assert "delivery_delivery" in query["sql"]
    assert [(r["sender_country"], r["recipients"], r["channels"]) for r in rows] == [
        ("GB", "1", "email web_form"),
        ("IE", "1", "mailto"),
        ("", "0", ""),
        ("FR", "1", "mailto post web_form"),
        ("DE", "1", "mailto post web_form"),
    ]
    assert [int(r["letter"]) for r in rows] == sorted(int(r["letter"]) for r in rows)


def test_deliveries_neutralise_formulas(client: Client, campaign: Any, member: Any) -> None:
    client.force_login(member)
    rows = _csv(client.get(reverse("dashboard:export_deliveries", args=[campaign.slug])))
    assert [(r["recipient"], r["channel"], r["status"], r["evidence"]) for r in rows] == [
        ("Wend River Board", "email", "sent", "Platform delivered"),
        ("Wend River Board", "web_form", "reported", "Self-reported"),
        ('\'=HYPERLINK("http://evil.example")', "mailto", "reported", "Verified copy"),
    ]
    for personal in PERSONAL:
        assert personal not in str(rows)


def test_supporters_who_agree_now_with_the_exact_words(client: Client, campaign: Any, member: Any) -> None:
    client.force_login(member)
    response = client.get(reverse("dashboard:export_supporters", args=[campaign.slug]))
    assert "riverside-supporters-agreed-to-updates-" in response["Content-Disposition"]
    rows = _csv(response)
    assert [(r["email"], r["name"], r["country"]) for r in rows] == [
        ("ana@example.net", "Ana Ruiz", "GB"),
        ("f@example.net", "'@SUM(A1:A9)", "IE"),  # a formula made text
    ]  # who said yes and then no, and who agreed for another campaign, are not there
    assert rows[0]["wording_agreed_to"] == campaign_updates_wording(campaign)
    assert rows[0]["wording_agreed_to"].startswith("Yes, ")
    assert rows[0]["agreed_at"].startswith(timezone.localdate().isoformat())
    assert rows[0]["where"] == "thank-you page"


def test_supporters_who_unsubscribed_from_the_organisation_are_not_exported(
    client: Client, campaign: Any, member: Any
) -> None:
    ana = Supporter.objects.get(email="ana@example.net")
    unsubscribe(supporter=ana, organisation=campaign.organisation, wording="No more updates.")
    client.force_login(member)
    rows = _csv(client.get(reverse("dashboard:export_supporters", args=[campaign.slug])))
    assert [r["email"] for r in rows] == ["f@example.net"]


@pytest.fixture
def letter(organisation: Any, organiser: Any) -> OpenLetter:
    letter = make_open_letter(organisation)

    def add(name: str, email: str, **fields: Any) -> Any:
        data = endorsing.EndorsementInput(name=name, email=email, **fields)
        return endorsing.record_confirmed(letter=letter, data=data)

    add("Siobhán O’Brien", "s@example.ie", statement="Buses bring walkers.", country="IE")
    add("Quiet Person", "q@example.org", statement="Private words.", show_publicly=False)
    hidden = add("-2+3", "m@example.org")
    moderation.hide(endorsement=hidden, reason="fake", actor=organiser)
    letter.text += "\n\nAnd trains."
    letter.save()
    versions.record_version(letter=letter)
    letter.refresh_from_db()
    newer = add("Tomás Ó Briain", "t@example.ie", country="IE")
    supporter = SupporterFactory(email=newer.email, name=newer.name, country="IE")
    record_consent(supporter=supporter, purpose=ConsentPurpose.OPEN_LETTER_UPDATES, granted=True,
                   wording="Yes, email me updates about this letter.", source="open letter endorsement form",
                   open_letter=letter)  # fmt: skip
    return letter


def test_endorsements_with_their_version(client: Client, letter: OpenLetter, member: Any) -> None:
    client.force_login(member)
    rows = _csv(client.get(reverse("dashboard:export_endorsements", args=[letter.slug])))
    found = [(r["name"], r["status"], r["named_publicly"], r["hidden"], r["text_version"]) for r in rows]
    assert found == [
        ("Siobhán O’Brien", "confirmed", "yes", "no", "1"),
        ("Quiet Person", "confirmed", "no", "no", "1"),
        ("'-2+3", "confirmed", "no", "yes", "1"),
        ("Tomás Ó Briain", "confirmed", "yes", "no", "2"),
    ]
    assert rows[0]["public_statement"] == "Buses bring walkers."
    assert rows[1]["public_statement"] == ""  # not shown publicly, so not handed out
    assert rows[3]["text_fingerprint"] == letter.current_version.text_hash  # type: ignore[union-attr]
    assert "@example" not in str(rows)  # no email address

    agreed = _csv(client.get(reverse("dashboard:export_endorsers_agreed", args=[letter.slug])))
    assert [(r["email"], r["wording_agreed_to"]) for r in agreed] == [
        ("t@example.ie", "Yes, email me updates about this letter.")
    ]
    assert ActionLog.objects.filter(action="export.downloaded", actor=member).count() == 2


def _urls(campaign: Any, letter: OpenLetter) -> list[str]:
    return [
        reverse("dashboard:export_letters", args=[campaign.slug]),
        reverse("dashboard:export_deliveries", args=[campaign.slug]),
        reverse("dashboard:export_supporters", args=[campaign.slug]),
        reverse("dashboard:export_endorsements", args=[letter.slug]),
        reverse("dashboard:export_endorsers_agreed", args=[letter.slug]),
    ]


def test_only_who_runs_the_campaigns_gets_them(client: Client, campaign: Any, letter: OpenLetter) -> None:
    urls = _urls(campaign, letter)
    for url in urls:  # anonymous: sent to sign in
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={url}"
    other = UserFactory(username="other-organiser", is_staff=True)
    MembershipFactory(organisation=OrganisationFactory(slug="other"), user=other, role=Role.OWNER)
    moderator = UserFactory(username="moderator")
    MembershipFactory(organisation=campaign.organisation, user=moderator, role=Role.MODERATOR)
    for user in (other, moderator):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code in (403, 404), (user, url)
    assert not ActionLog.objects.filter(action="export.downloaded").exists()


def test_pages_link_to_the_exports(client: Client, campaign: Any, letter: OpenLetter, member: Any) -> None:
    client.force_login(member)
    deliveries = client.get(reverse("dashboard:deliveries", args=[campaign.slug])).content.decode()
    for name in ("export_letters", "export_deliveries", "export_supporters"):
        assert f'href="{reverse(f"dashboard:{name}", args=[campaign.slug])}" download' in deliveries
    page = client.get(reverse("dashboard:open_letter", args=[letter.slug])).content.decode()
    for name in ("export_endorsements", "export_endorsers_agreed"):
        assert f'href="{reverse(f"dashboard:{name}", args=[letter.slug])}" download' in page
