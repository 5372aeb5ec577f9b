"""Private links stay private: no token in any log line; personal pages are neither kept nor indexed."""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config
from gunicorn.glogging import Logger

from undersigned.core import log_redaction
from undersigned.core.log_redaction import REDACTED, RedactTokens, redact

from .conftest import Route, Site, all_routes

pytestmark = pytest.mark.django_db


def tokenised_routes() -> list[Route]:
    """The URL patterns whose parameters are secrets, as the log filter itself decides."""
    return [route for route in all_routes() if log_redaction.secret_names(route.route)]


def tokenised_urls(site: Site) -> list[tuple[Route, str, list[str]]]:
    """Each tokenised pattern with this site's values, and the secrets its URL carries."""
    urls = []
    for route in tokenised_routes():
        kwargs = site.kwargs_for(route)
        # The admin's and allauth's parameters are filled with short ids ("1"), which would be
        # found anywhere in a traceback; every real token is long.
        secret = [str(kwargs[name]) for name in log_redaction.secret_names(route.route) if len(str(kwargs[name])) > 8]
        urls.append((route, reverse(route.name, kwargs=kwargs), secret))
    # A draft travels in the query string.
    compose = next(route for route in all_routes() if route.name == "public:compose")
    urls.append((compose, reverse("public:compose", args=[site.campaign.slug]) + f"?draft={site.letter_link}", []))
    urls[-1][2].append(site.letter_link)
    return urls


def assert_no_secret_logged(caplog: Any, secrets: list[str]) -> None:
    assert caplog.records, "nothing was logged: the request did not fail as the test meant"
    for record in caplog.records:
        shown = record.getMessage() + repr(record.args) + caplog.text
        for secret in secrets:
            assert secret not in shown, f"{record.name}: {record.getMessage()}"


def test_the_walk_finds_every_private_link() -> None:
    names = {route.name for route in tokenised_routes()}
    assert {
        "public:letter",
        "public:letter_address",
        "public:letter_pdf",
        "public:letter_send",
        "public:letter_post_for_me",
        "public:thanks",
        "public:read_letter",
        "public:comment_confirm",
        "public:comment_unsubscribe",
        "public:update_unsubscribe",
        "openletters:confirm",
        "openletters:withdraw",
        "account_confirm_email",
        "account_reset_password_from_key",
        "dashboard:invitation",
    } <= names
    # Public ids (slugs, numbers) are not secrets.
    assert "public:campaign" not in names
    assert "public:comment_report" not in names


