"""Campaign files: parsing and its messages, writing, and the round trip through the database."""

from __future__ import annotations

import textwrap
from dataclasses import replace as replace_fields
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings

from tests.factories import CampaignFactory, OrganisationFactory, RecipientFactory
from undersigned.campaigns.campaign_files import (
    CHANNELS,
    MAX_LENGTHS,
    Author,
    CampaignFile,
    CampaignFileError,
    LetterTemplateData,
    RecipientData,
    dump,
    parse,
)
from undersigned.campaigns.models import Campaign, CampaignRecipient, LetterTemplate, Recipient
from undersigned.campaigns.services import export_campaign, get_default_organisation, import_campaign
from undersigned.core.models import ActionLog
from undersigned.demo import campaign_file_texts
from undersigned.organisations.models import Organisation

KNOWN_LIST = (
    "supporter.name, supporter.first_name, supporter.town, supporter.country, "
    "recipient.name, recipient.role, recipient.organisation, campaign.title"
)

# Line numbers matter to the tests below: keep the layout when editing.
VALID = textwrap.dedent(
    '''\
    [campaign]
    slug = "keep-the-riverside-path-open"
    title = "Keep the riverside path open"
    summary = "The council plans to close the only safe walking route to Wendmouth Primary."
    background = """
    The **riverside path** links the Eastfield estate to the school.

    - it is lit;
    - it is flat.
    """
    deadline = 2027-03-31
    tags = ["walking", "schools"]
    language = "en"
    status = "live"
    min_uniqueness = 30

    [campaign.author]
    name = "Mina Okafor"
    role = "Parent governor"
    place = "Wendmouth"

    [[recipients]]
    name = "Councillor Rowan Ashby"
    role = "Chair of the Planning Committee"
    organisation = "Wendmouth Borough Council"
    email = "chair@council.example"
    web_form_url = "https://council.example/contact"
    postal_address = """
    Town Hall
    1 Market Square
    Wendmouth"""
    country = "GB"
    language = "en"

    [[recipients]]
    name = "Ing. Jana Šimůnková"
    postal_address = "Na Výsluní 14\\n602 00 Brno"
    country = "CZ"

    [letter]
    subject = "Please keep the riverside path open"
    body = """
    Dear {{ recipient.name }},

    I live in {{ supporter.town }}.

    {{ supporter.name }}"""
    prompts = ["How do you use the path?", "What would closing it mean for you?"]
    channels = ["mailto", "post"]
    language = "en"
    '''
)

RIVERSIDE = CampaignFile(
    slug="keep-the-riverside-path-open",
    title="Keep the riverside path open",
    summary="The council plans to close the only safe walking route to Wendmouth Primary.",
    background="The **riverside path** links the Eastfield estate to the school.\n\n- it is lit;\n- it is flat.\n",
    deadline=datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC),
    tags=("walking", "schools"),
    language="en",
    status="live",
    min_uniqueness=30,
    author=Author(name="Mina Okafor", role="Parent governor", place="Wendmouth"),
    recipients=(
        RecipientData(
            name="Councillor Rowan Ashby",
            role="Chair of the Planning Committee",
            organisation="Wendmouth Borough Council",
            email="chair@council.example",
            web_form_url="https://council.example/contact",
            postal_address="Town Hall\n1 Market Square\nWendmouth",
            country="GB",
            language="en",
        ),
        RecipientData(name="Ing. Jana Šimůnková", postal_address="Na Výsluní 14\n602 00 Brno", country="CZ"),
    ),
    letter=LetterTemplateData(
        subject="Please keep the riverside path open",
        body="Dear {{ recipient.name }},\n\nI live in {{ supporter.town }}.\n\n{{ supporter.name }}",
        prompts=("How do you use the path?", "What would closing it mean for you?"),
        channels=("mailto", "post"),
        language="en",
    ),
)

MINIMAL = textwrap.dedent(
    """\
    [campaign]
    slug = "path"
    title = "Keep the path open"

    [[recipients]]
    name = "Rowan Ashby"
    email = "chair@council.example"

    [letter]
    subject = "The path"
    body = "Dear {{ recipient.name }}"
    """
)


def problems(text: str) -> list[str]:
    with pytest.raises(CampaignFileError) as info:
        parse(text)
    return info.value.messages


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --- Reading a valid file ----------------------------------------------------------


def test_a_valid_file_is_read_into_dataclasses() -> None:
    assert parse(VALID) == RIVERSIDE


