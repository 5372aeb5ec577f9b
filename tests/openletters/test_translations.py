"""An open letter in several languages, driven as people use it: an organiser writes the
French text in the editor's tab and publishes; a French-speaking visitor reads the French
text and endorses it; the endorsement, its email and the French section's hand-in pack say
which text it was (language, version, fingerprint). Another organisation reaches none of it.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.openletters.conftest import form_data
from undersigned.campaigns.campaign_files import CampaignFileError, OpenLetterFile, dump, parse_any
from undersigned.campaigns.models import Recipient
from undersigned.openletters import handin
from undersigned.openletters.models import (
    Endorsement,
    OpenLetter,
    OpenLetterStatus,
    OpenLetterTranslation,
    OpenLetterVersion,
)
from undersigned.openletters.services import editing, endorsing, files
from undersigned.openletters.services import versions as version_services
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

FRENCH = {
    "title": "Marcheurs pour la résolution 7",
    "summary": "Les bus ruraux disparaissent.",
    "text": "Chers membres de la Fédération,\r\n\r\nNous vous demandons de **voter pour la résolution 7**.",
    "action": "save",
}


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def member_client(organisation: Any) -> Client:
    user = UserFactory(username="letter-editor", is_staff=True)
    MembershipFactory(organisation=organisation, user=user, role=Role.ORGANISER)
    client = Client()
    client.force_login(user)
    return client


def _tab(letter: OpenLetter, language: str) -> str:
    return reverse("dashboard:open_letter_language", args=[letter.slug, language])


def _versions(letter: OpenLetter) -> list[tuple[str, int, int | None]]:
    return [
        (v.language, v.number, v.translates.number if v.translates else None)
        for v in OpenLetterVersion.objects.filter(letter=letter).select_related("translates").order_by("pk")
    ]


@pytest.fixture
def french(open_letter: OpenLetter, member_client: Client) -> OpenLetter:
    """The published letter with its French text saved in the editor's tab."""
    assert member_client.post(_tab(open_letter, "fr"), FRENCH).status_code == 302
    open_letter.refresh_from_db()
    return open_letter


def test_the_editor_writes_a_language_and_publishing_versions_each_text(
    organisation: Any, member_client: Client
) -> None:
    letter = OpenLetter.objects.create(
        organisation=organisation, slug="buses", title="Keep the buses", text="Dear council,", language="en"
    )
    editor = member_client.get(reverse("dashboard:open_letter_edit", args=[letter.slug]))
    assert 'aria-current="page" lang="en">English (en) <small>main</small></a>' in editor.text
    assert reverse("dashboard:open_letter_languages", args=[letter.slug]) in editor.text

    added = member_client.post(reverse("dashboard:open_letter_languages", args=[letter.slug]), {"language": "fr"})
    assert added["Location"] == _tab(letter, "fr")
    fresh = member_client.get(_tab(letter, "fr"))
    assert 'data-testid="not-saved"' in fresh.text
    assert "Keep the buses" in fresh.text  # starts from the main text, to translate in place
    # The main language has no tab of its own here; nor can it be added.
    refused = member_client.post(reverse("dashboard:open_letter_languages", args=[letter.slug]), {"language": "en"})
    assert refused.status_code == 400
    assert "the letter&#x27;s main language" in refused.text

    # A bad text is kept, its problem beside its field.
    bad = member_client.post(_tab(letter, "fr"), {**FRENCH, "title": ""})
    assert bad.status_code == 400
    assert "Chers membres de la Fédération" in bad.text
    assert 'aria-describedby="id_title_error' in bad.text or "id_title_error" in bad.text

    assert member_client.post(_tab(letter, "fr"), FRENCH).status_code == 302
    row = OpenLetterTranslation.objects.get(letter=letter)
    assert (row.language, row.title, row.text) == ("fr", FRENCH["title"], FRENCH["text"].replace("\r\n", "\n"))
    assert _versions(letter) == []  # a draft has no versions

    editing.set_open_letter_status(letter=letter, status=OpenLetterStatus.PUBLISHED, actor=None)
    assert _versions(letter) == [("en", 1, None), ("fr", 1, 1)]
    # The same French text again makes no version; a changed one makes French version 2.
    assert member_client.post(_tab(letter, "fr"), FRENCH).status_code == 302
    assert _versions(letter) == [("en", 1, None), ("fr", 1, 1)]
    changed = member_client.post(_tab(letter, "fr"), {**FRENCH, "text": "Chers membres,\r\n\r\nVotez."}, follow=True)
    assert "Saved as version 2 of the text in fr." in changed.text
    assert _versions(letter) == [("en", 1, None), ("fr", 1, 1), ("fr", 2, 1)]
    assert 'data-testid="version-note"' in changed.text

    # The main language cannot become one that has a tab.
    main = {
        "title": "Keep the buses",
        "slug": "buses",
        "summary": "",
        "text": "Dear council,",
        "authors": "",
        "tags": "",
        "language": "fr",
        "deadline": "",
        "recipient_group": "",
        "letter_campaign": "",
        "action": "save",
    }
    refused = member_client.post(reverse("dashboard:open_letter_edit", args=[letter.slug]), main)
    assert refused.status_code == 400
    assert "The letter has a tab for fr already." in refused.text
    letter.refresh_from_db()
    assert letter.language == "en"

    # Removing the language keeps its versions (endorsements may point at them).
    assert member_client.post(_tab(letter, "fr"), {"action": "remove"}).status_code == 302
    assert not OpenLetterTranslation.objects.filter(letter=letter).exists()
    assert len(_versions(letter)) == 3


