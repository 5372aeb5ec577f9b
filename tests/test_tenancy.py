"""Many organisations, one installation: nobody reaches another organisation's anything.

The walk takes every URL the project has from the URL resolver (so a new URL is covered
without editing this test), fills its parameters with organisation B's objects, and
sends every method as a member of organisation A (owner, moderator), as an anonymous
visitor, and as B's own moderator for what only organisers may do. Each answer must be
a refusal (403, 404, 405; a visitor is sent to sign in) and the database must be the
same afterwards. A URL whose parameter this test doesn't know how to fill fails it:
teach ``_value`` the new parameter rather than leaving the URL out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import CampaignFactory, LetterFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import CampaignStatus, Channel
from undersigned.delivery.models import PrintJob
from undersigned.delivery.replies import record_supporter_reply
from undersigned.delivery.services import record_delivery
from undersigned.discussion import services as discussion_services
from undersigned.discussion.models import Comment, CommentStatus
from undersigned.openletters.models import OpenLetter, OpenLetterStatus
from undersigned.openletters.services import endorsing
from undersigned.openletters.services import updates as update_services
from undersigned.organisations import services as organisation_services
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
REFUSED = {403, 404, 405}

# Pages anybody may see, whoever owns them: nothing of an organisation that isn't
# public is on them (the lists show published campaigns and letters only).
PUBLIC = {
    "public:home",
    "openletters:index",
    "core:pow_challenge",
    "core:favicon",
    "core:set_language",  # the visitor's own language cookie, about no organisation
    "admin:login",  # the operators' sign-in page (organisers sign in at /accounts/login/)
    "admin:logout",  # Django's admin sends a non-operator back to the admin's index: 403
    # "My data": about the address whose emailed link the visitor holds, never an organisation's.
    "public:my_data",
    "public:my_data_open",
    "public:my_data_yours",
    "public:my_data_json",
    "public:my_data_erase",
}
# allauth's account pages: about the visitor's own account, never an organisation's.
PUBLIC_ROUTE_PREFIXES = ("accounts/",)
# What a moderator of B may use of B's pages: the rest of the dashboard is for organisers.
# Every member sees their own organisation's team (only owners change it).
MODERATOR_MAY = {
    "dashboard:index",
    "dashboard:moderation",
    "dashboard:moderation_act",
    # A discussion's settings are moderation (organisations/access.py, Action.MODERATE).
    "dashboard:campaign_discussion",
    "dashboard:open_letter_discussion",
    "dashboard:mailbox",
    "dashboard:organisations",
    "dashboard:team",
    "dashboard:two_factor_required",
    # Results are Action.VIEW: every member follows their organisation's progress.
    "dashboard:campaign_results",
    "dashboard:open_letter_results",
    "dashboard:campaign_coverage",
    "dashboard:open_letter_coverage",
}


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name
    route: str
    module: str
    params: tuple[str, ...]


def _routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            params = tuple(pattern.pattern.regex.groupindex)
            yield Route(name, prefix + str(pattern.pattern), pattern.callback.__module__, params)


@dataclass
class OrganisationB:
    campaign: Any
    draft_campaign: Any
    open_letter: Any
    draft_open_letter: Any
    endorsement: Any
    comment: Any
    draft_discussion: Any
    print_job: Any
    letter: Any
    owner: Any
    invitation: Any
    reply: Any
    campaign_update: Any
    open_letter_update: Any


@pytest.fixture
def b() -> OrganisationB:
    organisation = OrganisationFactory(slug="organisation-b", name="Organisation B")
    campaign = CampaignFactory(organisation=organisation, slug="b-live-campaign")
    draft = CampaignFactory(organisation=organisation, slug="b-draft-campaign", status=CampaignStatus.DRAFT)
    letter = LetterFactory(campaign=campaign)
    record_delivery(letter=letter, recipient=campaign.recipients.first(), channel=Channel.POST)
    reply = record_supporter_reply(
        letter=letter, recipient=campaign.recipients.first(), text="Thank you for writing.", may_quote=True
    )
    open_letter = make_open_letter(organisation)
    draft_letter = OpenLetter.objects.create(
        organisation=organisation,
        slug="b-draft-letter",
        title="A draft",
        text="Not yet.",
        status=OpenLetterStatus.DRAFT,
    )
    endorsement = endorsing.record_confirmed(
        letter=open_letter,
        data=endorsing.EndorsementInput(name="Jana Šimůnková", country="CZ", email="jana@example.cz"),
    )
    discussion = discussion_services.discussion_for(campaign)
    comment = Comment.objects.create(
        discussion=discussion,
        author_name="Máire O'Dwyer",
        email="maire@example.ie",
        email_key="maire@example.ie",
        body="A pending comment of organisation B's campaign.",
        body_html="<p>A pending comment of organisation B's campaign.</p>",
        status=CommentStatus.PENDING,
        submission_key=uuid.uuid4(),
    )
    job = PrintJob.objects.create(campaign=campaign, total=1)
    owner = MembershipFactory(organisation=organisation, user=UserFactory(username="b-owner"), role=Role.OWNER).user
    invitation = organisation_services.invite(
        organisation=organisation, email="b-invitee@example.org", role=Role.ORGANISER, actor=owner
    ).invitation
    return OrganisationB(
        campaign=campaign,
        draft_campaign=draft,
        open_letter=open_letter,
        draft_open_letter=draft_letter,
        endorsement=endorsement,
        comment=comment,
        draft_discussion=discussion_services.discussion_for(draft),
        print_job=job,
        letter=letter,
        owner=owner,
        invitation=invitation,
        reply=reply,
        campaign_update=_update(campaign=campaign),
        open_letter_update=_update(open_letter=open_letter),
    )


def _update(**owner: Any) -> Any:
    return update_services.save_draft(
        actor=None, subject="B's news", body="News.", language="en", countries=[], **owner
    )


def _admin_object_id(route: Route, b: OrganisationB) -> str:
    # admin:<app>_<model>_change etc.: an object of B of that model, where B has one.
    by_model = {
        "campaigns_campaign": b.campaign.pk,
        "campaigns_recipient": b.campaign.recipients.first().pk,
        "letters_letter": b.letter.pk,
        "openletters_openletter": b.open_letter.pk,
        "openletters_endorsement": b.endorsement.pk,
        "organisations_organisation": b.campaign.organisation_id,
        "discussion_discussion": b.comment.discussion_id,
        "delivery_delivery": b.letter.deliveries.first().pk,
        "auth_user": b.owner.pk,
    }
    parts = route.route.split("/")
    label = f"{parts[1]}_{parts[2]}" if len(parts) > 3 else ""
    return str(by_model.get(label, 1))


def _value(route: Route, param: str, b: OrganisationB) -> str:
    private = route.name.startswith(("dashboard:", "admin:"))
    if param == "slug":
        if "open-letters/" in route.route:
            return str(b.open_letter.slug if private else b.draft_open_letter.slug)
        return str(b.campaign.slug if private else b.draft_campaign.slug)
    values = {
        "job_id": b.print_job.pk,
        "endorsement_id": b.endorsement.pk,
        "comment_id": b.comment.pk,
        "reply_id": b.reply.pk,
        # A campaign's or an open letter's language tab: B's, in a language (saved or not, B's all the same).
        "language": "fr",
        "update_id": (b.open_letter_update if "open-letters" in route.route else b.campaign_update).pk,
        # The workspace's pages of an organisation (recipients, groups, campaign files).
        "organisation": b.campaign.organisation.slug,
        "recipient_id": b.campaign.recipients.first().pk,
        "group_id": b.open_letter.recipient_group_id,
        # The team pages.
        "membership_id": b.owner.memberships.get().pk,
        "invitation_id": b.invitation.pk,
        "discussion_id": b.comment.discussion_id if private else b.draft_discussion.pk,
        # Capabilities (private letter links, emailed tokens) belong to whoever holds
        # them, not to an organisation: a wrong one must open nothing.
        "link": "not-a-real-link",
        "token": "not-a-real-token",
        "answer": "yes",
        "app_label": "campaigns",
        "content_type_id": 1,
        "url": "campaigns/campaign/",  # the admin's catch-all
    }
    if param in ("object_id", "id"):
        return _admin_object_id(route, b)
    if param not in values:
        pytest.fail(f"{route.name} ({route.route}) takes {param!r}: teach the tenancy walk how to fill it")
    return str(values[param])


_PARAM = re.compile(r"<(?:[^>:]+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _url(route: Route, b: OrganisationB) -> str:
    # Built from the route itself, so patterns without a name are walked too.
    def fill(match: re.Match[str]) -> str:
        return quote(_value(route, match.group(1) or match.group(2), b))

    return "/" + _PARAM.sub(fill, route.route).replace("^", "").replace("$", "")


def _walked(b: OrganisationB) -> list[tuple[Route, str]]:
    routes = [
        route
        for route in _routes(get_resolver().url_patterns)
        if route.name not in PUBLIC and not route.route.startswith(PUBLIC_ROUTE_PREFIXES)
    ]
    return [(route, _url(route, b)) for route in routes]


def _database() -> dict[str, list[dict[str, Any]]]:
    skip = {Session}
    return {
        model._meta.label: sorted(model._default_manager.values(), key=repr)
        for model in apps.get_models()
        if model not in skip
    }


# What shows an object of B on a page: its names, slugs and people.
B_MARKERS = ("Organisation B", "b-live-campaign", "b-draft", "walkers-for-resolution-7", "Máire", "Jana", "b-invitee")


def _refusals(client: Client, walked: list[tuple[Route, str]], *, anonymous: bool = False) -> list[str]:
    wrong = []
    for route, url in walked:
        for method in METHODS:
            response = getattr(client, method)(url)
            status = response.status_code
            to_sign_in = status == 302 and "login" in response.get("Location", "")
            if status in REFUSED or (anonymous and to_sign_in):
                continue
            # A page about no object in particular (the dashboard's index, the moderation
            # queue) is the member's own: it may open, showing nothing of B.
            if not route.params and status == 200 and not anonymous:
                body = b"".join(response) if response.streaming else response.content
                shown = [marker for marker in B_MARKERS if marker.encode() in body]
                if not shown:
                    continue
                wrong.append(f"{method.upper()} {url} ({route.name}) shows {shown}")
                continue
            wrong.append(f"{method.upper()} {url} ({route.name}) answered {status}")
    return wrong


def test_members_of_another_organisation_reach_nothing(b: OrganisationB) -> None:
    walked = _walked(b)
    before = _database()
    results = {}
    for role in (Role.OWNER, Role.MODERATOR):
        member = UserFactory(username=f"a-{role}", email=f"a-{role}@example.org")
        MembershipFactory(organisation=OrganisationFactory(slug=f"organisation-a-{role}"), user=member, role=role)
        client = Client()
        client.force_login(member)
        before = _database()  # with this member and their organisation
        results[role] = _refusals(client, walked)
        assert _database() == before, f"a member of A ({role}) changed something"
    assert results == {Role.OWNER: [], Role.MODERATOR: []}
    assert len(walked) > 150  # the walk really walked (admin pages included)


def test_visitors_reach_nothing_private(b: OrganisationB) -> None:
    walked = _walked(b)
    before = _database()
    assert _refusals(Client(), walked, anonymous=True) == []
    assert _database() == before


def test_moderators_cannot_do_what_only_organisers_may(b: OrganisationB) -> None:
    moderator = UserFactory(username="b-moderator", email="b-moderator@example.org")
    MembershipFactory(organisation=b.campaign.organisation, user=moderator, role=Role.MODERATOR)
    client = Client()
    client.force_login(moderator)
    walked = [
        (route, url)
        for route, url in _walked(b)
        if route.name.startswith(("dashboard:", "admin:")) and route.name not in MODERATOR_MAY
    ]
    before = _database()
    assert _refusals(client, walked) == []
    assert _database() == before
    # What a moderator may do, they can: the queue shows B's comment waiting.
    queue = client.get(reverse("dashboard:moderation"))
    assert queue.status_code == 200
    assert "Máire O&#x27;Dwyer" in queue.content.decode()
    settings_page = client.get(reverse("dashboard:campaign_discussion", args=[b.campaign.slug]))
    assert settings_page.status_code == 200
