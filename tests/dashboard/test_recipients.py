"""The workspace's recipients: one edited by hand, groups with vote weights, many from a CSV file."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.factories import (
    CampaignFactory,
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    RecipientFactory,
    UserFactory,
)
from undersigned.campaigns.enums import CampaignStatus, Channel
from undersigned.campaigns.models import Recipient, RecipientGroup, RecipientGroupMember
from undersigned.core.models import ActionLog
from undersigned.delivery.services import record_delivery
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

HEADER = ["Name", "Role", "Organisation", "Email", "Web form", "Postal address", "Country", "Language", "Vote weight"]
# A long official name with commas, a curly apostrophe and letters beyond ASCII.
LONG_NAME = "Ing. Jana Šimůnková, Ph.D., Předsedkyně, Česká asociace pěších turistů, z. s."
APOSTROPHE = "Máire O’Dwyer"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def words(response: Any) -> str:
    """What a person reads: the text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).replace(" ,", ",").replace(" .", ".").split())


def sections_csv(rows: int = 90, *, extra: list[list[str]] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerow([LONG_NAME, "President", "ČAPT", "predsedkyne@capt.example", "", "", "CZ", "cs", "3"])
    writer.writerow(
        [APOSTROPHE, "Chair", "Walkers Ireland", "", "", "1 Main Street / Dublin 2 / D02 XY45", "IE", "", ""]
    )
    for n in range(3, rows + 1):
        writer.writerow(
            [f"Section {n}", "Secretary", f"Walkers {n}", f"section{n}@walkers.example", "", "", "GB", "en", "1"]
        )
    for row in extra or []:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def upload(client: Client, organisation: Any, content: bytes, name: str = "sections.csv", **fields: Any) -> Any:
    url = reverse("dashboard:recipient_import", args=[organisation.slug])
    return client.post(url, {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **fields})


def preview_token(response: Any) -> str:
    match = re.search(r'name="preview" value="([^"]+)"', response.content.decode())
    assert match is not None
    return match.group(1)


def apply(client: Client, organisation: Any, token: str) -> Any:
    return client.post(reverse("dashboard:recipient_import_apply", args=[organisation.slug]), {"preview": token})


@pytest.fixture
def member_client(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def other_member() -> Any:
    """An organiser of another organisation."""
    user = UserFactory(username="other-organiser", is_staff=True)
    MembershipFactory(organisation=OrganisationFactory(slug="other-org", name="Other Org"), user=user, role=Role.OWNER)
    return user


# --- CSV import --------------------------------------------------------------------------


def test_a_group_of_90_from_a_csv_file_previewed_then_applied_once(
    member_client: Client, organisation: Any, member: Any
) -> None:
    group = RecipientGroup.objects.create(organisation=organisation, name="National sections")
    # With a byte order mark, as spreadsheets on Windows save "CSV UTF-8".
    response = upload(member_client, organisation, b"\xef\xbb\xbf" + sections_csv(), group=str(group.pk))
    assert response.status_code == 200, text(response)
    page = text(response)
    assert "90 rows: 90 new, 0 updated, 0 unchanged." in words(response)
    assert LONG_NAME in page
    assert Recipient.objects.filter(organisation=organisation).count() == 0  # nothing saved before applying

    token = preview_token(response)
    applied = apply(member_client, organisation, token)
    assert applied.status_code == 302
    assert applied["Location"] == reverse("dashboard:recipient_group", args=[organisation.slug, group.pk])
    assert Recipient.objects.filter(organisation=organisation).count() == 90
    jana = Recipient.objects.get(name=LONG_NAME)
    assert (jana.organisation_name, jana.email, jana.country, jana.language) == (
        "ČAPT",
        "predsedkyne@capt.example",
        "CZ",
        "cs",
    )
    maire = Recipient.objects.get(name=APOSTROPHE)
    assert maire.postal_address == "1 Main Street\nDublin 2\nD02 XY45"
    weights = dict(RecipientGroupMember.objects.filter(group=group).values_list("recipient__name", "vote_weight"))
    assert len(weights) == 90
    assert (weights[LONG_NAME], weights[APOSTROPHE], weights["Section 90"]) == (3, 1, 1)
    log = ActionLog.objects.get(action="recipients.imported")
    assert log.actor == member
    assert len(log.data["created"]) == 90
    assert LONG_NAME not in str(log.data)  # ids only

    # The same confirmation sent twice (a double click) changes nothing more.
    assert apply(member_client, organisation, token).status_code == 302
    assert Recipient.objects.filter(organisation=organisation).count() == 90

    # The group page shows them, with the weights.
    group_page = text(member_client.get(reverse("dashboard:recipient_group", args=[organisation.slug, group.pk])))
    assert "90 members" in group_page
    assert LONG_NAME in group_page


def test_importing_the_same_file_again_changes_nothing(member_client: Client, organisation: Any) -> None:
    apply(member_client, organisation, preview_token(upload(member_client, organisation, sections_csv())))
    stamps = dict(Recipient.objects.values_list("pk", "updated_at"))
    again = upload(member_client, organisation, sections_csv())
    assert "90 rows: 0 new, 0 updated, 90 unchanged." in words(again)
    assert apply(member_client, organisation, preview_token(again)).status_code == 302
    assert dict(Recipient.objects.values_list("pk", "updated_at")) == stamps


def test_rows_are_matched_by_email_or_by_name_and_organisation(member_client: Client, organisation: Any) -> None:
    by_email = RecipientFactory(organisation=organisation, name="Old name", email="Section3@Walkers.example")
    by_name = RecipientFactory(
        organisation=organisation, name=APOSTROPHE, organisation_name="Walkers Ireland", email="", country="IE"
    )
    response = upload(member_client, organisation, sections_csv(5))
    page = words(response)
    assert "5 rows: 3 new, 2 updated, 0 unchanged." in page
    assert "updated: name, role, organisation, email" in page
    apply(member_client, organisation, preview_token(response))
    by_email.refresh_from_db()
    by_name.refresh_from_db()
    assert (by_email.name, by_email.email) == ("Section 3", "section3@walkers.example")
    assert by_name.postal_address == "1 Main Street\nDublin 2\nD02 XY45"
    assert Recipient.objects.filter(organisation=organisation).count() == 5


def test_each_problem_is_named_with_its_row_and_column(member_client: Client, organisation: Any) -> None:
    bad = [
        ["", "Chair", "", "nobody@walkers.example", "", "", "GB", "", ""],
        ["Bad Email", "", "", "not-an-email", "", "", "", "", ""],
        ["Bad URL", "", "", "", "ftp://walkers.example", "", "", "", ""],
        ["Bad Country", "", "", "c@walkers.example", "", "", "gb", "", ""],
        ["Bad Weight", "", "", "w@walkers.example", "", "", "", "", "-2"],
        ["X" * 201, "", "", "long@walkers.example", "", "", "", "", ""],
        ["Section 4 again", "", "", "SECTION4@walkers.example", "", "", "", "", ""],
    ]
    response = upload(member_client, organisation, sections_csv(5, extra=bad))
    assert response.status_code == 400
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", html.unescape(response.content.decode())
    )
    assert rows == [
        ("7", "Name", "name is required"),
        ("8", "Email", 'email "not-an-email" is not a valid email address'),
        (
            "9",
            "Web form",
            'web_form_url "ftp://walkers.example" must be a web address starting with http:// or https://',
        ),
        ("10", "Country", 'country "gb" is not an ISO 3166-1 alpha-2 country code; did you mean "GB"?'),
        ("11", "Vote weight", "vote weight “-2” must be a whole number from 1 to 1,000,000"),
        ("12", "Name", "name is 201 characters long; the limit is 200"),
        ("13", "—", "repeats row 5 (the same email)"),
    ]
    assert "7 problems in the file; nothing was imported" in text(response)
    assert 'name="preview"' not in response.content.decode()  # nothing to apply
    assert Recipient.objects.count() == 0


def test_a_file_in_another_encoding_is_refused_next_to_the_file_field(member_client: Client, organisation: Any) -> None:
    latin1 = "Name,Email\nMáire O'Dwyer,maire@walkers.example\n".encode("latin-1")
    response = upload(member_client, organisation, latin1)
    assert response.status_code == 400
    page = text(response)
    assert re.search(r'id="field-file">.*?<p class="field-error" id="id_file_error"><strong>Error:</strong> '
                     r"The file is not UTF-8 text \(byte 13\); it may be Latin-1", page, re.S)  # fmt: skip
    utf16 = "Name,Email\nJana,jana@walkers.example\n".encode("utf-16")
    assert "The file is UTF-16, not UTF-8." in text(upload(member_client, organisation, utf16))
    assert Recipient.objects.count() == 0


def test_a_file_too_big_or_with_too_many_rows_is_refused(
    member_client: Client, organisation: Any, settings: Any
) -> None:
    settings.RECIPIENT_CSV_MAX_BYTES = 1000
    response = upload(member_client, organisation, sections_csv(90))
    assert response.status_code == 400
    assert "The file is larger than 1,000 bytes; split it into smaller files." in text(response)
    settings.RECIPIENT_CSV_MAX_BYTES = 1_000_000
    settings.RECIPIENT_CSV_MAX_ROWS = 50
    response = upload(member_client, organisation, sections_csv(90))
    assert response.status_code == 400
    assert "The file has more than 50 rows; split it into smaller files." in text(response)


def test_an_unknown_column_is_named(member_client: Client, organisation: Any) -> None:
    response = upload(member_client, organisation, b"Name,Phone\nJana,123\n")
    assert response.status_code == 400
    assert "Unknown column “Phone”. The columns are: name, role, organisation" in text(response)


def test_formula_like_cells_are_stored_as_text_and_shown_escaped(member_client: Client, organisation: Any) -> None:
    content = b'name,email\n"=HYPERLINK(""http://evil.example"",""x"")",f@walkers.example\n'
    response = upload(member_client, organisation, content)
    assert response.status_code == 200
    assert "=HYPERLINK(&quot;http://evil.example&quot;" in response.content.decode()
    apply(member_client, organisation, preview_token(response))
    assert Recipient.objects.get().name == '=HYPERLINK("http://evil.example","x")'


def test_another_organisations_member_can_neither_see_nor_apply_an_import(
    member_client: Client, organisation: Any, other_member: Any
) -> None:
    token = preview_token(upload(member_client, organisation, sections_csv(3)))
    other = Client()
    other.force_login(other_member)
    assert other.get(reverse("dashboard:recipient_import", args=[organisation.slug])).status_code == 404
    assert apply(other, organisation, token).status_code == 404
    # Into their own organisation, the token is not theirs: refused, nothing saved.
    mine = other_member.memberships.get().organisation
    refused = apply(other, mine, token)
    assert refused.status_code == 400
    assert "This preview has expired or was not made for you." in text(refused)
    assert Recipient.objects.count() == 0


# --- One recipient, groups ------------------------------------------------------------


def test_a_recipient_is_created_and_edited_with_the_campaign_files_checks(
    member_client: Client, organisation: Any
) -> None:
    new = reverse("dashboard:recipient_new", args=[organisation.slug])
    response = member_client.post(new, {"name": APOSTROPHE, "email": "maire@", "country": "ie"})
    assert response.status_code == 400
    page = text(response)
    assert f'value="{APOSTROPHE}"' in page
    assert 'email "maire@" is not a valid email address' in page
    assert 'country "ie" is not an ISO 3166-1 alpha-2 country code; did you mean "IE"?' in page

    response = member_client.post(
        new,
        {
            "name": APOSTROPHE,
            "email": "maire@walkers.example",
            "country": "IE",
            "postal_address": "1 Main St\r\nDublin",
        },
    )
    assert response.status_code == 302
    recipient = Recipient.objects.get()
    assert (recipient.organisation, recipient.postal_address) == (organisation, "1 Main St\nDublin")

    edit = reverse("dashboard:recipient", args=[organisation.slug, recipient.pk])
    assert member_client.get(edit).status_code == 200
    response = member_client.post(edit, {"name": "Máire O’Dwyer TD", "email": "maire@walkers.example", "country": "IE"})
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert (recipient.name, recipient.postal_address) == ("Máire O’Dwyer TD", "")


def test_the_list_is_searched_by_name_and_paginated(member_client: Client, organisation: Any) -> None:
    for n in range(60):
        RecipientFactory(organisation=organisation, name=f"Section {n:02d}")
    RecipientFactory(organisation=organisation, name=LONG_NAME)
    RecipientFactory(organisation=OrganisationFactory(slug="elsewhere"), name="Šimůnková elsewhere")
    url = reverse("dashboard:recipients", args=[organisation.slug])
    page = text(member_client.get(url))
    assert "61 recipients." in page
    assert "Page 1 of 2" in page
    found = text(member_client.get(url, {"q": "šimůnk"}))
    assert "1 recipient with “šimůnk” in the name." in found
    assert LONG_NAME in found
    assert "elsewhere" not in found


def test_a_recipient_with_letters_or_on_a_live_campaign_is_not_deleted(
    member_client: Client, organisation: Any
) -> None:
    campaign = CampaignFactory(organisation=organisation, status=CampaignStatus.LIVE)
    live = campaign.recipients.get()
    url = reverse("dashboard:recipient_delete", args=[organisation.slug, live.pk])
    assert "A live campaign writes to this recipient." in text(member_client.get(url))
    assert member_client.post(url).status_code == 409
    campaign.status = CampaignStatus.CLOSED
    campaign.save()
    record_delivery(letter=LetterFactory(campaign=campaign), recipient=live, channel=Channel.POST)
    refused = member_client.post(url)
    assert refused.status_code == 409
    assert "Letters went to this recipient, so it stays" in text(refused)
    assert Recipient.objects.filter(pk=live.pk).exists()

    spare = RecipientFactory(organisation=organisation)
    response = member_client.post(reverse("dashboard:recipient_delete", args=[organisation.slug, spare.pk]))
    assert response.status_code == 302
    assert not Recipient.objects.filter(pk=spare.pk).exists()


def test_a_group_is_made_renamed_and_its_weights_set(member_client: Client, organisation: Any) -> None:
    groups = reverse("dashboard:recipient_groups", args=[organisation.slug])
    assert member_client.post(groups, {"name": ""}).status_code == 400
    response = member_client.post(groups, {"name": "National sections", "decision_date": "2027-04-24"})
    group = RecipientGroup.objects.get()
    assert response["Location"] == reverse("dashboard:recipient_group", args=[organisation.slug, group.pk])
    jana = RecipientFactory(organisation=organisation, name=LONG_NAME)
    maire = RecipientFactory(organisation=organisation, name=APOSTROPHE)
    for recipient, weight in ((jana, "3"), (maire, "1")):
        url = reverse("dashboard:recipient_add_to_group", args=[organisation.slug, recipient.pk])
        assert member_client.post(url, {"group": group.pk, "vote_weight": weight}).status_code == 302
    page = reverse("dashboard:recipient_group", args=[organisation.slug, group.pk])
    bad = member_client.post(page, {"action": "members", f"weight-{jana.pk}": "0", f"weight-{maire.pk}": "2"})
    assert bad.status_code == 400
    assert 'value="0"' in bad.content.decode()
    assert "A vote weight is a whole number from 1." in text(bad)
    good = member_client.post(
        page, {"action": "members", f"weight-{jana.pk}": "5", f"weight-{maire.pk}": "2", f"remove-{maire.pk}": "1"}
    )
    assert good.status_code == 302
    assert list(RecipientGroupMember.objects.values_list("recipient__name", "vote_weight")) == [(LONG_NAME, 5)]
    member_client.post(page, {"action": "rename", "name": "Member associations", "decision_date": ""})
    group.refresh_from_db()
    assert (group.name, group.decision_date) == ("Member associations", None)


def test_another_organisations_member_reaches_none_of_these_pages(organisation: Any, other_member: Any) -> None:
    recipient = RecipientFactory(organisation=organisation, name=LONG_NAME)
    group = RecipientGroup.objects.create(organisation=organisation, name="National sections")
    client = Client()
    client.force_login(other_member)
    slug = organisation.slug
    assert client.get(reverse("dashboard:recipients", args=[slug])).status_code == 404
    for url in (
        reverse("dashboard:recipient", args=[slug, recipient.pk]),
        reverse("dashboard:recipient_delete", args=[slug, recipient.pk]),
        reverse("dashboard:recipient_groups", args=[slug]),
        reverse("dashboard:recipient_group", args=[slug, group.pk]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Taken over"}).status_code == 404
    # Their own organisation's address with this organisation's ids: 404 as well.
    mine = other_member.memberships.get().organisation.slug
    assert client.get(reverse("dashboard:recipient", args=[mine, recipient.pk])).status_code == 404
    assert client.get(reverse("dashboard:recipient_group", args=[mine, group.pk])).status_code == 404
    recipient.refresh_from_db()
    assert recipient.name == LONG_NAME
