"""The results pages in Chromium: the charts show under the site's own Content Security
Policy (no exception for them), nothing overflows a phone, axe finds nothing serious, and
the screenshots are kept for a person to look at."""

from __future__ import annotations

import copy
import csv
import datetime
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_serious_violations
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import CHANNEL_NAMES_FOR_ORGANISERS, Channel
from undersigned.core import countries
from undersigned.delivery.models import Delivery, Evidence
from undersigned.delivery.services import record_delivery
from undersigned.delivery.tallies import tallying
from undersigned.letters import tallies as letter_tallies
from undersigned.letters.models import ComposerOpenedDay, Letter
from undersigned.openletters.services import endorsing

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
COUNTRIES = ("GB", "IE", "FR", "DE", "CZ", "")
LEVELS = (Evidence.NONE, Evidence.SELF_REPORTED, Evidence.VERIFIED_COPY, Evidence.PLATFORM_DELIVERED)


def _campaign(organisation: Any) -> Any:
    board = RecipientFactory(organisation=organisation, name="Wend River Board", country="GB")
    chair = RecipientFactory(organisation=organisation, name="Chair of the Council", country="IE")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])
    today = timezone.localdate()
    channels = (Channel.EMAIL, Channel.MAILTO, Channel.WEB_FORM, Channel.POST)
    for n in range(24):
        letter = LetterFactory(
            campaign=campaign, sender_country=COUNTRIES[n % len(COUNTRIES)], uniqueness=(n * 13) % 101
        )
        saved = copy.copy(letter)  # written days ago: the day's tally moves with it
        Letter.objects.filter(pk=letter.pk).update(created_at=timezone.now() - datetime.timedelta(days=n % 9))
        letter.refresh_from_db()
        letter_tallies.move_letter(saved, letter)
        delivery = record_delivery(letter=letter, recipient=(board, chair)[n % 2], channel=channels[n % 4])
        with tallying([letter.pk]):  # levels set directly (a reply has no service yet), tallies moved with them
            Delivery.objects.filter(pk=delivery.pk).update(evidence=LEVELS[n % 4] if n % 7 else Evidence.REPLY_RECEIVED)
    for days in range(10):
        ComposerOpenedDay.objects.create(campaign=campaign, day=today - datetime.timedelta(days=days), count=3 + days)
    return campaign


def _look(page: Page, url: str, name: str, viewport: dict[str, int]) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible()
    charts = page.locator("img.chart")
    assert charts.count() >= 3
    for index in range(charts.count()):  # every chart drawn (a broken image has no width)
        assert charts.nth(index).evaluate("(img) => img.complete && img.naturalWidth > 0")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport['width']}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_campaign_results_under_the_sites_csp(
    organiser_page: Callable[..., Page], organisation: Any, viewport: dict[str, int]
) -> None:
    campaign = _campaign(organisation)
    page = organiser_page(viewport=viewport)  # the real CSP: a refused style or image fails the test
    _look(page, f"/dashboard/campaigns/{campaign.slug}/results/", "results-campaign", viewport)


def test_results_pages_pass_axe_on_a_phone_and_read_without_javascript(
    organiser_page: Callable[..., Page], organisation: Any
) -> None:
    campaign = _campaign(organisation)
    letter = make_open_letter(organisation)
    for n, country in enumerate(("IE", "IE", "CZ", "JP", "")):
        endorsing.record_confirmed(
            letter=letter,
            data=endorsing.EndorsementInput(name=f"Endorser {n}", country=country, email=f"e{n}@example.org"),
        )
    page = organiser_page(viewport=PHONE, bypass_csp=True)
    for url in (f"/dashboard/campaigns/{campaign.slug}/results/", f"/dashboard/open-letters/{letter.slug}/results/"):
        page.goto(url)
        assert_no_serious_violations(page)
    _look(organiser_page(viewport=PHONE), f"/dashboard/open-letters/{letter.slug}/results/", "results-letter", PHONE)
    quiet = organiser_page(viewport=PHONE, java_script_enabled=False)
    quiet.goto(f"/dashboard/campaigns/{campaign.slug}/results/")
    expect(quiet.get_by_role("table", name="Letters at each step")).to_be_visible()
    expect(quiet.get_by_role("row", name="Letter saved 24")).to_be_visible()