def test_another_organisation_reaches_no_language_tab(french: OpenLetter) -> None:
    other = UserFactory(username="b-owner")
    MembershipFactory(organisation=OrganisationFactory(slug="organisation-b"), user=other, role=Role.OWNER)
    client = Client()
    client.force_login(other)
    assert client.get(_tab(french, "fr")).status_code == 404
    assert client.post(_tab(french, "fr"), {**FRENCH, "title": "Pirate"}).status_code == 404
    assert client.post(_tab(french, "fr"), {"action": "remove"}).status_code == 404
    assert client.get(reverse("dashboard:open_letter_languages", args=[french.slug])).status_code == 404
    assert (
        client.post(reverse("dashboard:open_letter_languages", args=[french.slug]), {"language": "de"}).status_code
        == 404
    )
    assert OpenLetterTranslation.objects.get(letter=french).title == FRENCH["title"]


def test_a_french_visitor_reads_the_french_text_and_may_choose_another(french: OpenLetter) -> None:
    url = reverse("openletters:letter", args=[french.slug])
    visitor = Client(HTTP_ACCEPT_LANGUAGE="fr")
    page = visitor.get(url).text
    assert '<h1 lang="fr" dir="ltr">Marcheurs pour la résolution 7</h1>' in page
    assert 'lang="fr" dir="ltr" data-testid="letter-text"' in page
    assert "voter pour la résolution 7" in page
    assert "Rural buses are being cut" not in page
    assert 'href="?text=en" hreflang="en" lang="en"' in page
    assert f"{reverse('openletters:endorse', args=[french.slug])}?text=fr" in page

    english = visitor.get(url, {"text": "en"}).text
    assert '<h1 lang="en" dir="ltr">Walkers for Resolution 7</h1>' in english
    assert "Rural buses are being cut" in english
    # Kept per text: the French page again is the French one.
    assert "voter pour la résolution 7" in visitor.get(url).text
    # An English visitor gets the main text, and the French one offered.
    main = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).text
    assert "Rural buses are being cut" in main
    assert 'href="?text=fr" hreflang="fr" lang="fr"' in main
    # The versions page of the French text lists the French versions only.
    versions = visitor.get(reverse("openletters:versions", args=[french.slug]), {"text": "fr"}).text
    assert "Marcheurs pour la résolution 7" in versions
    assert "Walkers for Resolution 7</h3>" not in versions


