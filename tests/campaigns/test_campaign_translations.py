"""A campaign's text in several languages: ``[translations.<language>]`` tables in its
file, checked with lines, written back, and carried through import and export."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import CampaignFactory
from undersigned.campaigns.campaign_files import CampaignFileError, TranslationData, dump, parse
from undersigned.campaigns.models import Campaign, CampaignTranslation
from undersigned.campaigns.services import (
    TranslationInput,
    TranslationRefused,
    export_campaign,
    get_default_organisation,
    import_campaign,
    remove_translation,
    save_translation,
)
from undersigned.core.models import ActionLog

# Three languages: English (the main one), French and Welsh. Line numbers matter below:
# the first [translations] table is on line 31.
THREE_LANGUAGES = textwrap.dedent(
    '''\
    [campaign]
    slug = "light-the-underpass"
    title = "Light the Eastfield underpass"
    summary = "The underpass has been dark since March."
    background = """
    It links Eastfield to the station.
    - It floods
    """
    language = "en"

    [[recipients]]
    name = "Councillor Rowan Ashby"
    email = "rowan.ashby@wendmouth.example"
    language = "en"

    [[recipients]]
    name = "Conseillère Élise Marchand"
    email = "elise.marchand@wendmouth.example"
    language = "fr"

    [letter]
    subject = "Please light the underpass"
    body = """
    Dear {{ recipient.name }},

    Please light it.

    {{ supporter.name }}"""
    prompts = ["How do you use the underpass?"]

    [translations.fr]
    subject = "Éclairez le passage souterrain"
    body = """
    Madame, Monsieur {{ recipient.name }},

    Éclairez-le, s'il vous plaît.

    {{ supporter.name }}"""
    prompts = ["Quand l'utilisez-vous ?", "Quand est-il le plus sombre ?"]
    summary = "Le passage est sombre depuis mars."
    background = """
    Il relie Eastfield à la gare.
    """

    [translations.cy]
    subject = "Goleuwch y twnnel"
    body = "Annwyl {{ recipient.name }}, goleuwch y twnnel. {{ supporter.name }}"
    '''
)


def test_a_file_in_three_languages_reads_each_translation_in_language_order() -> None:
    data = parse(THREE_LANGUAGES)

    assert data.language == "en"
    assert data.letter.subject == "Please light the underpass"
    assert data.translations == (
        TranslationData(
            language="cy",
            subject="Goleuwch y twnnel",
            body="Annwyl {{ recipient.name }}, goleuwch y twnnel. {{ supporter.name }}",
        ),
        TranslationData(
            language="fr",
            subject="Éclairez le passage souterrain",
            body="Madame, Monsieur {{ recipient.name }},\n\nÉclairez-le, s'il vous plaît.\n\n{{ supporter.name }}",
            prompts=("Quand l'utilisez-vous ?", "Quand est-il le plus sombre ?"),
            summary="Le passage est sombre depuis mars.",
            background="Il relie Eastfield à la gare.\n",
        ),
    )


@pytest.mark.django_db
def test_a_file_in_three_languages_round_trips_through_import_and_export() -> None:
    organisation = get_default_organisation()
    campaign, created = import_campaign(organisation=organisation, data=parse(THREE_LANGUAGES))

    assert created
    rows = list(CampaignTranslation.objects.filter(campaign=campaign).values_list("language", "subject", "prompts"))
    assert rows == [
        ("cy", "Goleuwch y twnnel", []),
        ("fr", "Éclairez le passage souterrain", ["Quand l'utilisez-vous ?", "Quand est-il le plus sombre ?"]),
    ]
    exported = export_campaign(campaign)
    assert exported == parse(THREE_LANGUAGES)
    text = dump(exported)
    assert "[translations.cy]" in text
    assert "[translations.fr]" in text
    # The exported text reads back to the same campaign, and writes the same text again.
    assert parse(text) == exported
    again, created_again = import_campaign(organisation=organisation, data=parse(text))
    assert (again.pk, created_again) == (campaign.pk, False)
    assert dump(export_campaign(again)) == text
    log = ActionLog.objects.filter(action="campaign.updated").get()
    assert log.data["languages"] == ["cy", "fr"]


@pytest.mark.django_db
def test_a_language_left_out_of_the_file_leaves_the_campaign_on_import() -> None:
    organisation = get_default_organisation()
    data = parse(THREE_LANGUAGES)
    campaign, _ = import_campaign(organisation=organisation, data=data)

    import_campaign(organisation=organisation, data=replace(data, translations=data.translations[1:]))

    assert list(CampaignTranslation.objects.filter(campaign=campaign).values_list("language", flat=True)) == ["fr"]


def test_a_file_of_one_language_is_written_as_before_without_translations() -> None:
    data = replace(parse(THREE_LANGUAGES), translations=())

    assert "translations" not in dump(data)


def test_no_text_in_a_translation_changes_the_file_s_structure() -> None:
    hostile = 'Ends a string """\n[translations.de]\nsubject = "decoy"\n"""\r\n\\'
    data = parse(THREE_LANGUAGES)
    changed = replace(
        data, translations=(replace(data.translations[0], body=hostile, summary=hostile, prompts=("x\\",)),)
    )

    assert parse(dump(changed)) == changed


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[translations.en]\nsubject = "x"\nbody = "y"\n',
            "line 31: translations.en is campaign.language, the main language: "
            "its text goes in [campaign] and [letter]",
        ),
        (
            '[translations.French]\nsubject = "x"\nbody = "y"\n',
            'line 31: translations.French: "French" must be a language code such as "fr" or "pt-BR"',
        ),
        ('[translations.de]\nsubject = "Bitte"\n', "line 31: translations.de.body is required"),
        (
            '[translations.de]\nsubject = "x"\nbody = "Hallo {{ recipient.nme }}"\n',
            "line 33: translations.de.body uses unknown placeholder {{ recipient.nme }} "
            "(did you mean {{ recipient.name }}?); known: supporter.name, supporter.first_name, supporter.town, "
            "supporter.country, recipient.name, recipient.role, recipient.organisation, campaign.title",
        ),
        (
            '[translations.de]\nsubject = "x"\nbody = "y"\nsubjet = "z"\n',
            "line 34: unknown key translations.de.subjet; did you mean translations.de.subject?",
        ),
        (
            '[translations.de]\nsubject = "x"\nbody = "y"\n[translations.DE]\nsubject = "x"\nbody = "y"\n',
            "line 34: translations.DE repeats translations.de",
        ),
        (
            '[translations.de]\nsubject = "x"\nbody = "y"\nsummary = "' + "z" * 1001 + '"\n',
            "line 34: translations.de.summary is 1001 characters long; the limit is 1000",
        ),
    ],
)
def test_a_wrong_translation_is_named_with_its_line(table: str, message: str) -> None:
    text = THREE_LANGUAGES.split("[translations.fr]")[0] + table

    with pytest.raises(CampaignFileError) as caught:
        parse(text)

    assert caught.value.messages == [message]


def test_too_many_languages_are_refused(settings: Any) -> None:
    settings.CAMPAIGN_TRANSLATIONS_MAX = 1

    with pytest.raises(CampaignFileError) as caught:
        parse(THREE_LANGUAGES)

    assert caught.value.messages == ["line 45: translations lists 2 languages; the limit is 1 per campaign"]


@pytest.mark.django_db
def test_saving_or_removing_a_translation_moves_the_campaign_s_stamp_for_its_kept_pages(organiser: Any) -> None:
    campaign = CampaignFactory(language="en")
    before = timezone.now()
    text = TranslationInput(subject="Objet", body="Texte", prompts=(), summary="", background="")

    assert save_translation(campaign=campaign, language="fr", data=text, actor=organiser) is True
    assert save_translation(campaign=campaign, language="fr", data=text, actor=organiser) is False
    assert Campaign.objects.get(pk=campaign.pk).updated_at >= before
    stamp = Campaign.objects.get(pk=campaign.pk).updated_at
    assert remove_translation(campaign=campaign, language="fr", actor=organiser) is True
    assert remove_translation(campaign=campaign, language="fr", actor=organiser) is False
    assert Campaign.objects.get(pk=campaign.pk).updated_at > stamp
    assert not CampaignTranslation.objects.filter(campaign=campaign).exists()
    actions = list(
        ActionLog.objects.filter(action__startswith="campaign.translation").order_by("pk").values_list("action", "data")
    )
    assert actions == [
        ("campaign.translation_saved", {"language": "fr", "created": True}),
        ("campaign.translation_saved", {"language": "fr", "created": False}),
        ("campaign.translation_removed", {"language": "fr"}),
    ]


@pytest.mark.django_db
def test_the_main_language_takes_no_translation(organiser: Any) -> None:
    campaign = CampaignFactory(language="en")
    text = TranslationInput(subject="Subject", body="Text", prompts=(), summary="", background="")

    with pytest.raises(TranslationRefused):
        save_translation(campaign=campaign, language="EN", data=text, actor=organiser)
