from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from undersigned.campaigns.models import Campaign
from undersigned.delivery.print_render import print_campaign
from undersigned.delivery.printing import PAPERS


class Command(BaseCommand):
    help = "Print every letter supporters asked the organisation to post, as one PDF (undersigned print)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the campaign's slug")
        parser.add_argument("--out", required=True, help="where to write the PDF")
        parser.add_argument("--paper", choices=PAPERS, default="a4")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["slug"]).first()
        if campaign is None:
            raise CommandError(f"No campaign with the slug {options['slug']!r}.")
        out = Path(options["out"])
        partial = out.with_name(out.name + ".part")
        with partial.open("wb") as handle:
            count = print_campaign(campaign, handle, paper=options["paper"], day=timezone.localdate())
        if not count:
            partial.unlink()
            self.stdout.write(f"No letters are waiting to be posted in “{campaign.title}”.")
            return
        partial.replace(out)
        self.stdout.write(f"Printed {count} letter{'s' if count != 1 else ''} of “{campaign.title}” to {out}.")
