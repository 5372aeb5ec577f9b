"""Handing in to every section at once: one batch (a real worker) builds every member's
pack into one ZIP (PDFs read back with poppler's pdftotext), a batch whose worker died
goes on where it stopped, each member is emailed its pack through the real engine into
a real SMTP sink (aiosmtpd), a bounce flags, and a member of another organisation is
refused everything."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.delivery.test_inbound import dsn
from tests.factories import LetterFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.languages import pseudo_translations
from tests.openletters.test_hand_in import _add, _pdf_text
from undersigned.campaigns.models import Recipient
from undersigned.delivery import bulk_print, job_errors, sending
from undersigned.delivery import services as delivery_services
from undersigned.delivery.models import Delivery, Evidence, PrintJob
from undersigned.openletters import handin
from undersigned.openletters.models import HandInPack, OpenLetter
from undersigned.openletters.services import sections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endorsed(open_letter: OpenLetter) -> OpenLetter:
    _add(open_letter, "Siobhán O'Brien", "s@example.ie", role="Trustee", country="IE")
    _add(open_letter, "Jana Nováková", "j@example.cz", role="Warden", country="CZ")
    _add(open_letter, "Petr Dvořák", "p@example.cz", role="Guide", country="CZ")
    members = {r.country: r for r in Recipient.objects.filter(groups=open_letter.recipient_group_id)}
    # An odd name for the headers; the Japanese section has no address (hand in another way).
    Recipient.objects.filter(pk=members["IE"].pk).update(
        name='O\'Dwyer, Máire "Section"\r\nBcc: evil@example.org', email="ie@sections.example"
    )
    Recipient.objects.filter(pk=members["CZ"].pk).update(email="cz@sections.example")
    Recipient.objects.filter(pk=members["JP"].pk).update(email="")
    open_letter.refresh_from_db()
    return open_letter


def _members(letter: OpenLetter) -> dict[str, Recipient]:
    return {r.country: r for r in Recipient.objects.filter(groups=letter.recipient_group_id)}


def _zip(client: Client, job: PrintJob) -> zipfile.ZipFile:
    download = client.get(reverse("dashboard:print_job_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Cache-Control"] == "private, no-store"
    return zipfile.ZipFile(io.BytesIO(download.getvalue()))


def test_one_batch_builds_every_pack_into_one_zip(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, tmp_path: Path
) -> None:
    client.force_login(organiser)
    url = reverse("dashboard:hand_in_sections_build", args=[endorsed.slug])
    assert client.post(url).status_code == 302
    second = client.post(url, follow=True)  # a double click: the same batch, said politely
    assert "A batch of packs is already being built" in second.content.decode()
    assert PrintJob.objects.filter(kind="sections").count() == 1
    job = PrintJob.objects.get(kind="sections")
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert "Waiting to start." in page
    assert '<meta http-equiv="refresh" content="5">' in page
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 3, 3), job.error
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert "http-equiv" not in page
    assert "3 sections&#x27; packs, built" in page or "3 sections' packs, built" in page
    members = _members(endorsed)
    archive = _zip(client, job)
    names = sorted(archive.namelist())
    expected = sorted(f"{handin.arcname(r)}.{ext}" for r in members.values() for ext in ("pdf", "csv"))
    assert names == expected
    assert names[0].startswith("cz-")
    cz = _pdf_text(archive.read(f"{handin.arcname(members['CZ'])}.pdf"), tmp_path)
    assert "Jana Nováková" in cz
    assert "Petr Dvořák" in cz
    assert "Siobhán" not in cz
    assert "2 verified endorsements from Czechia" in cz
    ie = _pdf_text(archive.read(f"{handin.arcname(members['IE'])}.pdf"), tmp_path)
    assert "Siobhán O'Brien" in ie
    assert "Jana" not in ie
    rows = list(csv.reader(io.StringIO(archive.read(f"{handin.arcname(members['CZ'])}.csv").decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["Jana Nováková", "Petr Dvořák"]
    jp = list(csv.reader(io.StringIO(archive.read(f"{handin.arcname(members['JP'])}.csv").decode("utf-8-sig"))))
    assert len(jp) == 1  # the header only: nobody from Japan endorsed
    packs = {p.recipient.country: p for p in HandInPack.objects.select_related("recipient")}
    assert {c: (p.job_id, p.named, p.verified) for c, p in packs.items()} == {
        "CZ": (job.pk, 2, 2),
        "IE": (job.pk, 1, 1),
        "JP": (job.pk, 0, 0),
    }
    assert all(p.pdf_part == "" and p.csv_part == "" for p in packs.values())  # parts deleted


def test_a_batch_whose_worker_died_goes_on_where_it_stopped(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any
) -> None:
    client.force_login(organiser)
    client.post(reverse("dashboard:hand_in_sections_build", args=[endorsed.slug]))
    dead = PrintJob.objects.get(kind="sections")
    # What a worker killed after its first member leaves: the job running, one member's
    # parts in storage, and no progress for longer than the stall limit.
    members = _members(endorsed)
    PrintJob.objects.filter(pk=dead.pk).update(status="running", started_at=timezone.now())
    dead.refresh_from_db()
    pack = HandInPack.objects.create(letter=endorsed, recipient=members["CZ"])
    handin._build_member(dead, pack)
    pack.refresh_from_db()
    built_at = pack.built_at
    assert default_storage.exists(pack.pdf_part)
    long_ago = timezone.now() - datetime.timedelta(minutes=11)
    PrintJob.objects.filter(pk=dead.pk).update(done=1, updated_at=long_ago)
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert "Stalled:" in page
    client.post(reverse("dashboard:hand_in_sections_build", args=[endorsed.slug]))
    dead.refresh_from_db()
    assert dead.status == "failed"
    job = PrintJob.objects.filter(kind="sections").latest("id")
    assert job.pk != dead.pk
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 3), job.error
    pack.refresh_from_db()
    assert (pack.job_id, pack.built_at) == (job.pk, built_at)  # not built twice
    assert len(_zip(client, job).namelist()) == 6


def test_every_section_is_emailed_its_pack_and_a_bounce_flags(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, smtp_sink: Any
) -> None:
    client.force_login(organiser)
    send_url = reverse("dashboard:hand_in_sections_send", args=[endorsed.slug])
    assert "build the packs first" in client.post(send_url, follow=True).content.decode()
    client.post(reverse("dashboard:hand_in_sections_build", args=[endorsed.slug]))
    run_worker()
    page = client.post(send_url, follow=True).content.decode()
    assert "2 packs are queued to be emailed." in page
    assert "1 member has no usable email address" in page
    assert "Email queued" in page
    client.post(send_url)  # a reload: nothing queued twice
    assert Delivery.objects.filter(hand_in_pack__isnull=False).count() == 2
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    messages = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.parsed()}
    assert sorted(messages) == ["cz@sections.example", "ie@sections.example"]
    members = _members(endorsed)
    ie = messages["ie@sections.example"]
    # One name, one address: the comma, quotes and line break stay inside the name.
    assert len(ie["To"].addresses) == 1
    assert ie["To"].addresses[0].display_name.startswith('O\'Dwyer, Máire "Section" Bcc: evil@')
    assert ie["Bcc"] is None
    cz = messages["cz@sections.example"]
    assert cz["Subject"] == "Open letter “Walkers for Resolution 7”: 2 endorsements from Czechia"
    body = cz.get_body(preferencelist=("plain",)).get_content()
    assert "2 verified endorsements come from Czechia." in body
    attachments = {part.get_filename(): part.get_content() for part in cz.iter_attachments()}
    assert sorted(attachments) == [f"{handin.arcname(members['CZ'])}.csv", f"{handin.arcname(members['CZ'])}.pdf"]
    assert attachments[f"{handin.arcname(members['CZ'])}.pdf"][:5] == b"%PDF-"
    deliveries = {d.sent_recipient.country: d for d in Delivery.objects.filter(hand_in_pack__isnull=False)}
    assert {c: (d.status, d.evidence) for c, d in deliveries.items()} == {
        "CZ": ("sent", Evidence.PLATFORM_DELIVERED),
        "IE": ("sent", Evidence.PLATFORM_DELIVERED),
    }
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert page.count("by email from the platform") == 2
    assert "Platform delivered" in page
    # The Irish section's address bounces: the delivery is flagged, as a letter's would be.
    # (The test's report quotes the recipient in ASCII, as Postfix's does.)
    Recipient.objects.filter(pk=members["IE"].pk).update(name="Irish section")
    deliveries["IE"].sent_recipient.refresh_from_db()
    delivery_services.record_bounce(delivery_id=deliveries["IE"].pk, message=dsn(delivery=deliveries["IE"]))
    deliveries["IE"].refresh_from_db()
    assert (deliveries["IE"].status, deliveries["IE"].evidence) == ("bounced", Evidence.NONE)
    assert Recipient.objects.get(pk=members["IE"].pk).email_flagged_at is not None
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert "Email bounced" in page


def test_a_large_pack_is_sent_as_a_private_expiring_link(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, smtp_sink: Any
) -> None:
    client.force_login(organiser)
    client.post(reverse("dashboard:hand_in_sections_build", args=[endorsed.slug]))
    run_worker()
    client.post(reverse("dashboard:hand_in_sections_send", args=[endorsed.slug]))
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url, UNDERSIGNED_HAND_IN_ATTACH_MAX_BYTES="100")
    cz = next(m for m in smtp_sink.parsed() if m["To"].addresses[0].addr_spec == "cz@sections.example")
    assert list(cz.iter_attachments()) == []
    body = cz.get_body(preferencelist=("plain",)).get_content()
    finished = PrintJob.objects.get(kind="sections").finished_at
    assert finished is not None
    expires = finished + datetime.timedelta(days=14)
    assert f"the links work until {timezone.localtime(expires):%-d %B %Y}" in body
    link = next(line.split(" ", 1)[1] for line in body.splitlines() if line.startswith("PDF: "))
    path = link.split("://", 1)[1].split("/", 1)[1]
    anonymous = Client()
    response = anonymous.get(f"/{path}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"  # type: ignore[attr-defined]
    assert anonymous.get(f"/{path[:-12]}x{path[-11:]}").status_code == 404  # a changed token opens nothing


def test_the_organiser_records_hand_ins_and_replies(client: Client, endorsed: OpenLetter, organiser: Any) -> None:
    client.force_login(organiser)
    jp = _members(endorsed)["JP"]
    url = reverse("dashboard:hand_in_sections_record", args=[endorsed.slug, jp.pk])
    missing = client.post(url, {"how": ""})
    assert missing.status_code == 400
    assert "Choose how the pack was handed in." in missing.content.decode()
    assert client.post(url, {"how": "email"}).status_code == 400  # only the platform records email
    client.post(url, {"how": "in_person"})
    client.post(url, {"how": "in_person"})  # a double click records it once
    pack = HandInPack.objects.get(recipient=jp)
    assert (pack.handed_in_how, pack.evidence) == ("in_person", Evidence.SELF_REPORTED)
    client.post(url, {"what": "reply"})
    pack.refresh_from_db()
    assert pack.evidence == Evidence.REPLY_RECEIVED
    assert pack.replied_at is not None
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert "in person" in page
    assert "Reply received" in page


def test_another_organisation_is_refused(client: Client, endorsed: OpenLetter) -> None:
    other = UserFactory(username="other-organiser")
    MembershipFactory(organisation=OrganisationFactory(slug="elsewhere"), user=other)
    client.force_login(other)
    jp = _members(endorsed)["JP"]
    for method, url, data in (
        ("get", reverse("dashboard:hand_in_sections", args=[endorsed.slug]), {}),
        ("post", reverse("dashboard:hand_in_sections_build", args=[endorsed.slug]), {}),
        ("post", reverse("dashboard:hand_in_sections_send", args=[endorsed.slug]), {}),
        ("post", reverse("dashboard:hand_in_sections_record", args=[endorsed.slug, jp.pk]), {"how": "post"}),
    ):
        assert getattr(client, method)(url, data).status_code == 404
    assert not PrintJob.objects.exists()
    assert not HandInPack.objects.exists()


def test_a_batch_that_fails_deletes_the_parts_it_holds(endorsed: OpenLetter, organiser: Any) -> None:
    started = sections.start_batch(letter=endorsed, actor=organiser)
    job = started.job
    pack = HandInPack.objects.create(letter=endorsed, recipient=_members(endorsed)["CZ"])
    handin._build_member(job, pack)
    pack.refresh_from_db()
    parts = (pack.pdf_part, pack.csv_part)
    assert all(default_storage.exists(part) for part in parts)
    OpenLetter.objects.filter(pk=endorsed.pk).update(recipient_group=None)  # the batch cannot go on
    job.refresh_from_db()
    with pytest.raises(ValueError, match="needs an open letter addressed to a recipient group"):
        handin.build_batch(job, {"done": 0, "total": 3})
    assert not any(default_storage.exists(part) for part in parts)
    pack.refresh_from_db()
    assert (pack.pdf_part, pack.csv_part) == ("", "")


@pytest.mark.django_db(transaction=False)
def test_pack_emails_keep_each_sections_pace_and_retry(
    client: Client, endorsed: OpenLetter, organiser: Any, smtp_sink: Any
) -> None:
    """The engine's own rules, in this process: a section that takes one email a minute
    and got a letter just now waits for its pack; a server's 4xx answer is retried later,
    with the answer kept for the organiser."""
    client.force_login(organiser)
    job = sections.start_batch(letter=endorsed, actor=organiser).job
    assert bulk_print.build_print_job(job.pk) == "done"
    czech = _members(endorsed)["CZ"]
    Recipient.objects.filter(pk=czech.pk).update(max_emails_per_minute=1)
    Delivery.objects.create(
        letter=LetterFactory(), recipient=czech, channel="email", status="sent", sent_at=timezone.now()
    )
    assert sections.send_packs(letter=endorsed, actor=organiser).queued == 2
    assert sending.send_queued() == 1
    assert [m["To"].addresses[0].addr_spec for m in smtp_sink.parsed()] == ["ie@sections.example"]
    paced = Delivery.objects.get(hand_in_pack__recipient=czech)
    assert paced.status == "queued"
    assert paced.next_attempt_at is not None
    assert paced.next_attempt_at > timezone.now()

    Recipient.objects.filter(pk=czech.pk).update(max_emails_per_minute=None)
    Delivery.objects.filter(pk=paced.pk).update(next_attempt_at=None)
    smtp_sink.answer = "451 4.3.0 Try again later"
    assert sending.send_queued() == 0
    paced.refresh_from_db()
    assert paced.status == "retry"
    assert paced.last_error == "451 4.3.0 Try again later"
    assert paced.next_attempt_at is not None
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug])).content.decode()
    assert "Email to be tried again" in page


def test_housekeeping_deletes_the_parts_of_a_batch_never_started_again(
    endorsed: OpenLetter, organiser: Any, settings: Any
) -> None:
    job = sections.start_batch(letter=endorsed, actor=organiser).job
    pack = HandInPack.objects.create(letter=endorsed, recipient=_members(endorsed)["CZ"])
    handin._build_member(job, pack)
    pack.refresh_from_db()
    parts = (pack.pdf_part, pack.csv_part)
    PrintJob.objects.filter(pk=job.pk).update(status="failed")
    assert sections.delete_abandoned_parts() == 0  # young: a new batch may still go on from them
    later = timezone.now() + datetime.timedelta(days=settings.PRINT_RETENTION_DAYS, minutes=1)
    assert sections.delete_abandoned_parts(now=later) == 1
    assert not any(default_storage.exists(part) for part in parts)
    pack.refresh_from_db()
    assert (pack.pdf_part, pack.csv_part) == ("", "")
    assert pack.built_at is not None  # when it was built stays on the status table


def test_a_section_reading_the_letter_s_translation_is_emailed_in_its_language(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, smtp_sink: Any
) -> None:
    # The organiser adds the French text in the editor's tab; the Irish section reads French.
    client.force_login(organiser)
    french = {
        "title": "Randonneurs pour la résolution 7",
        "summary": "",
        "text": "Chers membres,\r\n\r\nVotez pour la résolution 7.",
        "action": "save",
    }
    tab = reverse("dashboard:open_letter_language", args=[endorsed.slug, "fr"])
    assert client.post(tab, french).status_code == 302
    Recipient.objects.filter(pk=_members(endorsed)["IE"].pk).update(language="fr")
    client.post(reverse("dashboard:hand_in_sections_build", args=[endorsed.slug]))
    run_worker()
    client.post(reverse("dashboard:hand_in_sections_send", args=[endorsed.slug]))
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    messages = {m["To"].addresses[0].addr_spec: m for m in smtp_sink.parsed()}
    irish, czech = messages["ie@sections.example"], messages["cz@sections.example"]
    # The title as the pack prints it (the French text), the words in French.
    subject = irish["Subject"].replace("\xa0", " ")
    assert subject == "Lettre ouverte « Randonneurs pour la résolution 7 » : 1 signature (Irlande)"
    body = irish.get_body(preferencelist=("plain",)).get_content()
    assert "« Randonneurs pour la résolution 7 »" in body.replace("\xa0", " ")
    assert "Walkers for Resolution 7" not in irish["Subject"] + body
    assert czech["Subject"] == "Open letter “Walkers for Resolution 7”: 2 endorsements from Czechia"


def test_why_a_pack_failed_is_shown_in_the_organisers_language(
    client: Client, endorsed: OpenLetter, organiser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pseudo_translations(monkeypatch, "fr")
    client.force_login(organiser)
    stored = job_errors.RESTARTED.stored()
    shown = "⟦Stopped making progress (its worker may have stopped), so it was started again.⟧"
    PrintJob.objects.create(kind="sections", open_letter=endorsed, total=3, status="failed", error=stored)
    page = client.get(reverse("dashboard:hand_in_sections", args=[endorsed.slug]), HTTP_ACCEPT_LANGUAGE="fr")
    assert f"<strong>⟦Failed:⟧</strong> {shown}" in page.content.decode()
    PrintJob.objects.create(kind="hand_in", open_letter=endorsed, total=3, status="failed", error=stored)
    page = client.get(reverse("dashboard:open_letter", args=[endorsed.slug]), HTTP_ACCEPT_LANGUAGE="fr")
    assert shown in page.content.decode()
    assert stored not in page.content.decode().replace(shown, "")
