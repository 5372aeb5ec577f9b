"""`undersigned inbound`: mailto copies and bounces, over real SMTP on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.conftest import database_url
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from tests.test_settings import GOOD_KEY, _check
from undersigned.campaigns.enums import Channel
from undersigned.core.models import ActionLog
from undersigned.delivery import services
from undersigned.delivery.addresses import bounce_address, letter_copy_address
from undersigned.delivery.inbound import DEFAULT_MAX_SIZE, make_controller
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence
from undersigned.delivery.services import COPY_TEXT_MAX_CHARS, record_delivery
from undersigned.letters.personalisation import personalise

# The handler stores messages from its own thread, which must see the rows the test
# made: committed data, not a transaction rolled back at the end.
pytestmark = pytest.mark.django_db(transaction=True)

SUPPORTER = "ana.ruiz@example.net"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Inbound:
    """The receiver on a port of 127.0.0.1, and a mail server's side of talking to it."""

    def __init__(self, port: int) -> None:
        self.port = port

    def send(self, message: bytes, *, to: list[str], sender: str = SUPPORTER) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            return smtp.sendmail(sender, to, message)


@pytest.fixture
def inbound() -> Iterator[Inbound]:
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        yield Inbound(port)
    finally:
        controller.stop()


def letter_text(letter: Any, recipient: Any) -> str:
    """The letter as the composer's mailto link gives it to the supporter's mail app."""
    return personalise(
        subject=letter.subject,
        body=letter.body,
        sender_name=letter.sender_name,
        sender_town=letter.sender_town,
        sender_country=letter.sender_country,
        recipient_name=recipient.name,
        recipient_role=recipient.role,
        recipient_organisation=recipient.organisation_name,
        campaign_title=letter.campaign.title,
    ).body


def copy_of(
    letter: Any, *, to: list[Any], body: str, cc: tuple[Any, ...] = (), html: str | None = None, pad: int = 0
) -> bytes:
    """The message a supporter's mail app sends, as the BCC copy receives it (no Bcc header)."""
    message = EmailMessage()
    message["From"] = f"{letter.sender_name} <{SUPPORTER}>"
    message["To"] = ", ".join(f"{r.name} <{r.email}>" for r in to)
    if cc:
        message["Cc"] = ", ".join(f"{r.name} <{r.email}>" for r in cc)
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="example.net")
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=policy.SMTP)


def dsn(
    *,
    delivery: Any,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    about: str | None = None,
) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix sends it, about the delivery's letter."""
    # About a letter (to a recipient) or an update (to a supporter, whose address is ``about``).
    recipient = delivery.recipient
    rcpt = about or delivery.sent_recipient.email
    to = f"{recipient.name} <{recipient.email}>" if recipient is not None else f"<{rcpt}>"
    diagnostic_line = f"Diagnostic-Code: {diagnostic.format(rcpt=rcpt)}\r\n" if diagnostic else ""
    text = (
        "From: MAILER-DAEMON@mx.council.example (Mail Delivery System)\r\n"
        f"To: {bounce_address(delivery.pk)}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="8F2A11C0.1718000000/mx"\r\n'
        "\r\n"
        "This is a MIME-encapsulated message.\r\n"
        "\r\n"
        "--8F2A11C0.1718000000/mx\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "This is the mail system at host mx.council.example.\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n"
        "\r\n"
        f"<{rcpt}>: host mailstore.council.example said: 550 5.1.1\r\n"
        "    Recipient address rejected\r\n"
        "\r\n"
        "--8F2A11C0.1718000000/mx\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.council.example\r\n"
        "X-Postfix-Queue-ID: 8F2A11C0\r\n"
        f"X-Postfix-Sender: rfc822; {bounce_address(delivery.pk)}\r\n"
        "Arrival-Date: Mon, 10 Jun 2024 09:00:00 +0100 (BST)\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\n"
        f"Original-Recipient: rfc822;{rcpt}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mailstore.council.example\r\n"
        f"{diagnostic_line}"
        "\r\n"
        "--8F2A11C0.1718000000/mx\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"Return-Path: <{bounce_address(delivery.pk)}>\r\n"
        "From: Ana Ruiz via Friends of the Wend <letters@undersigned.test>\r\n"
        f"To: {to}\r\n"
        f"Message-ID: <delivery-{delivery.pk}@undersigned.test>\r\n"
        "Subject: Please keep the riverside path open\r\n"
        "\r\n"
        "--8F2A11C0.1718000000/mx--\r\n"
    )
    return text.encode("ascii")


