"""How much a campaign file may hold: messages that name the limit and the line, the same
limits in the services that write, and campaign pages that stay usable at the limit."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.campaigns.test_campaign_files import RIVERSIDE, problems
from tests.factories import RecipientFactory
from undersigned.campaigns.campaign_files import (
    Author,
    CampaignFileError,
    OpenLetterFile,
    RecipientData,
    parse,
    parse_any,
)
from undersigned.campaigns.campaign_files import limits as file_limits
from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup
from undersigned.campaigns.services import get_default_organisation, import_campaign
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services.files import import_open_letter

DOCS = Path(__file__).resolve().parents[2] / "docs" / "campaign-files.md"


def _recipients(count: int) -> str:
    return "".join(
        f'\n[[recipients]]\nname = "Councillor {n:03d}"\nemail = "councillor{n:03d}@council.example"\n'
        for n in range(1, count + 1)
    )


def campaign_text(recipients: int, *, tags: int = 2, prompts: int = 1) -> str:
    tag_list = ", ".join(f'"tag {n}"' for n in range(1, tags + 1))
    prompt_list = ", ".join(f'"Question {n}?"' for n in range(1, prompts + 1))
    return textwrap.dedent(
        f"""\
            [campaign]
            slug = "full-council"
            title = "Write to the whole council"
            status = "live"
            tags = [{tag_list}]

            [letter]
            subject = "The path"
            body = "Dear {{{{ recipient.name }}}}"
            prompts = [{prompt_list}]
            """
    ) + _recipients(recipients)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    at = [m.start() for m in re.finditer(re.escape(needle), text)][occurrence - 1]
    return text.count("\n", 0, at) + 1


def test_the_limits_are_those_the_docs_name() -> None:
    assert (
        settings.CAMPAIGN_RECIPIENTS_MAX,
        settings.RECIPIENT_GROUP_MEMBERS_MAX,
        settings.CAMPAIGN_TAGS_MAX,
        settings.LETTER_PROMPTS_MAX,
        settings.OPEN_LETTER_AUTHORS_MAX,
    ) == (500, 500, 20, 20, 50)
    docs = DOCS.read_text(encoding="utf-8")
    for limit in (file_limits.CAMPAIGN_RECIPIENTS, file_limits.GROUP_MEMBERS, file_limits.CAMPAIGN_TAGS,
                  file_limits.PROMPTS, file_limits.AUTHORS):  # fmt: skip
        assert f"| `{limit.setting}` | {limit.most} |" in docs, limit.setting


def test_a_campaign_at_every_limit_is_read() -> None:
    data = parse(campaign_text(500, tags=20, prompts=20))
    assert (len(data.recipients), len(data.tags), len(data.letter.prompts)) == (500, 20, 20)
    assert data.recipients[-1].name == "Councillor 500"


def test_one_recipient_too_many_is_named_at_its_line() -> None:
    text = campaign_text(501)
    assert problems(text) == [
        f"line {_line_of(text, '[[recipients]]', 501)}: recipients lists 501 recipients; the limit is 500 per campaign"
    ]


def test_entries_past_the_limit_are_not_checked_one_by_one() -> None:
    # 2,000 broken recipients: one message about the count, and messages for the first 500 only.
    text = campaign_text(0) + "".join(
        f'\n[[recipients]]\nname = "Nobody {n}"\nemail = "not an address"\n' for n in range(1, 2001)
    )
    found = problems(text)
    assert len(found) == 501
    assert (
        found[0]
        == f'line {_line_of(text, "email =")}: recipients[1].email "not an address" is not a valid email address'
    )
    assert found[-1] == (
        f"line {_line_of(text, '[[recipients]]', 501)}: recipients lists 2000 recipients; the limit is 500 per campaign"
    )


def test_too_many_tags_and_prompts_are_named_at_their_key() -> None:
    text = campaign_text(1, tags=21, prompts=25)
    assert problems(text) == [
        "line 5: campaign.tags lists 21 tags; the limit is 20 per campaign",
        "line 10: letter.prompts lists 25 prompts; the limit is 20 per letter",
    ]


@override_settings(CAMPAIGN_RECIPIENTS_MAX=2)
def test_a_lower_setting_is_the_limit_files_are_held_to() -> None:
    text = campaign_text(3)
    assert problems(text) == [
        f"line {_line_of(text, '[[recipients]]', 3)}: recipients lists 3 recipients; the limit is 2 per campaign"
    ]


def open_letter_text(recipients: int, *, group: str = "", authors: int = 1) -> str:
    author_tables = "".join(f'\n[[open_letter.authors]]\nname = "Author {n}"\n' for n in range(1, authors + 1))
    return (
        textwrap.dedent(
            f"""\
            kind = "open_letter"

            [open_letter]
            slug = "clean-rivers"
            title = "Clean rivers"
            text = "We ask for clean rivers."
            recipient_group = "{group}"
            """
        )
        + author_tables
        + _recipients(recipients)
    )


def open_problems(text: str) -> list[str]:
    with pytest.raises(CampaignFileError) as info:
        parse_any(text)
    return info.value.messages


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("", "recipients lists 501 recipients; the limit is 500 per open letter"),
        ("Council", "recipients lists 501 members of its recipient group; the limit is 500 per group"),
    ],
)
def test_an_open_letter_is_held_to_the_limit_of_what_it_addresses(group: str, message: str) -> None:
    assert len(parse_any(open_letter_text(500, group=group)).recipients) == 500
    text = open_letter_text(501, group=group)
    assert open_problems(text) == [f"line {_line_of(text, '[[recipients]]', 501)}: {message}"]


def test_too_many_authors_are_named_at_the_first_one_too_many() -> None:
    text = open_letter_text(1, authors=51)
    assert open_problems(text) == [
        f"line {_line_of(text, '[[open_letter.authors]]', 51)}: open_letter.authors lists 51 authors; "
        "the limit is 50 per open letter"
    ]


# --- The services that write hold values built in code to the same limits -------------


@pytest.mark.django_db
def test_importing_a_campaign_over_the_limits_writes_nothing() -> None:
    data = replace(
        RIVERSIDE,
        tags=tuple(f"tag {n}" for n in range(21)),
        recipients=tuple(RecipientData(name=f"R {n}", email=f"r{n}@council.example") for n in range(501)),
    )
    with pytest.raises(CampaignFileError) as info:
        import_campaign(organisation=get_default_organisation(), data=data)
    assert info.value.messages == [
        "recipients lists 501 recipients; the limit is 500 per campaign",
        "campaign.tags lists 21 tags; the limit is 20 per campaign",
    ]
    assert not Campaign.objects.exists()
    assert not Recipient.objects.exists()


@pytest.mark.django_db
def test_importing_an_open_letter_over_the_limits_writes_nothing() -> None:
    data = OpenLetterFile(
        slug="clean-rivers",
        title="Clean rivers",
        text="We ask for clean rivers.",
        recipient_group="Council",
        authors=tuple(Author(name=f"Author {n}") for n in range(51)),
        recipients=tuple(RecipientData(name=f"R {n}", email=f"r{n}@council.example") for n in range(501)),
    )
    with pytest.raises(CampaignFileError) as info:
        import_open_letter(organisation=get_default_organisation(), data=data)
    assert info.value.messages == [
        "recipients lists 501 members of its recipient group; the limit is 500 per group",
        "open_letter.authors lists 51 authors; the limit is 50 per open letter",
    ]
    assert not OpenLetter.objects.exists()
    assert not Recipient.objects.exists()


# --- Pages at the limit ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_campaign_page_and_composer_list_every_recipient_at_the_limit(client: Client) -> None:
    campaign, _ = import_campaign(organisation=get_default_organisation(), data=parse(campaign_text(500)))
    names = [f"Councillor {n:03d}" for n in range(1, 501)]

    page = client.get(f"/c/{campaign.slug}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.findall(r"<li><strong>(Councillor \d{3})</strong>", html) == names
    assert 'href="/c/full-council/write/"' in html
    assert '<details class="recipient-list"><summary>500 recipients</summary>' in html

    composer = client.get(f"/c/{campaign.slug}/write/")
    assert composer.status_code == 200
    html = composer.content.decode()
    assert re.findall(r"<li>(Councillor \d{3})</li>", html) == names
    assert "It goes to <strong>500 recipients</strong>." in html
    assert '<form method="post" action="/c/full-council/write/"' in html


@pytest.mark.django_db
@override_settings(RECIPIENT_GROUP_MEMBERS_MAX=2)
@pytest.mark.parametrize(("members", "saved"), [(2, True), (3, False)])
def test_the_admin_holds_a_group_to_the_members_limit(
    client: Client, organiser: Any, organisation: Any, members: int, saved: bool
) -> None:
    client.force_login(organiser)
    people = RecipientFactory.create_batch(members, organisation=organisation)
    prefix = "recipientgroupmember_set"
    response = client.post(
        reverse("admin:campaigns_recipientgroup_add"),
        {
            "name": "Council",
            "organisation": organisation.pk,
            f"{prefix}-TOTAL_FORMS": members,
            f"{prefix}-INITIAL_FORMS": 0,
            **{f"{prefix}-{n}-recipient": person.pk for n, person in enumerate(people)},
            **{f"{prefix}-{n}-vote_weight": 1 for n in range(members)},
        },
    )
    if saved:
        assert response.status_code == 302
        assert RecipientGroup.objects.get().members.count() == 2
    else:
        assert response.status_code == 200
        assert "A recipient group may have at most 2 members." in response.content.decode()
        assert not RecipientGroup.objects.exists()


@pytest.mark.django_db
@override_settings(CAMPAIGN_RECIPIENTS_MAX=1)
def test_the_admin_holds_a_campaign_to_the_recipients_limit(client: Client, organiser: Any, campaign: Any) -> None:
    client.force_login(organiser)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    links = list(campaign.campaignrecipient_set.all())
    assert len(links) == 1
    # The change form as the admin sends it back, with one recipient added to the inline.
    form = client.get(url).context["adminform"].form
    post: dict[str, Any] = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    post |= {
        "template-TOTAL_FORMS": 0,
        "template-INITIAL_FORMS": 0,
        "campaignrecipient_set-TOTAL_FORMS": 2,
        "campaignrecipient_set-INITIAL_FORMS": 1,
        "campaignrecipient_set-0-id": links[0].pk,
        "campaignrecipient_set-0-campaign": campaign.pk,
        "campaignrecipient_set-0-recipient": links[0].recipient_id,
        "campaignrecipient_set-0-position": 0,
        "campaignrecipient_set-1-recipient": RecipientFactory(organisation=campaign.organisation).pk,
        "campaignrecipient_set-1-position": 1,
    }
    response = client.post(url, post)
    assert response.status_code == 200
    assert [str(e) for e in response.context["errors"]] == ["A campaign may have at most 1 recipient."]
    assert campaign.recipients.count() == 1