def test_optional_keys_take_their_defaults() -> None:
    result = parse(MINIMAL)
    assert result == CampaignFile(
        slug="path",
        title="Keep the path open",
        recipients=(RecipientData(name="Rowan Ashby", email="chair@council.example"),),
        letter=LetterTemplateData(subject="The path", body="Dear {{ recipient.name }}"),
    )
    assert result.status == "draft"
    assert result.language == "en"
    assert result.deadline is None
    assert result.min_uniqueness == 0
    assert result.author == Author(name="", role="", place="")
    assert result.letter.channels == ("mailto", "email", "web_form", "post")
    assert result.letter.prompts == ()


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2027-03-31", datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)),
        ("2027-03-31T17:00:00Z", datetime(2027, 3, 31, 17, 0, tzinfo=UTC)),
        ("2027-03-31T17:00:00+02:00", datetime(2027, 3, 31, 15, 0, tzinfo=UTC)),
        ("2027-03-31T17:00:00", datetime(2027, 3, 31, 17, 0, tzinfo=UTC)),
        ("2027-03-31 08:30:00.250000-05:00", datetime(2027, 3, 31, 13, 30, 0, 250000, tzinfo=UTC)),
    ],
)
def test_deadlines_are_stored_as_utc(written: str, stored: datetime) -> None:
    result = parse(replace(MINIMAL, 'title = "Keep the path open"\n', f'title = "x"\ndeadline = {written}\n'))
    assert result.deadline == stored
    assert result.deadline is not None
    assert result.deadline.utcoffset() is not None
    assert result.deadline.utcoffset() == datetime(2027, 1, 1, tzinfo=UTC).utcoffset()


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse("\ufeff" + MINIMAL) == parse(MINIMAL)


def test_every_demo_file_is_valid_and_round_trips() -> None:
    files = campaign_file_texts()
    assert [name for name, _ in files] == ["riverside-path.toml", "bus-to-every-trailhead.toml"]
    for _name, text in files:
        result = parse(text)
        assert result.status == "live"
        assert parse(dump(result)) == result


# --- Messages ----------------------------------------------------------------------


def test_a_toml_syntax_error_names_line_and_column() -> None:
    text = replace(MINIMAL, 'title = "Keep the path open"', 'title "Keep the path open"')
    assert problems(text) == ["line 3, column 7: not valid TOML: Expected '=' after a key in a key/value pair"]


def test_a_syntax_error_found_at_the_end_names_the_last_line() -> None:
    text = MINIMAL + 'summary = """\nnever closed\n'
    assert problems(text) == ["line 13 (end of file): not valid TOML: Unterminated string"]


def test_missing_tables_are_named() -> None:
    assert problems("") == [
        "campaign is required: add a [campaign] table",
        "letter is required: add a [letter] table",
        "recipients is required: add at least one [[recipients]] table with a name",
    ]


def test_required_keys_are_named_with_the_line_of_their_table() -> None:
    text = textwrap.dedent(
        """\
        [campaign]
        summary = "A summary"

        [[recipients]]
        role = "Chair"
        email = "chair@council.example"

        [letter]
        subject = "  "
        """
    )
    assert problems(text) == [
        "line 1: campaign.slug is required",
        "line 1: campaign.title is required",
        "line 4: recipients[1].name is required",
        "line 8: letter.body is required",
        "line 9: letter.subject is required",
    ]


def test_unknown_keys_are_refused_with_a_suggestion() -> None:
    text = replace(VALID, 'title = "Keep', 'titel = "Keep')
    text = replace(text, 'email = "chair@', 'emial = "chair@')
    text = replace(text, "[letter]", "[letter]\ncolour = 'green'")
    text = text + "\n[recipient]\nname = 'x'\n"
    assert problems(text) == [
        "line 1: campaign.title is required",
        "line 3: unknown key campaign.titel; did you mean campaign.title?",
        "line 26: unknown key recipients[1].emial; did you mean recipients[1].email?",
        "line 41: unknown key letter.colour; known keys: subject, body, prompts, channels, language",
        "line 53: unknown key recipient; did you mean recipients?",
    ]


def test_wrong_types_are_named() -> None:
    text = replace(VALID, 'tags = ["walking", "schools"]', 'tags = "walking"')
    text = replace(text, 'title = "Keep the riverside path open"', "title = 12")
    text = replace(text, "min_uniqueness = 30", "min_uniqueness = true")
    text = replace(text, "deadline = 2027-03-31", 'deadline = "2027-03-31"')
    text = replace(text, 'prompts = ["How do you use the path?"', 'prompts = [3, "How do you use the path?"')
    assert problems(text) == [
        "line 3: campaign.title must be a string",
        "line 11: campaign.deadline must be a date (2027-03-31) or a date and time (2027-03-31T17:00:00Z), "
        "without quotes",
        "line 12: campaign.tags must be a list of strings",
        "line 15: campaign.min_uniqueness must be a whole number from 0 to 100",
        "line 48: letter.prompts must be a list of strings",
    ]


