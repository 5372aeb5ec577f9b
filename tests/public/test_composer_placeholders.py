"""Misspelt, unknown and unclosed placeholders in a supporter's own text are pointed out
beside the field before anything is saved, and what was typed stays in the form."""

from __future__ import annotations

import html
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from undersigned.campaigns.placeholders import BrokenPlaceholder, broken_placeholders
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db

INCOMPLETE = "is not a complete placeholder: write it as"


def send(client: Client, campaign: Any, body: str, subject: str = "Please keep the path open") -> Any:
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Ana Ruiz",
        "email": "ana.ruiz@example.net",
        "town": "Wendmouth",
        "country": "GB",
        "subject": subject,
        "body": body,
        "action": "continue",
    }
    return client.post(reverse("public:compose", args=[campaign.slug]), data)


def errors_of(page: str, field: str) -> str:
    start = page.index(f'id="id_{field}_error"')
    return html.unescape(page[start : page.index("</p>", start)])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Dear {{ recipent.name }},\n\nPlease.", "{{ recipent.name }}: did you mean {{ recipient.name }}?"),
        ("Dear {{ recipient.name,\n\nPlease.", f"“{{{{ recipient.name,” {INCOMPLETE} {{{{ recipient.name }}}}."),
        ("Dear {recipient.name},\n\nPlease.", f"“{{recipient.name}}” {INCOMPLETE} {{{{ recipient.name }}}}."),
        ("Dear recipient.name }},\n\nPlease.", f"“recipient.name }}}}” {INCOMPLETE} {{{{ recipient.name }}}}."),
        ("Dear all,\n\n{{ my own thing\n\nPlease.", "“{{ my own thing” looks like a placeholder but is not complete"),
    ],
)  # fmt: skip
def test_a_placeholder_problem_is_shown_beside_the_letter_and_the_text_kept(
    client: Client, campaign: Any, body: str, message: str
) -> None:
    response = send(client, campaign, body)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in errors_of(page, "body")
    assert html.escape(body.split("\n", maxsplit=1)[0]) in page  # what was typed is in the field again
    assert not Letter.objects.exists()


def test_the_subject_is_checked_too(client: Client, campaign: Any) -> None:
    response = send(client, campaign, "Dear {{ recipient.name }},\n\nPlease.", subject="For {{ campaign.title")
    assert response.status_code == 400
    assert "write it as {{ campaign.title }}." in errors_of(response.content.decode(), "subject")


def test_whole_placeholders_and_ordinary_braces_pass(client: Client, campaign: Any) -> None:
    body = "Dear {{ recipient.name }},\n\nThe plan {a, b} and {see page 4} are fine.\n\n{{ supporter.name }}"
    assert send(client, campaign, body).status_code == 302


def test_broken_placeholders_are_found_once_each_in_order() -> None:
    text = "{{ supporter.town\n{{ supporter.town\n{supporter.name} and { not one }\nok {{ supporter.name }}"
    assert broken_placeholders(text) == [
        BrokenPlaceholder("{{ supporter.town", "supporter.town"),
        BrokenPlaceholder("{supporter.name}", "supporter.name"),
    ]
