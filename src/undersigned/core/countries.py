"""Countries: the form field, and names, from lists built once per language.

The field's ~250 options are rendered once per language instead of once per request.

Django renders each <option> through its widget templates; for the country list that
was half the CPU of writing a letter (see docs/performance.md). The options' HTML depends
only on the language, so it is built once per language and only the selected option is
marked per request. Validation checks membership in a set.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy
from django_countries import countries

PROMPT = gettext_lazy("Choose your country")


@cache
def _options(language: str) -> tuple[tuple[str, str], ...]:
    with translation.override(language):
        return tuple((str(code), str(name)) for code, name in countries)


@cache
def codes() -> frozenset[str]:
    return frozenset(code for code, _ in _options("en"))


@cache
def _names(language: str) -> dict[str, str]:
    return dict(_options(language))


def name(code: str) -> str:
    """A country's name in the active language ("" for no country).

    Every letter a worker sends names its writer's country; looking it up through
    django-countries costs far more per call than this dictionary lookup (docs/performance.md).
    """
    if not code:
        return ""
    return _names(translation.get_language() or "en").get(code) or str(countries.name(code))


@cache
def _options_html(language: str) -> str:
    # Each option on its own line, ending in a marker the selected one replaces.
    return "\n".join(f'<option value="{code}">{escape(name)}</option>' for code, name in _options(language))


class CountrySelect(forms.Widget):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        attributes = "".join(
            format_html(" {}", key) if val is True else format_html(' {}="{}"', key, val)
            for key, val in final.items()
            if val is not None and val is not False
        )
        options = _options_html(translation.get_language() or "en")
        selected = str(value or "")
        if selected in codes():
            marker = f'<option value="{selected}">'
            options = options.replace(marker, f'<option value="{selected}" selected>', 1)
        prompt = f'<option value=""{" selected" if not selected else ""}>{escape(PROMPT)}</option>'
        return mark_safe(  # noqa: S308 (names and codes are escaped above; attributes by format_html)
            f'<select name="{escape(name)}"{attributes}>\n{prompt}\n{options}\n</select>'
        )


class CountryField(forms.CharField):
    widget = CountrySelect
    default_error_messages = {
        "invalid_choice": gettext_lazy("Select a valid choice. That country is not one of the available choices.")
    }

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and value not in codes():
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
