"""The organiser's print page: start a bulk print, watch it, download it; nobody else can."""

from __future__ import annotations

import datetime
import html
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import (
    CampaignFactory,
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    RecipientFactory,
    UserFactory,
)
from tests.languages import pseudo_translations
from undersigned.core.models import ActionLog
from undersigned.delivery import job_errors
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence, PrintJob, PrintJobStatus
from undersigned.delivery.services import request_post
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def posting_campaign(organisation: Any) -> Any:
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    campaign = CampaignFactory(
        organisation=organisation, slug="bulk", posts_for_supporters=True, recipients=[first, second]
    )
    for name in ("Ana Ruiz", "Siobhán O'Brien"):
        letter = LetterFactory(campaign=campaign, sender_name=name)
        request_post(letter=letter, recipient=first)
        request_post(letter=letter, recipient=second)
    return campaign


@pytest.fixture
def other_organiser(db: Any) -> Any:
    """Staff and an owner, but of another organisation."""
    user = UserFactory(username="other-organiser", is_staff=True)
    MembershipFactory(organisation=OrganisationFactory(slug="wendmouth-cyclists"), user=user, role=Role.OWNER)
    return user


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _print_url(campaign: Any) -> str:
    return reverse("dashboard:print", args=[campaign.slug])


def test_an_organiser_starts_a_print_job(
    member: Any, posting_campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(member)
    page = client.get(_print_url(posting_campaign)).content.decode()
    assert "<strong>4</strong> letters wait to be posted" in page
    assert "No print jobs yet." in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_print_url(posting_campaign), {"paper": "us-letter"})

    job = PrintJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_print_url(posting_campaign)}#job-{job.pk}"
    assert (job.campaign, job.paper, job.status, job.total, job.done) == (posting_campaign, "us-letter", "queued", 4, 0)
    assert job.requested_by == member
    log = ActionLog.objects.get(action="print_job.started")
    assert (log.actor, log.object_id, log.data) == (member, str(job.pk), {"paper": "us-letter", "total": 4})
    task = DBTaskResult.objects.get()
    assert task.task_path == "undersigned.delivery.tasks.build_print_job"
    assert task.args_kwargs == {"args": [job.pk], "kwargs": {}}

    page = client.get(response["Location"]).content.decode()
    assert "Printing has started." in page
    assert "<strong>Waiting to start:</strong> 0 of 4 letters printed." in page
    assert f'data-hx-get="/dashboard/print-jobs/{job.pk}/?seen=queued-0-4-0"' in page
    assert 'data-hx-trigger="every 2s"' in page
    assert f'<a href="/dashboard/campaigns/bulk/print/#job-{job.pk}">Refresh</a>' in page
    assert 'aria-live="polite"' in page


def test_a_double_click_starts_one_job(member: Any, posting_campaign: Any) -> None:
    client = _client(member)
    first = client.post(_print_url(posting_campaign), {"paper": "a4"})
    second = client.post(_print_url(posting_campaign), {"paper": "a4"}, follow=True)
    job = PrintJob.objects.get()
    assert first["Location"] == f"{_print_url(posting_campaign)}#job-{job.pk}"
    assert second.redirect_chain == [(f"{_print_url(posting_campaign)}#job-{job.pk}", 302)]
    assert "This print had already been started; it is shown below." in second.content.decode()
    # Another paper is another print.
    client.post(_print_url(posting_campaign), {"paper": "us-letter"})
    assert sorted(PrintJob.objects.values_list("paper", flat=True)) == ["a4", "us-letter"]


def test_nothing_to_print_and_bad_paper_are_refused_with_a_message(member: Any, campaign: Any) -> None:
    client = _client(member)
    response = client.post(_print_url(campaign), {"paper": "a4"})
    assert response.status_code == 409
    assert "No letters are waiting to be posted." in response.content.decode()
    response = client.post(_print_url(campaign), {"paper": "a3"})
    assert response.status_code == 400
    assert "<strong>Error:</strong> Choose A4 or US Letter." in response.content.decode()
    assert not PrintJob.objects.exists()


