""" "Composer opened" is counted per campaign and day, with nothing of the visitor: no
cookie of its own, no address, no third party; the composer stays a kept page with no
write per view, and the counts add up when workers write them at the same time."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory
from undersigned.letters import composer_counts
from undersigned.letters.models import ComposerOpenedDay
from undersigned.letters.services import add_composer_openings


def _count(campaign: Any) -> int:
    row = ComposerOpenedDay.objects.filter(campaign=campaign, day=timezone.localdate()).first()
    return row.count if row else 0


@pytest.mark.django_db
def test_opening_the_composer_is_counted_and_nothing_else(client: Client, campaign: Any) -> None:
    composer_counts.flush()  # what earlier tests in this process left
    before = _count(campaign)
    url = reverse("public:compose", args=[campaign.slug])
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200
        assert set(response.cookies) <= {settings.CSRF_COOKIE_NAME}  # no cookie of its own
    assert client.head(url).status_code == 200  # a HEAD is no opening
    assert client.get(url, {"name": "x"}, headers={"HX-Request": "true"}).status_code == 200  # a live preview
    assert client.post(url, {"action": "preview", "body": "Hello"}).status_code == 200  # a preview
    composer_counts.flush()  # as each web worker does every few seconds and on exit
    assert _count(campaign) - before == 3
    other = CampaignFactory(organisation=campaign.organisation, slug="another-campaign")
    assert _count(other) == 0


@pytest.mark.django_db
def test_a_worker_writes_its_counts_in_a_request_every_few_seconds(
    client: Client, campaign: Any, monkeypatch: Any
) -> None:
    composer_counts.flush()
    before = _count(campaign)
    # A shorter interval (a constant of our own, not a mock): every opening is written at once.
    monkeypatch.setattr(composer_counts, "FLUSH_SECONDS", 0.0)
    url = reverse("public:compose", args=[campaign.slug])
    client.get(url)
    assert _count(campaign) - before == 1
    client.get(url)
    assert _count(campaign) - before == 2


@pytest.mark.django_db(transaction=True)
def test_counts_written_at_once_by_many_workers_add_up(organisation: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="busy")
    day = datetime.date(2026, 4, 24)
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(5):  # the day's first row is raced for, then updated
                add_composer_openings(counts={(campaign.pk, day): 2})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ComposerOpenedDay.objects.get(campaign=campaign, day=day).count == 6 * 5 * 2


_WORKER = """
import sys
import undersigned.wsgi  # as a web worker loads the application: registers the flush at exit
from undersigned.letters import composer_counts
composer_counts.FLUSH_SECONDS = 3600.0  # no write of its own: only the explicit one and the exit
campaign_id = int(sys.argv[1])
for _ in range(3):
    composer_counts.opened(campaign_id)
composer_counts.flush()  # a write every few seconds, as in service
for _ in range(4):
    composer_counts.opened(campaign_id)
composer_counts.flush()
composer_counts.flush()  # nothing left: a second write adds nothing
for _ in range(5):
    composer_counts.opened(campaign_id)
"""  # and then it exits cleanly, 5 openings still in memory


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_exits_cleanly_writes_every_opening_exactly_once(organisation: Any, tmp_path: Any) -> None:
    """The fence of the per-process counts (the house rule on work kept per process):
    a web worker's counts are never lost on a clean exit and never written twice."""
    campaign = CampaignFactory(organisation=organisation, slug="counted")
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="undersigned.settings",
        UNDERSIGNED_SECRET_KEY="test-" + "x" * 50,
        UNDERSIGNED_VAR_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(campaign.pk)], env=env, capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert ComposerOpenedDay.objects.get(campaign=campaign, day=timezone.localdate()).count == 3 + 4 + 5
