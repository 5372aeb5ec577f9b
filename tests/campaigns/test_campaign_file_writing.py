"""Writing campaign files: no text can change a file's structure, whatever it holds.

Each hostile text is put in one field at a time; the written file must then read (with
the standard library's TOML reader) as the same structure as the plain file, with only
that one value different, and exactly the text that was put there.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.campaigns.test_campaign_files import RIVERSIDE
from undersigned.campaigns.campaign_files import Author, CampaignFile, OpenLetterFile, RecipientData, dump, parse_any

HOSTILE = [
    'Ends a string """\n[campaign]\nslug = "decoy"\n"""',
    "Ends a literal '''\n[[recipients]]\nname = 'Decoy'\n'''",
    'One line "\nkind = "open_letter"\n# and a comment',
    'CRLF lines\r\n[letter]\r\nsubject = "decoy"\r\n',
    "A lone\rcarriage return and a \r\n pair",
    "A backslash at the end of a line\\\nwould join it to the next",
    "Ends with a backslash\\",
    '""""""six quotes, then "" two',
    '"',
    "\n",
    "\r\n",
    "\n\n[table] after two line breaks",
    "  [campaign.author]  \n  name = 'indented'",
    "Controls \x00 \x07 \x1b[31m \x7f, a tab\t, separators \u2028 \u2029 and a BOM \ufeff",
    "{{ supporter.name }} and \\u00e9 are not escapes",
]

Setter = Callable[[CampaignFile, str], CampaignFile]


def _author(c: CampaignFile, **changes: str) -> CampaignFile:
    return replace(c, author=replace(c.author, **changes))


def _recipient(c: CampaignFile, **changes: Any) -> CampaignFile:
    return replace(c, recipients=(replace(c.recipients[0], **changes), *c.recipients[1:]))


def _letter(c: CampaignFile, **changes: Any) -> CampaignFile:
    return replace(c, letter=replace(c.letter, **changes))


# Every text a campaign file holds, with where it is in the TOML document.
CAMPAIGN_TEXTS: dict[tuple[str | int, ...], Setter] = {
    ("campaign", "slug"): lambda c, v: replace(c, slug=v),
    ("campaign", "title"): lambda c, v: replace(c, title=v),
    ("campaign", "summary"): lambda c, v: replace(c, summary=v),
    ("campaign", "background"): lambda c, v: replace(c, background=v),
    ("campaign", "tags", 0): lambda c, v: replace(c, tags=(v, *c.tags[1:])),
    ("campaign", "language"): lambda c, v: replace(c, language=v),
    ("campaign", "status"): lambda c, v: replace(c, status=v),
    ("campaign", "author", "name"): lambda c, v: _author(c, name=v),
    ("campaign", "author", "role"): lambda c, v: _author(c, role=v),
    ("campaign", "author", "place"): lambda c, v: _author(c, place=v),
    ("recipients", 0, "name"): lambda c, v: _recipient(c, name=v),
    ("recipients", 0, "role"): lambda c, v: _recipient(c, role=v),
    ("recipients", 0, "organisation"): lambda c, v: _recipient(c, organisation=v),
    ("recipients", 0, "email"): lambda c, v: _recipient(c, email=v),
    ("recipients", 0, "web_form_url"): lambda c, v: _recipient(c, web_form_url=v),
    ("recipients", 0, "postal_address"): lambda c, v: _recipient(c, postal_address=v),
    ("recipients", 0, "country"): lambda c, v: _recipient(c, country=v),
    ("recipients", 0, "language"): lambda c, v: _recipient(c, language=v),
    ("letter", "subject"): lambda c, v: _letter(c, subject=v),
    ("letter", "body"): lambda c, v: _letter(c, body=v),
    ("letter", "prompts", 0): lambda c, v: _letter(c, prompts=(v,)),
    ("letter", "channels", 0): lambda c, v: _letter(c, channels=(v, *c.letter.channels[1:])),
    ("letter", "language"): lambda c, v: _letter(c, language=v),
}


def _set(document: dict[str, Any], path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    place: Any = changed
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    return changed


@pytest.mark.parametrize("path", list(CAMPAIGN_TEXTS), ids=lambda p: ".".join(map(str, p)))
def test_no_text_changes_the_structure_of_a_campaign_file(path: tuple[str | int, ...]) -> None:
    base = _letter(RIVERSIDE, prompts=("How do you use the path?",))
    plain = tomllib.loads(dump(base))
    for value in HOSTILE:
        written = dump(CAMPAIGN_TEXTS[path](base, value))
        assert tomllib.loads(written) == _set(plain, path, value), (path, value)


OPEN_LETTER = OpenLetterFile(
    slug="clean-rivers",
    title="Clean rivers",
    text="We, the undersigned,\nask for clean rivers.",
    status="published",
    published=datetime(2026, 11, 2, tzinfo=UTC),
    decision_date=date(2027, 5, 1),
    tags=("rivers",),
    recipient_group="River boards",
    authors=(Author(name="Mina Okafor", role="Chair", place="Wendmouth"),),
    recipients=(RecipientData(name="The river board", email="board@wend.example"),),
)


@pytest.mark.parametrize("value", HOSTILE)
def test_no_text_changes_the_structure_of_an_open_letter_file(value: str) -> None:
    plain = tomllib.loads(dump(OPEN_LETTER))
    hostile = replace(
        OPEN_LETTER,
        title=value,
        text=value,
        summary=value,
        recipient_group=value,
        tags=(value,),
        authors=(Author(name=value, role=value, place=value),),
        recipients=(RecipientData(name=value, email=value, postal_address=value),),
    )
    expected = copy.deepcopy(plain)
    for key in ("title", "text", "summary", "recipient_group"):
        expected["open_letter"][key] = value
    expected["open_letter"]["tags"] = [value]
    expected["open_letter"]["authors"] = [{"name": value, "role": value, "place": value}]
    expected["recipients"][0].update(name=value, email=value, postal_address=value)
    assert tomllib.loads(dump(hostile)) == expected


def test_multi_line_texts_are_written_as_blocks_that_start_at_the_left_margin() -> None:
    text = dump(_letter(RIVERSIDE, body='Dear {{ recipient.name }},\r\n\r\nThe "path" matters.\r\n'))
    # The CR of a CRLF pair is written as \r, since TOML reads a bare line break as LF.
    assert 'body = """\nDear {{ recipient.name }},\\r\n\\r\nThe "path" matters.\\r\n"""\n' in text
    assert parse_any(text) == _letter(RIVERSIDE, body='Dear {{ recipient.name }},\r\n\r\nThe "path" matters.\r\n')


def test_an_open_letter_file_reads_back_as_written() -> None:
    text = dump(OPEN_LETTER)
    assert text == (
        'kind = "open_letter"\n'
        "# Undersigned open letter file; the format is described in docs/campaign-files.md\n"
        "\n"
        "[open_letter]\n"
        'slug = "clean-rivers"\n'
        'title = "Clean rivers"\n'
        'summary = ""\n'
        'status = "published"\n'
        "published = 2026-11-02\n"
        'tags = ["rivers"]\n'
        'language = "en"\n'
        'recipient_group = "River boards"\n'
        "decision_date = 2027-05-01\n"
        'campaign = ""\n'
        'text = """\n'
        "We, the undersigned,\n"
        'ask for clean rivers."""\n'
        "\n"
        "[[open_letter.authors]]\n"
        'name = "Mina Okafor"\n'
        'role = "Chair"\n'
        'place = "Wendmouth"\n'
        "\n"
        "[[recipients]]\n"
        'name = "The river board"\n'
        'role = ""\n'
        'organisation = ""\n'
        'email = "board@wend.example"\n'
        'web_form_url = ""\n'
        'postal_address = ""\n'
        'country = ""\n'
        'language = ""\n'
        "max_emails_per_minute = 0\n"
        "daily_digest = false\n"
    )
    assert parse_any(text) == OPEN_LETTER
