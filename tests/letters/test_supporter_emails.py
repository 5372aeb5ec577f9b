"""The supporter's emails about a letter (letters/emails.py), through a real SMTP server.

Tasks run with Django's ``ImmediateBackend`` (a real backend that runs each task when it
is enqueued, after commit), so the email is in the sink when the request returns;
``test_the_worker_sends_the_confirmation`` runs the real worker process instead.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tests.factories import TEMPLATE_BODY, CampaignFactory, LetterFactory, RecipientFactory
from undersigned.delivery.models import Delivery, PrintJob, PrintJobStatus
from undersigned.delivery.services import mark_print_job_posted, request_post
from undersigned.letters import emails
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db

_URL = re.compile(r"https?://\S+/l/[^/\s]+/")


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def council(organisation: Any) -> Any:
    first = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby", role="Chair")
    second = RecipientFactory(organisation=organisation, name="Dr Amal Haddad", role="Member")
    return CampaignFactory(organisation=organisation, slug="council", posts_for_supporters=True,
                           recipients=[first, second])  # fmt: skip


def form(campaign: Any, **overrides: str) -> dict[str, str]:
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Ana Ruiz",
        "email": "ana.ruiz@example.net",
        "town": "Wendmouth",
        "country": "GB",
        "postal_address": "12 Eastfield Road\nWendmouth",
        "subject": campaign.template.subject,
        "body": TEMPLATE_BODY + "\n\nMy son walks this path to school every morning.",
        "action": "continue",
    }
    return {**data, **overrides}


@pytest.fixture
def write(django_capture_on_commit_callbacks: Any) -> Any:
    """Send the composer form, running what it leaves for after the commit (the task)."""

    def post(client: Client, campaign: Any, data: dict[str, str]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("public:compose", args=[campaign.slug]), data)

    return post


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_new_letter_brings_its_link_and_a_copy_once(client: Client, council: Any, smtp_sink: Any, write: Any) -> None:
    data = form(council)
    response = write(client, council, data)
    assert response.status_code == 302
    [message] = smtp_sink.parsed()
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == ["ana.ruiz@example.net"]
    assert message["To"] == "Ana Ruiz <ana.ruiz@example.net>"
    assert message["Subject"] == "Your letter to “Keep the riverside path open”: your private link"
    assert message["Auto-Submitted"] == "auto-generated"
    assert str(message["From"]).endswith("via Undersigned <letters@" + str(message["From"]).split("@")[1])
    text = plain(message)
    [url] = _URL.findall(text)
    # The same letter as the page the form led to (signed at another second, maybe).
    assert path_of(url).split(":")[0] == response["Location"].split(":")[0]
    # The copy: the first recipient's text, and each recipient's own salutation.
    assert "Please keep the riverside path open\n\nDear Councillor Rowan Ashby," in text
    assert "My son walks this path to school every morning." in text
    assert "- Councillor Rowan Ashby: Dear Councillor Rowan Ashby,\n- Dr Amal Haddad: Dear Dr Amal Haddad," in text
    assert "{{" not in text
    assert f'<a href="{url}">Open your letter</a>' in html(message)

    # The link in the email opens the letter.
    page = client.get(path_of(url))
    assert page.status_code == 200
    assert "Send your letter" in page.content.decode()

    # A double submit and an edit of the same letter send nothing more.
    assert write(client, council, data).status_code == 302
    assert write(client, council, {**data, "body": data["body"] + "\n\nAn edit."}).status_code == 302
    assert len(smtp_sink.messages) == 1
    assert Letter.objects.count() == 1
    # A second letter (a new form) gets its own.
    write(client, council, form(council))
    assert len(smtp_sink.messages) == 2


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Board, Secretariat", "Board, Secretariat"),
        ('Ana "the pen" Ruiz', 'Ana "the pen" Ruiz'),
        ("Siobhán O’Brien", "Siobhán O’Brien"),
        ("Ana Ruiz\r\nBcc: victim@example.org", "Ana Ruiz Bcc: victim@example.org"),
    ],
)
def test_odd_names_make_safe_headers(council: Any, smtp_sink: Any, name: str, shown: str) -> None:
    council.title = "Keep it open\r\nBcc: victim@example.org"
    council.save()
    letter = LetterFactory(campaign=council, sender_name=name, supporter__email="ana.ruiz@example.net")
    assert emails.send_confirmation(letter.pk) is True
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == ["ana.ruiz@example.net"]
    head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head
    assert b"\r\n" + b"victim" not in head
    [message] = smtp_sink.parsed()
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (shown, "ana.ruiz@example.net")
    assert message["Subject"] == "Your letter to “Keep it open Bcc: victim@example.org”: your private link"
    assert "<script>" not in html(message)


def test_the_letter_text_is_escaped_in_the_html_part(council: Any, smtp_sink: Any) -> None:
    letter = LetterFactory(campaign=council, body="Dear {{ recipient.name }},\n\n<script>alert(1)</script> & more")
    emails.send_confirmation(letter.pk)
    [message] = smtp_sink.parsed()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html(message)
    assert "<script>alert(1)</script> & more" in plain(message)


def test_the_email_is_in_the_campaigns_language(council: Any, smtp_sink: Any) -> None:
    council.language = "de"
    council.save()
    letter = LetterFactory(campaign=council)
    emails.send_confirmation(letter.pk)
    [message] = smtp_sink.parsed()
    assert '<html lang="de">' in html(message)


def test_a_refused_message_is_tried_again_by_the_next_task(council: Any, smtp_sink: Any) -> None:
    letter = LetterFactory(campaign=council)
    smtp_sink.answer = "451 4.3.0 Try again later"
    assert emails.send_confirmation(letter.pk) is False
    letter.refresh_from_db()
    assert letter.confirmation_sent_at is None
    smtp_sink.answer = None
    assert emails.send_confirmation(letter.pk) is True
    assert emails.send_confirmation(letter.pk) is False  # once
    assert len(smtp_sink.messages) == 1


def test_posting_a_print_tells_each_supporter_once_and_the_letter_page_says_so(
    client: Client, council: Any, organiser: Any, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = council.recipients.order_by("campaignrecipient__position")
    posted = LetterFactory(campaign=council, sender_name="Ana Ruiz", supporter__email="ana@example.net")
    request_post(letter=posted, recipient=first)
    request_post(letter=posted, recipient=second)
    other = LetterFactory(campaign=council, sender_name="Mina Okafor", supporter__email="mina@example.net")
    request_post(letter=other, recipient=first)
    Letter.objects.update(confirmation_sent_at=timezone.now())  # not the emails under test
    job = PrintJob.objects.create(campaign=council, paper="a4", total=3, done=3, status=PrintJobStatus.DONE)
    PrintJob.objects.filter(pk=job.pk).update(created_at=timezone.now() + timedelta(seconds=1))
    job.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        assert mark_print_job_posted(job=job, actor=organiser) == 3
    messages = sorted(smtp_sink.parsed(), key=lambda m: str(m["To"]))
    assert [str(m["To"]) for m in messages] == ["Ana Ruiz <ana@example.net>", "Mina Okafor <mina@example.net>"]
    subject = "Friends of the River Wend has posted your letter"
    assert {str(m["Subject"]) for m in messages} == {subject}
    day = date_format(timezone.localdate(), "DATE_FORMAT")  # e.g. "Dec. 6, 2026"
    assert f"posted it on {day}, as you asked." in plain(messages[0]).replace("\n", " ")
    with django_capture_on_commit_callbacks(execute=True):
        assert mark_print_job_posted(job=job, actor=organiser) == 3  # a second click
    assert len(smtp_sink.messages) == 2

    [url] = _URL.findall(plain(messages[0]))
    page = client.get(path_of(url)).content.decode()
    assert page.count(f"Posted by Friends of the River Wend on {day}.") == 2
    assert Delivery.objects.filter(status="sent").count() == 3


def test_the_posted_notice_date_is_in_the_campaigns_language(council: Any, smtp_sink: Any) -> None:
    council.language = "de"
    council.save()
    letter = LetterFactory(campaign=council)
    assert emails.send_posted_notice(letter.pk, posted_on=date(2026, 12, 6)) is True
    assert emails.send_posted_notice(letter.pk, posted_on=date(2026, 12, 6)) is False
    [message] = smtp_sink.parsed()
    assert "6. Dezember 2026" in plain(message)


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_confirmation(
    client: Client, organisation: Any, smtp_sink: Any, run_worker: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    campaign = CampaignFactory(organisation=organisation, slug="worker")
    assert client.post(reverse("public:compose", args=[campaign.slug]), form(campaign)).status_code == 302
    assert smtp_sink.messages == []  # the request only enqueued it
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    [message] = smtp_sink.parsed()
    assert message["To"] == "Ana Ruiz <ana.ruiz@example.net>"
