"""Reading bounces and copies (delivery/bounces.py): pure, no database, real-shaped mail.

The reports below follow what the servers named send (RFC 3464 multipart/report from
Postfix, Exim, Gmail and Exchange; a qmail and a hosted-filter text bounce); addresses
and hosts are made up. Every test here runs without database access (pytest-django
refuses it without the ``django_db`` mark), which is the point of the module.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

from undersigned.delivery import bounces

RECIPIENT = "chair@council.example"
SUPPORTER = "ana.ruiz@example.net"
BOUNCE_TO = "bounces+17-abc@undersigned.test"


def report(*blocks: str, notification: str = "Your message could not be delivered.\r\n") -> bytes:
    """A multipart/report of type delivery-status with one per-recipient block per argument."""
    fields = "\r\n".join(blocks)
    return (
        "From: MAILER-DAEMON@mx.council.example (Mail Delivery System)\r\n"
        f"To: {BOUNCE_TO}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        f"{notification}"
        "\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.council.example\r\n"
        "Arrival-Date: Mon, 10 Jun 2024 09:00:00 +0100\r\n"
        "\r\n"
        f"{fields}"
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "From: Ana Ruiz via Friends of the Wend <letters@undersigned.test>\r\n"
        f"To: Chair <{RECIPIENT}>\r\n"
        "Subject: Please keep the riverside path open\r\n"
        "\r\n"
        "--b1--\r\n"
    ).encode("ascii")


def block(address: str, action: str, status: str, diagnostic: str | None = None) -> str:
    lines = [f"Final-Recipient: rfc822; {address}", f"Original-Recipient: rfc822;{address}"]
    lines += [f"Action: {action}", f"Status: {status}", "Remote-MTA: dns; mailstore.council.example"]
    if diagnostic is not None:
        lines.append(f"Diagnostic-Code: {diagnostic}")
    return "\r\n".join(lines) + "\r\n"


def plain(subject: str, text: str, *, sender: str = "MAILER-DAEMON@old-mx.council.example") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = BOUNCE_TO
    message["Subject"] = subject
    message.set_content(text)
    return message.as_bytes(policy=policy.SMTP)


def read(message: bytes | EmailMessage) -> bounces.Bounce:
    return bounces.read_bounce(message, recipient_email=RECIPIENT, supporter_email=SUPPORTER)


def test_a_postfix_failure_report_is_a_failure_about_the_recipient() -> None:
    diagnostic = f"smtp; 550 5.1.1 <{RECIPIENT}>: Recipient address rejected: User unknown"
    result = read(report(block(RECIPIENT, "failed", "5.1.1", diagnostic)))

    assert result == bounces.Bounce(
        failure=bounces.Notice(
            kind="failed",
            diagnostic=f"550 5.1.1 <{RECIPIENT}>: Recipient address rejected: User unknown",
            addresses=frozenset({RECIPIENT}),
        ),
        delayed=False,
        flags_address=True,
    )


def test_a_gmail_report_with_a_folded_diagnostic_reads_as_one_line() -> None:
    diagnostic = (
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist.\r\n"
        "    Please try double-checking the recipient's email address for typos or\r\n"
        "    unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser"
    )
    result = read(report(block(RECIPIENT.upper(), "failed", "5.1.1", diagnostic)))

    assert result.failure is not None
    assert result.failure.diagnostic == (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try "
        "double-checking the recipient's email address for typos or unnecessary spaces. "
        "https://support.google.com/mail/?p=NoSuchUser"
    )
    assert result.failure.addresses == {RECIPIENT}  # compared in lower case
    assert result.flags_address


def test_an_exchange_report_without_a_diagnostic_keeps_the_status() -> None:
    result = read(report(block(RECIPIENT, "failed", "5.2.1")))

    assert result.failure is not None
    assert result.failure.diagnostic == "Status 5.2.1"


def test_a_report_with_no_action_is_read_by_its_status_class() -> None:
    lines = f"Final-Recipient: rfc822; {RECIPIENT}\r\nStatus: 5.7.1\r\n"

    assert read(report(lines)).failure == bounces.Notice("failed", "Status 5.7.1", frozenset({RECIPIENT}))


def test_a_delay_report_is_no_failure() -> None:
    diagnostic = "X-Postfix; connect to mailstore.council.example[192.0.2.7]:25: Connection timed out"
    result = read(report(block(RECIPIENT, "delayed", "4.4.1", diagnostic)))

    assert result == bounces.Bounce(failure=None, delayed=True, flags_address=False)


def test_a_success_report_is_neither_failure_nor_delay() -> None:
    result = read(report(block(RECIPIENT, "delivered", "2.0.0", "smtp; 250 2.0.0 OK")))

    assert result == bounces.Bounce(failure=None, delayed=False, flags_address=False)


def test_a_failure_of_only_the_supporters_copy_is_not_about_the_recipient() -> None:
    result = read(report(block(SUPPORTER, "failed", "5.2.2", "smtp; 552 5.2.2 Mailbox full")))

    assert result == bounces.Bounce(failure=None, delayed=False, flags_address=False)


def test_a_report_about_both_takes_the_recipients_failure() -> None:
    result = read(
        report(
            block(SUPPORTER, "delayed", "4.2.2", "smtp; 452 4.2.2 Mailbox full"),
            block(RECIPIENT, "failed", "5.1.1", "smtp; 550 5.1.1 No such user"),
        )
    )

    assert result.failure == bounces.Notice("failed", "550 5.1.1 No such user", frozenset({RECIPIENT}))
    assert not result.delayed  # the delay was the supporter's copy


def test_a_failure_for_another_address_does_not_flag_the_recipients_address() -> None:
    # The recipient's address was changed after the letter went, or a forward failed.
    result = read(report(block("old.chair@council.example", "failed", "5.1.1", "smtp; 550 5.1.1 Gone")))

    assert result.failure is not None
    assert result.flags_address is False


def test_a_qmail_bounce_is_read_from_its_text_up_to_the_quoted_letter() -> None:
    message = plain(
        "failure notice",
        "Hi. This is the qmail-send program at old-mx.council.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{RECIPIENT}>:\n"
        f"Remote host said: 550 5.1.1 <{RECIPIENT}>... User unknown\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "Subject: Please keep the riverside path open\n\n"
        "Dear Councillor, 452 4.2.2 and 550 5.7.1 are not statuses here.\n",
    )

    assert read(message) == bounces.Bounce(
        failure=bounces.Notice(
            "failed", f"Remote host said: 550 5.1.1 <{RECIPIENT}>... User unknown", frozenset({RECIPIENT})
        ),
        delayed=False,
        flags_address=True,
    )


def test_a_qmail_hash_status_is_a_failure() -> None:
    message = plain("failure notice", f"<{RECIPIENT}>:\nSorry, no mailbox here by that name. (#5.1.1)\n")

    failure = read(message).failure
    assert failure == bounces.Notice("failed", "Sorry, no mailbox here by that name. (#5.1.1)", frozenset({RECIPIENT}))


def test_a_text_bounce_that_names_no_one_is_about_the_recipient() -> None:
    message = plain("Delivery failure", "Delivery has failed.\n\n554 5.7.1 Message rejected as spam by filter\n")

    result = read(message)
    assert result.failure == bounces.Notice("failed", "554 5.7.1 Message rejected as spam by filter", frozenset())
    assert result.flags_address  # it does not say, so the only address it can be about


def test_a_text_bounce_that_only_delays_is_no_failure() -> None:
    message = plain(
        "Delivery Status Notification (Delay)",
        f"Delivery to {RECIPIENT} has been delayed.\n451 4.3.0 Mail server temporarily rejected message.\n"
        "The server will keep trying for 2 more days.\n",
    )

    assert read(message) == bounces.Bounce(failure=None, delayed=True, flags_address=False)


def test_an_auto_reply_with_a_date_like_number_is_no_bounce() -> None:
    reply = plain(
        "Out of office", "I am away until 5.1.25 and will read your letter when I return.\n", sender=RECIPIENT
    )

    assert read(reply) == bounces.Bounce(failure=None, delayed=False, flags_address=False)


def test_a_read_receipt_is_no_bounce_whatever_its_text_says() -> None:
    receipt = report(block(RECIPIENT, "failed", "5.1.1")).replace(
        b"report-type=delivery-status", b"report-type=disposition-notification"
    )

    assert read(receipt) == bounces.Bounce(failure=None, delayed=False, flags_address=False)


def test_a_parsed_message_reads_the_same_as_its_bytes() -> None:
    raw = report(block(RECIPIENT, "failed", "5.1.1", "smtp; 550 5.1.1 No such user"))

    assert read(bounces.parse(raw)) == read(raw)


def test_a_copy_yields_the_plain_text_and_the_addresses_it_was_sent_to() -> None:
    message = EmailMessage()
    message["From"] = f"Ana Ruiz <{SUPPORTER}>"
    message["To"] = f"Chair <{RECIPIENT.upper()}>, Deputy <deputy@council.example>"
    message["Cc"] = "Clerk <clerk@council.example>"
    message["Subject"] = "Please keep the riverside path open"
    message.set_content("Dear Chair,\r\n\r\nPlease keep it open.\r\n")
    message.add_alternative("<p>Dear Chair,</p><p>Something else</p>", subtype="html")
    raw = message.as_bytes(policy=policy.SMTP)

    assert bounces.copy_text(raw, max_chars=100) == "Dear Chair,\n\nPlease keep it open.\n"
    assert bounces.copy_text(raw, max_chars=10) == "Dear Chair"
    assert bounces.header_addresses(raw, "to", "cc") == {
        RECIPIENT,
        "deputy@council.example",
        "clerk@council.example",
    }


def test_an_html_only_copy_becomes_text() -> None:
    message = EmailMessage()
    message["To"] = RECIPIENT
    message.set_content("<p>Dear Chair,<br>please &amp; thank you</p><div>Ana</div>", subtype="html")

    assert bounces.copy_text(message, max_chars=1000) == "Dear Chair,\nplease & thank you\nAna\n\n"
