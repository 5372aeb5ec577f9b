"""HEAD is answered wherever GET is: the same status and headers, no body."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import Site, all_routes

pytestmark = pytest.mark.django_db

# The admin's hundred pages are Django's own; one test below checks that they answer HEAD too.
ROUTES = [route for route in all_routes() if not route.name.startswith("admin:")]


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def test_head_answers_as_get_does_on_every_page(client: Client, site: Site) -> None:
    """Every URL pattern (from the resolver) that answers GET answers HEAD alike."""
    client.force_login(site.organiser)
    differences = []
    for route in ROUTES:
        url = reverse(route.name, kwargs=site.kwargs_for(route))
        got, head = client.get(url), client.head(url)
        seen = (head.status_code, head.headers.get("Content-Type"), body(head))
        wanted = (got.status_code, got.headers.get("Content-Type"), b"")
        if seen != wanted:
            differences.append(f"{route.name} {url}: GET {wanted[:2]}, HEAD {seen[:2]} with {len(seen[2])} bytes")
    assert differences == []
    assert len(ROUTES) > 50  # the walk found the project's pages, not an empty list


def test_head_of_a_page_has_the_length_of_its_get(client: Client, site: Site) -> None:
    url = reverse("openletters:letter", args=[site.open_letter.slug])
    got = client.get(url)
    head = client.head(url)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head["Content-Length"] == str(len(got.content))


def test_the_admin_answers_head_too(client: Client, site: Site) -> None:
    client.force_login(site.organiser)
    assert client.head("/admin/").status_code == 200
    assert client.head("/admin/campaigns/campaign/").status_code == 200


def test_head_changes_nothing_where_post_would(client: Client, site: Site) -> None:
    """A HEAD to a confirmation link is a GET: it shows, it never confirms."""
    url = reverse("openletters:confirm", args=[site.open_letter.slug, site.tokens()["openletters:confirm"]])
    assert client.head(url).status_code == 200
    site.pending.refresh_from_db()
    assert site.pending.status == "pending"
