"""``undersigned inbound``: receive mailto copies and bounces for the inbound domain over SMTP."""

from __future__ import annotations

import ssl
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from undersigned.delivery.inbound import DEFAULT_MAX_SIZE, serve, tls_context

# Below this even a bounce (the report plus the original's headers) would not fit.
MIN_SIZE = 16 * 1024


def parse_bind(value: str) -> tuple[str, int]:
    """("127.0.0.1", 2525) from "127.0.0.1:2525"; IPv6 hosts in brackets: "[::1]:2525"."""
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind must look like HOST:PORT, e.g. 127.0.0.1:2525, not {value!r}.")
    return host, int(port)


class Command(BaseCommand):
    help = (
        "Receive copies of letters sent from supporters' mail apps (the BCC in mailto links) "
        "and bounces of platform email, over SMTP for the inbound domain (undersigned inbound)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:2525", help="HOST:PORT to listen on (default 127.0.0.1:2525)")
        parser.add_argument(
            "--max-size",
            type=int,
            default=DEFAULT_MAX_SIZE,
            metavar="BYTES",
            help=f"refuse messages larger than this (default {DEFAULT_MAX_SIZE}, 1 MiB)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_bind(options["bind"])
        max_size: int = options["max_size"]
        if max_size < MIN_SIZE:
            raise CommandError(f"--max-size must be at least {MIN_SIZE} bytes, not {max_size}.")

        tls = _tls()

        def ready() -> None:
            offered = ", STARTTLS offered" if tls is not None else ""
            self.stdout.write(
                f"Receiving mail for {settings.INBOUND_DOMAIN} on {options['bind']} "
                f"(at most {max_size} bytes a message{offered}). SIGTERM or Ctrl-C stops."
            )
            self.stdout.flush()

        try:
            serve(host=host, port=port, max_size=max_size, tls=tls, on_ready=ready)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['bind']}: {exc.strerror or exc}") from None
        self.stdout.write("Stopped.")


def _tls() -> ssl.SSLContext | None:
    """STARTTLS from UNDERSIGNED_INBOUND_TLS_CERT and _KEY, if set (settings require both or neither)."""
    cert, key = settings.INBOUND_TLS_CERT, settings.INBOUND_TLS_KEY
    if not cert:
        return None
    try:
        return tls_context(cert, key)
    except ssl.SSLError as exc:
        raise CommandError(
            "UNDERSIGNED_INBOUND_TLS_CERT and UNDERSIGNED_INBOUND_TLS_KEY must be a PEM certificate "
            f"and its private key: {exc.reason or exc}"
        ) from None
    except OSError as exc:  # after SSLError, which is an OSError too
        raise CommandError(
            f"Cannot read the TLS certificate or key (UNDERSIGNED_INBOUND_TLS_CERT, UNDERSIGNED_INBOUND_TLS_KEY): "
            f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"
        ) from None