def test_tables_of_the_wrong_shape_are_named() -> None:
    text = textwrap.dedent(
        """\
        letter = "Dear council"

        [campaign]
        slug = "path"
        title = "Path"
        author = "Mina Okafor"

        [recipients]
        name = "Rowan Ashby"
        """
    )
    assert problems(text) == [
        "line 1: letter must be a table",
        "line 6: campaign.author must be a table",
        "line 8: recipients must be a list of tables, one [[recipients]] per recipient",
    ]


def test_slug_status_and_percent_are_checked() -> None:
    text = replace(VALID, 'slug = "keep-the-riverside-path-open"', 'slug = "keep the path/open"')
    text = replace(text, 'status = "live"', 'status = "open"')
    text = replace(text, "min_uniqueness = 30", "min_uniqueness = 101")
    text = replace(text, "min_uniqueness = 101", 'min_uniqueness = 101\nposts_for_supporters = "yes"')
    assert problems(text) == [
        'line 2: campaign.slug "keep the path/open" may only contain letters, digits, hyphens and underscores, '
        'e.g. "keep-the-path-open"',
        'line 14: campaign.status must be one of draft, live, closed, archived, not "open"',
        "line 15: campaign.min_uniqueness must be a whole number from 0 to 100",
        "line 16: campaign.posts_for_supporters must be true or false",
    ]


def test_lengths_follow_the_model_limits() -> None:
    text = replace(VALID, 'title = "Keep the riverside path open"', f'title = "{"x" * 201}"')
    text = replace(text, 'name = "Mina Okafor"', f'name = "{"M" * 201}"')
    text = replace(text, 'tags = ["walking", "schools"]', f'tags = ["walking", "{"s" * 51}", ""]')
    text = replace(text, 'subject = "Please keep the riverside path open"', f'subject = "{"s" * 200}"')
    assert problems(text) == [
        "line 3: campaign.title is 201 characters long; the limit is 200",
        "line 12: campaign.tags[2] is 51 characters long; the limit is 50",
        "line 12: campaign.tags[3] must not be empty",
        "line 18: campaign.author.name is 201 characters long; the limit is 200",
    ]


def test_the_limits_are_those_of_the_model_fields() -> None:
    fields = {
        "campaign.slug": (Campaign, "slug"),
        "campaign.title": (Campaign, "title"),
        "campaign.summary": (Campaign, "summary"),
        "campaign.language": (Campaign, "language"),
        "campaign.author.name": (Campaign, "author_name"),
        "campaign.author.role": (Campaign, "author_role"),
        "campaign.author.place": (Campaign, "author_place"),
        "recipients.name": (Recipient, "name"),
        "recipients.role": (Recipient, "role"),
        "recipients.organisation": (Recipient, "organisation_name"),
        "recipients.email": (Recipient, "email"),
        "recipients.web_form_url": (Recipient, "web_form_url"),
        "recipients.language": (Recipient, "language"),
        "letter.subject": (LetterTemplate, "subject"),
        "letter.language": (LetterTemplate, "language"),
    }
    for key, (model, name) in fields.items():
        field = model._meta.get_field(name)
        assert MAX_LENGTHS[key] == getattr(field, "max_length", None), key
    assert MAX_LENGTHS["letter.body"] == settings.LETTER_BODY_MAX_CHARS


def test_single_line_fields_refuse_line_breaks() -> None:
    text = replace(VALID, 'subject = "Please keep the riverside path open"', 'subject = "Please\\nBcc: x@evil.example"')
    text = replace(text, 'role = "Parent governor"', 'role = """\nParent\ngovernor"""')
    assert problems(text) == [
        "line 19: campaign.author.role must be a single line",
        "line 43: letter.subject must be a single line",
    ]


def test_emails_urls_languages_and_countries_are_checked() -> None:
    text = replace(VALID, 'email = "chair@council.example"', 'email = "chair(at)council.example"')
    text = replace(text, '"https://council.example/contact"', '"javascript:alert(1)"')
    text = replace(text, 'country = "GB"', 'country = "gb"')
    text = replace(text, 'country = "CZ"', 'country = "XX"')
    text = replace(text, 'language = "en"', 'language = "English"')
    assert problems(text) == [
        'line 13: campaign.language "English" must be a language code such as "en" or "pt-BR"',
        'line 26: recipients[1].email "chair(at)council.example" is not a valid email address',
        'line 27: recipients[1].web_form_url "javascript:alert(1)" must be a web address starting with '
        "http:// or https://",
        'line 32: recipients[1].country "gb" is not an ISO 3166-1 alpha-2 country code; did you mean "GB"?',
        'line 38: recipients[2].country "XX" is not an ISO 3166-1 alpha-2 country code '
        '(two letters, such as "GB" or "CZ")',
    ]


