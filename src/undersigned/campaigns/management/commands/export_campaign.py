"""``undersigned export SLUG``: write a campaign file to standard output."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from undersigned.campaigns.campaign_files import dump
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.services import export_campaign


class Command(BaseCommand):
    help = "Write a campaign, its recipients and its letter template as a campaign file (TOML) to standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The campaign's slug, as in its address /c/<slug>/.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is None:
            raise CommandError(f'No campaign with slug "{slug}".')
        # dump() ends with a newline; ending="" keeps the output byte for byte what
        # import reads back.
        self.stdout.write(dump(export_campaign(campaign)), ending="")
