"""Form fields shared by every form a person fills in: public pages and the organisers' own.

Text arrives from browsers, files and the API; these fields make it safe to store and
to pass on: one line where a value ends up in an email header or on an envelope, line
ends normalised to ``\n`` (browsers send CRLF) and no control characters a printer or
mail client would choke on.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_LINE_BREAK = re.compile(r"[\r\n]")


def length_message(message: Any) -> dict[str, Any]:
    """A field's message for text over its limit: ``message`` is a whole sentence, lazily
    translated, with ``%(show_value)d`` (the length typed) and ``%(limit_value)d``. Whole
    sentences, not a noun put into one: each language orders its words its own way."""
    return {"max_length": message}


class SingleLineField(forms.CharField):
    """Names and subjects end up in email headers and on envelopes: one line only."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and (_LINE_BREAK.search(value) or _CONTROL.search(value)):
            raise forms.ValidationError(_("Please keep this on one line, without special control characters."))


class MultiLineField(forms.CharField):
    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value))
        # Browsers send CRLF; we store LF so lengths and comparisons are stable.
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and _CONTROL.search(value):
            raise forms.ValidationError(_("This text contains control characters we can't print; please remove them."))


# For ``ModelAdmin.formfield_overrides``: text typed into the admin is stored with ``\n``
# line ends like text from every other way in. Browsers send CRLF; stored as typed, an
# unchanged open letter became a new version on every save and exports carried ``\r``.
TEXT_AS_LINES: dict[type[models.Field[object, object]], dict[str, object]] = {
    models.TextField: {"form_class": MultiLineField}
}
