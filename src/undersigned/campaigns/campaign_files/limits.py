"""How many entries one campaign file may hold: recipients, group members, tags, prompts, authors.

A file with 100,000 recipients would make a campaign page no one can use, so each list
has a limit far above any real campaign. The numbers are settings (``CAMPAIGN_RECIPIENTS_MAX``
and its neighbours in settings.py), read when a file is checked. ``reading`` reports a
list over its limit at the line of the first entry too many; ``check_counts`` applies
the same limits to values built in code, for the services that write them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import ngettext_lazy

from .schema import CampaignFile, CampaignFileError, OpenLetterFile


@dataclass(frozen=True)
class CountLimit:
    """The most entries one list may have, named by the setting that holds the number."""

    setting: str
    # The whole message, with %(path)s, %(count)d (its plural) and %(most)d; translated
    # when it is built, in the language of whoever reads it.
    sentence: Promise

    @property
    def most(self) -> int:
        return int(getattr(settings, self.setting))

    def message(self, path: str, count: int) -> str:
        return str(self.sentence % {"path": path, "count": count, "most": self.most})


CAMPAIGN_RECIPIENTS = CountLimit(
    "CAMPAIGN_RECIPIENTS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d recipient; the limit is %(most)d per campaign",
        "%(path)s lists %(count)d recipients; the limit is %(most)d per campaign",
        "count",
    ),
)
OPEN_LETTER_RECIPIENTS = CountLimit(
    "CAMPAIGN_RECIPIENTS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d recipient; the limit is %(most)d per open letter",
        "%(path)s lists %(count)d recipients; the limit is %(most)d per open letter",
        "count",
    ),
)
GROUP_MEMBERS = CountLimit(
    "RECIPIENT_GROUP_MEMBERS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d member of its recipient group; the limit is %(most)d per group",
        "%(path)s lists %(count)d members of its recipient group; the limit is %(most)d per group",
        "count",
    ),
)
CAMPAIGN_TAGS = CountLimit(
    "CAMPAIGN_TAGS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d tag; the limit is %(most)d per campaign",
        "%(path)s lists %(count)d tags; the limit is %(most)d per campaign",
        "count",
    ),
)
OPEN_LETTER_TAGS = CountLimit(
    "CAMPAIGN_TAGS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d tag; the limit is %(most)d per open letter",
        "%(path)s lists %(count)d tags; the limit is %(most)d per open letter",
        "count",
    ),
)
PROMPTS = CountLimit(
    "LETTER_PROMPTS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d prompt; the limit is %(most)d per letter",
        "%(path)s lists %(count)d prompts; the limit is %(most)d per letter",
        "count",
    ),
)
AUTHORS = CountLimit(
    "OPEN_LETTER_AUTHORS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d author; the limit is %(most)d per open letter",
        "%(path)s lists %(count)d authors; the limit is %(most)d per open letter",
        "count",
    ),
)
TRANSLATIONS = CountLimit(
    "CAMPAIGN_TRANSLATIONS_MAX",
    ngettext_lazy(
        "%(path)s lists %(count)d language; the limit is %(most)d per campaign",
        "%(path)s lists %(count)d languages; the limit is %(most)d per campaign",
        "count",
    ),
)


def check_counts(data: CampaignFile | OpenLetterFile) -> None:
    """Raise ``CampaignFileError`` naming each list of ``data`` that is over its limit."""
    if isinstance(data, CampaignFile):
        lists = [
            ("recipients", len(data.recipients), CAMPAIGN_RECIPIENTS),
            ("campaign.tags", len(data.tags), CAMPAIGN_TAGS),
            ("letter.prompts", len(data.letter.prompts), PROMPTS),
            ("translations", len(data.translations), TRANSLATIONS),
            *((f"translations.{t.language}.prompts", len(t.prompts), PROMPTS) for t in data.translations),
        ]
    else:
        lists = [
            ("recipients", len(data.recipients), GROUP_MEMBERS if data.recipient_group else OPEN_LETTER_RECIPIENTS),
            ("open_letter.tags", len(data.tags), OPEN_LETTER_TAGS),
            ("open_letter.authors", len(data.authors), AUTHORS),
            ("translations", len(data.translations), TRANSLATIONS),
        ]
    problems = [limit.message(path, count) for path, count, limit in lists if count > limit.most]
    if problems:
        raise CampaignFileError(problems)