def test_ftp_addresses_are_not_web_forms() -> None:
    text = replace(VALID, '"https://council.example/contact"', '"ftp://council.example/contact"')
    assert problems(text) == [
        'line 27: recipients[1].web_form_url "ftp://council.example/contact" must be a web address starting with '
        "http:// or https://"
    ]


def test_a_recipient_needs_a_way_to_reach_them() -> None:
    text = replace(VALID, 'postal_address = "Na Výsluní 14\\n602 00 Brno"\n', "")
    assert problems(text) == [
        'line 35: recipients[2] ("Ing. Jana Šimůnková") needs at least one of email, web_form_url, postal_address'
    ]


def test_a_recipient_listed_twice_is_refused() -> None:
    text = VALID.replace(
        "[letter]", '[[recipients]]\nname = "Councillor Rowan Ashby"\nemail = "CHAIR@council.example"\n\n[letter]'
    )
    assert problems(text) == ["line 40: recipients[3] repeats recipients[1] (same name and email)"]


def test_channels_are_checked() -> None:
    text = replace(VALID, 'channels = ["mailto", "post"]', 'channels = ["mailto", "fax", "mailto"]')
    assert problems(text) == [
        'line 49: letter.channels has unknown channel "fax"; known: mailto, email, web_form, post',
        'line 49: letter.channels lists "mailto" twice',
    ]
    text = replace(VALID, 'channels = ["mailto", "post"]', "channels = []")
    assert problems(text) == ["line 49: letter.channels must list at least one of mailto, email, web_form, post"]


def test_unknown_placeholders_are_refused() -> None:
    text = replace(VALID, "I live in {{ supporter.town }}.", "My shoes are {{ supporter.shoe_size }}.")
    text = replace(text, 'subject = "Please keep', 'subject = "{{recipient.nmae}}, please keep')
    assert problems(text) == [
        "line 41: letter.subject uses unknown placeholder {{ recipient.nmae }} (did you mean {{ recipient.name }}?); "
        f"known: {KNOWN_LIST}",
        f"line 42: letter.body uses unknown placeholder {{{{ supporter.shoe_size }}}}; known: {KNOWN_LIST}",
    ]


def test_all_problems_are_reported_at_once_in_file_order() -> None:
    text = replace(VALID, 'slug = "keep-the-riverside-path-open"', 'slug = ""')
    text = replace(text, 'country = "CZ"', 'country = "Czechia"')
    text = replace(text, 'channels = ["mailto", "post"]', 'channels = ["pigeon"]')
    assert problems(text) == [
        "line 2: campaign.slug is required",
        'line 38: recipients[2].country "Czechia" is not an ISO 3166-1 alpha-2 country code '
        '(two letters, such as "GB" or "CZ")',
        'line 49: letter.channels has unknown channel "pigeon"; known: mailto, email, web_form, post',
    ]


def test_lines_are_found_past_strings_that_look_like_toml() -> None:
    text = replace(
        VALID,
        'body = """\nDear',
        'body = \'\'\'\n[campaign]\nslug = "decoy"\n\'\'\'\nbackground_music = """\n[letter]\ntitle = 1\n"""\n'
        'dummy = """\nDear',
    )
    text = replace(text, 'channels = ["mailto", "post"]', 'channels = ["fax"]')
    assert problems(text) == [
        "line 46: unknown key letter.background_music; known keys: subject, body, prompts, channels, language",
        "line 50: unknown key letter.dummy; known keys: subject, body, prompts, channels, language",
        'line 57: letter.channels has unknown channel "fax"; known: mailto, email, web_form, post',
    ]


def test_keys_in_inline_tables_use_the_line_of_their_table() -> None:
    text = textwrap.dedent(
        """\
        [campaign]
        slug = "path"
        title = "Path"
        author = { name = "Mina", rank = "Governor" }
        recipients = [
          { name = "Rowan Ashby", email = "bad" },
        ]

        [letter]
        subject = "Hello"
        body = "Dear {{ recipient.name }}"
        """
    )
    assert problems(text) == [
        "recipients is required: add at least one [[recipients]] table with a name",
        "line 4: unknown key campaign.author.rank; known keys: name, role, place",
        # The nearest known key (a group campaign's) is suggested.
        "line 5: unknown key campaign.recipients; did you mean campaign.recipient_group?",
    ]
    top_level = textwrap.dedent(
        """\
        recipients = [
          { name = "Rowan Ashby", email = "bad" },
        ]
        [campaign]
        slug = "path"
        title = "Path"
        [letter]
        subject = "Hello"
        body = "Dear {{ recipient.name }}"
        """
    )
    assert problems(top_level) == ['line 1: recipients[1].email "bad" is not a valid email address']