def test_a_csrf_failure_logs_no_token(site: Site, caplog: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    caplog.set_level(logging.DEBUG)
    checked = 0
    for route, url, secrets in tokenised_urls(site):
        if getattr(route.callback, "csrf_exempt", False):
            continue  # one-click unsubscribe: the token is the proof (RFC 8058)
        caplog.clear()
        response = client.post(url, {"name": "Ana Ruiz"})
        assert response.status_code == 403, url
        assert_no_secret_logged(caplog, secrets)
        if any(secret in url.partition("?")[0] for secret in secrets):
            csrf = [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]
            assert len(csrf) == 1, url
            assert csrf[0].startswith("Forbidden (CSRF cookie not set.): /"), csrf
            assert REDACTED in csrf[0], csrf
        checked += 1
    assert checked >= 14


class FailInView:
    """A middleware that makes every view fail with the full path in the exception's text."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        raise RuntimeError(f"the database went away while serving {request.get_full_path()}")


def test_a_server_error_logs_no_token(site: Site, caplog: Any, settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.web.test_private_pages.FailInView"]
    client = Client(raise_request_exception=False)
    client.force_login(site.organiser)
    caplog.set_level(logging.DEBUG)
    for _route, url, secrets in tokenised_urls(site):
        caplog.clear()
        assert client.get(url).status_code == 500, url
        assert_no_secret_logged(caplog, secrets)
        errors = [r for r in caplog.records if r.name == "django.request"]
        assert [r.levelname for r in errors] == ["ERROR"], url
        assert errors[0].getMessage().startswith("Internal Server Error: /"), url
        assert "RuntimeError: the database went away while serving /" in caplog.text


def test_a_failing_query_in_the_letter_page_logs_no_token(
    site: Site, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(link: str) -> Any:
        raise RuntimeError(f"could not read letter {link}")

    monkeypatch.setattr("undersigned.public.views.letter_from_link", fail)
    client = Client(raise_request_exception=False)
    caplog.set_level(logging.DEBUG)
    url = reverse("public:letter", args=[site.letter_link])
    assert client.get(url).status_code == 500
    assert_no_secret_logged(caplog, [site.letter_link])
    assert f"RuntimeError: could not read letter {REDACTED}" in caplog.text
    assert f"Internal Server Error: /l/{REDACTED}/" in caplog.text


def test_redaction_keeps_what_is_not_secret() -> None:
    assert redact("Forbidden (CSRF token missing.): /c/keep-the-path/write/?draft=abc.def&page=2") == (
        f"Forbidden (CSRF token missing.): /c/keep-the-path/write/?draft={REDACTED}&page={REDACTED}"
    )
    assert redact("GET http://testserver/l/abcdefgh:xyz/send/ 403") == f"GET http://testserver/l/{REDACTED}/send/ 403"
    assert redact("/d/12/report/34/ and /open-letters/walkers/withdraw/9:s3cr3tvalue/") == (
        f"/d/12/report/34/ and /open-letters/walkers/withdraw/{REDACTED}/"
    )
    assert redact("letter 42 sent to recipient 7") == "letter 42 sent to recipient 7"


def test_the_console_handler_redacts_other_loggers_too(settings: Any) -> None:
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact_tokens"]
    record = logging.LogRecord("somewhere", logging.WARNING, __file__, 1, "slow page %s", ("/r/abcdefgh:sig/",), None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == f"slow page /r/{REDACTED}/"


def test_a_web_workers_own_errors_log_no_token(site: Site, settings: Any, capfd: Any) -> None:
    """gunicorn sets its error log up first; Django's settings, loaded in the worker after, take it over."""
    root, error_log = logging.getLogger(), logging.getLogger("gunicorn.error")
    kept = (root.handlers[:], error_log.handlers[:], error_log.filters[:], error_log.propagate, error_log.level)
    try:
        Logger(Config())  # the handlers gunicorn gives "gunicorn.error" in a worker
        logging.config.dictConfig(settings.LOGGING)
        path = reverse("public:letter_send", args=[site.letter_link])
        error_log.error("Error handling request %s", path)
        written = capfd.readouterr().err
    finally:
        # The handlers made here write to this test's captured stderr, closed after it.
        root.handlers[:], error_log.handlers[:], error_log.filters[:] = kept[0], kept[1], kept[2]
        error_log.propagate, error_log.level = kept[3], kept[4]
    assert "Error handling request /l/[redacted]/send/" in written
    assert site.letter_link not in written


PERSONAL = {
    "public:letter",
    "public:letter_pdf",
    "public:thanks",
    "public:read_letter",
    "public:comment_confirm",
    "public:comment_unsubscribe",
    "public:update_unsubscribe",
    "openletters:confirm",
    "openletters:withdraw",
    "dashboard:invitation",  # the invited address
}


def assert_personal(response: Any, url: str) -> None:
    assert response.headers.get("Cache-Control") == "private, no-store", url
    assert response.headers.get("X-Robots-Tag") == "noindex", url


def test_pages_with_personal_data_are_neither_kept_nor_indexed(client: Client, site: Site) -> None:
    for route in all_routes():
        if route.name in PERSONAL:
            url = reverse(route.name, kwargs=site.kwargs_for(route))
            response = client.get(url + (f"?recipient={site.delivery.recipient_id}" if "pdf" in url else ""))
            assert response.status_code == 200, url
            assert_personal(response, url)
    # A draft in the composer, and what was typed shown again.
    compose = reverse("public:compose", args=[site.campaign.slug])
    assert_personal(client.get(f"{compose}?draft={site.letter_link}"), compose)
    assert_personal(client.post(compose, {"action": "continue", "name": "Ana Ruiz"}), compose)
    # A broken private link is marked too: it is still somebody's link.
    assert_personal(client.get(reverse("public:letter", args=["not-a-link"])), "broken link")
    # The campaign itself is the same for everyone.
    assert client.get(reverse("public:campaign", args=[site.campaign.slug])).headers.get("X-Robots-Tag") is None


def test_every_dashboard_page_is_personal(client: Client, site: Site, settings: Any) -> None:
    settings.DEMO_MODE = True  # the mailbox exists only in demo mode
    client.force_login(site.organiser)
    checked = 0
    for route in all_routes():
        if route.name.startswith("dashboard:"):
            url = reverse(route.name, kwargs=site.kwargs_for(route))
            response = client.get(url)
            if response.status_code not in (404, 405):  # POST-only, or no file yet: nothing personal shown
                assert_personal(response, url)
                checked += 1
    assert checked >= 8