def test_progress_is_a_fragment_that_shows_n_of_m(member: Any, posting_campaign: Any) -> None:
    job = PrintJob.objects.create(campaign=posting_campaign, paper="a4", total=300, done=120, status="running")
    client = _client(member)
    url = reverse("dashboard:print_job", args=[job.pk])

    response = client.get(url, headers=HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200
    assert f'<progress id="job-{job.pk}-progress" max="300" value="120"' in fragment
    assert (
        f'<p id="job-{job.pk}-status" data-hx-swap-oob="innerHTML"><strong>Printing:</strong> 120 of 300 letters.</p>'
        in fragment
    )
    assert f'data-hx-get="{url}?seen=running-120-300-0"' in fragment

    # Nothing new: no swap, so a screen reader doesn't hear the same status again.
    assert client.get(url, {"seen": "running-120-300-0"}, headers=HTMX).status_code == 204

    PrintJob.objects.filter(pk=job.pk).update(done=300, total=300, status="done", file="print-jobs/x.pdf")
    fragment = client.get(url, {"seen": "running-120-300-0"}, headers=HTMX).content.decode()
    assert "<strong>Ready:</strong> 300 of 300 letters, in one PDF." in fragment
    assert f'href="/dashboard/print-jobs/{job.pk}/download/"' in fragment
    assert "hx-get" not in fragment  # polling stops

    # Without htmx the fragment's address leads to the job on the print page.
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{_print_url(posting_campaign)}#job-{job.pk}"


def test_a_stalled_job_can_be_started_again(member: Any, posting_campaign: Any) -> None:
    stalled = PrintJob.objects.create(campaign=posting_campaign, paper="a4", total=4, done=2, status="running")
    PrintJob.objects.filter(pk=stalled.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=11))
    client = _client(member)
    page = client.get(_print_url(posting_campaign)).content.decode()
    assert "<strong>Stalled:</strong> no progress since" in page
    assert "the worker may have stopped. 2 of 4 letters printed." in page
    assert "Start this print again</button>" in page

    response = client.post(_print_url(posting_campaign), {"paper": "a4"})
    fresh = PrintJob.objects.exclude(pk=stalled.pk).get()
    assert response["Location"] == f"{_print_url(posting_campaign)}#job-{fresh.pk}"
    stalled.refresh_from_db()
    assert stalled.status == PrintJobStatus.FAILED
    assert stalled.error == "Stopped making progress (its worker may have stopped), so it was started again."
    assert (fresh.status, fresh.total) == ("queued", 4)


def test_only_organisers_of_the_campaign_see_it(
    posting_campaign: Any, stranger: Any, other_organiser: Any, member: Any, organisation: Any
) -> None:
    job = PrintJob.objects.create(
        campaign=posting_campaign, paper="a4", total=4, done=4, status="done", file="print-jobs/secret.pdf"
    )
    urls = [
        _print_url(posting_campaign),
        reverse("dashboard:print_job", args=[job.pk]),
        reverse("dashboard:print_job_download", args=[job.pk]),
    ]
    stranger_client, other_client = _client(stranger), _client(other_organiser)
    for url in urls:
        assert stranger_client.get(url, headers=HTMX).status_code == 403  # signed in, not staff
        assert other_client.get(url, headers=HTMX).status_code == 404  # staff, another organisation
        assert Client().get(url).status_code == 302  # not signed in: to the sign-in page
    assert other_client.post(_print_url(posting_campaign), {"paper": "us-letter"}).status_code == 404
    assert stranger_client.post(_print_url(posting_campaign), {"paper": "us-letter"}).status_code == 403
    # A moderator of the right organisation doesn't organise campaigns.
    moderator = UserFactory(username="moderator", is_staff=True)
    MembershipFactory(organisation=organisation, user=moderator, role=Role.MODERATOR)
    assert _client(moderator).get(urls[0]).status_code == 404
    assert PrintJob.objects.count() == 1

    assert "Keep the riverside path open" not in other_client.get(reverse("dashboard:index")).content.decode()
    index = _client(member).get(reverse("dashboard:index")).content.decode()
    assert f'<a href="{_print_url(posting_campaign)}">Print posted letters' in index


def test_the_header_links_staff_to_the_dashboard(member: Any, stranger: Any, posting_campaign: Any) -> None:
    link = '<a href="/dashboard/">Dashboard</a>'
    assert link in _client(member).get(_print_url(posting_campaign)).content.decode()
    assert link not in _client(stranger).get(f"/c/{posting_campaign.slug}/").content.decode()


