"""``undersigned export`` of open letters: a letter imported from a file with every key set
is exported, imported again (over itself, into another organisation, into a fresh
database) and exported again, and nothing changes on the way."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.campaigns.test_campaign_files import VALID
from tests.factories import CampaignFactory, OrganisationFactory
from undersigned.campaigns.campaign_files import (
    Author,
    OpenLetterFile,
    OpenLetterTranslationData,
    RecipientData,
    parse_any,
)
from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup
from undersigned.openletters.models import OpenLetter, OpenLetterVersion

pytestmark = pytest.mark.django_db

# Every key the format has, with text that TOML must escape: quotes of both kinds, three
# in a row and one at the very end, backslashes (one at the end of a line), a tab, a
# carriage return, a control character, lines that look like TOML, and non-Latin scripts.
# (''\u0027 is three single quotes, which this raw string cannot hold.)
FULL = r'''kind = "open_letter"

[open_letter]
slug = "clean-rivers"
title = 'Clean rivers "now" — ¡ya! 🌊 # [not a table] = {}'
summary = """
Two lines: a tab\there,
and a backslash \\ with 'single' and "double" quotes."""
status = "published"
published = 2026-11-02
deadline = 2027-04-23T17:00:00+01:00
tags = ["rivers", 'sewage "overflows"', "#1 = [a]", "čeština"]
language = "pt-BR"
recipient_group = "River boards \"& co.\""
decision_date = 2027-05-01
campaign = "keep-the-riverside-path-open"
text = """

Dear river boards,\r
\tWe quote: ""\"we never spill""\" and ''\u0027 too.
A line ending in a backslash \\
{{ not a placeholder }}
[[recipients]]
name = "not a key"
Bell: \u0007, smile: 😀, right to left: مرحبا
It ends with a quote: "the end\""""

[[open_letter.authors]]
name = "Mina \"Min\" Okafor"
role = "Swimmer"
place = "Wendmouth"

[[open_letter.authors]]
name = "中村 千尋"

[[recipients]]
name = "Wend River Board"
role = "Chair"
organisation = "Wend \"River\" Board"
email = "board@wend.example"
web_form_url = "https://wend.example/contact?topic=overflows&lang=en"
postal_address = """
Wend River Board
1 Quay Street
Wendmouth
WM1 2AB"""
country = "GB"
language = "en"
max_emails_per_minute = 12
daily_digest = true

[[recipients]]
name = "Bord na hAbhann"
postal_address = "Sráid an Droichid\nGaillimh"
country = "IE"
language = "ga"

[[recipients]]
name = "河川委員会"
email = "kawa@iinkai.example"
country = "JP"

