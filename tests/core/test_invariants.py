"""The invariants a newcomer can break without noticing (docs/invariants.md), one test each.

Each test fails when its invariant is broken, not when the code merely changes shape: a
receiver connected to a model the fast paths write without ``save()``, a
``QuerySet.update()`` of something a kept page shows that does not move the owner's
stamp, a per-visitor value baked into a page kept for every visitor.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.core.models import ActionLog
from undersigned.delivery.models import Delivery
from undersigned.letters.models import Letter
from undersigned.openletters.models import Endorsement
from undersigned.supporters.models import Supporter

SRC = Path(__file__).resolve().parents[2] / "src" / "undersigned"

# Written without save() on the hot paths: by core.statements (letters, endorsements,
# their supporters and audit rows) and by the engine's mark-sent SQL (deliveries).
FAST_WRITTEN = [Letter, Supporter, ActionLog, Endorsement, Delivery]


@pytest.mark.parametrize("model", FAST_WRITTEN, ids=lambda m: m.__name__)
def test_models_written_without_save_have_no_save_receivers(model: Any) -> None:
    # A receiver here would run for some writes and silently not for others.
    for signal in (pre_save, post_save, pre_delete, post_delete):
        assert not signal.has_listeners(model), f"{signal} has a receiver for {model.__name__}; see docs/invariants.md"


# What a campaign's or open letter's kept copy holds besides the owner's own row: a
# change to these must move the owner's stamp (campaigns/signals.py does it on save()
# and delete(); a QuerySet.update() or bulk write must call touch_campaigns itself).
KEPT_PARTS = {
    "LetterTemplate",
    "CampaignTranslation",
    "Recipient",
    "CampaignRecipient",
    "Organisation",
    "RecipientGroup",
    "RecipientGroupMember",
}
BULK_WRITES = {"update", "bulk_update", "bulk_create"}
# A write that changes nothing a public page shows says so on its line.
NOT_SHOWN = "# not on public pages:"


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _bulk_writes_without_touch(root: Path = SRC) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for function in ast.walk(ast.parse(text)):
            if not isinstance(function, ast.FunctionDef):
                continue
            calls = [n for n in ast.walk(function) if isinstance(n, ast.Call)]
            touches = any(ast.unparse(call.func).endswith("touch_campaigns") for call in calls)
            for call in calls:
                if not isinstance(call.func, ast.Attribute) or call.func.attr not in BULK_WRITES:
                    continue
                if _root_name(call.func.value) not in KEPT_PARTS:
                    continue
                span = range(call.lineno, (call.end_lineno or call.lineno) + 1)
                marked = any(NOT_SHOWN in lines[n - 1] for n in span)
                if not touches and not marked:
                    found.append(f"{path.relative_to(root)}:{call.lineno} {function.name}")
    return found


def test_bulk_writes_of_what_kept_pages_show_move_the_owners_stamp() -> None:
    assert _bulk_writes_without_touch() == []


def test_the_bulk_write_check_finds_a_write_that_forgets_the_stamp(tmp_path: Path) -> None:
    # The check above must not pass by finding nothing: point it at a module that breaks the rule.
    (tmp_path / "broken.py").write_text(
        "def rename(pk):\n    Recipient.objects.filter(pk=pk).update(name='x')\n\n"
        "def rename_and_touch(pk):\n    Recipient.objects.filter(pk=pk).update(name='x')\n    touch_campaigns(pk=1)\n\n"
        "def flag(pk):\n    Recipient.objects.filter(pk=pk).update(flag=1)  # not on public pages: flags\n"
    )
    assert _bulk_writes_without_touch(tmp_path) == ["broken.py:2 rename"]


_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|nonce="([^"]+)"')


def _per_request_values(html: str) -> set[str]:
    return {value for pair in _TOKEN.findall(html) for value in pair if value}


@pytest.mark.django_db
def test_kept_pages_hold_nothing_of_the_visitor_who_made_them(campaign: Any, organisation: Any) -> None:
    letter = make_open_letter(organisation)
    pages = [
        reverse("public:campaign", args=[campaign.slug]),
        reverse("public:compose", args=[campaign.slug]),
        reverse("openletters:letter", args=[letter.slug]),
        reverse("openletters:endorse", args=[letter.slug]),
    ]
    # The first visitor, who makes each kept page, is signed in with names of their own.
    first = UserFactory(
        username="ximena-first-visitor", email="ximena.first@example.org", first_name="Ximena", is_staff=True
    )
    second = UserFactory(username="second-visitor", email="second@example.org", is_staff=True)
    made_by = Client()
    made_by.force_login(first)
    seen_by = Client()
    seen_by.force_login(second)
    anonymous = Client()
    for url in pages:
        made = made_by.get(url)
        assert made.status_code == 200, url
        theirs = _per_request_values(made.content.decode())
        assert theirs, f"{url}: expected a CSRF token or a CSP nonce to check"
        for other in (seen_by, anonymous):
            html = other.get(url).content.decode()
            for private in ("ximena-first-visitor", "ximena.first@example.org", "Ximena", *theirs):
                assert private not in html, f"{url} shows the first visitor's {private!r} to another"
