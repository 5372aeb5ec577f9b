"""Every page is valid HTML as the W3C Nu HTML checker (vnu, from npm's vnu-jar) sees it.

The walk takes every URL pattern from the resolver (as tests/web/test_head.py does),
fills it with the realistic ``site`` (a campaign with background and a deadline, an
open letter with endorsements, a discussion with a reply thread, a print job), signs in
as the organiser for the dashboard, and adds the pages that only a POST shows (forms
with errors, 413, 503). All pages go to one run of the checker (it takes a few seconds
to start). Needs Java and `npm ci`: skipped on a developer's machine without them,
failed on CI (CI=true), like the browser tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from .conftest import Site, all_routes

pytestmark = pytest.mark.django_db

VNU_JAR = Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def vnu_command() -> list[str]:
    java = shutil.which("java")
    if java and VNU_JAR.is_file():
        return [java, "-Xss4m", "-jar", str(VNU_JAR)]
    message = (
        "The Nu HTML checker needs Java and vnu-jar: `apt-get install -y default-jre-headless` "
        "and `npm ci` at the repository root."
    )
    if _on_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def check_html(pages: dict[str, str], folder: Path) -> list[str]:
    """The checker's errors for each page, as "page: line N: message"."""
    files = {}
    for number, (name, text) in enumerate(sorted(pages.items())):
        path = folder / f"page-{number:03d}.html"
        path.write_text(text, encoding="utf-8")
        files[path.name] = name
    result = subprocess.run(
        [*vnu_command(), "--errors-only", "--format", "json", *sorted(str(folder / f) for f in os.listdir(folder))],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stderr or result.stdout)
    return [
        f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}: line {m.get('lastLine')}: {m['message']}"
        for m in report["messages"]
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


def _document(response: Any) -> str | None:
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return None
    text = response.content.decode()
    return text if text.lstrip().lower().startswith("<!doctype html>") else None  # not a fragment


def collect_pages(client: Client, site: Site) -> dict[str, str]:
    pages: dict[str, str] = {}
    for route in all_routes():
        if route.name.startswith("admin:"):
            continue  # Django's own admin templates
        url = reverse(route.name, kwargs=site.kwargs_for(route))
        if (text := _document(client.get(url))) is not None:
            pages[f"GET {url}"] = text
    extra: list[tuple[str, dict[str, str]]] = [
        (reverse("public:compose", args=[site.campaign.slug]), {"action": "continue", "name": "Ana", "email": "a@"}),
        (reverse("openletters:endorse", args=[site.open_letter.slug]), {"name": "Jana", "email": "jana@"}),
        (reverse("public:discussion", args=[site.discussion.pk]), {"name": "Rui Costa", "body": ""}),
        (reverse("public:comment_report", args=[site.discussion.pk, site.comment.pk]), {"reason": "x" * 600}),
        (reverse("openletters:confirm_code", args=[site.open_letter.slug]), {"email": "jan@example.cz", "code": "A"}),
        (reverse("public:letter_send", args=[site.letter_link]), {f"f{n}": "1" for n in range(1200)}),
    ]
    for url, data in extra:
        if (text := _document(client.post(url, data))) is not None:
            pages[f"POST {url}"] = text
    # The workspace's uploads: a CSV preview, a CSV with row errors, a campaign file refused.
    org = site.campaign.organisation.slug
    uploads = [
        (reverse("dashboard:recipient_import", args=[org]), "r.csv", b"name,email\nJana,jana@example.cz\n"),
        (reverse("dashboard:recipient_import", args=[org]), "e.csv", b"name,email,country\n,x@,gb\n"),
        (reverse("dashboard:campaign_files", args=[org]), "c.toml", b"[campaign]\ntitel = 1\n"),
    ]
    for url, name, content in uploads:
        response = client.post(url, {"file": SimpleUploadedFile(name, content)})
        if (text := _document(response)) is not None:
            pages[f"POST {url} {name}"] = text
    recipient_form = reverse("dashboard:recipient_new", args=[org])
    pages["POST the recipient form"] = client.post(recipient_form, {"name": "", "email": "x@"}).content.decode()
    reply = client.get(reverse("public:discussion", args=[site.discussion.pk]), {"reply": site.comment.pk})
    pages["GET the reply form"] = reply.content.decode()
    return pages


def test_every_page_is_valid_html(client: Client, site: Site, settings: Any, tmp_path: Path) -> None:
    command = vnu_command()  # skip early when there is no checker
    assert command
    settings.DEMO_MODE = True  # the demo mailbox is a page too
    site.campaign.deadline = timezone.now() + timedelta(days=12, microseconds=123456)
    site.campaign.save()
    site.letter.sender_address = ""  # the send page then shows its address form
    site.letter.save()
    client.force_login(site.organiser)
    pages = collect_pages(client, site)
    client.logout()
    for route in all_routes():  # what a visitor sees differs on some pages (no staff links)
        if route.name.startswith(("public:", "openletters:")):
            url = reverse(route.name, kwargs=site.kwargs_for(route))
            if (text := _document(client.get(url))) is not None:
                pages[f"GET {url} (visitor)"] = text
    assert len(pages) > 40
    # One page known to be wrong proves the checker runs and its report is read.
    pages["known bad"] = BAD_PAGE
    errors = check_html(pages, tmp_path)
    assert errors == [
        "known bad: line 1: Bad value “2026-01-01T10:00:00.123456+00:00” for attribute “datetime” on element “time”: "
        "A fraction of a second must be one, two, or three digits."
    ], "\n".join(errors)


BAD_PAGE = (
    '<!doctype html><html lang="en"><title>x</title>'
    '<time datetime="2026-01-01T10:00:00.123456+00:00">1 January</time></html>'
)


def test_the_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/undersigned/favicon.svg")
    icon = client.get("/static/undersigned/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert icon.getvalue().startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    page = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/undersigned/favicon.svg" type="image/svg+xml">' in page