# --- Writing -----------------------------------------------------------------------

TRICKY_NAMES = ["O'Brien", "Ing. Jana Šimůnková", "王秀英", "ليلى بنعلي", 'Rowan "Ro" Ashby', "C:\\Users\\Ashby"]
TRICKY_BODIES = [
    'A body with """ triple quotes """ and "" pairs and a last quote"',
    'Ends with two quotes ""',
    '""""" five quotes, then \\ a backslash\\\nat the end of a line\\',
    "\nStarts with a line break\r\nhas CRLF, a tab\there, a bell \x07, a DEL \x7f and a NUL \x00\n",
    "Trailing line break\n",
    "{{ supporter.name }} wrote '''literal''' quotes and \\u00e9 is not an escape\n",
]


@pytest.mark.parametrize("name", TRICKY_NAMES)
@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_dump_then_parse_gives_back_the_same_value(name: str, body: str) -> None:
    original = CampaignFile(
        slug="tricky",
        title=f"A letter to {name}",
        summary=body,
        background=body,
        tags=(name, "walking"),
        author=Author(name=name, role="Author \\ editor", place="Wendmouth"),
        recipients=(
            RecipientData(name=name, email="x@council.example", postal_address=body, organisation=name),
            RecipientData(name="中村 千尋", postal_address="東京都\n千代田区"),
        ),
        letter=LetterTemplateData(subject=f"To {name}", body=body, prompts=(f"What did {name} say?",)),
    )
    text = dump(original)
    assert parse(text) == original
    assert dump(parse(text)) == text


def test_dump_escapes_as_toml_requires() -> None:
    original = parse(MINIMAL)
    tricky = CampaignFile(
        slug=original.slug,
        title='Rowan "Ro" O\'Brien \\ Šimůnková\t王秀英',
        summary="",
        background='Say """hi""" and "bye"',
        recipients=(RecipientData(name="Rowan", email="r@council.example", postal_address="Town Hall\nWendmouth"),),
        letter=LetterTemplateData(subject="Bell \x07", body='Line one\nline "two"\nback\\slash "'),
    )
    text = dump(tricky)
    assert 'title = "Rowan \\"Ro\\" O\'Brien \\\\ Šimůnková\\t王秀英"\n' in text
    assert 'background = "Say \\"\\"\\"hi\\"\\"\\" and \\"bye\\""\n' in text
    assert 'postal_address = """\nTown Hall\nWendmouth"""\n' in text
    assert 'subject = "Bell \\u0007"\n' in text
    # TOML allows two quotes right before the closing delimiter, so a last quote needs no escape.
    assert 'body = """\nLine one\nline "two"\nback\\\\slash """"\n' in text
    assert parse(text) == tricky


def test_a_triple_quote_in_a_multi_line_string_is_broken_up() -> None:
    body = 'He said """no""" twice\nand left'
    original = parse(MINIMAL)
    text = dump(
        CampaignFile(slug=original.slug, title=original.title, recipients=original.recipients,
                     letter=LetterTemplateData(subject="s", body=body))
    )  # fmt: skip
    assert 'body = """\nHe said ""\\"no""\\" twice\nand left"""\n' in text
    assert parse(text).letter.body == body


def test_dump_writes_every_key_in_a_fixed_layout() -> None:
    assert dump(parse(MINIMAL)) == textwrap.dedent(
        """\
        # Undersigned campaign file; the format is described in docs/campaign-files.md

        [campaign]
        slug = "path"
        title = "Keep the path open"
        summary = ""
        background = ""
        tags = []
        language = "en"
        status = "draft"
        min_uniqueness = 0
        posts_for_supporters = false

        [campaign.author]
        name = ""
        role = ""
        place = ""

        [[recipients]]
        name = "Rowan Ashby"
        role = ""
        organisation = ""
        email = "chair@council.example"
        web_form_url = ""
        postal_address = ""
        country = ""
        language = ""
        max_emails_per_minute = 0
        daily_digest = false

        [letter]
        subject = "The path"
        body = "Dear {{ recipient.name }}"
        prompts = []
        channels = ["mailto", "email", "web_form", "post"]
        language = ""
        """
    )


