"""``{{ form.name|field_group }}``: a form field with label, error and help text (see ``core/rendering.py``)."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from undersigned.core.rendering import field_group as _field_group

register = template.Library()


@register.filter
def field_group(field: BoundField) -> SafeString:
    return _field_group(field)
