"""A reply uploaded as a file (delivery/replies.py, public/reply_views.py): PDF, PNG or
JPEG told by the bytes, a size limit, private storage under a random name, served only
through the private link and to the campaign's organisers, deleted with the reply.

The files are real: a PDF written by pypdf, its page rendered to PNG and JPEG by
poppler's ``pdftoppm``."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter

from tests.factories import CampaignFactory, LetterFactory, MembershipFactory, RecipientFactory, UserFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery.models import Delivery, Evidence, Reply
from undersigned.delivery.services import delete_letters, record_delivery
from undersigned.letters.links import sign_token
from undersigned.letters.models import Letter
from undersigned.organisations.models import Role
from undersigned.privacy.personal_data import erase

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed"),
]


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(tmp_path: Path, kind: str) -> bytes:
    """The PDF's page rendered by poppler: a real PNG (``-png``) or JPEG (``-jpeg``)."""
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf_bytes())
    subprocess.run(["pdftoppm", f"-{kind}", "-r", "10", "-singlefile", str(source), str(tmp_path / "page")], check=True)
    return (tmp_path / f"page.{'jpg' if kind == 'jpeg' else kind}").read_bytes()


@pytest.fixture
def letter(organisation: Any) -> Letter:
    recipient = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    campaign = CampaignFactory(organisation=organisation, slug="council", recipients=[recipient])
    letter = LetterFactory(campaign=campaign, supporter__email="ana.ruiz@example.net")
    record_delivery(letter=letter, recipient=recipient, channel=Channel.MAILTO)
    Letter.objects.filter(pk=letter.pk).update(sent_at=timezone.now() - datetime.timedelta(days=15))
    letter.refresh_from_db()
    return letter


def upload(client: Client, letter: Letter, content: bytes, name: str, *, text: str = "", **extra: Any) -> Any:
    url = reverse("public:letter_reply", args=[sign_token(letter.token)])
    recipient = letter.campaign.recipients.get()
    data = {"recipient": recipient.pk, "text": text, "file": SimpleUploadedFile(name, content, **extra)}
    return client.post(url, data)


def stored(reply: Reply) -> bytes:
    with default_storage.open(reply.file, "rb") as handle:
        content: bytes = handle.read()
    return content


@pytest.mark.parametrize(
    "case",
    [("pdf", "reply.pdf", "application/pdf"), ("png", "reply.png", "image/png"), ("jpeg", "Reply.JPG", "image/jpeg")],
)
def test_a_pdf_a_png_and_a_jpeg_are_kept_privately(
    client: Client, letter: Letter, tmp_path: Path, case: tuple[str, str, str]
) -> None:
    kind, name, content_type = case
    content = pdf_bytes() if kind == "pdf" else image_bytes(tmp_path, kind)
    response = upload(client, letter, content, name, content_type="application/octet-stream")
    assert response.status_code == 302
    reply = Reply.objects.get()
    assert (reply.text, reply.file_type) == ("", content_type)
    assert stored(reply) == content
    # A random name in the media storage, nothing of the supporter's; not under the static files.
    assert reply.file.startswith("replies/")
    assert name.lower() not in reply.file.lower()
    path = Path(default_storage.path(reply.file)).resolve()
    assert path.is_relative_to(Path(default_storage.location).resolve())  # type: ignore[attr-defined]
    assert not settings.STATIC_ROOT or not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert Delivery.objects.get(letter=letter).evidence == Evidence.REPLY_RECEIVED