[translations.ga]
title = "Aibhneacha glana \"anois\""
summary = "Foilsigh gach sceitheadh."
text = """
A bhoird abhann,
Foilsígí gach sceitheadh."""
'''

EXPECTED = OpenLetterFile(
    slug="clean-rivers",
    title='Clean rivers "now" — ¡ya! 🌊 # [not a table] = {}',
    summary="Two lines: a tab\there,\nand a backslash \\ with 'single' and \"double\" quotes.",
    text=(
        "\nDear river boards,\r\n"
        '\tWe quote: """we never spill""" and \'\'\' too.\n'
        "A line ending in a backslash \\\n"
        "{{ not a placeholder }}\n"
        "[[recipients]]\n"
        'name = "not a key"\n'
        "Bell: \x07, smile: 😀, right to left: مرحبا\n"
        'It ends with a quote: "the end"'
    ),
    status="published",
    published=datetime(2026, 11, 2, tzinfo=UTC),
    deadline=datetime(2027, 4, 23, 16, tzinfo=UTC),
    tags=("rivers", 'sewage "overflows"', "#1 = [a]", "čeština"),
    language="pt-BR",
    recipient_group='River boards "& co."',
    decision_date=date(2027, 5, 1),
    campaign="keep-the-riverside-path-open",
    authors=(Author(name='Mina "Min" Okafor', role="Swimmer", place="Wendmouth"), Author(name="中村 千尋")),
    recipients=(
        RecipientData(
            name="Wend River Board",
            role="Chair",
            organisation='Wend "River" Board',
            email="board@wend.example",
            web_form_url="https://wend.example/contact?topic=overflows&lang=en",
            postal_address="Wend River Board\n1 Quay Street\nWendmouth\nWM1 2AB",
            country="GB",
            language="en",
            max_emails_per_minute=12,
            daily_digest=True,
        ),
        RecipientData(
            name="Bord na hAbhann", postal_address="Sráid an Droichid\nGaillimh", country="IE", language="ga"
        ),
        RecipientData(name="河川委員会", email="kawa@iinkai.example", country="JP"),
    ),
    translations=(
        OpenLetterTranslationData(
            language="ga",
            title='Aibhneacha glana "anois"',
            summary="Foilsigh gach sceitheadh.",
            text="A bhoird abhann,\nFoilsígí gach sceitheadh.",
        ),
    ),
)


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    extra: dict[str, Any] = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command(*args, stdout=out, stderr=io.StringIO(), **extra)
    return out.getvalue()


def in_name_order(data: Any) -> Any:
    """The file with its recipients sorted: an open letter keeps no order for its addressees."""
    return dataclasses.replace(data, recipients=tuple(sorted(data.recipients, key=lambda r: (r.name, r.email))))


@pytest.fixture
def imported(organisation: Any) -> OpenLetter:
    """The open letter of FULL, imported with the command after the campaign it links to."""
    run("import_campaign", "-", stdin=VALID)
    run("import_campaign", "-", stdin=FULL)
    return OpenLetter.objects.get(slug="clean-rivers")


def test_the_file_has_every_key_of_the_format() -> None:
    # If the format gains a key, FULL and EXPECTED must set it too, or the round trips
    # below would not cover it.
    parsed = parse_any(FULL)
    assert parsed == EXPECTED
    assert all(getattr(parsed, f.name) != f.default for f in dataclasses.fields(OpenLetterFile))
    for recipient_field in dataclasses.fields(RecipientData):
        assert any(getattr(r, recipient_field.name) != recipient_field.default for r in parsed.recipients)


def test_export_writes_every_key_of_an_imported_open_letter(imported: OpenLetter) -> None:
    out = run("export_campaign", "clean-rivers")
    assert out.startswith('kind = "open_letter"\n')
    assert in_name_order(parse_any(out)) == in_name_order(EXPECTED)
    # The values in the database are the file's, so the export is not just an echo.
    assert imported.title == EXPECTED.title
    assert imported.text == EXPECTED.text
    assert imported.published_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert imported.letter_campaign == Campaign.objects.get(slug="keep-the-riverside-path-open")
    assert imported.recipient_group is not None
    assert (imported.recipient_group.name, imported.recipient_group.decision_date) == (
        'River boards "& co."',
        date(2027, 5, 1),
    )
    paced = Recipient.objects.get(email="board@wend.example")
    assert (paced.max_emails_per_minute, paced.daily_digest) == (12, True)
    # Exporting twice gives the same text.
    assert run("export_campaign", "clean-rivers") == out


def test_importing_the_export_over_itself_changes_nothing(imported: OpenLetter) -> None:
    out = run("export_campaign", "clean-rivers")
    recipients = sorted(Recipient.objects.values_list("pk", "name", "email"))
    assert run("import_campaign", "-", stdin=out) == (
        f'Updated open letter "{EXPECTED.title}" (clean-rivers, published, version 1) for Friends of the River Wend.\n'
        "Public page: http://testserver/open-letters/clean-rivers/\n"
    )
    assert OpenLetterVersion.objects.filter(letter=imported).count() == 2  # the main text and the Irish one
    assert sorted(Recipient.objects.values_list("pk", "name", "email")) == recipients
    assert RecipientGroup.objects.count() == 1
    assert run("export_campaign", "clean-rivers") == out


def test_the_export_imports_into_another_organisation(imported: OpenLetter) -> None:
    out = run("export_campaign", "clean-rivers")
    # Slugs are unique in an installation: moving the letter means it leaves the first.
    imported.delete()
    Campaign.objects.all().delete()
    other = OrganisationFactory(slug="wend-swimmers", name="Wend Swimmers")
    run("import_campaign", "-", "--organisation", "wend-swimmers", stdin=VALID)
    run("import_campaign", "-", "--organisation", "wend-swimmers", stdin=out)
    moved = OpenLetter.objects.get(slug="clean-rivers")
    assert moved.organisation == other
    assert moved.recipient_group is not None
    assert moved.recipient_group.organisation == other
    assert run("export_campaign", "clean-rivers") == out


def test_a_letter_to_each_recipient_without_dates_round_trips(organisation: Any) -> None:
    # The other shape: no group, no campaign, no dates in the file; the publication date
    # is then set on import, to the microsecond, and the export keeps it exactly.
    text = (
        'kind = "open_letter"\n\n[open_letter]\nslug = "quiet-river"\ntitle = "A quiet river"\n'
        'status = "published"\ntext = "Please."\n\n'
        '[[recipients]]\nname = "Wend River Board"\nemail = "board@wend.example"\n\n'
        '[[recipients]]\nname = "Bord na hAbhann"\nweb_form_url = "https://abhainn.example/"\n'
    )
    run("import_campaign", "-", stdin=text)
    letter = OpenLetter.objects.get(slug="quiet-river")
    assert letter.published_at is not None
    out = run("export_campaign", "quiet-river")
    exported = parse_any(out)
    assert isinstance(exported, OpenLetterFile)
    assert exported.published == letter.published_at
    assert in_name_order(dataclasses.replace(exported, published=None)) == in_name_order(parse_any(text))
    for absent in ("deadline =", "decision_date ="):
        assert absent not in out
    assert 'recipient_group = ""\ncampaign = ""\n' in out

    run("import_campaign", "-", stdin=out)
    letter.refresh_from_db()
    assert letter.recipient_group is None
    assert sorted(letter.recipients.values_list("name", flat=True)) == ["Bord na hAbhann", "Wend River Board"]
    assert run("export_campaign", "quiet-river") == out


def test_a_letter_to_nobody_in_particular_round_trips(organisation: Any) -> None:
    """An open letter with no addressees (the admin allows it) exports a file that imports."""
    letter = OpenLetter.objects.create(
        organisation=organisation, slug="a-statement", title="A statement", text="We agree.", status="published"
    )
    out = run("export_campaign", "a-statement")
    assert "[[recipients]]" not in out
    exported = parse_any(out)
    assert isinstance(exported, OpenLetterFile)
    assert exported.recipients == ()

    out_again = run("import_campaign", "-", stdin=out.replace('title = "A statement"', 'title = "A statement, again"'))
    assert "Updated open letter" in out_again
    letter.refresh_from_db()
    assert letter.title == "A statement, again"
    assert not letter.recipients.exists()


@pytest.mark.parametrize(
    "text",
    [
        'ends with two quotes ""',
        'six quotes """""" and a backslash at the end \\',
        "\n\nstarts and ends with blank lines\n\n",
        "a line ending in a backslash \\\nand a tab\tand \\n written out",
        "carriage returns\r\nand a lone \r, a form feed \f and a delete \x7f",
        "Ünïcødé: Ελληνικά, עברית, 中文, 👩🏽‍🚒",
    ],
)
def test_hard_texts_survive_export_and_import(organisation: Any, text: str) -> None:
    letter = OpenLetter.objects.create(organisation=organisation, slug="hard-text", title="Hard text", text=text)
    letter.recipients.add(Recipient.objects.create(organisation=organisation, name="Board", email="b@wend.example"))
    out = run("export_campaign", "hard-text")
    OpenLetter.objects.filter(pk=letter.pk).update(text="changed")
    run("import_campaign", "-", stdin=out)
    assert OpenLetter.objects.get(pk=letter.pk).text == text


# --- Which slug, and errors ----------------------------------------------------------------


def test_a_slug_of_both_a_campaign_and_an_open_letter_needs_kind(imported: OpenLetter) -> None:
    CampaignFactory(organisation=imported.organisation, slug="clean-rivers", title="Clean rivers campaign")
    with pytest.raises(CommandError) as info:
        run("export_campaign", "clean-rivers")
    assert str(info.value) == (
        '"clean-rivers" is both a campaign and an open letter; choose one with --kind campaign or --kind open_letter.'
    )
    assert run("export_campaign", "clean-rivers", "--kind", "open_letter").startswith('kind = "open_letter"\n')
    campaign_file = run("export_campaign", "clean-rivers", "--kind", "campaign")
    assert 'title = "Clean rivers campaign"' in campaign_file
    assert "kind" not in campaign_file.splitlines()[0]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (None, 'No campaign or open letter with slug "no-such-letter".'),
        ("campaign", 'No campaign with slug "no-such-letter".'),
        ("open_letter", 'No open letter with slug "no-such-letter".'),
    ],
)
def test_an_unknown_slug_is_named(imported: OpenLetter, kind: str | None, message: str) -> None:
    with pytest.raises(CommandError) as info:
        run("export_campaign", "no-such-letter", *(["--kind", kind] if kind else []))
    assert str(info.value) == message


def test_kind_only_looks_at_that_kind(imported: OpenLetter) -> None:
    with pytest.raises(CommandError) as info:
        run("export_campaign", "clean-rivers", "--kind", "campaign")
    assert str(info.value) == 'No campaign with slug "clean-rivers".'


# --- Through the real command line, into a fresh database ----------------------------------


def test_the_undersigned_command_moves_an_open_letter_to_a_fresh_database(imported: OpenLetter, tmp_path: Path) -> None:
    exported = run("export_campaign", "clean-rivers")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(
        {
            "UNDERSIGNED_SECRET_KEY": "a-long-enough-secret-key-for-the-command-tests-0123456789",
            "UNDERSIGNED_VAR_DIR": str(tmp_path / "var"),
            "UNDERSIGNED_CACHE_URL": "locmem://",
            "UNDERSIGNED_BASE_URL": "https://letters.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        }
    )

    def undersigned(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "undersigned.cli", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
        )  # fmt: skip

    migrated = undersigned("migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    (tmp_path / "riverside.toml").write_text(VALID, encoding="utf-8")
    (tmp_path / "clean-rivers.toml").write_text(exported, encoding="utf-8")
    for name in ("riverside.toml", "clean-rivers.toml"):
        done = undersigned("import", name)
        assert done.returncode == 0, done.stderr

    again = undersigned("export", "clean-rivers")
    assert (again.returncode, again.stdout, again.stderr) == (0, exported, "")

    unknown = undersigned("export", "no-such-letter")
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == 'CommandError: No campaign or open letter with slug "no-such-letter".\n'
