"""The import, export and load_demo commands, driven as a person would drive them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.campaigns.test_campaign_files import RIVERSIDE, VALID
from tests.factories import CampaignFactory, OrganisationFactory
from undersigned.campaigns.campaign_files import dump, parse
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.campaigns.services import export_campaign, import_campaign
from undersigned.discussion.models import Comment, CommentStatus
from undersigned.organisations.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db

BAD = VALID.replace('title = "Keep', 'titel = "Keep').replace('country = "CZ"', 'country = "cz"')


def run(*args: str, stdin: str | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    extra: dict[str, Any] = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command(*args, stdout=out, stderr=err, **extra)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def campaign_file(tmp_path: Path) -> Path:
    path = tmp_path / "riverside.toml"
    path.write_text(VALID, encoding="utf-8")
    return path


# --- import_campaign -----------------------------------------------------------------


def test_import_creates_then_updates(organisation: Any, campaign_file: Path) -> None:
    out, err = run("import_campaign", str(campaign_file))
    assert out == (
        'Created campaign "Keep the riverside path open" (keep-the-riverside-path-open, live, 2 recipients) '
        "for Friends of the River Wend.\n"
        "Public page: http://testserver/c/keep-the-riverside-path-open/\n"
    )
    assert err == ""

    campaign_file.write_text(VALID.replace("Keep the riverside path open", "Save the riverside path"))
    out, _ = run("import_campaign", str(campaign_file), "--organisation", "friends-of-the-wend")
    assert out == (
        'Updated campaign "Save the riverside path" (keep-the-riverside-path-open, live, 2 recipients) '
        "for Friends of the River Wend.\n"
        "Public page: http://testserver/c/keep-the-riverside-path-open/\n"
    )
    assert Campaign.objects.get().title == "Save the riverside path"


def test_import_reads_standard_input(organisation: Any) -> None:
    out, _ = run("import_campaign", "-", stdin=VALID)
    assert out.startswith('Created campaign "Keep the riverside path open"')
    assert export_campaign(Campaign.objects.get()) == RIVERSIDE


def test_import_without_organisations_creates_a_default_one(campaign_file: Path) -> None:
    out, _ = run("import_campaign", str(campaign_file))
    assert out.splitlines()[0].endswith("for My organisation.")
    assert list(Organisation.objects.values_list("slug", "name")) == [("default", "My organisation")]


def test_a_bad_file_lists_every_problem_and_exits_with_status_2(organisation: Any, campaign_file: Path) -> None:
    campaign_file.write_text(BAD, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_campaign", str(campaign_file), stdout=out, stderr=err)
    name = str(campaign_file)
    assert err.getvalue() == (
        f"{name}: line 1: campaign.title is required\n"
        f"{name}: line 3: unknown key campaign.titel; did you mean campaign.title?\n"
        f'{name}: line 38: recipients[2].country "cz" is not an ISO 3166-1 alpha-2 country code; did you mean "CZ"?\n'
    )
    assert str(info.value) == f"{name}: 3 problems; nothing was imported."
    assert info.value.returncode == 2
    assert out.getvalue() == ""
    assert not Campaign.objects.exists()


def test_a_bad_file_on_standard_input_is_called_stdin(organisation: Any) -> None:
    err = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_campaign", "-", stdin=io.StringIO("[campaign\n"), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == (
        "stdin: line 1, column 10: not valid TOML: Expected ']' at the end of a table declaration\n"
    )
    assert str(info.value) == "stdin: 1 problem; nothing was imported."


def test_a_slug_of_another_organisation_exits_with_status_2(organisation: Any, campaign_file: Path) -> None:
    other = OrganisationFactory(slug="other-group", name="Another group")
    CampaignFactory(organisation=other, slug="keep-the-riverside-path-open")
    err = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "import_campaign", str(campaign_file), "--organisation", "friends-of-the-wend", stdout=io.StringIO(),
            stderr=err,
        )  # fmt: skip
    assert err.getvalue() == (
        f'{campaign_file}: campaign.slug "keep-the-riverside-path-open" is already used by another organisation; '
        "choose another slug\n"
    )
    assert info.value.returncode == 2


def test_an_unknown_organisation_is_named(organisation: Any, campaign_file: Path) -> None:
    with pytest.raises(CommandError) as info:
        run("import_campaign", str(campaign_file), "--organisation", "nobody")
    assert str(info.value) == 'No organisation with slug "nobody". Known: friends-of-the-wend.'
    assert info.value.returncode == 1


def test_a_missing_or_non_utf8_file_is_named(organisation: Any, tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(CommandError) as info:
        run("import_campaign", str(missing))
    assert str(info.value) == f"{missing}: cannot read the file (No such file or directory)."

    windows = tmp_path / "windows.toml"
    windows.write_bytes('[campaign]\ntitle = "Šim"\n'.encode("cp1250"))
    with pytest.raises(CommandError) as info:
        run("import_campaign", str(windows))
    assert str(info.value) == f"{windows}: not UTF-8 text; save the file as UTF-8 and try again."


# --- export_campaign -----------------------------------------------------------------


def test_export_writes_the_campaign_file(organisation: Any) -> None:
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE)
    out, err = run("export_campaign", "keep-the-riverside-path-open")
    assert out == dump(RIVERSIDE)
    assert err == ""
    assert parse(out) == export_campaign(campaign)
    assert run("export_campaign", "keep-the-riverside-path-open")[0] == out


def test_export_of_an_unknown_slug_is_named(db: Any) -> None:
    with pytest.raises(CommandError) as info:
        run("export_campaign", "no-such-campaign")
    assert str(info.value) == 'No campaign or open letter with slug "no-such-campaign".'


# --- load_demo -----------------------------------------------------------------------


def test_load_demo_twice_keeps_data_and_login(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    first, _ = run("load_demo")
    password_file = tmp_path / "var" / "demo_login"
    password = password_file.read_text().strip()
    assert first == (
        'Created campaign "Keep the riverside path open": http://testserver/c/wendmouth-riverside-path/\n'
        'Created campaign "A bus to every trailhead": http://testserver/c/a-bus-to-every-trailhead/\n'
        'Created open letter "Walkers for Resolution 7: an open letter to our member associations": '
        "http://testserver/open-letters/walkers-for-resolution-7/\n"
        f"Organiser login: organiser@open-footpaths.example / {password} at http://testserver/accounts/login/\n"
    )
    assert len(password) >= 16
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"

    organisation = Organisation.objects.get(slug="demo")
    assert organisation.name == "Open Footpaths Alliance"
    assert set(Campaign.objects.values_list("slug", "status", "organisation")) == {
        ("wendmouth-riverside-path", "live", organisation.pk),
        ("a-bus-to-every-trailhead", "live", organisation.pk),
    }
    user = get_user_model().objects.get(username="organiser")
    assert (user.is_staff, user.is_superuser, user.check_password(password)) == (True, True, True)
    assert Membership.objects.get(user=user).role == Role.OWNER

    # An organiser edits a demo campaign; the next start of the demo keeps the edit.
    Campaign.objects.filter(slug="wendmouth-riverside-path").update(title="Keep our riverside path open")
    second, _ = run("load_demo")
    assert second == (
        'Kept campaign "Keep our riverside path open": http://testserver/c/wendmouth-riverside-path/\n'
        'Kept campaign "A bus to every trailhead": http://testserver/c/a-bus-to-every-trailhead/\n'
        'Kept open letter "Walkers for Resolution 7: an open letter to our member associations": '
        "http://testserver/open-letters/walkers-for-resolution-7/\n"
        f"Organiser login: organiser@open-footpaths.example / {password} at http://testserver/accounts/login/\n"
    )
    assert Campaign.objects.get(slug="wendmouth-riverside-path").title == "Keep our riverside path open"
    assert Organisation.objects.count() == 1
    assert Membership.objects.count() == 1


def test_load_demo_adds_a_discussion_with_a_reply_thread_once(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    run("load_demo")
    run("load_demo")
    campaign = Campaign.objects.get(slug="wendmouth-riverside-path")
    comments = Comment.objects.filter(discussion__campaign=campaign).order_by("id")
    assert comments.count() == 6
    assert set(comments.values_list("status", flat=True)) == {CommentStatus.PUBLISHED}
    assert max(comments.values_list("depth", flat=True)) == 3
    assert campaign.discussion.comment_count == 6
    assert Comment.objects.count() == 12  # both demo campaigns


def test_load_demo_does_not_print_a_password_that_no_longer_works(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    run("load_demo")
    user = get_user_model().objects.get(username="organiser")
    user.set_password("a password the organiser chose")
    user.save()
    out, _ = run("load_demo")
    assert out.splitlines()[-1] == (
        "Organiser login: organiser (password unchanged; set one with: undersigned changepassword organiser)"
    )


def test_load_demo_reuses_a_kept_password_for_a_new_database(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    (settings.VAR_DIR / "demo_login").write_text("kept-from-an-earlier-demo\n")
    out, _ = run("load_demo")
    assert (
        out.splitlines()[-1]
        == "Organiser login: organiser@open-footpaths.example / kept-from-an-earlier-demo at http://testserver/accounts/login/"
    )


# --- Through the real command line ------------------------------------------------------


def test_the_undersigned_command_imports_exports_and_refuses_bad_files(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(
        {
            "UNDERSIGNED_SECRET_KEY": "a-long-enough-secret-key-for-the-command-tests-0123456789",
            "UNDERSIGNED_VAR_DIR": str(tmp_path / "var"),
            "UNDERSIGNED_CACHE_URL": "locmem://",
            "UNDERSIGNED_BASE_URL": "https://letters.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
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
    (tmp_path / "bad.toml").write_text(BAD, encoding="utf-8")

    imported = undersigned("import", "riverside.toml")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == "Public page: https://letters.example/c/keep-the-riverside-path-open/"

    exported = undersigned("export", "keep-the-riverside-path-open")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == dump(RIVERSIDE)

    refused = undersigned("import", "bad.toml")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        "bad.toml: line 1: campaign.title is required",
        "bad.toml: line 3: unknown key campaign.titel; did you mean campaign.title?",
        'bad.toml: line 38: recipients[2].country "cz" is not an ISO 3166-1 alpha-2 country code; did you mean "CZ"?',
        "CommandError: bad.toml: 3 problems; nothing was imported.",
    ]


# --- A recipient's pace and daily digest, through import and export --------------------


def test_a_recipients_pace_and_digest_survive_import_and_export(organisation: Any, tmp_path: Path) -> None:
    text = VALID.replace('country = "CZ"', 'country = "CZ"\nmax_emails_per_minute = 12', 1).replace(
        "[[recipients]]\n", "[[recipients]]\ndaily_digest = true\n", 1
    )
    path = tmp_path / "paced.toml"
    path.write_text(text, encoding="utf-8")
    run("import_campaign", str(path))

    digest, paced = (Recipient.objects.get(name=name) for name in ("Councillor Rowan Ashby", "Ing. Jana Šimůnková"))
    assert (digest.daily_digest, digest.max_emails_per_minute) == (True, None)
    assert (paced.daily_digest, paced.max_emails_per_minute) == (False, 12)

    exported, _ = run("export_campaign", "keep-the-riverside-path-open")
    assert "max_emails_per_minute = 12\ndaily_digest = false\n" in exported
    assert "max_emails_per_minute = 0\ndaily_digest = true\n" in exported
    assert parse(exported).recipients == parse(text).recipients

    # An organiser turns the digest off and lifts the limit in the exported file.
    changed = exported.replace("daily_digest = true", "daily_digest = false").replace(
        "max_emails_per_minute = 12", "max_emails_per_minute = 0"
    )
    path.write_text(changed, encoding="utf-8")
    run("import_campaign", str(path))
    digest.refresh_from_db()
    paced.refresh_from_db()
    assert (digest.daily_digest, paced.max_emails_per_minute) == (False, None)
    assert run("export_campaign", "keep-the-riverside-path-open")[0] == changed


PACE_ERROR = "recipients[1].max_emails_per_minute must be a whole number from 0 (no limit) to 10000"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("max_emails_per_minute = -1", PACE_ERROR),
        ("max_emails_per_minute = 2.5", PACE_ERROR),
        ('max_emails_per_minute = "10"', PACE_ERROR),
        ("max_emails_per_minute = 10001", PACE_ERROR),
        ('daily_digest = "yes"', "recipients[1].daily_digest must be true or false"),
        (
            "max_email_per_minute = 3",
            "unknown key recipients[1].max_email_per_minute; did you mean recipients[1].max_emails_per_minute?",
        ),
    ],
)
def test_bad_pace_and_digest_values_are_named_with_their_line(
    organisation: Any, tmp_path: Path, line: str, message: str
) -> None:
    text = VALID.replace("[[recipients]]\n", f"[[recipients]]\n{line}\n", 1)
    number = text.splitlines().index(line) + 1
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_campaign", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == f"{path}: line {number}: {message}\n"
    assert not Campaign.objects.exists()


def test_a_digest_needs_an_email(organisation: Any, tmp_path: Path) -> None:
    text = VALID.replace("[[recipients]]\n", "[[recipients]]\ndaily_digest = true\n")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("email = ")) + "\n"
    path = tmp_path / "no-email.toml"
    path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_campaign", str(path), stdout=io.StringIO(), stderr=err)
    assert "recipients[1].daily_digest needs an email: the digest is an email\n" in err.getvalue()
    assert not Campaign.objects.exists()
