from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connection

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
    ``on_message``, when set, is called (in the server's thread) as each message
    arrives, before the server answers: a test can look at the sender's state there.
    """

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.answer: str | None = None
        self.on_message: Callable[[], None] | None = None
        self.url = ""  # for worker processes: UNDERSIGNED_SMTP_URL

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.on_message is not None:
            self.on_message()
        if self.answer:
            return self.answer
        self.messages.append(envelope)
        return "250 2.0.0 Accepted"

    def parsed(self) -> list[Any]:
        return [BytesParser(policy=policy.default).parsebytes(m.original_content) for m in self.messages]


@pytest.fixture
def smtp_sink(settings: Any) -> Any:
    """Start an SMTP server and point the platform's default mailer at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink()
    sink.url = f"smtp://127.0.0.1:{port}"
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "undersigned.core.mailers.SmtpBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()


def database_url() -> str:
    """The URL of the database this test runs on, for processes the test starts."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def run_worker(transactional_db: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a real task worker process (`undersigned worker --batch`) on the test database.

    Tests that use it need committed data, hence ``transactional_db``; pass environment
    variables such as ``UNDERSIGNED_SMTP_URL=smtp_sink.url`` as keywords.
    """

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "DATABASE_URL": database_url(), **env}
        return subprocess.run(
            [sys.executable, "-m", "undersigned.cli", "worker", "--batch"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )

    return run


# Fixtures that give a test the database (and so the database cache).
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> None:
    """Each test starts with an empty cache: rate-limit counts never leak between tests.

    The default cache is a table in the test database. A test's transaction rolls back
    what it wrote, but a transactional test's rows stay (Django's flush empties model
    tables only), and Redis keeps everything: so the cache is cleared before each test.
    A test without the database cannot use the database cache, and is left alone.
    """
    if isinstance(caches["default"], DjangoDatabaseCache):
        uses_database = request.node.get_closest_marker("django_db") is not None
        if not uses_database and not _DATABASE_FIXTURES & set(request.fixturenames):
            return
        # The database first (a transactional one when the test asked for it), so the
        # clearing happens inside the test's own database.
        request.getfixturevalue("db")
    caches["default"].clear()
