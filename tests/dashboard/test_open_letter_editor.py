"""The open-letter editor: create, preview, publish, edit with endorsements (a new version
only for a changed text), archive, duplicate; nobody of another organisation can."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory, RecipientFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.models import RecipientGroup
from undersigned.openletters.models import OpenLetter, OpenLetterStatus, OpenLetterVersion
from undersigned.openletters.services import endorsing
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def other_organiser(db: Any) -> Any:
    user = UserFactory(username="b-owner", email="b-owner@example.org")
    MembershipFactory(organisation=OrganisationFactory(slug="organisation-b", name="Org B"), user=user, role=Role.OWNER)
    return user


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Keep the night buses",
        "slug": "",
        "summary": "The last bus home matters.",
        "text": "Dear councillors,\r\n\r\nWe ask you to **keep the night buses**.\r\n",
        "authors": "Ana Ruiz; Mayor; Wendmouth\r\nMina Okafor",
        "tags": "buses, night",
        "language": "en",
        "deadline": "",
        "recipient_group": "",
        "letter_campaign": "",
        "action": "save",
    }
    data.update(changes)
    return data


def test_create_preview_publish(client_of: Client, organisation: Any) -> None:
    recipient = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    new_url = reverse("dashboard:open_letter_new", args=[organisation.slug])
    assert client_of.get(new_url).status_code == 200
    preview = client_of.post(new_url, _form(action="preview", recipients=[str(recipient.pk)]))
    assert preview.status_code == 200
    assert "<strong>keep the night buses</strong>" in preview.content.decode()
    assert not OpenLetter.objects.exists()

    created = client_of.post(new_url, _form(recipients=[str(recipient.pk)]))
    again = client_of.post(new_url, _form(recipients=[str(recipient.pk)]))  # a double click
    letter = OpenLetter.objects.get()
    assert created["Location"] == again["Location"] == reverse("dashboard:open_letter_edit", args=[letter.slug])
    assert letter.slug == "keep-the-night-buses"
    assert letter.text == "Dear councillors,\n\nWe ask you to **keep the night buses**."
    assert letter.authors == [
        {"name": "Ana Ruiz", "role": "Mayor", "place": "Wendmouth"},
        {"name": "Mina Okafor", "role": "", "place": ""},
    ]
    assert list(letter.recipients.all()) == [recipient]
    assert letter.status == OpenLetterStatus.DRAFT
    page_url = reverse("openletters:letter", args=[letter.slug])
    assert Client().get(page_url).status_code == 404
    draft = client_of.get(page_url)
    assert "Draft — only your team can see this." in draft.content.decode()
    assert draft["Cache-Control"] == "private, no-store"

    client_of.post(reverse("dashboard:open_letter_status", args=[letter.slug]), {"status": "published"})
    letter.refresh_from_db()
    assert letter.status == OpenLetterStatus.PUBLISHED
    assert letter.current_version is not None
    assert letter.current_version.number == 1
    public = Client().get(page_url)
    assert public.status_code == 200
    assert "Keep the night buses" in public.content.decode()
    assert "draft-banner" not in public.content.decode()


def test_editing_an_endorsed_letter_tells_how_many_and_versions_only_a_changed_text(
    client_of: Client, organisation: Any
) -> None:
    letter = make_open_letter(organisation)
    for number, (name, email) in enumerate((("Jana Novak", "jana@example.cz"), ("Ines Ferreira", "ines@example.pt"))):
        endorsing.record_confirmed(
            letter=letter, data=endorsing.EndorsementInput(name=name, country="CZ" if number else "PT", email=email)
        )
    url = reverse("dashboard:open_letter_edit", args=[letter.slug])
    page = client_of.get(url).content.decode()
    assert "2 people have endorsed the current text (version 1)." in page
    assert "Saving a changed title or text makes a new version" in page

    group = RecipientGroup.objects.get(organisation=organisation)
    same = _form(
        title=letter.title,
        slug=letter.slug,
        text=letter.text.replace("\n", "\r\n"),  # as a browser sends it
        recipient_group=str(group.pk),
    )
    client_of.post(url, same)
    assert OpenLetterVersion.objects.filter(letter=letter).count() == 1

    changed = {**same, "text": same["text"] + "\r\n\r\nThank you."}
    shown = client_of.post(url, {**changed, "action": "preview"})
    assert "saving makes a new version" in shown.content.decode()
    assert OpenLetterVersion.objects.filter(letter=letter).count() == 1
    client_of.post(url, changed)
    letter.refresh_from_db()
    assert OpenLetterVersion.objects.filter(letter=letter).count() == 2
    assert letter.current_version is not None
    assert letter.current_version.number == 2
    assert letter.current_version.text.endswith("\n\nThank you.")
    assert "\r" not in letter.text
    assert letter.recipient_group_id == group.pk
    assert "0 people have endorsed the current text (version 2)." in client_of.get(url).content.decode()


def test_archive_and_duplicate(client_of: Client, organisation: Any) -> None:
    letter = make_open_letter(organisation)
    client_of.post(reverse("dashboard:open_letter_status", args=[letter.slug]), {"status": "archived"})
    assert OpenLetter.objects.get(pk=letter.pk).status == OpenLetterStatus.ARCHIVED
    assert Client().get(reverse("openletters:letter", args=[letter.slug])).status_code == 404
    assert letter.title not in Client().get(reverse("openletters:index")).content.decode()
    client_of.post(reverse("dashboard:open_letter_duplicate", args=[letter.slug]))
    copy = OpenLetter.objects.get(slug=f"{letter.slug}-copy")
    assert copy.status == OpenLetterStatus.DRAFT
    assert copy.text == letter.text
    assert copy.verified_count == 0
    assert copy.current_version is None
    assert copy.recipient_group_id == letter.recipient_group_id


def test_another_organisation_and_moderators_reach_nothing(organisation: Any, other_organiser: Any) -> None:
    letter = make_open_letter(organisation)
    draft = OpenLetter.objects.create(organisation=organisation, slug="a-draft", title="A draft", text="Not yet.")
    moderator = UserFactory(username="moderator-of-a")
    MembershipFactory(organisation=organisation, user=moderator, role=Role.MODERATOR)
    for user in (other_organiser, moderator):
        client = Client()
        client.force_login(user)
        assert client.get(reverse("dashboard:open_letter_new", args=[organisation.slug])).status_code == 404
        for slug in (letter.slug, draft.slug):
            assert client.get(reverse("dashboard:open_letter_edit", args=[slug])).status_code == 404
            assert client.post(reverse("dashboard:open_letter_edit", args=[slug]), _form(slug=slug)).status_code == 404
            status_url = reverse("dashboard:open_letter_status", args=[slug])
            assert client.post(status_url, {"status": "published"}).status_code == 404
            assert client.post(reverse("dashboard:open_letter_duplicate", args=[slug])).status_code == 404
    other = Client()
    other.force_login(other_organiser)
    assert other.get(reverse("openletters:letter", args=[draft.slug])).status_code == 404
    assert OpenLetter.objects.get(pk=draft.pk).status == OpenLetterStatus.DRAFT
    assert OpenLetter.objects.count() == 2


def test_a_double_click_on_duplicate_makes_one_copy(client_of: Client, organisation: Any, other_organiser: Any) -> None:
    letter = make_open_letter(organisation)
    url = reverse("dashboard:open_letter_duplicate", args=[letter.slug])
    page = client_of.get(reverse("dashboard:open_letter_edit", args=[letter.slug])).content.decode()
    found = re.search(r'name="submission_key" value="([0-9a-f-]{36})"', page)
    assert found is not None
    first = client_of.post(url, {"submission_key": found.group(1)})
    second = client_of.post(url, {"submission_key": found.group(1)}, follow=True)
    assert first["Location"] == reverse("dashboard:open_letter_edit", args=[f"{letter.slug}-copy"])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "This copy had already been made; here it is." in second.content.decode()
    assert OpenLetter.objects.filter(slug__startswith=f"{letter.slug}-copy").count() == 1
    stranger = Client()
    stranger.force_login(other_organiser)
    assert stranger.post(url, {"submission_key": found.group(1)}).status_code == 404
    assert OpenLetter.objects.count() == 2