def _pdf_pages(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "download.pdf"  # tmp_path is the test's own folder
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


@pytest.mark.django_db(transaction=True)
def test_after_the_worker_runs_the_page_offers_the_download(
    member: Any, posting_campaign: Any, run_worker: Any, tmp_path: Path, settings: Any
) -> None:
    # A media folder of this test's own, for the worker and for the download: the shared
    # one may hold a file of the same name from an earlier test (job ids start again).
    default = {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "var" / "media")}}
    settings.STORAGES = {**settings.STORAGES, "default": default}
    client = _client(member)
    client.post(_print_url(posting_campaign), {"paper": "a4"})
    job = PrintJob.objects.get()

    worker = run_worker(UNDERSIGNED_VAR_DIR=str(tmp_path / "var"))

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.error) == ("done", 4, 4, ""), worker.stderr
    assert job.file == f"print-jobs/{job.pk}-bulk-a4.pdf"
    assert (tmp_path / "var" / "media" / job.file).is_file()
    page = client.get(_print_url(posting_campaign)).content.decode()
    assert "<strong>Ready:</strong> 4 of 4 letters, in one PDF." in page
    download_url = reverse("dashboard:print_job_download", args=[job.pk])
    assert f'<a href="{download_url}" class="download-link" download>Download the PDF' in page

    response = client.get(download_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="bulk-letters-a4-{job.pk}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    data = response.getvalue()
    assert data.startswith(b"%PDF-")
    assert _pdf_pages(data, tmp_path) == 6  # two covers, four one-page letters
    assert ActionLog.objects.filter(action="print_job.downloaded", actor=member, object_id=str(job.pk)).exists()
    assert ActionLog.objects.filter(action="print_job.done", object_id=str(job.pk)).get().data == {"letters": 4}


# --- After printing: marking the print as posted -----------------------------------------


def _posted_url(job: Any) -> str:
    return reverse("dashboard:print_job_posted", args=[job.pk])


@pytest.mark.django_db(transaction=True)
def test_an_organiser_prints_then_marks_the_letters_posted(
    member: Any, posting_campaign: Any, run_worker: Any, tmp_path: Path, settings: Any
) -> None:

    default = {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "var" / "media")}}
    settings.STORAGES = {**settings.STORAGES, "default": default}
    client = _client(member)
    client.post(_print_url(posting_campaign), {"paper": "a4"})
    job = PrintJob.objects.get()
    run_worker(UNDERSIGNED_VAR_DIR=str(tmp_path / "var"))
    # A supporter asks for a letter to be posted after the print was made: not in it.
    later = LetterFactory(campaign=posting_campaign, sender_name="Tomasz Nowak")
    late_delivery = request_post(letter=later, recipient=posting_campaign.recipients.first())

    page = client.get(_print_url(posting_campaign)).content.decode()
    assert "<strong>Ready:</strong> 4 of 4 letters, in one PDF." in page
    assert f'action="{_posted_url(job)}"' in page
    assert "These letters are in the post</label>" in page

    # Without ticking the box: the page says what to do, next to the box, and nothing changes.
    response = client.post(_posted_url(job), {})
    assert response.status_code == 400
    page = response.content.decode()
    field = f"id_job{job.pk}-confirm"
    assert (
        f'<p class="field-error" id="{field}_error"><strong>Error:</strong> '
        "Tick this box once the letters of this print are in the post.</p>"
    ) in page
    assert f'id="{field}" required aria-invalid="true" aria-describedby="{field}_error' in page
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 0

    response = client.post(_posted_url(job), {f"job{job.pk}-confirm": "on"}, follow=True)
    assert response.redirect_chain == [(f"{_print_url(posting_campaign)}#job-{job.pk}", 302)]
    page = response.content.decode()
    assert "4 letters marked as sent by post." in page
    assert "<strong>Posted:</strong> 4 letters marked as sent by post on " in page
    assert "by member-organiser." in page
    assert f'action="{_posted_url(job)}"' not in page
    assert "<strong>1</strong> letter waits to be posted" in page  # the late one

    printed = Delivery.objects.exclude(pk=late_delivery.pk)
    assert {(d.status, d.evidence) for d in printed} == {(DeliveryStatus.SENT, Evidence.PLATFORM_DELIVERED)}
    assert all(d.sent_at is not None for d in printed)
    late_delivery.refresh_from_db()
    assert late_delivery.status == DeliveryStatus.QUEUED
    logs = ActionLog.objects.filter(action="delivery.posted")
    assert sorted(int(log.object_id) for log in logs) == sorted(d.pk for d in printed)
    assert {(log.actor, log.data["print_job"]) for log in logs} == {(member, job.pk)}
    job_log = ActionLog.objects.get(action="print_job.posted")
    assert (job_log.actor, job_log.object_id, job_log.data) == (member, str(job.pk), {"letters": 4})

    # A second click (or a second organiser) changes nothing.
    again = client.post(_posted_url(job), {f"job{job.pk}-confirm": "on"}, follow=True)
    assert "This print had already been marked as posted." in again.content.decode()
    assert ActionLog.objects.filter(action="delivery.posted").count() == 4
    job.refresh_from_db()
    assert (job.posted_count, job.posted_by) == (4, member)


