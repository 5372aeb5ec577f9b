"""A site with one of everything, for the tests that walk every page (HEAD, headers, logs, HTML).

``site`` builds a live campaign with background, a saved letter sent by email, an open
letter with confirmed and pending endorsements, a discussion with a reply thread, and a
print job; ``site.kwargs_for(pattern)`` fills any URL pattern's parameters from them, so
the walks cover every page, including pages added later.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.factories import LetterFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import CampaignTranslation
from undersigned.delivery import digests
from undersigned.delivery.models import Delivery, PrintJob, Reply
from undersigned.discussion import links as comment_links
from undersigned.discussion import services as discussion_services
from undersigned.discussion.models import Comment, CommentStatus, FirstComment, Moderation
from undersigned.letters.links import sign_token
from undersigned.openletters import links as letter_links
from undersigned.openletters.models import Endorsement, OpenLetterTranslation
from undersigned.openletters.services import endorsing, versions
from undersigned.openletters.services import updates as update_services
from undersigned.organisations import links as organisation_links
from undersigned.organisations import services as organisation_services
from undersigned.organisations.models import Invitation
from undersigned.supporters import updates as update_links


@dataclass(frozen=True)
class Route:
    """One URL pattern: its reverse name (with namespace), route text and view."""

    name: str
    route: str
    callback: Any
    params: tuple[str, ...]


def all_routes() -> Iterator[Route]:
    """Every URL pattern of the project, from the resolver (nothing listed by hand)."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
                yield from walk(pattern.url_patterns, route, inner or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                params = tuple(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route))
                names = tuple(a or b for a, b in params)
                yield Route(name, route, pattern.callback, names)

    yield from walk(get_resolver().url_patterns, "", "")


@dataclass
class Site:
    organiser: Any
    campaign: Any
    letter: Any
    delivery: Delivery
    open_letter: Any
    endorsement: Endorsement
    pending: Endorsement
    discussion: Any
    comment: Comment
    unconfirmed: Comment
    print_job: PrintJob
    invitation: Invitation
    reply: Reply
    campaign_update: Any
    open_letter_update: Any
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def letter_link(self) -> str:
        return sign_token(self.letter.token)

    def tokens(self) -> dict[str, str]:
        """Every secret this site's private links carry, by the URL name that carries it."""
        return {
            "public:letter": self.letter_link,
            "public:read_letter": digests.read_link(self.delivery.pk).rstrip("/").rsplit("/", 1)[1],
            "openletters:confirm": letter_links.confirm_token(self.pending.pk, self.pending.confirm_nonce),
            "openletters:withdraw": letter_links.withdraw_token(self.endorsement.pk, self.endorsement.withdraw_secret),
            "public:comment_confirm": comment_links.confirm_token(self.unconfirmed.pk),
            "public:comment_unsubscribe": comment_links.unsubscribe_token(self.comment.pk),
            "public:update_unsubscribe": update_links.unsubscribe_token(
                supporter_id=self.letter.supporter_id, organisation_id=self.campaign.organisation_id
            ),
            "dashboard:invitation": organisation_links.invitation_token(self.invitation.pk, self.invitation.nonce),
        }

    def kwargs_for(self, route: Route) -> dict[str, Any]:
        """Parameters that make ``route`` show this site's things (a real page, not a 404)."""
        tokens = self.tokens()
        by_name: dict[str, Any] = {
            "link": self.letter_link,
            "answer": "yes",
            "token": tokens.get(route.name, "not-a-real-token-0123456789"),
            "slug": self.open_letter.slug if "open-letters" in route.route else self.campaign.slug,
            "discussion_id": self.discussion.pk,
            "comment_id": self.comment.pk,
            "job_id": self.print_job.pk,
            "endorsement_id": self.endorsement.pk,
            "organisation": self.campaign.organisation.slug,
            "recipient_id": self.campaign.recipients.first().pk,
            "group_id": self.open_letter.recipient_group_id,
            "membership_id": self.organiser.memberships.get().pk,
            "invitation_id": self.invitation.pk,
            "reply_id": self.reply.pk,
            "language": "fr",  # a campaign's or open letter's language tab (the site's have a text in fr)
            "update_id": (self.open_letter_update if "open-letters" in route.route else self.campaign_update).pk,
            # Django's admin and allauth: any value their patterns accept.
            "app_label": "auth",
            "object_id": str(self.organiser.pk),
            "id": str(self.organiser.pk),
            "content_type_id": "1",
            "key": "not-a-real-key-0123456789",
            "uidb36": "1",
            "provider_id": "not-a-configured-provider",
            "url": "auth/user/",
        }
        missing = [name for name in route.params if name not in by_name]
        assert not missing, f"tests/web/conftest.py: say how to fill {missing} of {route.name} ({route.route})"
        return {name: by_name[name] for name in route.params}


