"""Endorsing an open letter through its pages, as a person would, with the confirmation
email going through a real SMTP server (``smtp_sink``).

Tasks run with Django's ``ImmediateBackend`` here (a real backend that runs each task
when it is enqueued, after commit), so the email is in the sink when the request
returns; ``test_worker_sends_confirmation`` runs the real worker process instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.languages import pseudo_translations
from tests.openletters.conftest import endorse, form_data, links_in, path_of
from undersigned.core.models import ActionLog
from undersigned.openletters.models import Endorsement, EndorsementStatus, OpenLetter
from undersigned.openletters.services import endorsing
from undersigned.supporters.models import ConsentPurpose, ConsentRecord

NAME = "Siobhán O'Brien"


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _page(client: Client, letter: OpenLetter, **params: str) -> str:
    response = client.get(reverse("openletters:letter", args=[letter.slug]), params)
    assert response.status_code == 200
    return response.content.decode()


def _count(letter: OpenLetter) -> int:
    letter.refresh_from_db()
    return letter.verified_count


def _endorse_and_mail(
    client: Client, letter: OpenLetter, smtp_sink: Any, capture: Any, **overrides: str | None
) -> dict[str, str]:
    before = len(smtp_sink.messages)
    with capture(execute=True):
        response = endorse(client, letter, **overrides)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("openletters:sent", args=[letter.slug])
    assert len(smtp_sink.messages) == before + 1
    return links_in(smtp_sink.parsed()[-1])


def test_endorse_confirm_by_post_lists_the_name_as_typed(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    message = smtp_sink.parsed()[-1]
    assert message["To"].addresses[0].addr_spec == "siobhan@example.ie"
    assert "Please confirm your endorsement" in message["Subject"]
    # Waiting for confirmation: not shown, not counted.
    assert _count(open_letter) == 0
    assert "O&#x27;Brien" not in _page(client, open_letter)

    confirm_path = path_of(found["confirm"])
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert "Siobhán O&#x27;Brien" in page.content.decode()
    assert _count(open_letter) == 0  # opening the link confirmed nothing

    response = client.post(confirm_path)
    assert response.status_code == 302
    assert _count(open_letter) == 1
    html = _page(client, open_letter, confirmed="1")
    assert "Thank you: your endorsement is confirmed." in html
    assert (
        "<strong><bdi>Siobhán O&#x27;Brien</bdi></strong>, <bdi>Trustee</bdi>, <bdi>Friends of the Wend</bdi>" in html
    )
    assert 'data-testid="verified-count">1<' in html
    endorsement = Endorsement.objects.get()
    assert endorsement.name == NAME
    assert endorsement.version == open_letter.current_version
    assert endorsement.text_hash == open_letter.current_version.text_hash
    assert ActionLog.objects.filter(action="endorsement.confirmed", object_id=str(endorsement.pk)).exists()
    # A second click on the button changes nothing.
    assert client.post(confirm_path).status_code == 302
    assert _count(open_letter) == 1


def test_get_of_the_link_alone_confirms_nothing(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    for _ in range(3):  # a scanner may open it several times, with HEAD too
        assert client.get(path_of(found["confirm"])).status_code == 200
        assert client.head(path_of(found["confirm"])).status_code == 200
    assert Endorsement.objects.get().status == EndorsementStatus.PENDING
    assert _count(open_letter) == 0


def test_expired_link_says_so_and_confirms_nothing(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    # As if the 72 hours had passed: the row's deadline is what the services check.
    Endorsement.objects.update(confirm_expires_at=timezone.now() - timedelta(minutes=1))
    for method in (client.get, client.post):
        response = method(path_of(found["confirm"]))
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    response = client.post(
        reverse("openletters:confirm_code", args=[open_letter.slug]),
        {"email": "siobhan@example.ie", "code": found["code"]},
    )
    assert "This code has expired" in response.content.decode()
    assert _count(open_letter) == 0
    # The worker's housekeeping removes it.
    assert endorsing.remove_expired() == 1
    assert not Endorsement.objects.exists()


def test_expired_signature_says_so(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    settings.ENDORSEMENT_CONFIRM_HOURS = -1  # every signature is now older than the window
    response = client.get(path_of(found["confirm"]))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_tampered_link_does_not_work(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    response = client.post(path_of(found["confirm"])[:-3] + "xx/")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert _count(open_letter) == 0


def test_confirm_by_code(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    url = reverse("openletters:confirm_code", args=[open_letter.slug])
    wrong = client.post(url, {"email": "siobhan@example.ie", "code": "ABCDEFGH"})
    assert wrong.status_code == 400
    html = wrong.content.decode()
    assert "This code does not match that email address" in html
    assert 'value="siobhan@example.ie"' in html  # what was typed is kept
    typed = found["code"][:4].lower() + "-" + found["code"][4:]
    response = client.post(url, {"email": "Siobhan@Example.ie", "code": typed})
    assert response.status_code == 302
    assert _count(open_letter) == 1


def test_gmail_variants_count_once_and_signing_again_updates(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    first = _endorse_and_mail(client, open_letter, smtp_sink, capture, email="Jane.Doe+x@gmail.com", name="Jane Doe")
    client.post(path_of(first["confirm"]))
    second = _endorse_and_mail(
        client, open_letter, smtp_sink, capture, email="janedoe@gmail.com", name="Jane Doe", role="Chair"
    )
    assert Endorsement.objects.count() == 1
    # The new details wait for confirmation: the page still shows the old ones.
    assert "Jane Doe</bdi></strong>, <bdi>Trustee</bdi>" in _page(client, open_letter)
    client.post(path_of(second["confirm"]))
    assert Endorsement.objects.count() == 1
    assert _count(open_letter) == 1
    html = _page(client, open_letter)
    assert "Jane Doe</bdi></strong>, <bdi>Chair</bdi>" in html
    assert html.count("Jane Doe</bdi></strong>") == 1


def test_withdrawal_removes_the_name_and_updates_counts(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    found = _endorse_and_mail(client, open_letter, smtp_sink, capture)
    client.post(path_of(found["confirm"]))
    other = _endorse_and_mail(client, open_letter, smtp_sink, capture, email="ana@example.org", name="Ana Ruiz")
    client.post(path_of(other["confirm"]))
    assert _count(open_letter) == 2

    withdraw_path = path_of(found["withdraw"])
    assert client.get(withdraw_path).status_code == 200
    assert _count(open_letter) == 2  # opening the link withdraws nothing
    response = client.post(withdraw_path)
    assert "Your endorsement is withdrawn" in response.content.decode()
    open_letter.refresh_from_db()
    assert (open_letter.verified_count, open_letter.withdrawn_count) == (1, 1)
    html = _page(client, open_letter)
    assert "O&#x27;Brien" not in html
    assert "Ana Ruiz" in html
    assert 'data-testid="withdrawn-count">(1 withdrawn)' in html
    # Withdrawing twice changes nothing.
    client.post(withdraw_path)
    open_letter.refresh_from_db()
    assert (open_letter.verified_count, open_letter.withdrawn_count) == (1, 1)


def test_unnamed_endorsers_are_counted_not_named(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(
        client, open_letter, smtp_sink, django_capture_on_commit_callbacks, show_publicly=None, name="Quiet Person"
    )
    client.post(path_of(found["confirm"]))
    assert _count(open_letter) == 1
    html = _page(client, open_letter)
    assert "Quiet Person" not in html
    assert "1 endorser chose to be counted without being named." in html


def test_organisation_endorses_as_organisation(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    missing = endorse(
        client, open_letter, kind="organisation", name="Wendmouth Ramblers", email="chair@ramblers.example"
    )
    assert missing.status_code == 400
    assert "needs the name of the person who signs for it" in missing.content.decode()
    found = _endorse_and_mail(
        client,
        open_letter,
        smtp_sink,
        django_capture_on_commit_callbacks,
        kind="organisation",
        name="Wendmouth Ramblers",
        role="Chair",
        signatory="Ada Pennick",
        website="https://ramblers.example",
        email="chair@ramblers.example",
    )
    client.post(path_of(found["confirm"]))
    assert (
        'Wendmouth Ramblers</bdi></strong> <span class="signatory">(signed by <bdi>Ada Pennick</bdi>, <bdi>Chair</bdi>)'
        in _page(client, open_letter)
    )


def test_updates_opt_in_is_recorded_with_its_wording_once_confirmed(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    page = client.get(reverse("openletters:endorse", args=[open_letter.slug])).content.decode()
    wording = endorsing.updates_wording(open_letter)
    assert wording.replace("“", "&ldquo;") in page or wording in page
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks, wants_updates="on")
    assert not ConsentRecord.objects.exists()  # not before the address is confirmed
    client.post(path_of(found["confirm"]))
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.granted, record.wording, record.open_letter_id) == (
        ConsentPurpose.OPEN_LETTER_UPDATES,
        True,
        wording,
        open_letter.pk,
    )
    assert record.supporter.email == "siobhan@example.ie"
    assert record.language == "en"


def test_an_opt_in_given_in_french_is_recorded_in_french_though_confirmed_in_english(
    client: Client,
    open_letter: OpenLetter,
    smtp_sink: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pseudo_translations(monkeypatch, "fr")  # French that shows it came from the French catalogue
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("openletters:endorse", args=[open_letter.slug])).content.decode()
    wording = (
        "⟦Yes, Friends of the River Wend may email me updates about the open letter “Walkers for Resolution 7”. "
        "I can unsubscribe at any time with the link in every update.⟧"
    )
    assert wording.replace("“", "&ldquo;").replace("”", "&rdquo;") in page or wording in page
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks, wants_updates="on")
    client.cookies["django_language"] = "en"
    client.post(path_of(found["confirm"]))
    record = ConsentRecord.objects.get()
    assert (record.wording, record.language) == (wording, "fr")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Please give your name"),
        ({"name": "Jane\r\nBcc: x@example.org"}, "name", "Please keep this on one line"),
        ({"name": "x" * 121}, "name", "The name is too long: 121 characters, the limit is 120."),
        ({"statement": "y" * 501}, "statement", "Your statement is too long: 501 characters"),
        ({"email": "not-an-address"}, "email", "Enter an email address like name@example.org."),
        ({"country": "XX"}, "country", "Select a valid choice."),
        ({"kind": "organisation", "signatory": "A", "website": "javascript:alert(1)"}, "website", "Enter a web"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_kept(
    client: Client, open_letter: OpenLetter, overrides: dict[str, str], field: str, message: str
) -> None:
    response = endorse(client, open_letter, **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    error_at = html.index(f'id="field-{field}"')
    assert message in html[error_at : error_at + 1500]
    assert "Friends of the Wend" in html  # the rest of what was typed is kept
    assert not Endorsement.objects.exists()


def test_markup_in_names_is_shown_as_text(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(
        client,
        open_letter,
        smtp_sink,
        django_capture_on_commit_callbacks,
        name='<script>alert("x")</script>',
        statement="<img src=x onerror=alert(1)> **bold**",
    )
    client.post(path_of(found["confirm"]))
    html = _page(client, open_letter)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; **bold**" in html


def test_closed_letter_takes_no_endorsements(client: Client, open_letter: OpenLetter) -> None:
    OpenLetter.objects.filter(pk=open_letter.pk).update(deadline=timezone.now() - timedelta(days=1))
    response = endorse(client, open_letter)
    assert "This letter is closed" in response.content.decode()
    assert not Endorsement.objects.exists()


def test_draft_letter_has_no_page(client: Client, organisation: Any) -> None:
    letter = OpenLetter.objects.create(organisation=organisation, slug="draft-letter", title="Draft", text="Text")
    assert client.get(reverse("openletters:letter", args=[letter.slug])).status_code == 404


def test_form_data_helper_sends_a_complete_form() -> None:
    assert form_data()["name"] == NAME


def test_withdrawing_an_endorsement_withdraws_its_updates_opt_in(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks, wants_updates="on")
    client.post(path_of(found["confirm"]))
    withdrawn = endorsing.updates_withdrawn_wording(open_letter)
    page = client.get(path_of(found["withdraw"])).content.decode()
    assert withdrawn.replace("“", "&ldquo;").replace("”", "&rdquo;") in page or withdrawn in page
    client.post(path_of(found["withdraw"]))
    client.post(path_of(found["withdraw"]))  # twice: one withdrawal recorded
    rows = list(ConsentRecord.objects.order_by("id").values_list("purpose", "granted", "wording", "open_letter_id"))
    assert rows == [
        (ConsentPurpose.OPEN_LETTER_UPDATES, True, endorsing.updates_wording(open_letter), open_letter.pk),
        (ConsentPurpose.OPEN_LETTER_UPDATES, False, withdrawn, open_letter.pk),
    ]
    assert ConsentRecord.objects.filter(granted=False).get().source == "open letter withdrawal"


def test_withdrawing_without_an_opt_in_records_no_consent(
    client: Client, open_letter: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    found = _endorse_and_mail(client, open_letter, smtp_sink, django_capture_on_commit_callbacks)
    client.post(path_of(found["confirm"]))
    client.post(path_of(found["withdraw"]))
    assert Endorsement.objects.get().status == EndorsementStatus.WITHDRAWN
    assert not ConsentRecord.objects.exists()
