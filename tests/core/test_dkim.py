"""DKIM: with a key configured, every message leaves signed, and the signature verifies.

Verified with dkimpy against the public key handed to it directly (``dnsfunc``), on the
bytes the SMTP server received: no DNS. The key is made for the test run by OpenSSL.
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import dkim
import pytest
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, mailers
from django.test import Client, override_settings

from tests.core.test_mail_headers import ISSUE_NAMES, People, _file_messages
from tests.factories import LetterFactory
from tests.test_settings import GOOD_KEY, _check
from undersigned.campaigns.enums import Channel
from undersigned.delivery.models import Delivery
from undersigned.delivery.services import record_delivery

SELECTOR = "mail2026"
DOMAIN = "undersigned.test"


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A fresh 2048-bit RSA key (its file) and the TXT record an operator would publish."""
    openssl = shutil.which("openssl")
    assert openssl, "the DKIM tests need the openssl command to make a key"
    key = tmp_path_factory.mktemp("dkim") / "private.pem"
    subprocess.run([openssl, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        [openssl, "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def signing(settings: Any, dkim_key: tuple[Path, bytes]) -> Any:
    settings.DKIM_KEY_FILE, settings.DKIM_SELECTOR, settings.DKIM_DOMAIN = str(dkim_key[0]), SELECTOR, DOMAIN
    return settings


def _verifies(raw: bytes, record: bytes) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        # The only name a verifier should look up: <selector>._domainkey.<domain>.
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return bool(dkim.verify(raw, dnsfunc=dns))


def _signed_headers(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    tags = re.sub(r"\s+", "", str(message["DKIM-Signature"]))
    found = re.search(r"(?:^|;)h=([^;]+)", tags)
    assert found, tags
    return found.group(1).split(":")


@pytest.mark.django_db
@pytest.mark.usefixtures("signing")
def test_every_kind_of_email_is_signed_and_verifies(
    campaign: Any, client: Client, smtp_sink: Any, dkim_key: tuple[Path, bytes], tmp_path: Path
) -> None:
    people = People(campaign, client)
    emails = people.emails(ISSUE_NAMES)
    assert mailers.default.send_messages([message for _, message, _ in emails]) == len(emails)
    received = [envelope.original_content for envelope in smtp_sink.messages]
    assert len(received) == 6
    for (kind, _, _), raw in zip(emails, received, strict=True):
        assert raw.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=undersigned.test;"), kind
        assert _verifies(raw, dkim_key[1]), kind
        signed = _signed_headers(raw)
        # Oversigned: each once more than present, so none can be added on the way.
        assert signed.count("from") == 2, kind
        assert signed.count("to") == 2, kind
        assert {"subject", "date", "message-id", "reply-to", "cc", "list-unsubscribe"} <= set(signed), kind
        if kind == "reply notification":  # RFC 8058: one-click unsubscribe needs both signed
            assert signed.count("list-unsubscribe") == 2
            assert signed.count("list-unsubscribe-post") == 2
        # Anything changed on the way breaks the signature.
        tampered = raw.replace(b"\r\nSubject: ", b"\r\nSubject: Re: ", 1)
        assert tampered != raw
        assert not _verifies(tampered, dkim_key[1]), kind
        added = raw.replace(b"\r\nSubject: ", b"\r\nTo: someone@elsewhere.example\r\nSubject: ", 1)
        assert not _verifies(added, dkim_key[1]), kind

    # The file backend writes the same signed bytes (with \n line ends, as Django does).
    with override_settings(MAILERS={"default": {"BACKEND": "undersigned.core.mailers.FileBackend",
                                                "OPTIONS": {"file_path": str(tmp_path)}}}):  # fmt: skip
        assert mailers.default.send_messages([message for _, message, _ in emails]) == len(emails)
    written = _file_messages(tmp_path)
    assert len(written) == 6
    for (kind, _, _), raw in zip(emails, written, strict=True):
        assert b"\r\n" not in raw
        assert _verifies(raw.replace(b"\n", b"\r\n"), dkim_key[1]), kind


@pytest.mark.django_db
@pytest.mark.usefixtures("signing")
def test_account_mail_from_allauth_is_signed_too(smtp_sink: Any, dkim_key: tuple[Path, bytes]) -> None:
    get_user_model().objects.create_user(username="ana", email="ana.ruiz@example.net", password="x" * 20)
    response = Client().post("/accounts/password/reset/", {"email": "ana.ruiz@example.net"})
    assert response.status_code == 302
    [envelope] = smtp_sink.messages
    raw = envelope.original_content
    assert _verifies(raw, dkim_key[1])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in message["From"].addresses] == [("Undersigned", f"letters@{DOMAIN}")]
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [("", "ana.ruiz@example.net")]


@pytest.mark.django_db(transaction=True)
def test_the_engine_signs_the_letters_a_worker_sends(
    campaign: Any, smtp_sink: Any, run_worker: Any, dkim_key: tuple[Path, bytes]
) -> None:
    """A real worker process, configured from the environment, sends a batch of signed letters."""
    recipient = campaign.recipients.first()
    recipient.name = ISSUE_NAMES["recipient"]
    recipient.save()
    for sender in ("Ana Ruiz", ISSUE_NAMES["supporter"], ISSUE_NAMES["endorser"]):
        letter = LetterFactory(campaign=campaign, sender_name=sender)
        record_delivery(letter=letter, recipient=recipient, channel=Channel.EMAIL, copy_to_sender=True)
    run_worker(
        UNDERSIGNED_SMTP_URL=smtp_sink.url,
        UNDERSIGNED_DKIM_KEY_FILE=str(dkim_key[0]),
        UNDERSIGNED_DKIM_SELECTOR=SELECTOR,
    )  # UNDERSIGNED_DKIM_DOMAIN: the mail domain by default
    assert len(smtp_sink.messages) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    for envelope in smtp_sink.messages:
        raw = envelope.original_content
        assert _verifies(raw, dkim_key[1])
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
            (ISSUE_NAMES["recipient"], recipient.email)
        ]
        assert len(message["Cc"].addresses) == 1


def test_without_a_key_nothing_is_signed(smtp_sink: Any, settings: Any) -> None:
    assert settings.DKIM_KEY_FILE == ""
    EmailMessage("Hello", "Body", f"letters@{DOMAIN}", ["ana@example.org"]).send()
    [envelope] = smtp_sink.messages
    assert b"DKIM-Signature" not in envelope.original_content


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UNDERSIGNED_DKIM_SELECTOR": SELECTOR}, "UNDERSIGNED_DKIM_KEY_FILE must be set too"),
        ({"UNDERSIGNED_DKIM_DOMAIN": DOMAIN}, "UNDERSIGNED_DKIM_KEY_FILE must be set too"),
        ({"UNDERSIGNED_DKIM_KEY_FILE": "KEY"}, "UNDERSIGNED_DKIM_SELECTOR must be set too"),
        (
            {"UNDERSIGNED_DKIM_KEY_FILE": "KEY", "UNDERSIGNED_DKIM_SELECTOR": "mail 2026"},
            "UNDERSIGNED_DKIM_SELECTOR must be a DNS label such as mail2026, not 'mail 2026'.",
        ),
        (
            {"UNDERSIGNED_DKIM_KEY_FILE": "KEY", "UNDERSIGNED_DKIM_SELECTOR": SELECTOR, "UNDERSIGNED_DKIM_DOMAIN": "x"},
            "UNDERSIGNED_DKIM_DOMAIN must be a domain name such as example.org, not 'x'.",
        ),
        (
            {"UNDERSIGNED_DKIM_KEY_FILE": "MISSING", "UNDERSIGNED_DKIM_SELECTOR": SELECTOR},
            "UNDERSIGNED_DKIM_KEY_FILE cannot be read: No such file or directory",
        ),
        (
            {"UNDERSIGNED_DKIM_KEY_FILE": "PUBLIC", "UNDERSIGNED_DKIM_SELECTOR": SELECTOR},
            "UNDERSIGNED_DKIM_KEY_FILE must hold an RSA private key in PEM form",
        ),
    ],
)
def test_bad_dkim_settings_stop_start_up_naming_the_variable(
    tmp_path: Path, dkim_key: tuple[Path, bytes], env: dict[str, str], message: str
) -> None:
    public = tmp_path / "public.txt"
    public.write_bytes(dkim_key[1])
    files = {"KEY": str(dkim_key[0]), "MISSING": str(tmp_path / "nothing.pem"), "PUBLIC": str(public)}
    env = {name: files.get(value, value) for name, value in env.items()}
    result = _check(tmp_path, UNDERSIGNED_SECRET_KEY=GOOD_KEY, UNDERSIGNED_MAIL_DOMAIN=DOMAIN, **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_good_dkim_settings_start(tmp_path: Path, dkim_key: tuple[Path, bytes]) -> None:
    result = _check(
        tmp_path,
        UNDERSIGNED_SECRET_KEY=GOOD_KEY,
        UNDERSIGNED_MAIL_DOMAIN=DOMAIN,
        UNDERSIGNED_DKIM_KEY_FILE=str(dkim_key[0]),
        UNDERSIGNED_DKIM_SELECTOR=SELECTOR,
    )
    assert result.returncode == 0, result.stderr