def test_endorsing_the_french_text_records_it_and_the_email_says_so(
    french: OpenLetter, smtp_sink: Any, django_capture_on_commit_callbacks: Any
) -> None:
    visitor = Client(HTTP_ACCEPT_LANGUAGE="fr")
    form = visitor.get(reverse("openletters:endorse", args=[french.slug]), {"text": "fr"}).text
    assert '<input type="hidden" name="text" value="fr">' in form
    assert '<input type="hidden" name="text_version" value="1">' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor.post(
            reverse("openletters:endorse", args=[french.slug]), {**form_data(), "text": "fr", "text_version": "1"}
        )
    assert response.status_code == 302
    endorsement = Endorsement.objects.get(email_normalised="siobhan@example.ie")
    version = OpenLetterVersion.objects.get(letter=french, language="fr", number=1)
    assert (endorsement.version_id, endorsement.text_hash) == (version.pk, version.text_hash)
    message = smtp_sink.parsed()[-1]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Marcheurs pour la résolution 7" in body
    assert version.text_hash[:16] in body
    # The letter is named as its endorser read it, in the subject too.
    assert "Marcheurs pour la résolution 7" in message["Subject"]
    assert "Walkers for Resolution 7" not in message["Subject"] + body

    # The French text changes while someone else reads the form: their version is refused,
    # the form comes back with what they typed, and nothing is recorded.
    OpenLetterTranslation.objects.filter(letter=french).update(text="Chers membres, votez.")
    french.refresh_from_db()
    version_services.record_version(letter=french)
    late = visitor.post(
        reverse("openletters:endorse", args=[french.slug]),
        {**form_data(email="late@example.fr", name="Lucie Martin"), "text": "fr", "text_version": "1"},
    )
    assert late.status_code == 409
    assert "Lucie Martin" in late.text
    assert '<input type="hidden" name="text_version" value="2">' in late.text
    assert not Endorsement.objects.filter(email_normalised="late@example.fr").exists()


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None, "pdftotext is missing: apt-get install -y poppler-utils"
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    result = subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return " ".join(result.stdout.decode("utf-8").split())


def test_a_french_section_s_pack_prints_the_french_text_and_says_which_texts_were_endorsed(
    french: OpenLetter, tmp_path: Path
) -> None:
    english_v1 = OpenLetterVersion.objects.get(letter=french, language="en")
    french_v1 = OpenLetterVersion.objects.get(letter=french, language="fr")

    def add(name: str, email: str, language: str) -> None:
        data = endorsing.EndorsementInput(name=name, email=email, country="IE", text_language=language)
        endorsing.record_confirmed(letter=french, data=data)

    add("Siobhán O'Brien", "s@example.ie", "en")
    add("Aoife Dubois", "a@example.ie", "fr")
    irish = Recipient.objects.get(country="IE")
    irish.language = "fr"
    irish.save(update_fields=["language"])
    french.refresh_from_db()

    out = io.BytesIO()
    assert handin.write_pdf(handin.Pack(french, irish), out, day=french_v1.created_at.date()) == 2
    text = _pdf_text(out.getvalue(), tmp_path)
    assert "Marcheurs pour la résolution 7" in text
    assert "Nous vous demandons de voter pour la résolution 7." in text
    assert "We, the undersigned" not in text
    # The pack's own words are in the addressee's language (French), as before; it says
    # which texts the named endorsers endorsed: language, version, fingerprint.
    assert "Dossier de remise" in text
    assert re.search(
        r"ont signé l'un de ces textes : le texte en français \(fr\), version 1; le texte en "
        r"anglais \(en\), version 1\.",
        text,
    ), text
    # Names of languages inside a French sentence are written in lower case.
    assert "Traduction du texte suivant : le texte en anglais (en), version 1." in text
    assert french_v1.text_hash[:16] in text
    assert english_v1.text_hash[:16] in text
    # The endorsers of the printed (French) text first, then those of the English one.
    assert text.index("Aoife Dubois") < text.index("A signé le texte en anglais (en)") < text.index("Siobhán")

    # Without a French-reading addressee, the whole letter's pack prints the main text.
    whole = io.BytesIO()
    handin.write_pdf(handin.Pack(french, None), whole, day=french_v1.created_at.date())
    assert "We, the undersigned" in _pdf_text(whole.getvalue(), tmp_path)


