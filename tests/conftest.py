from __future__ import annotations

from typing import Any

import pytest

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory


@pytest.fixture
def organisation(db: Any) -> Any:
    return OrganisationFactory(slug="friends-of-the-wend")


@pytest.fixture
def organiser(organisation: Any) -> Any:
    """A member who runs campaigns for the organisation, with admin access."""
    user = UserFactory(username="organiser", is_staff=True, is_superuser=True)
    MembershipFactory(organisation=organisation, user=user)
    return user


@pytest.fixture
def stranger(db: Any) -> Any:
    """A signed-in person with no membership anywhere."""
    return UserFactory(username="stranger")


@pytest.fixture
def campaign(organisation: Any) -> Any:
    return CampaignFactory(organisation=organisation, slug="keep-the-riverside-path-open")


class SmtpSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives.

    ``answer`` lets a test make the server refuse the next messages with a given SMTP
    reply, e.g. "451 4.3.0 Try again later" or "550 5.1.1 No such user".
    """

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.answer: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.answer:
            return self.answer
        self.messages.append(envelope)
        return "250 2.0.0 Accepted"

    def parsed(self) -> list[Any]:
        from email import policy
        from email.parser import BytesParser

        return [BytesParser(policy=policy.default).parsebytes(m.original_content) for m in self.messages]


@pytest.fixture
def smtp_sink(settings: Any) -> Any:
    """Start an SMTP server and point the platform's default mailer at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()