@pytest.mark.parametrize(
    ("deadline", "written"),
    [
        (datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC), "deadline = 2027-03-31\n"),
        (datetime(2027, 3, 31, 17, 0, tzinfo=UTC), "deadline = 2027-03-31T17:00:00Z\n"),
        (datetime(2027, 3, 31, 17, 0, 0, 5, tzinfo=UTC), "deadline = 2027-03-31T17:00:00.000005Z\n"),
    ],
)
def test_deadlines_are_written_in_utc(deadline: datetime, written: str) -> None:
    original = parse(MINIMAL)
    value = CampaignFile(
        slug=original.slug, title=original.title, deadline=deadline,
        recipients=original.recipients, letter=original.letter,
    )  # fmt: skip
    text = dump(value)
    assert written in text
    assert parse(text).deadline == deadline


def test_long_lists_are_written_one_item_a_line() -> None:
    prompts = ("How do you use the riverside path?", "What would closing it mean for your family?")
    text = dump(_with(RIVERSIDE, letter=replace_fields(RIVERSIDE.letter, prompts=prompts)))
    assert 'tags = ["walking", "schools"]\n' in text
    assert (
        'prompts = [\n    "How do you use the riverside path?",\n'
        '    "What would closing it mean for your family?",\n]\n' in text
    )


# --- The round trip through the database ---------------------------------------------


@pytest.mark.django_db
def test_import_then_export_gives_back_the_file(organisation: Any) -> None:
    campaign, created = import_campaign(organisation=organisation, data=RIVERSIDE)
    assert created is True
    assert campaign.organisation == organisation
    assert export_campaign(campaign) == RIVERSIDE


@pytest.mark.django_db
def test_import_export_import_changes_nothing(organisation: Any) -> None:
    for _name, text in campaign_file_texts():
        data = parse(text)
        campaign, _ = import_campaign(organisation=organisation, data=data)
        exported = dump(export_campaign(campaign))
        recipient_ids = list(CampaignRecipient.objects.filter(campaign=campaign).values_list("recipient_id", flat=True))

        again, created = import_campaign(organisation=organisation, data=parse(exported))

        assert created is False
        assert again.pk == campaign.pk
        assert export_campaign(again) == data
        assert dump(export_campaign(again)) == exported
        assert dump(export_campaign(again)) == exported  # stable: twice the same text
        assert (
            list(CampaignRecipient.objects.filter(campaign=campaign).values_list("recipient_id", flat=True))
            == recipient_ids
        )
    assert Recipient.objects.filter(organisation=organisation).count() == 7
    assert LetterTemplate.objects.count() == 2


@pytest.mark.django_db
def test_the_stored_rows_hold_the_file_values(organisation: Any) -> None:
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE)
    campaign.refresh_from_db()
    assert campaign.slug == "keep-the-riverside-path-open"
    assert campaign.status == "live"
    assert campaign.tags == ["walking", "schools"]
    assert campaign.deadline == datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert campaign.min_uniqueness == 30
    assert (campaign.author_name, campaign.author_role, campaign.author_place) == (
        "Mina Okafor", "Parent governor", "Wendmouth",
    )  # fmt: skip
    template = campaign.template
    assert template.subject == "Please keep the riverside path open"
    assert template.prompts == ["How do you use the path?", "What would closing it mean for you?"]
    assert template.channels == ["mailto", "post"]
    links = list(CampaignRecipient.objects.filter(campaign=campaign).select_related("recipient"))
    assert [(link.position, link.recipient.name) for link in links] == [
        (0, "Councillor Rowan Ashby"),
        (1, "Ing. Jana Šimůnková"),
    ]
    assert links[0].recipient.organisation_name == "Wendmouth Borough Council"
    assert links[1].recipient.address_lines == ["Na Výsluní 14", "602 00 Brno"]


@pytest.mark.django_db
def test_import_logs_what_it_did(organisation: Any, organiser: Any) -> None:
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE, actor=organiser)
    import_campaign(organisation=organisation, data=RIVERSIDE)
    rows = list(ActionLog.objects.filter(object_type="campaigns.campaign").order_by("id"))
    ids = list(CampaignRecipient.objects.filter(campaign=campaign).values_list("recipient_id", flat=True))
    assert [(row.action, row.actor, row.object_id, row.data) for row in rows] == [
        ("campaign.created", organiser, str(campaign.pk), {"source": "campaign_file", "recipients": ids}),
        ("campaign.updated", None, str(campaign.pk), {"source": "campaign_file", "recipients": ids}),
    ]


