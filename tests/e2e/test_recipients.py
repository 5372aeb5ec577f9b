"""An organiser imports a group of recipients from a CSV file in a real browser, on a phone too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.test_recipients import LONG_NAME, sections_csv
from tests.e2e.conftest import assert_no_serious_violations
from undersigned.campaigns.models import RecipientGroup, RecipientGroupMember

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_the_organiser_imports_a_group_of_90_from_a_csv_file(
    organiser_page: Callable[..., Page], live_server: Any, organisation: Any, tmp_path: Path, viewport: Any
) -> None:
    RecipientGroup.objects.create(organisation=organisation, name="National sections")
    csv_file = tmp_path / "sections.csv"
    csv_file.write_bytes(sections_csv())
    page = organiser_page(viewport=viewport, bypass_csp=True)
    name = "phone" if viewport == PHONE else "desktop"

    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Recipients", exact=True).click()
    page.get_by_role("link", name="Import from a CSV file").click()
    assert_no_serious_violations(page)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_label("Also put them in a group").select_option(label="National sections")
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("preview-counts")).to_contain_text("90 new")
    assert_no_serious_violations(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"recipients-import-preview-{name}.png"), full_page=False)
    # Nothing wider than the screen: the table scrolls inside its own box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]

    page.get_by_role("button", name="Apply these changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("National sections")
    expect(page.get_by_role("status")).to_contain_text("Imported: 90 new, 0 updated, 0 unchanged.")
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / f"recipients-group-{name}.png"), full_page=False)
    assert RecipientGroupMember.objects.count() == 90

    page.get_by_role("link", name=LONG_NAME).click()
    expect(page.get_by_label("Name", exact=True)).to_have_value(LONG_NAME)
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / f"recipients-edit-{name}.png"), full_page=False)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]

    page.goto(f"{live_server.url}/dashboard/organisations/{organisation.slug}/recipients/")
    page.get_by_label("Search by name").fill("šimůnk")
    page.get_by_label("Search by name").press("Enter")
    expect(page.get_by_test_id("recipient-count")).to_contain_text("1 recipient")
    page.screenshot(path=str(SCREENSHOTS / f"recipients-list-{name}.png"), full_page=False)

    page.goto(f"{live_server.url}/dashboard/organisations/{organisation.slug}/campaign-files/")
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / f"campaign-files-{name}.png"), full_page=False)
