"""Open letters from campaign files (``kind = "open_letter"``) with ``undersigned import``,
the demo's open letter, and the real worker sending a confirmation email."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.tasks.signals import task_enqueued
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.openletters.conftest import endorse, links_in, path_of
from undersigned.campaigns.campaign_files import CampaignFileError, OpenLetterFile, parse, parse_any
from undersigned.campaigns.models import Recipient, RecipientGroup
from undersigned.demo import OPEN_LETTER_FILES, campaign_file_texts
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.tasks import send_confirmation

FILE = """kind = "open_letter"

[open_letter]
slug = "clean-rivers"
title = "Clean rivers now"
status = "published"
recipient_group = "River boards"
decision_date = 2027-05-01
text = \"\"\"
Dear river boards,

Please **publish** every sewage overflow.
\"\"\"

[[open_letter.authors]]
name = "Mina Okafor"
role = "Swimmer"
place = "Wendmouth"

[[recipients]]
name = "Wend River Board"
email = "board@wend.example"
country = "GB"

[[recipients]]
name = "Bord na hAbhann"
email = "bord@abhainn.example"
country = "IE"
"""


def _run(*args: str, stdin: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return out.getvalue()


def test_import_creates_the_letter_its_group_and_version(organisation: Any) -> None:
    out = _run("import_campaign", "-", stdin=FILE)
    assert out == (
        f'Created open letter "Clean rivers now" (clean-rivers, published, version 1) for {organisation.name}.\n'
        "Public page: http://testserver/open-letters/clean-rivers/\n"
    )
    letter = OpenLetter.objects.get(slug="clean-rivers")
    assert letter.authors == [{"name": "Mina Okafor", "role": "Swimmer", "place": "Wendmouth"}]
    group = RecipientGroup.objects.get(name="River boards")
    assert letter.recipient_group == group
    assert str(group.decision_date) == "2027-05-01"
    assert sorted(group.members.values_list("country", flat=True)) == ["GB", "IE"]
    assert letter.current_version is not None
    assert letter.current_version.number == 1

    # Importing the same file again changes nothing; a changed text makes version 2.
    out = _run("import_campaign", "-", stdin=FILE)
    assert "version 1" in out
    out = _run("import_campaign", "-", stdin=FILE.replace("every sewage overflow", "every overflow, daily"))
    assert "Updated open letter" in out
    assert "version 2" in out
    assert RecipientGroup.objects.count() == 1


def test_a_recipients_pace_and_digest_follow_the_file_as_for_a_campaign(organisation: Any) -> None:
    paced = FILE.replace('country = "GB"', 'country = "GB"\nmax_emails_per_minute = 12\ndaily_digest = true')
    _run("import_campaign", "-", stdin=paced)
    board = Recipient.objects.get(name="Wend River Board")
    assert (board.max_emails_per_minute, board.daily_digest) == (12, True)

    # The file is the truth for the recipient, as a campaign file is: without the keys,
    # their defaults (no limit, one email per letter).
    _run("import_campaign", "-", stdin=FILE)
    board.refresh_from_db()
    assert (board.max_emails_per_minute, board.daily_digest) == (None, False)


def test_bad_open_letter_file_lists_every_problem(organisation: Any) -> None:
    bad = FILE.replace('status = "published"', 'status = "live"').replace("decision_date = 2027-05-01", "colour = 1")
    with pytest.raises(CampaignFileError) as caught:
        parse_any(bad)
    assert caught.value.messages == [
        'line 6: open_letter.status must be one of draft, published, closed, archived, not "live"',
        "line 8: unknown key open_letter.colour; known keys: slug, title, summary, text, status, published, "
        "deadline, tags, language, recipient_group, decision_date, campaign, authors",
    ]
    with pytest.raises(CommandError):
        _run("import_campaign", "-", stdin=bad)
    assert not OpenLetter.objects.exists()


def test_a_campaign_import_refuses_an_open_letter_file() -> None:
    with pytest.raises(CampaignFileError) as caught:
        parse(FILE)
    assert caught.value.messages == ['this file describes an open letter (kind = "open_letter"), not a campaign']
    with pytest.raises(CampaignFileError) as unknown:
        parse_any('kind = "petition"\n')
    assert unknown.value.messages == ['line 1: kind must be one of campaign, open_letter, not "petition"']


def test_demo_open_letter_parses_and_loads(db: Any, settings: Any, tmp_path: Any) -> None:
    for _name, text in campaign_file_texts(OPEN_LETTER_FILES):
        assert isinstance(parse_any(text), OpenLetterFile)
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    letter = OpenLetter.objects.get(slug="walkers-for-resolution-7")
    assert letter.letter_campaign is not None
    assert letter.letter_campaign.slug == "a-bus-to-every-trailhead"
    assert letter.verified_count == 4
    html = Client().get(reverse("openletters:letter", args=[letter.slug])).content.decode()
    assert "Siobhán Ní Bhriain" in html
    assert "Write your own letter in similar terms" in html


def test_worker_sends_the_confirmation_email(
    open_letter: OpenLetter, smtp_sink: Any, run_worker: Any, settings: Any
) -> None:
    client = Client()
    assert endorse(client, open_letter).status_code == 302
    assert smtp_sink.messages == []  # nothing is sent in the request
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    (message,) = smtp_sink.parsed()
    found = links_in(message)
    assert client.post(path_of(found["confirm"])).status_code == 302
    assert Endorsement.objects.get().status == "confirmed"


def test_an_endorsement_is_written_with_its_task(
    open_letter: OpenLetter, django_capture_on_commit_callbacks: Any
) -> None:
    # With the database task backend the task row is written with the endorsement: on
    # PostgreSQL in the same statement as the row and its audit row (one commit, and the
    # email can't be lost between two), elsewhere by enqueue() after the commit. Either
    # way the row is the one enqueue() writes, and the task_enqueued signal is sent.

    heard: list[Any] = []

    def listen(sender: Any, task_result: Any, **kwargs: Any) -> None:
        heard.append(task_result)

    task_enqueued.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as captured:
            assert endorse(Client(), open_letter).status_code == 302
    finally:
        task_enqueued.disconnect(listen)
    endorsement = Endorsement.objects.get()
    (row,) = DBTaskResult.objects.all()
    assert row.args_kwargs == {"args": [endorsement.pk], "kwargs": {}}
    assert (row.task_path, row.queue_name, row.backend_name) == (send_confirmation.module_path, "default", "default")
    assert row.status == "READY"
    assert row.run_after is not None
    assert row.enqueued_at is not None
    assert list(DBTaskResult.objects.ready()) == [row]
    assert [(r.id, r.args) for r in heard] == [(str(row.id), [endorsement.pk])]
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "WITH"))]
    if connection.vendor == "postgresql":
        # One statement writes the endorsement, its task and its log; the results' tally of
        # endorsements waiting for confirmation moves beside it (openletters/services/counters.py).
        (statement,) = [w for w in writes if 'INTO "openletters_endorsement" ' in w]
        assert "django_tasks_database_dbtaskresult" in statement
        assert "core_actionlog" in statement
        (tally,) = [w for w in writes if "openletters_endorsementtally" in w]
        assert tally != statement


def test_housekeeping_resends_a_lost_confirmation_email(
    open_letter: OpenLetter, smtp_sink: Any, run_worker: Any, settings: Any
) -> None:

    client = Client()
    assert endorse(client, open_letter).status_code == 302
    DBTaskResult.objects.all().delete()  # the task is lost (e.g. a database restored from before it)
    Endorsement.objects.update(updated_at=timezone.now() - timedelta(minutes=6))
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # housekeeping queues it again at start, then it is sent
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # sent once: nothing is queued a second time
    (message,) = smtp_sink.parsed()
    assert "Please confirm your endorsement" in message["Subject"]
    assert Endorsement.objects.get().confirmation_sent_at is not None


def test_two_groups_of_one_name_import_into_the_letters_own(organisation: Any) -> None:
    """An organisation may have two groups of one name; importing picks one instead of failing."""
    _run("import_campaign", "-", stdin=FILE)
    letter = OpenLetter.objects.get(slug="clean-rivers")
    assert letter.recipient_group is not None
    own = letter.recipient_group
    RecipientGroup.objects.create(organisation=organisation, name="River boards")  # e.g. made in the admin

    out = _run("import_campaign", "-", stdin=FILE.replace("every sewage overflow", "every overflow, daily"))
    assert "Updated open letter" in out
    letter.refresh_from_db()
    assert letter.recipient_group == own
    assert sorted(own.members.values_list("country", flat=True)) == ["GB", "IE"]

    # A new letter addressed to that name takes the older group.
    other = FILE.replace('slug = "clean-rivers"', 'slug = "rivers-two"')
    assert "Created open letter" in _run("import_campaign", "-", stdin=other)
    assert OpenLetter.objects.get(slug="rivers-two").recipient_group == own