LETTER_FILE = """kind = "open_letter"

[open_letter]
slug = "clean-rivers"
title = "Clean rivers now"
status = "published"
language = "en"
text = \"\"\"
Dear river boards,

Please **publish** every sewage overflow.
\"\"\"

[translations.fr]
title = "Des rivières propres"
summary = "Publiez chaque débordement."
text = \"\"\"
Chers conseils,

Publiez chaque **débordement**.
\"\"\"

[translations.de]
title = "Saubere Flüsse"
text = "Liebe Flussräte, veröffentlichen Sie jeden Überlauf."
"""


def test_an_open_letter_file_carries_its_translations_there_and_back(organisation: Any) -> None:
    parsed = parse_any(LETTER_FILE)
    assert isinstance(parsed, OpenLetterFile)
    assert [t.language for t in parsed.translations] == ["de", "fr"]
    letter, created = files.import_open_letter(organisation=organisation, data=parsed)
    assert created
    assert _versions(letter) == [("en", 1, None), ("de", 1, 1), ("fr", 1, 1)]
    french = OpenLetterTranslation.objects.get(letter=letter, language="fr")
    assert (french.title, french.summary) == ("Des rivières propres", "Publiez chaque débordement.")

    text = dump(files.export_open_letter(letter))
    assert "[translations.de]" in text
    assert "[translations.fr]" in text
    again = parse_any(text)
    assert isinstance(again, OpenLetterFile)
    assert again == dataclasses.replace(parsed, published=again.published)  # published: set on publishing
    assert again.translations == parsed.translations
    # Imported again, the same file makes no new version; without German, German goes
    # (its version stays, for whoever endorsed it) and the French change is a version 2.
    files.import_open_letter(organisation=organisation, data=parsed)
    assert len(_versions(letter)) == 3
    changed = LETTER_FILE.split("[translations.de]", maxsplit=1)[0].replace(
        "Chers conseils", "Chers membres des conseils"
    )
    changed_file = parse_any(changed)
    assert isinstance(changed_file, OpenLetterFile)
    files.import_open_letter(organisation=organisation, data=changed_file)
    assert list(OpenLetterTranslation.objects.filter(letter=letter).values_list("language", flat=True)) == ["fr"]
    assert _versions(letter)[-1] == ("fr", 2, 1)


def test_an_open_letter_file_with_a_bad_translation_says_where() -> None:
    bad = LETTER_FILE.replace("[translations.de]", "[translations.en]").replace('title = "Saubere Flüsse"\n', "")
    with pytest.raises(CampaignFileError) as caught:
        parse_any(bad)
    assert any(
        "translations.en is open_letter.language, the main language" in message for message in caught.value.messages
    ), caught.value.messages
    missing = LETTER_FILE.replace('title = "Saubere Flüsse"\n', "")
    with pytest.raises(CampaignFileError) as caught:
        parse_any(missing)
    assert any("translations.de.title" in message for message in caught.value.messages), caught.value.messages


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_earlier_version_its_letter_s_language(organisation: Any) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("openletters", "0010_update_translations")])
    old = executor.loader.project_state([("openletters", "0010_update_translations")]).apps
    letter = old.get_model("openletters", "OpenLetter").objects.create(
        organisation_id=organisation.pk, slug="alte-briefe", title="Alte Briefe", text="Text", language="de"
    )
    old.get_model("openletters", "OpenLetterVersion").objects.create(
        letter_id=letter.pk, number=1, title="Alte Briefe", text="Text", text_hash="0" * 64
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # every app's latest, for the tests after this one
    assert list(OpenLetterVersion.objects.filter(letter_id=letter.pk).values_list("language", "number")) == [("de", 1)]


def test_an_arabic_tab_s_fields_read_right_to_left(french: OpenLetter, member_client: Client) -> None:
    page = member_client.get(_tab(french, "ar"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert re.search(r'<input type="text" name="title"[^>]* lang="ar" dir="rtl"', page)
    assert re.search(r'<textarea name="text"[^>]* lang="ar" dir="rtl"', page)
    assert "<h1>La lettre ouverte en arabe (ar)</h1>" in page
