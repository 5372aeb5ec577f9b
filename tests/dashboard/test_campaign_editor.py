"""The campaign editor: an organiser creates, previews, publishes, closes, archives and
duplicates a campaign in the workspace; nobody else can, and a draft is seen only by
its organisation's members."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, RecipientFactory, UserFactory
from undersigned.campaigns.campaign_files import CampaignFileError, parse
from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign, CampaignRecipient, LetterTemplate
from undersigned.core.models import ActionLog
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipients(organisation: Any) -> list[Any]:
    return [
        RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby"),
        RecipientFactory(organisation=organisation, name="Dr Amal Haddad"),
        RecipientFactory(organisation=organisation, name="Mayor Siân Pryce"),
    ]


@pytest.fixture
def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def other_organiser(db: Any) -> Any:
    """An organiser (an owner, even) of organisation B."""
    user = UserFactory(username="b-owner", email="b-owner@example.org")
    MembershipFactory(organisation=OrganisationFactory(slug="organisation-b", name="Org B"), user=user, role=Role.OWNER)
    return user


def _form(recipients: list[Any], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Light the Eastfield underpass",
        "slug": "",
        "summary": "The underpass has been dark since March.",
        "background": "The **underpass** links Eastfield to the station.\r\n\r\n- It floods\r\n- It is dark",
        "tags": "safety, Eastfield , safety, lighting",
        "language": "en",
        "deadline": "2031-03-31T17:00",
        "author_name": "Mina Okafor",
        "author_role": "Parent governor",
        "author_place": "Wendmouth",
        "subject": "Please light the underpass",
        "body": "Dear {{ recipient.name }},\r\n\r\nPlease light it.\r\n\r\nYours,\r\n{{ supporter.name }}",
        "prompts": "How do you use the underpass?\r\n\r\nWhen is it darkest?\r\n",
        "channels": ["mailto", "email"],
        "min_uniqueness": "30",
        "posts_for_supporters": "on",
        "recipients": [str(recipients[2].pk), str(recipients[0].pk)],
        f"position_{recipients[2].pk}": "1",
        f"position_{recipients[0].pk}": "2",
        "action": "save",
    }
    data.update(changes)
    return data


def _new_url(organisation: Any) -> str:
    return reverse("dashboard:campaign_new", args=[organisation.slug])


def test_create_preview_publish_and_the_public_page_shows_it(
    client_of: Client, organisation: Any, recipients: list[Any]
) -> None:
    form = client_of.get(_new_url(organisation))
    assert form.status_code == 200
    page = form.content.decode()
    assert 'type="range"' in page
    assert "{{ supporter.name }}" in page
    assert "Councillor Rowan Ashby" in page

    preview = client_of.post(_new_url(organisation), _form(recipients, action="preview"))
    assert preview.status_code == 200
    shown = preview.content.decode()
    assert "Preview — not saved yet" in shown
    assert "<strong>underpass</strong>" in shown  # Markdown rendered
    assert "Dear Mayor Siân Pryce," in shown  # the first recipient in the chosen order
    assert 'value="Light the Eastfield underpass"' in shown  # what was typed is kept
    assert not Campaign.objects.filter(title="Light the Eastfield underpass").exists()

    created = client_of.post(_new_url(organisation), _form(recipients))
    campaign = Campaign.objects.get(slug="light-the-eastfield-underpass")  # suggested from the title
    assert created.status_code == 302
    assert created["Location"] == reverse("dashboard:campaign_edit", args=[campaign.slug])
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.tags == ["safety", "Eastfield", "lighting"]
    assert campaign.background == "The **underpass** links Eastfield to the station.\n\n- It floods\n- It is dark"
    assert campaign.min_uniqueness == 30
    assert campaign.posts_for_supporters
    template = LetterTemplate.objects.get(campaign=campaign)
    assert template.body == "Dear {{ recipient.name }},\n\nPlease light it.\n\nYours,\n{{ supporter.name }}"
    assert template.prompts == ["How do you use the underpass?", "When is it darkest?"]
    assert template.channels == ["mailto", "email"]
    ordered = CampaignRecipient.objects.filter(campaign=campaign).order_by("position")
    assert [link.recipient.name for link in ordered] == ["Mayor Siân Pryce", "Councillor Rowan Ashby"]
    assert ActionLog.objects.filter(action="campaign.created", object_id=str(campaign.pk)).count() == 1

    public_url = reverse("public:campaign", args=[campaign.slug])
    assert Client().get(public_url).status_code == 404  # a draft: nobody outside sees it

    published = client_of.post(reverse("dashboard:campaign_status", args=[campaign.slug]), {"status": "live"})
    assert published.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LIVE
    public = Client().get(public_url)
    assert public.status_code == 200
    assert "Light the Eastfield underpass" in public.content.decode()
    assert "draft-banner" not in public.content.decode()
    assert "Light the Eastfield underpass" in Client().get(reverse("public:home")).content.decode()


def test_a_double_clicked_create_makes_one_campaign(
    client_of: Client, organisation: Any, recipients: list[Any]
) -> None:
    first = client_of.post(_new_url(organisation), _form(recipients))
    second = client_of.post(_new_url(organisation), _form(recipients))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Campaign.objects.filter(title="Light the Eastfield underpass").count() == 1
    # Another campaign wanting the same address is told so, next to the slug.
    taken = client_of.post(_new_url(organisation), _form(recipients, subject="Something else entirely"))
    assert taken.status_code == 400
    assert re.search(r'id="field-slug".*taken by another campaign', taken.content.decode(), re.S)


def test_tags_typed_with_an_arabic_or_ideographic_comma_are_separate_tags(
    client_of: Client, organisation: Any, recipients: list[Any]
) -> None:
    # The help text asks for commas; an Arabic keyboard types "،", a Japanese one "、".
    created = client_of.post(_new_url(organisation), _form(recipients, tags="مياه، النقل ، مياه, water、交通，night"))
    assert created.status_code == 302
    campaign = Campaign.objects.get(slug="light-the-eastfield-underpass")
    assert campaign.tags == ["مياه", "النقل", "water", "交通", "night"]


def test_bad_input_is_shown_next_to_each_field_with_what_was_typed(
    client_of: Client, organisation: Any, recipients: list[Any]
) -> None:
    data = _form(
        recipients,
        title="T" * 201,
        slug="no spaces allowed",
        body="Dear {{ recipient.nme }}, from {{ petition.number }}",
        channels=[],
        min_uniqueness="140",
        language="English",
    )
    response = client_of.post(_new_url(organisation), data)
    assert response.status_code == 400
    page = response.content.decode()

    def error_of(field: str) -> str:
        found = re.search(rf'<div class="field" id="field-{field}">(.*?)</div>', page, re.S)
        return found.group(1) if found else ""

    assert "Keep this to 200 characters; it has 201." in error_of("title")
    assert "Use only letters, digits, hyphens and underscores" in error_of("slug")
    body_error = error_of("body")
    assert "Unknown placeholder {{ recipient.nme }}: did you mean {{ recipient.name }}?" in body_error
    assert "Unknown placeholder {{ petition.number }}: use one of the placeholders listed below." in body_error
    assert "Dear {{ recipient.nme }}, from {{ petition.number }}" in body_error  # kept as typed
    assert "Give a language code such as en" in error_of("language")
    assert "Choose at least one way of sending." in page
    assert "Give a number from 0 to 100." in page
    assert not Campaign.objects.filter(organisation=organisation).exists()


def test_placeholders_are_refused_as_import_refuses_them() -> None:
    # The one check: the file reader reports the same names with the same suggestion.
    text = (
        'kind = "campaign"\n[campaign]\nslug = "x"\ntitle = "X"\n[letter]\nsubject = "S"\n'
        'body = "Dear {{ recipient.nme }}"\n[[recipients]]\nname = "A"\nemail = "a@example.org"\n'
    )
    with pytest.raises(CampaignFileError) as caught:
        parse(text)
    assert any(
        "unknown placeholder {{ recipient.nme }} (did you mean {{ recipient.name }}?)" in m
        for m in caught.value.messages
    )


def test_editing_saves_campaign_and_template_together(
    client_of: Client, organisation: Any, recipients: list[Any]
) -> None:
    campaign = CampaignFactory(
        organisation=organisation, slug="path", status=CampaignStatus.LIVE, recipients=recipients[:1]
    )
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=7)
    url = reverse("dashboard:campaign_edit", args=[campaign.slug])
    page = client_of.get(url).content.decode()
    assert "Keep the riverside path open" in page
    assert "walking, schools" in page
    response = client_of.post(url, _form(recipients, slug="path", title="Keep the path open, please"))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.title == "Keep the path open, please"
    assert campaign.letters_sent == 7  # never overwritten by the editor
    assert LetterTemplate.objects.get(campaign=campaign).subject == "Please light the underpass"
    # A bad template leaves the campaign as it was too: nothing half-saved.
    bad = client_of.post(url, _form(recipients, slug="path", title="Changed", body="{{ nope }}"))
    assert bad.status_code == 400
    campaign.refresh_from_db()
    assert campaign.title == "Keep the path open, please"


def test_close_archive_and_duplicate(client_of: Client, organisation: Any, recipients: list[Any]) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path", recipients=recipients[:2])
    status_url = reverse("dashboard:campaign_status", args=[campaign.slug])
    public_url = reverse("public:campaign", args=[campaign.slug])

    client_of.post(status_url, {"status": "closed"})
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CLOSED
    assert "not taking letters any more" in Client().get(public_url).content.decode()

    client_of.post(status_url, {"status": "archived"})
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ARCHIVED
    assert Client().get(public_url).status_code == 404
    assert "Keep the riverside path open" not in Client().get(reverse("public:home")).content.decode()
    archived = client_of.get(public_url)  # the team still sees it, marked
    assert archived.status_code == 200
    assert "Archived — only your team can see this." in archived.content.decode()

    copied = client_of.post(reverse("dashboard:campaign_duplicate", args=[campaign.slug]))
    copy = Campaign.objects.get(slug="path-copy")
    assert copied["Location"] == reverse("dashboard:campaign_edit", args=["path-copy"])
    assert copy.status == CampaignStatus.DRAFT
    assert copy.title == campaign.title
    assert copy.letters_sent == 0
    assert LetterTemplate.objects.get(campaign=copy).body == LetterTemplate.objects.get(campaign=campaign).body
    assert list(copy.recipients.order_by("campaignrecipient__position")) == recipients[:2]
    client_of.post(reverse("dashboard:campaign_duplicate", args=[campaign.slug]))
    assert Campaign.objects.filter(slug="path-copy-2").exists()


def test_a_draft_is_seen_by_its_team_only_and_never_kept(
    client_of: Client, member: Any, organisation: Any, other_organiser: Any, settings: Any
) -> None:
    draft = CampaignFactory(organisation=organisation, slug="draft-path", status=CampaignStatus.DRAFT)
    url = reverse("public:campaign", args=[draft.slug])
    seen = client_of.get(url)
    assert seen.status_code == 200
    page = seen.content.decode()
    assert "Draft — only your team can see this." in page
    assert reverse("dashboard:campaign_edit", args=[draft.slug]) in page
    assert "The letter form opens once the campaign is published." in page
    assert seen["Cache-Control"] == "private, no-store"
    # Nobody else: not an anonymous visitor (after the member's visit), not another organisation.
    assert Client().get(url).status_code == 404
    other = Client()
    other.force_login(other_organiser)
    assert other.get(url).status_code == 404
    # The composer takes no letter for a draft, from anybody.
    assert client_of.get(reverse("public:compose", args=[draft.slug])).status_code == 404
    assert client_of.post(reverse("public:compose", args=[draft.slug]), {"action": "continue"}).status_code == 404
    # A moderator of the organisation sees the draft's page, but no way into the editor.
    moderator = UserFactory(username="moderator-of-a")
    MembershipFactory(organisation=organisation, user=moderator, role=Role.MODERATOR)
    as_moderator = Client()
    as_moderator.force_login(moderator)
    moderator_page = as_moderator.get(url).content.decode()
    assert "Draft — only your team can see this." in moderator_page
    assert reverse("dashboard:campaign_edit", args=[draft.slug]) not in moderator_page


def test_another_organisation_and_moderators_reach_nothing(
    organisation: Any, other_organiser: Any, recipients: list[Any]
) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path", status=CampaignStatus.DRAFT)
    moderator = UserFactory(username="moderator-of-a")
    MembershipFactory(organisation=organisation, user=moderator, role=Role.MODERATOR)
    for user in (other_organiser, moderator):
        client = Client()
        client.force_login(user)
        assert client.get(_new_url(organisation)).status_code == 404
        assert client.post(_new_url(organisation), _form(recipients)).status_code == 404
        assert client.get(reverse("dashboard:campaign_edit", args=["path"])).status_code == 404
        assert client.post(reverse("dashboard:campaign_edit", args=["path"]), _form(recipients)).status_code == 404
        assert client.post(reverse("dashboard:campaign_status", args=["path"]), {"status": "live"}).status_code == 404
        assert client.post(reverse("dashboard:campaign_duplicate", args=["path"])).status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert Campaign.objects.count() == 1


def test_recipients_of_another_organisation_cannot_be_attached(
    client_of: Client, organisation: Any, recipients: list[Any]
) -> None:
    foreign = RecipientFactory(organisation=OrganisationFactory(slug="organisation-b"), name="Someone Else")
    data = {**_form(recipients), "recipients": [str(recipients[0].pk), str(foreign.pk)]}
    response = client_of.post(_new_url(organisation), data)
    assert response.status_code == 400
    assert "not one of your organisation" in response.content.decode()
    assert not Campaign.objects.exists()


def test_publishing_needs_recipients(client_of: Client, organisation: Any) -> None:
    draft = CampaignFactory(organisation=organisation, slug="empty", status=CampaignStatus.DRAFT, recipients=[])
    page = client_of.get(reverse("dashboard:campaign_edit", args=[draft.slug])).content.decode()
    assert "Choose at least one recipient before the campaign can be published." in page
    client_of.post(reverse("dashboard:campaign_status", args=[draft.slug]), {"status": "live"})
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT


def test_the_dashboard_links_to_the_editor(client_of: Client, organisation: Any, campaign: Any) -> None:
    page = client_of.get(reverse("dashboard:index")).content.decode()
    assert reverse("dashboard:campaign_new", args=[organisation.slug]) in page
    assert reverse("dashboard:open_letter_new", args=[organisation.slug]) in page
    assert reverse("dashboard:campaign_edit", args=[campaign.slug]) in page


def _duplicate_key(page: str) -> str:
    found = re.search(r'name="submission_key" value="([0-9a-f-]{36})"', page)
    assert found is not None
    return found.group(1)


def test_a_double_click_on_duplicate_makes_one_copy(
    client_of: Client, organisation: Any, recipients: list[Any], other_organiser: Any
) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path", recipients=recipients[:2])
    url = reverse("dashboard:campaign_duplicate", args=[campaign.slug])
    key = _duplicate_key(client_of.get(reverse("dashboard:campaign_edit", args=[campaign.slug])).content.decode())
    first = client_of.post(url, {"submission_key": key})
    second = client_of.post(url, {"submission_key": key}, follow=True)
    assert first["Location"] == reverse("dashboard:campaign_edit", args=["path-copy"])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "This copy had already been made; here it is." in second.content.decode()
    assert sorted(Campaign.objects.values_list("slug", flat=True)) == ["path", "path-copy"]
    assert ActionLog.objects.filter(action="campaign.duplicated").count() == 1
    # The editor's page shown again is a new form: another copy on purpose.
    key = _duplicate_key(client_of.get(reverse("dashboard:campaign_edit", args=[campaign.slug])).content.decode())
    client_of.post(url, {"submission_key": key})
    assert Campaign.objects.filter(slug="path-copy-2").exists()
    # Another organisation's organiser, even with the key, copies nothing.
    stranger = Client()
    stranger.force_login(other_organiser)
    assert stranger.post(url, {"submission_key": key}).status_code == 404
    assert Campaign.objects.count() == 3
