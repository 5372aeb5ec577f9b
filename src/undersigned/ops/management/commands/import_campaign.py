"""``undersigned import FILE``: create or update a campaign from a campaign file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import translation

from undersigned.campaigns.campaign_files import CampaignFileError, OpenLetterFile, parse_any
from undersigned.campaigns.services import get_default_organisation, import_campaign
from undersigned.openletters.services.files import import_open_letter
from undersigned.organisations.models import Organisation

# Exit status for a file that was read but refused, apart from 1 (could not run at all),
# so scripts can tell "fix the file" from "fix the set-up".
INVALID_FILE = 2


class Command(BaseCommand):
    help = "Create or update a campaign or an open letter from a campaign file (TOML; see docs/campaign-files.md)."
    # call_command(..., stdin=StringIO(...)) feeds "-" in tests, as loaddata does.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help='The campaign file, or "-" to read standard input.')
        parser.add_argument(
            "--organisation",
            metavar="SLUG",
            help="The organisation that runs the campaign (default: the only or oldest one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The file's problems are for the operator: in the installation's language
        # (LANGUAGE_CODE, English unless set), whatever a caller had active.
        with translation.override(settings.LANGUAGE_CODE):
            self.import_file(**options)

    def import_file(self, **options: Any) -> None:
        name: str = options["file"]
        label = "stdin" if name == "-" else name
        text = self.read(name, options.get("stdin") or sys.stdin)
        try:
            # Parsed before the organisation is looked up, so a bad file on a fresh
            # installation does not leave a default organisation behind.
            data = parse_any(text)
            organisation = self.organisation(options["organisation"])
            if isinstance(data, OpenLetterFile):
                self.import_open_letter(organisation, data)
                return
            campaign, created = import_campaign(organisation=organisation, data=data)
        except CampaignFileError as exc:
            for message in exc.messages:
                self.stderr.write(f"{label}: {message}")
            count = len(exc.messages)
            problems = "1 problem" if count == 1 else f"{count} problems"
            raise CommandError(f"{label}: {problems}; nothing was imported.", returncode=INVALID_FILE) from None
        recipients = campaign.recipients.count()
        self.stdout.write(
            f'{"Created" if created else "Updated"} campaign "{campaign.title}" ({campaign.slug}, {campaign.status}, '
            f"{recipients} recipient{'' if recipients == 1 else 's'}) for {organisation.name}."
        )
        page = reverse("public:campaign", kwargs={"slug": campaign.slug})
        self.stdout.write(f"Public page: {settings.BASE_URL}{page}")

    def import_open_letter(self, organisation: Organisation, data: OpenLetterFile) -> None:
        letter, created = import_open_letter(organisation=organisation, data=data)
        version = letter.current_version.number if letter.current_version else None
        shown = f", version {version}" if version else ""
        self.stdout.write(
            f'{"Created" if created else "Updated"} open letter "{letter.title}" ({letter.slug}, {letter.status}'
            f"{shown}) for {organisation.name}."
        )
        if version:
            page = reverse("openletters:letter", kwargs={"slug": letter.slug})
            self.stdout.write(f"Public page: {settings.BASE_URL}{page}")

    def read(self, name: str, stdin: TextIO) -> str:
        if name == "-":
            return stdin.read()
        try:
            return Path(name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{name}: not UTF-8 text; save the file as UTF-8 and try again.") from None
        except OSError as exc:
            raise CommandError(f"{name}: cannot read the file ({exc.strerror}).") from None

    def organisation(self, slug: str | None) -> Organisation:
        if slug is None:
            return get_default_organisation()
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            known = ", ".join(Organisation.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise CommandError(f'No organisation with slug "{slug}". Known: {known}.')
        return organisation