@pytest.mark.django_db
def test_import_never_resets_letters_sent(organisation: Any) -> None:
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE)
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=41)
    import_campaign(organisation=organisation, data=RIVERSIDE)
    campaign.refresh_from_db()
    assert campaign.letters_sent == 41


@pytest.mark.django_db
def test_import_follows_the_file_order_and_drops_unlisted_recipients(organisation: Any) -> None:
    extra = RecipientData(name="Dr Amara Nwosu", email="environment@council.example")
    first, second = RIVERSIDE.recipients
    campaign, _ = import_campaign(organisation=organisation, data=_with(RIVERSIDE, recipients=(first, second, extra)))
    import_campaign(organisation=organisation, data=_with(RIVERSIDE, recipients=(extra, first)))

    assert [r.name for r in export_campaign(campaign).recipients] == ["Dr Amara Nwosu", "Councillor Rowan Ashby"]
    # Dropped from the campaign, kept by the organisation for other campaigns.
    assert Recipient.objects.filter(organisation=organisation, name="Ing. Jana Šimůnková").count() == 1
    assert Recipient.objects.filter(organisation=organisation).count() == 3


@pytest.mark.django_db
def test_recipients_are_matched_and_updated(organisation: Any) -> None:
    # The organisation already knows the chair (from another campaign), with a bounced address.
    known = RecipientFactory(
        organisation=organisation, name="Councillor Rowan Ashby", email="Chair@Council.example", role="Old role"
    )
    other_campaign = CampaignFactory(organisation=organisation, slug="another", recipients=[known])
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE)
    known.refresh_from_db()
    assert export_campaign(campaign).recipients[0] == RIVERSIDE.recipients[0]
    assert known.role == "Chair of the Planning Committee"  # one recipient, updated for every campaign
    assert other_campaign.recipients.get() == known
    assert CampaignRecipient.objects.get(campaign=campaign, position=0).recipient == known

    # Without an email, the recipient already on this campaign is the match.
    jana = CampaignRecipient.objects.get(campaign=campaign, position=1).recipient
    moved = _with_recipient(RIVERSIDE, 1, postal_address="Nová 3\nBrno")
    import_campaign(organisation=organisation, data=moved)
    jana.refresh_from_db()
    assert jana.postal_address == "Nová 3\nBrno"
    assert Recipient.objects.filter(organisation=organisation).count() == 2


@pytest.mark.django_db
def test_a_changed_email_clears_the_bounce_flag(organisation: Any) -> None:
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE)
    Recipient.objects.filter(organisation=organisation).update(email_flagged_at=datetime(2026, 11, 1, tzinfo=UTC))
    import_campaign(organisation=organisation, data=RIVERSIDE)
    assert Recipient.objects.filter(email_flagged_at__isnull=False).count() == 2  # same email: flag kept

    jana_with_email = _with_recipient(RIVERSIDE, 1, email="jana@brno.example")
    import_campaign(organisation=organisation, data=jana_with_email)
    jana = CampaignRecipient.objects.get(campaign=campaign, position=1).recipient
    assert jana.email == "jana@brno.example"
    assert jana.email_flagged_at is None


@pytest.mark.django_db
def test_a_recipient_without_email_is_not_matched_to_another_campaigns_addressee(organisation: Any) -> None:
    elsewhere = RecipientFactory(organisation=organisation, name="Ing. Jana Šimůnková", email="jana@brno.example")
    import_campaign(organisation=organisation, data=RIVERSIDE)
    elsewhere.refresh_from_db()
    assert elsewhere.email == "jana@brno.example"
    assert Recipient.objects.filter(organisation=organisation, name="Ing. Jana Šimůnková").count() == 2


@pytest.mark.django_db
def test_an_entry_with_an_email_keeps_its_row_before_a_same_named_one_without(organisation: Any) -> None:
    campaign, _ = import_campaign(organisation=organisation, data=RIVERSIDE)
    chair = CampaignRecipient.objects.get(campaign=campaign, position=0).recipient
    first = RIVERSIDE.recipients[0]
    office = replace_fields(first, email="", web_form_url="", postal_address="Planning Office\nTown Hall")
    import_campaign(organisation=organisation, data=_with(RIVERSIDE, recipients=(office, first)))
    links = list(CampaignRecipient.objects.filter(campaign=campaign).select_related("recipient"))
    assert [(link.recipient.pk == chair.pk, link.recipient.email) for link in links] == [
        (False, ""),
        (True, "chair@council.example"),
    ]


