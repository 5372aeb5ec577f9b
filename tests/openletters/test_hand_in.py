"""Hand-in packs as an organiser gets them: a PDF built by the real worker (read back with
poppler's pdftotext) and CSV, for the whole letter and per addressee; never naming
hidden, withdrawn or unnamed endorsers; CSV safe against spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import MembershipFactory, OrganisationFactory
from undersigned.campaigns.models import Recipient
from undersigned.core.models import ActionLog
from undersigned.delivery.models import PrintJob
from undersigned.openletters import handin
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import endorsing, moderation, versions
from undersigned.organisations.models import Role


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: apt-get install -y poppler-utils", pytrace=False)
        pytest.skip("pdftotext is missing (apt-get install poppler-utils); in CI this fails instead")
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    result = subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


def _add(letter: OpenLetter, name: str, email: str, **fields: Any) -> Endorsement:
    return endorsing.record_confirmed(letter=letter, data=endorsing.EndorsementInput(name=name, email=email, **fields))


@pytest.fixture
def endorsed(open_letter: OpenLetter, organiser: Any) -> OpenLetter:
    _add(
        open_letter, "Siobhán O'Brien", "s@example.ie", role="Trustee", organisation="Friends of the Wend", country="IE"
    )
    _add(open_letter, "Jana Nováková", "j@example.cz", role="Warden", organisation="Krkonoše Park", country="CZ")
    _add(
        open_letter,
        "Wendmouth Ramblers",
        "r@example.org",
        kind="organisation",
        role="Chair",
        signatory="Ada Pennick",
        country="IE",
    )
    _add(open_letter, "Quiet Person", "q@example.org", role="Nurse", country="IE", show_publicly=False)
    hidden = _add(open_letter, "Mickey Mouse", "m@example.org", role="Fake", country="IE")
    moderation.hide(endorsement=hidden, reason="fake", actor=organiser)
    withdrawn = _add(open_letter, "Changed Mind", "c@example.org", role="Teacher", country="IE")
    endorsing.withdraw(endorsement_id=withdrawn.pk, secret=withdrawn.withdraw_secret)
    open_letter.refresh_from_db()
    return open_letter


def _build_and_download(client: Client, letter: OpenLetter, run_worker: Any, recipient: Recipient | None) -> bytes:
    data = {"recipient": str(recipient.pk)} if recipient else {}
    response = client.post(reverse("dashboard:hand_in", args=[letter.slug]), data)
    assert response.status_code == 302
    job = PrintJob.objects.latest("id")
    assert (job.kind, job.status, job.open_letter_id) == ("hand_in", "queued", letter.pk)
    page = client.get(reverse("dashboard:open_letter", args=[letter.slug])).content.decode()
    assert "Waiting to start." in page
    run_worker()
    job.refresh_from_db()
    assert job.status == "done", job.error
    page = client.get(reverse("dashboard:open_letter", args=[letter.slug])).content.decode()
    assert f"Ready:</strong> {job.done} named endorser" in page
    download = client.get(reverse("dashboard:print_job_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    return download.getvalue()


def test_pdf_names_every_public_endorser_and_no_other(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, tmp_path: Path
) -> None:
    client.force_login(organiser)
    text = _pdf_text(_build_and_download(client, endorsed, run_worker, None), tmp_path)
    assert "Walkers for Resolution 7" in text
    assert "We, the undersigned, ask you to vote for Resolution 7 on 24 April." in text
    assert "Version 1 of the text" in text
    assert "4 verified endorsements" in text
    assert "3 named below; 1 chose to be counted without being named." in text
    for expected in (
        "Siobhán O'Brien",
        "Trustee",
        "Friends of the Wend",
        "Jana Nováková",
        "Warden",
        "Krkonoše Park",
        "Wendmouth Ramblers",
        "signed by Ada Pennick, Chair",
    ):
        assert expected in text
    for absent in ("Quiet Person", "Mickey Mouse", "Changed Mind", "Nurse", "Teacher"):
        assert absent not in text
    assert ActionLog.objects.filter(action="print_job.downloaded", actor=organiser).count() == 1
    # A hand-in pack is handed in as a whole: it is never "marked as posted" like letters.
    job = PrintJob.objects.latest("id")
    marking = client.post(reverse("dashboard:print_job_posted", args=[job.pk]), {f"job{job.pk}-confirm": "on"})
    assert marking.status_code == 404
    job.refresh_from_db()
    assert job.posted_at is None


def test_pack_for_one_addressee_lists_their_country(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, tmp_path: Path
) -> None:
    client.force_login(organiser)
    czech = Recipient.objects.get(country="CZ")
    text = _pdf_text(_build_and_download(client, endorsed, run_worker, czech), tmp_path)
    assert "For Jana Šimůnková" in text
    assert "1 verified endorsement from Czechia" in text
    assert "Jana Nováková" in text
    assert "Siobhán O'Brien" not in text


def test_big_pack_is_built_in_parts(endorsed: OpenLetter, settings: Any, tmp_path: Path, monkeypatch: Any) -> None:
    # A smaller chunk (a constant of our own, not a mock) makes this test's pack several compiles.
    monkeypatch.setattr(handin, "CHUNK", 2)
    progress: list[int] = []
    out = io.BytesIO()
    pack = handin.Pack(endorsed, None)
    named = handin.write_pdf(pack, out, day=endorsed.created_at.date(), on_progress=progress.append)
    assert named == 3
    assert progress == [2, 3]
    text = _pdf_text(out.getvalue(), tmp_path)
    assert "Siobhán O'Brien" in text
    assert "Wendmouth Ramblers" in text
    # Joined from parts, the pack is still tagged, in its language, with its title.
    info = subprocess.run(["pdfinfo", str(tmp_path / "pack.pdf")], capture_output=True, text=True, check=True)
    assert info.stderr == ""
    assert "Tagged:          yes\n" in info.stdout
    assert "Title:           Walkers for Resolution 7\n" in info.stdout
    reader = PdfReader(out)
    catalog: Any = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en"
    assert reader.xmp_metadata is not None
    assert reader.xmp_metadata.dc_title == {"x-default": "Walkers for Resolution 7"}
    structure = subprocess.run(
        ["pdfinfo", "-struct-text", str(tmp_path / "pack.pdf")], capture_output=True, text=True, check=True
    )
    assert "Wendmouth Ramblers" in structure.stdout  # endorsers of the second part, in the tags


def test_csv_is_safe_against_formulas(client: Client, endorsed: OpenLetter, organiser: Any) -> None:
    _add(endorsed, '=HYPERLINK("http://evil.example","x")', "e@example.org", role="+1 cmd", country="IE")
    client.force_login(organiser)
    response = client.get(reverse("dashboard:hand_in_csv", args=[endorsed.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{endorsed.slug}-endorsers-20')
    body = response.getvalue().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == list(handin.CSV_COLUMNS)
    names = [row[0] for row in rows[1:]]
    assert names == [
        "Siobhán O'Brien",
        "Jana Nováková",
        "Wendmouth Ramblers",
        '\'=HYPERLINK("http://evil.example","x")',
    ]
    assert rows[-1][1] == "'+1 cmd"
    assert rows[3][3] == "Ada Pennick"
    irish = Recipient.objects.get(country="IE")
    per_addressee = client.get(reverse("dashboard:hand_in_csv", args=[endorsed.slug]), {"recipient": irish.pk})
    body = per_addressee.getvalue().decode("utf-8-sig")
    assert "Jana Nováková" not in body
    assert "Siobhán O'Brien" in body
    assert ActionLog.objects.filter(action="hand_in.downloaded", actor=organiser).count() == 2


def test_strangers_get_no_pack(client: Client, endorsed: OpenLetter, stranger: Any) -> None:
    # An owner of another organisation: for them this letter does not exist.
    MembershipFactory(organisation=OrganisationFactory(slug="elsewhere"), user=stranger, role=Role.OWNER)
    client.force_login(stranger)
    assert client.get(reverse("dashboard:hand_in_csv", args=[endorsed.slug])).status_code == 404
    assert client.post(reverse("dashboard:hand_in", args=[endorsed.slug])).status_code == 404
    assert not PrintJob.objects.exists()


def _second_version(letter: OpenLetter) -> None:
    letter.text = letter.text.replace("Rural buses", "Rural buses and trains")
    letter.save()
    versions.record_version(letter=letter)
    letter.refresh_from_db()


def test_pdf_lists_endorsers_under_the_version_they_endorsed(
    client: Client, endorsed: OpenLetter, organiser: Any, run_worker: Any, tmp_path: Path
) -> None:
    first = endorsed.current_version
    assert first is not None
    _second_version(endorsed)
    second = endorsed.current_version
    assert second is not None
    assert second.number == 2
    _add(endorsed, "Tomás Ó Briain", "t@example.ie", role="Piper", country="IE")
    _add(endorsed, "Aoife Byrne", "a@example.ie", role="Nurse", country="IE")
    client.force_login(organiser)
    text = _pdf_text(_build_and_download(client, endorsed, run_worker, None), tmp_path)
    assert "Rural buses and trains are being cut" in text  # the current text is printed
    assert "each endorser is listed under the version of the text they endorsed" in text
    current = text.index("Endorsed the text printed above: Version 2 of the text")
    earlier = text.index("Endorsed an earlier text than the one printed above: Version 1 of the text")
    assert f"fingerprint (SHA-256) {second.text_hash[:16]}" in text[current:earlier]
    assert f"fingerprint (SHA-256) {first.text_hash[:16]}" in text[earlier:]
    # Those who endorsed version 2 under its heading, version 1's under its own.
    for name in ("Tomás Ó Briain", "Aoife Byrne"):
        assert current < text.index(name) < earlier
    for name in ("Siobhán O'Brien", "Jana Nováková", "Wendmouth Ramblers"):
        assert text.index(name) > earlier
    assert "6 verified endorsements" in text


def test_csv_names_the_version_each_endorser_endorsed(client: Client, endorsed: OpenLetter, organiser: Any) -> None:
    first = endorsed.current_version
    assert first is not None
    _second_version(endorsed)
    second = endorsed.current_version
    assert second is not None
    _add(endorsed, "Tomás Ó Briain", "t@example.ie", role="Piper", country="IE")
    client.force_login(organiser)
    response = client.get(reverse("dashboard:hand_in_csv", args=[endorsed.slug]))
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    found = [(row["name"], row["text_version"], row["text_fingerprint"]) for row in rows]
    assert found == [
        ("Tomás Ó Briain", "2", second.text_hash),
        ("Siobhán O'Brien", "1", first.text_hash),
        ("Jana Nováková", "1", first.text_hash),
        ("Wendmouth Ramblers", "1", first.text_hash),
    ]
    assert rows[0]["text_version_date"] == timezone.localdate(second.created_at).isoformat()
    # Per addressee too: the Irish section's pack keeps the same grouping.
    irish = Recipient.objects.get(country="IE")
    response = client.get(reverse("dashboard:hand_in_csv", args=[endorsed.slug]), {"recipient": irish.pk})
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert [(row["name"], row["text_version"]) for row in rows] == [
        ("Tomás Ó Briain", "2"),
        ("Siobhán O'Brien", "1"),
        ("Wendmouth Ramblers", "1"),
    ]