def test_only_a_finished_print_of_ones_own_campaign_can_be_marked_posted(
    member: Any, posting_campaign: Any, stranger: Any, other_organiser: Any
) -> None:
    running = PrintJob.objects.create(campaign=posting_campaign, paper="a4", total=4, done=2, status="running")
    response = _client(member).post(_posted_url(running), {f"job{running.pk}-confirm": "on"})
    assert response.status_code == 409
    assert "<p>Only a finished print can be marked as posted.</p>" in response.content.decode()

    done = PrintJob.objects.create(campaign=posting_campaign, paper="us-letter", total=4, done=4, status="done")
    data = {f"job{done.pk}-confirm": "on"}
    assert _client(other_organiser).post(_posted_url(done), data).status_code == 404
    assert _client(stranger).post(_posted_url(done), data).status_code == 403
    assert Client().post(_posted_url(done), data).status_code == 302  # to the sign-in page
    assert _client(member).get(_posted_url(done)).status_code == 405
    done.refresh_from_db()
    assert done.posted_at is None
    assert not ActionLog.objects.filter(action__in=["delivery.posted", "print_job.posted"]).exists()


# --- The worker's housekeeping: stalled jobs, old PDFs, abandoned chunk folders ----------


@pytest.mark.django_db(transaction=True)
def test_housekeeping_fails_a_stalled_print_and_the_page_says_why(
    member: Any, posting_campaign: Any, run_worker: Any
) -> None:
    stalled = PrintJob.objects.create(campaign=posting_campaign, paper="a4", total=4, done=2, status="running")
    moving = PrintJob.objects.create(campaign=posting_campaign, paper="us-letter", total=4, done=1, status="running")
    PrintJob.objects.filter(pk=stalled.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=11))
    PrintJob.objects.filter(pk=moving.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=9))

    run_worker()  # a worker starting up runs housekeeping once

    stalled.refresh_from_db()
    moving.refresh_from_db()
    assert (stalled.status, moving.status) == (PrintJobStatus.FAILED, PrintJobStatus.RUNNING)
    reason = (
        "Stopped: no progress for 10 minutes, so the worker printing it has probably stopped. "
        "No letter was marked as posted. Start the print again."
    )
    assert stalled.error == reason
    page = _client(member).get(_print_url(posting_campaign)).content.decode()
    assert f"<strong>Failed:</strong> {reason}" in page.replace("&#x27;", "'")
    assert ActionLog.objects.filter(action="print_job.stalled", object_id=str(stalled.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_housekeeping_deletes_print_pdfs_after_the_retention_period(
    member: Any, posting_campaign: Any, run_worker: Any, tmp_path: Path, settings: Any
) -> None:
    media = tmp_path / "var" / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(media)}},
    }
    (media / "print-jobs").mkdir(parents=True)
    now = timezone.now()
    jobs = {}
    for name, age in (("old", 8), ("recent", 6)):
        (media / "print-jobs" / f"{name}.pdf").write_bytes(b"%PDF-1.7 names and home addresses")
        jobs[name] = PrintJob.objects.create(
            campaign=posting_campaign, paper="a4", total=4, done=4, status="done", file=f"print-jobs/{name}.pdf"
        )
        PrintJob.objects.filter(pk=jobs[name].pk).update(finished_at=now - datetime.timedelta(days=age))

    run_worker(UNDERSIGNED_VAR_DIR=str(tmp_path / "var"), UNDERSIGNED_PRINT_RETENTION_DAYS="7")

    assert not (media / "print-jobs" / "old.pdf").exists()
    assert (media / "print-jobs" / "recent.pdf").exists()
    old, recent = (PrintJob.objects.get(pk=jobs[name].pk) for name in ("old", "recent"))
    assert (old.file, recent.file) == ("", "print-jobs/recent.pdf")
    assert old.file_deleted_at is not None
    assert ActionLog.objects.get(action="print_job.file_deleted").data == {"days": 7}

    settings.PRINT_RETENTION_DAYS = 7
    client = _client(member)
    page = client.get(_print_url(posting_campaign)).content.decode()
    assert (
        f"The PDF was deleted on {timezone.localdate(old.file_deleted_at):%-d %B %Y}, 7 days after it was made, "
        "because it held supporters' home addresses."
    ) in page
    assert client.get(reverse("dashboard:print_job_download", args=[old.pk])).status_code == 404
    kept = client.get(reverse("dashboard:print_job_download", args=[recent.pk]))
    assert kept.status_code == 200
    assert kept.getvalue() == b"%PDF-1.7 names and home addresses"


