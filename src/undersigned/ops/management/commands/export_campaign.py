"""``undersigned export SLUG``: write a campaign or an open letter as a campaign file to standard output."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from undersigned.campaigns.campaign_files import KINDS, CampaignFile, OpenLetterFile, dump
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.services import export_campaign
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services.files import export_open_letter


class Command(BaseCommand):
    help = (
        "Write a campaign (its recipients and letter template) or an open letter (its addressees) "
        "as a campaign file (TOML; see docs/campaign-files.md) to standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "slug", help="The slug of the campaign (/c/<slug>/) or of the open letter (/open-letters/<slug>/)."
        )
        parser.add_argument(
            "--kind",
            choices=KINDS,
            help="Which one to export when a campaign and an open letter share the slug.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        kind: str | None = options["kind"]
        campaign = Campaign.objects.filter(slug=slug).first() if kind in (None, "campaign") else None
        letter = (
            OpenLetter.objects.select_related("recipient_group", "letter_campaign").filter(slug=slug).first()
            if kind in (None, "open_letter")
            else None
        )
        if campaign is not None and letter is not None:
            # Each kind's slugs are unique, but a campaign and an open letter may share one;
            # guessing would hand an organiser the wrong file to edit and import back.
            raise CommandError(
                f'"{slug}" is both a campaign and an open letter; '
                "choose one with --kind campaign or --kind open_letter."
            )
        data: CampaignFile | OpenLetterFile
        if campaign is not None:
            data = export_campaign(campaign)
        elif letter is not None:
            data = export_open_letter(letter)
        else:
            what = {"campaign": "campaign", "open_letter": "open letter"}.get(kind or "", "campaign or open letter")
            raise CommandError(f'No {what} with slug "{slug}".')
        # dump() ends with a newline; ending="" keeps the output byte for byte what
        # import reads back.
        self.stdout.write(dump(data), ending="")
