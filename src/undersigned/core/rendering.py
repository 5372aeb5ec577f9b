"""Form fields for the supporter's pages, rendered in Python.

The composer is the busiest page. Through Django's templates each of its fields cost an
``{% include %}`` of the field group and two or three widget templates (input, attrs),
a large share of the page's CPU (docs/performance.md). The output here is the same
HTML, attribute for attribute, as Django's widget templates
(``django/forms/widgets/input.html``, ``textarea.html``, ``attrs.html``) and as our field
group (label, error, widget, help text, linked with ``aria-describedby``); only the
way it is made differs. Every value goes through ``conditional_escape``.

``FastWidgetRenderer`` is a form renderer: forms that set it as ``default_renderer``
render plain inputs and text areas here and every other widget through the templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms import BoundField
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext


def _attrs(attrs: Mapping[str, Any]) -> str:
    # As attrs.html: False leaves the attribute out, True writes its name alone.
    return "".join(
        f" {conditional_escape(name)}" + ("" if value is True else f'="{conditional_escape(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{conditional_escape(value)}"' if value is not None else ""
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{conditional_escape(value) if value else ''}</textarea>"
    )


_FAST: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "django/forms/widgets/text.html": _input,
    "django/forms/widgets/email.html": _input,
    "django/forms/widgets/hidden.html": _input,
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/textarea.html": _textarea,
}


class FastWidgetRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        fast = _FAST.get(template_name)
        if fast is None:
            return str(super().render(template_name, context, request))
        return fast(context["widget"])


FAST_RENDERER = FastWidgetRenderer()


def field_group(field: BoundField) -> SafeString:
    """One field with its label, error and help text, as the composer shows it."""
    optional = (
        # Translators: beside the label of a field one may leave empty.
        format_html(' <span class="optional">{}</span>', gettext("(optional)")) if not field.field.required else ""
    )
    errors = field.errors
    error = (
        format_html(
            '<p class="field-error" id="{}_error"><strong>{}</strong> {}</p>',
            field.auto_id,
            gettext("Error:"),
            format_html_join(" ", "{}", ((e,) for e in errors)),
        )
        if errors
        else ""
    )
    help_text = (
        format_html('<small id="{}_helptext">{}</small>', field.auto_id, field.help_text) if field.help_text else ""
    )
    return format_html(
        '<div class="field" id="field-{}">\n  <label for="{}">{}{}</label>\n  {}\n  {}\n  {}\n</div>',
        field.html_name,
        field.id_for_label,
        field.label,
        optional,
        error,
        str(field),
        help_text,
    )