@pytest.mark.django_db(transaction=True)
def test_housekeeping_removes_chunk_folders_that_killed_prints_left(run_worker: Any, tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    abandoned, running, other = temp / "undersigned-print-abandoned", temp / "undersigned-print-running", temp / "keep"
    for folder in (abandoned, running, other):
        folder.mkdir(parents=True)
        (folder / "000001-0.pdf").write_bytes(b"%PDF-1.7 a chunk of letters")
    seven_hours_ago = time.time() - 7 * 3600
    for path in (abandoned / "000001-0.pdf", abandoned, other / "000001-0.pdf", other):
        os.utime(path, (seven_hours_ago, seven_hours_ago))

    run_worker(TMPDIR=str(temp))

    assert not abandoned.exists()
    assert (running / "000001-0.pdf").exists()  # recent: a print may still be writing it
    assert (other / "000001-0.pdf").exists()  # not ours


def test_why_a_print_failed_is_shown_in_the_organisers_language(
    member: Any, posting_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows keep the English sentence (rows from before keep theirs): the page reads it
    # back and says it in the organiser's language, with the same numbers.
    pseudo_translations(monkeypatch, "fr")
    restarted = job_errors.RESTARTED.stored()
    assert restarted == "Stopped making progress (its worker may have stopped), so it was started again."
    server = job_errors.SERVER_ERROR.stored(done=2, total=5, job=41)
    assert server.startswith("Printing stopped after 2 of 5 letters because of an error on the server.")
    rows = {
        restarted: "⟦Stopped making progress (its worker may have stopped), so it was started again.⟧",
        server: "⟦Printing stopped after 2 of 5 letters because of an error on the server. Start the print again; "
        "if it fails again, your administrator will find the details in the worker's log under print job 41.⟧",
        # An old row of one letter, written before its plural was known.
        "Printing stopped after 0 of 1 letters: a letter could not be laid out for printing (too long).": (
            "⟦Printing stopped after 0 of 1 letter: a letter could not be laid out for printing (too long).⟧"
        ),
        job_errors.STALLED.stored(minutes=1): "⟦Stopped: no progress for 1 minute, so the worker printing it "
        "has probably stopped. No letter was marked as posted. Start the print again.⟧",
        # Not one of ours (an administrator's note): shown as written.
        "Cancelled by the administrator.": "Cancelled by the administrator.",
    }
    for error in rows:
        PrintJob.objects.create(campaign=posting_campaign, paper="a4", total=5, status="failed", error=error)
    french = _client(member).get(_print_url(posting_campaign), HTTP_ACCEPT_LANGUAGE="fr")
    page = html.unescape(french.content.decode())
    for shown in rows.values():
        assert shown in page
    # In English the same rows read as stored.
    english = _client(member).get(_print_url(posting_campaign), HTTP_ACCEPT_LANGUAGE="en")
    assert f"<strong>Failed:</strong> {restarted}" in html.unescape(english.content.decode())
