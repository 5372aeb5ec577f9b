"""Which language's text a letter starts from: pure, without a database."""

from __future__ import annotations

from types import SimpleNamespace

from django.utils import translation

from undersigned.campaigns.languages import (
    CampaignText,
    campaign_texts,
    default_language,
    find_text,
    language_name,
    reading_text,
    text_in,
)

CAMPAIGN = SimpleNamespace(language="en", summary="Dark since March.", background="It links Eastfield.")
TEMPLATE = SimpleNamespace(subject="Please light it", body="Dear {{ recipient.name }}", prompts=["When?"])
FRENCH = SimpleNamespace(
    language="fr", subject="Éclairez-le", body="Madame, Monsieur", prompts=[], summary="", background=""
)
WELSH = SimpleNamespace(
    language="cy", subject="Goleuwch", body="Annwyl", prompts=["Pryd?"], summary="Tywyll.", background=""
)
TEXTS = campaign_texts(campaign=CAMPAIGN, template=TEMPLATE, translations=[FRENCH, WELSH])


def test_the_main_language_comes_first_and_fills_what_a_translation_leaves_empty() -> None:
    expected = (
        CampaignText("en", "Please light it", "Dear {{ recipient.name }}", ("When?",), "Dark since March.",
                     "It links Eastfield.", main=True),
        CampaignText("cy", "Goleuwch", "Annwyl", ("Pryd?",), "Tywyll.", "It links Eastfield.",
                     background_language="en"),
        CampaignText("fr", "Éclairez-le", "Madame, Monsieur", ("When?",), "Dark since March.", "It links Eastfield.",
                     summary_language="en", background_language="en", prompts_language="en"),
    )  # fmt: skip
    assert expected == TEXTS


def test_each_part_says_the_language_it_is_really_in() -> None:
    english, welsh, french = TEXTS
    assert (english.summary_language, english.background_language, english.prompts_language) == ("en", "en", "en")
    assert (welsh.summary_language, welsh.background_language, welsh.prompts_language) == ("cy", "en", "cy")
    assert (french.summary_language, french.background_language, french.prompts_language) == ("en", "en", "en")


def test_a_page_is_read_in_the_language_asked_for_else_the_visitor_s_else_the_main_one() -> None:
    assert reading_text(TEXTS, asked="", visitor="fr").language == "fr"
    assert reading_text(TEXTS, asked="", visitor="fr-CA").language == "fr"
    assert reading_text(TEXTS, asked="cy", visitor="fr").language == "cy"
    assert reading_text(TEXTS, asked="en", visitor="fr").language == "en"
    # Anything else asked is one of the campaign's own languages, never the string itself.
    assert reading_text(TEXTS, asked="xx-<script>", visitor="fr").language == "fr"
    assert reading_text(TEXTS, asked="de", visitor="de").language == "en"


def test_a_language_is_found_by_its_code_or_its_primary_language() -> None:
    assert find_text(TEXTS, "FR") == TEXTS[2]
    assert find_text(TEXTS, "fr-BE") == TEXTS[2]
    assert find_text(TEXTS, "de") is None
    assert find_text(TEXTS, "") is None
    assert text_in(TEXTS, "de") == TEXTS[0]


def test_a_letter_starts_in_the_language_its_recipients_read() -> None:
    assert default_language(TEXTS, ["fr"]) == "fr"
    assert default_language(TEXTS, ["fr-CH", "fr"]) == "fr"
    # Recipients of different languages, or one who gave none: the main language.
    assert default_language(TEXTS, ["fr", "cy"]) == "en"
    assert default_language(TEXTS, ["fr", ""]) == "en"
    assert default_language(TEXTS, ["de"]) == "en"
    assert default_language(TEXTS, []) == "en"


def test_a_language_s_name_inside_a_sentence_follows_the_reader_s_language() -> None:
    # Django names languages as for a list ("Français"); inside a French or Spanish
    # sentence they are written in lower case, in English and German capitalised.
    with translation.override("fr"):
        assert language_name("en") == "Anglais (en)"
        assert language_name("en", in_sentence=True) == "anglais (en)"
    with translation.override("es"):
        assert language_name("fr", in_sentence=True) == "francés (fr)"
    with translation.override("de"):
        assert language_name("fr", in_sentence=True) == "Französisch (fr)"
    with translation.override("en"):
        assert language_name("fr", in_sentence=True) == "French (fr)"
    assert language_name("x-unknown", in_sentence=True) == "x-unknown"
