"""Campaign files in the workspace: what `export` writes, downloaded; what `import` reads, uploaded."""

from __future__ import annotations

import html
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.campaigns.test_campaign_files import VALID
from tests.campaigns.test_commands import BAD
from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.languages import pseudo_translations
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.campaign_files import dump
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.services import export_campaign
from undersigned.core.models import ActionLog
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services.files import export_open_letter
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def upload(client: Client, organisation: Any, content: bytes, name: str = "campaign.toml") -> Any:
    url = reverse("dashboard:campaign_files", args=[organisation.slug])
    return client.post(url, {"file": SimpleUploadedFile(name, content, content_type="application/toml")})


@pytest.fixture
def member_client(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def other() -> tuple[Any, Client]:
    """Organisation B and a client signed in as its owner."""
    organisation = OrganisationFactory(slug="organisation-b", name="Organisation B")
    user = UserFactory(username="b-owner", is_staff=True)
    MembershipFactory(organisation=organisation, user=user, role=Role.OWNER)
    client = Client()
    client.force_login(user)
    return organisation, client


def test_a_file_uploaded_creates_then_updates_the_campaign(
    member_client: Client, organisation: Any, member: Any
) -> None:
    response = upload(member_client, organisation, VALID.encode())
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="keep-the-riverside-path-open")
    assert campaign.organisation == organisation
    page = text(member_client.get(response["Location"]))
    assert "Created campaign “Keep the riverside path open” (keep-the-riverside-path-open, live)." in page
    assert ActionLog.objects.get(action="campaign.created").actor == member

    again = upload(member_client, organisation, VALID.encode())
    assert "Updated campaign" in text(member_client.get(again["Location"]))