def sent_email(campaign: Any) -> Delivery:
    """A letter the platform emailed to the campaign's recipient, accepted by the next server."""
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    return Delivery.objects.create(
        letter=letter,
        recipient=campaign.recipients.get(),
        channel=Channel.EMAIL,
        status=DeliveryStatus.SENT,
        evidence=Evidence.PLATFORM_DELIVERED,
        attempts=1,
        sent_at=timezone.now(),
    )


# --- Copies of mailto letters --------------------------------------------------------


def test_a_copy_verifies_the_mailto_delivery_with_the_text_actually_sent(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    recipient = campaign.recipients.get()
    # The supporter changed the letter in their mail app before sending it.
    sent = letter_text(letter, recipient).replace(
        "Please keep it open.", "Please keep it open. Šárka O'Brien, aged 9, walks it every morning."
    )
    refused = inbound.send(copy_of(letter, to=[recipient], body=sent), to=[letter_copy_address(letter.pk)])

    assert refused == {}
    delivery = Delivery.objects.get()
    assert (delivery.letter_id, delivery.recipient_id, delivery.channel) == (letter.pk, recipient.pk, Channel.MAILTO)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.evidence == Evidence.VERIFIED_COPY
    assert delivery.verified_at is not None
    assert delivery.copy_text == sent + "\n"
    assert "Šárka O'Brien, aged 9" in delivery.copy_text
    campaign.refresh_from_db()
    letter.refresh_from_db()
    assert campaign.letters_sent == 1
    assert letter.sent_at is not None

    # The same letter sent again, differently: the first copy stays the record, and the
    # letter is still counted once.
    inbound.send(copy_of(letter, to=[recipient], body="A second, shorter go."), to=[letter_copy_address(letter.pk)])

    assert Delivery.objects.count() == 1
    again = Delivery.objects.get()
    assert again.copy_text == sent + "\n"
    assert again.verified_at == delivery.verified_at
    campaign.refresh_from_db()
    assert campaign.letters_sent == 1
    assert list(ActionLog.objects.order_by("id").values_list("action", "data")) == [
        ("delivery.copy_verified", {"channel": "mailto", "created": True}),
        ("delivery.copy_repeated", {"channel": "mailto"}),
    ]


def test_a_copy_upgrades_what_the_supporter_reported(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    recipient = campaign.recipients.get()
    reported = record_delivery(letter=letter, recipient=recipient, channel=Channel.MAILTO)
    assert (reported.status, reported.evidence) == (DeliveryStatus.REPORTED, Evidence.SELF_REPORTED)
    sent = letter_text(letter, recipient)

    inbound.send(
        copy_of(letter, to=[recipient], body=sent, html="<p>Dear someone,</p><p>an HTML version</p>"),
        to=[letter_copy_address(letter.pk)],
    )

    delivery = Delivery.objects.get()
    assert delivery.pk == reported.pk
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.evidence == Evidence.VERIFIED_COPY
    assert delivery.reported_at == reported.reported_at
    assert delivery.copy_text == sent + "\n"  # the plain-text part, not the HTML one
    campaign.refresh_from_db()
    assert campaign.letters_sent == 1


def test_an_html_only_copy_is_kept_as_text(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign)
    recipient = campaign.recipients.get()
    message = EmailMessage()
    message["From"] = SUPPORTER
    message["To"] = recipient.email
    message["Subject"] = letter.subject
    message.set_content(
        "<div>Dear Councillor,<br>please keep the path open &amp; safe.</div>"
        "<p>Fatima &#x0641;&#x0627;&#x0637;&#x0645;&#x0629;</p>",
        subtype="html",
    )

    inbound.send(message.as_bytes(policy=policy.SMTP), to=[letter_copy_address(letter.pk)])

    assert Delivery.objects.get().copy_text == "Dear Councillor,\nplease keep the path open & safe.\nFatima فاطمة\n\n"


def test_a_copy_in_an_unknown_charset_is_kept_as_far_as_it_can_be_read(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign)
    recipient = campaign.recipients.get()
    message = (
        f"From: {SUPPORTER}\r\nTo: {recipient.email}\r\nSubject: Path\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Dear Councillor,\r\nplease keep it open. \u0160\u00e1rka\r\n"
    ).encode()

    inbound.send(message, to=[letter_copy_address(letter.pk)])

    assert Delivery.objects.get().copy_text == "Dear Councillor,\nplease keep it open. \u0160\u00e1rka\n"


def test_a_copy_to_several_recipients_verifies_each_one_named(organisation: Any, inbound: Inbound) -> None:
    to, cc, left_out = (RecipientFactory(organisation=organisation) for _ in range(3))
    campaign = CampaignFactory(organisation=organisation, recipients=[to, cc, left_out])
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    stranger = RecipientFactory(organisation=organisation, email="someone@elsewhere.example")

    inbound.send(
        copy_of(letter, to=[to, stranger], cc=(cc,), body="Dear all,\n\nplease keep it open.\n"),
        to=[letter_copy_address(letter.pk)],
    )

    verified = Delivery.objects.order_by("recipient_id")
    assert [(d.recipient_id, d.evidence) for d in verified] == [
        (to.pk, Evidence.VERIFIED_COPY),
        (cc.pk, Evidence.VERIFIED_COPY),
    ]
    campaign.refresh_from_db()
    assert campaign.letters_sent == 1


def test_a_copy_naming_none_of_the_campaigns_recipients_stores_nothing(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign)
    elsewhere = RecipientFactory(email="mayor@another-town.example")

    refused = inbound.send(copy_of(letter, to=[elsewhere], body="Hello\n"), to=[letter_copy_address(letter.pk)])

    assert refused == {}
    assert Delivery.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.letters_sent == 0


def test_a_copy_for_a_letter_that_is_gone_is_accepted_and_forgotten(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign)
    message = copy_of(letter, to=[campaign.recipients.get()], body="Hello\n")
    address = letter_copy_address(letter.pk)
    letter.delete()

    # 250: refusing would only make the supporter's server retry, then bounce to them.
    assert inbound.send(message, to=[address]) == {}
    assert Delivery.objects.count() == 0


def test_a_long_copy_just_under_the_size_limit_is_kept_shortened(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    recipient = campaign.recipients.get()
    line = "I have walked this path to school every day for eleven years.\n"
    body = line * ((DEFAULT_MAX_SIZE - 20_000) // len(line) - 1)
    message = copy_of(letter, to=[recipient], body=body)
    assert DEFAULT_MAX_SIZE - 30_000 < len(message) < DEFAULT_MAX_SIZE

    inbound.send(message, to=[letter_copy_address(letter.pk)])

    delivery = Delivery.objects.get()
    assert len(delivery.copy_text) == COPY_TEXT_MAX_CHARS
    assert delivery.copy_text == body[:COPY_TEXT_MAX_CHARS]


# --- What the receiver refuses --------------------------------------------------------


def _tampered(address: str) -> str:
    local, domain = address.split("@")
    last = "0" if local[-1] != "0" else "1"
    return f"{local[:-1]}{last}@{domain}"


@pytest.mark.parametrize(
    "make_address",
    [
        pytest.param(lambda pk: _tampered(letter_copy_address(pk)), id="wrong signature"),
        pytest.param(
            lambda pk: letter_copy_address(pk).replace(f"+{pk}-", f"+{pk + 1}-"), id="another number, same signature"
        ),
        pytest.param(lambda pk: f"letters@{settings.INBOUND_DOMAIN}", id="unknown local part"),
        pytest.param(lambda pk: f"postmaster+{pk}@{settings.INBOUND_DOMAIN}", id="unknown kind"),
        pytest.param(
            lambda pk: letter_copy_address(pk).replace(settings.INBOUND_DOMAIN, "elsewhere.example"),
            id="another domain",
        ),
        pytest.param(lambda pk: _tampered(bounce_address(pk)), id="bounce address, wrong signature"),
    ],
)
def test_addresses_we_did_not_make_are_refused_at_rcpt(campaign: Any, inbound: Inbound, make_address: Any) -> None:
    letter = LetterFactory(campaign=campaign)
    address = make_address(letter.pk)
    message = copy_of(letter, to=[campaign.recipients.get()], body="Hello\n")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        inbound.send(message, to=[address])

    assert refused.value.recipients == {address: (550, b"5.1.1 No such mailbox")}
    assert Delivery.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.letters_sent == 0


def test_at_most_five_recipients_a_message(campaign: Any, inbound: Inbound) -> None:
    letters = [LetterFactory(campaign=campaign) for _ in range(6)]
    addresses = [letter_copy_address(letter.pk) for letter in letters]

    refused = inbound.send(copy_of(letters[0], to=[campaign.recipients.get()], body="Hello\n"), to=addresses)

    assert refused == {addresses[5]: (452, b"4.5.3 Too many recipients")}


def test_an_oversized_message_is_refused_and_nothing_stored(campaign: Any, inbound: Inbound) -> None:
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    body = "Please keep the riverside path open.\n" * (DEFAULT_MAX_SIZE // 37 + 100)
    message = copy_of(letter, to=[campaign.recipients.get()], body=body)
    assert len(message) > DEFAULT_MAX_SIZE
    address = letter_copy_address(letter.pk)

    # A server that announces the size (SIZE=) is refused before it sends anything...
    with pytest.raises(smtplib.SMTPSenderRefused) as announced:
        inbound.send(message, to=[address])
    assert announced.value.smtp_code == 552

    # ...and one that doesn't is refused once the data passes the limit.
    with smtplib.SMTP("127.0.0.1", inbound.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail(SUPPORTER)[0] == 250
        assert smtp.rcpt(address)[0] == 250
        code, answer = smtp.data(message)
    assert (code, answer) == (552, b"Error: Too much mail data")

    assert Delivery.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.letters_sent == 0


def test_a_failure_while_storing_asks_the_sender_to_retry_and_logs_no_text(
    campaign: Any, inbound: Inbound, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    letter = LetterFactory(campaign=campaign)

    def broken(**kwargs: Any) -> list[Delivery]:
        raise RuntimeError("could not store: Dear Councillor, my children walk this path")

    monkeypatch.setattr(services, "record_copy", broken)
    caplog.set_level(logging.INFO)

    with pytest.raises(smtplib.SMTPDataError) as temporary:
        inbound.send(
            copy_of(letter, to=[campaign.recipients.get()], body="Hello\n"), to=[letter_copy_address(letter.pk)]
        )

    assert temporary.value.smtp_code == 451
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("undersigned")]
    assert messages == [f"inbound mail for letter {letter.pk} not stored (RuntimeError); sender asked to retry"]
    assert "children" not in caplog.text
    assert SUPPORTER not in caplog.text  # nor the sender's address, which aiosmtpd would log
    assert Delivery.objects.count() == 0


# --- Bounces --------------------------------------------------------------------------


def test_a_failure_report_marks_the_delivery_bounced_and_flags_the_address(campaign: Any, inbound: Inbound) -> None:
    delivery = sent_email(campaign)
    recipient = delivery.sent_recipient

    refused = inbound.send(dsn(delivery=delivery), to=[bounce_address(delivery.pk)], sender="")

    assert refused == {}
    delivery.refresh_from_db()
    recipient.refresh_from_db()
    reason = f"550 5.1.1 <{recipient.email}>: Recipient address rejected: User unknown in virtual mailbox table"
    assert delivery.status == DeliveryStatus.BOUNCED
    assert delivery.evidence == Evidence.NONE  # the letter never reached the recipient
    assert delivery.bounced_at is not None
    assert delivery.last_error == reason
    assert recipient.email_flagged_at is not None
    assert recipient.email_flag_reason == reason
    campaign.refresh_from_db()
    assert list(ActionLog.objects.order_by("id").values_list("action", "object_id", "data")) == [
        ("delivery.bounced", str(delivery.pk), {"channel": "email"}),
        ("recipient.email_flagged", str(recipient.pk), {"delivery": delivery.pk}),
    ]


def test_a_failure_report_without_a_diagnostic_keeps_the_status(campaign: Any, inbound: Inbound) -> None:
    delivery = sent_email(campaign)

    inbound.send(dsn(delivery=delivery, status="5.2.1", diagnostic=""), to=[bounce_address(delivery.pk)], sender="")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.BOUNCED, "Status 5.2.1")


def test_a_delay_report_changes_nothing(campaign: Any, inbound: Inbound) -> None:
    delivery = sent_email(campaign)
    report = dsn(
        delivery=delivery,
        action="delayed",
        status="4.4.1",
        diagnostic="X-Postfix; connect to mailstore.council.example[192.0.2.7]:25: Connection timed out",
    )

    assert inbound.send(report, to=[bounce_address(delivery.pk)], sender="") == {}

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.evidence == Evidence.PLATFORM_DELIVERED
    assert (delivery.bounced_at, delivery.last_error) == (None, "")
    recipient = delivery.sent_recipient
    recipient.refresh_from_db()
    assert (recipient.email_flagged_at, recipient.email_flag_reason) == (None, "")
    assert not ActionLog.objects.exists()


def test_a_failure_of_the_supporters_own_copy_leaves_the_letter_alone(campaign: Any, inbound: Inbound) -> None:
    # The supporter's copy travels in the same message as the letter, so its bounce comes
    # back to the same delivery's address.
    delivery = sent_email(campaign)

    inbound.send(dsn(delivery=delivery, about=SUPPORTER), to=[bounce_address(delivery.pk)], sender="")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.evidence) == (DeliveryStatus.SENT, Evidence.PLATFORM_DELIVERED)
    delivery.sent_recipient.refresh_from_db()
    assert delivery.sent_recipient.email_flagged_at is None


def test_a_non_standard_bounce_is_read_from_its_text(campaign: Any, inbound: Inbound) -> None:
    delivery = sent_email(campaign)
    email = delivery.sent_recipient.email
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@old-mx.council.example"
    bounce["To"] = bounce_address(delivery.pk)
    bounce["Subject"] = "failure notice"
    bounce.set_content(
        "Hi. This is the qmail-send program at old-mx.council.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{email}>:\n"
        f"Remote host said: 550 5.1.1 <{email}>... User unknown\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "Subject: Please keep the riverside path open\n\n"
        "Dear Councillor, 452 4.2.2 is not a status here.\n"
    )

    inbound.send(bounce.as_bytes(policy=policy.SMTP), to=[bounce_address(delivery.pk)], sender="")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.BOUNCED
    assert delivery.last_error == f"Remote host said: 550 5.1.1 <{email}>... User unknown"
    delivery.sent_recipient.refresh_from_db()
    assert delivery.sent_recipient.email_flag_reason == delivery.last_error


def test_an_auto_reply_at_the_bounce_address_is_no_bounce(campaign: Any, inbound: Inbound) -> None:
    delivery = sent_email(campaign)
    reply = EmailMessage()
    reply["From"] = delivery.sent_recipient.email
    reply["To"] = bounce_address(delivery.pk)
    reply["Subject"] = "Out of office"
    reply["Auto-Submitted"] = "auto-replied"
    reply.set_content("I am away until 5.1.25 and will read your letter when I return.\n")

    inbound.send(reply.as_bytes(policy=policy.SMTP), to=[bounce_address(delivery.pk)], sender="")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.evidence) == (DeliveryStatus.SENT, Evidence.PLATFORM_DELIVERED)


def test_a_bounce_for_a_delivery_that_is_gone_is_accepted(campaign: Any, inbound: Inbound) -> None:
    delivery = sent_email(campaign)
    report, address = dsn(delivery=delivery), bounce_address(delivery.pk)
    delivery.delete()

    assert inbound.send(report, to=[address], sender="") == {}
    assert not ActionLog.objects.exists()


# --- The command ----------------------------------------------------------------------


def test_the_command_refuses_a_bad_bind_address_and_a_tiny_size_limit() -> None:
    with pytest.raises(CommandError, match="HOST:PORT"):
        call_command("inbound", bind="localhost")
    with pytest.raises(CommandError, match="at least"):
        call_command("inbound", max_size=100)


def _start_inbound(port: int, **env: str) -> subprocess.Popen[str]:
    """`undersigned inbound` in a process of its own, once it listens on the port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "undersigned.cli", "inbound", "--bind", f"127.0.0.1:{port}"],
        env={**os.environ, "DATABASE_URL": database_url(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"undersigned inbound did not start listening: {process.communicate()}")
            time.sleep(0.1)


def test_undersigned_inbound_receives_a_copy_and_stops_cleanly_on_sigterm(campaign: Any) -> None:
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    recipient = campaign.recipients.get()
    port = free_port()
    process = _start_inbound(port)
    try:
        Inbound(port).send(
            copy_of(letter, to=[recipient], body="Dear Councillor,\n\nkeep it open.\n"),
            to=[letter_copy_address(letter.pk)],
        )
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            Inbound(port).send(b"Subject: hi\r\n\r\nhi\r\n", to=[f"anyone@{settings.INBOUND_DOMAIN}"])

        process.terminate()
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert stdout.splitlines() == [
        f"Receiving mail for {settings.INBOUND_DOMAIN} on 127.0.0.1:{port} "
        f"(at most {DEFAULT_MAX_SIZE} bytes a message). SIGTERM or Ctrl-C stops.",
        "Stopped.",
    ]
    assert "Traceback" not in stderr
    assert SUPPORTER not in stderr
    delivery = Delivery.objects.get()
    assert (delivery.recipient_id, delivery.evidence) == (recipient.pk, Evidence.VERIFIED_COPY)
    assert delivery.copy_text == "Dear Councillor,\n\nkeep it open.\n"


def _self_signed(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made by openssl for this test only."""
    cert, key = folder / "inbound.crt", folder / "inbound.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=inbound.test",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


def test_with_a_certificate_undersigned_inbound_offers_starttls(campaign: Any, tmp_path: Any) -> None:
    letter = LetterFactory(campaign=campaign, supporter__email=SUPPORTER)
    recipient = campaign.recipients.get()
    cert, key = _self_signed(tmp_path)
    port = free_port()
    process = _start_inbound(port, UNDERSIGNED_INBOUND_TLS_CERT=cert, UNDERSIGNED_INBOUND_TLS_KEY=key)
    try:
        # A sending mail server: EHLO, STARTTLS (checking the certificate), EHLO again, the copy.
        client_context = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo("mx.example.net")
            assert smtp.has_extn("starttls")
            smtp.starttls(context=client_context)
            assert isinstance(smtp.sock, ssl.SSLSocket)
            assert smtp.sock.version() in ("TLSv1.2", "TLSv1.3")
            peer = smtp.sock.getpeercert()
            assert peer is not None
            assert peer["subject"] == ((("commonName", "inbound.test"),),)
            smtp.ehlo("mx.example.net")
            assert not smtp.has_extn("starttls")  # already encrypted
            smtp.sendmail(
                SUPPORTER,
                [letter_copy_address(letter.pk)],
                copy_of(letter, to=[recipient], body="Dear Councillor,\n\nsent over TLS.\n"),
            )
        # A server without TLS can still deliver (a bounce, say): STARTTLS is offered, not required.
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            Inbound(port).send(b"Subject: hi\r\n\r\nhi\r\n", to=[f"anyone@{settings.INBOUND_DOMAIN}"])
        process.terminate()
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert "STARTTLS offered). SIGTERM or Ctrl-C stops." in stdout.splitlines()[0]
    delivery = Delivery.objects.get()
    assert (delivery.evidence, delivery.copy_text) == (Evidence.VERIFIED_COPY, "Dear Councillor,\n\nsent over TLS.\n")


def test_a_bad_certificate_or_a_missing_key_stops_undersigned_inbound_with_a_message(tmp_path: Any) -> None:
    cert, key = _self_signed(tmp_path)
    half = _check(tmp_path, UNDERSIGNED_SECRET_KEY=GOOD_KEY, UNDERSIGNED_INBOUND_TLS_CERT=cert)
    assert half.returncode == 2
    assert "UNDERSIGNED_INBOUND_TLS_KEY must be set too" in half.stderr

    def inbound_with(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "undersigned.cli", "inbound", "--bind", f"127.0.0.1:{free_port()}"],
            env={**os.environ, "DATABASE_URL": database_url(), **env},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    missing = inbound_with(UNDERSIGNED_INBOUND_TLS_CERT=cert, UNDERSIGNED_INBOUND_TLS_KEY=str(tmp_path / "nope.key"))
    assert missing.returncode != 0
    assert "Cannot read the TLS certificate or key (UNDERSIGNED_INBOUND_TLS_CERT, UNDERSIGNED_INBOUND_TLS_KEY)" in (
        missing.stderr
    )
    swapped = inbound_with(UNDERSIGNED_INBOUND_TLS_CERT=key, UNDERSIGNED_INBOUND_TLS_KEY=cert)
    assert swapped.returncode != 0
    assert "must be a PEM certificate and its private key" in swapped.stderr
    assert "Traceback" not in missing.stderr + swapped.stderr