@pytest.mark.django_db
def test_a_slug_of_another_organisation_is_refused(organisation: Any) -> None:
    other = OrganisationFactory(slug="other-group", name="Another group")
    CampaignFactory(organisation=other, slug="keep-the-riverside-path-open", title="Theirs")
    with pytest.raises(CampaignFileError) as info:
        import_campaign(organisation=organisation, data=RIVERSIDE)
    assert info.value.messages == [
        'campaign.slug "keep-the-riverside-path-open" is already used by another organisation; choose another slug'
    ]
    assert Campaign.objects.get(slug="keep-the-riverside-path-open").title == "Theirs"
    assert not Recipient.objects.filter(organisation=organisation).exists()


@pytest.mark.django_db
def test_a_campaign_without_template_exports_an_empty_letter(organisation: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="no-template", with_template=False)
    letter = export_campaign(campaign).letter
    assert letter == LetterTemplateData(subject="", body="", prompts=(), channels=CHANNELS, language="")
    assert problems(dump(export_campaign(campaign)))[-2:] == [
        "line 36: letter.subject is required",
        "line 37: letter.body is required",
    ]


@pytest.mark.django_db
def test_the_default_organisation_is_created_once() -> None:
    assert not Organisation.objects.exists()
    created = get_default_organisation()
    assert (created.slug, created.name) == ("default", "My organisation")
    assert get_default_organisation() == created
    assert Organisation.objects.count() == 1


@pytest.mark.django_db
def test_the_default_organisation_is_the_oldest() -> None:
    first = OrganisationFactory(slug="zeta", name="Zeta")
    OrganisationFactory(slug="alpha", name="Alpha")
    assert get_default_organisation() == first


def _with(data: CampaignFile, **changes: Any) -> CampaignFile:
    return replace_fields(data, **changes)


def _with_recipient(data: CampaignFile, index: int, **changes: Any) -> CampaignFile:
    recipients = list(data.recipients)
    recipients[index] = replace_fields(recipients[index], **changes)
    return _with(data, recipients=tuple(recipients))


@pytest.mark.django_db
def test_posting_for_supporters_round_trips(organisation: Any) -> None:
    text = replace(VALID, "min_uniqueness = 30", "min_uniqueness = 30\nposts_for_supporters = true")
    data = parse(text)
    assert data.posts_for_supporters is True
    assert parse(VALID).posts_for_supporters is False
    campaign, _ = import_campaign(organisation=organisation, data=data)
    campaign.refresh_from_db()
    assert campaign.posts_for_supporters is True
    exported = dump(export_campaign(campaign))
    assert "posts_for_supporters = true" in exported
    assert parse(exported) == data


@pytest.mark.django_db
def test_a_campaign_addressed_to_a_group_round_trips(organisation: Any) -> None:
    group_lines = (
        'min_uniqueness = 30\nrecipient_group = "Planning committee"\ndecision_date = 2027-03-03\n'
        'routing = "own_or_unreached"\nwell_covered_at = 4'
    )
    data = parse(replace(VALID, "min_uniqueness = 30", group_lines))
    assert (data.recipient_group, data.routing, data.well_covered_at) == ("Planning committee", "own_or_unreached", 4)
    campaign, _ = import_campaign(organisation=organisation, data=data)
    campaign.refresh_from_db()
    group = campaign.recipient_group
    assert group is not None
    assert (group.name, str(group.decision_date), campaign.routing, campaign.well_covered_at) == (
        "Planning committee",
        "2027-03-03",
        "own_or_unreached",
        4,
    )
    assert sorted(group.members.values_list("pk", flat=True)) == sorted(
        campaign.recipients.values_list("pk", flat=True)
    )
    exported = dump(export_campaign(campaign))
    assert (
        'recipient_group = "Planning committee"\ndecision_date = 2027-03-03\nrouting = "own_or_unreached"' in exported
    )
    assert parse(exported) == data
    # The same file without the group: the campaign is addressed to each recipient again.
    again, _ = import_campaign(organisation=organisation, data=parse(VALID))
    again.refresh_from_db()
    assert (again.recipient_group, again.routing) == (None, "every")
    assert "recipient_group" not in dump(export_campaign(again))


def test_a_bad_routing_or_threshold_is_named() -> None:
    text = replace(VALID, "min_uniqueness = 30", 'min_uniqueness = 30\nrouting = "nearest"\nwell_covered_at = -1')
    with pytest.raises(CampaignFileError) as error:
        parse(text)
    messages = "\n".join(error.value.messages)
    assert 'campaign.routing must be one of every, own_country, own_or_unreached, not "nearest"' in messages
    assert "campaign.well_covered_at must be a whole number from 0 (twice the median) to 1000000" in messages
