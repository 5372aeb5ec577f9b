"""The SMTP receiver for the platform's inbound domain (``undersigned inbound``).

Three kinds of mail arrive, all at addresses the platform made itself (addresses.py):
copies of letters that supporters sent from their own mail app (``letters+…``, the BCC
in the mailto link), delivery status notifications for mail the platform sent
(``bounces+…``, its envelope sender) and replies supporters forward (``replies+…``).
Any other address is refused at RCPT, before a message is transferred, and so is any
message over the size limit, so the receiver never stores mail it has no use for. With a certificate and key configured
(``UNDERSIGNED_INBOUND_TLS_CERT``/``_KEY``) it offers STARTTLS, so copies of letters
and bounces travel encrypted from servers that support it; servers that don't can still
deliver in the clear, as is usual between mail servers. This module only speaks SMTP;
what a message means is decided by ``services.record_copy`` and
``services.record_bounce``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import weakref
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import close_old_connections, connections

from . import addresses, replies, services

logger = logging.getLogger(__name__)

# A letter is at most a few tens of kilobytes; 1 MiB leaves room for an HTML part and
# a mail app's signature image while keeping a flood of large messages cheap to refuse.
DEFAULT_MAX_SIZE = 1024 * 1024
# A copy goes to one letter's address and a bounce to one delivery's; a few more allow
# a supporter who sent one letter as two, and nothing like a mailing list.
MAX_RECIPIENTS = 5
# On SIGTERM, how long messages already being stored may take before we stop anyway
# (their senders then retry, and storing is idempotent).
SHUTDOWN_GRACE_SECONDS = 10.0

TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, please try again later"


class InboundHandler:
    """aiosmtpd handler: accepts our own addresses only and hands each message to services."""

    def __init__(self, *, max_recipients: int = MAX_RECIPIENTS) -> None:
        self.max_recipients = max_recipients
        self.in_flight = 0  # messages being stored right now, for a clean shutdown

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        # parse() checks the signature and the domain without the database, so refusing
        # costs nothing and nobody can make up an address for someone else's letter.
        if addresses.parse(address) is None:
            return "550 5.1.1 No such mailbox"
        if len(envelope.rcpt_tos) >= self.max_recipients:
            # RFC 5321 §4.5.3.1.10: the sender delivers the rest in another transaction.
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        targets = _targets(envelope.rcpt_tos)
        message = bytes(envelope.original_content or b"")
        self.in_flight += 1
        try:
            # The ORM is synchronous: run it in a thread so one slow database write never
            # stalls the other SMTP sessions on this event loop.
            await asyncio.to_thread(_store, targets, message)
        except Exception as exc:
            # 451 makes the sending server keep the message and try again later, so a
            # database outage loses no copy or bounce. Log ids and the error's type only:
            # a database error's text can quote the letter.
            logger.error(
                "inbound mail for %s not stored (%s); sender asked to retry", _ids(targets), type(exc).__name__
            )
            return TEMPORARY_FAILURE
        finally:
            self.in_flight -= 1
        logger.info("inbound mail for %s stored", _ids(targets))
        return "250 2.0.0 OK"

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd would otherwise answer "500" with the exception's text and log it with
        # the peer's address; tell the sender to retry and log only what went wrong.
        logger.error("inbound SMTP session error (%s)", type(error).__name__)
        return TEMPORARY_FAILURE


def _targets(recipients: list[str]) -> list[tuple[str, int]]:
    # Each address was checked at RCPT; the same address twice is stored once.
    found: list[tuple[str, int]] = []
    for address in recipients:
        parsed = addresses.parse(address)
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return found


def _ids(targets: list[tuple[str, int]]) -> str:
    return ", ".join(f"{'letter' if kind == 'letters' else 'delivery'} {number}" for kind, number in targets)


def _store(targets: list[tuple[str, int]], message: bytes) -> None:
    close_old_connections()
    try:
        for kind, number in targets:
            if kind == "letters":
                services.record_copy(letter_id=number, message=message)
            elif kind == "replies":
                replies.record_inbound_reply(delivery_id=number, message=message)
            else:
                services.record_bounce(delivery_id=number, message=message)
    finally:
        # This thread belongs to the event loop's executor, not to a request, so nothing
        # else would ever close its connection: an idle one left open holds a PostgreSQL
        # slot (and blocks DROP DATABASE in tests). Inbound mail is a trickle, so a new
        # connection per message costs little.
        connections.close_all()


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The server side of STARTTLS from a PEM certificate (chain) and its key.

    Raises OSError when a file can't be read, ssl.SSLError when they are no certificate
    and key, or don't belong together.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def _smtp_options(max_size: int, tls: ssl.SSLContext | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "data_size_limit": max_size,
        # Our addresses are ASCII, but a supporter's own address (MAIL FROM) may not be.
        "enable_SMTPUTF8": True,
        "ident": "Undersigned inbound",  # not aiosmtpd's name and version
    }
    if tls is not None:
        # Offered, not required: a sending server without TLS must still be able to
        # deliver a bounce or a copy (RFC 3207 §4: publicly referenced servers).
        options.update(tls_context=tls, require_starttls=False)
    return options


def _keep_addresses_out_of_logs() -> None:
    # aiosmtpd logs every sender and recipient address and the peer's IP at INFO, and
    # unrecognised commands at WARNING; our own log says what happened, by id.
    logging.getLogger("mail.log").setLevel(logging.ERROR)


def make_controller(
    host: str,
    port: int,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    handler: InboundHandler | None = None,
    tls: ssl.SSLContext | None = None,
) -> Any:
    """An aiosmtpd ``Controller`` running the receiver in a thread: ``start()`` it, ``stop()`` it.

    For tests and for embedding; ``serve`` is what the command runs.
    """
    _keep_addresses_out_of_logs()
    return Controller(
        handler or InboundHandler(),
        hostname=host,
        port=port,
        server_hostname=settings.INBOUND_DOMAIN,
        **_smtp_options(max_size, tls),
    )


def serve(
    *,
    host: str,
    port: int,
    max_size: int = DEFAULT_MAX_SIZE,
    tls: ssl.SSLContext | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Receive mail on host:port until SIGTERM or SIGINT, then finish what is in hand and return.

    With ``tls``, STARTTLS is offered. Raises OSError when the address can't be bound.
    """
    _keep_addresses_out_of_logs()
    asyncio.run(_serve(host=host, port=port, max_size=max_size, tls=tls, on_ready=on_ready))


async def _serve(
    *, host: str, port: int, max_size: int, tls: ssl.SSLContext | None, on_ready: Callable[[], None] | None
) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    handler = InboundHandler()
    sessions: weakref.WeakSet[Any] = weakref.WeakSet()

    def new_session() -> Any:
        session = SMTP(handler, hostname=settings.INBOUND_DOMAIN, loop=loop, **_smtp_options(max_size, tls))
        sessions.add(session)
        return session

    server = await loop.create_server(new_session, host=host, port=port)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        if on_ready is not None:
            on_ready()
        await stopping.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        server.close()  # no new connections from here on
        # Let messages being stored finish, so their senders get their answer.
        deadline = loop.time() + SHUTDOWN_GRACE_SECONDS
        while handler.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        # Idle sessions (a sender between messages) would hold wait_closed() open for
        # up to aiosmtpd's 5-minute timeout; they can reconnect to the next instance.
        for session in list(sessions):
            if session.transport is not None:
                session.transport.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=5)
