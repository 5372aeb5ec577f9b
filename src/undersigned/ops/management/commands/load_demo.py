"""``load_demo``: the demo organisation, its two campaigns and an organiser login.

Safe to run on every start of ``undersigned demo``: what exists is left alone, so
organisers' edits to the demo campaigns survive, and the login keeps its password.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone

from undersigned import demo
from undersigned.campaigns.campaign_files import OpenLetterFile, parse, parse_any
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.services import import_campaign
from undersigned.core.models import log_action
from undersigned.discussion import services as discussion_services
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import endorsing, files
from undersigned.organisations.models import Membership, Organisation, Role


class Command(BaseCommand):
    help = "Load the demo organisation, its campaigns and an organiser login. Keeps whatever already exists."

    def handle(self, *args: Any, **options: Any) -> None:
        organisation, created = Organisation.objects.get_or_create(
            slug=demo.ORGANISATION_SLUG,
            defaults={"name": demo.ORGANISATION_NAME, "short_name": demo.ORGANISATION_SHORT_NAME},
        )
        if created:
            log_action("organisation.created", organisation)
        for _name, text in demo.campaign_file_texts():
            # The demo files are checked by the tests, so a CampaignFileError here is a
            # bug worth a traceback, not a message.
            data = parse(text)
            campaign = Campaign.objects.filter(slug=data.slug).first()
            if campaign is None:
                campaign, _ = import_campaign(organisation=organisation, data=data)
                verb = "Created"
            else:
                verb = "Kept"
            _demo_comments(campaign)
            page = reverse("public:campaign", kwargs={"slug": campaign.slug})
            self.stdout.write(f'{verb} campaign "{campaign.title}": {settings.BASE_URL}{page}')
        self.load_open_letters(organisation)
        self.stdout.write(self.organiser_login(organisation))

    def load_open_letters(self, organisation: Organisation) -> None:
        for _name, text in demo.campaign_file_texts(demo.OPEN_LETTER_FILES):
            data = parse_any(text)
            if not isinstance(data, OpenLetterFile):
                raise TypeError(f"{_name} is not an open letter")
            letter = OpenLetter.objects.filter(slug=data.slug).first()
            verb = "Kept"
            if letter is None:
                verb = "Created"
                letter, _ = files.import_open_letter(organisation=organisation, data=data)
                for number, (name, role, org, country, statement) in enumerate(demo.DEMO_ENDORSERS, start=1):
                    endorsing.record_confirmed(
                        letter=letter,
                        data=endorsing.EndorsementInput(
                            kind="organisation" if not org else "person",
                            name=name,
                            role=role,
                            organisation=org,
                            country=country,
                            statement=statement,
                            signatory="Ada Pennick" if not org else "",
                            email=f"demo-endorser-{number}@open-footpaths.example",
                        ),
                    )
            page = reverse("openletters:letter", kwargs={"slug": letter.slug})
            self.stdout.write(f'{verb} open letter "{letter.title}": {settings.BASE_URL}{page}')

    def organiser_login(self, organisation: Organisation) -> str:
        """Make sure the organiser login exists and return the line that tells people how to use it."""
        username = demo.ORGANISER_USERNAME
        where = settings.BASE_URL + reverse("account_login")
        path = settings.VAR_DIR / "demo_login"
        password = _read_password(path)
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            if password is None:
                password = _new_password(path)
            user = user_model.objects.create_superuser(
                username=username, email="organiser@open-footpaths.example", password=password
            )
            log_action("user.created", user)
        # Organisers sign in with their address at the account pages, which ask for a verified one.
        if user.email:
            EmailAddress.objects.get_or_create(
                user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
            )
        membership, created = Membership.objects.get_or_create(
            organisation=organisation, user=user, defaults={"role": Role.OWNER}
        )
        if created:
            log_action("membership.created", membership, role=membership.role)
        # Someone may have changed the password since, or made this account by hand;
        # printing a password that does not work would only confuse.
        if password is None or not user.check_password(password):
            return (
                f"Organiser login: {username} (password unchanged; set one with: undersigned changepassword {username})"
            )
        return f"Organiser login: {user.email or username} / {password} at {where}"


def _demo_comments(campaign: Campaign) -> None:
    """A short discussion with a reply thread, through the same service people use.

    Each comment has a fixed submission key derived from the campaign and its key, so a
    second run finds it and adds nothing.
    """
    discussion = discussion_services.discussion_for(campaign)
    if not discussion.accepts_comments(timezone.now()):
        return  # a demo campaign whose deadline has passed keeps whatever it has
    made: dict[str, Any] = {}
    for key, reply_to, name, text in demo.DEMO_COMMENTS:
        local = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or "reader"
        made[key] = discussion_services.post_comment(
            discussion=discussion,
            parent=made.get(reply_to) if reply_to else None,
            data=discussion_services.CommentInput(name=name, email=f"{local}.{key}@example.org", body=text),
            submission_key=uuid.uuid5(uuid.NAMESPACE_URL, f"undersigned-demo/{campaign.slug}/{key}"),
            ip_hash="",
            verified_email=True,
        )


def _read_password(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _new_password(path: Path) -> str:
    """Create the demo password file, readable by its owner only (mode 600)."""
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a password another run has just written. The mode is given
    # at creation so the file is never readable by others, not even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return password