def test_the_type_comes_from_the_bytes_not_the_name(client: Client, letter: Letter) -> None:
    assert upload(client, letter, pdf_bytes(), "photo.png", content_type="image/png").status_code == 302
    reply = Reply.objects.get()
    assert reply.file_type == "application/pdf"
    assert reply.file.endswith(".pdf")

    refused = upload(
        client, letter, b"Dear Ana,\nthank you.\n", "reply.pdf", text="Dear Ana", content_type="application/pdf"
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "This file is not a PDF, PNG or JPEG. Choose the file again: a browser cannot keep it." in html
    assert "Dear Ana</textarea>" in html  # the typed text kept
    assert (
        '<p class="field-error" id="id_file_error"><strong>Error:</strong> This file is not' in html
    )  # beside the field
    assert Reply.objects.get().file == reply.file  # the earlier file is untouched


def test_a_file_over_the_limit_is_refused_with_the_limit_named(client: Client, letter: Letter, settings: Any) -> None:
    settings.REPLY_FILE_MAX_BYTES = 1000
    before = set(default_storage.listdir("replies")[1]) if default_storage.exists("replies") else set()
    refused = upload(client, letter, pdf_bytes() + b"%" * 1000, "reply.pdf", text="Thanks")
    assert refused.status_code == 400
    assert "The file is too big" in refused.content.decode()
    assert "the limit is 1000\xa0bytes" in refused.content.decode()
    assert not Reply.objects.exists()
    after = set(default_storage.listdir("replies")[1]) if default_storage.exists("replies") else set()
    assert after == before  # nothing stored


def test_text_or_file_is_needed(client: Client, letter: Letter) -> None:
    url = reverse("public:letter_reply", args=[sign_token(letter.token)])
    empty = client.post(url, {"recipient": letter.campaign.recipients.get().pk, "text": ""})
    assert empty.status_code == 400
    assert "Paste the text of the reply, or upload it as a file." in empty.content.decode()
    assert upload(client, letter, pdf_bytes(), "a.pdf", text="And the letter attached.").status_code == 302
    assert Reply.objects.get().text == "And the letter attached."


def _assert_download(response: Any, content: bytes, content_type: str) -> None:
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex"


def test_the_file_is_served_to_the_link_and_the_organisers_only(
    client: Client, letter: Letter, organiser: Any, django_capture_on_commit_callbacks: Any
) -> None:
    content = pdf_bytes()
    upload(client, letter, content, "reply.pdf")
    reply = Reply.objects.get()
    link = sign_token(letter.token)
    page = client.get(reverse("public:letter_reply", args=[link])).content.decode()
    mine = reverse("public:letter_reply_file", args=[link, reply.pk])
    assert mine in page
    _assert_download(client.get(mine), content, "application/pdf")
    # Without the link (a wrong one, or another letter's): nothing.
    assert client.get(reverse("public:letter_reply_file", args=["not-a-link", reply.pk])).status_code == 404
    other = LetterFactory(campaign=letter.campaign)
    assert client.get(reverse("public:letter_reply_file", args=[sign_token(other.token), reply.pk])).status_code == 404

    organisers = reverse("dashboard:reply_file", args=[letter.campaign.slug, reply.pk])
    anonymous = client.get(organisers)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    stranger = UserFactory(username="other-organiser")
    elsewhere = CampaignFactory(slug="elsewhere")
    MembershipFactory(organisation=elsewhere.organisation, user=stranger, role=Role.OWNER)
    client.force_login(stranger)
    assert client.get(organisers).status_code == 404
    assert client.get(reverse("dashboard:reply_file", args=[elsewhere.slug, reply.pk])).status_code == 404

    client.force_login(organiser)
    replies_page = client.get(reverse("dashboard:campaign_replies", args=[letter.campaign.slug])).content.decode()
    assert organisers in replies_page
    _assert_download(client.get(organisers), content, "application/pdf")


def test_a_new_file_replaces_the_old_one(
    client: Client, letter: Letter, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, letter, pdf_bytes(), "first.pdf")
    first = Reply.objects.get().file
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, letter, pdf_bytes() + b"\n", "second.pdf")
    second = Reply.objects.get().file
    assert second != first
    assert default_storage.exists(second)
    assert not default_storage.exists(first)


def test_erasing_the_letter_or_the_supporter_deletes_the_file(
    client: Client, letter: Letter, organisation: Any, django_capture_on_commit_callbacks: Any
) -> None:
    upload(client, letter, pdf_bytes(), "reply.pdf")
    name = Reply.objects.get().file
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        delete_letters(letter_ids=[letter.pk])
    assert not Reply.objects.exists()
    assert not default_storage.exists(name)

    recipient = letter.campaign.recipients.get()
    again = LetterFactory(campaign=letter.campaign, supporter__email="bo.lind@example.net")
    record_delivery(letter=again, recipient=recipient, channel=Channel.MAILTO)
    upload(client, again, pdf_bytes(), "reply.pdf")
    name = Reply.objects.get().file
    with django_capture_on_commit_callbacks(execute=True):
        erase("bo.lind@example.net")
    assert not Reply.objects.exists()
    assert not default_storage.exists(name)
