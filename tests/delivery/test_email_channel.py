"""The email channel against a real SMTP server started by the test."""

from __future__ import annotations

import email
import email.policy
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from typing import Any

import pytest

from tests.factories import LetterFactory
from undersigned.campaigns.enums import Channel
from undersigned.core.emails import POLICY, SMTP_POLICY
from undersigned.core.emails import named_address as address
from undersigned.delivery import addresses
from undersigned.delivery.channels.email import build_message
from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence
from undersigned.delivery.services import record_delivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def send(smtp_sink: Any, run_worker: Any) -> Any:
    """Queue the letter for its campaign's first recipient, then let a worker process send it."""

    def queue_and_work(letter: Any) -> Delivery:
        recipient = letter.campaign.recipients.first()
        delivery = record_delivery(letter=letter, recipient=recipient, channel=Channel.EMAIL)
        run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
        delivery.refresh_from_db()
        return delivery

    return queue_and_work


def test_the_letter_arrives_with_the_right_headers(campaign: Any, smtp_sink: Any, send: Any) -> None:
    letter = LetterFactory(campaign=campaign, sender_name="Siobhán O'Brien", supporter__email="siobhan@example.net")
    delivery = send(letter)
    recipient = campaign.recipients.first()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.evidence == Evidence.PLATFORM_DELIVERED
    assert delivery.attempts == 1
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == [recipient.email]
    [message] = smtp_sink.parsed()
    assert str(message["From"]) == "Siobhán O'Brien via Friends of the Wend <letters@undersigned.test>"
    # The supporter first; then the letter's own reply address (the campaign's default placement).
    assert str(message["Reply-To"]) == (
        f"Siobhán O'Brien <siobhan@example.net>, {addresses.reply_address(delivery.pk)}"
    )
    assert str(message["To"]) == f"{recipient.name} <{recipient.email}>"
    assert str(message["Message-ID"]) == f"<delivery-{delivery.pk}@undersigned.test>"
    assert delivery.message_id == f"<delivery-{delivery.pk}@undersigned.test>"
    assert str(message["Subject"]) == "Please keep the riverside path open"
    plain = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert plain.startswith(f"Dear {recipient.name},\n\nI live in Wendmouth and I am writing")
    assert "Yours sincerely,\nSiobhán O'Brien" in plain
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "My children walk this path every day." in html


def test_line_breaks_in_names_and_subject_never_add_a_header(campaign: Any, smtp_sink: Any, send: Any) -> None:
    letter = LetterFactory(
        campaign=campaign,
        sender_name="Eve\r\nBcc: victim@example.org",
        subject="Hello\nX-Injected: yes",
        body="<script>alert(1)</script>",
    )
    send(letter)
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == [campaign.recipients.first().email]
    [message] = smtp_sink.parsed()
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert str(message["Subject"]) == "Hello X-Injected: yes"
    assert str(message["From"]) == '"Eve Bcc: victim@example.org via Friends of the Wend" <letters@undersigned.test>'
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_a_permanent_refusal_fails_with_the_servers_reason(campaign: Any, smtp_sink: Any, send: Any) -> None:
    smtp_sink.answer = "550 5.1.1 Mailbox unavailable"
    delivery = send(LetterFactory(campaign=campaign))
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "550 5.1.1 Mailbox unavailable"
    assert delivery.evidence == Evidence.NONE


def test_a_temporary_refusal_leaves_the_delivery_to_retry(campaign: Any, smtp_sink: Any, send: Any) -> None:
    smtp_sink.answer = "451 4.3.0 Try again later"
    delivery = send(LetterFactory(campaign=campaign))
    assert delivery.status == DeliveryStatus.RETRY
    assert delivery.last_error.startswith("451")
    assert smtp_sink.messages == []


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("Cllr Jane Smith", "chair@council.example"),
        ('Jane "JJ" Smith, MP', "jane.smith+housing@council.example"),
        ("O'Neil (Chair)", "o'neil@council.example"),
        ("Ana Ruíz", "ana@exämple.org"),
        ("李小龍", "li@example.cn"),
        ("Back\\slash; <angle>", "x@example.org"),
        ("Quoted local", '"two words"@example.org'),
        ("Escaped local", '"a\\"b"@example.org'),
    ],
)
def test_an_address_from_its_parts_reads_as_a_parsed_one(name: str, email: str) -> None:
    """The header a recipient sees is the same whichever way the address was put together."""

    def parsed(value: str) -> tuple[Address, ...]:
        header = HeaderRegistry()("To", value)
        assert isinstance(header, AddressHeader)
        assert not header.defects
        return header.addresses

    assert parsed(address(name, email)) == (Address(display_name=name, addr_spec=email),)
    injected = address(f"{name}\r\nBcc: victim@example.org", email)
    assert "\n" not in injected
    assert parsed(injected) == (Address(display_name=f"{name} Bcc: victim@example.org", addr_spec=email),)


def test_a_prepared_message_is_handed_over_once_and_only_for_its_policy() -> None:
    message = build_message(delivery_id=7, envelope_sender="bounces@undersigned.test", sender_name="Ana Ruiz",
                            sender_email="ana@example.org", organisation="Friends of the Wend",
                            recipient_name="Cllr Jane Smith", recipient_email="chair@council.example",
                            subject="The riverside path", body="Dear Cllr Smith,\n\nPlease keep it open.")  # fmt: skip
    message.prepare(SMTP_POLICY)
    prepared = message.wire_bytes(SMTP_POLICY)
    again = message.wire_bytes(SMTP_POLICY)
    assert again is not prepared  # once: later calls build anew
    for data in (prepared, again):
        mime = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
        assert isinstance(mime, email.message.EmailMessage)
        plain = mime.get_body(("plain",))
        assert plain is not None
        assert plain.get_content().rstrip() == "Dear Cllr Smith,\n\nPlease keep it open."
        assert str(mime["To"]) == "Cllr Jane Smith <chair@council.example>"
        assert str(mime["Message-ID"]) == "<delivery-7@undersigned.test>"
    message.prepare(SMTP_POLICY)
    assert b"\r\n" not in message.wire_bytes(POLICY)  # built for its policy