def _page_table(page: Page, name: str) -> list[list[str]]:
    """A results table as a person reads it: each body row's cells, header cell first."""
    rows = page.get_by_role("table", name=name).locator("tbody tr")
    return [
        [cell.strip() for cell in rows.nth(index).locator("th, td").all_inner_texts()] for index in range(rows.count())
    ]


def _number(text: str) -> int:
    return int(text.replace(",", "").replace("\u202f", "").replace("\xa0", ""))


def test_the_results_page_and_its_letters_csv_agree_with_the_database(
    organiser_page: Callable[..., Page], organisation: Any
) -> None:
    """The organiser reads the results page, follows it to the deliveries page and
    downloads the letters CSV: the funnel, the ways of sending and the countries on the
    page, and the CSV's rows, are what the database holds, counted again here."""
    campaign = _campaign(organisation)
    letters = Letter.objects.filter(campaign=campaign)
    deliveries = Delivery.objects.filter(letter__campaign=campaign)
    best = {letter.pk: max((d.evidence for d in letter.deliveries.all()), default=None) for letter in letters}
    page = organiser_page(viewport=DESKTOP, accept_downloads=True)
    page.goto(f"/dashboard/campaigns/{campaign.slug}/results/")

    funnel = {label: _number(n) for label, n in _page_table(page, "Letters at each step")}
    assert funnel["Letter saved"] == letters.count() == 24
    for level in (Evidence.SELF_REPORTED, Evidence.VERIFIED_COPY, Evidence.PLATFORM_DELIVERED, Evidence.REPLY_RECEIVED):
        assert funnel[str(level.label)] == sum(1 for b in best.values() if b is not None and b >= level), level.label
    channels = {
        row[0]: [_number(n) for n in row[1:]]
        for row in _page_table(page, "Deliveries by way of sending and evidence reached (at least)")
    }
    names = {channel: str(name) for channel, name in CHANNEL_NAMES_FOR_ORGANISERS.items()}
    for channel, name in names.items():
        mine = deliveries.filter(channel=channel)
        assert channels[name] == [
            mine.count(),
            *(mine.filter(evidence__gte=level).count() for level in (10, 20, 30, 40)),
        ], name
    by_country = {
        name: _number(n)
        for name, n in _page_table(page, "Letters by the writer's country (the chart shows the first 15)")
    }
    expected = {
        (countries.name(code) if code else "Not given"): letters.filter(sender_country=code).count()
        for code in set(letters.values_list("sender_country", flat=True))
    }
    assert by_country == expected

    page.get_by_role("link", name="Deliveries", exact=True).click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Letters", exact=True).click()
    path = info.value.path()
    assert path is not None
    rows = list(csv.DictReader(io.StringIO(Path(path).read_bytes().decode("utf-8-sig"))))
    assert sorted(int(row["letter"]) for row in rows) == sorted(letters.values_list("pk", flat=True))
    assert len(rows) == funnel["Letter saved"]
    labels = {str(level.label): level.value for level in Evidence}
    for level in (Evidence.SELF_REPORTED, Evidence.VERIFIED_COPY, Evidence.PLATFORM_DELIVERED, Evidence.REPLY_RECEIVED):
        assert sum(1 for row in rows if labels[row["evidence_reached"]] >= level) == funnel[str(level.label)]
    csv_countries = Counter((countries.name(r["sender_country"]) if r["sender_country"] else "Not given") for r in rows)
    assert dict(csv_countries) == by_country
    for channel, name in names.items():
        assert sum(1 for row in rows if channel.value in row["channels"].split()) == channels[name][0]
