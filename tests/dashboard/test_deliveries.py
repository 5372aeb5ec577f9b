"""The organiser's deliveries page: how a campaign's letters are getting to their recipients."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory, LetterFactory, MembershipFactory, RecipientFactory, UserFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery import queries
from undersigned.delivery.models import Delivery, DeliveryStatus, PrintJob, PrintJobStatus
from undersigned.delivery.queries import forget_delivery_counts
from undersigned.delivery.services import mark_print_job_posted, record_delivery, request_post
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def sending(organisation: Any) -> Any:
    """A campaign with emails in every state, a web form report and a bounced address."""
    board = RecipientFactory(organisation=organisation, name="Wend River Board", email="board@wend.example")
    chair = RecipientFactory(organisation=organisation, name="Siobhán O'Brien", email="chair@council.example")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])
    states = [DeliveryStatus.SENT] * 3 + [DeliveryStatus.QUEUED, DeliveryStatus.RETRY, DeliveryStatus.FAILED]
    refused = "550 5.1.1 <board@wend.example>: no such <b>mailbox</b>"
    for n, status in enumerate(states):
        delivery = record_delivery(letter=LetterFactory(campaign=campaign, sender_name=f"Writer {n}"), recipient=board,
                                   channel=Channel.EMAIL)  # fmt: skip
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=2 if status == DeliveryStatus.FAILED else 1,
            last_error=refused if status == DeliveryStatus.FAILED else "",
        )  # fmt: skip
    bounced = record_delivery(letter=LetterFactory(campaign=campaign), recipient=chair, channel=Channel.EMAIL)
    Delivery.objects.filter(pk=bounced.pk).update(status=DeliveryStatus.BOUNCED, bounced_at=timezone.now())
    chair.email_flagged_at = timezone.now()
    chair.email_flag_reason = "5.1.1 user unknown"
    chair.save()
    record_delivery(letter=LetterFactory(campaign=campaign), recipient=board, channel=Channel.WEB_FORM)
    return campaign


def test_the_page_shows_counts_progress_failures_and_addresses_to_fix(
    client: Client, sending: Any, member: Any
) -> None:
    client.force_login(member)
    index = client.get(reverse("dashboard:index")).content.decode()
    url = reverse("dashboard:deliveries", args=[sending.slug])
    assert f'<a href="{url}">Deliveries<span class="visually-hidden"> of “' in index

    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>3 of 7</strong> emails sent; 2 on their way (1 to be tried again); 1 failed; 1 bounced." in html
    assert '<progress max="7" value="5"' in html  # sent, failed and bounced are done with
    assert 'data-hx-trigger="every 3s"' in html  # two are still on their way: the page keeps watching
    row = html.split('<th scope="row">Sent by the platform</th>')[1].split("</tr>")[0]
    assert [int(cell) for cell in row.replace("<td>", "").split("</td>")[:-1]] == [1, 0, 1, 3, 0, 1, 1, 7]
    assert '<th scope="row">Recipient&#x27;s web form</th><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td>' in html

    # The server's reason, escaped; the bounced address with its reason and a way to fix it.
    assert "550 5.1.1 &lt;board@wend.example&gt;: no such &lt;b&gt;mailbox&lt;/b&gt;" in html
    assert "after 2 attempts" in html
    flagged = html.split('data-testid="flagged"')[1]
    assert "Siobhán O&#x27;Brien" in flagged
    assert "(5.1.1 user unknown)" in flagged
    assert "Fix the address" in flagged


def test_polling_answers_204_until_a_count_changes(client: Client, sending: Any, member: Any) -> None:
    client.force_login(member)
    url = reverse("dashboard:deliveries", args=[sending.slug])
    html = client.get(url).content.decode()
    seen = html.split("?seen=")[1].split('"')[0]
    assert client.get(url, {"seen": seen}, headers=HTMX).status_code == 204

    Delivery.objects.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.SENT)
    # The counts are kept a few seconds (counting a big campaign reads every delivery): still nothing new.
    assert client.get(url, {"seen": seen}, headers=HTMX).status_code == 204
    forget_delivery_counts(sending.pk)  # as if those seconds had passed
    update = client.get(url, {"seen": seen}, headers=HTMX)
    assert update.status_code == 200
    text = update.content.decode()
    assert "<strong>4 of 7</strong> emails sent; 1 on its way (1 to be tried again)" in text
    assert 'data-hx-swap-oob="innerHTML"' in text

    Delivery.objects.filter(status=DeliveryStatus.RETRY).update(status=DeliveryStatus.SENT)
    forget_delivery_counts(sending.pk)
    done = client.get(url, headers=HTMX).content.decode()
    assert "hx-trigger" not in done  # nothing on its way: no more polling
    assert "Refresh" not in done


def test_an_empty_campaign_says_so(client: Client, organisation: Any, member: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="quiet")
    client.force_login(member)
    html = client.get(reverse("dashboard:deliveries", args=[campaign.slug])).content.decode()
    assert "No letter has been sent by email yet." in html
    assert "None: no letter has failed or bounced." in html
    assert "No recipient's address has bounced." in html
    assert "<progress" not in html


def test_other_organisations_campaigns_do_not_exist_here(client: Client, sending: Any) -> None:
    stranger = UserFactory(username="stranger", is_staff=True)
    MembershipFactory(user=stranger, role=Role.OWNER)  # of an organisation of their own
    client.force_login(stranger)
    assert client.get(reverse("dashboard:deliveries", args=[sending.slug])).status_code == 404
    client.logout()
    response = client.get(reverse("dashboard:deliveries", args=[sending.slug]))
    assert response.status_code == 302  # to the login page


def test_counts_are_kept_longer_the_longer_counting_takes(sending: Any, monkeypatch: Any) -> None:
    """However big the campaign and however many people watch, counting takes at most a twentieth of the time."""
    clock = iter([100.0, 101.0])  # counting "takes" one second
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    forget_delivery_counts(sending.pk)
    before = time.time()
    counts, _ = queries.delivery_counts(sending.pk)
    kept = cache.get(f"undersigned:delivery-counts:{sending.pk}")
    assert kept["fresh_until"] - before >= 20  # made again after 20 × 1 s, not after 3 s
    Delivery.objects.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.SENT)
    assert queries.delivery_counts(sending.pk)[0] == counts  # within that time, from the cache


def test_marking_a_print_as_posted_shows_at_once(
    client: Client, organisation: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:

    board = RecipientFactory(organisation=organisation, name="Wend River Board")
    campaign = CampaignFactory(organisation=organisation, slug="posting", posts_for_supporters=True, recipients=[board])
    for n in range(3):
        request_post(letter=LetterFactory(campaign=campaign, sender_name=f"Writer {n}"), recipient=board)
    client.force_login(member)
    url = reverse("dashboard:deliveries", args=[campaign.slug])
    row = '<th scope="row">By post</th><td>{}</td><td>0</td><td>0</td><td>{}</td>'
    assert row.format(3, 0) in client.get(url).content.decode()

    job = PrintJob.objects.create(campaign=campaign, status=PrintJobStatus.DONE, total=3, done=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert mark_print_job_posted(job=job, actor=member) == 3
    assert row.format(0, 3) in client.get(url).content.decode()  # not the counts kept from before