@pytest.fixture
def site(organiser: Any, organisation: Any, campaign: Any) -> Site:
    letter = LetterFactory(campaign=campaign, supporter__email="ana.ruiz@example.net")
    recipient = campaign.recipients.first()
    delivery = Delivery.objects.create(letter=letter, recipient=recipient, channel=Channel.EMAIL, status="sent")
    reply = Reply.objects.create(  # a row, not a write path: the tallies are not read here
        letter=letter, recipient=recipient, text="Thank you for your letter.", source="inbound",
        received_at=timezone.now(), may_quote=True,
    )  # fmt: skip
    # The campaign in a second language: the composer offers the choice, the editor a tab.
    CampaignTranslation.objects.create(
        campaign=campaign,
        language="fr",
        subject="Gardez le chemin ouvert",
        body="Madame, Monsieur {{ recipient.name }},",
    )
    open_letter = make_open_letter(organisation)
    # The letter in a second language too: its page offers it, its editor has a tab.
    OpenLetterTranslation.objects.create(
        letter=open_letter, language="fr", title="Marcheurs pour la résolution 7", text="Chers membres,"
    )
    versions.record_version(letter=open_letter)
    endorsement = endorsing.record_confirmed(
        letter=open_letter,
        data=endorsing.EndorsementInput(
            kind="person", name="Siobhán O'Brien", role="Trustee", country="IE", email="siobhan@example.ie"
        ),
    )
    pending = endorsing.endorse(
        letter=open_letter,
        data=endorsing.EndorsementInput(kind="person", name="Jan Novák", country="CZ", email="jan@example.cz"),
    )
    discussion = discussion_services.discussion_for(campaign)
    discussion.first_comment = FirstComment.MODERATOR
    discussion.moderation = Moderation.POST
    discussion.save()

    def post(name: str, email: str, body: str, parent: Comment | None = None) -> Comment:
        return discussion_services.post_comment(
            discussion=discussion,
            parent=parent,
            data=discussion_services.CommentInput(name=name, email=email, body=body, notify_replies=True),
            submission_key=uuid.uuid4(),
            ip_hash="",
            user=organiser if name == "Mina Okafor" else None,
            verified_email=name == "Mina Okafor",
        )

    comment = post("Mina Okafor", "mina@example.org", "The path is how my children get to school.")
    post("Mina Okafor", "mina@example.org", "And the bus does not stop near the estate.", parent=comment)
    discussion.first_comment = FirstComment.CONFIRM_EMAIL
    discussion.save()
    unconfirmed = post("Tomás Ferreira", "tomas@example.pt", "Count me in.")
    assert comment.status == CommentStatus.PUBLISHED, comment.status
    assert unconfirmed.status == CommentStatus.UNCONFIRMED, unconfirmed.status
    print_job = PrintJob.objects.create(campaign=campaign, paper="a4", total=4, done=2, status="running")
    invitation = organisation_services.invite(
        organisation=organisation, email="new.organiser@example.org", role="organiser", actor=organiser
    ).invitation
    return Site(
        organiser=organiser,
        campaign=campaign,
        letter=letter,
        delivery=delivery,
        open_letter=open_letter,
        endorsement=endorsement,
        pending=pending,
        discussion=discussion,
        comment=comment,
        unconfirmed=unconfirmed,
        print_job=print_job,
        invitation=invitation,
        reply=reply,
        campaign_update=update_services.save_draft(
            actor=None,
            campaign=campaign,
            subject="The path",
            body="**News**",
            language="en",
            countries=[],
            translations={"fr": ("Le chemin", "**Nouvelles**")},  # its pages show a version too
        ),
        open_letter_update=update_services.save_draft(
            actor=None, open_letter=open_letter, subject="Handed in", body="News", language="en", countries=[]
        ),
    )
