"""The dashboard tells whoever runs the installation whether task workers are running."""

from __future__ import annotations

import datetime
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory
from undersigned.core.models import WorkerHeartbeat


def _workers_line(client: Client) -> str:
    page = client.get(reverse("dashboard:index")).content.decode()
    start = page.index('data-testid="workers">') + len('data-testid="workers">')
    return " ".join(page[start : page.index("</p>", start)].split())


def test_a_superuser_sees_whether_workers_are_running(organiser: Any) -> None:
    client = Client()
    client.force_login(organiser)
    assert _workers_line(client) == (
        "<strong>No task worker is running: emails wait until one starts (undersigned worker).</strong>"
        " No email is waiting."
    )
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker="web-1:4242", started_at=now, last_loop_at=now, expected_by=now + datetime.timedelta(seconds=130)
    )
    assert _workers_line(client) == "1 worker is running. Last loop 0 minutes ago. No email is waiting."


def test_an_organiser_who_does_not_run_the_installation_sees_no_workers(organisation: Any) -> None:
    member = UserFactory(username="member", is_staff=True)
    MembershipFactory(organisation=organisation, user=member)
    client = Client()
    client.force_login(member)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert "Task workers" not in page
