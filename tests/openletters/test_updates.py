"""An organisation's updates: whom they reach, the workspace's compose → preview → edit →
send over HTTP (bad input kept and shown beside its field, a second send queuing
nothing), the fan-out (batched, idempotent), a member of another organisation and a
moderator refused on every page, and the emails through a real worker into a real SMTP
server (aiosmtpd) with their one-click unsubscribe headers; someone who unsubscribed
after the update was queued gets nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.campaigns.conftest import make_group_campaign
from tests.delivery.test_inbound import dsn
from tests.factories import (
    CampaignFactory,
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    SupporterFactory,
    UserFactory,
)
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.core.models import ActionLog
from undersigned.delivery import sending
from undersigned.delivery import services as delivery_services
from undersigned.delivery.models import Delivery, DeliveryStatus
from undersigned.openletters.models import UPDATE_BODY_MAX_CHARS, Update, UpdateStatus
from undersigned.openletters.services import updates as update_services
from undersigned.organisations.models import Role
from undersigned.supporters import services as supporter_services
from undersigned.supporters import updates as supporter_updates
from undersigned.supporters.models import ConsentPurpose, ConsentRecord, Supporter


def _agree(supporter: Supporter, *, campaign: Any = None, open_letter: Any = None, granted: bool = True) -> None:
    supporter_services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.CAMPAIGN_UPDATES if campaign is not None else ConsentPurpose.OPEN_LETTER_UPDATES,
        granted=granted,
        wording="You may send me updates.",
        source="test",
        campaign=campaign,
        open_letter=open_letter,
    )


def _member(organisation: Any, role: str = Role.ORGANISER) -> Any:
    user = UserFactory()
    MembershipFactory(organisation=organisation, user=user, role=role)
    return user


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _draft(campaign: Any, **fields: Any) -> Update:
    values: dict[str, Any] = {
        "subject": "News from the path",
        "body": "The council **listened**.",
        "language": "en",
        "countries": [],
        **fields,
    }
    return update_services.save_draft(actor=None, campaign=campaign, **values)


def _sent_to(update: Update) -> set[str]:
    return set(Delivery.objects.filter(update=update).values_list("supporter__email", flat=True))


@pytest.mark.django_db
def test_the_fan_out_reaches_only_those_who_agree_now(campaign: Any) -> None:
    agreed = SupporterFactory(email="agreed@example.net", country="GB")
    irish = SupporterFactory(email="irish@example.net", country="IE")
    withdrew = SupporterFactory(email="withdrew@example.net")
    unsubscribed = SupporterFactory(email="unsubscribed@example.net")
    never = SupporterFactory(email="never@example.net")
    elsewhere = SupporterFactory(email="elsewhere@example.net")
    for supporter in (agreed, irish, withdrew, unsubscribed):
        _agree(supporter, campaign=campaign)
    _agree(withdrew, campaign=campaign, granted=False)
    supporter_updates.unsubscribe(supporter=unsubscribed, organisation=campaign.organisation, wording="Stop")
    # Another organisation's supporter, agreeing to its own campaign: never reached.
    _agree(elsewhere, campaign=CampaignFactory(organisation=OrganisationFactory()))
    assert never.pk  # agreed to nothing

    everyone = _draft(campaign)
    assert update_services.queue(update=everyone, actor=None)
    assert update_services.fan_out(everyone.pk) == 2
    assert _sent_to(everyone) == {"agreed@example.net", "irish@example.net"}
    everyone.refresh_from_db()
    assert (everyone.status, everyone.audience_count, everyone.queued_count) == (UpdateStatus.SENT, 2, 2)

    only_ie = _draft(campaign, countries=["IE"])
    update_services.queue(update=only_ie, actor=None)
    update_services.fan_out(only_ie.pk)
    assert _sent_to(only_ie) == {"irish@example.net"}
    row = Delivery.objects.get(update=only_ie)
    assert (row.channel, row.status, row.recipient_id, row.letter_id) == (
        Channel.EMAIL,
        DeliveryStatus.QUEUED,
        None,
        None,
    )


@pytest.mark.django_db
def test_an_open_letters_update_reaches_its_endorsers_who_agreed(organisation: Any) -> None:
    letter = make_open_letter(organisation)
    endorser, silent = SupporterFactory(email="endorser@example.net"), SupporterFactory(email="silent@example.net")
    _agree(endorser, open_letter=letter)
    _agree(silent, open_letter=letter, granted=False)
    update = update_services.save_draft(
        actor=None, open_letter=letter, subject="Handed in", body="We handed it in.", language="en", countries=[]
    )
    update_services.queue(update=update, actor=None)
    update_services.fan_out(update.pk)
    assert _sent_to(update) == {"endorser@example.net"}


@pytest.mark.django_db
def test_the_fan_out_runs_in_batches_and_again_adds_nobody_twice(campaign: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(update_services, "FAN_OUT_BATCH", 2)  # several batches from a few people
    for n in range(5):
        _agree(SupporterFactory(email=f"p{n}@example.net"), campaign=campaign)
    update = _draft(campaign)
    update_services.queue(update=update, actor=None)
    # A first run that wrote one batch and died: the rows it wrote stay, the rest follow.
    first = list(supporter_updates.audience(update_services.audience(update)))[:2]
    update_services._insert(update, [s.pk for s in first])
    assert update_services.fan_out(update.pk) == 5
    assert update_services.fan_out(update.pk) == 0  # sent: left alone
    assert Delivery.objects.filter(update=update).count() == 5


@pytest.mark.django_db
def test_compose_preview_edit_and_send_over_http(campaign: Any) -> None:
    for n, country in enumerate(["GB", "GB", "IE"]):
        _agree(SupporterFactory(email=f"s{n}@example.net", country=country), campaign=campaign)
    client = _client(_member(campaign.organisation))
    new_url = reverse("dashboard:campaign_update_new", args=[campaign.slug])
    page = client.get(new_url)
    assert page.status_code == 200
    assert "3 people agreed to hear more." in page.text

    # Bad input: kept and shown beside each field.
    injected = "Hello\r\nBcc: everyone@example.org"
    response = client.post(new_url, {"subject": injected, "body": "", "language": "en"})
    assert response.status_code == 400
    assert response.context["form"].errors["subject"] == ["Keep the subject on one line."]
    assert response.context["form"].errors["body"] == ["Write the update."]
    assert 'id="id_subject_error"' in response.text
    assert 'id="id_body_error"' in response.text
    assert "Bcc: everyone@example.org" in response.text  # what was typed, kept
    huge = "x" * (UPDATE_BODY_MAX_CHARS + 1)
    response = client.post(new_url, {"subject": "", "body": huge, "language": "en"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"subject", "body"}
    assert response.context["form"]["body"].value() == huge
    response = client.post(new_url, {"subject": "Hi", "body": "Text", "language": "english!", "countries": ["FR"]})
    assert set(response.context["form"].errors) == {"language", "countries"}
    assert not Update.objects.exists()

    # A good draft: the preview shows the email and whom it reaches.
    response = client.post(
        new_url,
        {"subject": "The path stays open", "body": "# Good news\n\nThe council **listened**.", "language": "en"},
    )
    update = Update.objects.get()
    preview_url = reverse("dashboard:campaign_update", args=[campaign.slug, update.pk])
    assert response.status_code == 302
    assert response["Location"] == preview_url
    preview = client.get(preview_url)
    assert "This update will reach 3 people." in preview.text
    assert "<strong>listened</strong>" in preview.text
    assert "<h2>Good news</h2>" in preview.text
    assert "Receive no more updates from this organisation" in preview.text
    assert "s0@example.net" not in preview.text  # no supporter's address in the organisers' view

    # Edit again: what was typed is there; narrowed to Ireland, the count follows.
    edit_url = reverse("dashboard:campaign_update_edit", args=[campaign.slug, update.pk])
    edit = client.get(edit_url)
    assert edit.context["form"]["subject"].value() == "The path stays open"
    assert "The council **listened**." in edit.text
    client.post(
        edit_url, {"subject": "The path stays open", "body": "Still open.", "language": "en", "countries": ["IE"]}
    )
    assert "This update will reach 1 person." in client.get(preview_url).text

    # Send, twice (a double click): queued once.
    send_url = reverse("dashboard:campaign_update_send", args=[campaign.slug, update.pk])
    assert client.post(send_url).status_code == 302
    assert client.post(send_url).status_code == 302
    update.refresh_from_db()
    assert update.status == UpdateStatus.QUEUED
    assert ActionLog.objects.filter(action="update.queued", object_id=str(update.pk)).count() == 1
    update_services.fan_out(update.pk)
    update_services.fan_out(update.pk)
    assert Delivery.objects.filter(update=update).count() == 1
    # A sent update no longer changes.
    assert client.post(edit_url, {"subject": "Changed", "body": "x", "language": "en"}).status_code == 302
    update.refresh_from_db()
    assert update.subject == "The path stays open"
    listing = client.get(reverse("dashboard:campaign_updates", args=[campaign.slug]))
    assert "The path stays open" in listing.text


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other organisation", "moderator"])
def test_other_organisations_and_moderators_are_refused_every_page(campaign: Any, organisation: Any, who: str) -> None:
    letter = make_open_letter(organisation)
    campaign_update = _draft(campaign)
    letter_update = update_services.save_draft(
        actor=None, open_letter=letter, subject="S", body="B", language="en", countries=[]
    )
    user = _member(OrganisationFactory()) if who == "other organisation" else _member(organisation, Role.MODERATOR)
    client = _client(user)
    for kind, owner, update in (("campaign", campaign, campaign_update), ("open_letter", letter, letter_update)):
        for name, args in (
            ("updates", []), ("update_new", []), ("update", [update.pk]), ("update_edit", [update.pk]),
        ):  # fmt: skip
            url = reverse(f"dashboard:{kind}_{name}", args=[owner.slug, *args])
            assert client.get(url).status_code == 404, url
        for name, args in (("update_new", []), ("update_edit", [update.pk]), ("update_send", [update.pk])):
            url = reverse(f"dashboard:{kind}_{name}", args=[owner.slug, *args])
            assert client.post(url, {"subject": "x", "body": "y", "language": "en"}).status_code == 404, url
    assert Update.objects.filter(status=UpdateStatus.DRAFT).count() == 2
    # An update of one campaign is not found under another campaign of the same organisation.
    other = CampaignFactory(organisation=organisation)
    organiser = _client(_member(organisation))
    url = reverse("dashboard:campaign_update", args=[other.slug, campaign_update.pk])
    assert organiser.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_emails_reach_a_real_smtp_server_with_one_click_unsubscribe(
    campaign: Any, smtp_sink: Any, run_worker: Any
) -> None:
    alice = SupporterFactory(email="alice@example.net", name="Alice")
    bob = SupporterFactory(email="bob@example.net", name="Bob")
    late = SupporterFactory(email="late@example.net", name="Late")
    SupporterFactory(email="never@example.net")
    for supporter in (alice, bob, late):
        _agree(supporter, campaign=campaign)
    client = _client(_member(campaign.organisation))
    client.post(
        reverse("dashboard:campaign_update_new", args=[campaign.slug]),
        {"subject": "The path stays open", "body": "The council **listened**.\n\nThank you.", "language": "en"},
    )
    update = Update.objects.get()
    update_services.queue(update=update, actor=None)
    update_services.fan_out(update.pk)  # the task's work, here so that someone can unsubscribe before the send
    supporter_updates.unsubscribe(supporter=late, organisation=campaign.organisation, wording="Stop")
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)

    messages = {str(m["To"]): m for m in smtp_sink.parsed()}
    assert set(messages) == {"Alice <alice@example.net>", "Bob <bob@example.net>"}
    message = messages["Alice <alice@example.net>"]
    assert message["Subject"] == "The path stays open"
    assert message["From"].addresses[0].display_name == f"{campaign.organisation.display_short_name} via Undersigned"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip("<>")
    token = supporter_updates.unsubscribe_token(supporter_id=alice.pk, organisation_id=campaign.organisation_id)
    assert link.endswith(reverse("public:update_unsubscribe", args=[token]))
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "The council **listened**." in text
    assert link in text
    assert "<strong>listened</strong>" in html
    assert "agreed to hear more" in html

    rows = {
        d.supporter.email if d.supporter else "": d
        for d in Delivery.objects.filter(update=update).select_related("supporter")
    }
    assert rows["alice@example.net"].status == DeliveryStatus.SENT
    assert rows["alice@example.net"].smtp_response
    assert rows["late@example.net"].status == DeliveryStatus.FAILED
    assert "unsubscribed" in rows["late@example.net"].last_error
    # Bob's server bounces it: read from the delivery's own bounce address, as for a letter.
    bounced = delivery_services.record_bounce(
        delivery_id=rows["bob@example.net"].pk, message=dsn(delivery=rows["bob@example.net"], about="bob@example.net")
    )
    assert bounced is not None
    assert bounced.status == DeliveryStatus.BOUNCED

    # The one-click POST, as a mail program makes it: no cookie, CSRF checks on.
    mail_program = Client(enforce_csrf_checks=True)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = mail_program.post(
        "/" + path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert ConsentRecord.objects.filter(
        supporter=alice, purpose=ConsentPurpose.ORGANISATION_UPDATES, granted=False
    ).exists()
    assert sending.schedule_due() is False  # nothing left waiting


@pytest.mark.django_db
def test_a_fan_out_whose_task_was_lost_is_enqueued_again_once(campaign: Any) -> None:
    _agree(SupporterFactory(email="waiting@example.net"), campaign=campaign)
    update = _draft(campaign)
    update_services.queue(update=update, actor=None)  # its task: enqueued on commit, never here
    assert update_services.resume_stalled() == 0  # young: its task may still come
    long_ago = timezone.now() - update_services.FAN_OUT_STALLED_AFTER - timedelta(minutes=1)
    Update.objects.filter(pk=update.pk).update(updated_at=long_ago)
    assert update_services.resume_stalled() == 1
    assert update_services.resume_stalled() == 0  # claimed: not again this round
    (task,) = DBTaskResult.objects.all()
    assert (task.task_path, task.args_kwargs["args"]) == ("undersigned.openletters.tasks.fan_out_update", [update.pk])


@pytest.mark.django_db
def test_a_group_campaigns_update_may_go_only_to_some_sections(organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    germany = campaign.recipients.get(name="Section of Germany")
    france = campaign.recipients.get(name="Section of France")
    wrote_germany = LetterFactory(campaign=campaign, addressed_to=germany, supporter__email="de@example.net").supporter
    wrote_france = LetterFactory(campaign=campaign, addressed_to=france, supporter__email="fr@example.net").supporter
    for supporter in (wrote_germany, wrote_france):
        _agree(supporter, campaign=campaign)
    client = _client(_member(organisation))
    page = client.get(reverse("dashboard:campaign_update_new", args=[campaign.slug]))
    assert "Section of Germany (1)" in page.text
    response = client.post(
        reverse("dashboard:campaign_update_new", args=[campaign.slug]),
        {"subject": "To Germany", "body": "News.", "language": "en", "sections": [str(germany.pk)]},
    )
    assert response.status_code == 302
    update = Update.objects.get()
    assert update.sections == [germany.pk]
    preview = client.get(response["Location"])
    assert "This update will reach 1 person." in preview.text
    update_services.queue(update=update, actor=None)
    update_services.fan_out(update.pk)
    assert _sent_to(update) == {"de@example.net"}
