from django import forms
from django_countries import countries as all_countries

from undersigned.core import countries
from undersigned.core.countries import CountryField


class _Form(forms.Form):
    country = CountryField(label="Your country")


def test_the_select_lists_every_country_and_marks_the_chosen_one() -> None:
    html = str(_Form(initial={"country": "IE"})["country"])
    assert html.startswith('<select name="country" required id="id_country">')
    assert '<option value="">Choose your country</option>' in html
    assert '<option value="IE" selected>Ireland</option>' in html
    assert '<option value="CZ">Czechia</option>' in html
    assert html.count("<option") > 240
    assert html.count(" selected") == 1


def test_nothing_chosen_selects_the_prompt() -> None:
    html = str(_Form()["country"])
    assert '<option value="" selected>Choose your country</option>' in html
    assert html.count(" selected") == 1


def test_only_known_codes_are_accepted() -> None:
    assert _Form({"country": "GB"}).is_valid()
    bad = _Form({"country": "XX"})
    assert not bad.is_valid()
    assert bad.errors["country"] == ["Select a valid choice. That country is not one of the available choices."]
    assert _Form({"country": ""}).errors["country"] == ["This field is required."]


def test_errors_are_announced_on_the_select() -> None:
    html = str(_Form({"country": "XX"})["country"])
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_country_error"' in html


def test_a_country_is_named_as_django_countries_names_it() -> None:
    assert countries.name("CZ") == "Czechia"
    assert countries.name("") == ""
    assert all(countries.name(code) == str(name) for code, name in all_countries)
