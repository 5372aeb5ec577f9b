"""An organiser hands an open letter to every section at once, in a real browser: builds
every pack in one batch (a real worker), downloads the ZIP, emails each section its pack
(the real engine into a real SMTP sink), records a hand-in by keyboard and sees each
section's status; at 375 px and with axe-core."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import assert_no_serious_violations
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.models import Recipient
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import endorsing

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 812}


@pytest.fixture
def letter(organisation: Any) -> OpenLetter:
    letter = make_open_letter(organisation)
    for name, email, country in (
        ("Siobhán O'Brien", "s@example.ie", "IE"),
        ("Jana Nováková", "j@example.cz", "CZ"),
        ("Petr Dvořák", "p@example.cz", "CZ"),
    ):
        endorsing.record_confirmed(
            letter=letter, data=endorsing.EndorsementInput(name=name, email=email, country=country)
        )
    members = {r.country: r for r in Recipient.objects.filter(groups=letter.recipient_group_id)}
    Recipient.objects.filter(pk=members["IE"].pk).update(email="ie@sections.example")
    Recipient.objects.filter(pk=members["CZ"].pk).update(email="cz@sections.example")
    Recipient.objects.filter(pk=members["JP"].pk).update(email="")
    letter.refresh_from_db()
    return letter


def test_an_organiser_builds_downloads_sends_and_follows_every_section(
    organiser_page: Callable[..., Page], letter: OpenLetter, run_worker: Any, smtp_sink: Any, tmp_path: Path
) -> None:
    page = organiser_page(bypass_csp=True, accept_downloads=True)
    page.goto(f"/dashboard/open-letters/{letter.slug}/")
    if shots := os.environ.get("UNDERSIGNED_SCREENSHOTS"):
        page.get_by_test_id("sections-link").scroll_into_view_if_needed()
        page.screenshot(path=f"{shots}/open-letter-1280.png")
    page.get_by_test_id("sections-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand in to every section")
    expect(page.get_by_text("Build the packs first.")).to_be_visible()

    build = page.get_by_role("button", name="Build every section's pack")
    build.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Every section's pack is being built.")
    expect(page.get_by_test_id("batch-status")).to_have_text("Waiting to start.")
    expect(page.get_by_role("button", name="Build every section's pack")).to_have_count(0)  # no second batch

    run_worker()
    page.get_by_role("link", name="Refresh").click()
    expect(page.get_by_test_id("batch-status")).to_contain_text("Ready: 3 sections' packs, built")
    with page.expect_download() as started:
        page.get_by_test_id("zip-download").click()
    path = tmp_path / started.value.suggested_filename
    started.value.save_as(path)
    assert path.name.endswith(".zip")
    names = zipfile.ZipFile(io.BytesIO(path.read_bytes())).namelist()
    assert len(names) == 6
    assert sorted(name.split("-", 1)[0] for name in names) == ["cz", "cz", "ie", "ie", "jp", "jp"]

    page.get_by_role("button", name="Email every section its pack").click()
    expect(page.get_by_role("status")).to_contain_text("2 packs are queued to be emailed.")
    expect(page.get_by_role("status")).to_contain_text("1 member has no usable email address")
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.parsed()) == [
        "cz@sections.example",
        "ie@sections.example",
    ]
    page.reload()
    table = page.get_by_test_id("members")
    expect(table.get_by_text("by email from the platform")).to_have_count(2)
    expect(table.get_by_text("Platform delivered")).to_have_count(2)
    japan = page.locator("tr", has=page.get_by_role("rowheader", name="Chihiro Nakamura"))
    expect(japan).to_contain_text("No usable email address: hand in another way")

    # The Japanese section got its pack in person: recorded by keyboard.
    choose = page.get_by_label("Handed in to Chihiro Nakamura")
    choose.select_option("in_person")
    page.get_by_role("button", name="Record hand-in to Chihiro Nakamura").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Hand-in to Chihiro Nakamura recorded.")
    japan = page.locator("tr", has=page.get_by_role("rowheader", name="Chihiro Nakamura"))
    expect(japan).to_contain_text("in person")
    expect(japan).to_contain_text("Self-reported")
    page.get_by_role("button", name="Reply received from Chihiro Nakamura").click()
    japan = page.locator("tr", has=page.get_by_role("rowheader", name="Chihiro Nakamura"))
    expect(japan).to_contain_text("Reply received")

    assert_no_serious_violations(page)
    if shots:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=f"{shots}/sections-1280.png", full_page=True)
    page.set_viewport_size(PHONE)
    # Nothing spills out sideways on a 375 px screen (the table scrolls in its own region).
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    if shots:
        page.screenshot(path=f"{shots}/sections-375.png", full_page=True)
