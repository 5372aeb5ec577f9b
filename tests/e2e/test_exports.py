"""An organiser downloads a campaign's and an open letter's CSV exports in a real browser,
on a phone and on a desktop; the files read back as the spreadsheet would."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_serious_violations
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.delivery.services import record_delivery
from undersigned.openletters.services import endorsing

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _download(page: Page, link: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link, exact=True).click()
    download = info.value
    path = download.path()
    assert path is not None
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert download.suggested_filename.endswith(".csv")
    return rows


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_organiser_downloads_the_campaigns_exports(
    organiser_page: Callable[..., Page], organisation: Any, viewport: dict[str, int]
) -> None:
    board = RecipientFactory(organisation=organisation, name="Wend River Board", email="board@wend.example")
    campaign = CampaignFactory(organisation=organisation, slug="keep-the-riverside-path-open", recipients=[board])
    record_delivery(letter=LetterFactory(campaign=campaign), recipient=board, channel=Channel.WEB_FORM)
    page = organiser_page(viewport=viewport, bypass_csp=True, accept_downloads=True)
    page.goto(f"/dashboard/campaigns/{campaign.slug}/deliveries/")
    expect(page.get_by_role("heading", name="Download as a spreadsheet")).to_be_visible()
    assert_no_serious_violations(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_role("heading", name="Download as a spreadsheet").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"exports-deliveries-{viewport['width']}.png"))

    letters = _download(page, "Letters")
    assert [(r["channels"], r["evidence_reached"]) for r in letters] == [("web_form", "Self-reported")]
    deliveries = _download(page, "Deliveries")
    assert [r["recipient"] for r in deliveries] == ["Wend River Board"]
    assert _download(page, "Supporters who agreed to hear more") == []


def test_the_organiser_downloads_the_open_letters_endorsements(
    organiser_page: Callable[..., Page], organisation: Any
) -> None:
    letter = make_open_letter(organisation)
    endorsing.record_confirmed(
        letter=letter, data=endorsing.EndorsementInput(name="Siobhán O’Brien", country="IE", email="s@example.ie")
    )
    page = organiser_page(viewport=PHONE, bypass_csp=True, accept_downloads=True)
    page.goto(f"/dashboard/open-letters/{letter.slug}/")
    expect(page.get_by_role("heading", name="Download as a spreadsheet")).to_be_visible()
    assert_no_serious_violations(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("heading", name="Download as a spreadsheet").scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "exports-open-letter-375.png"))
    rows = _download(page, "All endorsements")
    assert [(r["name"], r["text_version"]) for r in rows] == [("Siobhán O’Brien", "1")]
