"""Browser tests: Chromium driven by Playwright against pytest-django's live server.

Chromium comes from the system (``apt-get install -y chromium``), never from
``playwright install``. ``UNDERSIGNED_CHROMIUM`` points at another binary. Without
Chromium the browser tests are skipped on a developer's machine and fail on CI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, expect, sync_playwright

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.letters.links import sign_token

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}
# For actions and expectations: generous for a loaded CI machine; they still finish as soon as they hold.
TIMEOUT_MS = 15_000
PHONE = {"width": 375, "height": 812}
# Screenshots for a person to look at, when asked for (never in the repository).
SHOTS = os.environ.get("UNDERSIGNED_SCREENSHOTS", "")


def screenshot(page: Page, name: str) -> None:
    """The whole page as ``name`` in the folder UNDERSIGNED_SCREENSHOTS names, if it is set."""
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


ContextFactory = Callable[..., BrowserContext]


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def chromium_path() -> str:
    """The Chromium binary to drive; skips (or fails on CI) when there is none."""
    path = os.environ.get("UNDERSIGNED_CHROMIUM") or DEFAULT_CHROMIUM
    if Path(path).is_file() and os.access(path, os.X_OK):
        return path
    message = (
        f"Chromium not found at {path}. Install it with `apt-get install -y chromium` "
        "(or point UNDERSIGNED_CHROMIUM at a Chromium binary); never `playwright install`."
    )
    if _on_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all browser tests.

    Package scope, not session scope: Playwright's sync API keeps an asyncio loop
    running while it is started, and Django refuses database access from the main
    thread while a loop runs. ``DJANGO_ALLOW_ASYNC_UNSAFE`` allows it, so it is set
    only while the browser is up and Chromium is stopped as soon as the browser tests
    are done, leaving the rest of the suite with Django's usual safety check.
    """
    executable = chromium_path()
    expect.set_options(timeout=TIMEOUT_MS)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageProblems:
    """What went wrong in a context's pages beyond what a test looks at.

    Stylesheets, scripts, images or fonts that fail to load, uncaught script errors and
    Content Security Policy refusals all leave a page that looks fine to a test's
    locators and broken to a person.
    """

    ASSETS = frozenset({"stylesheet", "script", "image", "font"})

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[str] = []
        context.on("response", self._response)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"script error: {error.error}"))

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type in self.ASSETS:
            self.problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")


@pytest.fixture
def new_context(django_db_setup: None, browser: Browser, live_server: Any) -> Iterator[ContextFactory]:
    """Open browser contexts on the live server; all are closed after the test.

    ``django_db_setup`` comes first on purpose: the session-scoped live server must start
    after the test database exists. Started before it, the server does not share the
    in-memory SQLite test database's connection; each request thread then opens its own
    connection, which is never closed (a ResourceWarning, an error under our settings).

    Keyword arguments go to ``Browser.new_context`` (e.g. ``java_script_enabled=False``,
    ``viewport={"width": 375, "height": 800}``, ``bypass_csp=True``). The test fails if
    a page of the context had a missing asset, a script error or a CSP refusal, unless
    the context was made with ``expect_problems=True``.
    """
    watched: list[PageProblems] = []
    contexts: list[BrowserContext] = []

    def make(*, expect_problems: bool = False, **options: Any) -> BrowserContext:
        options.setdefault("base_url", live_server.url)
        options.setdefault("bypass_csp", False)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if not expect_problems:
            watched.append(PageProblems(context))
        return context

    yield make
    for context in contexts:
        context.close()
    problems = [problem for recorder in watched for problem in recorder.problems]
    if problems:
        pytest.fail("The browser saw problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page(new_context: ContextFactory) -> Page:
    """A page under the site's real Content Security Policy."""
    return new_context().new_page()


@pytest.fixture
def axe_page(new_context: ContextFactory) -> Page:
    """A page whose context ignores the site's CSP, so ``axe_check`` can inject axe-core.

    Our CSP allows scripts only from 'self' or with the per-response nonce, so the
    inline script tag that ``page.add_script_tag(content=...)`` adds is refused
    without ``bypass_csp=True``.
    """
    return new_context(bypass_csp=True).new_page()


def axe_check(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page; return the serious and critical violations.

    The page's context must have been made with ``bypass_csp=True`` (see ``axe_page``).
    """
    if not AXE_SCRIPT.is_file():
        message = f"axe-core is missing at {AXE_SCRIPT}; run `npm ci` at the repository root."
        if _on_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    page.add_script_tag(content=AXE_SCRIPT.read_text(encoding="utf-8"))
    if not page.evaluate("() => typeof window.axe === 'object'"):
        pytest.fail("axe-core did not load: is the page's context made with bypass_csp=True?", pytrace=False)
    result = page.evaluate(
        """async (tags) => await window.axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """A readable list of axe violations for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = json.dumps(node["target"], ensure_ascii=False)
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def assert_no_serious_violations(page: Page) -> None:
    violations = axe_check(page)
    assert not violations, f"axe-core found problems on {page.url}:\n{describe_violations(violations)}"


@pytest.fixture
def live_campaign(organisation: Any) -> Any:
    """A live campaign with one recipient who can be written to by every channel."""
    recipient = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    return CampaignFactory(organisation=organisation, slug="keep-the-riverside-path-open", recipients=[recipient])


@pytest.fixture
def saved_letter(live_campaign: Any) -> Any:
    """A letter saved from the composer but not sent yet."""
    return LetterFactory(
        campaign=live_campaign,
        supporter__email="siobhan.obrien@example.ie",
        supporter__name="Siobhán O'Brien",
        sender_name="Siobhán O'Brien",
        sender_town="Cork",
        sender_country="IE",
        sender_address="4 Shandon Street\nCork\nT23 AB12",
    )


def letter_path(letter: Any) -> str:
    """The path of a letter's send page, as the composer's redirect gives it."""
    return reverse("public:letter", args=[sign_token(letter.token)])


@pytest.fixture
def organiser_page(new_context: ContextFactory, live_server: Any, organiser: Any) -> Callable[..., Page]:
    """Pages of a browser signed in as the organiser (``new_context``'s options apply).

    The browser carries the session of a Django test client logged in with
    ``force_login``, so no test depends on the sign-in form.
    """

    def make(**options: Any) -> Page:
        context = new_context(**options)
        client = Client()
        client.force_login(organiser)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        return context.new_page()

    return make
