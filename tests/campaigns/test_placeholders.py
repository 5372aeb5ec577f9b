from undersigned.campaigns import placeholders
from undersigned.campaigns.placeholders import KNOWN, render, unknown_placeholders, values_for


def test_known_placeholders_are_filled() -> None:
    values = values_for(supporter_name="Siobhán O'Brien", supporter_town="Cork", recipient_name="Dr Aoife Byrne")
    text = render("Dear {{recipient.name}}, from {{ supporter.first_name }} in {{  supporter.town }}.", values)
    assert text == "Dear Dr Aoife Byrne, from Siobhán in Cork."


def test_missing_values_show_what_belongs_there() -> None:
    assert render("I live in {{ supporter.town }}.", values_for()) == "I live in [your town]."


def test_unknown_placeholders_are_reported_once_each_in_order() -> None:
    text = "{{ supporter.shoe_size }} {{ recipient.name }} {{ os.system }} {{ supporter.shoe_size }}"
    assert unknown_placeholders(text) == ["supporter.shoe_size", "os.system"]


def test_values_are_inserted_as_text_never_reinterpreted() -> None:
    values = values_for(supporter_name="{{ recipient.name }}", recipient_name="X")
    assert render("{{ supporter.name }}", values) == "{{ recipient.name }}"


def test_every_known_placeholder_has_a_description() -> None:
    assert all(KNOWN.values())


def test_check_placeholders_names_each_unknown_once_with_its_likely_meaning() -> None:
    text = "Dear {{ recipient.nme }}, {{ petition.number }} {{ recipient.nme }} {{ supporter.name }}"
    assert placeholders.check_placeholders(text) == [
        placeholders.UnknownPlaceholder("recipient.nme", "recipient.name"),
        placeholders.UnknownPlaceholder("petition.number", ""),
    ]
