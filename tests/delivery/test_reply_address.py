"""The per-letter reply address on letters the platform sends: a real worker sends the
letter to a real SMTP server, the recipient answers to the address the message names,
and the real ``undersigned inbound`` receiver keeps the answer with the letter."""

from __future__ import annotations

import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import pytest

from tests.delivery.test_inbound import Inbound
from tests.factories import LetterFactory
from tests.tallies.recount import kept_campaign, recount_campaign
from undersigned.campaigns.enums import Channel, ReplyAddress
from undersigned.delivery import addresses
from undersigned.delivery.models import Delivery, Evidence, Reply
from undersigned.delivery.services import record_delivery

# The receiver stores from its own thread and the worker is another process: committed data.
pytestmark = pytest.mark.django_db(transaction=True)

# A name that would split into two addresses, close a quoted string or add a header if
# it reached a header as typed.
AWKWARD = 'Ana "Nan" Ruiz, <eve@example.org>\r\nBcc: victim@example.org'


def _send(campaign: Any, smtp_sink: Any, run_worker: Any, placement: str) -> tuple[Delivery, Any]:
    campaign.reply_address = placement
    campaign.save(update_fields=["reply_address"])
    letter = LetterFactory(campaign=campaign, sender_name=AWKWARD, supporter__email="ana.ruiz@example.net")
    recipient = campaign.recipients.first()
    recipient.name = 'Cllr Smith, "Chair"\nX-Injected: yes'
    recipient.save(update_fields=["name"])
    delivery = record_delivery(letter=letter, recipient=recipient, channel=Channel.EMAIL)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    delivery.refresh_from_db()
    [message] = smtp_sink.parsed()
    return delivery, message


def _addresses(message: Any, header: str) -> list[str]:
    """The addresses a header field holds, each field appearing at most once."""
    assert len(message.get_all(header) or []) <= 1, f"{header} appears twice"
    value = message[header]
    if value is None:
        return []
    assert not value.defects
    return [a.addr_spec for a in value.addresses]


def _reply(text: str, *, to: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Cllr Smith <chair@council.example>"
    message["To"] = to
    message["Subject"] = "Re: Please keep the riverside path open"
    message.set_content(text)
    return bytes(message)


def test_reply_to_names_the_supporter_then_the_letters_reply_address(
    campaign: Any, smtp_sink: Any, run_worker: Any, inbound: Inbound
) -> None:
    delivery, message = _send(campaign, smtp_sink, run_worker, ReplyAddress.REPLY_TO)
    assert delivery.evidence == Evidence.PLATFORM_DELIVERED
    reply_address = addresses.reply_address(delivery.pk)
    assert _addresses(message, "Reply-To") == ["ana.ruiz@example.net", reply_address]
    assert _addresses(message, "Cc") == []
    assert _addresses(message, "To") == [delivery.sent_recipient.email]
    assert _addresses(message, "From") == ["letters@undersigned.test"]
    # The names stayed names: one line each, no address or header of their own.
    supporter = message["Reply-To"].addresses[0]
    assert supporter == Address(display_name='Ana "Nan" Ruiz, <eve@example.org> Bcc: victim@example.org',
                                addr_spec="ana.ruiz@example.net")  # fmt: skip
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert [smtp_sink.messages[0].rcpt_tos] == [[delivery.sent_recipient.email]]

    # The recipient answers; their mail program writes to every Reply-To address. The
    # inbound receiver takes the reply address and keeps the answer with the letter.
    to = ", ".join(a for _, a in getaddresses([str(message["Reply-To"])]))
    assert inbound.send(_reply("We will keep the path open.", to=to), to=[reply_address],
                        sender="chair@council.example") == {}  # fmt: skip
    [reply] = Reply.objects.all()
    assert (reply.letter_id, reply.recipient_id, reply.source) == (delivery.letter_id, delivery.recipient_id, "inbound")
    assert "We will keep the path open." in reply.text
    assert Delivery.objects.get(pk=delivery.pk).evidence == Evidence.REPLY_RECEIVED
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)

    # An altered or made-up address is refused at RCPT and stores nothing.
    local, domain = reply_address.split("@")
    other = addresses.reply_address(delivery.pk + 1)
    forged = (
        local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain,  # the signature changed
        reply_address.replace(f"replies+{delivery.pk}-", f"replies+{delivery.pk + 1}-"),  # another delivery, same sig
        other.replace(other.split("@")[1], "elsewhere.example"),  # a real signature at another domain
    )
    for wrong in forged:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            inbound.send(_reply("Forged", to=wrong), to=[wrong])
        assert refused.value.recipients[wrong][0] == 550
    assert Reply.objects.count() == 1


def test_in_cc_the_reply_address_is_seen_and_reply_to_is_the_supporter(
    campaign: Any, smtp_sink: Any, run_worker: Any, inbound: Inbound
) -> None:
    delivery, message = _send(campaign, smtp_sink, run_worker, ReplyAddress.CC)
    reply_address = addresses.reply_address(delivery.pk)
    assert _addresses(message, "Reply-To") == ["ana.ruiz@example.net"]
    assert _addresses(message, "Cc") == [reply_address]
    # Shown, not sent there: the letter itself arriving at the reply address would look
    # like an answer.
    assert smtp_sink.messages[0].rcpt_tos == [delivery.sent_recipient.email]
    # And if a mail server sent it there anyway, the letter is still no reply.
    assert inbound.send(smtp_sink.messages[0].content, to=[reply_address]) == {}
    assert not Reply.objects.exists()
    assert inbound.send(_reply("Thank you, noted.", to=reply_address), to=[reply_address]) == {}
    [reply] = Reply.objects.all()
    assert reply.letter_id == delivery.letter_id
    assert Delivery.objects.get(pk=delivery.pk).evidence == Evidence.REPLY_RECEIVED


def test_off_adds_no_reply_address(campaign: Any, smtp_sink: Any, run_worker: Any) -> None:
    _delivery, message = _send(campaign, smtp_sink, run_worker, ReplyAddress.OFF)
    assert _addresses(message, "Reply-To") == ["ana.ruiz@example.net"]
    assert _addresses(message, "Cc") == []
    assert "replies+" not in smtp_sink.messages[0].content.decode()