def test_a_download_is_what_export_writes_and_imports_back(
    member_client: Client, organisation: Any, campaign: Any
) -> None:
    response = member_client.get(reverse("dashboard:campaign_file", args=[campaign.slug]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{campaign.slug}.toml"'
    assert response["Cache-Control"].startswith("private")
    assert response.content.decode() == dump(export_campaign(campaign))
    letter = make_open_letter(organisation)
    response = member_client.get(reverse("dashboard:open_letter_file", args=[letter.slug]))
    assert response.content.decode() == dump(export_open_letter(letter))
    assert upload(member_client, organisation, response.content).status_code == 302


def test_a_bad_file_gets_the_commands_messages_next_to_the_field(member_client: Client, organisation: Any) -> None:
    response = upload(member_client, organisation, BAD.encode(), name="bad.toml")
    assert response.status_code == 400
    page = text(response)
    assert "<strong>Error:</strong> bad.toml: 3 problems; nothing was imported." in page
    assert "<li>line 1: campaign.title is required</li>" in page
    assert "<li>line 3: unknown key campaign.titel; did you mean campaign.title?</li>" in page
    assert (
        '<li>line 38: recipients[2].country "cz" is not an ISO 3166-1 alpha-2 country code; did you mean "CZ"?</li>'
        in page
    )
    latin1 = upload(
        member_client,
        organisation,
        VALID.replace("Š", "S").replace("ů", "u").replace("Keep", "Kéép").encode("latin-1", errors="replace"),
        name="l1.toml",
    )
    assert latin1.status_code == 400
    assert "l1.toml: not UTF-8 text; save the file as UTF-8 and try again." in text(latin1)
    assert not Campaign.objects.exists()


def test_a_file_too_big_is_refused(member_client: Client, organisation: Any, settings: Any) -> None:
    settings.CAMPAIGN_FILE_UPLOAD_MAX_BYTES = 100
    response = upload(member_client, organisation, VALID.encode())
    assert response.status_code == 400
    assert "The file is larger than 100 bytes" in text(response)
    assert not Campaign.objects.exists()


def test_an_organiser_of_one_organisation_cannot_reach_the_others_through_the_upload(
    member_client: Client, organisation: Any, other: tuple[Any, Client]
) -> None:
    b, b_client = other
    theirs = CampaignFactory(organisation=b, slug="keep-the-riverside-path-open", title="B's own campaign")
    letter = make_open_letter(b)
    before = (dump(export_campaign(theirs)), dump(export_open_letter(letter)))

    # A file with B's campaign slug, uploaded to A: refused with the command's message.
    response = upload(member_client, organisation, VALID.encode())
    assert response.status_code == 400
    assert 'campaign.slug "keep-the-riverside-path-open" is already used by another organisation' in text(response)
    # B's open letter, exported by B, uploaded to A: refused the same way.
    response = upload(member_client, organisation, before[1].encode())
    assert response.status_code == 400
    assert 'open_letter.slug "walkers-for-resolution-7" is already used by another organisation' in text(response)
    # An open letter of A's own that names B's campaign as its composer: refused.
    own = (
        before[1]
        .replace("walkers-for-resolution-7", "a-letter-of-a")
        .replace('campaign = ""', 'campaign = "keep-the-riverside-path-open"')
    )
    response = upload(member_client, organisation, own.encode())
    assert response.status_code == 400
    assert 'open_letter.campaign "keep-the-riverside-path-open" is not a campaign of' in text(response)
    # B's page, B's downloads: not A's to open.
    assert (
        member_client.post(
            reverse("dashboard:campaign_files", args=[b.slug]),
            {"file": SimpleUploadedFile("x.toml", VALID.encode())},
        ).status_code
        == 404
    )
    assert member_client.get(reverse("dashboard:campaign_files", args=[b.slug])).status_code == 404
    assert member_client.get(reverse("dashboard:campaign_file", args=[theirs.slug])).status_code == 404
    assert member_client.get(reverse("dashboard:open_letter_file", args=[letter.slug])).status_code == 404
    theirs.refresh_from_db()
    assert (dump(export_campaign(theirs)), dump(export_open_letter(OpenLetter.objects.get(pk=letter.pk)))) == before
    assert not OpenLetter.objects.filter(slug="a-letter-of-a").exists()
    # And B's owner sees their own.
    assert b_client.get(reverse("dashboard:campaign_file", args=[theirs.slug])).status_code == 200


def test_the_problems_of_a_file_are_in_the_organisers_language_and_the_command_stays_in_english(
    member_client: Client, organisation: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, settings: Any
) -> None:
    # The catalogues get the messages after translators see them: the pseudo-translation
    # shows each one went through gettext, in the language of the page.
    pseudo_translations(monkeypatch, "fr")
    url = reverse("dashboard:campaign_files", args=[organisation.slug])
    page = text(upload_in(member_client, url, BAD.encode(), "fr"))
    assert "⟦bad.toml: 3 problems; nothing was imported.⟧" in page
    # A problem at a line: the line's sentence around the problem's, each translated.
    assert "<li>⟦line 1: ⟦campaign.title is required⟧⟧</li>" in page
    assert "⟦unknown key campaign.titel; did you mean campaign.title?⟧" in page
    assert '⟦recipients[2].country "cz" is not an ISO 3166-1 alpha-2 country code; did you mean "CZ"?⟧' in page
    broken = text(upload_in(member_client, url, b"[campaign\n", "fr"))
    assert "⟦line 1, column 10: not valid TOML: Expected ']' at the end of a table declaration⟧" in broken
    # The command, in the same process, prints the operator's language: English.
    campaign_file = tmp_path / "bad.toml"
    campaign_file.write_text(BAD, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_campaign", str(campaign_file), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == (
        f"{campaign_file}: line 1: campaign.title is required\n"
        f"{campaign_file}: line 3: unknown key campaign.titel; did you mean campaign.title?\n"
        f'{campaign_file}: line 38: recipients[2].country "cz" is not an ISO 3166-1 alpha-2 country code; '
        'did you mean "CZ"?\n'
    )

    # A number in a problem has its plural.
    settings.CAMPAIGN_TAGS_MAX = 1
    tagged = VALID.replace('tags = ["walking", "schools"]', 'tags = ["a", "b", "c"]')
    assert "⟦campaign.tags lists 3 tags; the limit is 1 per campaign⟧" in text(
        upload_in(member_client, url, tagged.encode(), "fr")
    )


def upload_in(client: Client, url: str, content: bytes, language: str) -> Any:
    file = SimpleUploadedFile("bad.toml", content, content_type="application/toml")
    return client.post(url, {"file": file}, HTTP_ACCEPT_LANGUAGE=language)
