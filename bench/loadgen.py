"""A small HTTP/1.1 load generator on asyncio sockets that behaves like a browser.

Each virtual user has its own connection and cookie jar, reads the pages it is served
(CSRF token, hidden fields, the letter's text) and posts the form back, so the server
does the work it does for a person: a GET of the form, then a POST. gunicorn's sync
workers close every connection after one response; the client reconnects as a browser
would. Only 127.0.0.1 is ever contacted, and every loop stops at a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from benchkit import LOOPBACK, PageError, csrf_token, input_value, percentile, textarea_value

REQUEST_TIMEOUT = 30.0
# Sent with every request when set (letters.py --accept-language): the pages in that language.
ACCEPT_LANGUAGE = ""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class HTTPError(Exception):
    """The server answered something a browser would not accept here."""


class Browser:
    """One virtual user: a connection (reopened when the server closes it) and a cookie jar."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"{LOOPBACK}:{port}"
        self.origin = f"http://{self.host}"
        self.cookies: dict[str, str] = {}
        self.requests = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post(self, path: str, fields: list[tuple[str, str]]) -> Response:
        body = urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.origin,
            "Referer": self.origin + path,
        }
        return await self.request("POST", path, headers, body)

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}",
            "User-Agent: undersigned-bench/1",
            "Accept: text/html,application/xhtml+xml",
            "Accept-Encoding: identity",
            "Connection: keep-alive",
        ]
        if ACCEPT_LANGUAGE:
            lines.append(f"Accept-Language: {ACCEPT_LANGUAGE}")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        async with asyncio.timeout(REQUEST_TIMEOUT):
            response = await self._exchange(raw)
        self.requests += 1
        for cookie in response.header_all("set-cookie"):
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0].strip()
        return response

    async def _exchange(self, raw: bytes) -> Response:
        reused = self._writer is not None
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(LOOPBACK, self.port)
        assert self._reader is not None
        try:
            self._writer.write(raw)
            await self._writer.drain()
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            if not reused:
                raise
            # The server closed an idle keep-alive connection: a browser retries on a new one.
            return await self._exchange(raw)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = []
        for line in header_lines:
            if line:
                key, _, value = line.partition(":")
                headers.append((key.strip().lower(), value.strip()))
        response = Response(status, headers, b"")
        response.body = await self._read_body(response)
        if (response.header("connection") or "").lower() == "close":
            await self.close()
        return response

    async def _read_body(self, response: Response) -> bytes:
        assert self._reader is not None
        length = response.header("content-length")
        if length is not None:
            return await self._reader.readexactly(int(length))
        if (response.header("transfer-encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self._reader.readuntil(b"\r\n")
                    return b"".join(chunks)
                chunks.append(await self._reader.readexactly(size))
                await self._reader.readexactly(2)
        if response.status in (204, 304) or 100 <= response.status < 200:
            return b""
        body = await self._reader.read()
        await self.close()
        return body


# --- What a virtual user does, once per loop -------------------------------------------------------
# A flow takes a browser and a sequence number and returns the latency (seconds) of the
# request that is being measured; it raises on anything a browser would not accept.
Flow = Callable[[Browser, int], Awaitable[float]]

PERSONAL = [
    "I walk my daughter to school along the path every morning; the ring road has no pavement at all.",
    "My father uses a mobility scooter and the path is the only route to the shops he can manage.",
    "I cycle to work at Old Quay. On the ring road lorries pass within a metre of me.",
    "Our running club meets on the path every Saturday, and sixty of us would have nowhere safe to go.",
    "I moved to Eastfield because the school was a safe walk away. Three years is a whole childhood stage.",
]


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def product_submit(compose_path: str, vu: int) -> Flow:
    """GET the composer, make the letter personal, POST it with action=continue; time the POST."""
    run = secrets.token_hex(3)

    async def flow(browser: Browser, n: int) -> float:
        page = await browser.get(compose_path)
        if page.status != 200:
            raise HTTPError(f"composer GET answered {page.status}")
        text = page.text
        body = textarea_value(text, "body") + "\n\n" + random.choice(PERSONAL) + f" (Letter {n}.)"
        fields = [
            ("csrfmiddlewaretoken", csrf_token(text)),
            ("submission_key", input_value(text, "submission_key")),
            ("name", f"Bench Supporter {vu}-{n}"),
            ("email", f"bench-{run}-{vu}-{n}@example.net"),
            ("town", "Wendmouth"),
            ("country", "GB"),
            ("postal_address", ""),
            ("subject", input_value(text, "subject")),
            ("body", _crlf(body)),
            ("homepage", ""),  # the abuse layer's honeypot, left empty as a person leaves it
            ("form_started", input_value(text, "form_started")),
            ("action", "continue"),
        ]
        started = time.perf_counter()
        answer = await browser.post(compose_path, fields)
        elapsed = time.perf_counter() - started
        location = answer.header("location") or ""
        if answer.status != 302 or not location.startswith("/l/"):
            raise HTTPError(f"composer POST answered {answer.status} {location[:20]}")
        return elapsed

    return flow


_PDF_LINK = re.compile(r'href="([^"]*letter\.pdf\?recipient=\d+&amp;paper=a4)"')


def product_pdf(compose_path: str, vu: int) -> Flow:
    """Write one letter with a postal address, then download its print-ready PDF again and again; time the PDF."""
    pdf: list[str] = []  # the letter's PDF address once written

    async def flow(browser: Browser, n: int) -> float:
        if not pdf:
            page = await browser.get(compose_path)
            text = page.text
            fields = [
                ("csrfmiddlewaretoken", csrf_token(text)),
                ("submission_key", input_value(text, "submission_key")),
                ("name", f"Bench Poster {vu}"),
                ("email", f"bench-pdf-{secrets.token_hex(4)}-{vu}@example.net"),
                ("town", "Wendmouth"),
                ("country", "GB"),
                ("postal_address", "12 Eastfield Road\r\nWendmouth\r\nWM2 3BB"),
                ("subject", input_value(text, "subject")),
                ("body", _crlf(textarea_value(text, "body") + "\n\n" + random.choice(PERSONAL))),
                ("homepage", ""),
                ("form_started", input_value(text, "form_started")),
                ("action", "continue"),
            ]
            answer = await browser.post(compose_path, fields)
            link = answer.header("location") or ""
            if answer.status != 302 or not link.startswith("/l/"):
                raise HTTPError(f"composer POST answered {answer.status}")
            page = await browser.get(link)
            found = _PDF_LINK.search(page.text)
            if found is None:
                raise PageError(f"no A4 PDF link on the letter page ({page.status})")
            pdf.append(html.unescape(found.group(1)))
        started = time.perf_counter()
        answer = await browser.get(pdf[0])
        elapsed = time.perf_counter() - started
        if answer.status != 200 or not answer.body.startswith(b"%PDF"):
            raise HTTPError(f"letter.pdf answered {answer.status}")
        return elapsed

    return flow


def product_endorse(endorse_path: str, vu: int) -> Flow:
    """GET an open letter's endorsement form, fill it in as a person would, POST it; time the POST.

    A 302 to the "check your email" page is an endorsement accepted (its confirmation
    email queued for the worker, not sent in the request).
    """
    run = secrets.token_hex(3)

    async def flow(browser: Browser, n: int) -> float:
        page = await browser.get(endorse_path)
        if page.status != 200:
            raise HTTPError(f"endorse GET answered {page.status}")
        text = page.text
        fields = [
            ("csrfmiddlewaretoken", csrf_token(text)),
            ("form_started", input_value(text, "form_started")),
            ("homepage", ""),
            ("kind", "person"),
            ("name", f"Bench Endorser {vu}-{n}"),
            ("role", "Trustee"),
            ("organisation", "Wendmouth Walking Club"),
            ("signatory", ""),
            ("website", ""),
            ("country", "IE"),
            ("statement", random.choice(PERSONAL)[:200]),
            ("email", f"bench-{run}-{vu}-{n}@example.net"),
            ("show_publicly", "on"),
        ]
        started = time.perf_counter()
        answer = await browser.post(endorse_path, fields)
        elapsed = time.perf_counter() - started
        location = answer.header("location") or ""
        if answer.status != 302 or not location.endswith("/endorse/sent/"):
            raise HTTPError(f"endorse POST answered {answer.status} {location[:30]}")
        return elapsed

    return flow


def reference_submit(form_path: str, vu: int) -> Flow:
    """The bare reference: GET a small form, POST three fields; time the POST."""
    run = secrets.token_hex(3)

    async def flow(browser: Browser, n: int) -> float:
        page = await browser.get(form_path)
        if page.status != 200:
            raise HTTPError(f"form GET answered {page.status}")
        fields = [
            ("csrfmiddlewaretoken", csrf_token(page.text)),
            ("name", f"Bench Supporter {vu}-{n}"),
            ("email", f"bench-{run}-{vu}-{n}@example.net"),
            ("message", _crlf("Dear Councillor,\n\n" + random.choice(PERSONAL) + f" (Note {n}.)")),
        ]
        started = time.perf_counter()
        answer = await browser.post(form_path, fields)
        elapsed = time.perf_counter() - started
        if answer.status != 302:
            raise HTTPError(f"form POST answered {answer.status}")
        return elapsed

    return flow


def page_get(path: str, vu: int) -> Flow:
    """A first-time visitor reading a page (no cookies); time the GET."""
    del vu

    async def flow(browser: Browser, n: int) -> float:
        del n
        browser.cookies.clear()
        started = time.perf_counter()
        answer = await browser.get(path)
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            raise HTTPError(f"GET answered {answer.status}")
        return elapsed

    return flow


@dataclass
class PhaseResult:
    name: str
    seconds: float
    ok: int
    requests: int
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def latency_ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


async def _run(port: int, make_flow: Callable[[int], Flow], connections: int, duration: float) -> PhaseResult:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    browsers = [Browser(port) for _ in range(connections)]
    counter = itertools.count()
    started = time.perf_counter()
    deadline = started + duration

    async def user(vu: int, browser: Browser) -> None:
        flow = make_flow(vu)
        while time.perf_counter() < deadline:
            try:
                latencies.append(await flow(browser, next(counter)))
            except (OSError, TimeoutError, asyncio.IncompleteReadError, HTTPError, PageError, ValueError) as exc:
                errors[f"{type(exc).__name__}: {exc}"[:90]] += 1
                await browser.close()
                await asyncio.sleep(0.01)  # no tight loop when the server is down

    try:
        await asyncio.gather(*(user(vu, browser) for vu, browser in enumerate(browsers)))
    finally:
        for browser in browsers:
            await browser.close()
    seconds = time.perf_counter() - started
    latencies.sort()
    return PhaseResult(
        name="",
        seconds=seconds,
        ok=len(latencies),
        requests=sum(b.requests for b in browsers),
        latencies=latencies,
        errors=errors,
    )


def run_phase(port: int, make_flow: Callable[[int], Flow], *, connections: int, duration: float) -> PhaseResult:
    """Run ``connections`` virtual users for ``duration`` seconds (each finishes its current loop)."""
    return asyncio.run(_run(port, make_flow, connections, duration))
